// file_per_sample layout (DeepCAM, CosmoFlow): every HDF5 file holds one sample; fields are dataset paths
// inside each file. Only the first file is opened at open(); the others are stat'ed for the fingerprint
// and opened when read, since such datasets can have 10^5 files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ferry/dataset.hpp"

namespace ferry::storage {

class FilePerSampleDataset final : public Dataset {
 public:
  explicit FilePerSampleDataset(const DatasetSpec& spec);

  void read(std::size_t field, std::span<const std::uint64_t> ids, std::byte* out) override;
  // No field of this layout is variable-length: always throws DatasetError naming the field.
  void read_vlen(std::size_t field, std::span<const std::uint64_t> ids, std::vector<std::byte>& out,
                 std::vector<std::uint64_t>& sizes) override;

  const std::vector<std::string>& files() const noexcept { return files_; }

 private:
  const FieldInfo& checked_field(std::size_t field) const;

  std::string source_;  // what the spec named (directory, list file or first sample file), for messages
  std::vector<std::string> files_;
  std::size_t cache_bytes_;
};

}  // namespace ferry::storage
