// Placement policies: a pure function from a stats window (plus the recent history and the state the previous
// call returned) to the job list. Policies are looked up by name (monitor.policy): "adaptive" (default) moves
// work to the accelerator while consumers starve and it is idle, and back when it is busy or the queues are
// full; "static" keeps a fixed placement, for comparison. The rules are written out in docs/heterogeneous.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "monitor/history.hpp"
#include "monitor/job_list.hpp"
#include "monitor/window.hpp"

namespace ferry::monitor {

// Config keys in comments. Occupancies are fractions of runtime.prefetch, utilizations fractions of time.
struct PolicyParams {
  std::string name = "adaptive";  // monitor.policy
  double low_water = 0.25;        // monitor.low_water: a pipeline starves when its mean occupancy is below
  double high_water = 0.9;        // monitor.high_water: queues are full when their minimum is at or above
  double util_threshold = 0.5;    // monitor.util_threshold: the accelerator is idle below this utilization
  double util_busy = 0.85;        // monitor.util_busy: ... and busy at or above this one
  std::uint32_t hysteresis = 2;   // monitor.hysteresis: windows in a row a rule must hold before a move
  double step = 0.25;             // monitor.step: accelerator share moved per move
  double max_share = 1.0;         // monitor.max_share: most the adaptive policy gives the accelerator
  double static_share = 0.0;      // monitor.static_share: the static policy's accelerator share
  // monitor.augment_share: the augment stage runs on the consumers at pop, after their queues, so full queues
  // do not show its cost. Its consumers starve when it would take at least this share of their time on
  // their CPUs; full queues move it back only when it would take under half of it.
  double augment_share = 0.1;
  // The augment stage's movable head (Stage::head) runs on the transformation ranks for a share of the
  // batches: the adaptive policy moves it there only while the busiest transformation rank is busy below
  // monitor.head_idle of its workers' time, and back once one is at or above monitor.head_busy.
  double head_idle = 0.5;
  double head_busy = 0.85;
  double static_head_share = 0.0;  // monitor.static_head_share: the static policy's head share

  void validate() const;  // ConfigError naming the key
};

// What a policy remembers between windows, per pipeline and stage. Owned by the caller (the coordinator),
// passed in and returned, so decide() itself keeps no state and replays identically.
struct PipelineState {
  std::uint32_t units = 0;  // accelerator share in 1/kShareUnits
  // Consecutive windows that voted to move the share: > 0 up, < 0 down, 0 after a move or a quiet window.
  std::int32_t streak = 0;
  // Every op of the stage's chain seen so far and whether it has a device kernel, so that a window in which
  // no rank ran it (all cache hits, for prepare) still yields a placement for each op.
  std::map<std::uint32_t, bool> ops;
  // The augment stage: its CPU time per batch as last measured (0: never), which the adaptive policy
  // judges it by while no batch runs on a CPU. The head: the consumers' CPU time per batch in the head.
  double cpu_ns_per_batch = 0;

  friend bool operator==(const PipelineState&, const PipelineState&) = default;
};

struct PolicyState {
  std::map<std::uint32_t, PipelineState> pipelines;  // the prepare stage, by pipeline
  std::map<std::uint32_t, PipelineState> augment;    // the augment stage (consumers' accelerators)
  std::map<std::uint32_t, PipelineState> head;       // the augment head (transformation ranks)

  std::map<std::uint32_t, PipelineState>& of(Stage stage) noexcept {
    return stage == Stage::augment ? augment : stage == Stage::head ? head : pipelines;
  }
  const std::map<std::uint32_t, PipelineState>& of(Stage stage) const noexcept {
    return stage == Stage::augment ? augment : stage == Stage::head ? head : pipelines;
  }

  friend bool operator==(const PolicyState&, const PolicyState&) = default;
};

struct Decisions {
  JobList jobs;
  PolicyState state;  // pass it back as `previous` with the next window
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string_view name() const noexcept = 0;
  // Pure: the result depends only on the arguments and the parameters the policy was made with.
  virtual Decisions decide(const Window& window, const History& history,
                           const PolicyState& previous) const = 0;
};

using PolicyFactory = std::function<std::unique_ptr<Policy>(const PolicyParams&)>;

class PolicyRegistry {
 public:
  // Holds "adaptive" and "static".
  static PolicyRegistry& global();

  // Throws InternalError when the name is taken.
  void add(std::string name, PolicyFactory factory);
  // The policy named params.name, after params.validate(). ConfigError for an unknown name, listing the
  // known.
  std::unique_ptr<Policy> make(const PolicyParams& params) const;
  std::vector<std::string> names() const;  // sorted

 private:
  mutable std::mutex mutex_;  // add() may run while another thread makes a policy
  std::map<std::string, PolicyFactory, std::less<>> factories_;
};

std::unique_ptr<Policy> make_policy(const PolicyParams& params);  // PolicyRegistry::global().make

// The placement a rank routes by before the coordinator's first job list reaches it: the static policy's
// share, which needs no figures and so applies from the first batch (a rank without a device still runs
// everything on its CPU); everything on the CPU for other policies, which wait for figures.
OpPlacement placement_before_jobs(const PolicyParams& params, std::uint32_t pipeline, Stage stage) noexcept;

// The built-in policies, for registries of one's own and for tests.
std::unique_ptr<Policy> make_adaptive_policy(const PolicyParams& params);
std::unique_ptr<Policy> make_static_policy(const PolicyParams& params);

}  // namespace ferry::monitor
