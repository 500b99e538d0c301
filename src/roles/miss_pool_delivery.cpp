// MissPipeline's one-sided delivery (roles/send_pool.hpp): a batch of large fixed-size entries is prepared
// into a slot of the rank's send pool (or copied there at delivery), and leaves by its readers' gets.
#include <cstring>
#include <map>
#include <utility>
#include <vector>

#include "core/log.hpp"
#include "roles/miss_batch.hpp"

namespace ferry::roles {

void MissPipeline::fetched(const transport::Message& message) {
  Reader r(message.bytes);
  pool_.fetched(r.u(), message.source);
}

void MissPipeline::reserve_pool(Batch& batch) {
  batch.fields.into.clear();
  batch.pool_slot.reset();
  const EntryLayout& layout = layouts_.at(batch.misses.pipeline);
  if (batch.target != monitor::Target::cpu || !pool_.enabled() || !uses_send_pool(layout)) return;
  const SlotLayout at = slot_layout(layout.sizes, batch.fields.n);
  if (at.bytes > ctx_.send_pool.size()) return;  // never fits: counted and said once at delivery
  batch.pool_slot = pool_.take(at.bytes);
  if (!batch.pool_slot) return;  // prepared as usual, copied in at delivery if there is room then
  for (const std::uint64_t base : at.base) batch.fields.into.push_back(pool_.at(*batch.pool_slot + base));
}

bool MissPipeline::deliver_from_pool(Batch& batch, std::chrono::steady_clock::time_point t0) {
  const Misses& misses = batch.misses;
  const EntryLayout& layout = layouts_.at(misses.pipeline);
  const std::vector<std::size_t>& skipped = batch.fields.skipped;
  const std::uint64_t sent = misses.entries.size() - skipped.size();
  const std::optional<std::uint64_t> held = std::exchange(batch.pool_slot, std::nullopt);
  if (sent == 0) {  // nothing to read: the message says which positions are dropped
    if (held) pool_.release(*held);
    return false;
  }
  const std::size_t n = batch.fields.n;
  const SlotLayout at = slot_layout(layout.sizes, n);
  const std::optional<std::uint64_t> taken = held ? held : pool_.take(at.bytes);
  if (!taken) {
    if (at.bytes > ctx_.send_pool.size() && !std::exchange(pool_warned_, true))
      log::warn(
          "rank {}: a miss list of {} samples needs {} bytes of send pool, more than "
          "runtime.send_pool_bytes = {}: such lists go in messages (4 copies instead of 2)",
          ctx_.rank, n, at.bytes, ctx_.send_pool.size());
    return false;
  }
  // Per entry: what the prepare stage wrote, and the copy into the slot (made by prepare_fields for a
  // field without a chain when the slot was held from the start, else here).
  std::uint64_t copied = layout.bytes;
  if (!held) {
    copied += prepared_copy_bytes(batch);
    for (std::size_t f = 0; f < layout.sizes.size(); ++f)
      std::memcpy(pool_.at(*taken + at.base[f]), batch.fields.prepared[f].data(), n * layout.sizes[f]);
  }
  const PoolSlot slot{*taken, n, layout.sizes};
  std::map<std::uint32_t, std::vector<std::size_t>> inserts;  // slab holder index -> entry indices
  MissDone done;
  out_.clear();
  encode(out_, SamplesHeader{misses.pipeline, misses.epoch, misses.batch, sent, 0, 0, skipped.size()});
  encode(out_, slot);
  for (std::size_t i = 0, next = 0; i < misses.entries.size(); ++i) {
    const MissEntry& m = misses.entries[i];
    if (next < skipped.size() && skipped[next] == i) {
      ++next;
      no_entry(done, m, true);  // the pool carries fixed-size entries only
      continue;
    }
    put_positions(out_, m);
    out_.u(i);
    if (m.insert) inserts[m.server].push_back(i);
  }
  for (const std::size_t i : skipped) put_positions(out_, misses.entries[i]);
  pool_.publish(*taken, static_cast<std::uint32_t>(1 + inserts.size()));
  copies_.miss_bytes += sent * layout.bytes;
  copies_.miss_copied += sent * copied;  // the consumer counts its get
  ++copies_.pool_batches;
  ctx_.fabric->send(misses.consumer, kSamplesAt, out_.view());
  for (const auto& [server, indices] : inserts) {
    insert_.clear();
    encode(insert_, InsertHeader{batch.randomizer, batch.pipeline->group, indices.size()});
    encode(insert_, slot);
    for (const std::size_t i : indices) insert_.u(misses.entries[i].id).u(misses.entries[i].offset).u(i);
    // One copy: the holder's get into its slab.
    copies_.insert_bytes += indices.size() * layout.bytes;
    copies_.insert_copied += indices.size() * layout.bytes;
    ctx_.fabric->send(ctx_.layout.slab_holders.at(server), kInsertAt, insert_.view());
    report_.inserts_sent += indices.size();
  }
  answer(batch, done, sent, layout.bytes, nanos_since(t0));  // the entries count as moved
  return true;
}

}  // namespace ferry::roles
