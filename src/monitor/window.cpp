#include "monitor/window.hpp"

#include <algorithm>
#include <map>

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "monitor/codec.hpp"

namespace ferry::monitor {

namespace {

// First varint of every message: kind and layout version together, so a message of another kind or from a
// Ferry of another version is refused by name instead of being misread.
constexpr std::uint64_t kRankStatsTag = 0x5205;  // 'R', version 5 (stages, consumers, cache full, epochs)
constexpr std::uint64_t kWindowTag = 0x5705;     // 'W', version 5

void put(Writer& w, const OpStats& op) {
  w.u64(static_cast<std::uint64_t>(op.stage));
  w.u64(op.op);
  w.str(op.name);
  w.boolean(op.accelerator_capable);
  w.u64(op.cpu_batches);
  w.u64(op.accelerator_batches);
  w.u64(op.cpu_ns);
  w.u64(op.accelerator_ns);
}

OpStats get_op(Reader& r) {
  OpStats op;
  const std::uint64_t stage = r.u64();
  if (stage > static_cast<std::uint64_t>(Stage::head)) r.fail("unknown stage");
  op.stage = static_cast<Stage>(stage);
  op.op = r.u32();
  op.name = r.str();
  op.accelerator_capable = r.boolean();
  op.cpu_batches = r.u64();
  op.accelerator_batches = r.u64();
  op.cpu_ns = r.u64();
  op.accelerator_ns = r.u64();
  return op;
}

void put(Writer& w, const PipelineStats& p) {
  w.u64(p.pipeline);
  w.u64(p.batches);
  w.u64(p.queue_samples);
  w.f64(p.queue_mean);
  w.f64(p.queue_min);
  w.u64(p.wait_ns);
  w.u64(p.cache_hits);
  w.u64(p.cache_lookups);
  w.u64(p.bytes_moved);
  w.u64(p.hdf5_bytes);
  w.u64(p.ops.size());
  for (const auto& op : p.ops) put(w, op);
}

PipelineStats get_pipeline(Reader& r) {
  PipelineStats p;
  p.pipeline = r.u32();
  p.batches = r.u64();
  p.queue_samples = r.u64();
  p.queue_mean = r.f64();
  p.queue_min = r.f64();
  p.wait_ns = r.u64();
  p.cache_hits = r.u64();
  p.cache_lookups = r.u64();
  p.bytes_moved = r.u64();
  p.hdf5_bytes = r.u64();
  p.ops.resize(r.count(8));  // an op takes at least 8 bytes (7 varints and a string length)
  for (auto& op : p.ops) op = get_op(r);
  return p;
}

void put(Writer& w, const RankStats& s) {
  w.u64(s.rank);
  w.boolean(s.consumer);
  w.u64(s.window_ns);
  w.u64(s.busy_ns);
  w.u64(s.workers);
  w.f64(s.cpu_queue_mean);
  w.u64(s.cpu_queue_max);
  w.boolean(s.has_accelerator);
  w.f64(s.accelerator_util);
  w.f64(s.accelerator_own);
  w.u64(static_cast<std::uint64_t>(s.util_source));
  w.u64(s.pipelines.size());
  for (const auto& p : s.pipelines) put(w, p);
  w.u64(s.slab_hits.size());
  for (auto h : s.slab_hits) w.u64(h);
  w.u64(s.cache_full);
  w.u64(s.describing_epoch);
  w.boolean(s.randomizer_done);
  w.boolean(s.randomizer);
}

RankStats get_rank(Reader& r) {
  RankStats s;
  s.rank = r.u32();
  s.consumer = r.boolean();
  s.window_ns = r.u64();
  s.busy_ns = r.u64();
  s.workers = r.u32();
  s.cpu_queue_mean = r.f64();
  s.cpu_queue_max = r.u32();
  s.has_accelerator = r.boolean();
  s.accelerator_util = r.f64();
  s.accelerator_own = r.f64();
  const std::uint64_t source = r.u64();
  if (source > static_cast<std::uint64_t>(UtilSource::nvml)) r.fail("unknown utilization source");
  s.util_source = static_cast<UtilSource>(source);
  s.pipelines.resize(r.count(25));  // a pipeline takes at least 9 varints and 2 doubles
  for (auto& p : s.pipelines) p = get_pipeline(r);
  s.slab_hits.resize(r.count(1));
  for (auto& h : s.slab_hits) h = r.u64();
  s.cache_full = r.u64();
  s.describing_epoch = r.u64();
  s.randomizer_done = r.boolean();
  s.randomizer = r.boolean();
  return s;
}

void expect_tag(Reader& r, std::uint64_t tag) {
  if (r.u64() != tag) r.fail("not this kind of message, or from another Ferry version");
}

}  // namespace

void WindowConfig::validate() const {
  if (batches == 0 && ms == 0) {
    throw ConfigError("monitor.window_batches and monitor.window_ms are both 0: a window would never close");
  }
  if (history == 0) throw ConfigError("monitor.history must be at least 1");
}

double RankStats::busy_fraction() const noexcept {
  if (window_ns == 0 || workers == 0) return 0;
  const double f = static_cast<double>(busy_ns) / (static_cast<double>(window_ns) * workers);
  return std::clamp(f, 0.0, 1.0);
}

std::vector<PipelineSummary> summarize_pipelines(const Window& window, Stage stage) {
  std::map<std::uint32_t, PipelineSummary> by_pipeline;
  std::map<std::pair<std::uint32_t, std::uint32_t>, OpStats> ops;
  for (const auto& rank : window.ranks) {
    for (const auto& p : rank.pipelines) {
      auto& s = by_pipeline[p.pipeline];
      s.pipeline = p.pipeline;
      s.wait_ns += p.wait_ns;
      if (p.queue_samples > 0) {
        merge_queue(s.queue_samples, s.queue_mean, s.queue_min, p);
        s.batches += p.batches;  // only consumers count delivered batches
        s.consumer_ns += p.sampled_window_ns != 0 ? p.sampled_window_ns : rank.window_ns;
      }
      for (const auto& op : p.ops) {
        if (op.stage != stage) continue;
        // An op is capable only if every rank that runs it can run it on its device.
        const auto [it, first] = ops.try_emplace({p.pipeline, op.op}, op);
        if (!first) merge_op(it->second, op);
      }
    }
  }
  for (auto& [key, op] : ops) {
    auto& s = by_pipeline[key.first];
    s.pipeline = key.first;
    s.ops.push_back(std::move(op));  // map order: ascending op index
  }
  std::vector<PipelineSummary> out;
  out.reserve(by_pipeline.size());
  for (auto& [id, s] : by_pipeline) out.push_back(std::move(s));
  return out;
}

AcceleratorSummary summarize_accelerators(const Window& window, Stage stage) {
  AcceleratorSummary a;
  double sum = 0;
  for (const auto& rank : window.ranks) {
    if (!rank.has_accelerator || rank.consumer != (stage == Stage::augment)) continue;
    const double util = std::clamp(rank.accelerator_util, 0.0, 1.0);
    if (a.count == 0 || util > a.util_max) {
      a.util_max = util;
      a.own_max = std::clamp(rank.accelerator_own, 0.0, 1.0);
    }
    sum += util;
    ++a.count;
  }
  if (a.count > 0) a.util_mean = sum / a.count;
  return a;
}

TransformerSummary summarize_transformers(const Window& window) {
  TransformerSummary t;
  for (const auto& rank : window.ranks) {
    if (rank.consumer || rank.randomizer || rank.workers == 0) continue;
    const double busy = rank.busy_fraction();
    t.busy_max = t.count == 0 ? busy : std::max(t.busy_max, busy);
    ++t.count;
  }
  return t;
}

std::vector<std::byte> encode(const RankStats& stats) {
  Writer w;
  w.u64(kRankStatsTag);
  put(w, stats);
  return w.take();
}

RankStats decode_rank_stats(std::span<const std::byte> bytes) {
  Reader r(bytes, "monitor rank stats");
  expect_tag(r, kRankStatsTag);
  RankStats s = get_rank(r);
  r.expect_done();
  return s;
}

std::vector<std::byte> encode(const Window& window) {
  Writer w;
  w.u64(kWindowTag);
  w.u64(window.index);
  w.u64(window.ranks.size());
  for (const auto& rank : window.ranks) put(w, rank);
  return w.take();
}

Window decode_window(std::span<const std::byte> bytes) {
  Reader r(bytes, "monitor window");
  expect_tag(r, kWindowTag);
  Window window;
  window.index = r.u64();
  window.ranks.resize(r.count(37));  // a rank takes at least 13 varints and 3 doubles
  for (auto& rank : window.ranks) rank = get_rank(r);
  r.expect_done();
  return window;
}

}  // namespace ferry::monitor
