// The consumer's host data path for a pipeline whose entries are fixed-size: where each sample of a
// prefetch slot lands. At start the consumer maps one batch pool per such pipeline (runtime.prefetch slots
// of batch_size samples: per field the batch's bytes, for an augmented field also the augment's input, and a
// staging area when entries are read whole), faults it in and registers it with the transport, once. A hit
// is read by one-sided gets straight to where it belongs (one copy, slab -> batch, or slab -> augment input),
// and so is a large miss from its transformer's send pool (roles/send_pool.hpp); a miss that came in a
// message is copied there from it (one copy). Entries of several fields smaller than
// kDirectEntryBytes are read whole into staging and split when the slot is complete (two copies, both
// cache-resident): a get per field would cost more than the copy. Bounds and copy counts: docs/runtime.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "loader/sample_processor.hpp"
#include "roles/entry.hpp"
#include "transport/fabric.hpp"

namespace ferry::roles {

// Prepared bytes a consumer received per path, and the bytes it wrote on their way (docs/runtime.md,
// "Copies"): copied / delivered is the number of copies a byte took on the consumer.
struct ConsumerCopies {
  ConsumerCopies& operator+=(const ConsumerCopies& o) noexcept {
    hit_bytes += o.hit_bytes;
    hit_copied += o.hit_copied;
    miss_bytes += o.miss_bytes;
    miss_copied += o.miss_copied;
    return *this;
  }
  std::uint64_t hit_bytes = 0;    // delivered by hits
  std::uint64_t hit_copied = 0;   // written by the gets, plus staged entries split into place
  std::uint64_t miss_bytes = 0;   // delivered by misses through host memory
  std::uint64_t miss_copied = 0;  // the transport's receive plus the copy into place, or the send pool get
};

class BatchAssembly {
 public:
  static constexpr std::uint64_t kDirectEntryBytes = 64 * 1024;
  static constexpr std::size_t kNoField = std::numeric_limits<std::size_t>::max();

  // `capacity`: the most samples a batch holds (batch_size). Maps, faults in and registers the pool.
  BatchAssembly(const loader::SampleProcessor& proc, const EntryLayout& layout, std::size_t slots,
                std::size_t capacity, transport::Fabric& fabric);
  ~BatchAssembly();
  BatchAssembly(const BatchAssembly&) = delete;
  BatchAssembly& operator=(const BatchAssembly&) = delete;

  std::uint64_t pool_bytes() const noexcept { return bytes_; }
  double setup_seconds() const noexcept { return setup_seconds_; }

  // A new batch of n samples in `slot`.
  void begin(std::size_t slot, std::size_t n);
  // Reads the cached entry at `offset` of `slab` for position `pos` of the slot's batch; its gets go to
  // `gets` (the destination stays valid until the slot is released).
  void get_hit(std::size_t slot, std::uint32_t pos, const transport::RemoteRegion& slab, std::uint64_t offset,
               std::vector<transport::Request>& gets);
  // Reads an entry from a transformer's send pool for position pos the same way: one copy, counted as a
  // miss; field f is at field_at[f] of `pool`. Only for entries read field by field (one field, or
  // kDirectEntryBytes and more).
  void get_miss(std::size_t slot, std::uint32_t pos, const transport::RemoteRegion& pool,
                std::span<const std::uint64_t> field_at, std::vector<transport::Request>& gets);
  // Copies an entry that came in a message into place; `skip` names a field the entry leaves out (it came
  // device to device), or kNoField.
  void put_entry(std::size_t slot, std::uint32_t pos, std::span<const std::byte> entry,
                 std::size_t skip = kNoField);
  // Once the slot's gets are complete: splits the entries read whole into place (again: a no-op).
  void finish(std::size_t slot);
  // Field f's prepared samples in the slot, in batch order (the augment's input; the batch itself when the
  // field has no augment stage), and its batch bytes.
  std::byte* prepared(std::size_t slot, std::size_t f) const { return base(slot) + in_[f]; }
  std::byte* output(std::size_t slot, std::size_t f) const { return base(slot) + out_[f]; }
  // The slot's batch's copy counters (since begin()).
  const ConsumerCopies& copies(std::size_t slot) const noexcept { return copies_[slot]; }

 private:
  std::byte* base(std::size_t slot) const { return pool_ + slot * slot_bytes_; }
  // One get per field, field f from field_at[f] of `from`, into position pos of the slot.
  void get_fields(std::size_t slot, std::uint32_t pos, const transport::RemoteRegion& from,
                  std::span<const std::uint64_t> field_at, std::vector<transport::Request>& gets);
  // The entry's fields, from `entry` (with field `skip` left out), into position pos of the slot.
  void split(std::size_t slot, std::uint32_t pos, const std::byte* entry, std::size_t skip);

  const EntryLayout& layout_;
  transport::Fabric& fabric_;
  std::size_t capacity_;
  bool direct_;                     // hits read field by field into place
  std::vector<std::uint64_t> in_;   // per field: offset of its prepared samples in a slot
  std::vector<std::uint64_t> out_;  // per field: offset of its batch bytes in a slot
  std::uint64_t staging_ = 0;       // offset of the staging area in a slot (entries read whole)
  std::uint64_t slot_bytes_ = 0;
  std::uint64_t bytes_ = 0;
  std::byte* pool_ = nullptr;                       // mmap'ed: slots * slot_bytes_
  transport::Region region_;                        // its local registration
  std::vector<std::vector<std::uint32_t>> staged_;  // per slot: positions read whole into staging
  std::vector<ConsumerCopies> copies_;              // per slot
  std::vector<std::uint64_t> field_at_;             // scratch: one hit's field offsets
  double setup_seconds_ = 0;
};

}  // namespace ferry::roles
