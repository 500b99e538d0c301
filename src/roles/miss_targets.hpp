// Which transformation ranks get a consumer's miss lists (the randomizer's describe path). A consumer whose
// node has transformation ranks gets its misses from those alone: the samples then travel within the node
// (shared memory, not the network), and a batch's misses are split over at most that node's transformers,
// so the randomizer sends min(B, T_node) miss lists a batch instead of min(B, T) (docs/scaling.md). A
// consumer on a node without one is served by every transformer of the job. The set follows role
// rebalancing: a rank that starts or stops transforming is added or removed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace ferry::roles {

// How many transformers a batch's misses go to: one run per `list_bytes` of prepared bytes, at least one,
// at most one per transformer and per miss. `bytes` 0 (sizes not known yet) or `list_bytes` 0: every
// transformer that can get a miss.
std::size_t miss_runs(std::size_t misses, std::uint64_t bytes, std::uint64_t list_bytes,
                      std::size_t transformers);

class MissTargets {
 public:
  // node_of: per rank, its node's number (Layout::node_of); transformers: ranks, ascending.
  MissTargets(std::vector<int> node_of, std::vector<int> transformers);

  // The transformers for `consumer`'s misses, ascending; never empty while any rank transforms. The
  // reference stays valid for the object's life (add and remove change what it holds, never where).
  const std::vector<int>& of(int consumer) const;
  const std::vector<int>& all() const noexcept { return all_; }
  // Whether rank `to` serves `consumer` from another node (counted as off-node miss lists).
  bool off_node(int consumer, int to) const;

  void add(int rank);     // a rank that transforms from now on
  void remove(int rank);  // a rank that no longer does

 private:
  int node(int rank) const;
  void index();  // rebuilds by_node_'s lists in place

  std::vector<int> node_of_;
  std::vector<int> all_;
  std::unordered_map<int, std::vector<int>> by_node_;  // every node -> its transformers (maybe none)
};

}  // namespace ferry::roles
