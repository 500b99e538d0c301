// ferry_bench's system subcommands: `run` (ferry::Runtime on every rank: its role, peak RSS, CPU, and its
// ServeReport or its pipelines' per-epoch consumer timings) and `local` (the naive pipeline: a LocalLoader
// per rank doing its own reads). Every rank writes one JSON line; rank 0 gathers them into OUT.
#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "ferry/config.hpp"
#include "ferry/local_loader.hpp"
#include "ferry/runtime.hpp"
#include "ferry_bench_common.hpp"

namespace ferry::perf {
namespace {

// Per-epoch timings of one consumer pipeline: an epoch ends with its last batch's return. end_s is that
// return on the steady clock (CLOCK_MONOTONIC, as `perf record -k CLOCK_MONOTONIC` stamps samples:
// perf/epoch_oncpu.sh splits a profile by epoch with it).
struct EpochClock {
  Clock::time_point last;
  std::map<std::uint64_t, double> seconds, end;
  std::map<std::uint64_t, std::uint64_t> samples, bytes;
  void batch(const ferry::Batch& b) {
    const auto now = Clock::now();
    seconds[b.epoch] += std::chrono::duration<double>(now - last).count();
    end[b.epoch] = std::chrono::duration<double>(now.time_since_epoch()).count();
    last = now;
    samples[b.epoch] += b.size();
    for (const auto& f : b.fields) bytes[b.epoch] += f.bytes;
  }
  std::string json() const {
    std::string out = "[";
    for (const auto& [epoch, s] : seconds) {
      if (out.size() > 1) out += ",";
      out += Json()
                 .u64("epoch", epoch)
                 .num("seconds", s)
                 .raw("end_s", seconds_text(end.at(epoch)))
                 .u64("samples", samples.at(epoch))
                 .u64("bytes", bytes.at(epoch))
                 .done();
    }
    return out + "]";
  }
};

// A service rank (not a consumer): serves until the consumers are done, then writes its ServeReport.
void serve(ferry::Runtime& rt, Json& j) {
  const ferry::ServeReport r = rt.serve();
  j.num("wall_s", r.wall_seconds)
      .num("cpu_s", r.cpu_seconds)
      .num("idle_wall_s", r.idle_wall_seconds)
      .num("idle_cpu_s", r.idle_cpu_seconds)
      .u64("samples_prepared", r.samples_prepared)
      .u64("hdf5_reads", r.hdf5_reads)
      .u64("hdf5_bytes", r.hdf5_bytes)
      .u64("inserts_sent", r.inserts_sent)
      .u64("entries_stored", r.entries_stored)
      .u64("bytes_stored", r.bytes_stored)
      .u64("cache_hits", r.cache_hits)
      .u64("cache_misses", r.cache_misses)
      .u64("cache_admitted", r.cache_admitted)
      .u64("cache_declined", r.cache_declined)
      .u64("cache_evictions", r.cache_evictions)
      .u64("cache_peak_bytes", r.cache_peak_bytes)
      .u64("cache_capacity", r.cache_capacity)
      .u64("inserts_peak_bytes", r.inserts_peak_bytes)
      .u64("inserts_backlog_peak_bytes", r.inserts_backlog_peak_bytes)
      .u64("inserts_held", r.inserts_held)
      .u64("control_bytes", r.control_bytes)
      .u64("samples_described", r.samples_described);
}

// A consumer rank: takes one batch from each of its pipelines in turn (sleeping `step_ms` after each, the
// training step) until all are done, then writes each pipeline's counters and per-epoch timings.
void consume(ferry::Runtime& rt, double step_ms, Json& j) {
  std::vector<ferry::Loader*> loaders;
  for (const auto& name : rt.pipelines()) loaders.push_back(&rt.loader(name));
  std::vector<EpochClock> clocks(loaders.size());
  std::vector<bool> active(loaders.size(), true);
  MPI_Barrier(rt.consumer_comm());
  const auto start = Clock::now();
  for (auto& c : clocks) c.last = start;
  for (std::size_t left = loaders.size(); left > 0;) {
    for (std::size_t i = 0; i < loaders.size(); ++i) {
      if (!active[i]) continue;
      const ferry::Batch* b = loaders[i]->next_batch();
      if (!b) {
        active[i] = false;
        --left;
        continue;
      }
      clocks[i].batch(*b);
      if (step_ms > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(step_ms));
    }
  }
  j.num("wall_s", seconds_since(start));
  std::string pipes = "[";
  for (std::size_t i = 0; i < loaders.size(); ++i) {
    const ferry::LoaderCounters& c = loaders[i]->counters();
    if (pipes.size() > 1) pipes += ",";
    pipes += Json()
                 .str("name", loaders[i]->pipeline())
                 .u64("samples", c.samples)
                 .u64("hits", c.hits)
                 .u64("misses", c.misses)
                 .u64("bytes", c.bytes)
                 .num("wait_s", c.wait_seconds)
                 .raw("epochs", clocks[i].json())
                 .done();
  }
  j.raw("pipelines", pipes + "]");
}

}  // namespace

int cmd_run(const Options& o) {
  int world = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &world);
  const double step_ms = std::stod(o.flag("step-ms", "0"));
  const ferry::Config config = ferry::load_config(o.config);
  std::string line;
  {
    const auto t0 = Clock::now();
    ferry::Runtime rt(MPI_COMM_WORLD, config);
    Json j;
    j.str("kind", "rank").u64("rank", static_cast<std::uint64_t>(world)).str("role", rt.role());
    if (rt.is_consumer())
      consume(rt, step_ms, j);
    else
      serve(rt, j);
    const Usage u = usage_self();
    j.num("process_cpu_s", u.cpu_s)
        .num("process_wall_s", seconds_since(t0))
        .u64("maxrss_kib", static_cast<std::uint64_t>(u.maxrss_kib));
    line = j.done();
  }  // the Runtime is closed before the lines are gathered
  gather_lines(MPI_COMM_WORLD, line, o.out);
  return 0;
}

int cmd_local(const Options& o) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const ferry::Config config = ferry::load_config(o.config);
  ferry::LocalLoader loader(config.pipelines.at(0), static_cast<std::uint32_t>(rank),
                            static_cast<std::uint32_t>(size));
  EpochClock clock;
  MPI_Barrier(MPI_COMM_WORLD);
  const auto start = Clock::now();
  clock.last = start;
  while (const ferry::Batch* b = loader.next_batch()) clock.batch(*b);
  const ferry::LocalCounters& c = loader.counters();
  const Usage u = usage_self();
  const std::string line = Json()
                               .str("kind", "local")
                               .u64("rank", static_cast<std::uint64_t>(rank))
                               .num("wall_s", seconds_since(start))
                               .u64("samples", c.samples)
                               .u64("hdf5_reads", c.hdf5_reads)
                               .u64("hdf5_bytes", c.hdf5_bytes)
                               .num("read_s", c.read_seconds)
                               .num("prepare_s", c.prepare_seconds)
                               .num("augment_s", c.augment_seconds)
                               .num("process_cpu_s", u.cpu_s)
                               .u64("maxrss_kib", static_cast<std::uint64_t>(u.maxrss_kib))
                               .raw("epochs", clock.json())
                               .done();
  gather_lines(MPI_COMM_WORLD, line, o.out);
  return 0;
}

}  // namespace ferry::perf
