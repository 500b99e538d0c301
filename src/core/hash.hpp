// Hashing for fingerprints, permutation keys and counter-based random numbers. All functions are pure, so a
// value derived from (seed, epoch, sample ID) is the same on every rank and every run.
#pragma once

#include <cstdint>
#include <string_view>

#if defined(KOKKOS_INLINE_FUNCTION)
#define FERRY_HD KOKKOS_INLINE_FUNCTION
#elif defined(__CUDACC__)
#define FERRY_HD __host__ __device__ inline
#else
#define FERRY_HD inline
#endif

namespace ferry {

// SplitMix64 finalizer: a bijective 64-bit mixer with full avalanche.
FERRY_HD constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

FERRY_HD constexpr std::uint64_t hash_combine(std::uint64_t seed, std::uint64_t value) noexcept {
  return mix64(seed ^ (mix64(value) + 0x632be59bd9b4e019ULL + (seed << 6) + (seed >> 2)));
}

// Uniform float in [0, 1) from 64 random bits (top 24 bits).
FERRY_HD constexpr float unit_float(std::uint64_t bits) noexcept {
  return static_cast<float>(bits >> 40) * (1.0f / 16777216.0f);
}

// Incremental 64-bit fingerprint over strings and integers (FNV-1a over bytes, then mixed).
class Fingerprint {
 public:
  Fingerprint& add(std::string_view text) noexcept {
    for (unsigned char c : text) state_ = (state_ ^ c) * 0x100000001b3ULL;
    state_ = (state_ ^ 0xff) * 0x100000001b3ULL;  // separator so ("ab","c") != ("a","bc")
    return *this;
  }
  Fingerprint& add(std::uint64_t value) noexcept {
    state_ = hash_combine(state_, value);
    return *this;
  }
  std::uint64_t value() const noexcept { return mix64(state_); }

 private:
  std::uint64_t state_ = 0xcbf29ce484222325ULL;
};

}  // namespace ferry
