// Message payloads kept for reuse: each message received gets a std::vector of its own (its slot in the
// reorder buffer), freed once it was handled, and so does the copy send() makes of each message sent, freed
// once the backend sent it. Buffers above malloc's mmap threshold come back from the kernel as fresh pages,
// and the first write to each page is a page fault, which can cost more than copying the page (14 us a 4 KiB
// page against 0.06 us to write it on the 2-core development VM of 2026-12-06,
// perf/results/2026-12-06-buffers). The pool keeps handled payloads and sent copies, up to a byte budget, and
// hands the smallest one large enough to the next message, so a rank that receives or sends the same sizes
// again and again writes into resident memory.
// Not thread-safe: the Fabric's thread uses it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <vector>

namespace ferry::transport {

class BufferPool {
 public:
  // Payloads below this are left to malloc (its bins reuse them without the kernel).
  static constexpr std::size_t kMinBytes = 4096;

  struct Stats {
    std::uint64_t taken = 0;       // take() and copy_of() calls for kMinBytes or more
    std::uint64_t reused = 0;      // of those, served by a kept buffer
    std::uint64_t kept_bytes = 0;  // capacity held now
    std::uint64_t peak_kept_bytes = 0;
  };

  explicit BufferPool(std::uint64_t budget_bytes = 0) : budget_(budget_bytes) {}

  // A vector of exactly `bytes` zero bytes, reusing the smallest kept buffer whose capacity holds them and is
  // at most twice theirs rounded to a size class (a small payload does not take a large buffer).
  std::vector<std::byte> take(std::size_t bytes);
  // A copy of `bytes` (send()'s) in a kept buffer where one fits, as for take(); no zero fill before it.
  std::vector<std::byte> copy_of(std::span<const std::byte> bytes);
  // Keeps `buffer` for a later take() or copy_of() when it is kMinBytes or more and fits the budget; leaves
  // it to the caller's vector otherwise (what is kept stays: a pool full of one size keeps that size). Never
  // throws.
  void give(std::vector<std::byte>&& buffer) noexcept;

  // Capacity the pool may hold; 0 keeps nothing. Lowering it frees what no longer fits.
  void set_budget(std::uint64_t bytes) noexcept;
  const Stats& stats() const noexcept { return stats_; }

 private:
  // The kept buffer take() and copy_of() use (empty, its capacity at least `bytes`), or a new one reserved
  // to bytes' size class; counts the call.
  std::vector<std::byte> kept_for(std::size_t bytes);

  std::uint64_t budget_;
  std::multimap<std::size_t, std::vector<std::byte>> kept_;  // by capacity
  Stats stats_;
};

}  // namespace ferry::transport
