// GPU utilization from NVML, loaded at run time with dlopen("libnvidia-ml.so.1"): no build dependency, and a
// machine without the driver's library (or without a GPU) simply has none. NVML's figure is the share of its
// last sample period (1/6 s to 1 s by product) in which any kernel ran on the device, training included,
// which is what the placement policy needs to know (docs/heterogeneous.md).
#pragma once

#include <optional>
#include <string>

namespace ferry::transform {

class Nvml {
 public:
  Nvml();  // never throws; available() says whether it worked
  ~Nvml();
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  bool available() const noexcept { return init_ != nullptr && initialized_; }
  const std::string& why_not() const noexcept { return why_; }  // empty when available
  // Utilization in [0, 1] of the GPU at PCI bus id `bus` (as CUDA names it, so the figure is the device
  // this process uses whatever CUDA_VISIBLE_DEVICES says); nothing when NVML or the device is unavailable.
  std::optional<double> utilization(const std::string& bus) const;

 private:
  void* library_ = nullptr;
  void* init_ = nullptr;
  void* shutdown_ = nullptr;
  void* handle_by_bus_ = nullptr;
  void* utilization_rates_ = nullptr;
  bool initialized_ = false;
  std::string why_;
};

}  // namespace ferry::transform
