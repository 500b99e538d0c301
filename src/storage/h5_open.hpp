// Opening HDF5 files and datasets for reading, with the checks that give one-line errors.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ferry/dtype.hpp"
#include "storage/h5.hpp"

namespace ferry::storage {

// Opens an existing HDF5 file read-only. Missing paths, directories, garbage and truncated files all
// throw DatasetError naming the file.
H5File open_h5_file(const std::string& path);

// Opens dataset `path` in `file` (named `file_name` in errors) with a raw-data chunk cache of
// `chunk_cache_bytes` (0 turns the cache off). A missing path throws "file: no dataset /x".
H5Dataset open_h5_dataset(hid_t file, const std::string& file_name, const std::string& path,
                          std::size_t chunk_cache_bytes);

// What a dataset holds: element type and full dimensions (empty for a scalar dataspace).
struct DatasetLayout {
  DType dtype = DType::u8;
  bool variable = false;  // vlen uint8 (only when expected)
  std::vector<hsize_t> dims;
};

// Reads type and dataspace of an open dataset. `expect_vlen`: the type must be vlen uint8 (the first field
// of the vlen layout); otherwise it must be an integer or float type.
DatasetLayout inspect_dataset(hid_t dataset, const std::string& file_name, const std::string& path,
                              bool expect_vlen);

// "[28, 28]" for error messages.
std::string shape_text(const std::vector<std::size_t>& shape);

}  // namespace ferry::storage
