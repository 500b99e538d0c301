// The consumer engine: its pipelines (rings of batch slots, assembly, heads), lookups, the messages it
// dispatches, when a slot is ready; and the Loader facade over it. next_batch() is in consumer_batch.cpp,
// the messages' handlers in consumer_messages.cpp, the end in consumer_shutdown.cpp.
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
    p->randomizers = ctx.layout.randomizers_of[rt.index];
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
    if (rt.head_moves) {
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
    s.shard_seen.assign(p.randomizers.size(), 0);
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
  ctx_.fabric->recycle(std::move(message));  // entries were copied out: its payload serves a later message
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
