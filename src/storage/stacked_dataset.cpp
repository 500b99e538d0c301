#include "storage/stacked_dataset.hpp"

#include <algorithm>
#include <cstring>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "storage/dataset_common.hpp"
#include "storage/file_list.hpp"
#include "storage/h5_open.hpp"
#include "storage/h5_types.hpp"
#include "storage/selection.hpp"

namespace ferry::storage {
namespace {

// Rows of the innermost axis per sample above which a stacked field is read an H5Dread per run (read()).
constexpr std::size_t kUnionRows = 256;

}  // namespace

StackedDataset::StackedDataset(const DatasetSpec& spec)
    : layout_(spec.layout), cache_bytes_(spec.chunk_cache_bytes), specs_(spec.fields) {
  std::vector<FileStat> stats;
  const bool keep = spec.files.size() <= kKeepOpenFiles;
  for (const std::string& path : spec.files) {
    stats.push_back(stat_regular_file(path));
    add_part(path, open_file(path), keep);
  }
  fingerprint_ = dataset_fingerprint(layout_, stats, fields_, size_);
  files_at_open_ = std::move(stats);
  log::debug("opened {} dataset of {} samples in {} file(s)", layout_name(layout_), size_, parts_.size());
}

StackedDataset::OpenFile StackedDataset::open_file(const std::string& path) const {
  OpenFile f;
  f.file = open_h5_file(path);
  for (const FieldSpec& field : specs_) {
    f.datasets.push_back(open_h5_dataset(f.file.get(), path, field.path, cache_bytes_));
  }
  return f;
}

// Validates one file against the fields (the first file defines them) and appends it to the ID space.
void StackedDataset::add_part(const std::string& path, OpenFile file, bool keep) {
  const bool first_file = parts_.empty();
  std::uint64_t count = 0;
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    const FieldSpec& spec = specs_[i];
    const bool vlen_field = layout_ == Layout::vlen && i == 0;
    const DatasetLayout found = inspect_dataset(file.datasets[i].get(), path, spec.path, vlen_field);
    if (found.dims.empty()) {
      throw DatasetError(
          str_cat(path, ": dataset ", spec.path, " is zero-dimensional; the ", layout_name(layout_),
                  " layout needs the sample index as its first dimension"),
          path, spec.path);
    }
    if (vlen_field && found.dims.size() != 1) {
      throw DatasetError(str_cat(path, ": dataset ", spec.path, " has ", found.dims.size(),
                                 " dimensions; the vlen layout needs a 1-D variable-length dataset"),
                         path, spec.path);
    }
    if (found.dims[0] == 0) {
      throw DatasetError(str_cat(path, ": dataset ", spec.path, " is empty (0 samples)"), path, spec.path);
    }
    if (i == 0) {
      count = found.dims[0];
    } else if (found.dims[0] != count) {
      throw DatasetError(str_cat(path, ": datasets ", specs_[0].path, " (", count, " samples) and ",
                                 spec.path, " (", found.dims[0], " samples) differ in sample count"),
                         path, spec.path);
    }
    FieldInfo info;
    info.name = spec.name;
    info.path = spec.path;
    info.dtype = found.dtype;
    info.variable = found.variable;
    info.shape.assign(found.dims.begin() + 1, found.dims.end());
    if (first_file) {
      fields_.push_back(std::move(info));
    } else if (info.shape != fields_[i].shape || info.dtype != fields_[i].dtype) {
      throw DatasetError(str_cat(path, ": dataset ", spec.path, " has samples of ", shape_text(info.shape),
                                 " ", dtype_name(info.dtype), " but ", parts_.front().path, " has ",
                                 shape_text(fields_[i].shape), " ", dtype_name(fields_[i].dtype)),
                         path, spec.path);
    }
  }
  Part part;
  part.path = path;
  part.first = size_;
  part.count = count;
  if (keep) part.open = std::move(file);
  parts_.push_back(std::move(part));
  size_ += count;
}

const FieldInfo& StackedDataset::checked_field(std::size_t field, bool variable) const {
  const std::string& file = parts_.front().path;
  if (field >= fields_.size()) {
    throw DatasetError(
        str_cat(file, ": no field index ", field, " (the dataset has ", fields_.size(), " fields)"), file,
        "");
  }
  const FieldInfo& info = fields_[field];
  if (info.variable != variable) {
    throw DatasetError(str_cat(file, ": ", field_label(info),
                               info.variable ? " holds variable-length bytes; use read_vlen"
                                             : " has fixed-size samples; use read"),
                       file, info.path);
  }
  return info;
}

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

std::string StackedDataset::locate(std::size_t field, std::uint64_t id) const {
  for (const Part& part : parts_) {
    if (id >= part.first && id - part.first < part.count) {
      const std::string row =
          part.first ? str_cat(" (row ", id - part.first, " of the file)") : std::string();
      return str_cat(part.path, ": dataset ", fields_.at(field).path, ", sample ", id, row);
    }
  }
  return Dataset::locate(field, id);
}

std::size_t StackedDataset::chunk_cache_bytes(std::size_t field) const {
  const Part& part = parts_.front();
  std::optional<OpenFile> temporary;
  const OpenFile& file = part.open ? *part.open : temporary.emplace(open_file(part.path));
  H5Plist dapl(
      FERRY_CHECK_H5(H5Dget_access_plist(file.datasets.at(field).get()), part.path, fields_[field].path));
  std::size_t slots = 0, bytes = 0;
  double w0 = 0;
  FERRY_CHECK_H5(H5Pget_chunk_cache(dapl.get(), &slots, &bytes, &w0), part.path, fields_[field].path);
  return bytes;
}

}  // namespace ferry::storage
