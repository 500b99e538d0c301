// One-sided miss delivery (docs/runtime.md, "Copies"). A rank that may prepare samples owns a send pool:
// runtime.send_pool_bytes of memory the transport allocates and registers at set-up, like a cache slab. A
// batch of large entries (kPoolEntryBytes and more, fixed-size) is written once from the prepared fields
// into a slot of the pool; the consumer reads each entry with one-sided gets straight to where it belongs
// in its batch (kSamplesAt), each cache server that stores some of them gets them into its slab
// (kInsertAt), and every reader answers kFetched once its gets are complete. The slot is free again when
// the last reader has answered. A batch that does not fit what is free goes in messages as before, so a
// reader that stopped early (a consumer that ended its run) costs pool space, never progress.
//
// SendPool is the owner's bookkeeping (progress thread only); set_up_send_pools is the collective set-up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>

#include "cache/slab_allocator.hpp"
#include "roles/batch_assembly.hpp"
#include "roles/context.hpp"
#include "transport/fabric.hpp"

namespace ferry::roles {

// Entries at least this large go through the pool: the size from which a consumer reads an entry field by
// field straight into place (BatchAssembly). Below it a message's copies cost less than the gets and the
// acknowledgement.
inline constexpr std::uint64_t kPoolEntryBytes = BatchAssembly::kDirectEntryBytes;

class SendPool {
 public:
  // `memory`: the rank's pool (empty: none, take() always fails).
  explicit SendPool(std::span<std::byte> memory);

  bool enabled() const noexcept { return !memory_.empty(); }
  // Distance between entries in a slot: the entry size rounded up to a cache line.
  static std::uint64_t stride(std::uint64_t entry_bytes) noexcept;
  // A slot of `bytes` that `readers` will each answer kFetched for, or nothing when no free range is large
  // enough now (counted in full()).
  std::optional<std::uint64_t> take(std::uint64_t bytes, std::uint32_t readers);
  std::byte* at(std::uint64_t offset) const { return memory_.data() + offset; }
  // A kFetched for the slot at `offset` from rank `from`: the slot is free once every reader answered.
  void fetched(std::uint64_t offset, int from);

  std::size_t slots_in_use() const noexcept { return slots_.size(); }
  std::uint64_t taken() const noexcept { return taken_; }      // slots handed out so far
  std::uint64_t full() const noexcept { return full_; }        // take() calls that found no room
  std::uint64_t peak_bytes() const noexcept { return peak_; }  // the most bytes in use at once

 private:
  struct Slot {
    std::uint64_t bytes = 0;
    std::uint32_t readers = 0;
  };
  std::span<std::byte> memory_;
  cache::SlabAllocator allocator_;
  std::map<std::uint64_t, Slot> slots_;  // by offset
  std::uint64_t taken_ = 0, full_ = 0, peak_ = 0;
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
