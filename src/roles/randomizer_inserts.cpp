// How the randomizer learns what became of each entry it admitted (a reservation in a slab, pending): the
// cache server acks its insert (kStored: stored, a hit from now on), or the transformer gives it back with
// its miss list's answer (kMissDone: the sample did not decode and was skipped, bad_samples = skip). That
// answer also tells it the size of the variable-length entries it read, which it admits when they miss next
// (admit_bytes: how many bytes an admission reserves). Also the miss lists that ask transformers to read
// and insert them (send_misses).
#include "core/check.hpp"
#include "roles/randomizer.hpp"

namespace ferry::roles {

Randomizer::Share* Randomizer::share_at(std::uint64_t offset, int from) {
  // The offset says whose share the entry is in: this rank's own, or one it took over.
  Share* share = nullptr;
  for (auto& candidate : shares_)
    if (candidate->directory && offset >= candidate->base && offset - candidate->base < share_bytes_)
      share = candidate.get();
  FERRY_ENFORCE(share, "cache entry at offset ", offset, " from rank ", from,
                " is in no cache share of rank ", ctx_.rank);
  return share;
}

void Randomizer::on_stored(const transport::Message& message) {
  Reader r(message.bytes);
  Stored s;
  decode(r, s);
  const int slab = ctx_.layout.slab_index(message.source);
  FERRY_ENFORCE(slab >= 0, "insert ack from rank ", message.source, ", which holds no slab");
  const auto server = static_cast<std::uint32_t>(slab);
  for (std::size_t i = 0; i < s.ids.size(); ++i) {
    Share* share = share_at(s.offsets[i], message.source);
    // An ack from a slab that stopped serving meanwhile is stale: its entry was dropped (and counted), and
    // may have been admitted again elsewhere, which this ack must not mark stored. A serving slab cannot
    // have stopped and restarted in between (a restart waits for its inserts to drain).
    if (!share->directory->mark_stored({s.group, s.ids[i]}, server)) {
      FERRY_ENFORCE(!share->directory->serving(server), "ack from rank ", message.source,
                    " for an entry that is not pending there");
      ++stale_acks_;
    }
    --share->pending_inserts;
    --share->pending_on[server];
  }
}

void Randomizer::on_miss_done(const transport::Message& message) {
  Reader r(message.bytes);
  MissDone done;
  decode(r, done);
  auto& p = pipeline_of(done.figures.pipeline);
  ++miss_lists_done_;
  for (const Unfilled& u : done.unfilled) {
    Share* share = share_at(u.offset, message.source);
    FERRY_ENFORCE(u.server < share->pending_on.size(), "unfilled entry on slab ", u.server, " from rank ",
                  message.source);
    // False when its slab stopped serving meanwhile: the reservation was dropped with it. From a slab that
    // still serves it is a bug (the pending counts would drift), as for a stale insert ack.
    if (!share->directory->abort_pending({p.runtime->group, u.id}, u.server)) {
      FERRY_ENFORCE(!share->directory->serving(u.server), "rank ", message.source, " gave back entry ", u.id,
                    ", which is not pending on slab ", u.server);
      ++stale_acks_;
    }
    --share->pending_inserts;
    --share->pending_on[u.server];
    // It will not decode next epoch either: not admitted again (its reservation could evict a good entry).
    // The set is this randomizer's: an heir after a handover (R3) admits the sample once more and learns.
    p.undecodable.insert(u.id);
  }
  // Variable-length entries read and not inserted: admitted with this size when they miss next (learned only
  // where the pipeline can cache: with no cache the table would hold 4 bytes a sample for nothing).
  for (const EntrySize& e : done.sizes) {
    if (p.cacheable) p.sizes.learn(e.id, e.bytes);
    p.first_reads.erase(e.id);
  }
  table_.add(p, done.figures, EpochTable::From::miss_list);
}

std::uint64_t Randomizer::admit_bytes(const Pipeline& p, std::uint64_t id) const {
  if (p.runtime->entry.fixed) return p.runtime->entry.bytes;
  // Variable: the size learned when the sample was last read (0, not admitted, before its first read), and
  // only where one entry fits a slab (a fixed entry that does not is refused at start, runtime_setup.cpp).
  const std::uint64_t bytes = p.sizes.get(id);
  return cache::SlabAllocator::reserved_size(bytes) <= p.cache->directory->capacity() ? bytes : 0;
}

void Randomizer::send_misses(Pipeline& p, const ConsumerState& c, Descriptor& d,
                             std::map<std::uint64_t, MissEntry>& misses) {
  // Contiguous runs of the sorted misses to the consumer's transformers (its node's, where it has any:
  // roles/miss_targets.hpp): coalesced HDF5 reads on every one of them. As many runs as the batch has
  // runtime.miss_list_bytes of prepared bytes (miss_runs), at most one per transformer. Run j goes to
  // transformer (j + turn) % t, where turn moves with batch, consumer and directory shard (the shards of one
  // batch list their misses apart: they start on different transformers), so batch after batch the runs land
  // on different transformers.
  const auto& transformers = miss_targets_.of(c.rank);
  const std::size_t t = transformers.size();
  const std::size_t turn = t ? static_cast<std::size_t>((d.batch + c.index + p.shard) % t) : 0;
  std::vector<MissEntry> sorted;
  sorted.reserve(misses.size());
  // Prepared bytes of the misses: a variable sample whose size is not known (not read yet, skipped, or a
  // pipeline that does not cache, which learns none) counts as the mean of the known ones; none known: 0,
  // every transformer.
  std::uint64_t known = 0, known_bytes = 0;
  for (auto& [id, m] : misses) {
    const std::uint64_t b = p.runtime->entry.fixed ? p.runtime->entry.bytes : p.sizes.get(id);
    known += b > 0 ? 1 : 0;
    known_bytes += b;
    sorted.push_back(std::move(m));
  }
  const std::uint64_t bytes = known ? known_bytes / known * sorted.size() : 0;
  const std::size_t runs = miss_runs(sorted.size(), bytes, ctx_.config.runtime.miss_list_bytes, t);
  auto& tally = p.epochs[d.epoch];
  if (tally.layout.empty()) tally.layout = roles_text();
  for (std::size_t j = 0; j < runs; ++j) {
    const std::size_t first = sorted.size() * j / runs, last = sorted.size() * (j + 1) / runs;
    Misses list{d.pipeline, d.epoch, d.batch, c.rank, {}, false, {}};
    list.entries.assign(std::make_move_iterator(sorted.begin() + static_cast<std::ptrdiff_t>(first)),
                        std::make_move_iterator(sorted.begin() + static_cast<std::ptrdiff_t>(last)));
    const int to = transformers[(j + turn) % t];
    const std::uint32_t who = transformer_index(to);
    for (const auto& m : list.entries)
      for (auto pos : m.positions) d.source_at(pos) = {false, who, 0};
    send_list(tally, list, to);
  }
}

}  // namespace ferry::roles
