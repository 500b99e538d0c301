// Randomizer: owns the pipelines of its cache IDs and the cache metadata of its share of every cache
// server. Per consumer it describes up to runtime.prefetch batches ahead (credits): the batch's IDs come
// from the seeded EpochPlan; hits are pinned directory entries, misses go to the transformers (sorted, split
// into contiguous runs) with a slab slot when the policy admits them. A batch whose entry is still pending
// (insert in flight) waits for the server's ack, so two pipelines sharing entries read each sample once.
//
// A randomizer may retire (R3, docs/heterogeneous.md "Moving a randomizer"): told by the coordinator, it
// stops describing, drains (every outstanding batch credited, every insert and miss list answered), hands
// its pipelines, consumer positions, unprinted epoch tallies and its share's directory to the heir (the
// coordinator's randomizer) and ends; the rank goes on as a transformer. The heir then owns two shares: one
// directory per share, each over its own slice of every slab.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "cache/directory.hpp"
#include "monitor/recorder.hpp"
#include "roles/coordinator.hpp"
#include "roles/protocol.hpp"
#include "roles/role_loop.hpp"
#include "sampler/epoch_plan.hpp"

namespace ferry::roles {

class Randomizer final : public RoleLoop {
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
  struct Share;
  struct Outstanding {
    std::uint64_t epoch, batch;
    std::vector<cache::Key> pinned;
    std::vector<std::uint32_t> servers;  // the slab of each pinned key
  };
  struct ConsumerState {
    int rank = 0;
    std::uint32_t index = 0;  // in the pipeline's group
    std::uint64_t next_seq = 0;
    std::deque<Outstanding> outstanding;
    bool finished = false;
    std::uint64_t epochs_reported = 0;   // kEpochDone received from it
    std::uint64_t epochs_announced = 0;  // kEpochDone it sent, as its kFinished says (done waits for them)
  };
  struct EpochTally {
    EpochFigures sum;
    std::uint32_t consumers_reported = 0;
    std::uint64_t miss_lists_sent = 0, miss_lists_done = 0;
    bool printed = false;
    std::string layout;  // service roles when its first batch was described
  };
  struct Pipeline {
    PipelineRuntime* runtime = nullptr;
    const PipelineConfig* config = nullptr;
    sampler::ShareSpec share;
    std::uint64_t batches_per_epoch = 0, total = 0;
    bool cacheable = false;
    std::vector<ConsumerState> consumers;
    std::map<std::uint64_t, EpochTally> epochs;
    std::unique_ptr<sampler::EpochPlan> plan;  // the plan of the epoch last described
    Share* cache = nullptr;                    // the cache share its entries live in
  };
  class Oracle;
  // A randomizer's slice of every slab and the directory over it: this rank's own, and one more per
  // randomizer that handed over to it. Per slab holder, the pins and inserts outstanding (a slab that
  // stopped serving may serve again only once both are 0) and whether it waits to start serving.
  struct Share {
    std::uint32_t index = 0;  // the randomizer index it was planned for
    std::uint64_t base = 0;   // where it starts in every slab
    std::unique_ptr<Oracle> oracle;
    std::unique_ptr<cache::Directory> directory;  // null without a cache
    std::vector<std::uint64_t> pins_on, pending_on;
    std::vector<char> deferred_start;
    std::uint64_t pending_inserts = 0;
    std::uint64_t full_reported = 0;  // directory declines + evictions at the last window report
  };

  const sampler::EpochPlan& plan(Pipeline& p, std::uint64_t epoch);
  bool describe(Pipeline& p, ConsumerState& c);
  Pipeline make_pipeline(std::size_t index, Share* share);
  // A share over the slabs with this randomizer index; `serving_like`: copy which slabs serve (and wait
  // to) from it, else from the layout; `hold`: slabs that wait to serve until the share's pins drain.
  std::unique_ptr<Share> make_share(std::uint32_t index, const Share* serving_like,
                                    const std::vector<char>* hold = nullptr);
  Pipeline* find_pipeline(std::uint32_t index);
  Pipeline& pipeline_of(std::uint32_t index);
  ConsumerState& consumer_of(Pipeline& p, int rank);
  void tally(Pipeline& p, const EpochFigures& f, bool from_consumer);
  void maybe_print(Pipeline& p, std::uint64_t epoch);
  void send_shutdown();
  void release(Share& share, const Outstanding& out);
  void on_stored(const transport::Message& message);
  // Moving a randomizer: the retiring side (drained() then hand_over()) and the heir's (adopt()).
  bool drained() const;
  void hand_over();
  void adopt(const Handover& h);
  void on_forward(const transport::Message& message);
  void dispatch_forwarded(transport::Message m);
  void on_retired(int rank);
  // Monitoring and role rebalancing (the coordinator decides, every randomizer applies).
  void report_window(bool force);
  void maybe_rebalance();
  // The epoch this randomizer is describing (its slowest unfinished consumer's); nothing when all are done.
  std::optional<std::uint64_t> describing_epoch() const;
  // Every consumer finished and every insert and miss list answered (done() may wait for more).
  bool own_work_done() const;
  void apply_role(int rank, Role role);
  void start_deferred();
  std::string roles_text() const;

  std::vector<Pipeline> pipelines_;
  std::vector<std::unique_ptr<Share>> shares_;  // [0]: this rank's own
  std::uint64_t share_bytes_ = 0;               // of every slab per randomizer index
  std::uint64_t miss_lists_sent_ = 0, miss_lists_done_ = 0;
  bool shutdown_sent_ = false;
  bool header_printed_ = false;
  // Role rebalancing: the role of every rank now and the ranks that get miss lists.
  std::vector<Role> roles_;
  std::vector<int> transformers_;
  std::uint64_t dropped_ = 0;
  std::uint64_t stale_acks_ = 0;    // insert acks from slabs that had stopped serving
  std::uint64_t late_credits_ = 0;  // credits that came after their consumer's kFinished
  // Monitoring: hits per slab in the open window, the window clock, and on the coordinator rank the rest.
  std::vector<std::uint64_t> slab_hits_;
  monitor::WindowClock clock_;  // closes this randomizer's own windows (batches described, or time)
  std::unique_ptr<Coordinator> coordinator_;
  std::uint64_t first_epoch_ = 0;                // epoch the run starts in
  std::uint64_t point_epoch_ = 0;                // epoch being described at the last rebalance point
  std::uint64_t point_windows_ = 0;              // coordinator windows at the last rebalance point
  double cpu_reported_ = 0;                      // process CPU seconds at the last window report
  bool final_reported_ = false;                  // this (non-coordinator) randomizer sent its last report
  std::map<int, std::uint64_t> roles_sent_;      // kRole messages sent to each service rank
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
  Writer writer_;
};

}  // namespace ferry::roles
