// What ferry_bench's subcommands share: the command line (Options, sizes with K/M/G suffixes), the flat JSON
// line writer, rank 0's gathering of every rank's line into OUT, the process's CPU and peak RSS, and the
// clock. The subcommands themselves are declared at the end (ferry_bench_system.cpp,
// ferry_bench_transport.cpp, ferry_bench_permute.cpp); main() in ferry_bench.cpp picks one.
#pragma once

#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace ferry::perf {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Seconds with 6 decimals (microseconds): Json::num keeps 9 significant digits, too few for a clock reading.
std::string seconds_text(double seconds);

// Prints why and the usage to stderr, exits 2.
[[noreturn]] void usage(const char* why);

std::size_t parse_size(const std::string& text);
std::vector<std::size_t> parse_sizes(const std::string& list);

struct Options {
  std::string command, config, out;
  std::map<std::string, std::string> flags;
  std::string flag(const std::string& name, const std::string& fallback) const {
    const auto it = flags.find(name);
    return it == flags.end() ? fallback : it->second;
  }
};

Options parse(int argc, char** argv);

// Rank 0 of `comm` appends every rank's line to `path`, in rank order.
void gather_lines(MPI_Comm comm, const std::string& line, const std::string& path);

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

// This process's CPU (user + system, all threads) and peak RSS so far.
struct Usage {
  double cpu_s = 0;
  long maxrss_kib = 0;
};
Usage usage_self();

// The subcommands: each returns the process's exit code; errors throw.
int cmd_run(const Options& o);      // ferry_bench_system.cpp
int cmd_local(const Options& o);    // ferry_bench_system.cpp
int cmd_get(const Options& o);      // ferry_bench_transport.cpp
int cmd_memcpy(const Options& o);   // ferry_bench_transport.cpp
int cmd_idle(const Options& o);     // ferry_bench_transport.cpp
int cmd_permute(const Options& o);  // ferry_bench_permute.cpp

}  // namespace ferry::perf
