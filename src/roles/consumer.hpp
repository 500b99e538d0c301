// The consumer side of the runtime: receives batch descriptors and samples, fetches cache hits with
// one-sided gets straight into the batch (BatchAssembly: a pool of runtime.prefetch batch slots, faulted in
// and registered once), assembles batches in order (augment stage included), and hands one batch at a time
// to the training loop.
// Progress happens inside next_batch() on the caller's thread: no extra thread touches MPI or UCX.
#pragma once

#include <chrono>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "ferry/loader.hpp"
#include "monitor/job_list.hpp"
#include "roles/accelerator_use.hpp"
#include "roles/batch_assembly.hpp"
#include "roles/context.hpp"
#include "roles/protocol.hpp"
#include "roles/reporter.hpp"
#include "sampler/epoch_plan.hpp"

namespace ferry::roles {

class ConsumerEngine {
 public:
  explicit ConsumerEngine(Context& ctx);
  ~ConsumerEngine();

  Loader& loader(std::string_view name);
  std::vector<std::string> names() const;
  const Batch* next_batch(std::size_t local);
  // Completes reads still in flight into this engine's buffers, then tells the randomizers this consumer
  // takes no more batches (end of use, early stop or failure). Call before destroying the engine.
  void finish_all(bool failing = false) noexcept;
  // Another rank's failure (kAbort) ended this consumer: that rank told every rank already.
  bool remote_failure() const noexcept { return remote_failure_; }

  const std::string& name(std::size_t local) const;
  std::string state(std::size_t local) const;
  std::uint64_t batches_per_epoch(std::size_t local) const;
  std::uint64_t dataset_size(std::size_t local) const;
  const LoaderCounters& counters(std::size_t local) const;

 private:
  struct Slot;
  struct DeviceRun;
  struct Pipe;

  Slot& slot_for(Pipe& p, std::uint64_t epoch, std::uint64_t batch);
  // Epoch `epoch` of `p` is about to start: fails the job (kAbort, dataset kind) when a file changed.
  void check_dataset(Pipe& p, std::uint64_t epoch);
  // next_batch()'s steps (consumer_batch.cpp): the held batch's credit, the queue's occupancy for the
  // monitor, the wait for slot `s` (nanoseconds waited), and the figures of a batch handed out.
  void give_back(Pipe& p);
  // kFinished to each of the pipeline's randomizers (one per directory shard), with the kEpochDone count it
  // sent that one. `warn_only` (shutdown): a send that fails is a warning naming the rank, and the others
  // still go.
  void send_finished(Pipe& p, bool warn_only = false);
  void sample_queue(Pipe& p);
  std::uint64_t wait_for(Pipe& p, Slot& s);
  void count_batch(Pipe& p, const Slot& s, std::uint64_t batch, std::uint64_t waited_ns);
  void dispatch(transport::Message& message);
  void on_descriptor(const transport::Message& message);
  void on_samples(const transport::Message& message);
  // consumer_pool.cpp: a kSamplesAt (entries in the sender's send pool): starts the gets into place.
  void on_samples_at(const transport::Message& message);
  // Sends kFetched for every send pool slot whose gets are complete, oldest first.
  void answer_fetches();
  // The records of positions whose samples a transformer skipped (bad_samples = skip), after the entries of
  // a kSamples or kSamplesAt: dropped from the batch.
  void take_skipped(Reader& r, Slot& s, std::uint64_t records);
  bool ready(Pipe& p, Slot& s);
  void assemble(Pipe& p, Slot& s);
  // Variable entries of `layout` (the pipeline's, or past its head): every sample's bytes of fixed-size
  // `field`, in batch order, at `out` (a skipped position's left as they are).
  void gather_into(Slot& s, const EntryLayout& layout, std::size_t field, std::byte* out);
  // A variable field's samples back to back into `bytes`, their offsets into the slot (a skipped position
  // adds none).
  void gather_variable(Slot& s, const EntryLayout& layout, std::size_t field, std::vector<std::byte>& bytes);
  // Field `field` of a batch past a head that ends in a per-sample shape: every sample's shape and bytes,
  // checked against past_head(field), as the slot's shaped_refs (pointing into its entries: no copy; a
  // skipped position gets a stand-in of one pixel, dropped with the position).
  void gather_shaped(Pipe& p, Slot& s, std::size_t field);
  // A batch whose augment head ran on a transformer (Descriptor::past_head): field `field` from entries
  // past the head, through the rest of its augment stage (time added to `ns`), into the batch.
  void past_head_field(Pipe& p, Slot& s, std::size_t field, BatchField& out, std::byte*& writable,
                       std::uint64_t& ns);
  // The slot's prepared samples of `field` in batch order: in the batch pool, or gathered (variable entries).
  const std::byte* prepared_samples(Pipe& p, Slot& s, std::size_t field);
  // Where the slot's batch bytes of fixed-size `field` go: in the batch pool, or the slot's field_out.
  std::byte* batch_bytes(Pipe& p, Slot& s, std::size_t field);
  // The augment stage of `field` on this thread, from prepared samples (`offsets`: variable ones) into
  // `out`, its head's time added to `head_ns` (which the policy reads). A head timed inside the chain
  // (SampleProcessor::head_timed: every head that ends in a per-sample shape, and a fixed-ending one that is
  // the chain's per-sample ops) runs in the whole chain; any other movable head runs apart, then the rest:
  // the same bytes either way.
  void augment_on_cpu(Pipe& p, Slot& s, std::size_t field, const std::byte* in, const std::uint64_t* offsets,
                      std::byte* out, std::uint64_t& head_ns);
  // The consumer_epoch stats line's "copies" member: bytes per path since the last line (docs/runtime.md).
  std::string copies_json(Pipe& p);
  // Described and every sample in (misses arrived, hits read).
  bool complete(Slot& s);
  // Decides where the batch augments; when the job list sends it to the accelerator, launches one device
  // job per augmented field (the slot keeps the input for a CPU fallback).
  void start_on_device(Pipe& p, Slot& s);
  // Starts the complete batches of the ring that are not routed yet, so the device works ahead of pops.
  void start_ahead(Pipe& p);
  // Waits until a launched job is done or failed, then releases it; returns its failure, if any.
  std::exception_ptr settle(transform::Device::Ticket ticket);
  // Waits for one launched job; when it failed, augments that field on this thread. True when the device
  // did it.
  bool collect(Pipe& p, Slot& s, const DeviceRun& run);
  Pipe& pipe_of(std::uint32_t pipeline_index);
  void open_accelerator();
  // Device-resident batches: completes the posted device receive if it is done, then posts the next
  // announced one and tells its sender (one receive at a time: docs/heterogeneous.md says why).
  void pump_device_receives();
  // Copies the assembled batch into the slot's device memory, places the samples that came device to device,
  // and points the batch's fixed fields there.
  void to_device(Pipe& p, Slot& s);

  Context& ctx_;
  std::unique_ptr<AcceleratorUse> accelerator_;  // optional: runs augment stages the job list sends there
  monitor::JobList jobs_;                        // the coordinator's latest (kJobs)
  std::unique_ptr<StatsReporter> reporter_;
  std::vector<std::unique_ptr<Pipe>> pipes_;
  std::vector<Loader> loaders_;
  // Device-resident batches: transfers announced by kSamples and not yet received, oldest first, and the
  // one whose receive is posted.
  struct Incoming {
    Pipe* pipe = nullptr;
    std::uint64_t epoch = 0, batch = 0;
    int source = 0;                     // the sending rank
    std::uint64_t transfer = 0;         // the sender's number for it
    std::size_t offset = 0, bytes = 0;  // where in the slot's inbox, and how much
    std::size_t positions = 0;          // batch positions it fills
    transform::PeerLink::Transfer posted = 0;
  };
  std::deque<Incoming> incoming_;
  std::optional<Incoming> receiving_;
  bool remote_failure_ = false;                // another rank failed (kAbort)
  Descriptor descriptor_;                      // scratch, reused per message
  std::vector<std::uint32_t> positions_;       // scratch, reused per entry
  std::vector<transport::Request> pool_gets_;  // scratch: one kSamplesAt's gets
  struct PendingFetch {
    int source = 0;            // the transformer
    std::uint64_t offset = 0;  // its slot
    std::vector<transport::Request> gets;
  };
  std::deque<PendingFetch> fetches_;     // send pool slots read from, kFetched not yet sent, in arrival order
  std::vector<std::uint64_t> field_at_;  // scratch: where one entry's fields are in a send pool
};

}  // namespace ferry::roles
