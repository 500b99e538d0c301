// The consumer's next_batch(): the previous batch goes back (credit), the next one is waited for (messages,
// one-sided gets, device receives), and what it took is counted, per batch and per epoch.
#include <algorithm>
#include <chrono>
#include <exception>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "loader/resume.hpp"
#include "roles/consumer.hpp"
#include "roles/consumer_state.hpp"
#include "roles/epoch_rss.hpp"

namespace ferry::roles {
namespace {

std::uint64_t micros_since(std::chrono::steady_clock::time_point t) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t).count());
}

}  // namespace

void ConsumerEngine::check_dataset(Pipe& p, std::uint64_t epoch) {
  // Every consumer looks before it hands out an epoch's first batch (the stat(2)s its open() made, once
  // more), so no batch of a later epoch reaches training from a replaced file; the first to see it tells
  // every rank.
  try {
    loader::check_dataset_unchanged(*p.config, p.runtime->processor->dataset(), epoch);
  } catch (const DatasetError& e) {
    const std::string named = str_cat("rank ", ctx_.rank, " (consumer): ", e.what());
    remote_failure_ = true;  // told every rank itself: the Runtime's shutdown adds no second message
    ctx_.broadcast_abort(named, ErrorKind::dataset);
    throw RemoteFailure(named, ErrorKind::dataset);
  }
}

void ConsumerEngine::give_back(Pipe& p) {
  // The previous batch goes back: its slot may be refilled and its hits unpinned.
  Slot& prev = p.ring[(p.next_seq - 1) % p.ring.size()];
  Writer w;
  encode(w, Credit{static_cast<std::uint32_t>(p.runtime->index), prev.epoch, prev.batch});
  for (int randomizer : p.randomizers) ctx_.fabric->send(randomizer, kCredit, w.view());
  // Kernels the caller queued on the previous batch's device fields may not have run yet.
  if (ctx_.link) prev.reusable_after = ctx_.link->mark_caller();
  prev.active = false;
  p.holding = false;
}

void ConsumerEngine::send_finished(Pipe& p, bool warn_only) {
  p.finished = true;
  for (std::size_t j = 0; j < p.randomizers.size(); ++j) {
    Writer w;
    w.u(p.runtime->index).u(j == 0 ? p.epochs_reported : 0);
    try {
      ctx_.fabric->send(p.randomizers[j], kFinished, w.view());
    } catch (const std::exception& e) {
      if (!warn_only) throw;
      log::warn("could not tell randomizer {} (directory shard {}) that pipeline '{}' is done: {}",
                p.randomizers[j], j, p.config->name, e.what());
    }
  }
}

void ConsumerEngine::sample_queue(Pipe& p) {
  // Queue occupancy: how many batches of the window are complete already (not waiting for data).
  while (auto message = ctx_.fabric->poll()) dispatch(*message);
  std::uint64_t queued = 0;
  for (const Slot& q : p.ring) queued += q.active && q.described && q.waiting == 0;
  p.counters.queue_sum += queued;
  p.counters.queue_min = std::min(p.counters.queue_min, queued);
  const auto index = static_cast<std::uint32_t>(p.runtime->index);
  if (accelerator_) accelerator_->sample(reporter_->recorder());
  monitor::Recorder& rec = reporter_->recorder();
  rec.queue(index, static_cast<std::uint32_t>(queued), static_cast<std::uint32_t>(p.ring.size()));
}

std::uint64_t ConsumerEngine::wait_for(Pipe& p, Slot& s) {
  const auto start = std::chrono::steady_clock::now();
  while (true) {
    while (auto message = ctx_.fabric->poll()) dispatch(*message);
    answer_fetches();
    if (ctx_.link) pump_device_receives();
    if (ready(p, s)) break;
    start_ahead(p);  // later batches whose data are in start on the device while this one waits
    if (s.described && s.waiting == 0) {
      // Only one-sided gets are left: wait on them (Fabric::wait() wakes for messages, not completions).
      for (auto& g : s.gets) g.wait();
      continue;
    }
    // A device receive in flight completes without a message: look again soon.
    const auto nap = receiving_ ? std::chrono::microseconds(200) : std::chrono::microseconds(100000);
    if (auto message = ctx_.fabric->wait(nap)) dispatch(*message);
  }
  const auto waited_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
  return waited_ns;
}

const Batch* ConsumerEngine::next_batch(std::size_t local) {
  Pipe& p = *pipes_[local];
  if (p.holding) give_back(p);
  if (p.next_seq >= p.total) {
    if (!p.finished) send_finished(p);
    return nullptr;
  }
  const std::uint64_t epoch = p.next_seq / p.batches_per_epoch, batch = p.next_seq % p.batches_per_epoch;
  if (batch == 0 && p.next_seq != p.first_seq) check_dataset(p, epoch);
  sample_queue(p);
  Slot& s = slot_for(p, epoch, batch);
  count_batch(p, s, batch, wait_for(p, s));
  p.holding = true;
  ++p.next_seq;
  start_ahead(p);  // the device works on the next batches while training runs on this one
  return &s.out;
}

void ConsumerEngine::count_batch(Pipe& p, const Slot& s, std::uint64_t batch, std::uint64_t waited_ns) {
  const auto index = static_cast<std::uint32_t>(p.runtime->index);
  const std::uint64_t epoch = s.epoch, waited = waited_ns / 1000;
  monitor::Recorder& rec = reporter_->recorder();
  rec.waited(index, waited_ns);
  rec.cache(index, s.hits, s.n);
  rec.moved(index, s.bytes);
  reporter_->batch(index);
  reporter_->report_if_due();
  p.counters.wait_seconds += static_cast<double>(waited) * 1e-6;
  ++p.counters.batches;
  p.counters.samples += s.out.size();
  p.counters.skipped += s.skipped.size();
  // A batch past its head counted every position as it arrived; its hits are not misses.
  const std::uint64_t misses = s.past_head ? s.misses - s.hits : s.misses;
  p.past_head_batches += s.past_head ? 1 : 0;
  p.counters.hits += s.hits;
  p.counters.misses += misses;
  p.counters.bytes += s.bytes;
  if (p.assembly) p.epoch_copies += p.assembly->copies(s.index);
  EpochFigures& f = p.epoch_figures;
  f.epoch = epoch;
  f.samples += s.out.size();
  f.skipped += s.skipped.size();
  f.hits += s.hits;
  f.misses += misses;
  f.bytes += s.bytes;
  f.wait_us += waited;
  if (batch + 1 == p.batches_per_epoch) {
    f.elapsed_us = micros_since(p.epoch_start);
    Writer w;
    encode(w, f);
    ctx_.fabric->send(p.randomizers.front(), kEpochDone, w.view());  // shard 0 prints the epoch table
    ++p.epochs_reported;
    ctx_.stats_line(str_cat("{\"kind\":\"consumer_epoch\",\"rank\":", ctx_.rank, ",\"pipeline\":\"",
                            p.config->name, "\",\"epoch\":", epoch, ",\"samples\":", f.samples,
                            ",\"hits\":", f.hits, ",\"misses\":", f.misses, ",\"skipped\":", f.skipped,
                            ",\"bytes\":", f.bytes, ",\"wait_seconds\":", f.wait_us * 1e-6,
                            ",\"past_head_batches\":", p.past_head_batches, copies_json(p), "}"));
    p.past_head_batches = 0;
    write_rss_line(ctx_, "consumer", p.runtime->index, epoch);
    f = EpochFigures{};
    f.pipeline = static_cast<std::uint32_t>(p.runtime->index);
    p.epoch_start = std::chrono::steady_clock::now();
  }
}

}  // namespace ferry::roles
