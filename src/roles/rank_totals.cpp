#include "roles/rank_totals.hpp"

#include "core/strings.hpp"
#include "roles/epoch_rss.hpp"
#include "roles/role_loop.hpp"

namespace ferry::roles {

RankClock::RankClock() : start_(std::chrono::steady_clock::now()), cpu_at_start_(process_cpu_seconds()) {}

void RankClock::setup_done() {
  setup_wall_ = wall_seconds();
  setup_cpu_ = cpu_seconds();
}

double RankClock::wall_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

double RankClock::cpu_seconds() const {
  return process_cpu_seconds() - cpu_at_start_;
}

void write_rank_totals(const Context& ctx, const RankClock& clock) {
  if (ctx.config.runtime.stats_file.empty() || !ctx.fabric) return;
  const auto& n = ctx.fabric->counts();
  const auto& b = ctx.fabric->buffer_stats();
  ctx.stats_line(str_cat("{\"kind\":\"rank\",\"rank\":", ctx.rank, ",\"role\":\"", role_name(ctx.role()),
                         "\",\"messages_sent\":", n.sent, ",\"bytes_sent\":", n.sent_bytes,
                         ",\"messages_received\":", n.received, ",\"bytes_received\":", n.received_bytes,
                         ",\"cpu_seconds\":", clock.cpu_seconds(), ",\"wall_seconds\":", clock.wall_seconds(),
                         ",\"setup_cpu_seconds\":", clock.setup_cpu_seconds(), ",\"setup_wall_seconds\":",
                         clock.setup_wall_seconds(), ",\"rss_bytes\":", resident_bytes(),
                         ",\"buffers_taken\":", b.taken, ",\"buffers_reused\":", b.reused,
                         ",\"buffers_peak_bytes\":", b.peak_kept_bytes, "}"));
}

}  // namespace ferry::roles
