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

}  // namespace ferry::apps
