// CUDA teardown codes (src/transform/cuda/check_cuda.hpp) without a GPU: FERRY_REPORT_CUDA is what device
// and NCCL-link teardown use where nothing may throw (issue 15: the codes used to be ignored). The first
// failure prints one line naming the call and CUDA's text; later ones stay quiet (after a sticky error every
// call fails); success prints nothing. cudaGetErrorString needs no device.
#include <gtest/gtest.h>

#include "transform/cuda/check_cuda.hpp"

namespace {

cudaError_t returns(cudaError_t rc) {
  return rc;
}

TEST(CudaTeardown, FirstFailureIsOneLineNamingTheCallLaterOnesAreQuiet) {
  testing::internal::CaptureStderr();
  FERRY_REPORT_CUDA(returns(cudaSuccess));
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");

  testing::internal::CaptureStderr();
  FERRY_REPORT_CUDA(returns(cudaErrorInvalidResourceHandle));
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "ferry: returns(cudaErrorInvalidResourceHandle) failed during teardown: invalid resource handle "
            "(later teardown failures are not shown)\n");

  testing::internal::CaptureStderr();
  FERRY_REPORT_CUDA(returns(cudaErrorInvalidValue));
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

// FERRY_CHECK_CUDA names the function called (detail::throw_cuda keeps what is before the parenthesis).
TEST(CudaTeardown, CheckThrowsTransportErrorNamingTheCall) {
  try {
    FERRY_CHECK_CUDA(returns(cudaErrorMemoryAllocation));
    FAIL() << "no exception";
  } catch (const ferry::TransportError& e) {
    EXPECT_NE(std::string(e.what()).find("returns failed: out of memory"), std::string::npos) << e.what();
  }
}

}  // namespace
