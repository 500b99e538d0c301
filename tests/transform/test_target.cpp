// Execution-target selection and the CUDA launcher's device query (no GPU needed to pass).
#include <gtest/gtest.h>

#include "ferry/error.hpp"
#include "ferry/features.hpp"
#include "transform/target.hpp"

#if FERRY_HAVE_CUDA
#include "transform/cuda/launch.hpp"
#endif

namespace ferry::transform {
namespace {

TEST(Target, HostAlwaysAvailable) {
  EXPECT_EQ(select_target("host"), Target::host);
}

TEST(Target, UnknownNameListsKnownOnes) {
  try {
    select_target("opencl");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("cuda, host"), std::string::npos) << e.what();
  }
}

TEST(Target, CudaNeedsBuildAndDevice) {
  if (!kHaveCuda) {
    try {
      select_target("cuda");
      FAIL();
    } catch (const TransformError& e) {
      EXPECT_NE(std::string(e.what()).find("ferry was built without CUDA"), std::string::npos);
    }
    return;
  }
  if (cuda_device_count() == 0) {
    EXPECT_THROW(select_target("cuda"), TransformError);
    GTEST_SKIP() << "built with CUDA but no GPU is visible: device path not exercised";
  }
  EXPECT_EQ(select_target("cuda"), Target::cuda);
}

TEST(CudaLauncher, DeviceCountNeverFails) {
#if FERRY_HAVE_CUDA
  const int n = ferry::cuda::device_count();  // "no driver" or "no device" is 0, not an error
  EXPECT_EQ(n, cuda_device_count());
  if (n == 0) GTEST_SKIP() << "no CUDA device visible (device_count() returned 0 without crashing)";
#else
  EXPECT_EQ(cuda_device_count(), 0);
  GTEST_SKIP() << "ferry was built without CUDA";
#endif
}

}  // namespace
}  // namespace ferry::transform
