#include "transport/buffer_pool.hpp"

#include <algorithm>
#include <bit>
#include <iterator>
#include <utility>

namespace ferry::transport {

namespace {

// A new buffer's capacity: `bytes` rounded up to a step of an eighth of its power of two, at least a page
// (kMinBytes), so that messages of about one size (a batch's entries plus headers of a few bytes more or
// less) fit each other's buffers; at most 1/8 more memory from 32 KiB on.
std::size_t size_class(std::size_t bytes) {
  const std::size_t step = std::max(BufferPool::kMinBytes, std::bit_floor(bytes) / 8);
  return (bytes + step - 1) / step * step;
}

}  // namespace

std::vector<std::byte> BufferPool::kept_for(std::size_t bytes) {
  ++stats_.taken;
  const auto best = kept_.lower_bound(bytes);  // the smallest capacity that holds them
  if (best == kept_.end() || best->first > 2 * size_class(bytes)) {
    std::vector<std::byte> out;
    out.reserve(size_class(bytes));
    return out;
  }
  std::vector<std::byte> out = std::move(best->second);
  kept_.erase(best);
  stats_.kept_bytes -= out.capacity();
  ++stats_.reused;
  return out;
}

std::vector<std::byte> BufferPool::take(std::size_t bytes) {
  if (bytes < kMinBytes) return std::vector<std::byte>(bytes);
  std::vector<std::byte> out = kept_for(bytes);
  // Within the capacity: no allocation, and a kept buffer's pages were written before, so none faults.
  // resize() zero fills them: a slot released without data (a failed receive) holds no other message's bytes.
  out.resize(bytes);
  return out;
}

std::vector<std::byte> BufferPool::copy_of(std::span<const std::byte> bytes) {
  if (bytes.size() < kMinBytes) return {bytes.begin(), bytes.end()};
  std::vector<std::byte> out = kept_for(bytes.size());
  out.assign(bytes.begin(), bytes.end());  // within the capacity: one pass, no zero fill before it
  return out;
}

void BufferPool::give(std::vector<std::byte>&& buffer) noexcept {
  const std::size_t capacity = buffer.capacity();
  if (capacity < kMinBytes || stats_.kept_bytes + capacity > budget_) return;  // freed with the caller's
  buffer.clear();
  try {
    kept_.emplace(capacity, std::move(buffer));
  } catch (...) {  // no memory for the map's node: the buffer is freed with the caller's vector
    return;
  }
  stats_.kept_bytes += capacity;
  stats_.peak_kept_bytes = std::max(stats_.peak_kept_bytes, stats_.kept_bytes);
}

void BufferPool::set_budget(std::uint64_t bytes) noexcept {
  budget_ = bytes;
  while (!kept_.empty() && stats_.kept_bytes > budget_) {  // the largest go first
    auto last = std::prev(kept_.end());
    stats_.kept_bytes -= last->first;
    kept_.erase(last);
  }
}

}  // namespace ferry::transport
