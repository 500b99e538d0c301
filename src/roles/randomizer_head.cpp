// The randomizer's part of the movable augment head (docs/heterogeneous.md, "The movable head"): which
// batches run their head on a transformation rank, and the one list that sends such a batch there.
#include "roles/randomizer.hpp"

namespace ferry::roles {

bool Randomizer::head_away(const Pipeline& p, std::uint64_t epoch, std::uint64_t batch) const {
  if (!p.runtime->head_moves) return false;
  // This rank's coordinator holds the list it sent last; the other randomizers get it as kJobs. Before the
  // first list, the static policy's share (placement_before_jobs), nothing for the adaptive one.
  const monitor::JobList* jobs = coordinator_ ? coordinator_->jobs() : &jobs_;
  const auto pipeline = static_cast<std::uint32_t>(p.runtime->index);
  const monitor::OpPlacement* placement = jobs ? jobs->find(pipeline, 0, monitor::Stage::head) : nullptr;
  const monitor::OpPlacement initial =
      monitor::placement_before_jobs(ctx_.monitor.policy, pipeline, monitor::Stage::head);
  // The pipeline batch number: every consumer's batch k of an epoch goes the same way.
  return monitor::route(placement ? *placement : initial, epoch * p.batches_per_epoch + batch) ==
         monitor::Target::accelerator;
}

void Randomizer::send_past_head(Pipeline& p, const ConsumerState& c, Descriptor& d,
                                std::map<std::uint64_t, MissEntry>& misses,
                                std::map<std::uint64_t, FetchEntry>& fetches) {
  // One list to one of the consumer's transformers (its node's, where it has any), turning with batch and
  // consumer as send_misses() does: the batch arrives in one kSamples, past its head.
  const auto& transformers = miss_targets_.of(c.rank);
  FERRY_ENFORCE(!transformers.empty(), "no transformation rank for consumer ", c.rank);
  const int to = transformers[static_cast<std::size_t>((d.batch + c.index) % transformers.size())];
  const std::uint32_t who = transformer_index(to);
  for (auto& source : d.sources) source = {source.hit, who, 0, 0};  // a hit still counts as one
  Misses list{d.pipeline, d.epoch, d.batch, c.rank, {}, false, {}};
  list.head = true;
  for (auto& [id, m] : misses) list.entries.push_back(std::move(m));
  for (auto& [id, f] : fetches) list.fetches.push_back(std::move(f));
  auto& tally = p.epochs[d.epoch];
  if (tally.layout.empty()) tally.layout = roles_text();
  send_list(tally, list, to);
}

}  // namespace ferry::roles
