// ConsumerEngine::on_samples_at: misses whose entries wait in their transformer's send pool
// (roles/send_pool.hpp) are read with one-sided gets straight to where they belong in the batch, one copy.
#include "core/check.hpp"
#include "roles/consumer_state.hpp"

namespace ferry::roles {

void ConsumerEngine::on_samples_at(const transport::Message& message) {
  Reader r(message.bytes);
  SamplesHeader h;
  decode(r, h);
  PoolSlot slot;
  decode(r, slot);
  Pipe& p = pipe_of(h.pipeline);
  Slot& s = slot_for(p, h.epoch, h.batch);
  const EntryLayout& layout = p.runtime->entry;
  const auto source = static_cast<std::size_t>(message.source);
  FERRY_ENFORCE(h.transfer == 0 && p.assembly && source < ctx_.pools.size() && ctx_.pools[source].size != 0,
                "send pool samples from rank ", message.source, " that this consumer cannot take");
  FERRY_ENFORCE(slot.length == layout.bytes, "send pool entries of ", slot.length, " bytes, expected ",
                layout.bytes);
  const transport::RemoteRegion& pool = ctx_.pools[source];
  pool_gets_.clear();
  for (std::uint64_t e = 0; e < h.count; ++e) {
    positions_.resize(r.count(1));
    for (auto& pos : positions_) pos = static_cast<std::uint32_t>(r.u());
    for (const std::uint32_t pos : positions_) {
      FERRY_ENFORCE(pos < s.n, "sample for position ", pos, " of a batch of ", s.n);
      p.assembly->get_miss(s.index, pos, pool, slot.offset + e * slot.stride, pool_gets_);
      --s.waiting;
      ++s.misses;
      s.bytes += layout.bytes;
    }
  }
  take_skipped(r, s, h.skipped);
  // The slot is the transformer's until every reader says it is done with it: wait for the gets now (they
  // need no help from the transformer), so its pool never waits on this consumer's next call.
  for (transport::Request& get : pool_gets_) get.wait();
  Writer w;
  w.u(slot.offset);
  ctx_.fabric->send(message.source, kFetched, w.view());
}

}  // namespace ferry::roles
