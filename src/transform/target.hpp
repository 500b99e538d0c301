// Where transform kernels run. Targets are looked up by name, and a target compiled out of this build
// still has an entry, which throws "ferry was built without CUDA" instead of "unknown target".
#pragma once

#include <cstddef>
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
// Copies `bytes` of CUDA device memory to host memory (a runtime.device_batches field, for a check or a
// digest). Throws TransformError in a build without CUDA or on a machine without a device, TransportError
// naming the CUDA call when the copy fails.
void copy_device_to_host(void* host, const void* device, std::size_t bytes);

}  // namespace ferry::transform
