// IDX files (the MNIST / Fashion-MNIST format): a big-endian header, magic 0x000008RR (unsigned bytes,
// rank RR), RR big-endian uint32 dimensions, then the bytes. Read plain or gzip-compressed through zlib.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ferry/dataset.hpp"
#include "storage/h5_writer.hpp"

namespace ferry::storage {

struct IdxArray {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> data;  // row-major, dims[0] * dims[1] * ... bytes
};

// Reads an unsigned-byte IDX array of rank `rank` (3 for images, 1 for labels). Throws DatasetError naming
// the file for a missing file, a bad magic number, a wrong rank, a zero dimension or truncated data.
IdxArray read_idx(const std::string& path, int rank);

struct ImportResult {
  std::uint64_t samples = 0;
  std::uint64_t file_bytes = 0;
  DatasetSpec spec;  // stacked: "image" /images [N,rows,cols] u8, "label" /labels [N] u8
};

// Converts an IDX image file and its IDX label file into one stacked HDF5 file at `out`.
// `progress` (may be empty) is called with (samples written, total) as the images are written in blocks.
ImportResult import_idx(const std::string& images, const std::string& labels, const std::string& out,
                        const WriteOptions& options,
                        const std::function<void(std::uint64_t, std::uint64_t)>& progress = {});

}  // namespace ferry::storage
