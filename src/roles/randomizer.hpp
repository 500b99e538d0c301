// Randomizer: owns the pipelines of its cache IDs and the cache metadata of its share of every cache
// server. Per consumer it describes up to runtime.prefetch batches ahead (credits): the batch's IDs come
// from the seeded EpochPlan; hits are pinned directory entries, misses go to the transformers (sorted, split
// into contiguous runs) with a slab slot when the policy admits them. A batch whose entry is still pending
// (insert in flight) waits for the server's ack, so two pipelines sharing entries read each sample once.
//
// A randomizer may retire (R3, docs/heterogeneous.md "Moving a randomizer"): told by the rebalancer, it stops
// describing, waits for its inserts and miss lists, hands its pipelines, consumer positions, uncredited
// batches, unprinted epoch tallies and its share's directory to the heir (the coordinator's randomizer;
// handover.hpp) and ends; the rank goes on as a transformer. The heir then owns two shares: one directory
// per share, each over its own slice of every slab.
//
// The first randomizer also hosts the coordinator's room: the Coordinator (windows, job lists) and the
// Rebalancer (rebalance points, role policy), which reaches this randomizer's cache shares through
// RebalanceHost. Neither is part of describing batches.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "monitor/recorder.hpp"
#include "roles/coordinator.hpp"
#include "roles/epoch_table.hpp"
#include "roles/miss_targets.hpp"
#include "roles/protocol.hpp"
#include "roles/randomizer_state.hpp"
#include "roles/rebalancer.hpp"
#include "roles/role_loop.hpp"

namespace ferry::roles {

class Randomizer final : public RoleLoop, private RebalanceHost {
 public:
  explicit Randomizer(Context& ctx);
  ~Randomizer() override;
  // After run(): this rank handed its pipelines over and goes on as a transformer.
  bool retired() const noexcept { return retired_; }
  int heir() const noexcept { return heir_; }
  // kShutdown messages of other randomizers it received (a former randomizer counts them as a transformer).
  int shutdowns_seen() const noexcept { return shutdowns_seen_; }

 protected:
  void on_message(transport::Message& message) override;
  void after_messages() override;
  bool done() const override;
  void finish(ServeReport& report) override;

 private:
  using Pipeline = RandomizerPipeline;
  using Share = CacheShare;
  using Outstanding = OutstandingBatch;

  const sampler::EpochPlan& plan(Pipeline& p, std::uint64_t epoch);
  bool describe(Pipeline& p, ConsumerState& c);
  // describe()'s misses (ascending IDs) in runs to the consumer's transformers; sets their sources in `d`.
  void send_misses(Pipeline& p, const ConsumerState& c, Descriptor& d,
                   std::map<std::uint64_t, MissEntry>& misses);
  // randomizer_head.cpp: whether batch (epoch, batch) of `p` runs its augment head on a transformation
  // rank (the job list's head share, routed by the pipeline batch number); and such a batch's one list, its
  // misses and its hits to read from the cache, to one of the consumer's transformers.
  bool head_away(const Pipeline& p, std::uint64_t epoch, std::uint64_t batch) const;
  // A miss list to transformer `to`, counted; the index of a transformer rank among the miss targets.
  void send_list(EpochTally& tally, const Misses& list, int to);
  std::uint32_t transformer_index(int rank) const;
  void send_past_head(Pipeline& p, const ConsumerState& c, Descriptor& d,
                      std::map<std::uint64_t, MissEntry>& misses,
                      std::map<std::uint64_t, FetchEntry>& fetches);
  void describe_all();
  // describe() under runtime.inserts_in_flight_bytes (docs/cache.md, "Inserts in flight"): false, and
  // nothing described, while the inserts of p's share admitted for batches already credited and not acked
  // yet (the backlog: those in flight less those of the batches outstanding) are at the bound. Keeps the
  // batch's admitted bytes with it until its credit (release()).
  bool describe_bounded(Pipeline& p, ConsumerState& c);
  // The bytes to reserve for sample `id` when it misses: the fixed entry size, or a variable entry's size as
  // learned from a transformer; 0 when it is not to be admitted.
  std::uint64_t admit_bytes(const Pipeline& p, std::uint64_t id) const;
  Pipeline make_pipeline(std::size_t index, Share* share);
  // A share over the slabs with this randomizer index; `serving_like`: copy which slabs serve (and wait
  // to) from it, else from the layout; `hold`: slabs that wait to serve until the share's pins drain.
  std::unique_ptr<Share> make_share(std::uint32_t index, const Share* serving_like,
                                    const std::vector<char>* hold = nullptr);
  Pipeline* find_pipeline(std::uint32_t index);
  Pipeline& pipeline_of(std::uint32_t index);
  ConsumerState& consumer_of(Pipeline& p, int rank);
  void on_credit(const transport::Message& message);
  void on_finished(const transport::Message& message);
  void send_shutdown();
  void release(Share& share, const Outstanding& out);
  // randomizer_inserts.cpp: an admitted entry stored (kStored) or given back (kMissDone).
  void on_stored(const transport::Message& message);
  void on_miss_done(const transport::Message& message);
  // The share an entry at `offset` of a slab is in (InternalError naming rank `from` when none is).
  Share* share_at(std::uint64_t offset, int from);
  // Moving a randomizer: the retiring side (drained() then hand_over()) and the heir's (adopt()).
  bool drained() const;
  void hand_over();
  void adopt(const Handover& h);
  void on_retire(const transport::Message& message);
  void on_handover(const transport::Message& message);
  void on_forward(const transport::Message& message);
  void dispatch_forwarded(transport::Message m);
  void on_retired(int rank);
  // Monitoring: this randomizer's window to the coordinator.
  void report_window(bool force);
  void report_progress();
  // randomizer_shards.cpp: directory shards (runtime.directory_shards). Shard 0 takes another shard's epoch
  // tally or final count (kShardEpoch); the others send theirs; whether a pipeline's shards are all in.
  void on_shard_epoch(const transport::Message& message);
  void send_shard_finals();
  // Into own_: the positions of consumer c's batch (epoch, batch) this randomizer describes, with their IDs:
  // every one, or its directory shard's (ShardPositions, built once an epoch).
  void own_positions(Pipeline& p, const ConsumerState& c, std::uint64_t epoch, std::uint64_t batch);
  bool shards_done(const Pipeline& p) const;
  // Every consumer finished and every insert and miss list answered (done() may wait for more).
  bool own_work_done() const;
  void start_deferred();

  // RebalanceHost: what the rebalancer (on the coordinator's randomizer) reads and changes here.
  std::optional<std::uint64_t> describing_epoch() const override;
  std::optional<bool> reached(std::uint64_t epoch, std::uint64_t batch) const override;
  // The pipeline a scripted position is measured on and held at: the first of this randomizer's pipelines
  // that still describes. Only one is held: a consumer that reads several pipelines in turn would otherwise
  // wait on one held pipeline while another waited for its credits.
  const Pipeline* lead() const;
  // Position of batch `batch` of epoch `epoch` in the pipeline's sequence (its end when past it).
  static std::uint64_t mark(const Pipeline& p, std::uint64_t epoch, std::uint64_t batch);
  void close_window() override { report_window(true); }
  const std::vector<Role>& roles() const override { return roles_; }
  bool only_serving_slab(int rank) const override;
  void apply_role(int rank, Role role) override;
  void expect_handover() override { ++awaiting_handovers_; }
  std::string roles_text() const override;

  std::vector<Pipeline> pipelines_;
  std::vector<std::unique_ptr<Share>> shares_;  // [0]: this rank's own
  std::uint64_t share_bytes_ = 0;               // of every slab per randomizer index
  std::uint64_t miss_lists_sent_ = 0, miss_lists_done_ = 0;
  bool shutdown_sent_ = false;
  EpochTable table_;
  // Role rebalancing: the role of every rank now and the ranks that get miss lists.
  std::vector<Role> roles_;
  MissTargets miss_targets_;
  std::uint64_t dropped_ = 0;
  std::uint64_t stale_acks_ = 0;    // insert acks and give-backs from slabs that had stopped serving
  std::uint64_t late_credits_ = 0;  // credits that came after their consumer's kFinished
  // Monitoring: hits per slab in the open window, the window clock; on the coordinator rank its room.
  std::vector<std::uint64_t> slab_hits_;
  monitor::WindowClock clock_;  // closes this randomizer's own windows (batches described, or time)
  std::unique_ptr<Coordinator> coordinator_;
  monitor::JobList jobs_;                        // the coordinator's latest (kJobs), on the other randomizers
  std::unique_ptr<Rebalancer> rebalancer_;       // with monitor.rebalance, beside the coordinator
  double cpu_reported_ = 0;                      // process CPU seconds at the last window report
  bool final_reported_ = false;                  // this (non-coordinator) randomizer sent its last report
  std::optional<std::uint64_t> reported_epoch_;  // the describing epoch it last reported
  // Moving a randomizer. Retiring side: told to (kRetire), handed over (then done). Heir: handovers it
  // waits for (it must not end before they come), and consumer messages forwarded before their handover.
  bool retiring_ = false, retired_ = false;
  bool released_ = false;  // the coordinator let it end (R3 possible: no kRetire can come any more)
  int heir_ = -1;
  int shutdowns_seen_ = 0;
  std::uint64_t awaiting_handovers_ = 0;
  std::vector<transport::Message> early_;
  // Scratch, reused per batch.
  std::vector<std::uint64_t> ids_;
  std::vector<ShardPositions::Own> own_;
  Writer writer_;
};

}  // namespace ferry::roles
