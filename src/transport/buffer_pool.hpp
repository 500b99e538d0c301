// Received message payloads kept for reuse. A message's payload is a std::vector of its own, allocated for
// every message received (its slot in the reorder buffer) and freed once it was handled. Buffers above
// malloc's mmap threshold come back from the kernel as fresh pages, and the first write to each page is a
// page fault, which can cost more than copying the page (14 us a 4 KiB page against 0.06 us to write it on
// the 2-core development VM of 2026-12-06, perf/results/2026-12-06-buffers). The pool keeps the payloads
// that were handled, up to a byte budget, and hands the smallest one large enough to the next message, so a
// rank that receives the same sizes again and again writes into resident memory.
// Not thread-safe: the Fabric's thread uses it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace ferry::transport {

class BufferPool {
 public:
  // Payloads below this are left to malloc (its bins reuse them without the kernel).
  static constexpr std::size_t kMinBytes = 4096;

  struct Stats {
    std::uint64_t taken = 0;       // take() calls for kMinBytes or more
    std::uint64_t reused = 0;      // of those, served by a kept buffer
    std::uint64_t kept_bytes = 0;  // capacity held now
    std::uint64_t peak_kept_bytes = 0;
  };

  explicit BufferPool(std::uint64_t budget_bytes = 0) : budget_(budget_bytes) {}

  // A vector of exactly `bytes` zero bytes, reusing the smallest kept buffer whose capacity holds them and is
  // at most twice theirs rounded to a size class (a small payload does not take a large buffer).
  std::vector<std::byte> take(std::size_t bytes);
  // Keeps `buffer` for a later take() when it is kMinBytes or more and fits the budget; frees it otherwise
  // (what is kept stays: a pool full of one size keeps that size). Never throws.
  void give(std::vector<std::byte>&& buffer) noexcept;

  // Capacity the pool may hold; 0 keeps nothing. Lowering it frees what no longer fits.
  void set_budget(std::uint64_t bytes) noexcept;
  const Stats& stats() const noexcept { return stats_; }

 private:
  std::uint64_t budget_;
  std::multimap<std::size_t, std::vector<std::byte>> kept_;  // by capacity
  Stats stats_;
};

}  // namespace ferry::transport
