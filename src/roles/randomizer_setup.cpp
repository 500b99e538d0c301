// The randomizer's set-up: its pipelines (plans, consumers, directory shares, head placement) and their
// lookups. Describing and messages are in randomizer.cpp, the loop's end and reports in randomizer_loop.cpp.
#include <algorithm>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "loader/resume.hpp"
#include "roles/epoch_rss.hpp"
#include "roles/randomizer.hpp"

namespace ferry::roles {

Randomizer::Randomizer(Context& ctx)
    : RoleLoop(ctx),
      table_(ctx),
      miss_targets_(ctx.layout.node_of, ctx.layout.transformers),
      clock_(ctx.monitor.window, now_ns()),
      cpu_reported_(process_cpu_seconds()) {
  const Layout& layout = ctx.layout;
  roles_ = layout.role;
  slab_hits_.assign(layout.slab_holders.size(), 0);
  share_bytes_ = layout.slab_share(ctx.config.runtime);
  shares_.push_back(make_share(static_cast<std::uint32_t>(layout.index_of(ctx.rank)), nullptr));
  for (std::size_t i = 0; i < ctx.config.pipelines.size(); ++i)
    if (layout.describes(i, ctx.rank)) pipelines_.push_back(make_pipeline(i, shares_.front().get()));
  if (ctx.rank != layout.coordinator()) return;
  coordinator_ = std::make_unique<Coordinator>(ctx);
  if (ctx.monitor.rebalance)
    rebalancer_ = std::make_unique<Rebalancer>(ctx, *coordinator_, static_cast<RebalanceHost&>(*this),
                                               describing_epoch().value_or(0));
}

Randomizer::Pipeline Randomizer::make_pipeline(std::size_t i, Share* share) {
  const Layout& layout = ctx_.layout;
  Pipeline p;
  p.runtime = ctx_.find_pipeline(i);
  FERRY_ENFORCE(p.runtime, "randomizer has no processor for pipeline ", i);
  p.config = &ctx_.config.pipelines[i];
  const auto& group = layout.groups[i];
  p.cache = share;
  p.share = loader::share_spec(*p.config, p.runtime->processor->dataset().size(),
                               static_cast<std::uint32_t>(group.size()));
  p.batches_per_epoch = group.empty() ? 0 : sampler::EpochPlan(p.share, 0).batches_per_consumer();
  p.total = p.batches_per_epoch * static_cast<std::uint64_t>(p.config->epochs);
  const std::uint64_t start = loader::start_sequence(*p.config, p.batches_per_epoch);
  // runtime.cache_bytes = 0 (or tiny) leaves no directory: no cache at all. Variable-length entries are
  // admitted once their size is known (admit_bytes()).
  p.cacheable = (!p.runtime->entry.fixed || p.runtime->entry.bytes > 0) && p.cache->directory != nullptr;
  // Its directory shard: a pipeline adopted from a retiring randomizer (R3, only without shards) is whole.
  const auto& ranks = layout.randomizers_of[i];
  p.shards = static_cast<std::uint32_t>(ranks.size());
  p.shard = static_cast<std::uint32_t>(std::max(layout.shard_of(i, ctx_.rank), 0));
  p.keys = shard_range(p.runtime->processor->dataset().size(), p.shard, p.shards);
  p.lead = ranks.front();
  if (!p.runtime->entry.fixed) p.sizes = cache::EntrySizes(p.keys.first, p.keys.end - p.keys.first);
  for (std::size_t c = 0; c < group.size(); ++c) {
    ConsumerState state;
    state.rank = group[c];
    state.index = static_cast<std::uint32_t>(c);
    state.next_seq = start;
    state.finished = p.total == 0 || start >= p.total;
    p.consumers.push_back(std::move(state));
  }
  return p;
}

std::unique_ptr<Randomizer::Share> Randomizer::make_share(std::uint32_t index, const Share* serving_like,
                                                          const std::vector<char>* hold) {
  const Layout& layout = ctx_.layout;
  auto share = std::make_unique<Share>();
  share->index = index;
  share->base = share_bytes_ * index;
  share->oracle = std::make_unique<NextUseOracle>(pipelines_, share.get());
  const std::size_t holders = layout.slab_holders.size();
  share->pins_on.assign(holders, 0);
  share->pending_on.assign(holders, 0);
  share->deferred_start.assign(holders, 0);
  if (!layout.cache_servers.empty() && share_bytes_ >= cache::SlabAllocator::kAlignment) {
    cache::Policy policy{};
    FERRY_ENFORCE(cache::parse_policy(ctx_.config.runtime.cache_policy, policy), "unchecked cache policy");
    // One directory server per slab holder; the transformers' slabs (role rebalancing) start in reserve.
    std::vector<bool> serving;
    for (std::size_t s = 0; s < holders; ++s) {
      const int holder = layout.slab_holders[s];
      serving.push_back(serving_like && serving_like->directory
                            ? serving_like->directory->serving(static_cast<std::uint32_t>(s))
                            : layout.role[static_cast<std::size_t>(holder)] == Role::cache_server);
    }
    if (serving_like) share->deferred_start = serving_like->deferred_start;
    // Slabs to hold back: they start once this share's pins on them are released.
    for (std::size_t s = 0; hold && s < holders; ++s)
      if ((*hold)[s] && serving[s]) {
        serving[s] = false;
        share->deferred_start[s] = 1;
      }
    // A directory needs a serving slab. If every one is held back (role changes that the two randomizers
    // applied at different times), the share goes without a cache rather than write under a reader.
    if (std::none_of(serving.begin(), serving.end(), [](bool b) { return b; })) {
      log::warn(
          "share {}: every serving slab still has readers of dropped entries; its pipelines go on "
          "without the cache",
          index);
      return share;
    }
    share->directory = std::make_unique<cache::Directory>(static_cast<std::uint32_t>(holders), share_bytes_,
                                                          policy, share->oracle.get(), std::move(serving));
  }
  return share;
}

Randomizer::~Randomizer() = default;

Randomizer::Pipeline* Randomizer::find_pipeline(std::uint32_t index) {
  for (auto& p : pipelines_)
    if (p.runtime->index == index) return &p;
  return nullptr;
}

Randomizer::Pipeline& Randomizer::pipeline_of(std::uint32_t index) {
  for (auto& p : pipelines_)
    if (p.runtime->index == index) return p;
  FERRY_ENFORCE(false, "message for pipeline ", index, " reached a randomizer that does not own it");
  return pipelines_.front();
}

ConsumerState& Randomizer::consumer_of(Pipeline& p, int rank) {
  for (auto& c : p.consumers)
    if (c.rank == rank) return c;
  FERRY_ENFORCE(false, "rank ", rank, " is not a consumer of pipeline '", p.config->name, "'");
  return p.consumers.front();
}

const sampler::EpochPlan& Randomizer::plan(Pipeline& p, std::uint64_t epoch) {
  if (!p.plan || p.plan->epoch() != epoch) p.plan = std::make_unique<sampler::EpochPlan>(p.share, epoch);
  return *p.plan;
}

}  // namespace ferry::roles
