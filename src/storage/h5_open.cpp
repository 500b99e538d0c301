#include "storage/h5_open.hpp"

#include <algorithm>

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "storage/file_list.hpp"
#include "storage/h5_types.hpp"

namespace ferry::storage {

H5File open_h5_file(const std::string& path) {
  h5_init();
  stat_regular_file(path);  // clearer messages than HDF5's for missing files and directories
  return H5File(FERRY_CHECK_H5(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path, ""));
}

namespace {

// H5Lexists fails (rather than answering false) when a parent group is missing, so check each prefix. It
// also fails when the parent is not a group (a dataset on the way: also "no dataset"); any other failure is
// an error of the file itself (I/O, a corrupt file), which throws naming it instead of calling it missing.
bool dataset_path_exists(hid_t file, const std::string& file_name, const std::string& path) {
  std::string prefix = path.starts_with('/') ? "/" : "", parent = prefix.empty() ? "." : prefix;
  for (const auto& part : split(path, '/')) {
    if (part.empty()) continue;
    prefix += part;
    const htri_t exists = H5Lexists(file, prefix.c_str(), H5P_DEFAULT);
    if (exists == 0) return false;
    if (exists < 0) {
      H5Eclear2(H5E_DEFAULT);
      const hid_t group = H5Gopen2(file, parent.c_str(), H5P_DEFAULT);
      if (group < 0) {
        H5Eclear2(H5E_DEFAULT);
        return false;
      }
      H5Gclose(group);
      FERRY_CHECK_H5(H5Lexists(file, prefix.c_str(), H5P_DEFAULT), file_name, path);  // the error, named
      return false;
    }
    parent = prefix;
    prefix += '/';
  }
  return true;
}

// Hash slots for the chunk cache: HDF5 wants a prime about 100 times the number of chunks that fit; we
// assume chunks of at least 64 KiB, so bytes / 640 slots is enough, and a prime limits collisions.
std::size_t chunk_cache_slots(std::size_t bytes) {
  std::size_t n = std::max<std::size_t>(521, bytes / 640);
  auto is_prime = [](std::size_t v) {
    for (std::size_t d = 2; d * d <= v; ++d) {
      if (v % d == 0) return false;
    }
    return true;
  };
  while (!is_prime(n)) ++n;
  return n;
}

}  // namespace

H5Dataset open_h5_dataset(hid_t file, const std::string& file_name, const std::string& path,
                          std::size_t chunk_cache_bytes) {
  if (path.empty() || !dataset_path_exists(file, file_name, path)) {
    throw DatasetError(str_cat(file_name, ": no dataset ", path.empty() ? "(empty path)" : path), file_name,
                       path);
  }
  H5Plist dapl(FERRY_CHECK_H5(H5Pcreate(H5P_DATASET_ACCESS), file_name, path));
  // w0 = 0.75 (HDF5's default): fully read chunks are evicted first, as a sorted batch rarely returns.
  FERRY_CHECK_H5(
      H5Pset_chunk_cache(dapl.get(), chunk_cache_slots(chunk_cache_bytes), chunk_cache_bytes, 0.75),
      file_name, path);
  return H5Dataset(FERRY_CHECK_H5(H5Dopen2(file, path.c_str(), dapl.get()), file_name, path));
}

DatasetLayout inspect_dataset(hid_t dataset, const std::string& file_name, const std::string& path,
                              bool expect_vlen) {
  DatasetLayout out;
  H5Type type(FERRY_CHECK_H5(H5Dget_type(dataset), file_name, path));
  if (expect_vlen) {
    if (!is_vlen_u8(type.get())) {
      throw DatasetError(str_cat(file_name, ": dataset ", path, " has type ", describe_type(type.get()),
                                 "; the vlen layout needs its first field to be variable-length uint8"),
                         file_name, path);
    }
    out.variable = true;
    out.dtype = DType::u8;
  } else {
    out.dtype = dtype_of(type.get(), file_name, path);
  }
  H5Space space(FERRY_CHECK_H5(H5Dget_space(dataset), file_name, path));
  const H5S_class_t cls = H5Sget_simple_extent_type(space.get());
  if (cls == H5S_NULL) {
    throw DatasetError(str_cat(file_name, ": dataset ", path, " has a null dataspace (no data)"), file_name,
                       path);
  }
  const int rank = FERRY_CHECK_H5(H5Sget_simple_extent_ndims(space.get()), file_name, path);
  out.dims.resize(static_cast<std::size_t>(rank));
  if (rank > 0)
    FERRY_CHECK_H5(H5Sget_simple_extent_dims(space.get(), out.dims.data(), nullptr), file_name, path);
  return out;
}

std::string shape_text(const std::vector<std::size_t>& shape) {
  return str_cat("[", join(shape), "]");
}

}  // namespace ferry::storage
