#include "roles/epoch_rss.hpp"

#include <cstdio>
#include <cstring>

#include "core/strings.hpp"
#include "roles/protocol.hpp"

namespace ferry::roles {

std::uint64_t resident_bytes() noexcept {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  unsigned long long kib = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, "VmRSS:", 6) == 0 && std::sscanf(line + 6, "%llu", &kib) == 1) break;
  std::fclose(f);
  return static_cast<std::uint64_t>(kib) * 1024;
}

void write_rss_line(const Context& ctx, const char* role, std::size_t pipeline, std::uint64_t epoch) {
  if (ctx.config.runtime.stats_file.empty()) return;
  ctx.stats_line(str_cat("{\"kind\":\"rss\",\"rank\":", ctx.rank, ",\"role\":\"", role, "\",\"pipeline\":\"",
                         ctx.config.pipelines.at(pipeline).name, "\",\"epoch\":", epoch,
                         ",\"rss_bytes\":", resident_bytes(), "}"));
}

bool announce_epoch_end(Context& ctx, std::size_t pipeline, std::uint64_t epoch) {
  if (ctx.config.runtime.stats_file.empty()) return false;
  write_rss_line(ctx, "randomizer", pipeline, epoch);
  Writer w;
  w.u(pipeline).u(epoch);
  for (const auto& ranks : {ctx.layout.transformers, ctx.layout.cache_servers})
    for (int r : ranks) ctx.fabric->send(r, kEpochEnd, w.view());
  if (ctx.monitor.may_move_randomizers(ctx.layout.randomizers.size()))
    for (int r : ctx.layout.randomizers)
      if (r != ctx.rank) ctx.fabric->send(r, kEpochEnd, w.view());
  return true;
}

void on_epoch_end(const Context& ctx, const char* role, const transport::Message& message) {
  Reader r(message.bytes);
  const std::uint64_t pipeline = r.u();
  const std::uint64_t epoch = r.u();
  write_rss_line(ctx, role, static_cast<std::size_t>(pipeline), epoch);
}

}  // namespace ferry::roles
