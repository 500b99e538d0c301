// StackedDataset's reads: fixed-size samples (read: one H5Dread of the union of runs, or one per run for
// samples of many rows) and variable-length ones (read_vlen), each file part by part.
#include <algorithm>
#include <cstring>
#include <iterator>
#include <span>
#include <vector>

#include "core/log.hpp"
#include "storage/h5.hpp"
#include "storage/h5_types.hpp"
#include "storage/selection.hpp"
#include "storage/stacked_dataset.hpp"

namespace ferry::storage {
namespace {

// Rows of the innermost axis per sample above which a stacked field is read an H5Dread per run (read()).
constexpr std::size_t kUnionRows = 256;

}  // namespace

template <typename Fn>
void StackedDataset::for_each_part(std::span<const std::uint64_t> ids, Fn&& fn) {
  std::size_t begin = 0;
  while (begin < ids.size()) {
    // The part holding ids[begin]: the last one whose first ID is <= it.
    auto it = std::upper_bound(parts_.begin(), parts_.end(), ids[begin],
                               [](std::uint64_t id, const Part& p) { return id < p.first; });
    Part& part = *std::prev(it);
    std::size_t end = begin;
    while (end < ids.size() && ids[end] < part.first + part.count) ++end;
    if (part.open) {
      fn(part, *part.open, ids.subspan(begin, end - begin));
    } else {
      OpenFile temporary = open_file(part.path);
      fn(part, temporary, ids.subspan(begin, end - begin));
    }
    begin = end;
  }
}

void StackedDataset::read(std::size_t field, std::span<const std::uint64_t> ids, std::byte* out) {
  const FieldInfo& info = checked_field(field, false);
  check_ids(ids, size_, parts_.back().path, info.path);
  const std::size_t sample_bytes = info.sample_bytes();
  // HDF5's selection code is slow on a union of blocks of many rows (the profile shows H5S internals) and
  // fast on a single block: a sample of many rows (224x224x3: 50,176 rows of 3 bytes) is read as an
  // H5Dread per run of IDs (h5py, 16 random samples: 0.27 CPU-ms a sample as one union, 0.044 a block
  // each), a sample of few rows (28x28) as one H5Dread of the union (64 random samples: 0.006 CPU-ms a
  // sample, 0.030 a block each).
  std::size_t rows = 1;
  for (std::size_t d = 0; d + 1 < info.shape.size(); ++d) rows *= info.shape[d];
  const bool block_each = rows > kUnionRows;
  for_each_part(ids, [&](const Part& part, OpenFile& file, std::span<const std::uint64_t> part_ids) {
    const hid_t dataset = file.datasets[field].get();
    const std::vector<IdRun> runs = make_runs(part_ids, part.first);
    if (!block_each) {
      H5Space file_space = select_runs(dataset, runs, part.path, info.path);
      H5Space mem_space = memory_space(part_ids.size(), info.shape, part.path, info.path);
      FERRY_CHECK_H5(
          H5Dread(dataset, native_type(info.dtype), mem_space.get(), file_space.get(), H5P_DEFAULT, out),
          part.path, info.path);
      out += part_ids.size() * sample_bytes;
    } else {
      RunSelector file_space(dataset, part.path, info.path);
      for (const IdRun& run : runs) {
        file_space.select(run, H5S_SELECT_SET);
        H5Space mem_space = memory_space(run.count, info.shape, part.path, info.path);
        FERRY_CHECK_H5(H5Dread(dataset, native_type(info.dtype), mem_space.get(), file_space.space.get(),
                               H5P_DEFAULT, out),
                       part.path, info.path);
        out += run.count * sample_bytes;
      }
    }
    counters_.selections += runs.size();
    counters_.read_calls += 1;
    counters_.samples += part_ids.size();
    counters_.bytes += part_ids.size() * sample_bytes;
  });
}

namespace {

// Frees the buffers HDF5 allocated for a vlen read, whatever happens while they are copied out.
class VlenReclaim {
 public:
  VlenReclaim(hid_t type, hid_t space, void* buffer) noexcept : type_(type), space_(space), buffer_(buffer) {}
  VlenReclaim(const VlenReclaim&) = delete;
  VlenReclaim& operator=(const VlenReclaim&) = delete;
  ~VlenReclaim() {
    if (H5Dvlen_reclaim(type_, space_, H5P_DEFAULT, buffer_) < 0) {
      log::warn("H5Dvlen_reclaim failed: {}", h5_error_stack());
    }
  }

 private:
  hid_t type_;
  hid_t space_;
  void* buffer_;
};

}  // namespace

void StackedDataset::read_vlen(std::size_t field, std::span<const std::uint64_t> ids,
                               std::vector<std::byte>& out, std::vector<std::uint64_t>& sizes) {
  const FieldInfo& info = checked_field(field, true);
  check_ids(ids, size_, parts_.back().path, info.path);
  for_each_part(ids, [&](const Part& part, OpenFile& file, std::span<const std::uint64_t> part_ids) {
    const std::vector<IdRun> runs = make_runs(part_ids, part.first);
    H5Space file_space = select_runs(file.datasets[field].get(), runs, part.path, info.path);
    H5Space mem_space = memory_space(part_ids.size(), {}, part.path, info.path);
    H5Type mem_type(FERRY_CHECK_H5(H5Tvlen_create(H5T_NATIVE_UINT8), part.path, info.path));
    std::vector<hvl_t> buffer(part_ids.size());
    FERRY_CHECK_H5(H5Dread(file.datasets[field].get(), mem_type.get(), mem_space.get(), file_space.get(),
                           H5P_DEFAULT, buffer.data()),
                   part.path, info.path);
    VlenReclaim reclaim(mem_type.get(), mem_space.get(), buffer.data());
    std::uint64_t bytes = 0;
    for (const hvl_t& sample : buffer) bytes += sample.len;
    const std::size_t at = out.size();
    out.resize(at + bytes);
    std::byte* dst = out.data() + at;
    for (const hvl_t& sample : buffer) {
      if (sample.len > 0) std::memcpy(dst, sample.p, sample.len);
      dst += sample.len;
      sizes.push_back(sample.len);
    }
    counters_.read_calls += 1;
    counters_.selections += runs.size();
    counters_.samples += part_ids.size();
    counters_.bytes += bytes;
  });
}

}  // namespace ferry::storage
