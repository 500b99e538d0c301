#include "monitor/recorder.hpp"

#include <algorithm>
#include <bit>
#include <map>

namespace ferry::monitor {

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;
// Occupancy fractions are kept in fixed point so that sums and minima are integer atomics.
constexpr std::uint64_t kOccupancyOne = 1u << 20;

void atomic_max(std::atomic<std::uint32_t>& a, std::uint32_t v) noexcept {
  std::uint32_t cur = a.load(kRelaxed);
  while (v > cur && !a.compare_exchange_weak(cur, v, kRelaxed)) {
  }
}

void atomic_min(std::atomic<std::uint64_t>& a, std::uint64_t v) noexcept {
  std::uint64_t cur = a.load(kRelaxed);
  while (v < cur && !a.compare_exchange_weak(cur, v, kRelaxed)) {
  }
}

}  // namespace

bool WindowClock::due(std::uint64_t now_ns) const noexcept {
  if (config_.batches > 0 && batches_ >= config_.batches) return true;
  return config_.ms > 0 && now_ns - start_ns_ >= std::uint64_t{config_.ms} * 1'000'000;
}

struct Recorder::OpCounters {
  OpInfo info;
  std::atomic<std::uint64_t> cpu_batches{0}, accel_batches{0}, cpu_ns{0}, accel_ns{0};
};

struct Recorder::PipelineCounters {
  std::atomic<std::uint64_t> batches{0}, queue_samples{0}, queue_sum{0}, queue_min{UINT64_MAX}, wait_ns{0},
      hits{0}, lookups{0}, moved{0}, hdf5{0};
  std::vector<std::unique_ptr<OpCounters>> ops;
};

Recorder::Recorder(std::uint32_t rank, std::uint32_t workers, const std::vector<std::vector<OpInfo>>& ops,
                   std::uint64_t now_ns)
    : rank_(rank), workers_(workers), start_ns_(now_ns) {
  for (const auto& chain : ops) {
    auto p = std::make_unique<PipelineCounters>();
    for (const auto& info : chain) {
      auto o = std::make_unique<OpCounters>();
      o->info = info;
      p->ops.push_back(std::move(o));
    }
    pipelines_.push_back(std::move(p));
  }
}

Recorder::~Recorder() = default;

void Recorder::queue(std::uint32_t pipeline, std::uint32_t ready, std::uint32_t depth) noexcept {
  if (pipeline >= pipelines_.size() || depth == 0) return;
  auto& p = *pipelines_[pipeline];
  const std::uint64_t occ = std::uint64_t{std::min(ready, depth)} * kOccupancyOne / depth;
  p.queue_samples.fetch_add(1, kRelaxed);
  p.queue_sum.fetch_add(occ, kRelaxed);
  atomic_min(p.queue_min, occ);
}

void Recorder::waited(std::uint32_t pipeline, std::uint64_t ns) noexcept {
  if (pipeline < pipelines_.size()) pipelines_[pipeline]->wait_ns.fetch_add(ns, kRelaxed);
}

void Recorder::batch(std::uint32_t pipeline) noexcept {
  if (pipeline < pipelines_.size()) pipelines_[pipeline]->batches.fetch_add(1, kRelaxed);
}

void Recorder::cache(std::uint32_t pipeline, std::uint64_t hits, std::uint64_t lookups) noexcept {
  if (pipeline >= pipelines_.size()) return;
  pipelines_[pipeline]->hits.fetch_add(hits, kRelaxed);
  pipelines_[pipeline]->lookups.fetch_add(lookups, kRelaxed);
}

void Recorder::moved(std::uint32_t pipeline, std::uint64_t bytes) noexcept {
  if (pipeline < pipelines_.size()) pipelines_[pipeline]->moved.fetch_add(bytes, kRelaxed);
}

void Recorder::hdf5(std::uint32_t pipeline, std::uint64_t bytes) noexcept {
  if (pipeline < pipelines_.size()) pipelines_[pipeline]->hdf5.fetch_add(bytes, kRelaxed);
}

void Recorder::op(std::uint32_t pipeline, std::uint32_t op, Target target, std::uint64_t ns) noexcept {
  if (pipeline >= pipelines_.size() || op >= pipelines_[pipeline]->ops.size()) return;
  auto& o = *pipelines_[pipeline]->ops[op];
  if (target == Target::accelerator) {
    o.accel_batches.fetch_add(1, kRelaxed);
    o.accel_ns.fetch_add(ns, kRelaxed);
  } else {
    o.cpu_batches.fetch_add(1, kRelaxed);
    o.cpu_ns.fetch_add(ns, kRelaxed);
  }
}

void Recorder::busy(std::uint64_t ns) noexcept {
  busy_ns_.fetch_add(ns, kRelaxed);
}

void Recorder::cpu_queue(std::uint32_t length) noexcept {
  cpu_queue_sum_.fetch_add(length, kRelaxed);
  cpu_queue_samples_.fetch_add(1, kRelaxed);
  atomic_max(cpu_queue_max_, length);
}

void Recorder::accelerator(double util, double own, UtilSource source) noexcept {
  accel_util_bits_.store(std::bit_cast<std::uint64_t>(util), kRelaxed);
  accel_own_bits_.store(std::bit_cast<std::uint64_t>(own), kRelaxed);
  util_source_.store(static_cast<std::uint8_t>(source), kRelaxed);
}

RankStats Recorder::take(std::uint64_t now_ns) {
  RankStats s;
  s.rank = rank_;
  s.workers = workers_;
  s.window_ns = now_ns > start_ns_ ? now_ns - start_ns_ : 0;
  start_ns_ = now_ns;
  s.busy_ns = busy_ns_.exchange(0, kRelaxed);
  const std::uint64_t qn = cpu_queue_samples_.exchange(0, kRelaxed);
  const std::uint64_t qsum = cpu_queue_sum_.exchange(0, kRelaxed);
  s.cpu_queue_mean = qn ? static_cast<double>(qsum) / static_cast<double>(qn) : 0;
  s.cpu_queue_max = cpu_queue_max_.exchange(0, kRelaxed);
  s.util_source = static_cast<UtilSource>(util_source_.load(kRelaxed));
  s.has_accelerator = s.util_source != UtilSource::none;
  s.accelerator_util = std::bit_cast<double>(accel_util_bits_.load(kRelaxed));
  s.accelerator_own = std::bit_cast<double>(accel_own_bits_.load(kRelaxed));
  for (std::uint32_t i = 0; i < pipelines_.size(); ++i) {
    auto& c = *pipelines_[i];
    PipelineStats p;
    p.pipeline = i;
    p.batches = c.batches.exchange(0, kRelaxed);
    p.queue_samples = c.queue_samples.exchange(0, kRelaxed);
    const std::uint64_t sum = c.queue_sum.exchange(0, kRelaxed);
    const std::uint64_t min = c.queue_min.exchange(UINT64_MAX, kRelaxed);
    if (p.queue_samples > 0) {
      p.queue_mean = static_cast<double>(sum) / static_cast<double>(p.queue_samples) / kOccupancyOne;
      // A sample racing with take() may have bumped the count but not yet the minimum.
      p.queue_min = min == UINT64_MAX ? p.queue_mean : static_cast<double>(min) / kOccupancyOne;
    }
    p.wait_ns = c.wait_ns.exchange(0, kRelaxed);
    p.cache_hits = c.hits.exchange(0, kRelaxed);
    p.cache_lookups = c.lookups.exchange(0, kRelaxed);
    p.bytes_moved = c.moved.exchange(0, kRelaxed);
    p.hdf5_bytes = c.hdf5.exchange(0, kRelaxed);
    std::map<Stage, std::uint32_t> per_stage;  // an op's number counts the ops of its own stage
    for (std::uint32_t k = 0; k < c.ops.size(); ++k) {
      auto& o = *c.ops[k];
      OpStats op;
      op.stage = o.info.stage;
      op.op = per_stage[o.info.stage]++;
      op.name = o.info.name;
      op.accelerator_capable = o.info.accelerator_capable;
      op.cpu_batches = o.cpu_batches.exchange(0, kRelaxed);
      op.accelerator_batches = o.accel_batches.exchange(0, kRelaxed);
      op.cpu_ns = o.cpu_ns.exchange(0, kRelaxed);
      op.accelerator_ns = o.accel_ns.exchange(0, kRelaxed);
      p.ops.push_back(std::move(op));
    }
    s.pipelines.push_back(std::move(p));
  }
  return s;
}

}  // namespace ferry::monitor
