// Pieces the built-in policies share (internal to the monitor layer).
#pragma once

#include <cstdint>

#include "monitor/policy.hpp"

namespace ferry::monitor::detail {

// Working view of one pipeline in a window: its summary (when some rank reported it) and its state, whose op
// catalogue already includes the ops of this window.
struct PipelineInput {
  std::uint32_t pipeline = 0;
  Stage stage = Stage::prepare;
  const PipelineSummary* summary = nullptr;  // null: no rank reported the pipeline in this window
  PipelineState state;
};

// Every pipeline of `previous` or `summaries` (the window's, for `stage`), sorted by index, with op
// catalogues merged.
std::vector<PipelineInput> gather(const std::vector<PipelineSummary>& summaries,
                                  const std::map<std::uint32_t, PipelineState>& previous, Stage stage);

// Appends one placement per known op: capable ops get `units` and `reason`; ops without a device kernel stay
// on CPU (not_capable); with no accelerator at all everything is on CPU (no_accelerator).
void place(JobList& jobs, const PipelineInput& in, std::uint32_t units, Reason reason,
           bool accelerator_present);

}  // namespace ferry::monitor::detail
