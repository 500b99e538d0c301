#include "roles/coordinator.hpp"

#include <algorithm>

#include "roles/protocol.hpp"
#include "roles/reporter.hpp"

namespace ferry::roles {

Coordinator::Coordinator(Context& ctx)
    : ctx_(ctx),
      policy_(monitor::make_policy(ctx.monitor.policy)),
      history_(ctx.monitor.window.history),
      opened_ns_(now_ns()) {
  // The ranks that run a stage: the transformation ranks (prepare) and every consumer of a pipeline
  // (augment).
  for (int r = 0; r < ctx.layout.size(); ++r)
    if (ctx.layout.role[static_cast<std::size_t>(r)] == Role::transformer)
      unheard_.insert(static_cast<std::uint32_t>(r));
  for (const auto& group : ctx.layout.groups)
    for (int r : group) unheard_.insert(static_cast<std::uint32_t>(r));
}

std::optional<std::uint64_t> Coordinator::others_epoch() const {
  std::optional<std::uint64_t> lowest;
  for (const auto& [rank, o] : others_)
    if (!o.done) lowest = std::min(lowest.value_or(o.epoch), o.epoch);
  return lowest;
}

bool Coordinator::others_done() const {
  for (int r : ctx_.layout.randomizers) {
    if (r == ctx_.rank || retired_.count(r)) continue;
    const auto it = others_.find(static_cast<std::uint32_t>(r));
    if (it == others_.end() || !it->second.done) return false;
  }
  return true;
}

bool Coordinator::can_retire(int rank) const {
  if (rank == ctx_.rank || retired_.count(rank) || released_.count(rank)) return false;
  if (ctx_.layout.role.at(static_cast<std::size_t>(rank)) != Role::randomizer) return false;
  const auto it = others_.find(static_cast<std::uint32_t>(rank));
  return it == others_.end() || !it->second.done;
}

void Coordinator::retiring(int rank) {
  retiring_.insert(rank);
}

void Coordinator::retired(int rank) {
  // Called on the handover and on kRetired, whichever comes first (they may overtake each other).
  retiring_.erase(rank);
  if (!retired_.insert(rank).second) return;
  others_.erase(static_cast<std::uint32_t>(rank));
  // Its randomizer windows say nothing of it as a transformer.
  span_.ranks.erase(static_cast<std::uint32_t>(rank));
  // A transformation rank routes by the job list: the one in force now, not the next change.
  if (jobs_sent_) ctx_.fabric->send(rank, kJobs, monitor::encode(jobs_));
}

void Coordinator::receive(const transport::Message& message) {
  gathered_.message(message.source, message.bytes.size());
  std::vector<monitor::RankStats> windows;
  if (message.tag == kStatsBundle)
    windows = decode_bundle(message.bytes);
  else
    windows.push_back(monitor::decode_rank_stats(message.bytes));
  for (auto& stats : windows) add(std::move(stats));
}

void Coordinator::add(monitor::RankStats stats) {
  gathered_.window(stats.rank);
  const int from = static_cast<int>(stats.rank);
  // The last window of a randomizer that retired, overtaken by its kRetired or handover: nothing to count.
  if (stats.randomizer && retired_.count(from)) return;
  if (ctx_.layout.role.at(stats.rank) == Role::randomizer && from != ctx_.rank && !retired_.count(from)) {
    Other& o = others_[stats.rank];
    o.epoch = std::max(o.epoch, stats.describing_epoch);
    o.done = o.done || stats.randomizer_done;
    // Where R3 may move randomizers, one that is done waits for leave to end (it might be told to retire),
    // unless it is retiring: then its handover is what ends it.
    if (o.done && !retiring_.count(from) && !released_.count(from) &&
        ctx_.monitor.may_move_randomizers(ctx_.layout.randomizers.size())) {
      released_.insert(from);
      ctx_.fabric->send(from, kRelease, {});
    }
  }
  unheard_.erase(stats.rank);
  RankSpan& r = span_.ranks[stats.rank];
  r.window_ns += stats.window_ns;
  r.busy_ns += stats.busy_ns;
  r.workers = std::max<std::uint64_t>(r.workers, stats.workers);
  for (const auto& p : stats.pipelines) {
    r.wait_ns += p.wait_ns;
    r.samples += p.cache_lookups;
    r.hits += p.cache_hits;
  }
  if (stats.has_accelerator || devices_.count(stats.rank)) {
    monitor::RankStats& d = devices_[stats.rank];
    d.rank = stats.rank;
    d.consumer = stats.consumer;
    d.has_accelerator = stats.has_accelerator;
    d.accelerator_util = stats.accelerator_util;
    d.accelerator_own = stats.accelerator_own;
    d.util_source = stats.util_source;
  }
  span_.cache_full += stats.cache_full;
  for (std::size_t s = 0; s < stats.slab_hits.size(); ++s)
    if (stats.slab_hits[s]) span_.slab_hits[static_cast<std::uint32_t>(s)] += stats.slab_hits[s];
  // One report per rank in the window (monitor::gather): kept whole, reports grew it without bound.
  ++open_reports_;
  if (ctx_.layout.role.at(stats.rank) == Role::consumer) ++open_consumer_reports_;
  monitor::gather(open_, std::move(stats));
}

void Coordinator::tick(std::uint64_t now) {
  const auto& w = ctx_.monitor.window;
  // A window closes every monitor.window_ms; with window_ms = 0 once every consumer has reported one.
  bool due = w.ms > 0 && now - opened_ns_ >= std::uint64_t{w.ms} * 1'000'000;
  if (w.ms == 0) due = open_consumer_reports_ >= ctx_.layout.consumers.size();
  if (due) close(now);
}

monitor::RoleView Coordinator::role_view(const std::vector<Role>& roles) const {
  monitor::RoleView view;
  view.windows = span_.windows;
  view.cache_full = span_.cache_full;
  std::uint64_t wait_ns = 0, consumer_ns = 0, samples = 0, hits = 0;
  for (const auto& [rank, r] : span_.ranks) {
    if (roles.at(rank) != Role::consumer) continue;
    wait_ns += r.wait_ns;
    consumer_ns += r.window_ns;
    samples += r.samples;
    hits += r.hits;
  }
  view.consumer_wait = consumer_ns ? static_cast<double>(wait_ns) / static_cast<double>(consumer_ns) : 0.0;
  view.misses = samples - hits;
  for (int rank = 0; rank < static_cast<int>(roles.size()); ++rank) {
    const Role role = roles[static_cast<std::size_t>(rank)];
    if (role != Role::transformer && role != Role::cache_server) continue;
    monitor::ServiceView s;
    s.rank = static_cast<std::uint32_t>(rank);
    s.role =
        role == Role::transformer ? monitor::ServiceRole::transformer : monitor::ServiceRole::cache_server;
    const auto it = span_.ranks.find(s.rank);
    s.heard = it != span_.ranks.end() && it->second.window_ns > 0;
    if (s.heard)
      s.busy = std::min(1.0, static_cast<double>(it->second.busy_ns) /
                                 (static_cast<double>(it->second.window_ns) *
                                  static_cast<double>(std::max<std::uint64_t>(it->second.workers, 1))));
    const int slab = ctx_.layout.slab_index(rank);
    if (slab >= 0 && samples > 0)
      if (auto it = span_.slab_hits.find(static_cast<std::uint32_t>(slab)); it != span_.slab_hits.end())
        s.hit_share = static_cast<double>(it->second) / static_cast<double>(samples);
    s.can_serve = slab >= 0;
    view.services.push_back(s);
  }
  // R3's randomizers: none while a retirement is under way (one move at a time), and only those still
  // describing (a randomizer that is done has nothing to hand over and may have ended).
  if (retiring_.empty()) {
    for (int r : ctx_.layout.randomizers) {
      if (retired_.count(r)) continue;
      const bool self = r == ctx_.rank;
      const auto other = others_.find(static_cast<std::uint32_t>(r));
      if (!self && (other == others_.end() || other->second.done)) continue;
      monitor::RandomizerView v;
      v.rank = static_cast<std::uint32_t>(r);
      v.coordinator = self;
      // One that sent no window in the span is no evidence of idling (the coordinator's own is always in).
      const auto it = span_.ranks.find(v.rank);
      if (it == span_.ranks.end() || it->second.window_ns == 0) continue;
      v.busy =
          std::min(1.0, static_cast<double>(it->second.busy_ns) / static_cast<double>(it->second.window_ns));
      view.randomizers.push_back(v);
    }
  }
  return view;
}

}  // namespace ferry::roles
