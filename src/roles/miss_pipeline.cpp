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
    if (!head_moves(*p.processor, p.entry)) continue;
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

void MissPipeline::open_accelerator() {
  std::string why;
  accelerator_ = AcceleratorUse::open(0, &why);
  if (!accelerator_) {
    log::debug("rank {}: prepare stays on CPU workers: {}", ctx_.rank, why);
    return;
  }
  try {
    // A pipeline can go to the device when exactly one field has a prepare chain and every op of it has a
    // device kernel; its other fields are passed through as read.
    for (auto& p : ctx_.pipelines) {
      const auto chains = p.processor->prepare_chains();
      std::optional<std::size_t> field;
      bool single = true;
      for (std::size_t f = 0; f < chains.size(); ++f) {
        if (!chains[f]) continue;
        single = single && !field;
        field = f;
      }
      std::string no;
      if (!field || !single) {
        no = "it prepares no field or more than one";
      } else if (auto program = chains[*field]->device_program(&no)) {
        device_routes_[p.index] = {*field, accelerator_->accelerator().add_program(*program)};
        continue;
      }
      log::info("rank {}: pipeline '{}' prepares on CPU only: {}", ctx_.rank,
                ctx_.config.pipelines[p.index].name, no);
    }
  } catch (const std::exception& e) {
    // The device is there but unusable (no memory left beside training, say): stay on the CPU.
    log::warn("rank {}: accelerator {} unusable, preparing on CPU workers: {}", ctx_.rank,
              accelerator_->accelerator().name(), e.what());
    device_routes_.clear();
    accelerator_.reset();
    return;
  }
  log::info("rank {}: accelerator {} for {} pipeline(s); utilization from {}", ctx_.rank,
            accelerator_->accelerator().name(), device_routes_.size(), accelerator_->utilization_source());
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

void MissPipeline::send_finished() {
  for (;;) {
    std::shared_ptr<Batch> batch;
    {
      std::lock_guard<std::mutex> lock(finished_mutex_);
      if (finished_.empty()) return;
      batch = std::move(finished_.front());
      finished_.pop_front();
    }
    if (batch->error && batch->target == monitor::Target::accelerator) {
      // The device failed (out of memory beside training, a lost device): this batch and every later one
      // prepare on the CPU workers; the job does not fail for it.
      try {
        std::rethrow_exception(batch->error);
      } catch (const std::exception& e) {
        accelerator_->fail(reporter_->recorder(), ctx_.rank, "the prepare stage", e);
      }
      device_routes_.clear();
      batch->error = nullptr;
      batch->target = monitor::Target::cpu;
      batch->device_out = false;
      submit(batch);
      continue;
    }
    --in_flight_;
    if (batch->error) std::rethrow_exception(batch->error);
    if (batch->target == monitor::Target::accelerator) {
      // The device prepared its field; the others have no prepare chain and pass through as read.
      const loader::SampleProcessor& proc = *batch->pipeline->processor;
      for (std::size_t g = 0; g < proc.field_count(); ++g)
        if (g != batch->device_field && !proc.variable(g))
          std::swap(batch->fields.prepared[g], batch->fields.raw[g]);
    }
    deliver(*batch);
    spare_.push_back(std::move(batch));  // at most as many as were ever in flight at once
  }
}

void MissPipeline::deliver(Batch& batch) {
  if (batch.misses.head) {
    deliver_past_head(batch);
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const Misses& misses = batch.misses;
  const EntryLayout& layout = layouts_.at(misses.pipeline);
  // Fixed-size entries go from the prepared fields straight into the messages; variable ones are assembled
  // first.
  if (!layout.fixed) assemble_entries(layout, batch.fields, entries_, starts_);
  const std::size_t none = layout.sizes.size();
  // Entry i, without field `skip`, length-prefixed into `w`; returns its bytes.
  const auto put = [&](Writer& w, std::size_t i, std::size_t skip) -> std::uint64_t {
    if (!layout.fixed) {
      const std::span<const std::byte> entry(entries_.data() + starts_[i], starts_[i + 1] - starts_[i]);
      w.u(entry.size()).raw(entry);
      return entry.size();
    }
    w.u(layout.bytes - (skip == none ? 0 : layout.sizes[skip]));
    return write_entry(layout, batch.fields, i, skip, w);
  };

  // One message to the consumer with every entry, and one insert message per cache server. A batch whose
  // device result goes to the consumer device to device leaves that field out of the message's entries.
  // Samples the prepare stage could not take (bad_samples = skip) are neither sent nor inserted: the
  // consumer is told their positions, the randomizer gets their reservations back.
  const std::vector<std::size_t>& skipped = batch.fields.skipped;
  FERRY_ENFORCE(skipped.empty() || !batch.device_out, "skipped samples in a batch sent device to device");
  // Large fixed-size entries: one-sided, from the send pool, where it has room.
  if (!batch.device_out && pool_.enabled() && uses_send_pool(layout) && deliver_from_pool(batch, t0)) return;
  ++copies_.message_batches;
  const std::uint64_t sent = misses.entries.size() - skipped.size();
  SamplesHeader header{misses.pipeline, misses.epoch, misses.batch, sent, 0, 0, skipped.size()};
  MissDone done;
  std::uint64_t held = 0;
  if (batch.device_out) {
    header.field = static_cast<std::uint32_t>(batch.device_field);
    held = layout.sizes[batch.device_field];
    const std::uint64_t kept = std::exchange(batch.kept, 0);  // device_sends_ owns it now
    header.transfer =
        device_sends_.announce(*queue_, kept, misses.consumer, static_cast<std::size_t>(held * sent));
  }
  out_.clear();
  encode(out_, header);
  std::map<std::uint32_t, std::vector<std::size_t>> inserts;  // slab holder index -> entry indices
  const std::uint64_t prepared = prepared_copy_bytes(batch);  // per entry, by the prepare stage
  for (std::size_t i = 0, k = 0; i < misses.entries.size(); ++i) {
    const auto& m = misses.entries[i];
    if (k < skipped.size() && skipped[k] == i) {
      ++k;
      no_entry(done, m, layout.fixed);
      continue;
    }
    put_positions(out_, m);
    const std::uint64_t bytes = put(out_, i, batch.device_out ? batch.device_field : none);
    // Prepared (when a chain ran), assembled (variable entries), written into the message, copied by
    // Fabric::send.
    copies_.miss_bytes += bytes;
    copies_.miss_copied += std::min(prepared, bytes) + (layout.fixed ? 2 : 3) * bytes;
    if (layout.fixed ? m.insert : insert_variable(ctx_.rank, m, bytes, done)) inserts[m.server].push_back(i);
  }
  for (const std::size_t i : skipped) put_positions(out_, misses.entries[i]);
  ctx_.fabric->send(misses.consumer, kSamples, out_.view());
  send_inserts(batch, inserts, [&](Writer& w, std::size_t i) { return put(w, i, none); });
  answer(batch, done, sent, held, nanos_since(t0));
}

void MissPipeline::send_inserts(const Batch& batch,
                                const std::map<std::uint32_t, std::vector<std::size_t>>& inserts,
                                const std::function<std::uint64_t(Writer&, std::size_t)>& put) {
  for (const auto& [server, indices] : inserts) {
    insert_.clear();
    encode(insert_, InsertHeader{batch.randomizer, batch.pipeline->group, indices.size()});
    for (auto i : indices) {
      const auto& m = batch.misses.entries[i];
      const std::uint64_t bytes = put(insert_.u(m.id).u(m.offset), i);
      // Written into the message, copied by Fabric::send, received, copied into the slab by its holder.
      copies_.insert_bytes += bytes;
      copies_.insert_copied += 4 * bytes;
    }
    ctx_.fabric->send(ctx_.layout.slab_holders.at(server), kInsert, insert_.view());
    report_.inserts_sent += indices.size();
  }
}

// After deliver()'s sends: the randomizer's answer (kMissDone with the batch's figures and the reservations
// given back), the rank's counters and monitoring, and the batch's buffers back for the next read.
void MissPipeline::answer(Batch& batch, MissDone& done, std::uint64_t sent, std::uint64_t held,
                          std::uint64_t send_ns) {
  const Misses& misses = batch.misses;
  // Busy time: the read, the prepare (worker time, or submit to completion on the device) and this
  // assembly and send; time spent waiting in the queue is not work.
  const std::uint64_t busy_ns = batch.read_ns + batch.prepare_ns + send_ns;
  EpochFigures& f = done.figures;
  f.pipeline = misses.pipeline;
  f.epoch = misses.epoch;
  f.hdf5_reads = batch.hdf5_reads;
  f.hdf5_bytes = batch.hdf5_bytes;
  f.busy_us = busy_ns / 1000;
  Writer w;
  encode(w, done);
  ctx_.fabric->send(batch.randomizer, kMissDone, w.view());
  report_.samples_prepared += sent;
  report_.samples_skipped += batch.fields.skipped.size();
  report_.hdf5_reads += f.hdf5_reads;
  report_.hdf5_bytes += f.hdf5_bytes;

  monitor::Recorder& rec = reporter_->recorder();
  rec.busy(busy_ns);
  rec.hdf5(misses.pipeline, f.hdf5_bytes);
  rec.moved(misses.pipeline, out_.size() + held * sent);
  rec.op(misses.pipeline, 0, batch.target, batch.prepare_ns);
  reporter_->batch(misses.pipeline);
  {
    std::lock_guard<std::mutex> lock(fields_mutex_);
    spare_fields_.push_back(std::move(batch.fields));
  }
  if (batch.read_ahead_bytes) read_ahead_->release(std::exchange(batch.read_ahead_bytes, 0));
  reporter_->report_if_due();  // here too: a saturated rank may not leave its message loop for a while
}

void MissPipeline::finish() noexcept {
  if (queue_) device_sends_.drop(*queue_);  // no queue: no device job, nothing kept
  try {
    reporter_->flush();  // a stats leader's last windows
  } catch (const std::exception& e) {
    log::warn("rank {}: could not send the last monitoring windows: {}", ctx_.rank, e.what());
  }
  if (read_ahead_ && read_ahead_->peak() > 0) {
    try {
      ctx_.stats_line(str_cat(
          "{\"kind\":\"read_ahead\",\"rank\":", ctx_.rank, ",\"budget_bytes\":", read_ahead_->budget(),
          ",\"peak_bytes\":", read_ahead_->peak(), ",\"largest_read_bytes\":", read_ahead_->largest(), "}"));
    } catch (const std::exception& e) {
      log::warn("rank {}: could not write the read-ahead counters: {}", ctx_.rank, e.what());
    }
  }
  if (copies_.miss_bytes == 0 && copies_.insert_bytes == 0) return;
  try {
    ctx_.stats_line(str_cat(
        "{\"kind\":\"transformer_copies\",\"rank\":", ctx_.rank, ",\"miss_bytes\":", copies_.miss_bytes,
        ",\"miss_copied\":", copies_.miss_copied, ",\"insert_bytes\":", copies_.insert_bytes,
        ",\"insert_copied\":", copies_.insert_copied, ",\"pool_batches\":", copies_.pool_batches,
        ",\"message_batches\":", copies_.message_batches, ",\"pool_full\":", pool_.full(),
        ",\"pool_too_large\":", pool_.too_large(), ",\"pool_peak_bytes\":", pool_.peak_bytes(), "}"));
  } catch (const std::exception& e) {
    log::warn("rank {}: could not write the copy counters: {}", ctx_.rank, e.what());
  }
}

std::uint64_t MissPipeline::prepared_copy_bytes(const Batch& batch) const {
  const auto& chains = chains_.at(0).at(batch.misses.pipeline);
  const EntryLayout& layout = layouts_.at(batch.misses.pipeline);
  std::uint64_t bytes = 0;
  for (std::size_t f = 0; f < layout.sizes.size(); ++f) {
    // The device wrote its field back to host memory; a field without a chain was moved, not copied.
    const bool device = batch.target == monitor::Target::accelerator && f == batch.device_field;
    if (device ? !batch.device_out : chains[f].has_value()) bytes += layout.sizes[f];
  }
  return bytes;
}

bool MissPipeline::sends_on_device(const Misses& misses) const {
  if (!ctx_.link) return false;
  const auto member = [&](int rank) { return ctx_.link_member.at(static_cast<std::size_t>(rank)) >= 0; };
  const auto route = device_routes_.find(misses.pipeline);
  if (route == device_routes_.end() || !member(ctx_.rank) || !member(misses.consumer)) return false;
  const PipelineRuntime* p = ctx_.find_pipeline(misses.pipeline);
  // The consumer augments on the prepared bytes: they must reach its host unless there is no augment.
  return layouts_.at(misses.pipeline).fixed && !p->processor->has_augment(route->second.field);
}

}  // namespace ferry::roles
