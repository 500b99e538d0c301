// first_read: how much more the first read of memory another process has just written costs than later reads,
// without Ferry. The baseline beside issue 14's goal 2 (perf/README.md, "Epoch profiles"): a cache server
// writes its slab during the cold epoch and a consumer reads it first in the first all-hit epoch.
//
//   first_read OUT CHUNK_BYTES TOTAL_BYTES PASSES
//
// A shared anonymous region of TOTAL_BYTES is faulted in by this process and by a child process, which then
// writes it with memcpy in CHUNK_BYTES pieces in a random order (as inserts arrive into a prefaulted slab);
// then this process copies it out in random order, in CHUNK_BYTES pieces into a 64 MiB ring (as gets into
// batch buffers), PASSES times. Appends one JSON line to OUT:
// {"kind":"first_read","chunk":..,"bytes":..,"write_ms":..,"pass_ms":[..]}.
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

[[noreturn]] void fail(const char* what) {
  std::perror(what);
  std::exit(1);
}

// Copies piece order[j] of `region` to or from slot j of `ring` (nr slots of `chunk` bytes).
void copy_all(char* region, char* ring, std::size_t chunk, std::size_t nr,
              const std::vector<std::size_t>& order, bool into_region) {
  for (std::size_t j = 0; j < order.size(); ++j) {
    char* piece = region + order[j] * chunk;
    char* slot = ring + (j % nr) * chunk;
    if (into_region)
      std::memcpy(piece, slot, chunk);
    else
      std::memcpy(slot, piece, chunk);
  }
}

// The child writes every piece in a random order; returns its milliseconds.
double child_writes(char* region, char* ring, std::size_t chunk, std::size_t nr,
                    std::vector<std::size_t> order, std::mt19937_64 rng) {
  int pipe_fd[2];
  if (pipe(pipe_fd) != 0) fail("first_read: pipe");
  const pid_t child = fork();
  if (child < 0) fail("first_read: fork");
  if (child == 0) {
    close(pipe_fd[0]);
    for (std::size_t i = 0; i < order.size() * chunk; i += 4096) region[i] = 0;  // its page tables, untimed
    std::shuffle(order.begin(), order.end(), rng);
    const auto t0 = Clock::now();
    copy_all(region, ring, chunk, nr, order, true);
    const double ms = ms_since(t0);
    _exit(write(pipe_fd[1], &ms, sizeof ms) == static_cast<ssize_t>(sizeof ms) ? 0 : 1);
  }
  close(pipe_fd[1]);  // the child's death then ends the read below with end of file
  double ms = 0;
  int status = 0;
  if (read(pipe_fd[0], &ms, sizeof ms) != static_cast<ssize_t>(sizeof ms) ||
      waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "first_read: the writing process failed\n");
    std::exit(1);
  }
  close(pipe_fd[0]);
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: first_read OUT CHUNK_BYTES TOTAL_BYTES PASSES\n");
    return 2;
  }
  const std::size_t chunk = std::strtoull(argv[2], nullptr, 10), total = std::strtoull(argv[3], nullptr, 10);
  const int passes = std::atoi(argv[4]);
  constexpr std::size_t kRing = 64u << 20;
  if (chunk == 0 || chunk > kRing || total < chunk || passes < 1) {
    std::fprintf(stderr,
                 "first_read: need 0 < CHUNK_BYTES <= 64 MiB, CHUNK_BYTES <= TOTAL_BYTES, PASSES >= 1\n");
    return 2;
  }
  const std::size_t n = total / chunk, nr = kRing / chunk;
  void* mapped = mmap(nullptr, n * chunk, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) fail("first_read: mmap");
  char* region = static_cast<char*>(mapped);
  std::memset(region, 0, n * chunk);  // faulted in here, before the child maps it
  std::vector<char> ring(kRing, 1);   // written: faulted in before any timing
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::mt19937_64 rng(1);
  const double write_ms = child_writes(region, ring.data(), chunk, nr, order, rng);
  std::string line = "{\"kind\":\"first_read\",\"chunk\":" + std::to_string(chunk) +
                     ",\"bytes\":" + std::to_string(n * chunk) + ",\"write_ms\":" + std::to_string(write_ms) +
                     ",\"pass_ms\":[";
  rng.seed(2);
  for (int p = 0; p < passes; ++p) {
    std::shuffle(order.begin(), order.end(), rng);
    const auto t0 = Clock::now();
    copy_all(region, ring.data(), chunk, nr, order, false);
    line += (p ? "," : "") + std::to_string(ms_since(t0));
  }
  line += "]}\n";
  FILE* out = std::fopen(argv[1], "a");
  if (!out || std::fputs(line.c_str(), out) < 0 || std::fclose(out) != 0) fail(argv[1]);
  munmap(mapped, n * chunk);
  return 0;
}
