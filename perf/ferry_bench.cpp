// ferry_bench: the measuring programs behind perf/run.sh (perf/README.md). Each subcommand writes JSON lines
// to OUT (appending); perf/suite.py turns them into ratios against a baseline measured in the same run.
//
//   ferry_bench run CONFIG OUT [--step-ms X]   the multi-rank system (ferry::Runtime), every rank: its role,
//                                              peak RSS, CPU, its ServeReport or per-epoch consumer timings
//   ferry_bench local CONFIG OUT               the naive pipeline: LocalLoader per rank, its own reads
//   ferry_bench get OUT --sizes S,.. --bytes B --window W [--pool P] [--backend ucx|mpi]
//                                              2 ranks: one-sided gets through src/transport (rank 0 reads
//                                              rank 1's registered memory), same pattern as ucx_perftest
//   ferry_bench memcpy OUT --sizes S,.. --bytes B [--pool P]    memcpy bandwidth, one process
//   (get and memcpy: --repeat R timed passes of B bytes per size and mode; best and median reported)
//   ferry_bench permute OUT --n N               keyed permutation rate against std::shuffle
//   ferry_bench idle OUT [--ms M] [--backend ucx|mpi]
//                                              every rank but the last waits in Fabric::wait (100 ms
//                                              timeouts) while the last sleeps M ms, then wakes them: each
//                                              waiter's process CPU over the wait (all threads: UCX's and
//                                              MPI's too)
//
// Sizes take K/M suffixes (KiB, MiB). Ranks write nothing but OUT (rank 0 gathers the lines).
#include <mpi.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ferry/config.hpp"
#include "ferry/error.hpp"
#include "ferry/local_loader.hpp"
#include "ferry/runtime.hpp"
#include "sampler/epoch_plan.hpp"
#include "sampler/permutation.hpp"
#include "transport/fabric.hpp"
#include "transport/registry.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(
      stderr,
      "ferry_bench: %s\nusage: ferry_bench run|local CONFIG OUT [--step-ms X]\n"
      "       ferry_bench get|memcpy OUT --sizes S,.. --bytes B [--window W] [--pool P] [--backend B]\n"
      "       ferry_bench permute OUT --n N\n"
      "       ferry_bench idle OUT [--ms M] [--backend B]\n",
      why);
  std::exit(2);
}

std::size_t parse_size(const std::string& text) {
  if (text.empty()) usage("empty size");
  std::size_t mult = 1;
  std::string digits = text;
  const char last = text.back();
  if (last == 'K' || last == 'k') mult = 1024;
  if (last == 'M' || last == 'm') mult = 1024 * 1024;
  if (last == 'G' || last == 'g') mult = std::size_t{1} << 30;
  if (mult != 1) digits.pop_back();
  char* end = nullptr;
  const unsigned long long v = std::strtoull(digits.c_str(), &end, 10);
  if (!end || *end != '\0' || v == 0) usage(("bad size '" + text + "'").c_str());
  return static_cast<std::size_t>(v) * mult;
}

std::vector<std::size_t> parse_sizes(const std::string& list) {
  std::vector<std::size_t> out;
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(parse_size(item));
  if (out.empty()) usage("--sizes is empty");
  return out;
}

struct Options {
  std::string command, config, out;
  std::map<std::string, std::string> flags;
  std::string flag(const std::string& name, const std::string& fallback) const {
    const auto it = flags.find(name);
    return it == flags.end() ? fallback : it->second;
  }
};

Options parse(int argc, char** argv) {
  if (argc < 3) usage("missing arguments");
  Options o;
  o.command = argv[1];
  int i = 2;
  if (o.command == "run" || o.command == "local") {
    if (argc < 4) usage("missing CONFIG or OUT");
    o.config = argv[i++];
  }
  o.out = argv[i++];
  for (; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || i + 1 >= argc) usage(("bad argument '" + a + "'").c_str());
    o.flags[a.substr(2)] = argv[++i];
  }
  return o;
}

// Rank 0 of `comm` appends every rank's line to `path`, in rank order.
void gather_lines(MPI_Comm comm, const std::string& line, const std::string& path) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  int length = static_cast<int>(line.size());
  std::vector<int> lengths(static_cast<std::size_t>(size)), displs(static_cast<std::size_t>(size));
  MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, comm);
  std::string all;
  if (rank == 0) {
    int total = 0;
    for (int r = 0; r < size; ++r) {
      displs[static_cast<std::size_t>(r)] = total;
      total += lengths[static_cast<std::size_t>(r)];
    }
    all.resize(static_cast<std::size_t>(total));
  }
  MPI_Gatherv(line.data(), length, MPI_CHAR, all.data(), lengths.data(), displs.data(), MPI_CHAR, 0, comm);
  if (rank != 0) return;
  FILE* f = std::fopen(path.c_str(), "a");
  if (!f) {
    std::fprintf(stderr, "ferry_bench: cannot append to %s\n", path.c_str());
    return;
  }
  for (int r = 0; r < size; ++r)
    std::fprintf(f, "%s\n",
                 all.substr(static_cast<std::size_t>(displs[static_cast<std::size_t>(r)]),
                            static_cast<std::size_t>(lengths[static_cast<std::size_t>(r)]))
                     .c_str());
  std::fclose(f);
}

// Small JSON object writer: enough for flat numbers, strings and pre-rendered values.
class Json {
 public:
  Json& num(const std::string& key, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return raw(key, buf);
  }
  Json& u64(const std::string& key, std::uint64_t v) { return raw(key, std::to_string(v)); }
  Json& str(const std::string& key, const std::string& v) { return raw(key, "\"" + v + "\""); }
  Json& raw(const std::string& key, const std::string& v) {
    text_ += (text_.empty() ? "{" : ",") + ("\"" + key + "\":") + v;
    return *this;
  }
  std::string done() const { return text_.empty() ? "{}" : text_ + "}"; }

 private:
  std::string text_;
};

struct Usage {
  double cpu_s = 0;
  long maxrss_kib = 0;
};

Usage usage_self() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  Usage u;
  u.cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
            1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
  u.maxrss_kib = ru.ru_maxrss;
  return u;
}

// Seconds with 6 decimals (microseconds): Json::num keeps 9 significant digits, too few for a clock reading.
std::string seconds_text(double seconds) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", seconds);
  return buf;
}

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
    if (!rt.is_consumer()) {
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
          .u64("control_bytes", r.control_bytes)
          .u64("samples_described", r.samples_described);
    } else {
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
    const Usage u = usage_self();
    j.num("process_cpu_s", u.cpu_s)
        .num("process_wall_s", seconds_since(t0))
        .u64("maxrss_kib", static_cast<std::uint64_t>(u.maxrss_kib));
    line = j.done();
  }
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

// One-sided gets: rank 0 reads rank 1's registered pool. "hot": every get reads offset 0 into the same
// buffer, as ucx_perftest does; "stream": consecutive slots of the pool into a ring of distinct buffers, as a
// consumer reads a batch of cached samples. Both keep `window` gets in flight, then wait_all().
int cmd_get(const Options& o) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size != 2) usage("get runs on exactly 2 ranks");
  const auto sizes = parse_sizes(o.flag("sizes", "64K"));
  const std::size_t budget = parse_size(o.flag("bytes", "256M"));
  const std::size_t window = parse_size(o.flag("window", "16"));
  const std::size_t max_size = *std::max_element(sizes.begin(), sizes.end());
  const std::size_t pool_bytes = std::max(parse_size(o.flag("pool", "256M")), max_size * window);
  const std::string backend = o.flag("backend", "ucx");
  const std::size_t repeat = parse_size(o.flag("repeat", "5"));
  constexpr ferry::transport::Tag kKey = 1, kDone = 2;

  auto fabric = ferry::transport::make_fabric(backend, MPI_COMM_WORLD);
  std::vector<std::byte> pool = rank == 1 ? filled(pool_bytes) : std::vector<std::byte>{};
  ferry::transport::Region region =
      fabric->register_memory(rank == 1 ? pool.data() : nullptr, rank == 1 ? pool.size() : 0);
  std::vector<std::string> lines;
  if (rank == 1) {
    fabric->send(0, kKey, region.key());
    // Serve: progress (sleeping) until the reader is done, as an idle cache server does.
    for (;;) {
      auto m = fabric->wait(std::chrono::milliseconds(100));
      if (m && m->tag == kDone) break;
    }
  } else {
    std::optional<ferry::transport::Message> key;
    while (!key) key = fabric->wait(std::chrono::milliseconds(100));
    const ferry::transport::RemoteRegion remote = fabric->attach(key->bytes);
    std::vector<std::byte> ring = filled(max_size * window);
    for (const std::size_t s : sizes) {
      const std::size_t slots = pool_bytes / s;
      const std::size_t iters = std::max<std::size_t>(budget / s, window * 8) / window * window;
      for (const char* mode : {"hot", "stream"}) {
        const bool hot = std::strcmp(mode, "hot") == 0;
        auto pass = [&](std::size_t n) {
          std::size_t next = 0;
          for (std::size_t i = 0; i < n; i += window) {
            for (std::size_t w = 0; w < window; ++w) {
              const std::size_t offset = hot ? 0 : (next++ % slots) * s;
              fabric->get(remote, offset, ring.data() + (hot ? 0 : w * s), s);
            }
            fabric->wait_all();
          }
        };
        pass(std::max<std::size_t>(window * 2, iters / 10));  // warm-up: wireup, rkey, caches
        const Best b = best_of(
            repeat, [&] { pass(iters); }, static_cast<double>(iters * s));
        lines.push_back(Json()
                            .str("kind", "get")
                            .str("backend", backend)
                            .str("mode", mode)
                            .u64("size", s)
                            .u64("iters", iters)
                            .u64("window", window)
                            .u64("repeat", repeat)
                            .num("mib_per_s", b.best)
                            .num("median_mib_per_s", b.median)
                            .done());
      }
    }
    fabric->send(1, kDone, {});
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

// The randomizer's permutation (a keyed bijection evaluated per position, O(1) memory) against what a
// PyTorch sampler does (materialize the order: std::iota + std::shuffle), and EpochPlan::batch_ids, the call
// the randomizer makes per batch.
int cmd_permute(const Options& o) {
  const std::uint64_t n = parse_size(o.flag("n", "1M"));
  std::uint64_t sink = 0;
  const auto t0 = Clock::now();
  const ferry::sampler::Permutation perm(n, 0x5eed);
  for (std::uint64_t i = 0; i < n; ++i) sink += perm(i);
  const double perm_s = seconds_since(t0);

  const auto t1 = Clock::now();
  std::vector<std::uint64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 gen(0x5eed);
  std::shuffle(order.begin(), order.end(), gen);
  for (std::uint64_t i = 0; i < n; ++i) sink += order[i];
  const double shuffle_s = seconds_since(t1);

  ferry::sampler::ShareSpec spec;
  spec.samples = n;
  spec.consumers = 4;
  spec.batch_size = 64;
  spec.seed = 7;
  const ferry::sampler::EpochPlan plan(spec, 3);
  std::vector<std::uint64_t> ids;
  const auto t2 = Clock::now();
  std::uint64_t described = 0;
  for (std::uint64_t k = 0; k < plan.batches_per_consumer(); ++k)
    for (std::uint32_t c = 0; c < spec.consumers; ++c) {
      plan.batch_ids(c, k, ids);
      described += ids.size();
      sink += ids.empty() ? 0 : ids[0];
    }
  const double plan_s = seconds_since(t2);
  FILE* f = std::fopen(o.out.c_str(), "a");
  if (!f) return 1;
  std::fprintf(f, "%s\n",
               Json()
                   .str("kind", "permute")
                   .u64("n", n)
                   .num("permutation_ids_per_s", n / perm_s)
                   .num("shuffle_ids_per_s", n / shuffle_s)
                   .num("plan_ids_per_s", static_cast<double>(described) / plan_s)
                   .u64("checksum", sink)
                   .done()
                   .c_str());
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

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const bool mpi = o.command == "run" || o.command == "local" || o.command == "get" || o.command == "idle";
  if (mpi) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  }
  int rc = 0;
  try {
    if (o.command == "run")
      rc = cmd_run(o);
    else if (o.command == "local")
      rc = cmd_local(o);
    else if (o.command == "get")
      rc = cmd_get(o);
    else if (o.command == "memcpy")
      rc = cmd_memcpy(o);
    else if (o.command == "permute")
      rc = cmd_permute(o);
    else if (o.command == "idle")
      rc = cmd_idle(o);
    else
      usage(("unknown command '" + o.command + "'").c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ferry_bench %s: error: %s\n", o.command.c_str(), e.what());
    if (mpi) MPI_Abort(MPI_COMM_WORLD, 1);
    return 1;
  }
  if (mpi) MPI_Finalize();
  return rc;
}
