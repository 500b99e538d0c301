#include "roles/miss_targets.hpp"

#include <algorithm>

#include "core/check.hpp"

namespace ferry::roles {

MissTargets::MissTargets(std::vector<int> node_of, std::vector<int> transformers)
    : node_of_(std::move(node_of)), all_(std::move(transformers)) {
  std::sort(all_.begin(), all_.end());
  for (int n : node_of_) by_node_[n];  // an entry for every node, kept for good
  index();
}

void MissTargets::index() {
  for (auto& [n, local] : by_node_) local.clear();
  for (int t : all_) by_node_.at(node(t)).push_back(t);
}

int MissTargets::node(int rank) const {
  FERRY_ENFORCE(rank >= 0 && static_cast<std::size_t>(rank) < node_of_.size(), "rank ", rank,
                " is not in the layout's ", node_of_.size(), " ranks");
  return node_of_[static_cast<std::size_t>(rank)];
}

const std::vector<int>& MissTargets::of(int consumer) const {
  const std::vector<int>& local = by_node_.at(node(consumer));
  return local.empty() ? all_ : local;
}

bool MissTargets::off_node(int consumer, int to) const {
  return node(consumer) != node(to);
}

void MissTargets::add(int rank) {
  const auto at = std::lower_bound(all_.begin(), all_.end(), rank);
  if (at != all_.end() && *at == rank) return;
  all_.insert(at, rank);
  index();
}

void MissTargets::remove(int rank) {
  const auto at = std::lower_bound(all_.begin(), all_.end(), rank);
  if (at == all_.end() || *at != rank) return;
  all_.erase(at);
  index();
}

std::size_t miss_runs(std::size_t misses, std::uint64_t bytes, std::uint64_t list_bytes,
                      std::size_t transformers) {
  std::size_t runs = std::min(misses, transformers);
  if (bytes > 0 && list_bytes > 0)
    runs = std::min<std::uint64_t>(runs, std::max<std::uint64_t>(1, bytes / list_bytes));
  return runs;
}

}  // namespace ferry::roles
