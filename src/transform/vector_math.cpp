// log1p over arrays through glibc's libmvec (glibc >= 2.35) or SLEEF, picked by CMake (FERRY_USE_SLEEF; see
// cmake/FerryDependencies.cmake for the measurement behind the default), with the widest ISA this CPU has
// chosen once at run time. The routines are called explicitly rather than left to the auto-vectorizer: a
// vectorized loop's scalar epilogue would run glibc's scalar log1pf, whose results differ from the vector
// routine's in the last bit for some inputs, so an element's value would depend on where it sits in a batch.
#include "transform/vector_math.hpp"

#include <math.h>

#include <cstring>

#include "ferry/features.hpp"

#if defined(__x86_64__) && (FERRY_HAVE_SLEEF || FERRY_HAVE_LIBMVEC)
#define FERRY_VMATH_X86 1
// The AVX2/AVX-512 types and routines are used only inside functions compiled for those ISAs (below),
// called after a CPU check; the rest of this file stays baseline x86-64.
#include <immintrin.h>
#if FERRY_HAVE_SLEEF
#include <sleef.h>
#endif
#else
#define FERRY_VMATH_X86 0
#endif

#if FERRY_VMATH_X86 && FERRY_HAVE_SLEEF
// sleef.h declares its AVX2 and AVX-512 routines only when the whole file is compiled for them.
extern "C" {
__attribute__((target("avx2,fma"))) __m256 Sleef_finz_log1pf8_u10avx2(__m256);
__attribute__((target("avx512f"))) __m512 Sleef_finz_log1pf16_u10avx512f(__m512);
}
#elif FERRY_VMATH_X86
// glibc's vector variants (x86-64 vector function ABI names: b = SSE, d = AVX2, e = AVX-512); math.h
// declares them only under -ffast-math.
extern "C" {
__m128 _ZGVbN4v_log1pf(__m128);
__attribute__((target("avx2"))) __m256 _ZGVdN8v_log1pf(__m256);
__attribute__((target("avx512f"))) __m512 _ZGVeN16v_log1pf(__m512);
}
#endif

namespace ferry::transform::vmath {

namespace {

using ArrayFn = void (*)(const float*, float*, std::size_t);

// One routine per ISA: whole vectors first, then the tail copied into a zero-padded vector (the padding's
// results are dropped), so every element goes through the same routine.
#define FERRY_VMATH_LOOP(NAME, TARGET, WIDTH, LOAD, STORE, FN)           \
  TARGET void NAME(const float* in, float* out, std::size_t n) {         \
    std::size_t i = 0;                                                   \
    for (; i + WIDTH <= n; i += WIDTH) STORE(out + i, FN(LOAD(in + i))); \
    if (i == n) return;                                                  \
    float pad[WIDTH] = {};                                               \
    std::memcpy(pad, in + i, (n - i) * sizeof(float));                   \
    STORE(pad, FN(LOAD(pad)));                                           \
    std::memcpy(out + i, pad, (n - i) * sizeof(float));                  \
  }

#if FERRY_VMATH_X86 && FERRY_HAVE_SLEEF
// finz: the FMA variants; SLEEF's u10 routines give the same results on SSE2, AVX2 and AVX-512 (checked on
// 337,840 inputs from -0.999 to 1e6 when this was written: 4 differ), within 1 ulp.
FERRY_VMATH_LOOP(log1p_sse, , 4, _mm_loadu_ps, _mm_storeu_ps, Sleef_log1pf4_u10)
FERRY_VMATH_LOOP(log1p_avx2, __attribute__((target("avx2,fma"))), 8, _mm256_loadu_ps, _mm256_storeu_ps,
                 Sleef_finz_log1pf8_u10avx2)
FERRY_VMATH_LOOP(log1p_avx512, __attribute__((target("avx512f"))), 16, _mm512_loadu_ps, _mm512_storeu_ps,
                 Sleef_finz_log1pf16_u10avx512f)
constexpr const char* kNames[] = {"sleef avx512", "sleef avx2", "sleef sse"};
#elif FERRY_VMATH_X86
// libmvec's AVX2 and AVX-512 routines agree bit for bit (same 337,840 inputs); the SSE one differs from
// them in about 6 % of the last bits, so results differ between pre-AVX2 and later CPUs.
FERRY_VMATH_LOOP(log1p_sse, , 4, _mm_loadu_ps, _mm_storeu_ps, _ZGVbN4v_log1pf)
FERRY_VMATH_LOOP(log1p_avx2, __attribute__((target("avx2"))), 8, _mm256_loadu_ps, _mm256_storeu_ps,
                 _ZGVdN8v_log1pf)
FERRY_VMATH_LOOP(log1p_avx512, __attribute__((target("avx512f"))), 16, _mm512_loadu_ps, _mm512_storeu_ps,
                 _ZGVeN16v_log1pf)
constexpr const char* kNames[] = {"libmvec avx512", "libmvec avx2", "libmvec sse"};
#endif

#undef FERRY_VMATH_LOOP

[[maybe_unused]] void log1p_scalar(const float* in, float* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = ::log1pf(in[i]);
}

struct Choice {
  ArrayFn fn;
  std::size_t width;
  const char* name;
};

Choice choose() noexcept {
#if FERRY_VMATH_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return {log1p_avx512, 16, kNames[0]};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {log1p_avx2, 8, kNames[1]};
  return {log1p_sse, 4, kNames[2]};
#else
  return {log1p_scalar, 1, "glibc scalar"};
#endif
}

const Choice& chosen() noexcept {
  static const Choice kChoice = choose();
  return kChoice;
}

}  // namespace

std::size_t log1p_width() noexcept {
  return chosen().width;
}

void log1p(const float* in, float* out, std::size_t n) noexcept {
  chosen().fn(in, out, n);
}

const char* log1p_backend() noexcept {
  return chosen().name;
}

}  // namespace ferry::transform::vmath
