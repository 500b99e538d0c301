#include "loader/skipped_samples.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/check.hpp"

namespace ferry::loader {

void positions_of(std::span<const std::size_t> skipped, std::span<const std::size_t> slot,
                  std::vector<std::size_t>& positions) {
  if (skipped.empty()) return;
  for (std::size_t i = 0; i < slot.size(); ++i)
    if (std::binary_search(skipped.begin(), skipped.end(), slot[i])) positions.push_back(i);
}

std::size_t drop_samples(Batch& batch, std::vector<std::size_t>& drop, std::span<std::byte* const> writable,
                         std::span<std::vector<std::uint64_t>> offsets) {
  if (drop.empty()) return 0;
  std::sort(drop.begin(), drop.end());
  drop.erase(std::unique(drop.begin(), drop.end()), drop.end());
  const std::size_t n = batch.ids.size();
  FERRY_ENFORCE(drop.back() < n, "dropping position ", drop.back(), " of a batch of ", n);
  const std::size_t kept = n - drop.size();
  // keep(i): the position of the i-th sample that stays.
  std::vector<std::size_t> keep;
  keep.reserve(kept);
  for (std::size_t i = 0, d = 0; i < n; ++i) {
    if (d < drop.size() && drop[d] == i)
      ++d;
    else
      keep.push_back(i);
  }
  for (std::size_t k = 0; k < kept; ++k) batch.ids[k] = batch.ids[keep[k]];
  batch.ids.resize(kept);
  for (std::size_t f = 0; f < batch.fields.size(); ++f) {
    BatchField& field = batch.fields[f];
    std::byte* data = writable[f];
    FERRY_ENFORCE(field.data == data && !field.on_device(), "field '", field.name,
                  "' is not in host memory the batch owns");
    if (field.variable()) {
      std::vector<std::uint64_t>& off = offsets[f];
      std::uint64_t end = 0;
      for (std::size_t k = 0; k < kept; ++k) {
        const std::uint64_t from = off[keep[k]], len = off[keep[k] + 1] - from;
        std::memmove(data + end, data + from, len);
        off[k] = end;
        end += len;
      }
      off[kept] = end;
      off.resize(kept + 1);
      field.offsets = off.data();
      field.bytes = end;
      field.shape = {kept};
      continue;
    }
    const std::size_t size = n == 0 ? 0 : field.bytes / n;
    for (std::size_t k = 0; k < kept; ++k)
      if (keep[k] != k) std::memmove(data + k * size, data + keep[k] * size, size);
    field.bytes = kept * size;
    field.shape[0] = kept;
  }
  return drop.size();
}

void print_skipped(const std::string& pipeline, std::uint64_t epoch, std::uint64_t skipped) {
  if (skipped == 0) return;
  std::printf("ferry: pipeline '%s' epoch %llu: %llu sample(s) skipped (bad_samples = skip)\n",
              pipeline.c_str(), static_cast<unsigned long long>(epoch),
              static_cast<unsigned long long>(skipped));
}

}  // namespace ferry::loader
