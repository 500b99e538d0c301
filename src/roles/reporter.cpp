#include "roles/reporter.hpp"

#include "core/strings.hpp"
#include "roles/protocol.hpp"

namespace ferry::roles {

std::vector<std::vector<monitor::OpInfo>> prepare_ops(const Context& ctx, bool transforms,
                                                      const std::vector<bool>& capable) {
  std::vector<std::vector<monitor::OpInfo>> ops(ctx.config.pipelines.size());
  if (!transforms) return ops;
  for (std::size_t i = 0; i < ctx.config.pipelines.size(); ++i) {
    std::vector<std::string> chains;
    for (const auto& chain : ctx.config.pipelines[i].prepare) {
      std::vector<std::string> texts;
      for (const auto& op : chain.ops) texts.push_back(op.text());
      chains.push_back(chain.field + "=" + join(texts, " | "));
    }
    ops[i].push_back({str_cat("prepare ", chains.empty() ? std::string("(read only)") : join(chains, "; ")),
                      i < capable.size() && capable[i]});
  }
  return ops;
}

StatsReporter::StatsReporter(Context& ctx, std::uint32_t workers, const std::vector<bool>& capable)
    : ctx_(ctx),
      recorder_(static_cast<std::uint32_t>(ctx.rank), workers, prepare_ops(ctx, workers > 0, capable),
                now_ns()),
      clock_(ctx.monitor.window, now_ns()) {}

std::optional<monitor::RankStats> StatsReporter::take_if_due() {
  const std::uint64_t now = now_ns();
  if (!clock_.due(now)) return std::nullopt;
  clock_.restart(now);
  return recorder_.take(now);
}

void StatsReporter::report_if_due() {
  if (auto stats = take_if_due()) {
    const auto bytes = monitor::encode(*stats);
    ctx_.fabric->send(ctx_.layout.coordinator(), kStats, bytes);
  }
}

}  // namespace ferry::roles
