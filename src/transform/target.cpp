#include "transform/target.hpp"

#include <functional>
#include <map>

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "ferry/features.hpp"

#if FERRY_HAVE_CUDA
#include "transform/cuda/launch.hpp"
#endif

namespace ferry::transform {

namespace {

Target select_host() {
  return Target::host;
}

Target select_cuda() {
#if FERRY_HAVE_CUDA
  if (cuda_device_count() == 0) throw TransformError("transform target cuda: no CUDA device is visible");
  return Target::cuda;
#else
  throw TransformError("transform target cuda: ferry was built without CUDA");
#endif
}

const std::map<std::string, std::function<Target()>, std::less<>>& targets() {
  static const std::map<std::string, std::function<Target()>, std::less<>> kTargets = {
      {"host", select_host},
      {"cuda", select_cuda},
  };
  return kTargets;
}

}  // namespace

Target select_target(std::string_view name) {
  const auto it = targets().find(name);
  if (it == targets().end()) {
    throw ConfigError(str_cat("unknown transform target '", name, "' (known: ", join(target_names()), ")"));
  }
  return it->second();
}

std::vector<std::string> target_names() {
  std::vector<std::string> names;
  for (const auto& [name, select] : targets()) names.push_back(name);
  return names;
}

int cuda_device_count() noexcept {
#if FERRY_HAVE_CUDA
  return ferry::cuda::device_count();
#else
  return 0;
#endif
}

int cuda_current_device() noexcept {
#if FERRY_HAVE_CUDA
  return ferry::cuda::current_device();
#else
  return -1;
#endif
}

void copy_device_to_host(void* host, const void* device, std::size_t bytes) {
#if FERRY_HAVE_CUDA
  if (cuda_device_count() == 0) throw TransformError("copy from device memory: no CUDA device is visible");
  ferry::cuda::copy_to_host(host, device, bytes);
#else
  (void)host, (void)device, (void)bytes;
  throw TransformError("copy from device memory: ferry was built without CUDA");
#endif
}

}  // namespace ferry::transform
