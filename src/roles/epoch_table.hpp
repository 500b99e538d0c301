// The epoch table a randomizer prints (one line per pipeline and epoch, and a JSON line to
// runtime.stats_file): figures summed from every consumer's kEpochDone and every miss list's kMissDone,
// printed once the epoch's last report is in.
#pragma once

#include "roles/context.hpp"
#include "roles/randomizer_state.hpp"

namespace ferry::roles {

class EpochTable {
 public:
  explicit EpochTable(Context& ctx) : ctx_(ctx) {}
  // Adds a consumer's (from_consumer) or a transformation rank's figures and prints the line when complete.
  void add(RandomizerPipeline& p, const EpochFigures& f, bool from_consumer);
  // Prints the epoch's line if every consumer and every miss list of it has reported, once.
  void maybe_print(RandomizerPipeline& p, std::uint64_t epoch);
  // kEpochEnd messages sent to each service rank (announce_epoch_end; each kShutdown carries the count).
  std::uint64_t epoch_ends_sent() const noexcept { return epoch_ends_sent_; }

 private:
  Context& ctx_;
  bool header_printed_ = false;
  std::uint64_t epoch_ends_sent_ = 0;
};

}  // namespace ferry::roles
