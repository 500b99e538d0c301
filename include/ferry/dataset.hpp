// Datasets: HDF5 files in one of three layouts, described by a DatasetSpec. Guide: docs/datasets.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ferry/dtype.hpp"

namespace ferry {

enum class Layout {
  stacked,          // fields are datasets whose first dimension is the sample index (files concatenate)
  file_per_sample,  // every HDF5 file holds one sample; fields are dataset paths inside each file
  vlen,             // like stacked, and the first field is a 1-D variable-length uint8 dataset
};

const char* layout_name(Layout layout) noexcept;

struct FieldSpec {
  std::string name;  // what the user calls it ("image", "label")
  std::string path;  // HDF5 dataset path inside the file ("/images", "climate/data")
};

struct DatasetSpec {
  Layout layout = Layout::stacked;
  // stacked / vlen: one or more files whose samples are concatenated in this order.
  // file_per_sample: a directory (its *.h5 / *.hdf5 files, sorted by name), a list file (one path a line,
  // relative paths against the list's directory), or the sample files themselves.
  std::vector<std::string> files;
  std::vector<FieldSpec> fields;
  std::size_t chunk_cache_bytes = std::size_t{16} << 20;  // HDF5 raw-data chunk cache per open dataset
};

struct FieldInfo {
  std::string name;
  std::string path;
  DType dtype = DType::u8;         // native type the samples are converted to on read
  std::vector<std::size_t> shape;  // per-sample shape (without the sample axis); empty for a scalar
  bool variable = false;           // variable-length bytes (vlen layout): shape is empty, dtype u8
  std::size_t sample_elements() const noexcept;
  std::size_t sample_bytes() const noexcept { return sample_elements() * dtype_size(dtype); }
};

// One of a dataset's files as open() found it.
struct FileStamp {
  std::string absolute_path;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;  // modification time, nanoseconds since the epoch
};

// What a Dataset has read so far (for stats and tests that count HDF5 traffic).
struct ReadCounters {
  std::uint64_t read_calls = 0;  // reads of one field from one file (an H5Dread, or one per run: storage)
  std::uint64_t selections = 0;  // contiguous runs of IDs selected
  std::uint64_t samples = 0;
  std::uint64_t bytes = 0;  // payload bytes delivered
};

class Dataset {
 public:
  // Opens and validates the files and fields; throws DatasetError naming the file and dataset path.
  static std::unique_ptr<Dataset> open(const DatasetSpec& spec);
  virtual ~Dataset() = default;
  Dataset(const Dataset&) = delete;  // polymorphic, owns open HDF5 handles: held by unique_ptr
  Dataset& operator=(const Dataset&) = delete;

  std::uint64_t size() const noexcept { return size_; }
  const std::vector<FieldInfo>& fields() const noexcept { return fields_; }
  // Index of the field named `name`; throws DatasetError when there is none.
  std::size_t field_index(const std::string& name) const;
  // Identifies the data for the cache: paths, shapes, dtypes, file sizes and modification times.
  std::uint64_t fingerprint() const noexcept { return fingerprint_; }
  // The first of the dataset's files that was rewritten (size or modification time) or is gone since open(),
  // as "PATH (what happened)"; empty when none was. stat(2)s every file: call it at epoch boundaries.
  std::string changed_file() const;
  const ReadCounters& counters() const noexcept { return counters_; }

  // Reads fixed-size field `field` of the samples `ids` (strictly increasing, < size()) into `out`:
  // sample i lands at out + i * fields()[field].sample_bytes(). Consecutive IDs are read as one selection.
  virtual void read(std::size_t field, std::span<const std::uint64_t> ids, std::byte* out) = 0;
  // Where sample `id` of `field` is stored, for messages: "data.h5: dataset /jpeg, sample 17".
  virtual std::string locate(std::size_t field, std::uint64_t id) const;
  // Reads variable-length field `field`: appends each sample's bytes to `out` and its length to `sizes`.
  virtual void read_vlen(std::size_t field, std::span<const std::uint64_t> ids, std::vector<std::byte>& out,
                         std::vector<std::uint64_t>& sizes) = 0;

 protected:
  Dataset() = default;
  std::uint64_t size_ = 0;
  std::vector<FieldInfo> fields_;
  std::uint64_t fingerprint_ = 0;
  std::vector<FileStamp> files_at_open_;  // for changed_file()
  ReadCounters counters_;
};

}  // namespace ferry
