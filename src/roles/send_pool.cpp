#include "roles/send_pool.hpp"

#include <algorithm>
#include <string>

#include "core/collective_errors.hpp"
#include "core/prefault.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "roles/memory_setup.hpp"
#include "roles/protocol.hpp"
#include "transport/comm.hpp"

namespace ferry::roles {

SlotLayout slot_layout(std::span<const std::uint64_t> sizes, std::uint64_t entries) {
  SlotLayout at;
  at.sizes.assign(sizes.begin(), sizes.end());
  for (const std::uint64_t size : sizes) {
    at.base.push_back(at.bytes);
    at.bytes += cache::SlabAllocator::reserved_size(size * entries);
  }
  return at;
}

void send_fetched(transport::Fabric& fabric, int owner, std::uint64_t offset) {
  Writer w;
  w.u(offset);
  fabric.send(owner, kFetched, w.view());
}

SendPool::SendPool(std::span<std::byte> memory) : memory_(memory), allocator_(memory.size()) {}

std::optional<std::uint64_t> SendPool::take(std::uint64_t bytes) {
  if (!enabled() || bytes == 0) return std::nullopt;
  if (bytes > allocator_.usable()) {
    ++too_large_;
    return std::nullopt;
  }
  const std::optional<std::uint64_t> offset = allocator_.allocate(bytes);
  if (!offset) {
    ++full_;
    return std::nullopt;
  }
  slots_[*offset] = Slot{bytes, 0};
  ++taken_;
  peak_ = std::max(peak_, allocator_.used());
  return offset;
}

void SendPool::publish(std::uint64_t offset, std::uint32_t readers) {
  const auto it = slots_.find(offset);
  FERRY_ENFORCE(it != slots_.end() && it->second.readers == 0 && readers > 0, "send pool slot ", offset,
                " published to ", readers, " reader(s) while not held");
  it->second.readers = readers;
}

void SendPool::release(std::uint64_t offset) {
  const auto it = slots_.find(offset);
  FERRY_ENFORCE(it != slots_.end() && it->second.readers == 0, "send pool slot ", offset,
                " released while not held");
  free_slot(it);
}

void SendPool::fetched(std::uint64_t offset, int from) {
  const auto it = slots_.find(offset);
  FERRY_ENFORCE(it != slots_.end() && it->second.readers > 0, "rank ", from, " answered for send pool slot ",
                offset, ", which no reader holds");
  if (--it->second.readers == 0) free_slot(it);
}

void SendPool::free_slot(std::map<std::uint64_t, Slot>::iterator it) {
  allocator_.release(it->first, it->second.bytes);
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
  transport::Region own;
  std::string error;
  try {
    own = ctx.fabric->allocate_memory(bytes);  // collective, 0 bytes included
  } catch (const std::exception& e) {
    error = str_cat("rank ", ctx.rank, " (", role_name(ctx.role()), "): runtime.send_pool_bytes = ", bytes,
                    " could not be allocated: ", e.what());
  }
  // A rank that could not allocate fails every rank here, before any waits for its key.
  if (const std::string all = gather_errors(ctx.comm, error); !all.empty()) throw ConfigError(all);
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
  // A slab holder's inserts from its own pool are plain copies: it attaches the others' only.
  for (int r = 0; r < ctx.layout.size(); ++r)
    if (r != ctx.rank && !keys.of(r).empty())
      ctx.pools[static_cast<std::size_t>(r)] = ctx.fabric->attach(keys.of(r));
  prefault_mappings(ctx, ctx.pools, "mappings of the send pools");
  return own;
}

}  // namespace ferry::roles
