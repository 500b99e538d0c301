// The transformation part of a service rank: it takes miss lists, reads the samples from HDF5 in ascending
// order (coalesced), runs the prepare stage, sends the entries to the consumer, sends admitted ones to their
// cache server (kInsert) and reports the batch to its randomizer (kMissDone, with the sizes of the
// variable-length entries it did not insert: docs/cache.md, "Variable entries"). It also keeps the rank's
// monitoring windows (StatsReporter): everything they measure is this pipeline's work.
//
// Threads: the progress thread (ServiceRank's loop) owns the transport. HDF5 (not thread-safe here) belongs
// to one thread at a time: with runtime.read_ahead_bytes > 0 to the reader thread (transform::ReadAhead),
// which reads each miss list as it arrives, in arrival order, within that byte budget, while the progress
// thread prepares and sends the lists before it; with 0 to the progress thread, which reads a list when it
// arrives. The progress thread then submits the prepare stage to the rank's WorkerQueue
// (runtime.transform_workers CPU workers, each with its own chains; a finished job wakes the progress thread
// with Fabric::wake()). A batch the job list routes to the accelerator goes to the same queue as a control
// message (a DeviceJob) when the rank has one (runtime.accelerator) and the pipeline's prepare chain has
// device kernels for every op. A finished batch comes back through a hand-off queue, and the progress thread
// assembles the entries and sends them. With one CPU worker and no device the queue would only add two
// thread switches per batch, so such a rank prepares on its progress thread (the worker's chains).
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "ferry/stats.hpp"
#include "monitor/job_list.hpp"
#include "roles/accelerator_use.hpp"
#include "roles/context.hpp"
#include "roles/device_sends.hpp"
#include "roles/entry.hpp"
#include "roles/protocol.hpp"
#include "roles/reporter.hpp"
#include "roles/send_pool.hpp"
#include "transform/read_ahead.hpp"
#include "transform/worker_queue.hpp"

namespace ferry::roles {

class MissPipeline {
 public:
  // `report`: the rank's, which counts the samples prepared, the HDF5 reads and the inserts sent.
  MissPipeline(Context& ctx, ServeReport& report);
  ~MissPipeline();

  // A kMisses from `randomizer`: read now, prepare here or on the queue, deliver when prepared.
  void start(Misses misses, int randomizer);
  // A kJobs: where each pipeline's prepare stage runs from now on.
  void set_jobs(monitor::JobList jobs) { jobs_ = std::move(jobs); }
  // A kStats from a rank of this node (this rank is its stats leader): goes out with the next bundle.
  void relay_stats(const transport::Message& message) { reporter_->relay(message.bytes); }
  // A kDeviceReady from a consumer.
  void post_device_send(const transport::Message& message) { device_sends_.post(message); }
  // A kFetched from a consumer or cache server: its gets from a send pool slot are complete.
  void fetched(const transport::Message& message);
  // After every round of messages: delivers what the workers finished, completes device sends, samples the
  // accelerator and ships a monitoring window when one is due.
  void progress();
  // Nothing submitted and not yet sent, no device send posted: the rank may end.
  bool drained() const noexcept { return in_flight_ == 0 && device_sends_.posted() == 0; }
  // A posted device send completes without a message: the loop must not sleep long.
  bool sending_on_device() const noexcept { return device_sends_.posted() > 0; }
  // At the end of the run: device results announced but never asked for belong to consumers that stopped
  // early; they are dropped.
  void finish() noexcept;

 private:
  struct Batch;
  // Reads the batch's samples (the reader thread's, or this thread's without read-ahead).
  void read(Batch& batch);
  // Read batches, in arrival order: on to prepare and delivery.
  void take_reads();
  // A read that has lasted runtime.peer_timeout_s: the rank reports itself (its loop is idle meanwhile).
  void watch_reader();
  // Routes a read batch to its prepare stage (here, the workers or the accelerator).
  void dispatch(std::shared_ptr<Batch> batch);
  void submit(std::shared_ptr<Batch> batch);
  void send_finished();
  void deliver(Batch& batch);
  // miss_pool_delivery.cpp. Before a CPU prepare: a send pool slot for the batch's large fixed-size
  // entries, which the stage writes into (fields.into), when the pool has room.
  void reserve_pool(Batch& batch);
  // The batch's entries in a send pool slot (the reserved one, or one taken and filled now), kSamplesAt and
  // kInsertAt naming it, and the randomizer's answer; false (nothing sent) when the pool has no room for it.
  bool deliver_from_pool(Batch& batch, std::chrono::steady_clock::time_point t0);
  void answer(Batch& batch, MissDone& done, std::uint64_t sent, std::uint64_t held, std::uint64_t send_ns);
  void open_accelerator();
  // Device-resident batches: whether this batch's device-prepared field goes to its consumer device to
  // device (the field has no augment stage there, the entries are fixed-size, both ranks are on the link).
  bool sends_on_device(const Misses& misses) const;
  // miss_head.cpp, a batch past its augment head (docs/heterogeneous.md, "The movable head"): its hits read
  // from their slabs (this thread: the transport's), the head run over every sample (a worker, after the
  // prepare stage, with its own head chains), and the samples sent past it with the misses' inserts.
  void fetch(Batch& batch);
  void run_heads(Batch& batch, std::vector<std::optional<transform::Chain>>& heads);
  void deliver_past_head(Batch& batch);
  // Entry j of a batch past its head, appended to `out` (a Writer, or a ByteCount for its length first):
  // each field's sample after its head (with its shape where the head ends variable), or as prepared
  // (length-prefixed where it is variable), as entry_layout(proc, true) reads it on the consumer. `entry`:
  // its prepared entry.
  template <typename Out>
  void past_head_entry(const Batch& batch, std::size_t j, std::span<const std::byte> entry, Out& out) const;
  // deliver()'s and deliver_past_head()'s inserts: entry i of the list to the slab its randomizer reserved,
  // written by `put`, one message per slab holder.
  void send_inserts(const Batch& batch, const std::map<std::uint32_t, std::vector<std::size_t>>& inserts,
                    const std::function<std::uint64_t(Writer&, std::size_t)>& put);
  // Bytes per entry of `batch` that its prepare stage wrote (fields with a chain) and that reach the host.
  std::uint64_t prepared_copy_bytes(const Batch& batch) const;

  Context& ctx_;
  ServeReport& report_;
  std::map<std::size_t, EntryLayout> layouts_;  // per pipeline index (every rank that may transform)
  // [worker][pipeline index]: that worker's copy of every field's prepare chain.
  std::vector<std::map<std::size_t, std::vector<std::optional<transform::Chain>>>> chains_;
  // [worker][pipeline index]: that worker's head chains, for pipelines whose augment head may run here;
  // and those pipelines' entry layouts past the head.
  std::vector<std::map<std::size_t, std::vector<std::optional<transform::Chain>>>> heads_;
  std::map<std::size_t, EntryLayout> head_layouts_;
  std::map<std::size_t, std::uint64_t> routed_;  // per pipeline: batches routed so far (job list routing)
  monitor::JobList jobs_;
  // Accelerator (optional): per pipeline, the one field whose prepare chain runs there and its program.
  struct DeviceRoute {
    std::size_t field = 0;
    std::uint64_t program = 0;
  };
  std::unique_ptr<AcceleratorUse> accelerator_;
  std::map<std::size_t, DeviceRoute> device_routes_;
  std::unique_ptr<StatsReporter> reporter_;
  std::unique_ptr<transform::WorkerQueue> queue_;
  std::mutex finished_mutex_;
  std::deque<std::shared_ptr<Batch>> finished_;  // handed off by the queue, not yet sent
  std::size_t in_flight_ = 0;  // read ahead or submitted, not yet sent (progress thread only)
  std::unique_ptr<transform::ReadAhead> read_ahead_;  // runtime.read_ahead_bytes > 0
  std::deque<std::shared_ptr<Batch>> reading_;        // pushed to the read-ahead, not yet taken, in order
  bool reader_reported_ = false;                      // watch_reader() reported a hung read
  std::vector<std::shared_ptr<Batch>> spare_;         // sent batches kept for reuse (progress thread only)
  // Field buffers of sent batches, for the next read (taken by the reading thread, given by this one): at
  // most as many as were ever read and unsent at once, so within the read-ahead's budget.
  std::mutex fields_mutex_;
  std::vector<BatchFields> spare_fields_;
  DeviceSends device_sends_;
  SendPool pool_;             // one-sided delivery of large entries (roles/send_pool.hpp)
  bool pool_warned_ = false;  // a miss list larger than the whole pool was reported
  std::vector<std::uint64_t> starts_;
  std::vector<std::byte> entries_;  // variable entries only: fixed ones go from the fields to the messages
  // fetch()'s gets that passed their deadline, with the bytes they may still write into: kept while this
  // pipeline lives (its error ends the job), never waited for (a get that never completes would hold this
  // rank instead of ending the job with the line).
  std::vector<transport::Request> late_gets_;
  std::vector<std::vector<std::byte>> late_bytes_;
  Writer out_, insert_;
  // Prepared bytes sent per path and the bytes written on their way after H5Dread (docs/runtime.md,
  // "Copies"); a stats line {"kind":"transformer_copies",...} at finish().
  struct Copies {
    std::uint64_t miss_bytes = 0, miss_copied = 0, insert_bytes = 0, insert_copied = 0;
    std::uint64_t pool_batches = 0, message_batches = 0;  // batches delivered each way
  } copies_;
};

}  // namespace ferry::roles
