// The randomizer's loop between messages: describing up to the epoch fence and the prefetch depth, its
// monitoring window, when its work is done, the shutdown it sends and its report.
#include <algorithm>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "loader/resume.hpp"
#include "roles/epoch_rss.hpp"
#include "roles/randomizer.hpp"

namespace ferry::roles {

void Randomizer::report_window(bool force) {
  const std::uint64_t now = now_ns();
  if (!force && !clock_.due(now)) return;
  monitor::RankStats stats;
  stats.rank = static_cast<std::uint32_t>(ctx_.rank);
  stats.window_ns = now - clock_.start_ns();
  stats.slab_hits = slab_hits_;
  std::fill(slab_hits_.begin(), slab_hits_.end(), 0);
  // The cache was full when it declined an admission (static) or evicted for room (LRU, clairvoyant).
  for (auto& share : shares_) {
    if (!share->directory) continue;
    const auto& d = share->directory->stats();
    stats.cache_full += d.declined + d.evictions - share->full_reported;
    share->full_reported = d.declined + d.evictions;
  }
  // Busy (R3 reads it): the CPU time the process used in the window, so that a randomizer that waits for a
  // core on a crowded node does not look busy (its wall time outside the wait would).
  const double cpu = process_cpu_seconds();
  stats.busy_ns = std::min<std::uint64_t>(
      stats.window_ns, static_cast<std::uint64_t>(std::max(cpu - cpu_reported_, 0.0) * 1e9));
  cpu_reported_ = cpu;
  stats.workers = 1;
  stats.randomizer = true;
  stats.describing_epoch = describing_epoch().value_or(0);
  stats.randomizer_done = own_work_done();
  clock_.restart(now);
  if (coordinator_)
    coordinator_->add(std::move(stats));
  else
    ctx_.fabric->send(ctx_.layout.coordinator(), kStats, monitor::encode(stats));
}

void Randomizer::after_messages() {
  if (retired_) return;
  start_deferred();
  // A rebalance point comes before the next batch is described: a move applies from the next one on. A
  // scripted step holds describing at its position (hold()); taken there, describing goes on past it.
  if (rebalancer_) rebalancer_->at_point();
  describe_all();
  while (rebalancer_ && rebalancer_->at_point()) describe_all();
  if (retiring_ && drained()) {
    hand_over();
    return;
  }
  send_shard_finals();
  report_window(false);
  if (coordinator_)
    coordinator_->tick(now_ns());
  else
    report_progress();
  if (!shutdown_sent_ && done()) send_shutdown();
}

void Randomizer::describe_all() {
  if (retiring_) return;  // draining: nothing new is described
  const std::uint64_t prefetch = static_cast<std::uint64_t>(ctx_.config.runtime.prefetch);
  const auto hold = rebalancer_ ? rebalancer_->hold() : std::nullopt;
  const Pipeline* held = hold ? lead() : nullptr;
  for (auto& p : pipelines_) {
    // Epoch fence: epoch e+1 is described once every consumer has been described all of epoch e, so an
    // epoch's figures are its own and a sample first read late in epoch e is a hit in e+1, not a re-read.
    std::uint64_t fence = p.total;
    for (const auto& c : p.consumers)
      if (!c.finished) fence = std::min(fence, (c.next_seq / p.batches_per_epoch + 1) * p.batches_per_epoch);
    if (&p == held) fence = std::min(fence, mark(p, hold->first, hold->second));
    for (auto& c : p.consumers)
      while (!c.finished && c.next_seq < std::min(p.total, fence) && c.outstanding.size() < prefetch)
        if (!describe_bounded(p, c)) break;
  }
}

bool Randomizer::describe_bounded(Pipeline& p, ConsumerState& c) {
  if (!p.cacheable) return describe(p, c);
  Share& share = *p.cache;
  const std::uint64_t before = share.directory->stats().pending_bytes;
  const std::uint64_t backlog = before - std::min(before, share.outstanding_admitted);
  const std::uint64_t bound = ctx_.config.runtime.inserts_in_flight_bytes;
  if (bound != 0 && backlog >= bound) {
    report_.inserts_held += c.held ? 0 : 1;  // once per wait, however many passes it lasts
    c.held = true;
    return false;
  }
  c.held = false;
  if (!describe(p, c)) return false;
  // Nothing acks or evicts a pending entry inside describe(): the difference is what this batch admitted.
  const std::uint64_t after = share.directory->stats().pending_bytes;
  c.outstanding.back().admitted = after - before;
  share.outstanding_admitted += after - before;
  report_.inserts_peak_bytes = std::max(report_.inserts_peak_bytes, after);
  report_.inserts_backlog_peak_bytes = std::max(report_.inserts_backlog_peak_bytes, backlog);
  return true;
}

bool Randomizer::own_work_done() const {
  for (const auto& p : pipelines_) {
    for (const auto& c : p.consumers)
      if (!c.finished || c.epochs_reported < c.epochs_announced) return false;
    if (!shards_done(p)) return false;
  }
  for (const auto& share : shares_)
    if (share->pending_inserts != 0) return false;
  return miss_lists_done_ == miss_lists_sent_;
}

bool Randomizer::done() const {
  if (retired_) return true;
  if (!own_work_done() || awaiting_handovers_ > 0) return false;
  // With rebalancing the coordinator stays until every randomizer is done: moves go on for their pipelines,
  // and the service ranks (which wait for every randomizer's shutdown) are there to take them.
  if (coordinator_ && ctx_.monitor.rebalance) return coordinator_->others_done();
  // Where R3 may move randomizers, the others end only once the coordinator has read their last report
  // and let them (a kRetire may be on its way: it must find this randomizer to hand over).
  if (!coordinator_ && ctx_.monitor.may_move_randomizers(ctx_.layout.randomizers.size())) return released_;
  return true;
}

void Randomizer::send_shutdown() {
  shutdown_sent_ = true;
  // Every consumer finished, so every batch was released: what they admitted must have come off again.
  for (const auto& share : shares_)
    FERRY_ENFORCE(share->outstanding_admitted == 0, "randomizer rank ", ctx_.rank, ": ",
                  share->outstanding_admitted, " bytes admitted by batches no consumer holds any more");
  // Each shutdown says how many role changes this randomizer sent the rank: messages of different tags may
  // overtake each other, and the rank must not end before it has applied them.
  for (const auto& ranks : {ctx_.layout.transformers, ctx_.layout.cache_servers}) {
    for (int r : ranks) {
      Writer w;
      w.u(rebalancer_ ? rebalancer_->roles_sent(r) : 0).u(table_.epoch_ends_sent());
      ctx_.fabric->send(r, kShutdown, w.view());
    }
  }
  // Where randomizers may move, every other randomizer may be (or become) a transformer that waits for
  // this shutdown. It cannot know which ones will: a retirement it has not heard of yet may be under way.
  if (ctx_.monitor.may_move_randomizers(ctx_.layout.randomizers.size())) {
    for (int r : ctx_.layout.randomizers) {
      if (r == ctx_.rank) continue;
      Writer w;
      w.u(0).u(table_.epoch_ends_sent());
      ctx_.fabric->send(r, kShutdown, w.view());
    }
  }
}

void Randomizer::finish(ServeReport& report) {
  if (coordinator_) ctx_.stats_line(coordinator_->gathered().line(ctx_.rank));
  if (rebalancer_) {
    report.role_changes += rebalancer_->moves();
    rebalancer_->finish();
  }
  if (late_credits_) log::debug("{} credits came after their consumer had finished", late_credits_);
  // The cache figures of every share this rank owned (a retired randomizer's are those up to its handover).
  bool any = false;
  for (const auto& share : shares_) {
    if (!share->directory) continue;
    const auto& s = share->directory->stats();
    report.cache_hits += s.hits;
    report.cache_misses += s.misses;
    report.cache_admitted += s.admitted;
    report.cache_declined += s.declined;
    report.cache_evictions += s.evictions;
    report.cache_capacity += share->directory->capacity();
    any = true;
  }
  if (!any) return;
  report.cache_servers_serving = shares_.front()->directory ? shares_.front()->directory->serving_count() : 0;
  report.cache_dropped = dropped_;
  if (stale_acks_)
    log::info("{} insert acks or give-backs arrived after their slab stopped serving (entries dropped)",
              stale_acks_);
}

}  // namespace ferry::roles
