#include "core/prefault.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>

namespace ferry {

double prefault(void* data, std::size_t bytes, Prefault how) noexcept {
  const auto t0 = std::chrono::steady_clock::now();
  if (data != nullptr && bytes != 0) {
    const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
    const auto begin = reinterpret_cast<std::uintptr_t>(data) & ~(page - 1);
    const auto end = reinterpret_cast<std::uintptr_t>(data) + bytes;
#if defined(MADV_POPULATE_READ) && defined(MADV_POPULATE_WRITE)
    const int advice = how == Prefault::write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ;
    const bool done = madvise(reinterpret_cast<void*>(begin), end - begin, advice) == 0;
#else
    const bool done = false;
#endif
    if (!done) {
      // An older kernel (EINVAL), or a mapping madvise does not populate: touch one byte of every page.
      const auto first = reinterpret_cast<std::uintptr_t>(data);
      for (std::uintptr_t at = begin; at < end; at += page) {
        auto* p = reinterpret_cast<volatile unsigned char*>(at < first ? first : at);
        const unsigned char v = *p;
        if (how == Prefault::write) *p = v;
      }
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace ferry
