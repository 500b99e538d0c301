// Shared by the role-rebalancing tests (test_rebalance.cpp at 6 ranks, test_rebalance_r3.cpp at 8): a
// scripted config, the LocalLoader comparison per pipeline, and what the ranks report of the moves, gathered
// over the whole job (every function here is collective).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "ferry/local_loader.hpp"
#include "harness.hpp"

namespace ferry::test {

// Rebalancing on, the scripted role policy with `script`, 1 randomizer, the given service ranks.
Config scripted(const std::string& transport, int cache_servers, int transformers, const std::string& script);

// Every batch of `pipeline` equals LocalLoader's batch for the same consumer (IDs and every field's bytes),
// and there are as many: the order and the bytes do not depend on the layout or on when it changed.
void expect_local_loader_batches(const PipelineConfig& p, const JobResult& r, std::uint32_t consumers,
                                 std::size_t pipeline = 0);

struct Roles {
  std::uint64_t randomizer_moves = 0, serving = 0, dropped = 0;
  std::uint64_t moved_ranks = 0;     // service ranks that report a role change
  std::uint64_t moved_prepared = 0;  // samples those ranks prepared
  std::string moved_from, moved_to;  // of the highest moved rank
};
Roles gather_roles(const JobResult& r);

// The coordinator made one move, and the one rank that moved went from `from` to `to`.
void expect_one_move(const Roles& roles, const char* from, const char* to);

// The role `rank` ended in ("consumer" for a consumer).
std::string role_at_end(const JobResult& r, int rank);

// Cache hits of one pipeline's epoch over every consumer of the job.
std::uint64_t epoch_hits(const JobResult& r, std::size_t pipeline, std::size_t epoch);

}  // namespace ferry::test
