// The coordinator (on the first randomizer, beside the Rebalancer): gathers every rank's monitoring windows
// (kStats), closes its own window every monitor.window_ms, keeps the History, runs the placement policy and
// sends the job list to the service ranks when it changes; between rebalance points it also adds up what each
// service rank did, which the randomizer turns into a RoleView for decide_roles(). Every window and every
// decision goes to the log and to runtime.stats_file with the figures behind it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>

#include "monitor/history.hpp"
#include "monitor/policy.hpp"
#include "monitor/role_policy.hpp"
#include "roles/context.hpp"
#include "roles/gather_counts.hpp"

namespace ferry::roles {

class Coordinator {
 public:
  explicit Coordinator(Context& ctx);

  void add(monitor::RankStats stats);  // a window from any rank, this one included
  // A kStats (one window) or kStatsBundle (a node leader's windows): counted, decoded, added.
  void receive(const transport::Message& message);
  const GatherCounts& gathered() const noexcept { return gathered_; }
  // The job list decided last (null before the first went out); it differs from the one sent last only in
  // placements that did not change: this rank's randomizer places heads by it.
  const monitor::JobList* jobs() const noexcept { return jobs_sent_ ? &jobs_ : nullptr; }
  // Closes the coordinator's window when due: decides placement and sends a changed job list.
  void tick(std::uint64_t now);

  // What the service ranks did since the last reset_span(). `roles`: every rank's role now. The cache-full
  // figure is every randomizer's (declines plus evictions for room, from their windows).
  monitor::RoleView role_view(const std::vector<Role>& roles) const;
  std::uint64_t windows_in_span() const noexcept { return span_.windows; }
  void reset_span() { span_ = Span{}; }
  std::uint64_t windows() const noexcept { return next_index_; }
  // The other randomizers, from their reports: the lowest epoch one of them is still describing (nothing
  // when none is), and whether every one of them has said it is done.
  std::optional<std::uint64_t> others_epoch() const;
  bool others_done() const;
  // R3: a kRetire went to `rank`; it said it is a transformer now (kRetired).
  void retiring(int rank);
  void retired(int rank);
  bool retirement_pending() const noexcept { return !retiring_.empty(); }
  // A kRetire may go to `rank`: another randomizer, not retired, and still describing (not done, not let
  // end).
  bool can_retire(int rank) const;

 private:
  struct RankSpan {
    std::uint64_t window_ns = 0, busy_ns = 0, workers = 0;
    std::uint64_t wait_ns = 0, samples = 0, hits = 0;
  };
  struct Span {
    std::uint64_t windows = 0;  // coordinator windows closed in the span
    std::map<std::uint32_t, RankSpan> ranks;
    std::map<std::uint32_t, std::uint64_t> slab_hits;  // per slab holder index
    std::uint64_t cache_full = 0;                      // summed over the randomizers' reports
  };
  void close(std::uint64_t now);
  // The new job list to the ranks whose stage placements changed (coordinator_window.cpp, as close()).
  void send_jobs(const monitor::JobList& jobs);

  Context& ctx_;
  std::unique_ptr<monitor::Policy> policy_;
  monitor::History history_;
  monitor::PolicyState state_;
  monitor::JobList jobs_;
  bool jobs_sent_ = false;
  struct Other {
    std::uint64_t epoch = 0;
    bool done = false;
  };
  std::map<std::uint32_t, Other> others_;  // the other randomizers, by rank
  // R3: randomizers told to retire, and those that did (transformers now); randomizers let end (kRelease).
  std::set<int> retiring_, retired_, released_;
  monitor::Window open_;  // reports gathered since the last close, one per rank (monitor::gather)
  std::uint64_t open_reports_ = 0, open_consumer_reports_ = 0;  // reports received since then
  // Each rank's accelerator as last reported (rank, role, presence, utilization only). A window in which a
  // rank sent no report still counts its device: otherwise the policy would read "no accelerator" and move
  // work back to the CPU whenever a report came a little late.
  std::map<std::uint32_t, monitor::RankStats> devices_;
  std::set<std::uint32_t>
      unheard_;  // ranks that run a stage and have not reported yet: no job list until none
  std::uint64_t next_index_ = 0;
  std::uint64_t opened_ns_ = 0;
  Span span_;
  GatherCounts gathered_;
};

}  // namespace ferry::roles
