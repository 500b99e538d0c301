// The consumer groups and the randomizers of every pipeline: plan_layout()'s last step, and the lookup of a
// pipeline's directory shard.
#include <algorithm>

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "roles/layout.hpp"

namespace ferry::roles {

void assign_pipelines(const Config& config, Layout& layout) {
  std::vector<int> cache_ids;
  for (const auto& p : config.pipelines) cache_ids.push_back(p.cache_id);
  std::sort(cache_ids.begin(), cache_ids.end());
  cache_ids.erase(std::unique(cache_ids.begin(), cache_ids.end()), cache_ids.end());
  for (const auto& p : config.pipelines) {
    std::vector<int> group;
    if (p.consumers.empty()) group = layout.consumers;
    for (int c : p.consumers) {
      if (c >= static_cast<int>(layout.consumers.size()))
        throw ConfigError(str_cat("pipeline '", p.name, "': consumers names consumer ", c,
                                  " but the job has ", layout.consumers.size(), " consumer(s) (indices 0..",
                                  layout.consumers.size() - 1, ")"));
      group.push_back(layout.consumers[static_cast<std::size_t>(c)]);
    }
    layout.groups.push_back(std::move(group));
    const auto idx = std::lower_bound(cache_ids.begin(), cache_ids.end(), p.cache_id) - cache_ids.begin();
    // Shard j of cache ID idx: randomizer (idx x shards + j) mod R. Distinct ranks for one cache ID, as
    // shards <= R; with R = cache IDs x shards every randomizer holds one shard.
    const auto shards = static_cast<std::size_t>(config.runtime.directory_shards);
    std::vector<int> ranks;
    for (std::size_t j = 0; j < shards; ++j)
      ranks.push_back(
          layout.randomizers[(static_cast<std::size_t>(idx) * shards + j) % layout.randomizers.size()]);
    layout.randomizers_of.push_back(std::move(ranks));
  }
}

int Layout::shard_of(std::size_t pipeline, int rank) const noexcept {
  if (pipeline >= randomizers_of.size()) return -1;
  const auto& ranks = randomizers_of[pipeline];
  const auto it = std::find(ranks.begin(), ranks.end(), rank);
  return it == ranks.end() ? -1 : static_cast<int>(it - ranks.begin());
}

}  // namespace ferry::roles
