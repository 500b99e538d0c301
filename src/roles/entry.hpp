// A prepared sample as it travels between roles and sits in a cache slab: its fields back to back, in
// dataset field order, each variable-length field prefixed by its length as a varint. A pipeline whose
// fields are all fixed-size has entries of one size (EntryLayout::bytes): the randomizer can reserve a slab
// slot before the sample is read. A variable-length entry's size is known once the sample was read; the
// randomizer learns it from the transformer and reserves at the sample's next miss (docs/cache.md,
// "Variable entries").
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
  // Per field, past the head only: its head ends in a per-sample shape, and the field (variable, length
  // prefixed) holds a roles::ShapedSample: the sample's shape and bytes (roles/shaped_sample.hpp).
  std::vector<bool> shaped;
};

// `past_head`: the layout of an entry whose fields went through their augment head on a transformation
// rank (each field as SampleProcessor::past_head describes it; docs/heterogeneous.md, "The movable head").
EntryLayout entry_layout(const loader::SampleProcessor& processor, bool past_head = false);
// Whether a pipeline's augment head may run on the transformation ranks: it is movable, and its entries
// are variable-length (the JPEG bytes cached). A fixed-entry pipeline's consumers place entries of the
// prepared layout straight into their batch pool, which a batch past its head does not fit (a limit of
// this version).
bool head_moves(const loader::SampleProcessor& processor, const EntryLayout& entry);

// One batch's fields on their way to entries: read (HDF5, one thread), prepared (any thread with its own
// chains), assembled. raw[f] holds the samples as stored, prepared[f] after the prepare chain (a field
// without one is moved over); a variable-length field keeps its bytes in prepared[f] and the sample lengths
// in vlen_sizes[f]. `skipped`: the samples a prepare chain could not take (bad_samples = skip), as indices
// into the batch's IDs, ascending and distinct; their prepared bytes are zeros and never leave the rank.
struct BatchFields {
  std::size_t n = 0;
  std::vector<std::vector<std::byte>> raw, prepared;
  // Per fixed field, where prepare_fields writes its n prepared samples instead of prepared[f] (a send pool
  // slot: roles/send_pool.hpp); null or absent: prepared[f].
  std::vector<std::byte*> into;
  std::vector<std::vector<std::uint64_t>> vlen_sizes;
  std::vector<std::size_t> skipped;
};

// Reads every field of `ids` (ascending, distinct) into fields.raw (fixed, or variable with a prepare chain
// that decodes it; lengths in vlen_sizes) or fields.prepared (variable).
void read_fields(loader::SampleProcessor& processor, std::span<const std::uint64_t> ids, BatchFields& fields);
// Bytes read_fields() reads for n samples into its fixed-size fields (known before the read), and into the
// variable-length ones of `fields` (known after it).
std::uint64_t fixed_read_bytes(const loader::SampleProcessor& processor, std::size_t n);
std::uint64_t variable_read_bytes(const loader::SampleProcessor& processor, const BatchFields& fields);
// Runs chains[f] over raw[f] into prepared[f] for every fixed field that has one; moves the others over.
// A field with fields.into[f] set is prepared (or, without a chain, copied) there instead.
// Samples a chain could not take go to fields.skipped (bad_samples = skip) or throw (fail).
void prepare_fields(const loader::SampleProcessor& processor,
                    std::vector<std::optional<transform::Chain>>& chains, std::span<const std::uint64_t> ids,
                    BatchFields& fields);
// Writes the entries: entry i is out[starts[i], starts[i+1]).
void assemble_entries(const EntryLayout& layout, const BatchFields& fields, std::vector<std::byte>& out,
                      std::vector<std::uint64_t>& starts);
// Fixed layouts: appends entry i to `w` straight from the prepared fields (one copy, no assembled entries),
// leaving out field `skip` (sizes.size() for none). Returns the bytes written.
std::uint64_t write_entry(const EntryLayout& layout, const BatchFields& fields, std::size_t i,
                          std::size_t skip, Writer& w);
// The same into `out` (room for the entry's bytes): a send pool slot.
std::uint64_t write_entry(const EntryLayout& layout, const BatchFields& fields, std::size_t i,
                          std::size_t skip, std::byte* out);

// The bytes of field `field` inside one entry.
std::span<const std::byte> entry_field(const EntryLayout& layout, std::span<const std::byte> entry,
                                       std::size_t field);

}  // namespace ferry::roles
