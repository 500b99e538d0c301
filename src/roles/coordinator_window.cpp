// A coordinator window's close (Coordinator::close): the placement policy's decision on the window, its log
// lines and stats line, and the job list out to the ranks whose stage placements changed
// (docs/heterogeneous.md).
#include <algorithm>
#include <tuple>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "roles/coordinator.hpp"
#include "roles/protocol.hpp"

namespace ferry::roles {

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
  send_jobs(d.jobs);
  jobs_ = std::move(d.jobs);
  state_ = std::move(d.state);
  history_.push(std::move(open_));
  open_ = monitor::Window{};
  open_reports_ = open_consumer_reports_ = 0;
}

void Coordinator::send_jobs(const monitor::JobList& jobs) {
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
    return !jobs_sent_ || of(jobs) != of(jobs_);
  };
  const bool to_service = changed(monitor::Stage::prepare), to_consumers = changed(monitor::Stage::augment);
  // The randomizers place each batch's augment head (docs/heterogeneous.md, "The movable head"): the others
  // get the list when a head share changed; this rank's reads jobs() here.
  const bool heads = std::any_of(jobs.ops.begin(), jobs.ops.end(),
                                 [](const auto& op) { return op.stage == monitor::Stage::head; });
  const bool to_randomizers = heads && changed(monitor::Stage::head);
  // No list before every rank that runs a stage has reported once: a list computed before a device was heard
  // of would read "no accelerator" and undo the placement ranks start with (placement_before_jobs).
  if (unheard_.empty() && (to_service || to_consumers || to_randomizers)) {
    const auto bytes = monitor::encode(jobs);
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
}

}  // namespace ferry::roles
