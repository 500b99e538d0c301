// Offsets inside one cache server's registered slab. The randomizer keeps one allocator per server; the
// server itself never allocates, it copies an insert to the offset it is told.
//
// Free space is a set of disjoint, coalesced blocks indexed twice: by offset (to merge a released range
// with its free neighbours) and by (length, offset) (best fit, lowest offset among equal lengths, so the
// layout is deterministic). allocate and release are O(log F) for F free blocks.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace ferry::cache {

class SlabAllocator {
 public:
  // Offsets and reserved lengths are multiples of this: a cache line, and what RDMA NICs read fastest.
  static constexpr std::uint64_t kAlignment = 64;

  // Manages [0, usable()) where usable() is `capacity` rounded down to kAlignment.
  explicit SlabAllocator(std::uint64_t capacity);

  // The range an entry of `bytes` occupies: rounded up to kAlignment, at least kAlignment (so two entries
  // never share an offset). `bytes` must be <= usable(); larger entries never fit.
  static constexpr std::uint64_t reserved_size(std::uint64_t bytes) noexcept {
    return bytes == 0 ? kAlignment : ((bytes - 1) / kAlignment + 1) * kAlignment;
  }

  // Offset of a free range of reserved_size(bytes), or nullopt when no free block is large enough.
  std::optional<std::uint64_t> allocate(std::uint64_t bytes);
  // Reserves exactly [offset, offset + reserved_size(bytes)), which must be free: a directory rebuilt from
  // another's entries (a randomizer's handover) puts each entry back where it is in the slab. false when
  // any of the range is in use or it is not aligned or not inside the slab.
  bool reserve(std::uint64_t offset, std::uint64_t bytes);
  // Returns a range allocate gave out; `bytes` is the size passed to allocate. Releasing a range that is
  // (partly) free already is a bug and throws InternalError.
  void release(std::uint64_t offset, std::uint64_t bytes);
  // Everything free again (the server's entries were dropped).
  void reset();

  std::uint64_t capacity() const noexcept { return capacity_; }
  std::uint64_t usable() const noexcept { return usable_; }
  std::uint64_t used() const noexcept { return used_; }
  std::uint64_t free_bytes() const noexcept { return usable_ - used_; }
  std::uint64_t largest_free() const noexcept;
  std::size_t free_blocks() const noexcept { return by_offset_.size(); }

 private:
  void add_free(std::uint64_t offset, std::uint64_t length);
  void remove_free(std::map<std::uint64_t, std::uint64_t>::iterator block);

  std::uint64_t capacity_;
  std::uint64_t usable_;
  std::uint64_t used_ = 0;
  std::map<std::uint64_t, std::uint64_t> by_offset_;           // free block offset -> length
  std::set<std::pair<std::uint64_t, std::uint64_t>> by_size_;  // (length, offset) of every free block
};

}  // namespace ferry::cache
