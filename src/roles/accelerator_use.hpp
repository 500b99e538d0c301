// A rank's accelerator as the runtime uses it: the device (transform::open_accelerator), NVML for the same
// GPU when the driver's library is there, and the utilization the rank reports, sampled at most every 50 ms
// into its Recorder. Transformation ranks run prepare jobs on it, consumers their augment stage.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "monitor/recorder.hpp"
#include "transform/accelerator.hpp"
#include "transform/nvml.hpp"

namespace ferry::roles {

class AcceleratorUse {
 public:
  // Device `ordinal` (after CUDA_VISIBLE_DEVICES) or nothing, with `why` saying why not.
  static std::unique_ptr<AcceleratorUse> open(int ordinal, std::string* why);

  transform::Accelerator& accelerator() noexcept { return *accelerator_; }
  transform::Device& device() noexcept { return accelerator_->device(); }
  // False once a job failed: the rank works on its CPU from then on and reports no accelerator.
  bool usable() const noexcept { return !failed_; }
  // "NVML" or "CUDA events (why NVML is not there)": where the reported utilization comes from.
  std::string utilization_source() const;

  // Ferry's own device time since the last sample (CUDA events) and NVML's figure, which also sees training's
  // kernels, into `recorder`; at most every 50 ms, nothing once failed.
  void sample(monitor::Recorder& recorder);
  // A job failed: log it (`what` names the stage), stop using the device and report none from now on.
  void fail(monitor::Recorder& recorder, int rank, std::string_view what, const std::exception& error);

 private:
  explicit AcceleratorUse(std::unique_ptr<transform::Accelerator> accelerator);

  std::unique_ptr<transform::Accelerator> accelerator_;
  transform::Nvml nvml_;
  bool failed_ = false;
  std::uint64_t sampled_busy_ns_ = 0, sampled_at_ns_ = 0;
};

}  // namespace ferry::roles
