// Runtime: the multi-rank system inside the training job's MPI job. Architecture: docs/architecture.md,
// layout and protocol: docs/runtime.md.
//
//   ferry::Runtime rt(MPI_COMM_WORLD, config);      // collective; splits the ranks into roles
//   if (!rt.is_consumer()) { rt.serve(); return; }  // service ranks run their role until shutdown
//   ferry::Loader& loader = rt.loader("images");
//   while (const ferry::Batch* b = loader.next_batch()) train(*b, rt.consumer_comm());
#pragma once

#include <mpi.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/config.hpp"
#include "ferry/loader.hpp"
#include "ferry/stats.hpp"

namespace ferry {

class Runtime {
 public:
  // Library mode: every rank of `comm` calls this with the same config. Collective. Dups `comm`; a layout
  // that cannot work throws ConfigError on every rank before any data moves.
  Runtime(MPI_Comm comm, const Config& config);
  // MPMD mode: ferry-serve ranks pass serve_only = true; the training binary's ranks use the constructor
  // above and become the consumers.
  Runtime(MPI_Comm comm, const Config& config, bool serve_only);
  // Collective: hands back unfinished pipelines, then shuts the transport down on every rank.
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  bool is_consumer() const noexcept;
  // "randomizer", "cache_server", "transformer" or "consumer".
  std::string role() const;
  int rank() const noexcept;
  // Consumers: a communicator of the consumer ranks for the training code's own collectives.
  // MPI_COMM_NULL on service ranks.
  MPI_Comm consumer_comm() const noexcept;
  int consumer_index() const noexcept;  // -1 on service ranks
  std::string layout() const;           // "1 randomizer [0], 1 cache server [1], ..."

  // Service ranks: runs this rank's role until every consumer has finished. Throws Error when a rank failed.
  ServeReport serve();
  // Consumers: the Loader of a pipeline this consumer belongs to (empty name: the first such pipeline).
  Loader& loader(std::string_view pipeline = {});
  // Names of the pipelines this consumer belongs to.
  std::vector<std::string> pipelines() const;

  // Ends the whole job now because of a failure in the caller's own code: every rank is told (a blocked
  // next_batch() or serve() elsewhere throws with `why` and this rank named), then MPI_Abort. Use it where
  // your code fails between its own collectives, which the destructor's orderly (collective) shutdown would
  // otherwise wait on forever.
  [[noreturn]] void abort(const std::string& why);
  // After ferry::PeerLost (another rank died or stopped answering; its line is printed already): ends the
  // job. The lowest surviving rank waits until every survivor has printed the loss (at most a few seconds),
  // then calls MPI_Abort, which also ends a stopped rank; the others wait for that, then exit with 1.
  [[noreturn]] void end_after_loss();
  // True once another rank is known lost (every Ferry call then throws PeerLost).
  bool peer_lost() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry
