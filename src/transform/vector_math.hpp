// Vectorized math over float arrays for the host kernels, where the compiler cannot vectorize a loop on its
// own because the loop calls libm (glibc's scalar log1pf was 53 % of `ferry local` on CosmoFlow data).
// Host only: the CUDA launcher keeps the element functors of kernels_elementwise.hpp.
#pragma once

#include <cstddef>

namespace ferry::transform::vmath {

// Elements per call of the vector routine on this CPU (4, 8 or 16); log1p pads a tail to this width.
std::size_t log1p_width() noexcept;

// out[i] = log1p(in[i]) for i in [0, n); in == out is allowed. An element's result depends on its value
// only, never on its position or on n (a tail is padded and goes through the same vector routine), so a
// batch prepared whole and one prepared sample by sample hold the same bytes. Accuracy: within 2 ulp of the
// correctly rounded result for every input > -1 (libmvec); SLEEF's is 1 ulp on [-1, 1e38] but returns inf
// above 1e38 and 0 for subnormal inputs. tests/transform/test_vector_math.cpp asserts these bounds.
void log1p(const float* in, float* out, std::size_t n) noexcept;

// The implementation log1p runs on this CPU, e.g. "libmvec avx512", "sleef avx2", "glibc scalar".
const char* log1p_backend() noexcept;

}  // namespace ferry::transform::vmath
