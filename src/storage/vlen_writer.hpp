// Writes a vlen-layout file sample by sample: a 1-D variable-length uint8 dataset of encoded samples and a
// /labels int32 dataset beside it, flushed in blocks of about 32 MiB. ferry-gen (vlen, jpeg) and
// ferry-import (images) use it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/h5_writer.hpp"

namespace ferry::storage {

class VlenWriter {
 public:
  // Creates `path` with `samples` rows in dataset `bytes_name` (e.g. "/images") and "/labels".
  VlenWriter(const std::string& path, const std::string& bytes_name, std::uint64_t samples,
             const WriteOptions& options);

  // Appends the next sample; its bytes are taken.
  void add(std::vector<std::uint8_t> bytes, std::int32_t label);
  std::uint64_t written() const noexcept { return next_; }
  std::uint64_t payload_bytes() const noexcept { return payload_; }
  H5Writer& file() noexcept { return file_; }
  // Flushes, checks that every row was written, closes and renames the file; returns its size.
  std::uint64_t commit();

 private:
  void flush();

  H5Writer file_;
  std::string bytes_name_;
  std::uint64_t samples_;
  H5Dataset bytes_, labels_;
  std::vector<std::vector<std::uint8_t>> pending_;
  std::vector<std::int32_t> pending_labels_;
  std::uint64_t pending_bytes_ = 0, first_ = 0, next_ = 0, payload_ = 0;
};

}  // namespace ferry::storage
