// The consumer's messages from the randomizer and the transformation ranks: a batch's descriptor (hits to
// get one-sided, misses to wait for) and the samples that arrive (in messages, or at a send pool offset),
// skipped positions among them.
#include <algorithm>
#include <exception>
#include <thread>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "loader/resume.hpp"
#include "roles/consumer.hpp"
#include "roles/consumer_state.hpp"
#include "roles/epoch_rss.hpp"
#include "roles/memory_setup.hpp"
#include "transform/target.hpp"

namespace ferry::roles {

void ConsumerEngine::on_descriptor(const transport::Message& message) {
  Reader r(message.bytes);
  Descriptor& d = descriptor_;  // reused: its sources vector keeps its capacity
  decode(r, d);
  Pipe& p = pipe_of(d.pipeline);
  // Credits, epoch reports and kFinished go to the randomizer that sent the last descriptor of its directory
  // shard: after a handover (R3) the heir. Those that still reach the retired randomizer are forwarded to
  // the heir, which matches a credit to its batch wherever it stands.
  FERRY_ENFORCE(d.shard < p.randomizers.size(), "descriptor of directory shard ", d.shard, " for pipeline '",
                p.config->name, "', which has ", p.randomizers.size());
  p.randomizers[d.shard] = message.source;
  Slot& s = slot_for(p, d.epoch, d.batch);
  FERRY_ENFORCE(d.partial == (p.randomizers.size() > 1), "a ", d.partial ? "partial" : "whole",
                " descriptor for pipeline '", p.config->name, "' of ", p.randomizers.size(),
                " directory shard(s)");
  FERRY_ENFORCE(d.partial || d.sources.size() == s.n, "descriptor of ", d.sources.size(),
                " samples for a batch of ", s.n);
  FERRY_ENFORCE(!d.partial || d.positions.empty() || d.positions.back() < s.n, "descriptor position ",
                d.partial && !d.positions.empty() ? d.positions.back() : 0, " in a batch of ", s.n);
  FERRY_ENFORCE(!s.shard_seen[d.shard], "a second descriptor of directory shard ", d.shard, " for batch ",
                d.batch, " of epoch ", d.epoch, " of pipeline '", p.config->name, "'");
  s.shard_seen[d.shard] = 1;
  if (d.past_head) {
    // Every position comes from its transformer past the head; a hit was read from the cache there.
    FERRY_ENFORCE(!p.past_layout.sizes.empty(), "a batch past its augment head for pipeline '",
                  p.config->name, "', whose head does not move");
    s.past_head = true;
    for (const Source& src : d.sources) s.hits += src.hit ? 1 : 0;
    s.described = true;
    return;
  }
  for (std::size_t k = 0; k < d.sources.size(); ++k) {
    const Source& src = d.sources[k];
    if (!src.hit) continue;
    const std::size_t i = d.partial ? d.positions[k] : k;  // its position in the batch
    const transport::RemoteRegion& slab = ctx_.slabs.at(src.who);
    if (p.assembly) {
      FERRY_ENFORCE(src.bytes == 0, "a sized cache hit for pipeline '", p.config->name,
                    "', whose entries are fixed-size");
      // Straight to where the sample belongs in the batch (or the augment's input).
      p.assembly->get_hit(s.index, static_cast<std::uint32_t>(i), slab, src.offset, s.gets);
      s.bytes += p.runtime->entry.bytes;
    } else {
      // A variable-length entry: read whole, then taken apart as one that came in a message (assemble()).
      FERRY_ENFORCE(src.bytes != 0, "a cache hit without its size for pipeline '", p.config->name,
                    "', whose entries are variable-length");
      s.entries[i].resize(src.bytes);
      s.gets.push_back(ctx_.fabric->get(slab, src.offset, s.entries[i].data(), src.bytes));
      s.bytes += src.bytes;
    }
    --s.waiting;
    ++s.hits;
  }
  s.described = std::count(s.shard_seen.begin(), s.shard_seen.end(), 0) == 0;
}

void ConsumerEngine::on_samples(const transport::Message& message) {
  Reader r(message.bytes);
  SamplesHeader h;
  decode(r, h);
  Pipe& p = pipe_of(h.pipeline);
  Slot& s = slot_for(p, h.epoch, h.batch);
  // A batch past its head carries every sample as the head left it (p.past_layout), checked the same way.
  const EntryLayout& layout = s.past_head ? p.past_layout : p.runtime->entry;
  // Device-resident batches: one field of every entry comes device to device, into the slot's inbox.
  const bool device = h.transfer != 0;
  FERRY_ENFORCE(!device || (ctx_.link && p.assembly && h.field < layout.sizes.size()),
                "device samples from rank ", message.source, " that this consumer cannot take");
  const std::uint64_t held = device ? layout.sizes[h.field] : 0;
  Incoming incoming{&p, h.epoch, h.batch, message.source, h.transfer, s.inbox_used, h.count * held, 0, 0};
  if (device && s.inbox_used == 0) s.inbox.reserve(*ctx_.link, s.n * held);  // a batch never holds more
  FERRY_ENFORCE(s.inbox_used + h.count * held <= s.n * held, "device samples overrun the batch");
  for (std::uint64_t e = 0; e < h.count; ++e) {
    positions_.resize(r.count(1));  // a corrupt count is refused before anything is sized from it
    for (auto& pos : positions_) pos = static_cast<std::uint32_t>(r.u());
    const auto& positions = positions_;
    auto entry = r.raw(r.u());
    FERRY_ENFORCE(!layout.fixed || entry.size() + held == layout.bytes, "sample entry of ", entry.size(),
                  " bytes, expected ", layout.bytes - held);
    // A variable-length entry holds at least its lengths: an empty one would be taken for a skipped sample
    // when the batch is assembled (skipped samples come as positions after the entries, take_skipped).
    FERRY_ENFORCE(layout.fixed || !entry.empty(), "an empty variable-length entry from rank ", message.source,
                  " for batch ", h.batch, " of epoch ", h.epoch);
    for (auto pos : positions) {
      FERRY_ENFORCE(pos < s.n, "sample for position ", pos, " of a batch of ", s.n);
      if (device) {
        // The entry without the field (it comes device to device into the inbox).
        p.assembly->put_entry(s.index, pos, entry, h.field);
        s.placements.push_back({h.field, pos, s.inbox_used + e * held});
        ++incoming.positions;  // counted in when the transfer is in (pump_device_receives)
      } else if (p.assembly) {
        p.assembly->put_entry(s.index, pos, entry);
        --s.waiting;
      } else {
        s.entries[pos].assign(entry.begin(), entry.end());
        --s.waiting;
      }
      ++s.misses;
      s.bytes += entry.size() + held;
    }
  }
  take_skipped(r, s, h.skipped);
  if (device) {
    s.inbox_used += h.count * held;
    incoming_.push_back(incoming);
    pump_device_receives();
  }
}

void ConsumerEngine::take_skipped(Reader& r, Slot& s, std::uint64_t records) {
  for (std::uint64_t e = 0; e < records; ++e) {
    // A sample the transformer could not prepare (bad_samples = skip): its positions are dropped.
    positions_.resize(r.count(1));
    for (auto& pos : positions_) {
      pos = static_cast<std::uint32_t>(r.u());
      FERRY_ENFORCE(pos < s.n, "skipped sample at position ", pos, " of a batch of ", s.n);
      s.skipped.push_back(pos);
      --s.waiting;
      ++s.misses;
    }
  }
}

}  // namespace ferry::roles
