// Progress display for the long-running tools (ferry-gen, ferry-import): a line on stderr redrawn at most
// ten times a second. Shown only on rank 0 of a launched job and only when stdout is a terminal, so logs,
// pipes and batch jobs stay quiet.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ferry::apps {

// True when this process should draw progress: stdout is a terminal and no launcher says we are rank > 0.
inline bool show_progress() {
  for (const char* var : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"})
    if (const char* v = std::getenv(var); v && std::strcmp(v, "0") != 0) return false;
  return isatty(STDOUT_FILENO) != 0;
}

class Progress {
 public:
  explicit Progress(const char* what) : what_(what) {}
  void operator()(std::uint64_t done, std::uint64_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (done < total && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    std::fprintf(stderr, "\r%s: %llu / %llu samples (%.0f%%)", what_, static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total),
                 total ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0);
    if (done == total) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

 private:
  const char* what_;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace ferry::apps
