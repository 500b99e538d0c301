#include "cache/slab_allocator.hpp"

#include <iterator>

#include "core/check.hpp"

namespace ferry::cache {

SlabAllocator::SlabAllocator(std::uint64_t capacity)
    : capacity_(capacity), usable_(capacity / kAlignment * kAlignment) {
  reset();
}

void SlabAllocator::reset() {
  by_offset_.clear();
  by_size_.clear();
  used_ = 0;
  if (usable_ > 0) add_free(0, usable_);
}

std::uint64_t SlabAllocator::largest_free() const noexcept {
  return by_size_.empty() ? 0 : by_size_.rbegin()->first;
}

std::optional<std::uint64_t> SlabAllocator::allocate(std::uint64_t bytes) {
  if (bytes > usable_) return std::nullopt;  // also keeps reserved_size from overflowing
  const std::uint64_t length = reserved_size(bytes);
  auto fit = by_size_.lower_bound({length, 0});
  if (fit == by_size_.end()) return std::nullopt;
  const auto [block_length, offset] = *fit;
  remove_free(by_offset_.find(offset));
  // Keep the block's head, hand the tail back: entries pack from the low end of each block.
  if (block_length > length) add_free(offset + length, block_length - length);
  used_ += length;
  return offset;
}

bool SlabAllocator::reserve(std::uint64_t offset, std::uint64_t bytes) {
  if (bytes > usable_) return false;
  const std::uint64_t length = reserved_size(bytes);
  if (offset % kAlignment != 0 || offset > usable_ || length > usable_ - offset) return false;
  // The free block that starts at or before the range must cover all of it.
  auto block = by_offset_.upper_bound(offset);
  if (block == by_offset_.begin()) return false;
  block = std::prev(block);
  const auto [start, block_length] = *block;
  if (start + block_length < offset + length) return false;
  remove_free(block);
  if (offset > start) add_free(start, offset - start);
  if (start + block_length > offset + length)
    add_free(offset + length, start + block_length - offset - length);
  used_ += length;
  return true;
}

void SlabAllocator::release(std::uint64_t offset, std::uint64_t bytes) {
  FERRY_ENFORCE(bytes <= usable_, "release of ", bytes, " bytes from a slab of ", usable_);
  const std::uint64_t length = reserved_size(bytes);
  FERRY_ENFORCE(offset % kAlignment == 0 && offset <= usable_ && length <= usable_ - offset, "release of ",
                length, " bytes at offset ", offset, " outside the slab of ", usable_, " bytes");
  std::uint64_t start = offset;
  std::uint64_t end = offset + length;
  FERRY_ENFORCE(used_ >= length, "release of ", length, " bytes with only ", used_, " in use");

  // The free blocks around the range: the one starting at or after it, and the one before that.
  auto next = by_offset_.lower_bound(start);
  FERRY_ENFORCE(next == by_offset_.end() || next->first >= end, "release of [", start, ", ", end,
                ") overlaps the free block at ", next == by_offset_.end() ? 0 : next->first);
  if (next != by_offset_.begin()) {
    auto prev = std::prev(next);
    FERRY_ENFORCE(prev->first + prev->second <= start, "release of [", start, ", ", end,
                  ") overlaps the free block at ", prev->first);
    if (prev->first + prev->second == start) {
      start = prev->first;
      remove_free(prev);
    }
  }
  if (next != by_offset_.end() && next->first == end) {
    end += next->second;
    remove_free(next);
  }
  used_ -= length;
  add_free(start, end - start);
}

void SlabAllocator::add_free(std::uint64_t offset, std::uint64_t length) {
  by_offset_.emplace(offset, length);
  by_size_.emplace(length, offset);
}

void SlabAllocator::remove_free(std::map<std::uint64_t, std::uint64_t>::iterator block) {
  by_size_.erase({block->second, block->first});
  by_offset_.erase(block);
}

}  // namespace ferry::cache
