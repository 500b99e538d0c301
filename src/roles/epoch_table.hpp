// The epoch table a randomizer prints (one line per pipeline and epoch, and a JSON line to
// runtime.stats_file): figures summed from every consumer's kEpochDone and every miss list's kMissDone,
// printed once the epoch's last report is in. With directory shards (runtime.directory_shards) shard 0's
// randomizer prints it; every other shard sums its miss lists' figures and sends them there (kShardEpoch)
// once every consumer was described past the epoch and each of its lists was answered.
#pragma once

#include "roles/context.hpp"
#include "roles/randomizer_state.hpp"

namespace ferry::roles {

class EpochTable {
 public:
  explicit EpochTable(Context& ctx) : ctx_(ctx) {}
  // Whose figures: a consumer's (kEpochDone), a miss list's (kMissDone) or another directory shard's.
  enum class From { consumer, miss_list, shard };
  // Adds them and prints the line when complete.
  void add(RandomizerPipeline& p, const EpochFigures& f, From from);
  // Prints the epoch's line if every consumer, every miss list and every other shard of it has reported,
  // once; on a shard other than 0, sends its tally to shard 0 when complete instead.
  void maybe_print(RandomizerPipeline& p, std::uint64_t epoch);
  // A shard other than 0: maybe_print() for every epoch it holds (a consumer moved on since).
  void flush_shard(RandomizerPipeline& p);
  // kEpochEnd messages sent to each service rank (announce_epoch_end; each kShutdown carries the count).
  std::uint64_t epoch_ends_sent() const noexcept { return epoch_ends_sent_; }

 private:
  void send_to_lead(RandomizerPipeline& p, std::uint64_t epoch);

  Context& ctx_;
  bool header_printed_ = false;
  std::uint64_t epoch_ends_sent_ = 0;
};

}  // namespace ferry::roles
