// The randomizer's side of moving a randomizer (R3, docs/heterogeneous.md "Moving a randomizer"): the
// retiring randomizer drains and hands over; the heir adopts the handover; consumer messages that still
// reach a retired randomizer come forwarded (kForward), possibly ahead of their handover.
#include "core/check.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "roles/handover.hpp"
#include "roles/randomizer.hpp"

namespace ferry::roles {

void Randomizer::on_retire(const transport::Message& message) {
  Reader r(message.bytes);
  RoleChange change;
  decode(r, change);
  FERRY_ENFORCE(change.rank == ctx_.rank && change.heir >= 0 && change.heir != ctx_.rank && !coordinator_,
                "retirement of rank ", change.rank, " to heir ", change.heir, " reached rank ", ctx_.rank);
  log::info("rank {}: randomizer -> transformer at epoch {}, pipelines to rank {} once drained ({})",
            ctx_.rank, change.epoch, change.heir, change.why);
  retiring_ = true;
  heir_ = change.heir;
}

bool Randomizer::drained() const {
  // Outstanding batches are handed over (a consumer credits one only when it asks for the next batch of that
  // pipeline: waiting for it could wait for ever). Inserts and miss lists are answered by service ranks.
  for (const auto& share : shares_)
    if (share->pending_inserts != 0) return false;
  return miss_lists_done_ == miss_lists_sent_;
}

void Randomizer::hand_over() {
  FERRY_ENFORCE(shares_.size() == 1, "rank ", ctx_.rank, " retires with ", shares_.size(), " cache shares");
  const Handover h = describe_handover(pipelines_, *shares_.front());
  Writer w;
  encode(w, h);
  report_.control_bytes += w.size();
  ctx_.fabric->send(heir_, kHandover, w.view());
  log::info("rank {}: handed {} pipeline(s) and {} cache entries to rank {}; transforms from now on",
            ctx_.rank, h.pipelines.size(), h.entries.size(), heir_);
  ctx_.stats_line(str_cat("{\"kind\":\"handover\",\"rank\":", ctx_.rank, ",\"heir\":", heir_,
                          ",\"pipelines\":", h.pipelines.size(), ",\"entries\":", h.entries.size(),
                          ",\"bytes\":", w.size(), "}"));
  // Nothing of the pipelines stays here: the last report says done, so the coordinator stops waiting. The
  // batches outstanding went with them (their inserts are acked: drained()), and their admissions with them.
  pipelines_.clear();
  shares_.front()->outstanding_admitted = 0;
  retired_ = true;
  ++report_.role_changes;
  report_window(true);
  for (int r : ctx_.layout.randomizers)
    if (r != ctx_.rank) ctx_.fabric->send(r, kRetired, {});
  send_shutdown();
}

void Randomizer::on_handover(const transport::Message& message) {
  Reader r(message.bytes);
  Handover h;
  decode(r, h);
  FERRY_ENFORCE(awaiting_handovers_ > 0, "handover from rank ", message.source, " that rank ", ctx_.rank,
                " did not wait for");
  adopt(h);
  --awaiting_handovers_;
  if (coordinator_) coordinator_->retired(message.source);  // or on kRetired, whichever comes first
  log::info("rank {}: took over {} pipeline(s) and {} cache entries from rank {}", ctx_.rank,
            h.pipelines.size(), h.entries.size(), message.source);
  // Consumer messages forwarded ahead of their handover (this one's, or another's still on its way).
  std::vector<transport::Message> early = std::move(early_);
  early_.clear();
  for (auto& m : early) dispatch_forwarded(std::move(m));
}

void Randomizer::adopt(const Handover& h) {
  const std::vector<char> hold = slabs_to_hold(h, ctx_.layout.slab_holders.size());
  auto owned = make_share(h.share, shares_.front().get(), &hold);
  Share* share = owned.get();
  shares_.push_back(std::move(owned));
  EntryPlaces restored;
  const std::uint64_t left_out = restore_entries(*share, h, restored);
  dropped_ += left_out;
  if (left_out)
    log::info("handover: {} cache entries on slabs that no longer serve dropped (counted)", left_out);
  for (const auto& hp : h.pipelines) {
    FERRY_ENFORCE(!find_pipeline(hp.pipeline), "rank ", ctx_.rank, " took over pipeline ", hp.pipeline,
                  " twice");
    Pipeline p = make_pipeline(hp.pipeline, share);
    adopt_pipeline(p, hp, *share, restored);
    pipelines_.push_back(std::move(p));
  }
}

void Randomizer::on_forward(const transport::Message& message) {
  // [source][tag][the consumer's bytes]: handled as if the consumer had sent it here.
  Reader r(message.bytes);
  transport::Message m;
  m.source = static_cast<int>(r.u());
  m.tag = static_cast<transport::Tag>(r.u());
  FERRY_ENFORCE(m.tag == kCredit || m.tag == kFinished || m.tag == kEpochDone, "forwarded message tag ",
                m.tag, " from rank ", message.source);
  const auto bytes = r.raw(r.u());
  m.bytes.assign(bytes.begin(), bytes.end());
  dispatch_forwarded(std::move(m));
}

void Randomizer::dispatch_forwarded(transport::Message m) {
  Reader first(m.bytes);
  const auto pipeline = static_cast<std::uint32_t>(first.u());  // every one of them starts with the pipeline
  if (!find_pipeline(pipeline)) {
    early_.push_back(std::move(m));  // it overtook its handover
    return;
  }
  on_message(m);
}

void Randomizer::on_retired(int rank) {
  const auto at = static_cast<std::size_t>(rank);
  FERRY_ENFORCE(at < roles_.size() && roles_[at] == Role::randomizer && rank != ctx_.rank, "rank ", rank,
                " says it retired, but is no other randomizer");
  roles_[at] = Role::transformer;
  miss_targets_.add(rank);
  if (coordinator_) coordinator_->retired(rank);
  log::info("rank {}: rank {} transforms now", ctx_.rank, rank);
}

}  // namespace ferry::roles
