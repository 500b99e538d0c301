#include "roles/slab_server.hpp"

#include <cstring>
#include <numeric>

#include "roles/protocol.hpp"
#include "roles/send_pool.hpp"

namespace ferry::roles {

SlabServer::SlabServer(Context& ctx, std::span<std::byte> slab, ServeReport& report)
    : ctx_(ctx), slab_(slab), report_(report) {}

InsertHeader SlabServer::open_insert(const transport::Message& message, Role role, Reader& r) const {
  FERRY_ENFORCE(!slab_.empty(), "rank ", ctx_.rank, " (", role_name(role),
                ") holds no cache slab but got an insert from rank ", message.source);
  InsertHeader h;
  decode(r, h);
  return h;
}

void SlabServer::store(const transport::Message& message, Role role) {
  Reader r(message.bytes);
  const InsertHeader h = open_insert(message, role, r);
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
  ack(h.randomizer, stored);
}

void SlabServer::store_from_pool(const transport::Message& message, Role role) {
  Reader r(message.bytes);
  const InsertHeader h = open_insert(message, role, r);
  PoolSlot slot;
  decode(r, slot);
  const auto source = static_cast<std::size_t>(message.source);
  const bool own = message.source == ctx_.rank;  // a transformer holding a slab inserts into it
  FERRY_ENFORCE(own || (source < ctx_.pools.size() && ctx_.pools[source].size != 0), "rank ", ctx_.rank,
                " cannot read the send pool of rank ", message.source);
  Stored stored{h.group, {}, {}};
  gets_.clear();
  const SlotLayout at = slot_layout(slot.sizes, slot.entries);
  const std::uint64_t length = std::accumulate(slot.sizes.begin(), slot.sizes.end(), std::uint64_t{0});
  for (std::uint64_t i = 0; i < h.count; ++i) {
    const std::uint64_t id = r.u(), offset = r.u(), e = r.u();
    FERRY_ENFORCE(offset <= slab_.size() && length <= slab_.size() - offset, "insert of ", length,
                  " bytes at ", offset, " overruns the slab of ", slab_.size(), " bytes");
    FERRY_ENFORCE(e < slot.entries, "insert of send pool entry ", e, " of a slot of ", slot.entries);
    // The entry's fields back to back in the slab, each from its run in the slot.
    std::byte* to = slab_.data() + offset;
    for (std::size_t f = 0; f < slot.sizes.size(); ++f) {
      const std::uint64_t from = slot.offset + at.at(e, f);
      if (own) {
        FERRY_ENFORCE(from <= ctx_.send_pool.size() && slot.sizes[f] <= ctx_.send_pool.size() - from,
                      "insert from outside this rank's send pool");
        std::memcpy(to, ctx_.send_pool.data() + from, slot.sizes[f]);
      } else {
        gets_.push_back(ctx_.fabric->get(ctx_.pools[source], from, to, slot.sizes[f]));
      }
      to += slot.sizes[f];
    }
    stored.ids.push_back(id);
    stored.offsets.push_back(offset);
    ++report_.entries_stored;
    report_.bytes_stored += length;
  }
  // The randomizer hears of the entries once they are in the slab, the sender once its slot is read
  // (progress()); the loop goes on meanwhile.
  pending_.push_back(Pending{h.randomizer, message.source, slot.offset, std::move(stored), std::move(gets_)});
  gets_.clear();
  progress();
}

void SlabServer::progress() {
  while (!pending_.empty()) {
    Pending& p = pending_.front();
    for (transport::Request& get : p.gets)
      if (!get.test()) return;  // in order: the acks go out as the inserts came
    ack(p.randomizer, p.stored);
    send_fetched(*ctx_.fabric, p.source, p.offset);
    pending_.pop_front();
  }
}

void SlabServer::ack(int randomizer, const Stored& stored) {
  ack_.clear();
  encode(ack_, stored);
  ctx_.fabric->send(randomizer, kStored, ack_.view());
}

}  // namespace ferry::roles
