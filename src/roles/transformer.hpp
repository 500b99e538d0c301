// Service ranks other than randomizers. A transformation rank takes miss lists, reads the samples from HDF5
// in ascending order (coalesced), runs the prepare stage, sends the entries to the consumer and stores
// admitted ones on their cache server. A cache server holds a slab registered for one-sided gets and copies
// inserts to the offsets the randomizer chose, then acks them.
//
// One class plays both, because with role rebalancing (monitor.rebalance) a rank may change between them at
// a rebalance point: the randomizers decide where misses and inserts go, and the rank serves whatever it is
// sent. A miss list that was on its way when the rank became a cache server is still prepared, and an insert
// into its slab is still stored: no message is lost and no batch waits for a handover.
//
// Threads: the progress thread (RoleLoop) owns the transport and HDF5 (neither is thread-safe here). It reads
// a miss list's samples, then submits the prepare stage to the rank's WorkerQueue (runtime.transform_workers
// CPU workers, each with its own chains; a finished job wakes the progress thread with Fabric::wake()).
// A batch the job list routes to the accelerator goes to the same
// queue as a control message (a DeviceJob) when the rank has one (runtime.accelerator) and the pipeline's
// prepare chain has device kernels for every op. A finished batch comes back through a hand-off queue, and
// the progress thread assembles the entries and sends them. With one CPU worker and no device the queue would
// only add two thread switches per batch, so such a rank prepares on its progress thread (the worker's
// chains).
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "monitor/job_list.hpp"
#include "roles/accelerator_use.hpp"
#include "roles/entry.hpp"
#include "roles/layout.hpp"
#include "roles/protocol.hpp"
#include "roles/reporter.hpp"
#include "roles/role_loop.hpp"
#include "transform/worker_queue.hpp"

namespace ferry::roles {

// A randomizer that handed its pipelines over (R3) and transforms from now on.
struct FormerRandomizer {
  int heir = -1;      // consumer messages that still reach this rank go there
  int shutdowns = 0;  // kShutdown messages counted already: its own, and those it got as a randomizer
};

class ServiceRank final : public RoleLoop {
 public:
  // `slab`: this rank's cache slab (empty when it holds none).
  ServiceRank(Context& ctx, std::span<std::byte> slab, std::optional<FormerRandomizer> former = std::nullopt);
  ~ServiceRank() override;

 protected:
  void on_message(transport::Message& message) override;
  void after_messages() override;
  bool done() const override;
  void finish(ServeReport& report) override;
  std::chrono::microseconds idle_wait() const override;

 private:
  struct Batch;
  void start(Misses misses, int randomizer);
  void submit(std::shared_ptr<Batch> batch);
  void send_finished();
  void deliver(Batch& batch);
  void store(transport::Message& message);
  void open_accelerator();
  // Device-resident batches: whether this batch's device-prepared field goes to its consumer device to
  // device (the field has no augment stage there, the entries are fixed-size, both ranks are on the link).
  bool sends_on_device(const Misses& misses) const;
  // Posts the send the consumer asked for with kDeviceReady; progress() completes posted sends.
  void post_device_send(transport::Message& message);
  void progress_device_sends();
  void drop_device_sends() noexcept;

  std::span<std::byte> slab_;
  Role role_;
  std::optional<FormerRandomizer> former_;
  std::uint64_t forwarded_ = 0;                 // consumer messages sent on to the heir
  std::map<std::size_t, EntryLayout> layouts_;  // per pipeline index (every rank that may transform)
  // [worker][pipeline index]: that worker's copy of every field's prepare chain.
  std::vector<std::map<std::size_t, std::vector<std::optional<transform::Chain>>>> chains_;
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
  std::size_t in_flight_ = 0;                    // submitted, not yet sent (progress thread only)
  std::vector<std::shared_ptr<Batch>> spare_;    // sent batches kept for reuse (progress thread only)
  // Device-resident batches: device results announced to their consumers (kSamples with a transfer
  // number), kept on the device until the consumer has posted its receive and the send completed.
  struct DeviceSend {
    std::uint64_t ticket = 0;  // the kept device job (WorkerQueue::release_kept)
    int consumer = 0;
    const std::byte* data = nullptr;
    std::size_t bytes = 0;
    bool posted = false;
    transform::PeerLink::Transfer transfer = 0;
    std::chrono::steady_clock::time_point posted_at;
  };
  std::map<std::uint64_t, DeviceSend> device_sends_;  // by transfer number
  std::uint64_t next_transfer_ = 1;
  std::size_t sends_posted_ = 0;
  int shutdowns_ = 0;
  std::uint64_t roles_expected_ = 0, roles_received_ = 0;  // kRole messages announced by shutdowns, applied
  std::vector<std::uint64_t> starts_;
  std::vector<std::byte> entries_;
  Writer out_, insert_, ack_, forward_;
};

}  // namespace ferry::roles
