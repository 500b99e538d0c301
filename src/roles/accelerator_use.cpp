#include "roles/accelerator_use.hpp"

#include <algorithm>

#include "core/log.hpp"
#include "roles/context.hpp"

namespace ferry::roles {

std::unique_ptr<AcceleratorUse> AcceleratorUse::open(int ordinal, std::string* why) {
  auto accelerator = transform::open_accelerator(ordinal, why);
  if (!accelerator) return nullptr;
  return std::unique_ptr<AcceleratorUse>(new AcceleratorUse(std::move(accelerator)));
}

AcceleratorUse::AcceleratorUse(std::unique_ptr<transform::Accelerator> accelerator)
    : accelerator_(std::move(accelerator)), sampled_at_ns_(now_ns()) {}

std::string AcceleratorUse::utilization_source() const {
  return nvml_.available() ? "NVML" : "CUDA events (" + nvml_.why_not() + ")";
}

void AcceleratorUse::sample(monitor::Recorder& recorder) {
  if (failed_) return;
  const std::uint64_t now = now_ns();
  if (now - sampled_at_ns_ < 50'000'000) return;
  const std::uint64_t busy = accelerator_->device().busy_ns();
  const double own =
      std::min(1.0, static_cast<double>(busy - sampled_busy_ns_) / static_cast<double>(now - sampled_at_ns_));
  sampled_busy_ns_ = busy;
  sampled_at_ns_ = now;
  const auto nvml = nvml_.utilization(accelerator_->pci_bus_id());
  recorder.accelerator(nvml.value_or(own), own,
                       nvml ? monitor::UtilSource::nvml : monitor::UtilSource::events);
}

void AcceleratorUse::fail(monitor::Recorder& recorder, int rank, std::string_view what,
                          const std::exception& error) {
  log::warn("rank {}: accelerator job failed, {} runs on the CPU from now on: {}", rank, what, error.what());
  failed_ = true;
  recorder.accelerator(0, 0, monitor::UtilSource::none);  // no accelerator to offer now
}

}  // namespace ferry::roles
