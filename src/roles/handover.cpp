#include "roles/handover.hpp"

#include "core/check.hpp"

namespace ferry::roles {

Handover describe_handover(const std::vector<RandomizerPipeline>& pipelines, const CacheShare& share) {
  Handover h;
  h.share = share.index;
  for (const auto& p : pipelines) {
    // A randomizer retires once every miss list it sent is answered (randomizer_retire.cpp), so no first read
    // is unanswered: the heir learns every size the handover does not carry when its sample misses again.
    FERRY_ENFORCE(p.first_reads.empty(), "pipeline '", p.config->name, "' handed over with ",
                  p.first_reads.size(), " first reads unanswered");
    HandoverPipeline hp;
    hp.pipeline = static_cast<std::uint32_t>(p.runtime->index);
    for (const auto& c : p.consumers) {
      HandoverConsumer hc{c.rank, c.next_seq, c.finished, c.epochs_reported, c.epochs_announced, {}};
      for (const auto& out : c.outstanding) {
        HandoverBatch b{out.epoch, out.batch, {}};
        for (std::size_t i = 0; i < out.pinned.size(); ++i)
          b.pins.push_back({out.pinned[i].group, out.pinned[i].id, out.servers[i]});
        hc.outstanding.push_back(std::move(b));
      }
      hp.consumers.push_back(std::move(hc));
    }
    for (const auto& [epoch, t] : p.epochs) {
      if (t.printed) continue;
      EpochFigures sum = t.sum;
      sum.pipeline = hp.pipeline;
      sum.epoch = epoch;
      hp.epochs.push_back({sum, t.consumers_reported, t.miss_lists_done, t.layout});
    }
    p.sizes.each([&](std::uint64_t id, std::uint64_t bytes) { hp.sizes.push_back({id, bytes}); });
    h.pipelines.push_back(std::move(hp));
  }
  if (share.directory)
    for (const auto& [key, at] : share.directory->stored_entries())
      h.entries.push_back({key.group, key.id, at.server, at.offset, at.bytes});
  return h;
}

std::vector<char> slabs_to_hold(const Handover& h, std::size_t holders) {
  EntryPlaces where;
  for (const auto& e : h.entries) where[{e.group, e.id}] = e.server;
  std::vector<char> hold(holders, 0);
  for (const auto& hp : h.pipelines)
    for (const auto& c : hp.consumers)
      for (const auto& b : c.outstanding)
        for (const auto& pin : b.pins) {
          FERRY_ENFORCE(pin.server < holders, "handover of pipeline ", hp.pipeline,
                        " pins an entry on slab holder ", pin.server, "; the layout has ", holders);
          const auto it = where.find({pin.group, pin.id});
          if (it == where.end() || it->second != pin.server) hold.at(pin.server) = 1;
        }
  return hold;
}

std::uint64_t restore_entries(CacheShare& share, const Handover& h, EntryPlaces& restored) {
  // An entry on a slab that does not serve here (a role change the retiring randomizer had not applied yet)
  // is left out.
  std::uint64_t left_out = 0;
  for (const auto& e : h.entries) {
    if (share.directory && share.directory->restore({e.group, e.id}, {e.server, e.offset, e.bytes}))
      restored[{e.group, e.id}] = e.server;
    else
      ++left_out;
  }
  return left_out;
}

void adopt_pipeline(RandomizerPipeline& p, const HandoverPipeline& hp, CacheShare& share,
                    const EntryPlaces& restored) {
  FERRY_ENFORCE(p.consumers.size() == hp.consumers.size(), "handover of pipeline ", hp.pipeline, " with ",
                hp.consumers.size(), " consumers, its group has ", p.consumers.size());
  for (std::size_t c = 0; c < hp.consumers.size(); ++c) {
    const HandoverConsumer& from = hp.consumers[c];
    ConsumerState& to = p.consumers[c];
    FERRY_ENFORCE(to.rank == from.rank, "handover of pipeline ", hp.pipeline, ": consumer ", c, " is rank ",
                  from.rank, ", its group says ", to.rank);
    to.next_seq = from.next_seq;
    to.finished = from.finished;
    to.epochs_reported = from.epochs_reported;
    to.epochs_announced = from.epochs_announced;
    // Its batches not yet credited: pinned again here (release() unpins them at the credit). A pin whose
    // entry is gone is counted on its slab all the same, which keeps that slab from restarting under it.
    for (const auto& b : from.outstanding) {
      OutstandingBatch out{b.epoch, b.batch, {}, {}};
      for (const auto& pin : b.pins) {
        const cache::Key key{pin.group, pin.id};
        const auto it = restored.find({pin.group, pin.id});
        if (share.directory && it != restored.end() && it->second == pin.server) share.directory->pin(key);
        out.pinned.push_back(key);
        out.servers.push_back(pin.server);
        ++share.pins_on.at(pin.server);
      }
      to.outstanding.push_back(std::move(out));
    }
  }
  // Variable-length entries: the sizes learned, so that the heir admits those samples at their next miss.
  for (const EntrySize& e : hp.sizes) p.sizes.learn(e.id, e.bytes);
  for (const auto& e : hp.epochs) {
    EpochTally& t = p.epochs[e.sum.epoch];
    t.sum = e.sum;
    t.consumers_reported = static_cast<std::uint32_t>(e.consumers_reported);
    t.miss_lists_sent = t.miss_lists_done = e.miss_lists;
    t.layout = e.layout;
  }
}

}  // namespace ferry::roles
