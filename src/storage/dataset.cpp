// Dataset::open and the layout-independent parts of the public Dataset API.
#include "ferry/dataset.hpp"

#include "core/hash.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "storage/dataset_common.hpp"
#include "storage/file_per_sample_dataset.hpp"
#include "storage/h5.hpp"
#include "storage/stacked_dataset.hpp"

namespace ferry {

const char* layout_name(Layout layout) noexcept {
  switch (layout) {
    case Layout::stacked:
      return "stacked";
    case Layout::file_per_sample:
      return "file_per_sample";
    case Layout::vlen:
      return "vlen";
  }
  return "unknown";
}

std::size_t FieldInfo::sample_elements() const noexcept {
  if (variable) return 0;
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

std::unique_ptr<Dataset> Dataset::open(const DatasetSpec& spec) {
  storage::h5_init();
  storage::validate_spec(spec);
  switch (spec.layout) {
    case Layout::stacked:
    case Layout::vlen:
      return std::make_unique<storage::StackedDataset>(spec);
    case Layout::file_per_sample:
      return std::make_unique<storage::FilePerSampleDataset>(spec);
  }
  throw DatasetError(str_cat(spec.files.front(), ": unknown layout"), spec.files.front(), "");
}

std::size_t Dataset::field_index(const std::string& name) const {
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) return i;
  }
  std::vector<std::string> names;
  for (const auto& f : fields_) names.push_back(f.name);
  throw DatasetError(str_cat("dataset has no field named '", name, "' (fields: ", join(names), ")"), "", "");
}

std::string Dataset::locate(std::size_t field, std::uint64_t id) const {
  return str_cat("dataset ", fields_.at(field).path, ", sample ", id);
}

std::string Dataset::changed_file() const {
  for (const FileStamp& f : files_at_open_)
    if (std::string change = storage::file_change(f); !change.empty()) return change;
  return {};
}

}  // namespace ferry

namespace ferry::storage {

void validate_spec(const DatasetSpec& spec) {
  if (spec.files.empty()) {
    throw DatasetError(str_cat("dataset spec (layout ", layout_name(spec.layout), ") lists no files"), "",
                       "");
  }
  const std::string& file = spec.files.front();
  if (spec.fields.empty()) {
    throw DatasetError(
        str_cat(file, ": dataset spec (layout ", layout_name(spec.layout), ") lists no fields"), file, "");
  }
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    const FieldSpec& f = spec.fields[i];
    if (f.name.empty() || f.path.empty()) {
      throw DatasetError(str_cat(file, ": field ", i, " needs both a name and a dataset path (name '", f.name,
                                 "', path '", f.path, "')"),
                         file, f.path);
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (spec.fields[j].name == f.name) {
        throw DatasetError(str_cat(file, ": field name '", f.name, "' is used twice (datasets ",
                                   spec.fields[j].path, " and ", f.path, ")"),
                           file, f.path);
      }
    }
  }
}

std::uint64_t dataset_fingerprint(Layout layout, const std::vector<FileStat>& files,
                                  const std::vector<FieldInfo>& fields, std::uint64_t samples) {
  Fingerprint fp;
  fp.add(layout_name(layout));
  fp.add(static_cast<std::uint64_t>(files.size()));
  for (const FileStat& f : files) {
    fp.add(f.absolute_path).add(f.size).add(static_cast<std::uint64_t>(f.mtime_ns));
  }
  fp.add(static_cast<std::uint64_t>(fields.size()));
  for (const FieldInfo& f : fields) {
    fp.add(f.name).add(f.path).add(dtype_name(f.dtype)).add(std::uint64_t{f.variable});
    fp.add(static_cast<std::uint64_t>(f.shape.size()));
    for (std::size_t d : f.shape) fp.add(static_cast<std::uint64_t>(d));
  }
  fp.add(samples);
  return fp.value();
}

std::string field_label(const FieldInfo& field) {
  return str_cat("field '", field.name, "' (dataset ", field.path, ")");
}

}  // namespace ferry::storage
