// One line per rank at the end of a run (runtime.stats_file): what the rank sent and received over the
// fabric, its process CPU time and resident memory. perf/wide.sh reads them as per-rank figures against the
// job's width (docs/scaling.md); a rank that spins instead of blocking shows as CPU time near its wall time.
#pragma once

#include "roles/context.hpp"

namespace ferry::roles {

// {"kind":"rank","rank":R,"role":"...","messages_sent":..,"bytes_sent":..,"messages_received":..,
//  "bytes_received":..,"cpu_seconds":..,"wall_seconds":..,"rss_bytes":..}. Wall and CPU seconds since the
// Runtime started (`cpu_at_start`: process_cpu_seconds() then). No-op without runtime.stats_file or a fabric.
void write_rank_totals(const Context& ctx, double wall_seconds, double cpu_at_start);

}  // namespace ferry::roles
