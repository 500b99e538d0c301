// MissPipeline::deliver_from_pool: a batch of large fixed-size entries leaves through the rank's send pool
// (roles/send_pool.hpp). One copy on this rank (prepared fields -> pool slot), one by each reader's get.
#include <map>
#include <vector>

#include "roles/miss_batch.hpp"

namespace ferry::roles {

void MissPipeline::fetched(const transport::Message& message) {
  Reader r(message.bytes);
  pool_.fetched(r.u(), message.source);
}

bool MissPipeline::deliver_from_pool(Batch& batch, std::chrono::steady_clock::time_point t0) {
  const Misses& misses = batch.misses;
  const EntryLayout& layout = layouts_.at(misses.pipeline);
  const std::vector<std::size_t>& skipped = batch.fields.skipped;
  const std::uint64_t sent = misses.entries.size() - skipped.size();
  if (sent == 0) return false;  // nothing to read: the message says which positions are dropped
  // Entry index k in the slot for every entry sent, and the entries each cache server stores.
  std::vector<std::uint64_t> slot_index(misses.entries.size(), 0);
  std::map<std::uint32_t, std::vector<std::size_t>> inserts;  // slab holder index -> entry indices
  MissDone done;
  for (std::size_t i = 0, k = 0, next = 0; i < misses.entries.size(); ++i) {
    const MissEntry& m = misses.entries[i];
    if (next < skipped.size() && skipped[next] == i) {
      ++next;
      if (m.insert) done.unfilled.push_back({m.id, m.server, m.offset});
      continue;
    }
    slot_index[i] = k++;
    if (m.insert) inserts[m.server].push_back(i);
  }
  const PoolSlot where{0, SendPool::stride(layout.bytes), layout.bytes};
  const auto offset = pool_.take(sent * where.stride, static_cast<std::uint32_t>(1 + inserts.size()));
  if (!offset) return false;
  PoolSlot slot = where;
  slot.offset = *offset;
  const std::uint64_t prepared = prepared_copy_bytes(batch);  // per entry, by the prepare stage
  const std::size_t none = layout.sizes.size();
  for (std::size_t i = 0, next = 0; i < misses.entries.size(); ++i) {
    if (next < skipped.size() && skipped[next] == i) {
      ++next;
      continue;
    }
    write_entry(layout, batch.fields, i, none, pool_.at(slot.offset + slot_index[i] * slot.stride));
  }
  // Prepared (when a chain ran), written into the slot; the consumer counts its get.
  copies_.miss_bytes += sent * layout.bytes;
  copies_.miss_copied += sent * (std::min(prepared, layout.bytes) + layout.bytes);
  ++copies_.pool_batches;

  out_.clear();
  encode(out_, SamplesHeader{misses.pipeline, misses.epoch, misses.batch, sent, 0, 0, skipped.size()});
  encode(out_, slot);
  for (std::size_t i = 0, next = 0; i < misses.entries.size(); ++i) {
    if (next < skipped.size() && skipped[next] == i) {
      ++next;
      continue;
    }
    out_.u(misses.entries[i].positions.size());
    for (auto pos : misses.entries[i].positions) out_.u(pos);
  }
  for (const std::size_t i : skipped) {
    out_.u(misses.entries[i].positions.size());
    for (auto pos : misses.entries[i].positions) out_.u(pos);
  }
  ctx_.fabric->send(misses.consumer, kSamplesAt, out_.view());
  for (const auto& [server, indices] : inserts) {
    insert_.clear();
    encode(insert_, InsertHeader{batch.randomizer, batch.pipeline->group, indices.size()});
    encode(insert_, slot);
    for (const std::size_t i : indices)
      insert_.u(misses.entries[i].id).u(misses.entries[i].offset).u(slot_index[i]);
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
