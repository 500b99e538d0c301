// A prepared sample as it travels between roles and sits in a cache slab: its fields back to back, in
// dataset field order, each variable-length field prefixed by its length as a varint. A pipeline whose
// fields are all fixed-size has entries of one size (EntryLayout::bytes) and is cacheable; the randomizer
// can then reserve a slab slot before the sample is read.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "loader/sample_processor.hpp"
#include "roles/wire.hpp"

namespace ferry::roles {

struct EntryLayout {
  bool fixed = true;                   // all fields fixed-size
  std::uint64_t bytes = 0;             // entry size when fixed
  std::vector<std::uint64_t> sizes;    // per field: prepared sample bytes (0 for a variable field)
  std::vector<std::uint64_t> offsets;  // per field: offset inside a fixed entry
};

EntryLayout entry_layout(const loader::SampleProcessor& processor);

// Reads and prepares `ids` (ascending, distinct) and writes their entries; entry i is
// out[starts[i], starts[i+1]). Scratch buffers live in the builder: one builder per thread.
class EntryBuilder {
 public:
  explicit EntryBuilder(loader::SampleProcessor& processor);
  void build(std::span<const std::uint64_t> ids, std::vector<std::byte>& out,
             std::vector<std::uint64_t>& starts);

 private:
  loader::SampleProcessor& processor_;
  EntryLayout layout_;
  std::vector<std::vector<std::byte>> field_bytes_;     // per field: prepared samples, or vlen bytes
  std::vector<std::vector<std::uint64_t>> vlen_sizes_;  // per variable field
};

// The bytes of field `field` inside one entry.
std::span<const std::byte> entry_field(const EntryLayout& layout, std::span<const std::byte> entry,
                                       std::size_t field);

}  // namespace ferry::roles
