// Where transform kernels run. Targets are looked up by name, and a target compiled out of this build
// still has an entry, which throws "ferry was built without CUDA" instead of "unknown target".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ferry::transform {

enum class Target { host, cuda };

// "host" or "cuda". Throws ConfigError for an unknown name and TransformError for a target this build or
// this machine cannot run (built without CUDA; no CUDA device visible).
Target select_target(std::string_view name);
std::vector<std::string> target_names();

// CUDA devices visible to this process; 0 when built without CUDA or without a driver. Never throws and
// never needs a GPU.
int cuda_device_count() noexcept;
// The calling thread's current CUDA device; -1 without CUDA, driver or device.
int cuda_current_device() noexcept;

}  // namespace ferry::transform
