// A pipeline described by several randomizers, one per directory shard (runtime.directory_shards;
// docs/scaling.md, "The directory sharded by key range"): shard 0 prints the epoch table, so every other
// shard sends it its figures of each epoch (EpochTable::send_to_lead) and, once all its consumers finished,
// a final message with how many it sent. Shard 0 ends only when every final and every tally it announced
// are in: messages may arrive in any order.
#include <algorithm>

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "roles/randomizer.hpp"

namespace ferry::roles {
namespace {

constexpr std::uint64_t kTally = 0, kFinal = 1;  // kShardEpoch's first field

}  // namespace

void Randomizer::on_shard_epoch(const transport::Message& message) {
  Reader r(message.bytes);
  const std::uint64_t kind = r.u();
  if (kind == kTally) {
    EpochFigures f;
    decode(r, f);
    Pipeline& p = pipeline_of(f.pipeline);
    FERRY_ENFORCE(p.shard == 0 && p.shards > 1, "an epoch tally of pipeline '", p.config->name,
                  "' from rank ", message.source, " reached rank ", ctx_.rank,
                  ", which is not its directory shard 0");
    ++p.tallies_received;
    table_.add(p, f, EpochTable::From::shard);
    return;
  }
  FERRY_ENFORCE(kind == kFinal, "directory shard message of unknown kind ", kind, " from rank ",
                message.source);
  Pipeline& p = pipeline_of(static_cast<std::uint32_t>(r.u()));
  FERRY_ENFORCE(p.shard == 0 && p.finals + 1 < p.shards, "an unexpected final shard message for pipeline '",
                p.config->name, "' from rank ", message.source);
  ++p.finals;
  p.tallies_announced += r.u();
}

void Randomizer::send_shard_finals() {
  for (auto& p : pipelines_) {
    if (p.shard == 0 || p.final_sent) continue;
    table_.flush_shard(p);  // epochs whose consumers moved on since their last list was answered
    const bool finished = std::all_of(p.consumers.begin(), p.consumers.end(),
                                      [](const ConsumerState& c) { return c.finished; });
    if (!finished || !p.epochs.empty()) continue;  // a consumer still reads, or a list is still out
    p.final_sent = true;
    Writer w;
    w.u(kFinal).u(p.runtime->index).u(p.tallies_sent);
    ctx_.fabric->send(p.lead, kShardEpoch, w.view());
  }
}

void Randomizer::own_positions(Pipeline& p, const ConsumerState& c, std::uint64_t epoch,
                               std::uint64_t batch) {
  own_.clear();
  if (p.shards == 1) {
    plan(p, epoch).batch_ids(c.index, batch, ids_);
    for (std::size_t i = 0; i < ids_.size(); ++i) own_.push_back({static_cast<std::uint32_t>(i), ids_[i]});
    return;
  }
  // The epoch fence keeps every consumer in one epoch: the previous epoch's positions are not needed again.
  if (!p.positions || p.positions->epoch() != epoch)
    p.positions = std::make_unique<ShardPositions>(p.share, plan(p, epoch), p.keys);
  const auto mine = p.positions->batch(c.index, batch);
  own_.assign(mine.begin(), mine.end());
}

bool Randomizer::shards_done(const Pipeline& p) const {
  if (p.shards == 1) return true;
  if (p.shard != 0) return p.final_sent;
  return p.finals + 1 == p.shards && p.tallies_received == p.tallies_announced;
}

}  // namespace ferry::roles
