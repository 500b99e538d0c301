// UCX backend, one-sided side: registration (ucp_mem_map + ucp_rkey_pack), attaching peers' keys (unpacked
// once per (owner, region) against the endpoint to the owner) and gets (ucp_get_nbx straight into the
// caller's memory; the local buffer needs no registration).
#include <optional>

#include "core/check.hpp"
#include "core/strings.hpp"
#include "transport/region_key.hpp"
#include "transport/ucx/ucx_fabric.hpp"

namespace ferry::transport::ucx {

namespace {

class UcxRegion final : public detail::RegionImpl {
 public:
  UcxRegion() = default;
  explicit UcxRegion(MemMap memory) : memory_(std::make_unique<MemMap>(std::move(memory))) {}

 private:
  std::unique_ptr<MemMap> memory_;  // empty for a zero-byte region: there is nothing to map
};

}  // namespace

// A Region over `data` (mapped by `memory`, or nothing for an empty region) with its packed key.
Region UcxFabric::make_region(void* data, std::size_t bytes, std::optional<MemMap> memory) {
  RegionKey key;
  key.backend = 'U';
  key.owner = rank();
  key.id = next_region_id_++;
  key.base = reinterpret_cast<std::uint64_t>(data);
  key.size = bytes;
  if (!memory) return Region(data, bytes, pack_region_key(key), std::make_unique<UcxRegion>());
  key.native = memory->packed_rkey();
  return Region(data, bytes, pack_region_key(key), std::make_unique<UcxRegion>(std::move(*memory)));
}

Region UcxFabric::do_register(void* data, std::size_t bytes) {
  if (bytes == 0) return make_region(data, 0, std::nullopt);
  return make_region(data, bytes, MemMap(context_, data, bytes));
}

Region UcxFabric::do_allocate(std::size_t bytes) {
  if (bytes == 0) return make_region(nullptr, 0, std::nullopt);
  MemMap memory = MemMap::allocate(context_, bytes);
  void* data = memory.address();
  return make_region(data, bytes, std::move(memory));
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
  return issue(op, ucp_get_nbx(endpoints_[static_cast<std::size_t>(from.owner)].get(), dst, bytes,
                               region.base + offset, region.rkey.get(), &params));
}

}  // namespace ferry::transport::ucx
