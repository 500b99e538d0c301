// A rank's side of monitoring: the lock-free Recorder the data path writes into, and the window clock. When a
// window is due the rank ships its RankStats as one kStats control message (never a collective: a slow rank
// delays only its own report) to Layout::report_to: the coordinator, or its node's stats leader. A leader
// keeps its node's windows and sends them to the coordinator as one kStatsBundle with its own window (or
// sooner, once every rank it relays for has sent one), so the coordinator hears one message per node and
// window. The coordinator takes its own windows directly.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "monitor/recorder.hpp"
#include "roles/context.hpp"

namespace ferry::roles {

class StatsReporter {
 public:
  // `workers`: the rank's prepare workers (0: it prepares nothing; its ops are listed per pipeline).
  // `capable[p]`: pipeline p's prepare stage can run on this rank's accelerator.
  StatsReporter(Context& ctx, std::uint32_t workers, const std::vector<bool>& capable = {});
  // A consumer: `ops` (augment_ops()) per pipeline; its windows say RankStats::consumer.
  StatsReporter(Context& ctx, const std::vector<std::vector<monitor::OpInfo>>& ops);

  monitor::Recorder& recorder() noexcept { return recorder_; }
  // One batch delivered (consumer) or transformed (service rank): counts towards monitor.window_batches.
  void batch(std::uint32_t pipeline) noexcept {
    recorder_.batch(pipeline);
    clock_.batch();
  }
  // The closed window when one is due now, else nothing.
  std::optional<monitor::RankStats> take_if_due();
  // take_if_due() and, when a window closed, send it on (or bundle it, on a stats leader).
  void report_if_due();
  // On a stats leader: a node member's window (the bytes of its kStats), kept for the next bundle.
  void relay(std::span<const std::byte> window);
  // On a stats leader: sends the windows it holds now (at the end of its loop).
  void flush();

 private:
  Context& ctx_;
  monitor::Recorder recorder_;
  monitor::WindowClock clock_;
  bool consumer_ = false;
  // Stats leader: the bundle being gathered and how many windows it holds.
  std::vector<std::byte> bundle_;
  std::size_t bundled_ = 0;
  std::uint64_t bundle_since_ns_ = 0;  // when the bundle's oldest window came
};

// A kStatsBundle: windows (monitor::encode(RankStats)) appended one after another, each after its length;
// decode_bundle() throws ferry::Error on a truncated or corrupt one.
void append_window(std::vector<std::byte>& bundle, std::span<const std::byte> window);
std::vector<monitor::RankStats> decode_bundle(std::span<const std::byte> bytes);

// The per-pipeline op list a Recorder needs: one op per pipeline, the whole prepare stage, named by its
// chains. Empty lists on a rank that does not transform.
std::vector<std::vector<monitor::OpInfo>> prepare_ops(const Context& ctx, bool transforms,
                                                      const std::vector<bool>& capable = {});
// A consumer's: one augment-stage op per pipeline it is in that augments a field, named by its chains;
// `capable[p]`: pipeline p's augment stage can run on the consumer's accelerator.
std::vector<std::vector<monitor::OpInfo>> augment_ops(const Context& ctx, const std::vector<bool>& capable);

}  // namespace ferry::roles
