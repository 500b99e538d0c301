// The data path's side of monitoring: counters updated with relaxed atomics (a few adds per batch, no lock,
// no allocation), drained once per window into a RankStats by the rank's progress loop. Values that arrive
// while take() runs land in this window or the next, never nowhere.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "monitor/job_list.hpp"
#include "monitor/window.hpp"

namespace ferry::monitor {

// Decides when a window closes (WindowConfig: W batches or T ms, whichever first). Single-threaded.
class WindowClock {
 public:
  WindowClock(const WindowConfig& config, std::uint64_t now_ns) : config_(config), start_ns_(now_ns) {}
  void batch() noexcept { ++batches_; }
  bool due(std::uint64_t now_ns) const noexcept;
  void restart(std::uint64_t now_ns) noexcept {
    start_ns_ = now_ns;
    batches_ = 0;
  }
  std::uint64_t start_ns() const noexcept { return start_ns_; }

 private:
  WindowConfig config_;
  std::uint64_t start_ns_;
  std::uint64_t batches_ = 0;
};

struct OpInfo {
  std::string name;
  bool accelerator_capable = false;
  Stage stage = Stage::prepare;
};

class Recorder {
 public:
  // ops[p]: the prepare chain of pipeline p (empty on a rank that does not transform it), or a consumer's
  // augment stage and its movable head. op() takes an index into ops[p]; a report numbers each op among
  // the ops of its own stage (OpStats::op).
  Recorder(std::uint32_t rank, std::uint32_t workers, const std::vector<std::vector<OpInfo>>& ops,
           std::uint64_t now_ns);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Consumer, at every next_batch(): `ready` of `depth` prefetch slots were filled when it was called.
  void queue(std::uint32_t pipeline, std::uint32_t ready, std::uint32_t depth) noexcept;
  void waited(std::uint32_t pipeline, std::uint64_t ns) noexcept;
  void batch(std::uint32_t pipeline) noexcept;  // delivered or transformed
  void cache(std::uint32_t pipeline, std::uint64_t hits, std::uint64_t lookups) noexcept;
  void moved(std::uint32_t pipeline, std::uint64_t bytes) noexcept;
  void hdf5(std::uint32_t pipeline, std::uint64_t bytes) noexcept;
  // Transformer: one op over one batch. Unknown (pipeline, op) pairs are ignored, never fatal.
  void op(std::uint32_t pipeline, std::uint32_t op, Target target, std::uint64_t ns) noexcept;
  void busy(std::uint64_t ns) noexcept;
  void cpu_queue(std::uint32_t length) noexcept;  // at every submit to the worker queue
  // Latest accelerator figures (the sampler's thread): fraction busy overall and Ferry's own.
  void accelerator(double util, double own, UtilSource source) noexcept;

  // The window since the last take() (or construction), counters reset. One thread at a time.
  RankStats take(std::uint64_t now_ns);

 private:
  struct OpCounters;
  struct PipelineCounters;
  std::uint32_t rank_;
  std::uint32_t workers_;
  std::uint64_t start_ns_;
  std::vector<std::unique_ptr<PipelineCounters>> pipelines_;
  std::atomic<std::uint64_t> busy_ns_{0};
  std::atomic<std::uint64_t> cpu_queue_sum_{0};
  std::atomic<std::uint64_t> cpu_queue_samples_{0};
  std::atomic<std::uint32_t> cpu_queue_max_{0};
  std::atomic<std::uint64_t> accel_util_bits_{0};  // doubles as bits: relaxed stores of a whole value
  std::atomic<std::uint64_t> accel_own_bits_{0};
  std::atomic<std::uint8_t> util_source_{0};
};

}  // namespace ferry::monitor
