#include "roles/send_pool.hpp"

#include <algorithm>

#include "core/prefault.hpp"
#include "ferry/error.hpp"
#include "roles/memory_setup.hpp"
#include "transport/comm.hpp"

namespace ferry::roles {

SendPool::SendPool(std::span<std::byte> memory) : memory_(memory), allocator_(memory.size()) {}

std::uint64_t SendPool::stride(std::uint64_t entry_bytes) noexcept {
  return cache::SlabAllocator::reserved_size(entry_bytes);
}

std::optional<std::uint64_t> SendPool::take(std::uint64_t bytes, std::uint32_t readers) {
  FERRY_ENFORCE(readers > 0, "a send pool slot without readers");
  if (!enabled() || bytes == 0 || bytes > allocator_.usable()) {
    ++full_;
    return std::nullopt;
  }
  const std::optional<std::uint64_t> offset = allocator_.allocate(bytes);
  if (!offset) {
    ++full_;
    return std::nullopt;
  }
  slots_[*offset] = Slot{bytes, readers};
  ++taken_;
  peak_ = std::max(peak_, allocator_.used());
  return offset;
}

void SendPool::fetched(std::uint64_t offset, int from) {
  const auto it = slots_.find(offset);
  FERRY_ENFORCE(it != slots_.end(), "rank ", from, " answered for send pool slot ", offset,
                ", which holds nothing");
  if (--it->second.readers != 0) return;
  allocator_.release(offset, it->second.bytes);
  slots_.erase(it);
}

bool uses_send_pool(const EntryLayout& layout) noexcept {
  return layout.fixed && layout.bytes >= kPoolEntryBytes;
}

std::uint64_t send_pool_bytes(const Context& ctx) {
  if (!ctx.may_transform()) return 0;
  const bool any = std::any_of(ctx.pipelines.begin(), ctx.pipelines.end(),
                               [](const PipelineRuntime& p) { return uses_send_pool(p.entry); });
  return any ? ctx.config.runtime.send_pool_bytes : 0;
}

transport::Region set_up_send_pools(Context& ctx) {
  const std::uint64_t bytes = send_pool_bytes(ctx);
  transport::Region own = ctx.fabric->allocate_memory(bytes);  // collective, 0 bytes included
  ctx.send_pool = {static_cast<std::byte*>(own.data()), own.size()};
  if (bytes != 0) {
    // Written in now (and mapped by readers before data moves), not on the first batch's data path.
    const double seconds = prefault(own.data(), own.size(), Prefault::write);
    report_memory_setup(ctx, "send pool", own.size(), seconds);
  }
  // Only a rank with a pool sends its key: an empty one means "none" to every reader.
  const std::span<const std::byte> key = bytes != 0 ? own.key() : std::span<const std::byte>();
  const transport::GatheredBytes keys = transport::allgather_bytes(ctx.comm, key);
  const bool reads = ctx.role() == Role::consumer || ctx.layout.slab_index(ctx.rank) >= 0;
  ctx.pools.assign(static_cast<std::size_t>(ctx.layout.size()), transport::RemoteRegion{});
  if (!reads) return own;
  for (int r = 0; r < ctx.layout.size(); ++r)
    if (!keys.of(r).empty()) ctx.pools[static_cast<std::size_t>(r)] = ctx.fabric->attach(keys.of(r));
  prefault_mappings(ctx, ctx.pools, "mappings of the send pools");
  return own;
}

}  // namespace ferry::roles
