// Fixed placement, for comparison with the adaptive policy: every op with a device kernel sends
// monitor.static_share of its batches to the accelerator (0, the default, is today's all-CPU placement),
// and every movable augment head monitor.static_head_share of its batches to the transformation ranks,
// whatever the window says. Without an accelerator everything stays on CPU.
#include "monitor/policy.hpp"
#include "monitor/policy_common.hpp"

namespace ferry::monitor {

namespace {

class StaticPolicy final : public Policy {
 public:
  explicit StaticPolicy(const PolicyParams& params)
      : units_(share_to_units(params.static_share)), head_units_(share_to_units(params.static_head_share)) {}

  std::string_view name() const noexcept override { return "static"; }

  Decisions decide(const Window& window, const History& /*history*/,
                   const PolicyState& previous) const override {
    Decisions out;
    out.jobs.window = window.index;
    for (const Stage stage : {Stage::prepare, Stage::augment, Stage::head}) {
      const auto summaries = summarize_pipelines(window, stage);
      // The head's "accelerator" is the transformation ranks, which every layout has.
      const bool present = stage == Stage::head || summarize_accelerators(window, stage).count > 0;
      for (auto& in : detail::gather(summaries, previous.of(stage), stage)) {
        in.state.units = present ? (stage == Stage::head ? head_units_ : units_) : 0;
        in.state.streak = 0;
        detail::place(out.jobs, in, in.state.units, Reason::fixed, present);
        out.state.of(stage).emplace(in.pipeline, std::move(in.state));
      }
    }
    out.jobs.sort();
    return out;
  }

 private:
  std::uint32_t units_;
  std::uint32_t head_units_;
};

}  // namespace

std::unique_ptr<Policy> make_static_policy(const PolicyParams& params) {
  params.validate();
  return std::make_unique<StaticPolicy>(params);
}

}  // namespace ferry::monitor
