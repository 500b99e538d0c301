#include "roles/miss_pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "roles/miss_batch.hpp"

namespace ferry::roles {

MissPipeline::MissPipeline(Context& ctx, ServeReport& report)
    : ctx_(ctx), report_(report), device_sends_(ctx), pool_(ctx.send_pool) {
  const std::size_t workers =
      ctx.pipelines.empty()
          ? 0
          : transform::host_dispatch_workers(static_cast<std::size_t>(ctx.config.runtime.transform_workers));
  chains_.resize(workers);
  heads_.resize(workers);
  for (auto& p : ctx.pipelines) {
    layouts_.emplace(p.index, entry_layout(*p.processor));
    for (auto& worker : chains_) worker.emplace(p.index, p.processor->prepare_chains());
    if (!p.head_moves) continue;
    head_layouts_.emplace(p.index, entry_layout(*p.processor, true));
    for (auto& worker : heads_) worker.emplace(p.index, p.processor->head_chains());
  }
  if (workers > 0 && ctx.config.runtime.accelerator == "auto") open_accelerator();
  std::vector<bool> capable(ctx.config.pipelines.size(), false);
  for (const auto& [pipeline, route] : device_routes_) capable[pipeline] = true;
  reporter_ = std::make_unique<StatsReporter>(ctx, static_cast<std::uint32_t>(workers), capable);
  if (workers > 0) {
    transform::WorkerQueueOptions options;
    options.workers = workers;
    // Bounded: a few batches per worker; submit() blocks beyond (the randomizers' credits bound it anyway).
    options.capacity = 4 * workers + static_cast<std::size_t>(ctx.config.runtime.prefetch);
    queue_ =
        std::make_unique<transform::WorkerQueue>(options, accelerator_ ? &accelerator_->device() : nullptr);
  }
  // From here on every HDF5 call of this rank's datasets is the reader thread's (until the destructor).
  if (workers > 0 && ctx.config.runtime.read_ahead_bytes > 0)
    read_ahead_ = std::make_unique<transform::ReadAhead>(ctx.config.runtime.read_ahead_bytes,
                                                         [fabric = ctx.fabric.get()] { fabric->wake(); });
}

MissPipeline::~MissPipeline() {
  // First the reader: it writes into batches and reads the datasets, which outlive it only until here.
  if (read_ahead_) read_ahead_->stop();
  if (queue_) {
    // First the link: a send still in flight (its receiver failed) would hold up any device allocation
    // the workers make while they finish (cudaFree waits for the device).
    device_sends_.drop(*queue_);
    // Workers still running (a failure elsewhere) hand off into finished_: stop them while it exists.
    try {
      queue_->shutdown();
    } catch (const std::exception& e) {
      log::warn("rank {}: stopping the worker queue: {}", ctx_.rank, e.what());
    }
    // Device results kept for consumers (a failure elsewhere ended the job before they went out).
    for (const auto& batch : finished_)
      if (batch->kept != 0) queue_->release_kept(batch->kept);
  }
  queue_.reset();
}

void MissPipeline::progress() {
  take_reads();
  send_finished();
  if (read_ahead_ && !reading_.empty() && in_flight_ == reading_.size() && device_sends_.posted() == 0) {
    // Nothing to prepare or send but lists being read: wait for the reader here (a futex), as a read on
    // this thread would, rather than in the transport's wait, whose arm and poll per wake-up cost more than
    // the overlap gave where reads were short (measured, perf/results/2026-12-06b-readahead). Bounded like
    // the loop's own wait; messages wait meanwhile, as they did behind a read.
    if (read_ahead_->wait_reading(std::chrono::steady_clock::now() + std::chrono::milliseconds(200)))
      take_reads();
  }
  if (queue_) device_sends_.progress(*queue_);  // no queue: no device job, nothing kept
  if (accelerator_) accelerator_->sample(reporter_->recorder());
  reporter_->report_if_due();
}

void MissPipeline::start(Misses misses, int randomizer) {
  PipelineRuntime* p = ctx_.find_pipeline(misses.pipeline);
  FERRY_ENFORCE(p && queue_, "rank ", ctx_.rank, " has no processor for pipeline ", misses.pipeline);
  // Batches are reused (their field buffers go back to spare_fields_ when sent: read() takes them).
  std::shared_ptr<Batch> batch;
  if (spare_.empty()) {
    batch = std::make_shared<Batch>();
  } else {
    batch = std::move(spare_.back());
    spare_.pop_back();
    batch->ids.clear();
    batch->error = nullptr;
    batch->read_ns = batch->prepare_ns = 0;
  }
  batch->randomizer = randomizer;
  batch->pipeline = p;
  for (const auto& m : misses.entries) batch->ids.push_back(m.id);
  batch->misses = std::move(misses);
  if (batch->misses.head) fetch(*batch);  // the transport is this thread's
  if (!read_ahead_) {
    read(*batch);
    dispatch(std::move(batch));
    return;
  }
  // Read ahead: the reader thread reads the lists in arrival order while this thread prepares and sends the
  // ones before; take_reads() goes on with each once it is read.
  const std::uint64_t fixed = fixed_read_bytes(*p->processor, batch->ids.size());
  Batch* raw = batch.get();
  read_ahead_->push(fixed, [this, raw] {
    read(*raw);
    return variable_read_bytes(*raw->pipeline->processor, raw->fields);  // known only now
  });
  reading_.push_back(std::move(batch));
  ++in_flight_;
}

void MissPipeline::read(Batch& batch) {
  // HDF5 in ascending ID order (coalesced reads), on the one thread that reads this rank's datasets.
  const auto t0 = std::chrono::steady_clock::now();
  loader::SampleProcessor& proc = *batch.pipeline->processor;
  {
    // Buffers of a list sent earlier (no allocation or zero-fill once the largest list has been seen). They
    // are taken here, not when the list arrives: lists waiting for the reader hold no memory.
    std::lock_guard<std::mutex> lock(fields_mutex_);
    if (!spare_fields_.empty()) {
      batch.fields = std::move(spare_fields_.back());
      spare_fields_.pop_back();
    }
  }
  const ReadCounters before = proc.dataset().counters();
  read_fields(proc, batch.ids, batch.fields);
  const ReadCounters& after = proc.dataset().counters();
  batch.hdf5_reads = after.read_calls - before.read_calls;
  batch.hdf5_bytes = after.bytes - before.bytes;
  batch.read_ns = nanos_since(t0);
}

void MissPipeline::take_reads() {
  if (!read_ahead_) return;
  watch_reader();
  // Completed reads come in push order, which is the order reading_ holds them in.
  while (auto done = read_ahead_->pop()) {
    std::shared_ptr<Batch> batch = std::move(reading_.front());
    reading_.pop_front();
    --in_flight_;
    batch->read_ahead_bytes = done->bytes;
    if (done->error) std::rethrow_exception(done->error);  // as it would have left read() here
    dispatch(std::move(batch));
  }
}

void MissPipeline::watch_reader() {
  // A read that does not return (a hung file system) leaves this thread idle, so the step rule of the
  // liveness thread cannot see it: it is reported the same way, naming the reader.
  const int timeout_s = ctx_.config.runtime.peer_timeout_s;
  const auto& watch = ctx_.fabric->peer_watch();
  if (timeout_s <= 0 || !watch || reader_reported_) return;
  const auto age = read_ahead_->reading_for(std::chrono::steady_clock::now());
  if (age <= std::chrono::seconds(timeout_s)) return;
  reader_reported_ = true;
  watch->report_self(str_cat("its reader thread has been in one HDF5 read for ",
                             std::chrono::duration_cast<std::chrono::seconds>(age).count(),
                             " s (runtime.peer_timeout_s = ", timeout_s, ")"));
}

void MissPipeline::dispatch(std::shared_ptr<Batch> batch) {
  PipelineRuntime* p = batch->pipeline;
  // Where the prepare stage of this batch runs: the job list's share, routed evenly (every rank computes
  // the same route from integers). Without an accelerator the policy places everything on the CPU.
  const monitor::OpPlacement* placement = jobs_.find(batch->misses.pipeline, 0);
  const monitor::OpPlacement initial =
      monitor::placement_before_jobs(ctx_.monitor.policy, batch->misses.pipeline, monitor::Stage::prepare);
  batch->target = monitor::route(placement ? *placement : initial, routed_[batch->misses.pipeline]++);
  // A batch past its head goes through the CPU workers and messages (miss_head.cpp).
  if (!device_routes_.count(batch->misses.pipeline) || batch->misses.head)
    batch->target = monitor::Target::cpu;
  batch->device_out = batch->target == monitor::Target::accelerator && sends_on_device(batch->misses);
  if (!batch->misses.head) reserve_pool(*batch);
  if (chains_.size() == 1 && !accelerator_) {
    // One CPU worker and no device: the queue would add two thread switches per batch and no parallelism,
    // so the batch is prepared here (the worker's chains are this thread's then).
    const auto t1 = std::chrono::steady_clock::now();
    prepare_fields(*p->processor, chains_[0].at(batch->misses.pipeline), batch->ids, batch->fields);
    if (batch->misses.head) run_heads(*batch, heads_[0].at(batch->misses.pipeline));
    batch->prepare_ns = nanos_since(t1);
    deliver(*batch);
    spare_.push_back(std::move(batch));
    return;
  }
  ++in_flight_;
  submit(std::move(batch));
  send_finished();  // whatever finished meanwhile goes out now, not after the next wait
}

void MissPipeline::submit(std::shared_ptr<Batch> batch) {
  Batch* raw = batch.get();
  reporter_->recorder().cpu_queue(static_cast<std::uint32_t>(queue_->queue_length()));
  transform::WorkerQueue::Work work;
  if (raw->target == monitor::Target::accelerator) {
    // A control message: the worker that takes it stages the field on the device and launches the program.
    const DeviceRoute& route = device_routes_.at(raw->misses.pipeline);
    raw->device_field = route.field;
    const loader::SampleProcessor& proc = *raw->pipeline->processor;
    auto& out = raw->fields.prepared[route.field];
    out.resize(raw->fields.n * proc.prepared(route.field).bytes());
    transform::DeviceJob job;
    job.kernel = route.program;
    job.input = raw->fields.raw[route.field].data();
    job.input_bytes = raw->fields.raw[route.field].size();
    job.output = out.data();
    job.output_bytes = out.size();
    job.samples = raw->fields.n;
    raw->kept = 0;
    if (raw->device_out) job.keep = &raw->kept;  // the result goes on from device memory (deliver)
    work = job;
  } else {
    work = transform::WorkerQueue::CpuWork([this, raw](std::size_t worker) {
      const auto t0 = std::chrono::steady_clock::now();
      prepare_fields(*raw->pipeline->processor, chains_[worker].at(raw->misses.pipeline), raw->ids,
                     raw->fields);
      if (raw->misses.head) run_heads(*raw, heads_[worker].at(raw->misses.pipeline));
      raw->prepare_ns = nanos_since(t0);
    });
  }
  const auto submitted = std::chrono::steady_clock::now();
  queue_->submit(static_cast<std::uint32_t>(raw->misses.consumer), std::move(work),
                 [this, batch, submitted](std::exception_ptr error) {
                   // Device jobs: submit to completion, staging included (no per-job device clock here).
                   if (batch->target == monitor::Target::accelerator)
                     batch->prepare_ns = nanos_since(submitted);
                   batch->error = error;
                   {
                     std::lock_guard<std::mutex> lock(finished_mutex_);
                     finished_.push_back(batch);
                   }
                   ctx_.fabric->wake();  // the progress thread may be asleep in a wait for messages
                 });
}

}  // namespace ferry::roles
