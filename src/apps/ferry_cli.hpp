// Shared by the subcommands of the ferry program.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>

#include "config/cli.hpp"
#include "ferry/batch.hpp"

namespace ferry::apps {

// Folds a batch into a running digest: the IDs and every byte, in delivery order.
std::uint64_t digest_batch(std::uint64_t digest, const Batch& batch);
// Collective over `comm`: rank 0 prints "digest NAME HEX" over every rank's digest in rank order (equal
// digests, equal delivery), and with `per_rank` one line per rank too.
void print_digest(MPI_Comm comm, const std::string& pipeline, std::uint64_t digest, bool per_rank);

int run_local(const config::CommandLine& cl, bool per_rank_digest);

struct RunOptions {
  bool per_rank_digest = false;
  double step_ms = 0;  // simulated training time per batch
};
int run_distributed(const config::CommandLine& cl, const RunOptions& options, bool serve_only);

}  // namespace ferry::apps
