// The randomizer's describe path (one batch: hits pinned, misses listed for transformers, the descriptor to
// its consumer) and its messages (credits, miss-done, finished consumers, jobs).
#include "roles/randomizer.hpp"

#include <algorithm>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "loader/resume.hpp"
#include "roles/epoch_rss.hpp"

namespace ferry::roles {

bool Randomizer::describe(Pipeline& p, ConsumerState& c) {
  const std::uint64_t epoch = c.next_seq / p.batches_per_epoch;
  const std::uint64_t batch = c.next_seq % p.batches_per_epoch;
  own_positions(p, c, epoch, batch);
  const std::uint64_t group = p.runtime->group;
  Share& share = *p.cache;
  cache::Directory* directory = share.directory.get();
  // Wait for an insert's ack (then hit), or for an entry's size (then admit). In a cached epoch nothing is
  // pending and no size is awaited: no lookup here.
  if (p.cacheable && (directory->stats().pending != 0 || !p.first_reads.empty()))
    for (const auto& o : own_)
      if (directory->is_pending({group, o.id}) || p.first_reads.count(o.id)) return false;

  // From here on the batch is described: advance first, so that the oracle sees this use as the present and
  // reports each key's next use strictly after it.
  ++c.next_seq;
  Descriptor d{
      static_cast<std::uint32_t>(p.runtime->index), epoch, batch, {}, false, p.shard, p.shards > 1, {}};
  d.sources.resize(own_.size());
  if (d.partial)
    for (const auto& o : own_) d.positions.push_back(o.position);
  // Its augment head on a transformation rank (docs/heterogeneous.md, "The movable head"): the hits are
  // read from the cache there, and every position comes from it past the head.
  d.past_head = !miss_targets_.of(c.rank).empty() && head_away(p, epoch, batch);
  Outstanding out{epoch, batch, {}, {}};
  std::map<std::uint64_t, MissEntry> misses;    // ascending IDs
  std::map<std::uint64_t, FetchEntry> fetches;  // ... the hits of a batch past its head
  for (std::size_t k = 0; k < own_.size(); ++k) {
    const std::uint64_t id = own_[k].id;
    const std::uint32_t position = own_[k].position;
    const cache::Key key{group, id};
    if (p.cacheable) {
      if (auto loc = directory->find(key, true)) {  // found and pinned
        out.pinned.push_back(key);
        out.servers.push_back(loc->server);
        ++share.pins_on[loc->server];
        ++slab_hits_[loc->server];
        d.sources[k] = {true, loc->server, share.base + loc->offset, p.runtime->entry.fixed ? 0 : loc->bytes};
        if (d.past_head) {
          FetchEntry& f = fetches[id];
          f.id = id;
          f.server = loc->server;
          f.offset = share.base + loc->offset;
          f.bytes = loc->bytes;
          f.positions.push_back(position);
        }
        continue;
      }
    }
    auto [it, fresh] = misses.try_emplace(id);
    MissEntry& m = it->second;
    if (fresh) {
      m.id = id;
      const bool admissible = p.cacheable && !p.undecodable.count(id);
      const std::uint64_t bytes = admissible ? admit_bytes(p, id) : 0;
      if (admissible && !p.runtime->entry.fixed && p.sizes.get(id) == 0) p.first_reads.insert(id);
      if (bytes != 0) {
        if (auto loc = directory->admit(key, bytes)) {
          m.insert = true;
          m.server = loc->server;
          m.offset = share.base + loc->offset;
          m.bytes = bytes;
          ++share.pending_inserts;
          ++share.pending_on[loc->server];
          report_.cache_peak_bytes = std::max(report_.cache_peak_bytes, directory->used_bytes(loc->server));
        }
      }
    }
    m.positions.push_back(position);
  }
  if (d.past_head)
    send_past_head(p, c, d, misses, fetches);
  else
    send_misses(p, c, d, misses);
  writer_.clear();
  encode(writer_, d);
  report_.control_bytes += writer_.size();
  report_.samples_described += own_.size();
  ctx_.fabric->send(c.rank, kDescriptor, writer_.view());
  c.outstanding.push_back(std::move(out));
  clock_.batch();
  return true;
}

std::uint32_t Randomizer::transformer_index(int rank) const {
  const auto& all = miss_targets_.all();
  return static_cast<std::uint32_t>(std::lower_bound(all.begin(), all.end(), rank) - all.begin());
}

void Randomizer::send_list(EpochTally& tally, const Misses& list, int to) {
  writer_.clear();
  encode(writer_, list);
  report_.control_bytes += writer_.size();
  ctx_.fabric->send(to, kMisses, writer_.view());
  ++tally.miss_lists_sent;
  ++miss_lists_sent_;
  ++report_.miss_lists_sent;
  if (miss_targets_.off_node(list.consumer, to)) ++report_.miss_lists_off_node;
}

void Randomizer::on_message(transport::Message& message) {
  Reader r(message.bytes);
  switch (message.tag) {
    case kStored:
      on_stored(message);
      break;
    case kCredit:
      on_credit(message);
      break;
    case kFinished:
      on_finished(message);
      break;
    case kEpochDone: {
      EpochFigures f;
      decode(r, f);
      auto& p = pipeline_of(f.pipeline);
      ++consumer_of(p, message.source).epochs_reported;
      table_.add(p, f, EpochTable::From::consumer);
      break;
    }
    case kMissDone:
      on_miss_done(message);
      break;
    case kShardEpoch:
      on_shard_epoch(message);
      break;
    case kStats:
    case kStatsBundle:
      FERRY_ENFORCE(coordinator_, "monitoring window from rank ", message.source, " reached rank ", ctx_.rank,
                    ", which is not the coordinator");
      coordinator_->receive(message);
      break;
    case kJobs:  // from the coordinator: where augment heads run (head_away)
      jobs_ = monitor::decode_job_list(message.bytes);
      break;
    case kRole: {
      RoleChange change;
      decode(r, change);
      apply_role(change.rank, change.role == 0 ? Role::transformer : Role::cache_server);
      break;
    }
    case kRetire:
      on_retire(message);
      break;
    case kHandover:
      on_handover(message);
      break;
    case kRetired:
      on_retired(message.source);
      break;
    case kRelease:
      released_ = true;
      break;
    case kShutdown:
      ++shutdowns_seen_;  // another randomizer ended: counts once this rank transforms (if it ever does)
      break;
    case kForward:
      on_forward(message);
      break;
    case kEpochEnd:
      on_epoch_end(ctx_, "randomizer", message);
      break;
    default:
      FERRY_ENFORCE(false, "randomizer got unexpected message tag ", message.tag, " from rank ",
                    message.source);
  }
}

void Randomizer::on_credit(const transport::Message& message) {
  Reader r(message.bytes);
  Credit credit;
  decode(r, credit);
  auto& p = pipeline_of(credit.pipeline);
  auto& c = consumer_of(p, message.source);
  // Credits come in order from the consumer, but after a handover (R3) some come forwarded by the retired
  // randomizer and may arrive after later ones sent here directly: match, do not assume.
  const auto it = std::find_if(c.outstanding.begin(), c.outstanding.end(), [&](const Outstanding& o) {
    return o.epoch == credit.epoch && o.batch == credit.batch;
  });
  if (it == c.outstanding.end() && c.finished) {
    // Its kFinished overtook it (another tag, or the credit came the long way round, forwarded) and released
    // the batch already.
    ++late_credits_;
    return;
  }
  FERRY_ENFORCE(it != c.outstanding.end(), "credit from rank ", message.source, " for batch ", credit.batch,
                " of epoch ", credit.epoch, ", which is not outstanding");
  release(*p.cache, *it);
  c.outstanding.erase(it);
}

void Randomizer::on_finished(const transport::Message& message) {
  Reader r(message.bytes);
  auto& p = pipeline_of(static_cast<std::uint32_t>(r.u()));
  auto& c = consumer_of(p, message.source);
  for (auto& out : c.outstanding) release(*p.cache, out);
  c.outstanding.clear();
  c.finished = true;
  // How many epoch reports it sent: one may still be on its way (another tag may overtake it).
  c.epochs_announced = r.done() ? c.epochs_reported : r.u();
}

void Randomizer::release(Share& share, const Outstanding& out) {
  for (std::size_t i = 0; i < out.pinned.size(); ++i) {
    // False when the slab stopped serving: the pin died with the entry (which may live elsewhere now, with
    // pins of its own that this credit must not release).
    if (share.directory) share.directory->unpin(out.pinned[i], out.servers[i]);
    --share.pins_on[out.servers[i]];
  }
  share.outstanding_admitted -= out.admitted;
}

}  // namespace ferry::roles
