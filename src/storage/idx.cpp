#include "storage/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::storage {

namespace {

constexpr std::uint8_t kIdxUnsignedByte = 0x08;
// gzread takes an unsigned count; read in pieces well below its limit.
constexpr std::size_t kReadPiece = std::size_t{1} << 30;

// Owns a zlib file handle; gzopen also reads files that are not compressed.
class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    if (!file_) {
      const int err = errno;
      throw DatasetError(str_cat(path, ": cannot open: ", err ? std::strerror(err) : "out of memory"), path,
                         "");
    }
  }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;
  ~GzFile() {
    if (gzclose(file_) != Z_OK) log::warn("closing {} failed", path_);
  }

  // Reads up to `size` bytes; returns how many arrived (fewer only at end of file).
  std::size_t read(void* out, std::size_t size) {
    std::size_t done = 0;
    while (done < size) {
      const std::size_t piece = std::min(size - done, kReadPiece);
      const int got = gzread(file_, static_cast<char*>(out) + done, static_cast<unsigned>(piece));
      if (got < 0) {
        int code = 0;
        const char* text = gzerror(file_, &code);
        throw DatasetError(str_cat(path_, ": read failed: ", text ? text : "zlib error"), path_, "");
      }
      if (got == 0) break;
      done += static_cast<std::size_t>(got);
    }
    return done;
  }

 private:
  std::string path_;
  gzFile file_;
};

std::uint32_t big_endian_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

IdxArray read_idx(const std::string& path, int rank) {
  GzFile file(path);
  std::uint8_t magic[4] = {};
  if (file.read(magic, 4) != 4) throw DatasetError(str_cat(path, ": truncated IDX header"), path, "");
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != kIdxUnsignedByte) {
    char found[16];
    std::snprintf(found, sizeof found, "0x%08x", static_cast<unsigned>(big_endian_u32(magic)));
    throw DatasetError(
        str_cat(path, ": not an unsigned-byte IDX file (magic ", found, ", expected 0x0000080", rank, ")"),
        path, "");
  }
  if (magic[3] != rank) {
    throw DatasetError(str_cat(path, ": IDX file has ", int{magic[3]}, " dimensions, expected ", rank), path,
                       "");
  }
  IdxArray out;
  std::uint64_t elements = 1;
  for (int i = 0; i < rank; ++i) {
    std::uint8_t raw[4] = {};
    if (file.read(raw, 4) != 4) throw DatasetError(str_cat(path, ": truncated IDX header"), path, "");
    const std::uint32_t dim = big_endian_u32(raw);
    if (dim == 0) throw DatasetError(str_cat(path, ": IDX dimension ", i, " is zero"), path, "");
    out.dims.push_back(dim);
    elements *= dim;
    if (elements > (std::uint64_t{1} << 40)) {
      throw DatasetError(str_cat(path, ": IDX dimensions are implausibly large"), path, "");
    }
  }
  out.data.resize(elements);
  const std::size_t got = file.read(out.data.data(), out.data.size());
  if (got != out.data.size()) {
    throw DatasetError(str_cat(path, ": truncated IDX data: expected ", elements, " bytes, found ", got),
                       path, "");
  }
  return out;
}

ImportResult import_idx(const std::string& images, const std::string& labels, const std::string& out,
                        const WriteOptions& options,
                        const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  const IdxArray image_array = read_idx(images, 3);
  const IdxArray label_array = read_idx(labels, 1);
  const std::uint64_t n = image_array.dims[0];
  if (label_array.dims[0] != n) {
    throw DatasetError(
        str_cat(labels, ": holds ", label_array.dims[0], " labels but ", images, " holds ", n, " images"),
        labels, "");
  }
  H5Writer file(out);
  const hsize_t image_dims[] = {n, image_array.dims[1], image_array.dims[2]};
  const hsize_t label_dims[] = {n};
  {
    // Images in blocks, so a long import can show progress.
    H5Dataset dataset = file.create("/images", H5T_NATIVE_UINT8, image_dims, options);
    const std::uint64_t per = image_array.dims[1] * image_array.dims[2];
    constexpr std::uint64_t kBlock = 4096;
    for (std::uint64_t first = 0; first < n; first += kBlock) {
      const std::uint64_t count = std::min(kBlock, n - first);
      file.write_samples(dataset.get(), "/images", H5T_NATIVE_UINT8, first, count,
                         image_array.data.data() + first * per);
      if (progress) progress(first + count, n);
    }
  }
  file.write_array<std::uint8_t>("/labels", label_array.data, label_dims, options);
  ImportResult r;
  r.samples = n;
  r.file_bytes = file.commit();
  r.spec.layout = Layout::stacked;
  r.spec.files = {out};
  r.spec.fields = {{"image", "/images"}, {"label", "/labels"}};
  return r;
}

}  // namespace ferry::storage
