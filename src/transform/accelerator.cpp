#include "transform/accelerator.hpp"

#include <exception>
#include <mutex>

#include "core/strings.hpp"
#include "ferry/features.hpp"
#include "transform/target.hpp"

#if FERRY_HAVE_CUDA
#include "transform/cuda/device.hpp"
#include "transform/cuda/launch.hpp"
#endif

namespace ferry::transform {
namespace {

#if FERRY_HAVE_CUDA
class CudaAccelerator final : public Accelerator {
 public:
  explicit CudaAccelerator(int ordinal)
      : ordinal_(ordinal), device_(ordinal), bus_(cuda::pci_bus_id(ordinal)) {}
  Device& device() noexcept override { return device_; }
  std::uint64_t add_program(const DeviceProgram& program) override { return device_.add_program(program); }
  std::string name() const override { return str_cat("cuda:", ordinal_, " (", bus_, ")"); }
  std::string pci_bus_id() const override { return bus_; }

 private:
  int ordinal_;
  cuda::CudaDevice device_;
  std::string bus_;
};
#endif

std::mutex accelerator_factory_mutex;
AcceleratorFactory& accelerator_factory() {
  static AcceleratorFactory f;
  return f;
}

}  // namespace

void set_accelerator_factory_for_tests(AcceleratorFactory f) {
  std::lock_guard lock(accelerator_factory_mutex);
  accelerator_factory() = std::move(f);
}

std::unique_ptr<Accelerator> open_accelerator(int ordinal, std::string* why) {
  {
    std::lock_guard lock(accelerator_factory_mutex);
    if (accelerator_factory()) {
      try {
        return accelerator_factory()(ordinal, why);
      } catch (const std::exception& e) {
        if (why) *why = str_cat("the test accelerator failed to open: ", e.what());
        return nullptr;
      }
    }
  }
#if FERRY_HAVE_CUDA
  const int count = cuda_device_count();
  if (ordinal >= 0 && ordinal < count) {
    try {
      return std::make_unique<CudaAccelerator>(ordinal);
    } catch (const std::exception& e) {
      if (why) *why = str_cat("CUDA device ", ordinal, " is visible but failed to initialize: ", e.what());
      return nullptr;
    }
  }
  if (why) *why = str_cat("no CUDA device ", ordinal, " (", count, " visible)");
  return nullptr;
#else
  (void)ordinal;
  if (why) *why = "this build has no CUDA";
  return nullptr;
#endif
}

}  // namespace ferry::transform
