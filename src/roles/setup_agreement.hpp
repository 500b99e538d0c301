// The first collective of every Ferry set-up, on the caller's communicator and the same on every rank
// whatever program it runs (library mode, ferry-serve, a C++, C or Python training program): every rank's
// config was read and is valid, and every rank has the same effective config. MPMD sides start with their
// own copies of the config, so a difference is named here instead of hanging or mixing two jobs' data.
#pragma once

#include <mpi.h>

#include <string>

#include "ferry/config.hpp"
#include "ferry/error.hpp"

namespace ferry::roles {

// The effective configs of the ranks differ; what() names each differing key with its values and ranks.
class ConfigMismatch : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

// Other ranks could not set up (their config or command line is wrong: in an MPMD job often the other
// program's ranks). report_here() is true on the lowest rank that did set up, which says it: the failed ranks
// report their own error themselves, and rank 0 may be one of them.
class OtherRanksFailed : public ConfigError {
 public:
  OtherRanksFailed(const std::string& what, bool report_here)
      : ConfigError(what), report_here_(report_here) {}
  bool report_here() const { return report_here_; }

 private:
  bool report_here_;
};

// Collective over `comm`, one Allgather when all is well. `config` null: this rank could not read its
// config and `error` says why; it waits at most the default runtime.setup_timeout_s for the others. Throws,
// on every rank, ConfigError when any rank's config failed (each distinct message with its ranks; a rank's
// own message when every rank failed; OtherRanksFailed on the ranks that did not fail) and ConfigMismatch
// when the effective configs (config::key_values, and Ferry's version) differ.
void agree_on_setup(MPI_Comm comm, const Config* config, const std::string& error);

}  // namespace ferry::roles
