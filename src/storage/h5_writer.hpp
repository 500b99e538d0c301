// Writing HDF5 files: what ferry-gen, ferry-import and the tests use to make datasets. A file is written
// under "<path>.part" and renamed into place by commit(), so an interrupted run never leaves a file that
// looks complete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ferry/dtype.hpp"
#include "storage/h5.hpp"
#include "storage/h5_types.hpp"

namespace ferry::storage {

struct WriteOptions {
  std::uint64_t chunk_samples = 0;  // chunk extent along the first axis; 0: contiguous (or auto with deflate)
  int deflate = 0;                  // 0..9; > 0 needs chunking, so a chunk of about 1 MiB is picked if unset
};

class H5Writer {
 public:
  explicit H5Writer(std::string path);  // creates "<path>.part"; parent directories must exist
  H5Writer(H5Writer&&) noexcept = default;
  H5Writer& operator=(H5Writer&&) noexcept = default;
  ~H5Writer();  // without commit(): closes and removes the partial file

  const std::string& path() const noexcept { return path_; }
  hid_t get() const noexcept { return file_.get(); }

  // Creates dataset `name` (parent groups as needed) of `dims` stored as `file_type` (e.g. H5T_STD_I16BE).
  H5Dataset create(const std::string& name, hid_t file_type, std::span<const hsize_t> dims,
                   const WriteOptions& options = {});
  // Writes samples [first, first + count) (along the first axis) from native memory of type `mem_type`.
  void write_samples(hid_t dataset, const std::string& name, hid_t mem_type, std::uint64_t first,
                     std::uint64_t count, const void* data);
  // Writes variable-length byte samples starting at `first` into a dataset created with vlen_u8_type().
  void write_vlen_samples(hid_t dataset, const std::string& name, std::uint64_t first,
                          std::span<const std::vector<std::uint8_t>> samples);

  // One call for a whole array: create + write. `file_type` defaults to the native type of T.
  template <typename T>
  void write_array(const std::string& name, std::span<const T> data, std::span<const hsize_t> dims,
                   const WriteOptions& options = {}, hid_t file_type = H5I_INVALID_HID);

  // Closes the file and renames it to path(); returns its size in bytes.
  std::uint64_t commit();

 private:
  std::string path_;
  std::string part_;
  H5File file_;
};

// A vlen-of-native-uint8 datatype (owned).
H5Type vlen_u8_type(const std::string& file, const std::string& dataset);

// Native HDF5 memory type and DType for the C++ element types Ferry writes.
template <typename T>
constexpr DType dtype_for() noexcept {
  if constexpr (std::is_same_v<T, std::uint8_t>)
    return DType::u8;
  else if constexpr (std::is_same_v<T, std::int8_t>)
    return DType::i8;
  else if constexpr (std::is_same_v<T, std::uint16_t>)
    return DType::u16;
  else if constexpr (std::is_same_v<T, std::int16_t>)
    return DType::i16;
  else if constexpr (std::is_same_v<T, std::uint32_t>)
    return DType::u32;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return DType::i32;
  else if constexpr (std::is_same_v<T, std::uint64_t>)
    return DType::u64;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return DType::i64;
  else if constexpr (std::is_same_v<T, float>)
    return DType::f32;
  else {
    static_assert(std::is_same_v<T, double>, "Ferry writes integer and float arrays only");
    return DType::f64;
  }
}

template <typename T>
void H5Writer::write_array(const std::string& name, std::span<const T> data, std::span<const hsize_t> dims,
                           const WriteOptions& options, hid_t file_type) {
  const hid_t mem = native_type(dtype_for<T>());
  H5Dataset dataset = create(name, file_type < 0 ? mem : file_type, dims, options);
  write_samples(dataset.get(), name, mem, 0, dims.empty() ? 1 : dims[0], data.data());
}

}  // namespace ferry::storage
