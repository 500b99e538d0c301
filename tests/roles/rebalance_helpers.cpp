#include "rebalance_helpers.hpp"

#include <mpi.h>

#include <cstdio>

namespace ferry::test {
namespace {

// `text` of rank `root`, on every rank.
std::string broadcast(const std::string& text, int root) {
  char buffer[64] = {};
  if (world_rank() == root) std::snprintf(buffer, sizeof buffer, "%s", text.c_str());
  MPI_Bcast(buffer, sizeof buffer, MPI_CHAR, root, MPI_COMM_WORLD);
  return buffer;
}

}  // namespace

Config scripted(const std::string& transport, int cache_servers, int transformers,
                const std::string& script) {
  Config c;
  c.log_level = "warn";
  c.runtime.transport = transport;
  c.runtime.cache_servers = cache_servers;
  c.runtime.transformers = transformers;
  c.runtime.prefetch = 3;
  c.monitor.rebalance = true;
  c.monitor.role_policy = "scripted";
  c.monitor.role_script = script;
  c.monitor.window_ms = 20;
  c.monitor.window_batches = 4;
  return c;
}

void expect_local_loader_batches(const PipelineConfig& p, const JobResult& r, std::uint32_t consumers,
                                 std::size_t pipeline) {
  if (!r.consumer) return;
  std::vector<const SeenBatch*> seen;
  for (const auto& b : r.batches)
    if (b.pipeline == pipeline) seen.push_back(&b);
  expect_local_loader_batches(p, seen, static_cast<std::uint32_t>(r.consumer_index), consumers);
}

Roles gather_roles(const JobResult& r) {
  Roles out;
  const bool randomizer = !r.consumer && r.report.role == "randomizer";
  out.randomizer_moves = sum_all(randomizer ? r.report.role_changes : 0);
  out.serving = sum_all(randomizer ? r.report.cache_servers_serving : 0);
  out.dropped = sum_all(randomizer ? r.report.cache_dropped : 0);
  const bool moved = !r.consumer && !randomizer && r.report.role_changes > 0;
  out.moved_ranks = sum_all(moved ? 1 : 0);
  out.moved_prepared = sum_all(moved ? r.report.samples_prepared : 0);
  int from_rank = moved ? world_rank() : -1, root = -1;
  MPI_Allreduce(&from_rank, &root, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (root >= 0) {
    out.moved_from = broadcast(r.report.initial_role, root);
    out.moved_to = broadcast(r.report.role, root);
  }
  return out;
}

void expect_one_move(const Roles& roles, const char* from, const char* to) {
  EXPECT_EQ(roles.randomizer_moves, 1u) << "one move: " << from << " -> " << to;
  EXPECT_EQ(roles.moved_ranks, 1u);
  EXPECT_EQ(roles.moved_from, from);
  EXPECT_EQ(roles.moved_to, to);
}

std::string role_at_end(const JobResult& r, int rank) {
  return broadcast(r.consumer ? std::string("consumer") : r.report.role, rank);
}

std::uint64_t epoch_hits(const JobResult& r, std::size_t pipeline, std::size_t epoch) {
  const std::uint64_t hits = r.consumer ? r.epoch_counters.at(pipeline).at(epoch).hits : 0;
  return sum_all(hits);
}

}  // namespace ferry::test
