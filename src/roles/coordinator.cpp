#include "roles/coordinator.hpp"

#include <algorithm>
#include <tuple>

#include "core/log.hpp"
#include "core/strings.hpp"
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

void Coordinator::close(std::uint64_t now) {
  open_.index = next_index_++;
  opened_ns_ = now;
  ++span_.windows;
  const std::size_t reports = open_reports_;
  // Ranks with a device that did not report in this window: their device as last reported, with no work.
  for (const auto& [rank, device] : devices_) {
    const bool reported = std::any_of(open_.ranks.begin(), open_.ranks.end(),
                                      [rank = rank](const auto& r) { return r.rank == rank; });
    if (!reported) open_.ranks.push_back(device);
  }
  monitor::Decisions d = policy_->decide(open_, history_, state_);
  d.jobs.sort();  // a policy of one's own need not return the list in find()'s order
  const auto summaries = monitor::summarize_pipelines(open_);
  const auto accel = monitor::summarize_accelerators(open_, monitor::Stage::prepare);
  const auto consumer_accel = monitor::summarize_accelerators(open_, monitor::Stage::augment);

  std::vector<std::string> pipes, jobs;
  for (const auto& s : summaries) {
    pipes.push_back(str_cat("{\"pipeline\":\"", ctx_.config.pipelines.at(s.pipeline).name,
                            "\",\"batches\":", s.batches, ",\"queue_mean\":", s.queue_mean,
                            ",\"queue_min\":", s.queue_min, ",\"wait_seconds\":", s.wait_ns * 1e-9, "}"));
  }
  for (const auto& op : d.jobs.ops) {
    jobs.push_back(str_cat("{\"pipeline\":\"", ctx_.config.pipelines.at(op.pipeline).name, "\",\"stage\":\"",
                           monitor::to_string(op.stage), "\",\"op\":", op.op, ",\"accelerator_share\":",
                           op.accelerator_share(), ",\"reason\":\"", monitor::to_string(op.reason), "\"}"));
    const monitor::OpPlacement* before = jobs_.find(op.pipeline, op.op, op.stage);
    if (!before || before->accelerator_units != op.accelerator_units) {
      // A placement that moves is a decision: log it with the figures that caused it.
      const auto it = std::find_if(summaries.begin(), summaries.end(),
                                   [&](const auto& s) { return s.pipeline == op.pipeline; });
      const auto& a = op.stage == monitor::Stage::augment ? consumer_accel : accel;
      log::info(
          "window {}: pipeline '{}' {} op {} -> accelerator share {:.3f} ({}; queue mean {:.2f} min {:.2f}, "
          "{} accelerators {} busiest {:.2f})",
          open_.index, ctx_.config.pipelines.at(op.pipeline).name, monitor::to_string(op.stage), op.op,
          op.accelerator_share(), monitor::to_string(op.reason), it != summaries.end() ? it->queue_mean : 0.0,
          it != summaries.end() ? it->queue_min : 0.0,
          op.stage == monitor::Stage::augment ? "consumer" : "transformer", a.count, a.util_max);
    }
  }
  ctx_.stats_line(str_cat(
      "{\"kind\":\"window\",\"index\":", open_.index, ",\"reports\":", reports, ",\"pipelines\":[",
      join(pipes, ","), "],\"accelerators\":", accel.count, ",\"accelerator_util_max\":", accel.util_max,
      ",\"consumer_accelerators\":", consumer_accel.count,
      ",\"consumer_accelerator_util_max\":", consumer_accel.util_max, ",\"jobs\":[", join(jobs, ","), "]}"));
  // Each side gets the list when its stage's placements changed: service ranks route prepare batches by it,
  // consumers their augment stage.
  const auto changed = [&](monitor::Stage stage) {
    // Shares only: a reason that changes alone (hold, no data) routes no batch differently.
    const auto of = [stage](const monitor::JobList& list) {
      std::vector<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>> out;
      for (const auto& op : list.ops)
        if (op.stage == stage) out.emplace_back(op.pipeline, op.op, op.accelerator_units);
      return out;
    };
    return !jobs_sent_ || of(d.jobs) != of(jobs_);
  };
  const bool to_service = changed(monitor::Stage::prepare), to_consumers = changed(monitor::Stage::augment);
  // The randomizers place each batch's augment head (docs/heterogeneous.md, "The movable head"): the others
  // get the list when a head share changed; this rank's reads jobs() here.
  const bool heads = std::any_of(d.jobs.ops.begin(), d.jobs.ops.end(),
                                 [](const auto& op) { return op.stage == monitor::Stage::head; });
  const bool to_randomizers = heads && changed(monitor::Stage::head);
  // No list before every rank that runs a stage has reported once: a list computed before a device was heard
  // of would read "no accelerator" and undo the placement ranks start with (placement_before_jobs).
  if (unheard_.empty() && (to_service || to_consumers || to_randomizers)) {
    const auto bytes = monitor::encode(d.jobs);
    const Layout& l = ctx_.layout;
    for (int r = 0; r < l.size(); ++r) {
      const Role role = l.role[static_cast<std::size_t>(r)];
      if (role == Role::randomizer && !retired_.count(r) && r != ctx_.rank) {
        // One that is done describes nothing more (and may have ended).
        const auto other = others_.find(static_cast<std::uint32_t>(r));
        if (to_randomizers && (other == others_.end() || !other->second.done)) {
          ctx_.fabric->send(r, kJobs, bytes);
          ++gathered_.jobs_messages;
        }
        continue;
      }
      const bool service = role == Role::transformer || role == Role::cache_server || retired_.count(r);
      // A node stats leader takes the list for every rank it reports for (ServiceRank forwards it).
      if (l.report_to[static_cast<std::size_t>(r)] != l.coordinator() && !retired_.count(r)) continue;
      if (l.stats_leader(r) || (service && to_service) || (role == Role::consumer && to_consumers)) {
        ctx_.fabric->send(r, kJobs, bytes);
        ++gathered_.jobs_messages;
      }
    }
    ++gathered_.job_lists;
    jobs_sent_ = true;
  }
  jobs_ = std::move(d.jobs);
  state_ = std::move(d.state);
  history_.push(std::move(open_));
  open_ = monitor::Window{};
  open_reports_ = open_consumer_reports_ = 0;
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
