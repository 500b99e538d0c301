// Samples whose shape varies from one to the next (decoded images, [H, W, C] each), back to back with their
// shapes: what a chain that ends in a per-sample shape writes (Chain::run_shaped). The chain that continues
// it reads SampleRefs (Chain::run_variable with shapes): the samples where they lie, so a receiver need not
// gather them first. The movable augment head sends them from a
// transformation rank to the consumer (docs/heterogeneous.md, "The movable head").
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace ferry::transform {

// One sample of a per-sample shape where it lies: `bytes` bytes at `data`, shape dims[0, rank).
struct SampleRef {
  const std::byte* data = nullptr;
  std::size_t bytes = 0;
  const std::size_t* dims = nullptr;
};

struct ShapedSamples {
  std::size_t rank = 0;                   // dimensions per sample
  std::vector<std::byte> bytes;           // sample i is bytes[offsets[i], offsets[i + 1])
  std::vector<std::uint64_t> offsets{0};  // size() + 1 of them
  std::vector<std::size_t> dims;          // sample i's shape is dims[i * rank, (i + 1) * rank)

  std::size_t size() const noexcept { return offsets.size() - 1; }
  // Empties it for samples of `rank` dimensions; capacity stays, so a batch after the first allocates
  // nothing.
  void reset(std::size_t new_rank) {
    rank = new_rank;
    bytes.clear();
    offsets.assign(1, 0);
    dims.clear();
  }
  // Keeps the first `count` samples (a run that failed part-way drops what it appended).
  void truncate(std::size_t count) {
    bytes.resize(offsets[count]);
    offsets.resize(count + 1);
    dims.resize(count * rank);
  }
  // Appends a sample of shape `shape` and `size` bytes; returns where its bytes go (valid until the next
  // append).
  std::byte* append(std::span<const std::size_t> shape, std::size_t size) {
    dims.insert(dims.end(), shape.begin(), shape.end());
    const std::size_t at = bytes.size();
    bytes.resize(at + size);
    offsets.push_back(bytes.size());
    return bytes.data() + at;
  }
  std::span<const std::size_t> shape(std::size_t i) const noexcept { return {dims.data() + i * rank, rank}; }
  std::span<const std::byte> sample(std::size_t i) const noexcept {
    return {bytes.data() + offsets[i], offsets[i + 1] - offsets[i]};
  }
  // Every sample as a SampleRef (valid while these samples are not appended to).
  std::vector<SampleRef> refs() const {
    std::vector<SampleRef> out(size());
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = {bytes.data() + offsets[i], offsets[i + 1] - offsets[i], dims.data() + i * rank};
    return out;
  }
};

}  // namespace ferry::transform
