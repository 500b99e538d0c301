// Shared by the subcommands of the ferry program.
#pragma once

#include <string>

#include "apps/digest.hpp"
#include "config/cli.hpp"

namespace ferry::apps {

struct RunOptions {
  bool digest = false;  // --digest: hash every batch, print "digest NAME HEX" per pipeline at the end
  bool per_rank_digest = false;  // --per-rank-digest (implies --digest): each consumer's digest too
  double step_ms = 0;            // --step-ms (ferry run only): simulated training time per batch
  std::string dump_ids;    // --dump-ids PATH: each consumer writes PATH.<consumer> (IdDump); empty: none
  std::string save_state;  // --save-state PATH (ferry run only): consumer C keeps PATH.<C> (StateFile)
};

// `ferry local`: every rank a consumer running LocalLoader.
int run_local(const config::CommandLine& cl, const RunOptions& options);
int run_distributed(const config::CommandLine& cl, const RunOptions& options, bool serve_only);

// For a rank that will not set Ferry up (its command line or config is wrong, or it only printed --help):
// joins the first collective of every set-up (roles/setup_agreement.hpp) with `why`, so the ranks of the
// other program of an MPMD job fail with it instead of waiting. Collective over MPI_COMM_WORLD.
void leave_setup(const std::string& why);

}  // namespace ferry::apps
