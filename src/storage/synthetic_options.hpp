// Helpers every synthetic writer (synthetic.cpp, synthetic_encoded.cpp) shares for its options: the checks
// common to all kinds, kind defaults for zero sizes, and progress reports. Internal to storage/.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "storage/synthetic.hpp"

namespace ferry::synthetic {

inline void check_common(const GenOptions& o) {
  if (o.out.empty()) throw ConfigError("synthetic data: --out is required");
  if (o.samples == 0) throw ConfigError("synthetic data: --samples must be at least 1");
  if (o.deflate < 0 || o.deflate > 9)
    throw ConfigError(str_cat("synthetic data: --deflate ", o.deflate, " is not in 0..9"));
}

inline std::size_t or_default(std::size_t value, std::size_t fallback) {
  return value == 0 ? fallback : value;
}

inline void report(const GenOptions& o, std::uint64_t done) {
  if (o.progress) o.progress(done, o.samples);
}

}  // namespace ferry::synthetic
