#include "transform/accelerator.hpp"

#include "core/strings.hpp"
#include "ferry/features.hpp"
#include "transform/target.hpp"

#if FERRY_HAVE_CUDA
#include "transform/cuda/device.hpp"
#endif

namespace ferry::transform {
namespace {

#if FERRY_HAVE_CUDA
class CudaAccelerator final : public Accelerator {
 public:
  explicit CudaAccelerator(int ordinal) : ordinal_(ordinal), device_(ordinal) {}
  Device& device() noexcept override { return device_; }
  std::uint64_t add_program(const DeviceProgram& program) override { return device_.add_program(program); }
  std::string name() const override { return str_cat("cuda:", ordinal_); }

 private:
  int ordinal_;
  cuda::CudaDevice device_;
};
#endif

}  // namespace

std::unique_ptr<Accelerator> open_accelerator(int ordinal, std::string* why) {
#if FERRY_HAVE_CUDA
  const int count = cuda_device_count();
  if (ordinal < count) return std::make_unique<CudaAccelerator>(ordinal);
  if (why) *why = str_cat("no CUDA device ", ordinal, " (", count, " visible)");
  return nullptr;
#else
  (void)ordinal;
  if (why) *why = "this build has no CUDA";
  return nullptr;
#endif
}

}  // namespace ferry::transform
