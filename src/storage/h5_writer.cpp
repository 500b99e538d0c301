#include "storage/h5_writer.hpp"

#include <algorithm>
#include <filesystem>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::storage {

H5Writer::H5Writer(std::string path) : path_(std::move(path)), part_(path_ + ".part") {
  h5_init();
  const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
    throw DatasetError(str_cat(path_, ": cannot create: directory ", parent.string(), " does not exist"),
                       path_, "");
  }
  file_ =
      H5File(FERRY_CHECK_H5(H5Fcreate(part_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), part_, ""));
}

H5Writer::~H5Writer() {
  if (!file_) return;
  file_.reset();
  std::error_code ec;
  std::filesystem::remove(part_, ec);
  if (ec) log::warn("could not remove partial file {}: {}", part_, ec.message());
}

H5Dataset H5Writer::create(const std::string& name, hid_t file_type, std::span<const hsize_t> dims,
                           const WriteOptions& options) {
  H5Space space(FERRY_CHECK_H5(dims.empty()
                                   ? H5Screate(H5S_SCALAR)
                                   : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                               path_, name));
  H5Plist lcpl(FERRY_CHECK_H5(H5Pcreate(H5P_LINK_CREATE), path_, name));
  FERRY_CHECK_H5(H5Pset_create_intermediate_group(lcpl.get(), 1), path_, name);
  H5Plist dcpl(FERRY_CHECK_H5(H5Pcreate(H5P_DATASET_CREATE), path_, name));
  std::uint64_t chunk = options.chunk_samples;
  if (chunk == 0 && options.deflate > 0 && !dims.empty()) {
    // Deflate needs chunks: take about 1 MiB of samples per chunk.
    std::uint64_t sample_bytes = H5Tget_size(file_type);
    for (std::size_t i = 1; i < dims.size(); ++i) sample_bytes *= dims[i];
    chunk = std::max<std::uint64_t>(1, (std::uint64_t{1} << 20) / std::max<std::uint64_t>(1, sample_bytes));
  }
  if (chunk > 0 && !dims.empty()) {
    std::vector<hsize_t> chunk_dims(dims.begin(), dims.end());
    chunk_dims[0] = std::min<hsize_t>(chunk, std::max<hsize_t>(1, dims[0]));
    for (hsize_t& d : chunk_dims) d = std::max<hsize_t>(d, 1);
    FERRY_CHECK_H5(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk_dims.size()), chunk_dims.data()), path_,
                   name);
    if (options.deflate > 0) FERRY_CHECK_H5(H5Pset_deflate(dcpl.get(), options.deflate), path_, name);
  }
  return H5Dataset(FERRY_CHECK_H5(
      H5Dcreate2(file_.get(), name.c_str(), file_type, space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
      path_, name));
}

void H5Writer::write_samples(hid_t dataset, const std::string& name, hid_t mem_type, std::uint64_t first,
                             std::uint64_t count, const void* data) {
  H5Space file_space(FERRY_CHECK_H5(H5Dget_space(dataset), path_, name));
  const int rank = FERRY_CHECK_H5(H5Sget_simple_extent_ndims(file_space.get()), path_, name);
  if (rank == 0) {
    FERRY_CHECK_H5(H5Dwrite(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), path_, name);
    return;
  }
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  FERRY_CHECK_H5(H5Sget_simple_extent_dims(file_space.get(), dims.data(), nullptr), path_, name);
  std::vector<hsize_t> start(dims.size(), 0);
  start[0] = first;
  dims[0] = count;
  FERRY_CHECK_H5(
      H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, dims.data(), nullptr),
      path_, name);
  H5Space mem_space(FERRY_CHECK_H5(H5Screate_simple(rank, dims.data(), nullptr), path_, name));
  FERRY_CHECK_H5(H5Dwrite(dataset, mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, data), path_,
                 name);
}

void H5Writer::write_vlen_samples(hid_t dataset, const std::string& name, std::uint64_t first,
                                  std::span<const std::vector<std::uint8_t>> samples) {
  std::vector<hvl_t> buffer(samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    buffer[i].len = samples[i].size();
    // HDF5 only reads through p on write; the cast drops const for its C signature.
    buffer[i].p = const_cast<std::uint8_t*>(samples[i].data());
  }
  H5Type mem_type = vlen_u8_type(path_, name);
  write_samples(dataset, name, mem_type.get(), first, samples.size(), buffer.data());
}

std::uint64_t H5Writer::commit() {
  FERRY_CHECK_H5(H5Fflush(file_.get(), H5F_SCOPE_GLOBAL), part_, "");
  // Close explicitly (not in a destructor) so that a failed close is an error here, not a log line.
  std::error_code ec;
  if (H5Fclose(file_.release()) < 0) {
    std::filesystem::remove(part_, ec);
    throw_h5("H5Fclose", part_, "");
  }
  std::filesystem::rename(part_, path_, ec);
  if (ec)
    throw DatasetError(str_cat(path_, ": cannot rename ", part_, " into place: ", ec.message()), path_, "");
  const std::uintmax_t size = std::filesystem::file_size(path_, ec);
  return ec ? 0 : size;
}

H5Type vlen_u8_type(const std::string& file, const std::string& dataset) {
  return H5Type(FERRY_CHECK_H5(H5Tvlen_create(H5T_NATIVE_UINT8), file, dataset));
}

}  // namespace ferry::storage
