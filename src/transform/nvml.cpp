#include "transform/nvml.hpp"

#include <dlfcn.h>

namespace ferry::transform {
namespace {

// The few NVML declarations used, as the NVML API reference gives them (nvml.h is not needed to build).
using NvmlReturn = int;  // nvmlReturn_t; NVML_SUCCESS is 0
using NvmlDevice = struct NvmlDeviceOpaque*;
struct NvmlUtilization {
  unsigned int gpu;     // percent of the sample period with a kernel running
  unsigned int memory;  // percent with device memory being read or written
};
using InitFn = NvmlReturn (*)();
using ShutdownFn = NvmlReturn (*)();
using HandleByBusFn = NvmlReturn (*)(const char*, NvmlDevice*);
using UtilizationRatesFn = NvmlReturn (*)(NvmlDevice, NvmlUtilization*);

}  // namespace

Nvml::Nvml() {
  library_ = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library_) {
    why_ = "libnvidia-ml.so.1 not found (no NVIDIA driver)";
    return;
  }
  init_ = dlsym(library_, "nvmlInit_v2");
  shutdown_ = dlsym(library_, "nvmlShutdown");
  handle_by_bus_ = dlsym(library_, "nvmlDeviceGetHandleByPciBusId_v2");
  utilization_rates_ = dlsym(library_, "nvmlDeviceGetUtilizationRates");
  if (!init_ || !shutdown_ || !handle_by_bus_ || !utilization_rates_) {
    why_ = "libnvidia-ml.so.1 lacks an NVML entry point";
    init_ = nullptr;
    return;
  }
  const NvmlReturn rc = reinterpret_cast<InitFn>(init_)();
  if (rc != 0) {
    why_ = "nvmlInit_v2 failed with code " + std::to_string(rc);
    return;
  }
  initialized_ = true;
}

Nvml::~Nvml() {
  if (initialized_) reinterpret_cast<ShutdownFn>(shutdown_)();
  if (library_) dlclose(library_);
}

std::optional<double> Nvml::utilization(const std::string& bus) const {
  if (!available() || bus.empty()) return std::nullopt;
  NvmlDevice device = nullptr;
  if (reinterpret_cast<HandleByBusFn>(handle_by_bus_)(bus.c_str(), &device) != 0) return std::nullopt;
  NvmlUtilization u{};
  if (reinterpret_cast<UtilizationRatesFn>(utilization_rates_)(device, &u) != 0) return std::nullopt;
  return static_cast<double>(u.gpu) / 100.0;
}

}  // namespace ferry::transform
