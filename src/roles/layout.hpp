// Which rank plays which role. plan_layout() is the pure rule (unit-tested without MPI); compute_layout()
// gathers what it needs (node of every rank, MPMD flags) over MPI and applies it on every rank alike, so a
// layout that cannot work fails on every rank with the same message before any data moves.
#pragma once

#include <mpi.h>

#include <optional>
#include <string>
#include <vector>

#include "ferry/config.hpp"
#include "monitor/role_policy.hpp"

namespace ferry::roles {

enum class Role : unsigned char { randomizer, cache_server, transformer, consumer };
const char* role_name(Role role) noexcept;
// A service role as the monitor layer's policies name it; nothing for a consumer.
std::optional<monitor::ServiceRole> service_role(Role role) noexcept;

struct Layout {
  std::vector<Role> role;  // per rank of the runtime communicator
  std::vector<int> randomizers, cache_servers, transformers, consumers;  // ranks, ascending
  std::vector<std::vector<int>> groups;  // per pipeline: its consumer ranks, in consumer-index order
  // Per pipeline: the ranks of its randomizers, one per directory shard (runtime.directory_shards): shard j
  // holds the directory of one key range of the pipeline's samples and describes those positions of every
  // batch. The shards of pipelines that share a cache ID are on the same ranks.
  std::vector<std::vector<int>> randomizers_of;
  // Ranks holding a cache slab, ascending: the cache servers, and with monitor.rebalance every transformer
  // too (any of them may serve later). A hit's Source::who and the directory's server numbers index this.
  std::vector<int> slab_holders;
  std::vector<int> node_of;  // per rank: its node's number (the lowest rank on it)
  // Where each rank's monitoring windows (kStats) go: the coordinator, or, in a job of two nodes or more, the
  // stats leader of the rank's node (its lowest cache server or transformer), which sends the coordinator
  // one kStatsBundle per window for the whole node. Randomizers and ranks of a node without a service rank
  // report to the coordinator directly. relayed[r]: how many ranks report through rank r (0 but on
  // leaders). So the coordinator hears O(nodes + randomizers) senders, not O(ranks) (docs/scaling.md).
  std::vector<int> report_to;
  std::vector<int> relayed;

  int coordinator() const noexcept { return randomizers.front(); }  // gathers windows, decides placement
  int slab_index(int rank) const noexcept;                          // position in slab_holders, -1 for none
  // The directory shard of pipeline `pipeline` that `rank` describes; -1 for none.
  int shard_of(std::size_t pipeline, int rank) const noexcept;
  bool describes(std::size_t pipeline, int rank) const noexcept { return shard_of(pipeline, rank) >= 0; }
  bool stats_leader(int rank) const { return relayed.at(static_cast<std::size_t>(rank)) > 0; }

  int size() const noexcept { return static_cast<int>(role.size()); }
  // Position of `rank` in its role's list (consumer index, server index, ...).
  int index_of(int rank) const;
  // Slice [first, first + bytes) of every cache server's slab owned by the randomizer with index r.
  std::uint64_t slab_share(const RuntimeConfig& rt) const noexcept;
  std::string describe() const;  // "r0 randomizer, r1 cache_server, ..." for logs and the epoch table
};

// node_of_rank: node number of every rank (equal numbers share a node). service: MPMD mode, per rank true
// when the rank runs ferry-serve; empty in library mode. Throws ConfigError naming what does not fit.
Layout plan_layout(const Config& config, const std::vector<int>& node_of_rank,
                   const std::vector<char>& service);

// plan_layout()'s last step (layout_pipelines.cpp): each pipeline's consumer group (throws ConfigError for a
// consumer index the job lacks) and its randomizers, one per directory shard of its cache ID.
void assign_pipelines(const Config& config, Layout& layout);

// Collective over `comm`: gathers nodes (MPI_Comm_split_type SHARED) and which ranks run ferry-serve
// (serve_only), then plans. When no rank is serve_only it is library mode. Every rank gets the same Layout
// or the same ConfigError. Tests only: FERRY_TEST_RANKS_PER_NODE=n groups ranks into pretend nodes of n
// consecutive ranks instead (node stats leaders, cache_servers_per_node, the node memory check).
Layout compute_layout(MPI_Comm comm, const Config& config, bool serve_only);

}  // namespace ferry::roles
