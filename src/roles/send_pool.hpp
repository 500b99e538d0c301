// One-sided miss delivery (docs/runtime.md, "Copies"). A rank that may prepare samples owns a send pool:
// runtime.send_pool_bytes of memory the transport allocates and registers at set-up, like a cache slab. A
// batch of large fixed-size entries (kPoolEntryBytes and more) takes a slot before its prepare stage runs,
// and the stage writes each field's samples straight into it (a field without a chain is copied in once);
// or, when the pool had no room then or the device prepared the batch, the prepared fields are copied in at
// delivery. The consumer reads each entry with one-sided gets straight to where it belongs in its batch
// (kSamplesAt), each cache server that stores some of them gets them into its slab (kInsertAt), and every
// reader answers kFetched once its gets are complete. The slot is free again when the last reader has
// answered. A batch that finds no room at delivery goes in messages, so a reader that stopped early (a
// consumer that ended its run) costs pool space, never progress.
//
// SendPool is the owner's bookkeeping (progress thread only); set_up_send_pools is the collective set-up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "cache/slab_allocator.hpp"
#include "roles/batch_assembly.hpp"
#include "roles/context.hpp"
#include "transport/fabric.hpp"

namespace ferry::roles {

// Entries at least this large go through the pool: the size from which a consumer reads an entry field by
// field straight into place (BatchAssembly). Below it a message's copies cost less than the gets and the
// acknowledgement.
inline constexpr std::uint64_t kPoolEntryBytes = BatchAssembly::kDirectEntryBytes;

// Where a batch's entries lie in a slot, field by field as the prepare stage writes them: field f of all
// `entries` samples back to back from base[f] (each field's run on a cache line).
struct SlotLayout {
  std::vector<std::uint64_t> base;
  std::vector<std::uint64_t> sizes;  // per field, bytes of one sample
  std::uint64_t bytes = 0;
  // Offset of entry e's field f from the slot's start.
  std::uint64_t at(std::uint64_t e, std::size_t f) const { return base[f] + e * sizes[f]; }
};
SlotLayout slot_layout(std::span<const std::uint64_t> sizes, std::uint64_t entries);

// A reader's kFetched to the pool's owner: its gets from the slot at `offset` are complete.
void send_fetched(transport::Fabric& fabric, int owner, std::uint64_t offset);

class SendPool {
 public:
  // `memory`: the rank's pool (empty: none, take() always fails).
  explicit SendPool(std::span<std::byte> memory);

  bool enabled() const noexcept { return !memory_.empty(); }
  // A slot of `bytes`, held by this rank until publish() or release(), or nothing when no free range is
  // large enough now (counted in full(), or in too_large() when the pool itself is smaller).
  std::optional<std::uint64_t> take(std::uint64_t bytes);
  // The slot's entries are announced to `readers` ranks, each of which will answer kFetched.
  void publish(std::uint64_t offset, std::uint32_t readers);
  // A slot taken and never published (its batch went another way).
  void release(std::uint64_t offset);
  std::byte* at(std::uint64_t offset) const { return memory_.data() + offset; }
  // A kFetched for the slot at `offset` from rank `from`: the slot is free once every reader answered.
  void fetched(std::uint64_t offset, int from);

  std::size_t slots_in_use() const noexcept { return slots_.size(); }
  std::uint64_t taken() const noexcept { return taken_; }  // slots handed out so far
  std::uint64_t full() const noexcept { return full_; }  // take() calls that found no free range large enough
  std::uint64_t too_large() const noexcept { return too_large_; }  // ... asked for more than the whole pool
  std::uint64_t peak_bytes() const noexcept { return peak_; }      // the most bytes in use at once

 private:
  struct Slot {
    std::uint64_t bytes = 0;
    std::uint32_t readers = 0;  // answers still to come; 0 while this rank holds it
  };
  void free_slot(std::map<std::uint64_t, Slot>::iterator it);

  std::span<std::byte> memory_;
  cache::SlabAllocator allocator_;
  std::map<std::uint64_t, Slot> slots_;  // by offset
  std::uint64_t taken_ = 0, full_ = 0, too_large_ = 0, peak_ = 0;
};

// The bytes of send pool this rank allocates: runtime.send_pool_bytes on a rank that may prepare samples
// and opened a pipeline whose entries go through the pool, else 0.
std::uint64_t send_pool_bytes(const Context& ctx);
// Whether a pipeline's entries go through the pool (fixed-size, kPoolEntryBytes and more).
bool uses_send_pool(const EntryLayout& layout) noexcept;

// COLLECTIVE over ctx.comm: allocates this rank's pool (send_pool_bytes; faulted in, its time reported at
// start), sends every rank's key to every rank, and on consumers and slab holders attaches every pool into
// ctx.pools. Sets ctx.send_pool. The Region is the caller's: keep it until the fabric closes, and drop its
// name once every rank has attached it (the caller's barrier).
transport::Region set_up_send_pools(Context& ctx);

}  // namespace ferry::roles
