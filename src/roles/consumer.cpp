#include "roles/consumer.hpp"

#include <algorithm>
#include <exception>
#include <thread>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "loader/resume.hpp"
#include "roles/consumer_state.hpp"
#include "roles/epoch_rss.hpp"
#include "roles/memory_setup.hpp"
#include "transform/target.hpp"

namespace ferry::roles {
namespace {

std::uint64_t micros_since(std::chrono::steady_clock::time_point t) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t).count());
}

}  // namespace

ConsumerEngine::ConsumerEngine(Context& ctx) : ctx_(ctx) {
  const std::size_t ring = static_cast<std::size_t>(ctx.config.runtime.prefetch);
  std::uint64_t pool_bytes = 0;
  double pool_seconds = 0;
  for (auto& rt : ctx.pipelines) {
    auto p = std::make_unique<Pipe>();
    p->runtime = &rt;
    p->config = &ctx.config.pipelines[rt.index];
    const auto& group = ctx.layout.groups[rt.index];
    p->my_index = static_cast<std::uint32_t>(std::find(group.begin(), group.end(), ctx.rank) - group.begin());
    p->randomizer = ctx.layout.randomizer_of[rt.index];
    p->share = loader::share_spec(*p->config, rt.processor->dataset().size(),
                                  static_cast<std::uint32_t>(group.size()));
    p->batches_per_epoch = p->plan_for(0).batches_per_consumer();
    p->total = p->batches_per_epoch * static_cast<std::uint64_t>(p->config->epochs);
    p->next_seq = p->first_seq = loader::start_sequence(*p->config, p->batches_per_epoch);
    p->ring.resize(ring);
    for (std::size_t i = 0; i < ring; ++i) p->ring[i].index = i;
    if (rt.entry.fixed) {
      p->assembly =
          std::make_unique<BatchAssembly>(*rt.processor, rt.entry, ring, p->share.batch_size, *ctx.fabric);
      pool_bytes += p->assembly->pool_bytes();
      pool_seconds += p->assembly->setup_seconds();
    }
    if (head_moves(*rt.processor, rt.entry)) {
      p->heads = rt.processor->head_chains();
      p->past_layout = entry_layout(*rt.processor, true);
    }
    p->epoch_figures.pipeline = static_cast<std::uint32_t>(rt.index);
    pipes_.push_back(std::move(p));
    loaders_.push_back(Loader(this, loaders_.size()));
  }
  if (pool_bytes != 0) report_memory_setup(ctx, "batch pools", pool_bytes, pool_seconds);
  if (ctx.config.runtime.accelerator == "auto") open_accelerator();
  std::vector<bool> capable(ctx.config.pipelines.size(), false);
  for (const auto& p : pipes_) capable[p->runtime->index] = !p->device_programs.empty();
  reporter_ = std::make_unique<StatsReporter>(ctx, augment_ops(ctx, capable));
}

ConsumerEngine::~ConsumerEngine() = default;

Loader& ConsumerEngine::loader(std::string_view name) {
  for (std::size_t i = 0; i < pipes_.size(); ++i)
    if (name.empty() || pipes_[i]->config->name == name) return loaders_[i];
  std::vector<std::string> mine = names();
  throw ConfigError(str_cat("consumer rank ", ctx_.rank, " is in no pipeline named '", name,
                            "' (its pipelines: ", mine.empty() ? std::string("none") : join(mine), ")"));
}

std::vector<std::string> ConsumerEngine::names() const {
  std::vector<std::string> out;
  for (const auto& p : pipes_) out.push_back(p->config->name);
  return out;
}

std::string ConsumerEngine::state(std::size_t local) const {
  const Pipe& p = *pipes_[local];
  return loader::format_state(*p.config, p.next_seq, p.batches_per_epoch, p.runtime->processor->dataset());
}

const std::string& ConsumerEngine::name(std::size_t local) const {
  return pipes_[local]->config->name;
}
std::uint64_t ConsumerEngine::batches_per_epoch(std::size_t local) const {
  return pipes_[local]->batches_per_epoch;
}
std::uint64_t ConsumerEngine::dataset_size(std::size_t local) const {
  return pipes_[local]->share.samples;
}
const LoaderCounters& ConsumerEngine::counters(std::size_t local) const {
  return pipes_[local]->counters;
}

ConsumerEngine::Pipe& ConsumerEngine::pipe_of(std::uint32_t pipeline_index) {
  for (auto& p : pipes_)
    if (p->runtime->index == pipeline_index) return *p;
  FERRY_ENFORCE(false, "consumer rank ", ctx_.rank, " got a message for pipeline ", pipeline_index,
                " it is not part of");
  return *pipes_.front();
}

ConsumerEngine::Slot& ConsumerEngine::slot_for(Pipe& p, std::uint64_t epoch, std::uint64_t batch) {
  const std::uint64_t seq = epoch * p.batches_per_epoch + batch;
  FERRY_ENFORCE(seq >= p.next_seq && seq < p.next_seq + p.ring.size(), "batch ", batch, " of epoch ", epoch,
                " arrived outside the prefetch window");
  Slot& s = p.ring[seq % p.ring.size()];
  if (!s.active || s.epoch != epoch || s.batch != batch) {
    FERRY_ENFORCE(!s.active, "prefetch slot reused before its batch was released");
    s.active = true;
    s.described = s.assembled = false;
    s.epoch = epoch;
    s.batch = batch;
    s.n = p.plan_for(epoch).batch_length(batch);
    s.waiting = s.n;
    s.hits = s.misses = s.bytes = 0;
    s.past_head = false;
    s.skipped.clear();
    s.gets.clear();
    s.routed = false;
    s.device_ns = 0;
    s.inbox_used = 0;
    s.placements.clear();
    if (p.assembly)
      p.assembly->begin(s.index, s.n);
    else {
      s.entries.resize(s.n);
      for (auto& entry : s.entries) entry.clear();  // capacity kept: no allocation per entry and batch
    }
  }
  return s;
}

void ConsumerEngine::on_descriptor(const transport::Message& message) {
  Reader r(message.bytes);
  Descriptor& d = descriptor_;  // reused: its sources vector keeps its capacity
  decode(r, d);
  Pipe& p = pipe_of(d.pipeline);
  // Credits, epoch reports and kFinished go to the randomizer that sent the last descriptor: after a
  // handover (R3) the heir. Those that still reach the retired randomizer are forwarded to the heir, which
  // matches a credit to its batch wherever it stands.
  p.randomizer = message.source;
  Slot& s = slot_for(p, d.epoch, d.batch);
  FERRY_ENFORCE(d.sources.size() == s.n, "descriptor of ", d.sources.size(), " samples for a batch of ", s.n);
  if (d.past_head) {
    // Every position comes from its transformer past the head; a hit was read from the cache there.
    FERRY_ENFORCE(!p.past_layout.sizes.empty(), "a batch past its augment head for pipeline '",
                  p.config->name, "', whose head does not move");
    s.past_head = true;
    for (const Source& src : d.sources) s.hits += src.hit ? 1 : 0;
    s.described = true;
    return;
  }
  for (std::size_t i = 0; i < d.sources.size(); ++i) {
    const Source& src = d.sources[i];
    if (!src.hit) continue;
    const transport::RemoteRegion& slab = ctx_.slabs.at(src.who);
    if (p.assembly) {
      FERRY_ENFORCE(src.bytes == 0, "a sized cache hit for pipeline '", p.config->name,
                    "', whose entries are fixed-size");
      // Straight to where the sample belongs in the batch (or the augment's input).
      p.assembly->get_hit(s.index, static_cast<std::uint32_t>(i), slab, src.offset, s.gets);
      s.bytes += p.runtime->entry.bytes;
    } else {
      // A variable-length entry: read whole, then taken apart as one that came in a message (assemble()).
      FERRY_ENFORCE(src.bytes != 0, "a cache hit without its size for pipeline '", p.config->name,
                    "', whose entries are variable-length");
      s.entries[i].resize(src.bytes);
      s.gets.push_back(ctx_.fabric->get(slab, src.offset, s.entries[i].data(), src.bytes));
      s.bytes += src.bytes;
    }
    --s.waiting;
    ++s.hits;
  }
  s.described = true;
}

void ConsumerEngine::on_samples(const transport::Message& message) {
  Reader r(message.bytes);
  SamplesHeader h;
  decode(r, h);
  Pipe& p = pipe_of(h.pipeline);
  Slot& s = slot_for(p, h.epoch, h.batch);
  // A batch past its head carries every sample as the head left it (p.past_layout), checked the same way.
  const EntryLayout& layout = s.past_head ? p.past_layout : p.runtime->entry;
  // Device-resident batches: one field of every entry comes device to device, into the slot's inbox.
  const bool device = h.transfer != 0;
  FERRY_ENFORCE(!device || (ctx_.link && p.assembly && h.field < layout.sizes.size()),
                "device samples from rank ", message.source, " that this consumer cannot take");
  const std::uint64_t held = device ? layout.sizes[h.field] : 0;
  Incoming incoming{&p, h.epoch, h.batch, message.source, h.transfer, s.inbox_used, h.count * held, 0, 0};
  if (device && s.inbox_used == 0) s.inbox.reserve(*ctx_.link, s.n * held);  // a batch never holds more
  FERRY_ENFORCE(s.inbox_used + h.count * held <= s.n * held, "device samples overrun the batch");
  for (std::uint64_t e = 0; e < h.count; ++e) {
    positions_.resize(r.u());
    for (auto& pos : positions_) pos = static_cast<std::uint32_t>(r.u());
    const auto& positions = positions_;
    auto entry = r.raw(r.u());
    FERRY_ENFORCE(!layout.fixed || entry.size() + held == layout.bytes, "sample entry of ", entry.size(),
                  " bytes, expected ", layout.bytes - held);
    for (auto pos : positions) {
      FERRY_ENFORCE(pos < s.n, "sample for position ", pos, " of a batch of ", s.n);
      if (device) {
        // The entry without the field (it comes device to device into the inbox).
        p.assembly->put_entry(s.index, pos, entry, h.field);
        s.placements.push_back({h.field, pos, s.inbox_used + e * held});
        ++incoming.positions;  // counted in when the transfer is in (pump_device_receives)
      } else if (p.assembly) {
        p.assembly->put_entry(s.index, pos, entry);
        --s.waiting;
      } else {
        s.entries[pos].assign(entry.begin(), entry.end());
        --s.waiting;
      }
      ++s.misses;
      s.bytes += entry.size() + held;
    }
  }
  take_skipped(r, s, h.skipped);
  if (device) {
    s.inbox_used += h.count * held;
    incoming_.push_back(incoming);
    pump_device_receives();
  }
}

void ConsumerEngine::take_skipped(Reader& r, Slot& s, std::uint64_t records) {
  for (std::uint64_t e = 0; e < records; ++e) {
    // A sample the transformer could not prepare (bad_samples = skip): its positions are dropped.
    positions_.resize(r.count(1));
    for (auto& pos : positions_) {
      pos = static_cast<std::uint32_t>(r.u());
      FERRY_ENFORCE(pos < s.n, "skipped sample at position ", pos, " of a batch of ", s.n);
      s.skipped.push_back(pos);
      --s.waiting;
      ++s.misses;
    }
  }
}

void ConsumerEngine::dispatch(transport::Message& message) {
  switch (message.tag) {
    case kDescriptor:
      on_descriptor(message);
      break;
    case kSamples:
      on_samples(message);
      break;
    case kSamplesAt:
      on_samples_at(message);
      break;
    case kJobs:
      jobs_ = monitor::decode_job_list(message.bytes);
      break;
    case kAbort:
      remote_failure_ = true;  // finish_all() then waits for no device transfer
      throw decode_abort(message.bytes);
    default:
      FERRY_ENFORCE(false, "consumer got unexpected message tag ", message.tag, " from rank ",
                    message.source);
  }
}

bool ConsumerEngine::ready(Pipe& p, Slot& s) {
  if (!complete(s)) return false;
  if (!s.assembled) assemble(p, s);
  return true;
}

bool ConsumerEngine::complete(Slot& s) {
  if (!s.active || !s.described || s.waiting != 0) return false;
  for (auto& g : s.gets)
    if (!g.test()) return false;
  return true;
}

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

const Batch* ConsumerEngine::next_batch(std::size_t local) {
  Pipe& p = *pipes_[local];
  if (p.holding) {
    // The previous batch goes back: its slot may be refilled and its hits unpinned.
    Slot& prev = p.ring[(p.next_seq - 1) % p.ring.size()];
    Writer w;
    encode(w, Credit{static_cast<std::uint32_t>(p.runtime->index), prev.epoch, prev.batch});
    ctx_.fabric->send(p.randomizer, kCredit, w.view());
    // Kernels the caller queued on the previous batch's device fields may not have run yet.
    if (ctx_.link) prev.reusable_after = ctx_.link->mark_caller();
    prev.active = false;
    p.holding = false;
  }
  if (p.next_seq >= p.total) {
    if (!p.finished) {
      p.finished = true;
      Writer w;
      w.u(p.runtime->index).u(p.epochs_reported);
      ctx_.fabric->send(p.randomizer, kFinished, w.view());
    }
    return nullptr;
  }
  const std::uint64_t epoch = p.next_seq / p.batches_per_epoch, batch = p.next_seq % p.batches_per_epoch;
  if (batch == 0 && p.next_seq != p.first_seq) check_dataset(p, epoch);
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
  Slot& s = slot_for(p, epoch, batch);
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
  const std::uint64_t waited = waited_ns / 1000;
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
    ctx_.fabric->send(p.randomizer, kEpochDone, w.view());
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
  p.holding = true;
  ++p.next_seq;
  start_ahead(p);  // the device works on the next batches while training runs on this one
  return &s.out;
}

void ConsumerEngine::finish_all(bool failing) noexcept {
  // A posted device receive writes into a slot's inbox: let it complete (its sender was told and posts the
  // send), unless the job is failing (the sender may be gone). Transfers announced but never asked for are
  // left: their senders drop them at shutdown.
  incoming_.clear();
  failing = failing || remote_failure_;
  const auto deadline =
      std::chrono::steady_clock::now() + (failing ? std::chrono::seconds(0) : std::chrono::seconds(60));
  while (receiving_) {
    try {
      if (ctx_.link->done(receiving_->posted)) {
        ctx_.link->release(receiving_->posted);
        receiving_.reset();
      } else if (std::chrono::steady_clock::now() > deadline) {
        // Its sender will not come (failing, or gone): stop the receive, or freeing the inbox would wait on
        // it forever (cudaFree waits for the device).
        if (!failing)
          log::error("a device receive from rank {} did not complete during shutdown; the link is aborted",
                     receiving_->source);
        ctx_.link->abort();
        receiving_.reset();
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    } catch (const std::exception& e) {
      log::warn("a device receive from rank {} failed during shutdown: {}", receiving_->source, e.what());
      ctx_.link->abort();  // a failed communicator's kernels may never end
      receiving_.reset();
    }
  }
  for (auto& p : pipes_) {
    // One-sided gets of prefetched batches write into this engine's buffers: complete them before the
    // buffers can go away (an early stop leaves some in flight).
    for (auto& slot : p->ring) {
      for (auto& get : slot.gets) {
        try {
          get.wait();
        } catch (const std::exception& e) {
          log::warn("a prefetch read of pipeline '{}' failed during shutdown: {}", p->config->name, e.what());
        }
      }
      slot.gets.clear();
      // Device jobs started ahead write into this engine's buffers too.
      for (const auto& run : slot.runs) {
        if (const std::exception_ptr error = settle(run.ticket)) {
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            log::warn("an augment job of pipeline '{}' failed during shutdown: {}", p->config->name,
                      e.what());
          }
        }
      }
      slot.runs.clear();
    }
  }
  // Every get is complete now: hand the send pool slots back before saying the pipelines are done (a consumer
  // that stops early would otherwise hold them until the job ends, and its transformers send the other
  // consumers' batches in messages).
  if (!failing) {
    try {
      answer_fetches();
    } catch (const std::exception& e) {
      log::warn("could not hand send pool slots back during shutdown: {}", e.what());
    }
  }
  for (auto& p : pipes_) {
    if (p->finished) continue;
    try {
      p->finished = true;
      Writer w;
      w.u(p->runtime->index).u(p->epochs_reported);
      ctx_.fabric->send(p->randomizer, kFinished, w.view());
    } catch (const std::exception& e) {
      log::warn("could not tell randomizer {} that pipeline '{}' is done: {}", p->randomizer, p->config->name,
                e.what());
    }
  }
}

}  // namespace ferry::roles

namespace ferry {

const Batch* Loader::next_batch() {
  return engine_->next_batch(index_);
}
const std::string& Loader::pipeline() const noexcept {
  return engine_->name(index_);
}
std::uint64_t Loader::batches_per_epoch() const noexcept {
  return engine_->batches_per_epoch(index_);
}
std::uint64_t Loader::dataset_size() const noexcept {
  return engine_->dataset_size(index_);
}
const LoaderCounters& Loader::counters() const noexcept {
  return engine_->counters(index_);
}
std::string Loader::state() const {
  return engine_->state(index_);
}

}  // namespace ferry
