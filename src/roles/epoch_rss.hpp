// Resident memory per epoch (issue 15, soak): every rank appends {"kind":"rss",...} lines to
// runtime.stats_file, one per pipeline epoch. A consumer writes its own after its last batch of the epoch;
// the randomizer writes its own when it prints the epoch's table line and tells every service rank
// (kEpochEnd), which then writes theirs. perf/soak.sh reads them.
#pragma once

#include <cstdint>
#include <string>

#include "roles/context.hpp"
#include "transport/fabric.hpp"

namespace ferry::roles {

// VmRSS of this process in bytes, from /proc/self/status (0 where it cannot be read).
std::uint64_t resident_bytes() noexcept;

// Appends this rank's line for `epoch` of pipeline `pipeline` (no-op without runtime.stats_file).
void write_rss_line(const Context& ctx, const char* role, std::size_t pipeline, std::uint64_t epoch);

// The randomizer of `pipeline`, at the end of `epoch`: its own line, and kEpochEnd to the ranks its
// shutdown goes to (transformers, cache servers, and the other randomizers where randomizers may move).
// False when nothing was sent (no runtime.stats_file). Each kShutdown carries the count sent, so a service
// rank ends only after its last epoch's line (messages of different tags may overtake each other).
bool announce_epoch_end(Context& ctx, std::size_t pipeline, std::uint64_t epoch);

// A service rank's kEpochEnd: its line, under the role it plays now.
void on_epoch_end(const Context& ctx, const char* role, const transport::Message& message);

}  // namespace ferry::roles
