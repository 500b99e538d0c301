#include "roles/slab_server.hpp"

#include <cstring>

#include "roles/protocol.hpp"

namespace ferry::roles {

SlabServer::SlabServer(Context& ctx, std::span<std::byte> slab, ServeReport& report)
    : ctx_(ctx), slab_(slab), report_(report) {}

void SlabServer::store(const transport::Message& message, Role role) {
  FERRY_ENFORCE(!slab_.empty(), "rank ", ctx_.rank, " (", role_name(role),
                ") holds no cache slab but got an insert from rank ", message.source);
  Reader r(message.bytes);
  InsertHeader h;
  decode(r, h);
  Stored ack{h.group, {}, {}};
  for (std::uint64_t i = 0; i < h.count; ++i) {
    const std::uint64_t id = r.u(), offset = r.u(), length = r.u();
    auto bytes = r.raw(length);
    FERRY_ENFORCE(offset <= slab_.size() && length <= slab_.size() - offset, "insert of ", length,
                  " bytes at ", offset, " overruns the slab of ", slab_.size(), " bytes");
    std::memcpy(slab_.data() + offset, bytes.data(), length);
    ack.ids.push_back(id);
    ack.offsets.push_back(offset);
    ++report_.entries_stored;
    report_.bytes_stored += length;
  }
  ack_.clear();
  encode(ack_, ack);
  ctx_.fabric->send(h.randomizer, kStored, ack_.view());
}

}  // namespace ferry::roles
