// What every role of one rank shares: the runtime communicator, config, layout, transport, the cache
// servers' slabs as remote regions, and one SampleProcessor per pipeline this rank needs.
#pragma once

#include <mpi.h>

#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ferry/config.hpp"
#include "ferry/error.hpp"
#include "loader/sample_processor.hpp"
#include "monitor/settings.hpp"
#include "roles/entry.hpp"
#include "roles/failure.hpp"
#include "roles/layout.hpp"
#include "transform/peer_link.hpp"
#include "transport/fabric.hpp"

namespace ferry::roles {

struct PipelineRuntime {
  std::size_t index = 0;  // position in config.pipelines
  std::unique_ptr<loader::SampleProcessor> processor;
  EntryLayout entry;
  std::uint64_t group = 0;  // cache key group: the processor's prepare fingerprint
  // Its augment head may run on the transformation ranks (roles::head_moves), and its directory is whole: a
  // batch past its head comes from one transformer, so with runtime.directory_shards > 1 the head stays on
  // the consumers.
  bool head_moves = false;
};

struct Context {
  MPI_Comm comm = MPI_COMM_NULL;  // dup of the caller's communicator, freed by the Runtime
  int rank = 0;
  Config config;
  monitor::Settings monitor;  // config.monitor, validated
  Layout layout;
  std::unique_ptr<transport::Fabric> fabric;
  std::vector<transport::RemoteRegion> slabs;  // per cache server index; attached on consumers
  // One-sided miss delivery (roles/send_pool.hpp): this rank's send pool (empty when it has none) and, on
  // consumers and slab holders, every rank's as attached (indexed by rank; size 0: that rank has none).
  std::span<std::byte> send_pool;
  std::vector<transport::RemoteRegion> pools;
  std::vector<PipelineRuntime> pipelines;  // only the pipelines this rank works on (index says which)
  // Device-resident batches (runtime.device_batches): the link of the consumers and the service ranks with
  // a GPU (null on other ranks and when off), and every rank's member number in it (-1: not a member).
  std::unique_ptr<transform::PeerLink> link;
  std::vector<int> link_member;

  Role role() const { return layout.role[static_cast<std::size_t>(rank)]; }
  // Whether this rank may prepare samples in this job: a transformation rank, a cache server where roles
  // are rebalanced, a randomizer where randomizers may move (it transforms once it retires).
  bool may_transform() const;
  PipelineRuntime* find_pipeline(std::size_t index);
  // Appends one JSON object line to runtime.stats_file (no-op when unset).
  void stats_line(const std::string& json) const;
  // Sends kAbort with `message` and the failure's kind to every other rank (best effort, never throws).
  void broadcast_abort(const std::string& message, ErrorKind kind = ErrorKind::transport) noexcept;
};

// Monotonic nanoseconds for monitoring windows.
std::uint64_t now_ns() noexcept;

}  // namespace ferry::roles
