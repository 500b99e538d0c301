// ferry_bench's shared pieces (ferry_bench_common.hpp): the command line, rank 0's gathering of lines, the
// process's resource usage and the clock text.
#include "ferry_bench_common.hpp"

#include <sys/resource.h>

#include <cstdlib>
#include <sstream>

namespace ferry::perf {

std::string seconds_text(double seconds) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", seconds);
  return buf;
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

Usage usage_self() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  Usage u;
  u.cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
            1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
  u.maxrss_kib = ru.ru_maxrss;
  return u;
}

}  // namespace ferry::perf
