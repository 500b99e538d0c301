#include "roles/rank_totals.hpp"

#include "core/strings.hpp"
#include "roles/epoch_rss.hpp"
#include "roles/role_loop.hpp"

namespace ferry::roles {

void write_rank_totals(const Context& ctx, double wall_seconds, double cpu_at_start) {
  if (ctx.config.runtime.stats_file.empty() || !ctx.fabric) return;
  const auto& n = ctx.fabric->counts();
  ctx.stats_line(str_cat("{\"kind\":\"rank\",\"rank\":", ctx.rank, ",\"role\":\"", role_name(ctx.role()),
                         "\",\"messages_sent\":", n.sent, ",\"bytes_sent\":", n.sent_bytes,
                         ",\"messages_received\":", n.received, ",\"bytes_received\":", n.received_bytes,
                         ",\"cpu_seconds\":", process_cpu_seconds() - cpu_at_start,
                         ",\"wall_seconds\":", wall_seconds, ",\"rss_bytes\":", resident_bytes(), "}"));
}

}  // namespace ferry::roles
