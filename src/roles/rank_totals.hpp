// One line per rank at the end of a run (runtime.stats_file): what the rank sent and received over the
// fabric, its process CPU time and resident memory. perf/wide.sh reads them as per-rank figures against the
// job's width (docs/scaling.md); a rank that spins instead of blocking shows as CPU time near its wall time.
#pragma once

#include <chrono>

#include "roles/context.hpp"

namespace ferry::roles {

// Wall and process CPU time since the Runtime started, and how much of it set-up took.
class RankClock {
 public:
  RankClock();
  void setup_done();  // at the end of the Runtime's set-up
  double wall_seconds() const;
  double cpu_seconds() const;
  double setup_wall_seconds() const noexcept { return setup_wall_; }
  double setup_cpu_seconds() const noexcept { return setup_cpu_; }

 private:
  std::chrono::steady_clock::time_point start_;
  double cpu_at_start_ = 0, setup_wall_ = 0, setup_cpu_ = 0;
};

// {"kind":"rank","rank":R,"role":"...","messages_sent":..,"bytes_sent":..,"messages_received":..,
//  "bytes_received":..,"cpu_seconds":..,"wall_seconds":..,"setup_cpu_seconds":..,"setup_wall_seconds":..,
//  "rss_bytes":..,"buffers_taken":..,"buffers_reused":..,"buffers_peak_bytes":..}: times since the Runtime
//  started; buffers: received message payloads and send copies of 4 KiB and more, and how many reused a
//  kept one
//  (transport/buffer_pool.hpp). No-op without runtime.stats_file or a fabric.
void write_rank_totals(const Context& ctx, const RankClock& clock);

}  // namespace ferry::roles
