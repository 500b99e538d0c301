// The default policy (FusionFlow, Cachew, DALI #1537): offload only while consumers wait and the accelerator
// is idle; move back when the accelerator is busy (training) or the queues are full; hysteresis against
// flapping. Rules in docs/heterogeneous.md.
#include <algorithm>
#include <optional>

#include "monitor/policy.hpp"
#include "monitor/policy_common.hpp"

namespace ferry::monitor {

namespace {

enum class Vote { none, up, down_busy, down_full };

class AdaptivePolicy final : public Policy {
 public:
  explicit AdaptivePolicy(const PolicyParams& params)
      : params_(params),
        step_units_(share_to_units(params.step)),
        max_units_(share_to_units(params.max_share)) {}

  std::string_view name() const noexcept override { return "adaptive"; }

  Decisions decide(const Window& window, const History& /*history*/,
                   const PolicyState& previous) const override {
    // The history is not needed: the streaks in the state carry what the hysteresis needs, so the decision
    // costs the same whatever the history length.
    Decisions out;
    out.jobs.window = window.index;
    // Each stage on its own accelerators: prepare on the transformation ranks', augment on the consumers'.
    // Both read the same consumer figures (a starving pipeline is one whose consumers wait).
    for (const Stage stage : {Stage::prepare, Stage::augment}) {
      const auto summaries = summarize_pipelines(window, stage);
      const AcceleratorSummary accel = summarize_accelerators(window, stage);
      for (auto& in : detail::gather(summaries, previous.of(stage), stage)) {
        PipelineState& st = in.state;
        Reason reason = Reason::hold;
        if (accel.count == 0) {
          // Nothing to offload to: forget the share, so a device appearing later starts from CPU.
          st.units = 0;
          st.streak = 0;
          reason = Reason::no_accelerator;
        } else if (in.summary == nullptr || in.summary->queue_samples == 0) {
          reason = Reason::no_data;  // no consumer reported: keep share and streak as they are
        } else {
          if (stage == Stage::augment)
            if (const auto measured = cpu_ns_per_batch(*in.summary)) st.cpu_ns_per_batch = *measured;
          reason = step(st, vote(*in.summary, accel, st, stage));
        }
        detail::place(out.jobs, in, st.units, reason, accel.count > 0);
        out.state.of(stage).emplace(in.pipeline, std::move(st));
      }
    }
    decide_heads(window, previous, out);
    out.jobs.sort();
    return out;
  }

 private:
  // One window's opinion about a pipeline. A busy accelerator wins over everything (training comes first),
  // then full queues, then starvation.
  //
  // The augment stage runs after the queues (consumers augment a batch when they pop it), so its cost shows
  // in their wait, not in their occupancy: consumers also starve on it when it would take at least
  // augment_share of their time on their CPUs, and full queues move it back only when it would take under
  // half of that (a dead band, as between the other marks). "Would": the CPU cost per batch times every
  // batch, so offloading does not hide the cost it removed; the cost per batch is the last one measured
  // (PipelineState::cpu_ns_per_batch), so a stage wholly on the devices is still judged.
  Vote vote(const PipelineSummary& s, const AcceleratorSummary& accel, const PipelineState& st,
            Stage stage) const {
    const bool any_capable =
        std::any_of(st.ops.begin(), st.ops.end(), [](const auto& op) { return op.second; });
    const std::optional<double> augment = stage == Stage::augment ? cpu_share(s, st) : std::nullopt;
    const bool augment_heavy = augment && *augment >= params_.augment_share;
    const bool augment_light = augment && *augment < params_.augment_share / 2;
    if (st.units > 0 && accel.util_max >= params_.util_busy) return Vote::down_busy;
    if (st.units > 0 && s.queue_min >= params_.high_water && (stage == Stage::prepare || augment_light))
      return Vote::down_full;
    if (any_capable && st.units < max_units_ && (s.queue_mean < params_.low_water || augment_heavy) &&
        accel.util_max < params_.util_threshold) {
      return Vote::up;
    }
    return Vote::none;
  }

  // The stage's CPU time per batch in this window, summed over its ops; nothing when some op ran no batch
  // on a CPU (no measure).
  static std::optional<double> cpu_ns_per_batch(const PipelineSummary& s) {
    double ns = 0;
    for (const OpStats& op : s.ops) {
      if (op.cpu_batches == 0) return std::nullopt;
      ns += static_cast<double>(op.cpu_ns) / static_cast<double>(op.cpu_batches);
    }
    return s.ops.empty() ? std::nullopt : std::optional<double>(ns);
  }

  // The share of its consumers' time the stage would take with every batch on their CPUs; nothing before
  // any cost was measured or when no consumer reported.
  static std::optional<double> cpu_share(const PipelineSummary& s, const PipelineState& st) {
    if (s.consumer_ns == 0 || st.cpu_ns_per_batch <= 0) return std::nullopt;
    std::uint64_t batches = 0;
    for (const OpStats& op : s.ops) batches = std::max(batches, op.cpu_batches + op.accelerator_batches);
    return st.cpu_ns_per_batch * static_cast<double>(batches) / static_cast<double>(s.consumer_ns);
  }

  // The augment heads (Stage::head), after the augment stage so that its state of this window is known.
  // "The accelerator" of a head is the transformation ranks, judged by the busiest one's busy fraction.
  void decide_heads(const Window& window, const PolicyState& previous, Decisions& out) const {
    const auto augment = summarize_pipelines(window, Stage::augment);
    const TransformerSummary transformers = summarize_transformers(window);
    // Named: gather() keeps pointers into the summaries, which must outlive the loop.
    const auto heads = summarize_pipelines(window, Stage::head);
    for (auto& in : detail::gather(heads, previous.head, Stage::head)) {
      PipelineState& st = in.state;
      Reason reason = Reason::hold;
      // A window in which no transformation rank reported (an idle one, all hits) is no evidence either
      // way: the share and the streak stay, as for a window no consumer reported. Every layout has one.
      if (transformers.count == 0 || in.summary == nullptr || in.summary->queue_samples == 0) {
        reason = Reason::no_data;
      } else {
        if (const auto measured = cpu_ns_per_batch(*in.summary)) st.cpu_ns_per_batch = *measured;
        const auto a = std::find_if(augment.begin(), augment.end(),
                                    [&](const PipelineSummary& s) { return s.pipeline == in.pipeline; });
        const auto as = out.state.augment.find(in.pipeline);
        std::optional<double> cost;
        if (a != augment.end())
          cost = head_cost(*in.summary, *a, as != out.state.augment.end() ? as->second : PipelineState{}, st);
        reason = step(st, head_vote(*in.summary, transformers, st, cost));
      }
      detail::place(out.jobs, in, st.units, reason, true);
      out.state.head.emplace(in.pipeline, std::move(st));
    }
  }

  // The augment stage's CPU share as the augment rule reads it (its consumers ran the head of the batches
  // they got whole, inside the stage), plus the head of the batches whose head ran on the transformation
  // ranks at its last measured cost: the share the stage would take with every head on the consumers, so
  // that moving the head does not hide the cost it removed.
  static std::optional<double> head_cost(const PipelineSummary& head, const PipelineSummary& augment,
                                         const PipelineState& augment_state, const PipelineState& st) {
    // The augment stage's cost per batch: this window's CPU measure, else the last one its state kept (the
    // augment rule updates that only where consumers have a device).
    PipelineState measured = augment_state;
    if (const auto now = cpu_ns_per_batch(augment)) measured.cpu_ns_per_batch = *now;
    const auto stage = cpu_share(augment, measured);
    if (!stage || head.consumer_ns == 0) return stage;
    std::uint64_t away = 0;
    for (const OpStats& op : head.ops) away = std::max(away, op.accelerator_batches);
    return *stage + st.cpu_ns_per_batch * static_cast<double>(away) / static_cast<double>(head.consumer_ns);
  }

  // The head's vote: back when the transformation ranks are busy or the queues are full and the stage is
  // light; away while the stage is heavy on the consumers and the transformation ranks idle enough.
  Vote head_vote(const PipelineSummary& s, const TransformerSummary& t, const PipelineState& st,
                 std::optional<double> cost) const {
    const bool movable = std::any_of(st.ops.begin(), st.ops.end(), [](const auto& op) { return op.second; });
    if (st.units > 0 && t.busy_max >= params_.head_busy) return Vote::down_busy;
    if (st.units > 0 && s.queue_min >= params_.high_water && cost && *cost < params_.augment_share / 2)
      return Vote::down_full;
    if (movable && st.units < max_units_ && cost && *cost >= params_.augment_share &&
        t.busy_max < params_.head_idle) {
      return Vote::up;
    }
    return Vote::none;
  }

  // Moves the share by one step once the same direction was voted `hysteresis` windows in a row.
  Reason step(PipelineState& st, Vote v) const {
    const auto need = static_cast<std::int32_t>(params_.hysteresis);
    switch (v) {
      case Vote::none:
        st.streak = 0;  // a quiet window breaks any run
        return Reason::hold;
      case Vote::up:
        st.streak = std::max(st.streak, 0) + 1;
        if (st.streak < need) return Reason::hold;
        st.units = std::min(st.units + step_units_, max_units_);
        st.streak = 0;
        return Reason::offload;
      case Vote::down_busy:
      case Vote::down_full:
        st.streak = std::min(st.streak, 0) - 1;
        if (st.streak > -need) return Reason::hold;
        st.units = st.units > step_units_ ? st.units - step_units_ : 0;
        st.streak = 0;
        return v == Vote::down_busy ? Reason::accelerator_busy : Reason::queues_full;
    }
    return Reason::hold;
  }

  PolicyParams params_;
  std::uint32_t step_units_;
  std::uint32_t max_units_;
};

}  // namespace

std::unique_ptr<Policy> make_adaptive_policy(const PolicyParams& params) {
  params.validate();
  return std::make_unique<AdaptivePolicy>(params);
}

}  // namespace ferry::monitor
