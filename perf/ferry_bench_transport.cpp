// ferry_bench's transport and memory micro-benchmarks: `get` (one-sided gets through src/transport between
// 2 ranks, the pattern of ucx_perftest), `memcpy` (the same access patterns within one process, the
// baseline) and `idle` (the CPU a rank blocked in Fabric::wait uses, against a busy loop as long).
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ferry_bench_common.hpp"
#include "transport/fabric.hpp"
#include "transport/registry.hpp"

namespace ferry::perf {
namespace {

// Bandwidth of `repeat` timed passes of `bytes` each: the best (least disturbed by other load on shared
// cores) and the median, in MiB/s.
struct Best {
  double best = 0, median = 0;
};
template <typename F>
Best best_of(std::size_t repeat, F&& pass, double bytes) {
  std::vector<double> rates;
  for (std::size_t r = 0; r < repeat; ++r) {
    const auto t0 = Clock::now();
    pass();
    rates.push_back(bytes / seconds_since(t0) / 1048576.0);
  }
  std::sort(rates.begin(), rates.end());
  return {rates.back(), rates[rates.size() / 2]};
}

// Touches every page so first-touch faults stay out of the timings.
std::vector<std::byte> filled(std::size_t bytes) {
  std::vector<std::byte> v(bytes);
  for (std::size_t i = 0; i < bytes; i += 4096) v[i] = static_cast<std::byte>(i >> 12);
  return v;
}

constexpr ferry::transport::Tag kGetKey = 1, kGetDone = 2;

// What `get` measures: per size, `budget` bytes of gets (at least 8 windows) with `window` in flight.
struct GetSpec {
  std::vector<std::size_t> sizes;
  std::size_t budget = 0, window = 0, pool_bytes = 0, repeat = 0;
  std::string backend;
};

// Rank 0 of `get`: reads rank 1's pool (its key arrives first) in both modes per size; returns the lines.
std::vector<std::string> read_gets(ferry::transport::Fabric& fabric, const GetSpec& spec) {
  std::optional<ferry::transport::Message> key;
  while (!key) key = fabric.wait(std::chrono::milliseconds(100));
  const ferry::transport::RemoteRegion remote = fabric.attach(key->bytes);
  const std::size_t window = spec.window;
  std::vector<std::byte> ring = filled(*std::max_element(spec.sizes.begin(), spec.sizes.end()) * window);
  std::vector<std::string> lines;
  for (const std::size_t s : spec.sizes) {
    const std::size_t slots = spec.pool_bytes / s;
    const std::size_t iters = std::max<std::size_t>(spec.budget / s, window * 8) / window * window;
    for (const char* mode : {"hot", "stream"}) {
      const bool hot = std::strcmp(mode, "hot") == 0;
      auto pass = [&](std::size_t n) {
        std::size_t next = 0;
        for (std::size_t i = 0; i < n; i += window) {
          for (std::size_t w = 0; w < window; ++w) {
            const std::size_t offset = hot ? 0 : (next++ % slots) * s;
            fabric.get(remote, offset, ring.data() + (hot ? 0 : w * s), s);
          }
          fabric.wait_all();
        }
      };
      pass(std::max<std::size_t>(window * 2, iters / 10));  // warm-up: wireup, rkey, caches
      const Best b = best_of(
          spec.repeat, [&] { pass(iters); }, static_cast<double>(iters * s));
      lines.push_back(Json()
                          .str("kind", "get")
                          .str("backend", spec.backend)
                          .str("mode", mode)
                          .u64("size", s)
                          .u64("iters", iters)
                          .u64("window", window)
                          .u64("repeat", spec.repeat)
                          .num("mib_per_s", b.best)
                          .num("median_mib_per_s", b.median)
                          .done());
    }
  }
  return lines;
}

}  // namespace

// One-sided gets: rank 0 reads rank 1's registered pool. "hot": every get reads offset 0 into the same
// buffer, as ucx_perftest does; "stream": consecutive slots of the pool into a ring of distinct buffers, as a
// consumer reads a batch of cached samples. Both keep `window` gets in flight, then wait_all().
int cmd_get(const Options& o) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size != 2) usage("get runs on exactly 2 ranks");
  GetSpec spec;
  spec.sizes = parse_sizes(o.flag("sizes", "64K"));
  spec.budget = parse_size(o.flag("bytes", "256M"));
  spec.window = parse_size(o.flag("window", "16"));
  const std::size_t max_size = *std::max_element(spec.sizes.begin(), spec.sizes.end());
  spec.pool_bytes = std::max(parse_size(o.flag("pool", "256M")), max_size * spec.window);
  spec.backend = o.flag("backend", "ucx");
  spec.repeat = parse_size(o.flag("repeat", "5"));

  auto fabric = ferry::transport::make_fabric(spec.backend, MPI_COMM_WORLD);
  std::vector<std::byte> pool = rank == 1 ? filled(spec.pool_bytes) : std::vector<std::byte>{};
  ferry::transport::Region region =
      fabric->register_memory(rank == 1 ? pool.data() : nullptr, rank == 1 ? pool.size() : 0);
  std::vector<std::string> lines;
  if (rank == 1) {
    fabric->send(0, kGetKey, region.key());
    // Serve: progress (sleeping) until the reader is done, as an idle cache server does.
    for (;;) {
      auto m = fabric->wait(std::chrono::milliseconds(100));
      if (m && m->tag == kGetDone) break;
    }
  } else {
    lines = read_gets(*fabric, spec);
    fabric->send(1, kGetDone, {});
  }
  fabric->barrier();
  region = ferry::transport::Region();
  fabric->close();
  if (rank == 0) {
    FILE* f = std::fopen(o.out.c_str(), "a");
    if (!f) return 1;
    for (const auto& l : lines) std::fprintf(f, "%s\n", l.c_str());
    std::fclose(f);
  }
  return 0;
}

int cmd_memcpy(const Options& o) {
  const auto sizes = parse_sizes(o.flag("sizes", "64K"));
  const std::size_t budget = parse_size(o.flag("bytes", "256M"));
  const std::size_t window = 16;
  const std::size_t repeat = parse_size(o.flag("repeat", "5"));
  const std::size_t max_size = *std::max_element(sizes.begin(), sizes.end());
  const std::size_t pool_bytes = std::max(parse_size(o.flag("pool", "256M")), max_size * window);
  std::vector<std::byte> pool = filled(pool_bytes), ring = filled(max_size * window);
  FILE* f = std::fopen(o.out.c_str(), "a");
  if (!f) return 1;
  for (const std::size_t s : sizes) {
    const std::size_t slots = pool_bytes / s;
    const std::size_t iters = std::max<std::size_t>(budget / s, window * 8);
    for (const char* mode : {"hot", "stream"}) {
      const bool hot = std::strcmp(mode, "hot") == 0;
      auto pass = [&](std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
          const std::size_t offset = hot ? 0 : (i % slots) * s;
          std::memcpy(ring.data() + (hot ? 0 : (i % window) * s), pool.data() + offset, s);
          asm volatile("" ::: "memory");
        }
      };
      pass(std::max<std::size_t>(window, iters / 10));
      const Best b = best_of(
          repeat, [&] { pass(iters); }, static_cast<double>(iters * s));
      std::fprintf(f, "%s\n",
                   Json()
                       .str("kind", "memcpy")
                       .str("mode", mode)
                       .u64("size", s)
                       .u64("iters", iters)
                       .u64("repeat", repeat)
                       .num("mib_per_s", b.best)
                       .num("median_mib_per_s", b.median)
                       .done()
                       .c_str());
    }
  }
  std::fclose(f);
  return 0;
}

// An idle rank must block, not spin: up to 8 ranks share 2 cores. Every rank but the last waits for a message
// (in wait() calls of 100 ms, like a role's loop between its other duties) while the last one sleeps, then
// sends each a message. A waiter's CPU over its wait against the wait's wall time is the figure; its
// baseline is the share the same rank gets right after in a busy loop of the same length (what spinning
// would cost on these cores now; not a loop on poll(), which Open MPI makes yield when oversubscribed).
int cmd_idle(const Options& o) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size < 2) usage("idle runs on at least 2 ranks");
  const auto idle = std::chrono::milliseconds(std::stoll(o.flag("ms", "1500")));
  const std::string backend = o.flag("backend", "ucx");
  constexpr ferry::transport::Tag kWake = 41;
  auto fabric = ferry::transport::make_fabric(backend, MPI_COMM_WORLD);
  const int waker = size - 1;
  Json j;
  j.str("kind", rank == waker ? "waker" : "idle")
      .str("backend", backend)
      .u64("rank", static_cast<std::uint64_t>(rank));
  fabric->barrier();
  if (rank == waker) {
    std::this_thread::sleep_for(idle);
    const std::byte wake[] = {std::byte{1}};
    for (int dst = 0; dst < waker; ++dst) fabric->send(dst, kWake, wake);
    fabric->wait_all();
  } else {
    double cpu0 = usage_self().cpu_s;
    auto t0 = Clock::now();
    std::optional<ferry::transport::Message> m;
    while (!m) m = fabric->wait(std::chrono::milliseconds(100));
    const double wall = seconds_since(t0), cpu = usage_self().cpu_s - cpu0;
    cpu0 = usage_self().cpu_s;
    t0 = Clock::now();
    while (seconds_since(t0) < wall) {
    }
    j.num("wall_s", wall)
        .num("cpu_s", cpu)
        .num("spin_wall_s", seconds_since(t0))
        .num("spin_cpu_s", usage_self().cpu_s - cpu0);
  }
  fabric->barrier();
  fabric->close();
  gather_lines(MPI_COMM_WORLD, j.done(), o.out);
  return 0;
}

}  // namespace ferry::perf
