// StackedDataset: opening its files and checking them against the fields, field checks, locating a sample,
// the chunk cache; the reads are in stacked_read.cpp.
#include "storage/stacked_dataset.hpp"

#include <optional>
#include <string>
#include <vector>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "storage/dataset_common.hpp"
#include "storage/file_list.hpp"
#include "storage/h5_open.hpp"

namespace ferry::storage {

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
