#include "roles/epoch_table.hpp"

#include <algorithm>
#include <cstdio>

#include "core/strings.hpp"
#include "loader/skipped_samples.hpp"
#include "roles/epoch_rss.hpp"

namespace ferry::roles {

void EpochTable::add(RandomizerPipeline& p, const EpochFigures& f, From from) {
  EpochTally& t = p.epochs[f.epoch];
  t.sum.samples += f.samples;
  t.sum.hits += f.hits;
  t.sum.misses += f.misses;
  t.sum.bytes += f.bytes;
  t.sum.wait_us += f.wait_us;
  t.sum.hdf5_reads += f.hdf5_reads;
  t.sum.hdf5_bytes += f.hdf5_bytes;
  t.sum.busy_us += f.busy_us;
  t.sum.skipped += f.skipped;
  t.sum.elapsed_us = std::max(t.sum.elapsed_us, f.elapsed_us);
  switch (from) {
    case From::consumer:
      ++t.consumers_reported;
      break;
    case From::miss_list:
      ++t.miss_lists_done;
      break;
    case From::shard:
      ++t.shards_reported;
      break;
  }
  maybe_print(p, f.epoch);
}

void EpochTable::flush_shard(RandomizerPipeline& p) {
  std::vector<std::uint64_t> epochs;
  for (const auto& [epoch, tally] : p.epochs) epochs.push_back(epoch);
  for (auto epoch : epochs) maybe_print(p, epoch);
}

void EpochTable::send_to_lead(RandomizerPipeline& p, std::uint64_t epoch) {
  // Only once every consumer was described past the epoch: no list of it can be sent after.
  for (const auto& c : p.consumers)
    if (!c.finished && c.next_seq < (epoch + 1) * p.batches_per_epoch) return;
  EpochFigures f = p.epochs[epoch].sum;
  f.pipeline = static_cast<std::uint32_t>(p.runtime->index);
  f.epoch = epoch;
  Writer w;
  w.u(0);  // a tally (1: the final count, Randomizer::send_shard_finals)
  encode(w, f);
  ctx_.fabric->send(p.lead, kShardEpoch, w.view());
  ++p.tallies_sent;
  // Its own memory line: shard 0 announces the epoch's end to the service ranks, not to the other shards
  // (which may have ended before shard 0 prints the last epoch).
  write_rss_line(ctx_, "randomizer", p.runtime->index, epoch);
  p.epochs.erase(epoch);
}

void EpochTable::maybe_print(RandomizerPipeline& p, std::uint64_t epoch) {
  EpochTally& t = p.epochs[epoch];
  if (t.printed || t.miss_lists_done < t.miss_lists_sent) return;
  if (p.shard != 0) return send_to_lead(p, epoch);
  if (t.consumers_reported < p.consumers.size() || t.shards_reported + 1 < p.shards) return;
  t.printed = true;
  const double seconds = static_cast<double>(t.sum.elapsed_us) * 1e-6;
  const double hit_rate =
      t.sum.samples ? static_cast<double>(t.sum.hits) / static_cast<double>(t.sum.samples) : 0.0;
  if (!header_printed_) {
    header_printed_ = true;
    std::printf("ferry: %s, cache %s\n", ctx_.layout.describe().c_str(),
                ctx_.config.runtime.cache_policy.c_str());
    std::printf("%-12s %5s %9s %11s %8s %9s %10s %10s %9s  %s\n", "pipeline", "epoch", "samples", "samples/s",
                "hit rate", "hdf5 MiB", "hdf5 reads", "wait s", "prep s", "layout");
  }
  std::printf("%-12s %5llu %9llu %11.0f %7.1f%% %9.2f %10llu %10.3f %9.3f  %s\n", p.config->name.c_str(),
              static_cast<unsigned long long>(epoch), static_cast<unsigned long long>(t.sum.samples),
              seconds > 0 ? static_cast<double>(t.sum.samples) / seconds : 0.0, 100.0 * hit_rate,
              static_cast<double>(t.sum.hdf5_bytes) / 1048576.0,
              static_cast<unsigned long long>(t.sum.hdf5_reads), static_cast<double>(t.sum.wait_us) * 1e-6,
              static_cast<double>(t.sum.busy_us) * 1e-6, t.layout.c_str());
  loader::print_skipped(p.config->name, epoch, t.sum.skipped);
  std::fflush(stdout);
  ctx_.stats_line(str_cat("{\"kind\":\"epoch\",\"pipeline\":\"", p.config->name, "\",\"epoch\":", epoch,
                          ",\"samples\":", t.sum.samples, ",\"hits\":", t.sum.hits, ",\"misses\":",
                          t.sum.misses, ",\"skipped\":", t.sum.skipped, ",\"hit_rate\":", hit_rate,
                          ",\"seconds\":", seconds, ",\"hdf5_reads\":", t.sum.hdf5_reads,
                          ",\"hdf5_bytes\":", t.sum.hdf5_bytes, ",\"wait_seconds\":", t.sum.wait_us * 1e-6,
                          ",\"prepare_seconds\":", t.sum.busy_us * 1e-6, ",\"layout\":\"", t.layout, "\"}"));
  if (announce_epoch_end(ctx_, p.runtime->index, epoch)) ++epoch_ends_sent_;
  // Every report of the epoch is in: its tally is not needed again (kept, it grew the randomizer's memory
  // by an entry per epoch; perf/soak.sh).
  p.epochs.erase(epoch);
}

}  // namespace ferry::roles
