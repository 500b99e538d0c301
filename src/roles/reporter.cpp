#include "roles/reporter.hpp"

#include "core/strings.hpp"
#include "roles/protocol.hpp"

namespace ferry::roles {

namespace {

// "image=cast | normalize(...); label=..." for one stage's chains.
std::string chains_text(const std::vector<FieldChain>& chains) {
  std::vector<std::string> out;
  for (const auto& chain : chains) {
    std::vector<std::string> texts;
    for (const auto& op : chain.ops) texts.push_back(op.text());
    out.push_back(chain.field + "=" + join(texts, " | "));
  }
  return join(out, "; ");
}

}  // namespace

std::vector<std::vector<monitor::OpInfo>> prepare_ops(const Context& ctx, bool transforms,
                                                      const std::vector<bool>& capable) {
  std::vector<std::vector<monitor::OpInfo>> ops(ctx.config.pipelines.size());
  if (!transforms) return ops;
  for (std::size_t i = 0; i < ctx.config.pipelines.size(); ++i) {
    const auto& chains = ctx.config.pipelines[i].prepare;
    ops[i].push_back({str_cat("prepare ", chains.empty() ? std::string("(read only)") : chains_text(chains)),
                      i < capable.size() && capable[i], monitor::Stage::prepare});
  }
  return ops;
}

std::vector<std::vector<monitor::OpInfo>> augment_ops(const Context& ctx, const std::vector<bool>& capable) {
  std::vector<std::vector<monitor::OpInfo>> ops(ctx.config.pipelines.size());
  for (const auto& p : ctx.pipelines) {
    bool augments = false;
    for (std::size_t f = 0; f < p.processor->field_count(); ++f)
      augments = augments || p.processor->has_augment(f);
    if (!augments) continue;
    ops[p.index].push_back({str_cat("augment ", chains_text(ctx.config.pipelines[p.index].augment)),
                            p.index < capable.size() && capable[p.index], monitor::Stage::augment});
    // Its movable head (docs/heterogeneous.md, "The movable head"), op 1 here: batches whose head the
    // consumer ran (CPU) or that came past it (accelerator: the transformation ranks ran it).
    if (p.processor->has_head()) ops[p.index].push_back({"head", p.head_moves, monitor::Stage::head});
  }
  return ops;
}

StatsReporter::StatsReporter(Context& ctx, std::uint32_t workers, const std::vector<bool>& capable)
    : ctx_(ctx),
      recorder_(static_cast<std::uint32_t>(ctx.rank), workers, prepare_ops(ctx, workers > 0, capable),
                now_ns()),
      clock_(ctx.monitor.window, now_ns()) {}

StatsReporter::StatsReporter(Context& ctx, const std::vector<std::vector<monitor::OpInfo>>& ops)
    : ctx_(ctx),
      recorder_(static_cast<std::uint32_t>(ctx.rank), 0, ops, now_ns()),
      clock_(ctx.monitor.window, now_ns()),
      consumer_(true) {}

std::optional<monitor::RankStats> StatsReporter::take_if_due() {
  const std::uint64_t now = now_ns();
  if (!clock_.due(now)) return std::nullopt;
  clock_.restart(now);
  monitor::RankStats stats = recorder_.take(now);
  stats.consumer = consumer_;
  return stats;
}

void StatsReporter::report_if_due() {
  const auto stats = take_if_due();
  if (!ctx_.layout.stats_leader(ctx_.rank)) {
    if (stats)
      ctx_.fabric->send(ctx_.layout.report_to.at(static_cast<std::size_t>(ctx_.rank)), kStats,
                        monitor::encode(*stats));
    return;
  }
  if (stats) relay(monitor::encode(*stats));
  if (bundled_ == 0) return;
  // With its own window, once as many windows as it relays for have come (one per member, typically), or
  // once the oldest has waited a window's time: a leader whose own window never closes (a cache server
  // with monitor.window_ms = 0 counts no batches) or members that never report do not hold the others.
  const auto members = static_cast<std::size_t>(ctx_.layout.relayed.at(static_cast<std::size_t>(ctx_.rank)));
  const std::uint64_t period_ns = static_cast<std::uint64_t>(ctx_.monitor.window.ms) * 1'000'000;
  const bool waited = period_ns == 0 || now_ns() - bundle_since_ns_ >= period_ns;
  if (!stats && bundled_ < members && !waited) return;
  flush();
}

void StatsReporter::flush() {
  if (bundled_ == 0) return;
  ctx_.fabric->send(ctx_.layout.coordinator(), kStatsBundle, bundle_);
  bundle_.clear();
  bundled_ = 0;
}

void StatsReporter::relay(std::span<const std::byte> window) {
  if (bundled_ == 0) bundle_since_ns_ = now_ns();
  append_window(bundle_, window);
  ++bundled_;
}

void append_window(std::vector<std::byte>& bundle, std::span<const std::byte> window) {
  Writer w;
  w.u(window.size());
  const auto head = w.view();
  bundle.insert(bundle.end(), head.begin(), head.end());
  bundle.insert(bundle.end(), window.begin(), window.end());
}

std::vector<monitor::RankStats> decode_bundle(std::span<const std::byte> bytes) {
  std::vector<monitor::RankStats> out;
  Reader r(bytes);
  while (!r.done()) {
    const std::uint64_t length = r.u();
    out.push_back(monitor::decode_rank_stats(r.raw(static_cast<std::size_t>(length))));
  }
  return out;
}

}  // namespace ferry::roles
