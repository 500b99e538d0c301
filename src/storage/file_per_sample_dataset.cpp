#include "storage/file_per_sample_dataset.hpp"

#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "storage/dataset_common.hpp"
#include "storage/file_list.hpp"
#include "storage/h5_open.hpp"
#include "storage/h5_types.hpp"
#include "storage/selection.hpp"

namespace ferry::storage {

FilePerSampleDataset::FilePerSampleDataset(const DatasetSpec& spec)
    : source_(spec.files.front()),
      files_(resolve_sample_files(spec.files)),
      cache_bytes_(spec.chunk_cache_bytes) {
  std::vector<FileStat> stats;
  stats.reserve(files_.size());
  for (const std::string& path : files_) stats.push_back(stat_regular_file(path));

  // The first file defines every field's shape and dtype; later files are checked when read.
  const std::string& first = files_.front();
  H5File file = open_h5_file(first);
  for (const FieldSpec& spec_field : spec.fields) {
    H5Dataset dataset = open_h5_dataset(file.get(), first, spec_field.path, cache_bytes_);
    const DatasetLayout found = inspect_dataset(dataset.get(), first, spec_field.path, false);
    FieldInfo info;
    info.name = spec_field.name;
    info.path = spec_field.path;
    info.dtype = found.dtype;
    info.shape.assign(found.dims.begin(), found.dims.end());
    if (info.sample_elements() == 0) {
      throw DatasetError(
          str_cat(first, ": dataset ", info.path, " is empty (shape ", shape_text(info.shape), ")"), first,
          info.path);
    }
    fields_.push_back(std::move(info));
  }
  size_ = files_.size();
  fingerprint_ = dataset_fingerprint(Layout::file_per_sample, stats, fields_, size_);
  files_at_open_ = std::move(stats);
  log::debug("opened file_per_sample dataset of {} files from {}", size_, source_);
}

const FieldInfo& FilePerSampleDataset::checked_field(std::size_t field) const {
  if (field >= fields_.size()) {
    throw DatasetError(
        str_cat(source_, ": no field index ", field, " (the dataset has ", fields_.size(), " fields)"),
        source_, "");
  }
  return fields_[field];
}

void FilePerSampleDataset::read(std::size_t field, std::span<const std::uint64_t> ids, std::byte* out) {
  const FieldInfo& info = checked_field(field);
  check_ids(ids, size_, source_, info.path);
  const std::size_t sample_bytes = info.sample_bytes();
  for (std::uint64_t id : ids) {
    const std::string& path = files_[id];
    H5File file = open_h5_file(path);
    H5Dataset dataset = open_h5_dataset(file.get(), path, info.path, cache_bytes_);
    const DatasetLayout found = inspect_dataset(dataset.get(), path, info.path, false);
    const std::vector<std::size_t> shape(found.dims.begin(), found.dims.end());
    if (shape != info.shape || found.dtype != info.dtype) {
      throw DatasetError(str_cat(path, ": dataset ", info.path, " has shape ", shape_text(shape), " ",
                                 dtype_name(found.dtype), " but the first file ", files_.front(), " has ",
                                 shape_text(info.shape), " ", dtype_name(info.dtype)),
                         path, info.path);
    }
    // The whole dataset is the sample: H5S_ALL on both sides reads it straight into place.
    FERRY_CHECK_H5(H5Dread(dataset.get(), native_type(info.dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT, out), path,
                   info.path);
    out += sample_bytes;
    counters_.read_calls += 1;
    counters_.selections += 1;
    counters_.samples += 1;
    counters_.bytes += sample_bytes;
  }
}

void FilePerSampleDataset::read_vlen(std::size_t field, std::span<const std::uint64_t>,
                                     std::vector<std::byte>&, std::vector<std::uint64_t>&) {
  const FieldInfo& info = checked_field(field);
  throw DatasetError(str_cat(source_, ": ", field_label(info), " has fixed-size samples; use read"), source_,
                     info.path);
}

}  // namespace ferry::storage
