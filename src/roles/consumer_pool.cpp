// ConsumerEngine::on_samples_at: misses whose entries wait in their transformer's send pool
// (roles/send_pool.hpp) are read with one-sided gets straight to where they belong in the batch, one copy;
// answer_fetches tells each transformer when its slot's gets are complete.
#include "core/check.hpp"
#include "roles/consumer_state.hpp"
#include "roles/send_pool.hpp"

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
  FERRY_ENFORCE(slot.sizes == layout.sizes, "send pool entries from rank ", message.source,
                " with other fields than pipeline '", p.config->name, "'");
  const SlotLayout at = slot_layout(slot.sizes, slot.entries);
  const transport::RemoteRegion& pool = ctx_.pools[source];
  pool_gets_.clear();
  for (std::uint64_t k = 0; k < h.count; ++k) {
    positions_.resize(r.count(1));
    for (auto& pos : positions_) pos = static_cast<std::uint32_t>(r.u());
    const std::uint64_t e = r.u();
    FERRY_ENFORCE(e < slot.entries, "send pool entry ", e, " of a slot of ", slot.entries);
    field_at_.clear();
    for (std::size_t f = 0; f < at.base.size(); ++f) field_at_.push_back(slot.offset + at.at(e, f));
    for (const std::uint32_t pos : positions_) {
      FERRY_ENFORCE(pos < s.n, "sample for position ", pos, " of a batch of ", s.n);
      p.assembly->get_miss(s.index, pos, pool, field_at_, pool_gets_);
      --s.waiting;
      ++s.misses;
      s.bytes += layout.bytes;
    }
  }
  take_skipped(r, s, h.skipped);
  // The slot is the transformer's until every reader says it is done with it: the batch waits for these
  // gets like for its hits, and kFetched goes out as soon as they are complete (answer_fetches), whatever
  // batch the caller is waiting for.
  s.gets.insert(s.gets.end(), pool_gets_.begin(), pool_gets_.end());
  fetches_.push_back(PendingFetch{message.source, slot.offset, std::move(pool_gets_)});
  pool_gets_.clear();
  answer_fetches();
}

void ConsumerEngine::answer_fetches() {
  while (!fetches_.empty()) {
    PendingFetch& f = fetches_.front();
    for (transport::Request& get : f.gets)
      if (!get.test()) return;  // in order: a later slot's gets were issued after these
    send_fetched(*ctx_.fabric, f.source, f.offset);
    fetches_.pop_front();
  }
}

}  // namespace ferry::roles
