#include "roles/miss_targets.hpp"

#include <algorithm>

#include "core/check.hpp"

namespace ferry::roles {

MissTargets::MissTargets(std::vector<int> node_of, std::vector<int> transformers)
    : node_of_(std::move(node_of)), all_(std::move(transformers)) {
  std::sort(all_.begin(), all_.end());
}

int MissTargets::node(int rank) const {
  FERRY_ENFORCE(rank >= 0 && static_cast<std::size_t>(rank) < node_of_.size(), "rank ", rank,
                " is not in the layout's ", node_of_.size(), " ranks");
  return node_of_[static_cast<std::size_t>(rank)];
}

const std::vector<int>& MissTargets::of(int consumer) {
  const int home = node(consumer);
  auto it = by_node_.find(home);
  if (it == by_node_.end()) {
    std::vector<int> local;
    for (int t : all_)
      if (node(t) == home) local.push_back(t);
    it = by_node_.emplace(home, std::move(local)).first;
  }
  return it->second.empty() ? all_ : it->second;
}

bool MissTargets::off_node(int consumer, int to) const {
  return node(consumer) != node(to);
}

void MissTargets::add(int rank) {
  const auto at = std::lower_bound(all_.begin(), all_.end(), rank);
  if (at != all_.end() && *at == rank) return;
  all_.insert(at, rank);
  by_node_.clear();
}

void MissTargets::remove(int rank) {
  const auto at = std::lower_bound(all_.begin(), all_.end(), rank);
  if (at == all_.end() || *at != rank) return;
  all_.erase(at);
  by_node_.clear();
}

}  // namespace ferry::roles
