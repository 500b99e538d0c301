// Stacked and vlen layouts: every field is a dataset whose first axis is the sample index; several files
// concatenate their samples in order. In the vlen layout the first field holds variable-length bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ferry/dataset.hpp"
#include "storage/h5.hpp"

namespace ferry::storage {

class StackedDataset final : public Dataset {
 public:
  explicit StackedDataset(const DatasetSpec& spec);

  void read(std::size_t field, std::span<const std::uint64_t> ids, std::byte* out) override;
  void read_vlen(std::size_t field, std::span<const std::uint64_t> ids, std::vector<std::byte>& out,
                 std::vector<std::uint64_t>& sizes) override;
  std::string locate(std::size_t field, std::uint64_t id) const override;

  // Chunk cache size HDF5 reports for a field's dataset in the first file (tests check the spec reached it).
  std::size_t chunk_cache_bytes(std::size_t field) const;

 private:
  // Beyond this many files, handles are opened per read instead of kept, to stay clear of fd limits.
  static constexpr std::size_t kKeepOpenFiles = 64;

  struct OpenFile {
    H5File file;
    std::vector<H5Dataset> datasets;  // one per field
  };
  struct Part {
    std::string path;
    std::uint64_t first = 0;  // global ID of this file's sample 0
    std::uint64_t count = 0;
    std::optional<OpenFile> open;
  };

  OpenFile open_file(const std::string& path) const;
  void add_part(const std::string& path, OpenFile file, bool keep);
  const FieldInfo& checked_field(std::size_t field, bool variable) const;

  // Calls fn(part, open file, ids of that part) for each file that holds some of `ids` (sorted).
  template <typename Fn>
  void for_each_part(std::span<const std::uint64_t> ids, Fn&& fn);

  Layout layout_;
  std::size_t cache_bytes_;
  std::vector<FieldSpec> specs_;
  std::vector<Part> parts_;
};

}  // namespace ferry::storage
