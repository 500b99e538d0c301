// UCX backend, one-sided side: registration (ucp_mem_map + ucp_rkey_pack), attaching peers' keys (unpacked
// once per (owner, region) against the endpoint to the owner) and gets (ucp_get_nbx straight into the
// caller's memory; a destination registered with register_local passes its memory handle, any other needs
// no registration by the caller).
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "core/check.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "transport/region_key.hpp"
#include "transport/ucx/ucx_fabric.hpp"

namespace ferry::transport::ucx {

namespace {

// The file mapped at `address` in this process (/proc/self/maps), "" for anonymous memory.
std::string mapped_file(const void* address) {
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    // start-end perms offset dev inode [path]
    std::istringstream fields(line);
    std::string range, perms, offset, dev, inode, path;
    fields >> range >> perms >> offset >> dev >> inode;
    const std::size_t dash = range.find('-');
    if (dash == std::string::npos) continue;
    const std::uintptr_t start = std::stoull(range.substr(0, dash), nullptr, 16);
    const std::uintptr_t end = std::stoull(range.substr(dash + 1), nullptr, 16);
    if (at < start || at >= end) continue;
    std::getline(fields >> std::ws, path);
    return path;
  }
  return {};
}

// Removes the entry of `memh` from a fabric's local get destinations.
void forget_local(LocalMaps& table, ucp_mem_h memh) {
  std::erase_if(table.entries, [memh](const LocalMaps::Entry& e) { return e.memh == memh; });
}

// An exposed region. It is a local get destination too (a cache server's gets into its slab pass the slab's
// memory handle), and leaves the fabric's table when destroyed.
class UcxRegion final : public detail::RegionImpl {
 public:
  UcxRegion() = default;
  UcxRegion(MemMap memory, bool allocated, void* data, std::size_t bytes, std::shared_ptr<LocalMaps> table)
      : memory_(std::make_unique<MemMap>(std::move(memory))),
        allocated_(allocated),
        table_(std::move(table)) {
    table_->entries.push_back({reinterpret_cast<std::uintptr_t>(data), bytes, memory_->get()});
  }
  ~UcxRegion() override {
    if (table_) forget_local(*table_, memory_->get());
  }
  UcxRegion(const UcxRegion&) = delete;
  UcxRegion& operator=(const UcxRegion&) = delete;

  // UCX allocates in System V shared memory (removed as soon as it is attached: no name) or, when that
  // fails, in a POSIX shared-memory file (UCX_POSIX_DIR, /dev/shm by default). With UCX_POSIX_USE_PROC_LINK
  // (the default) UCX unlinks that file once written and peers open /proc/PID/fd/FD; without it the file
  // keeps its name, which peers open when they unpack the key, until ucp_mem_unmap, so a killed owner left
  // it behind. Memory the caller registered is never touched.
  void drop_name(void* data) override {
    if (!allocated_ || data == nullptr) return;
    const std::string path = mapped_file(data);
    constexpr std::string_view kDeleted = " (deleted)";
    if (path.empty() || path.front() != '/' || path.starts_with("/SYSV") ||
        (path.size() >= kDeleted.size() && path.ends_with(kDeleted)))
      return;
    if (::unlink(path.c_str()) != 0) {
      log::warn("could not remove the shared-memory file {} behind a cache slab: {}", path,
                std::strerror(errno));
      return;
    }
    log::debug("removed the name of the shared-memory file {} behind a cache slab", path);
  }

 private:
  std::unique_ptr<MemMap> memory_;  // empty for a zero-byte region: there is nothing to map
  bool allocated_ = false;          // UCX chose the memory (UCP_MEM_MAP_ALLOCATE)
  std::shared_ptr<LocalMaps> table_;
};

// A registered local get destination: unregisters, and leaves the fabric's table, when destroyed.
class UcxLocalRegion final : public detail::RegionImpl {
 public:
  UcxLocalRegion(MemMap memory, std::shared_ptr<LocalMaps> table)
      : memory_(std::move(memory)), table_(std::move(table)) {}
  ~UcxLocalRegion() override { forget_local(*table_, memory_.get()); }

 private:
  MemMap memory_;
  std::shared_ptr<LocalMaps> table_;
};

}  // namespace

ucp_mem_h LocalMaps::find(const void* dst, std::size_t bytes) const noexcept {
  const auto at = reinterpret_cast<std::uintptr_t>(dst);
  for (const Entry& e : entries)
    if (at >= e.base && at - e.base <= e.size && bytes <= e.size - (at - e.base)) return e.memh;
  return nullptr;
}

Region UcxFabric::do_register_local(void* data, std::size_t bytes) {
  MemMap memory(context_, data, bytes);
  locals_->entries.push_back({reinterpret_cast<std::uintptr_t>(data), bytes, memory.get()});
  return Region(data, bytes, {}, std::make_unique<UcxLocalRegion>(std::move(memory), locals_));
}

std::span<const std::byte> UcxFabric::do_mapped(const RemoteRegion& region) {
  if (region.slot >= attached_.size() || attached_[region.slot].owner != region.owner ||
      attached_[region.slot].id != region.id || attached_[region.slot].rkey.get() == nullptr)
    return {};
  const Attached& a = attached_[region.slot];
  void* local = nullptr;
  // UCS_ERR_UNREACHABLE when no transport maps it (CMA, a network): gets then go through the transport.
  if (ucp_rkey_ptr(a.rkey.get(), a.base, &local) != UCS_OK || local == nullptr) return {};
  return {static_cast<const std::byte*>(local), a.size};
}

// A Region over `data` (mapped by `memory`, or nothing for an empty region) with its packed key.
Region UcxFabric::make_region(void* data, std::size_t bytes, std::optional<MemMap> memory, bool allocated) {
  RegionKey key;
  key.backend = 'U';
  key.owner = rank();
  key.id = next_region_id_++;
  key.base = reinterpret_cast<std::uint64_t>(data);
  key.size = bytes;
  if (!memory) return Region(data, bytes, pack_region_key(key), std::make_unique<UcxRegion>());
  key.native = memory->packed_rkey();
  return Region(data, bytes, pack_region_key(key),
                std::make_unique<UcxRegion>(std::move(*memory), allocated, data, bytes, locals_));
}

Region UcxFabric::do_register(void* data, std::size_t bytes) {
  if (bytes == 0) return make_region(data, 0, std::nullopt, false);
  return make_region(data, bytes, MemMap(context_, data, bytes), false);
}

Region UcxFabric::do_allocate(std::size_t bytes) {
  if (bytes == 0) return make_region(nullptr, 0, std::nullopt, true);
  MemMap memory = MemMap::allocate(context_, bytes);
  void* data = memory.address();
  return make_region(data, bytes, std::move(memory), true);
}

RemoteRegion UcxFabric::do_attach(std::span<const std::byte> bytes) {
  RegionKey key = unpack_region_key(bytes, 'U', backend());
  if (key.owner < 0 || key.owner >= size()) {
    throw TransportError(str_cat("ucx fabric: region key names rank ", key.owner, ", outside this fabric of ",
                                 size(), " ranks"),
                         kInvalidArgument);
  }
  const auto found = attached_slots_.find({key.owner, key.id});
  if (found != attached_slots_.end()) return RemoteRegion{key.owner, key.id, key.size, found->second};
  Rkey rkey;
  if (!key.native.empty()) {
    rkey = Rkey::unpack(endpoints_[static_cast<std::size_t>(key.owner)].get(), key.native.data());
  }
  const auto slot = static_cast<std::uint32_t>(attached_.size());
  attached_.push_back(Attached{key.owner, key.id, key.base, key.size, std::move(rkey)});
  attached_slots_.emplace(std::make_pair(key.owner, key.id), slot);
  return RemoteRegion{key.owner, key.id, key.size, slot};
}

Request UcxFabric::do_get(const RemoteRegion& from, std::size_t offset, void* dst, std::size_t bytes) {
  if (from.slot >= attached_.size() || attached_[from.slot].owner != from.owner ||
      attached_[from.slot].id != from.id) {
    throw TransportError(
        str_cat("ucx fabric: region ", from.id, " of rank ", from.owner, " was not attached by this fabric"),
        kInvalidArgument);
  }
  const Attached& region = attached_[from.slot];
  auto op = std::make_shared<UcxOp>(*this, "ucp_get_nbx", /*detached=*/false);
  ucp_request_param_t params{};
  params.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
  params.cb.send = &UcxFabric::on_op_done;
  params.user_data = op.get();
  if (ucp_mem_h memh = locals_->find(dst, bytes)) {  // registered once (a batch pool), not per get
    params.op_attr_mask |= UCP_OP_ATTR_FIELD_MEMH;
    params.memh = memh;
  }
  return issue(op, ucp_get_nbx(endpoints_[static_cast<std::size_t>(from.owner)].get(), dst, bytes,
                               region.base + offset, region.rkey.get(), &params));
}

}  // namespace ferry::transport::ucx
