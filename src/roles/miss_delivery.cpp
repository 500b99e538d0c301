// A transformation rank's deliveries: batches finished by the workers go out in order (samples to their
// consumer, in messages or through the send pool), inserts to the cache servers, and the miss list's answer
// to its randomizer.
#include <algorithm>
#include <chrono>
#include <utility>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "roles/miss_batch.hpp"
#include "roles/miss_pipeline.hpp"

namespace ferry::roles {

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

}  // namespace ferry::roles
