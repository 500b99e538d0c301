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
  Stored stored{h.group, {}, {}};
  for (std::uint64_t i = 0; i < h.count; ++i) {
    const std::uint64_t id = r.u(), offset = r.u(), length = r.u();
    auto bytes = r.raw(length);
    FERRY_ENFORCE(offset <= slab_.size() && length <= slab_.size() - offset, "insert of ", length,
                  " bytes at ", offset, " overruns the slab of ", slab_.size(), " bytes");
    std::memcpy(slab_.data() + offset, bytes.data(), length);
    stored.ids.push_back(id);
    stored.offsets.push_back(offset);
    ++report_.entries_stored;
    report_.bytes_stored += length;
  }
  ack(h, stored);
}

void SlabServer::store_from_pool(const transport::Message& message, Role role) {
  FERRY_ENFORCE(!slab_.empty(), "rank ", ctx_.rank, " (", role_name(role),
                ") holds no cache slab but got an insert from rank ", message.source);
  Reader r(message.bytes);
  InsertHeader h;
  decode(r, h);
  PoolSlot slot;
  decode(r, slot);
  const auto source = static_cast<std::size_t>(message.source);
  const bool own = message.source == ctx_.rank;  // a transformer holding a slab inserts into it
  FERRY_ENFORCE(own || (source < ctx_.pools.size() && ctx_.pools[source].size != 0), "rank ", ctx_.rank,
                " cannot read the send pool of rank ", message.source);
  Stored stored{h.group, {}, {}};
  gets_.clear();
  for (std::uint64_t i = 0; i < h.count; ++i) {
    const std::uint64_t id = r.u(), offset = r.u(), k = r.u();
    FERRY_ENFORCE(offset <= slab_.size() && slot.length <= slab_.size() - offset, "insert of ", slot.length,
                  " bytes at ", offset, " overruns the slab of ", slab_.size(), " bytes");
    const std::uint64_t from = slot.offset + k * slot.stride;
    if (own) {
      FERRY_ENFORCE(from <= ctx_.send_pool.size() && slot.length <= ctx_.send_pool.size() - from,
                    "insert from outside this rank's send pool");
      std::memcpy(slab_.data() + offset, ctx_.send_pool.data() + from, slot.length);
    } else {
      gets_.push_back(ctx_.fabric->get(ctx_.pools[source], from, slab_.data() + offset, slot.length));
    }
    stored.ids.push_back(id);
    stored.offsets.push_back(offset);
    ++report_.entries_stored;
    report_.bytes_stored += slot.length;
  }
  for (transport::Request& get : gets_) get.wait();  // in the slab before the randomizer hears of it
  ack(h, stored);
  Writer w;
  w.u(slot.offset);
  ctx_.fabric->send(message.source, kFetched, w.view());
}

void SlabServer::ack(const InsertHeader& h, const Stored& stored) {
  ack_.clear();
  encode(ack_, stored);
  ctx_.fabric->send(h.randomizer, kStored, ack_.view());
}

}  // namespace ferry::roles
