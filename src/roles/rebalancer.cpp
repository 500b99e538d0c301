#include "roles/rebalancer.hpp"

#include <algorithm>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "roles/protocol.hpp"

namespace ferry::roles {

Rebalancer::Rebalancer(Context& ctx, Coordinator& coordinator, RebalanceHost& host, std::uint64_t first_epoch)
    : ctx_(ctx),
      coordinator_(coordinator),
      host_(host),
      first_epoch_(first_epoch),
      point_epoch_(first_epoch) {}

std::uint64_t Rebalancer::roles_sent(int rank) const {
  const auto it = roles_sent_.find(rank);
  return it == roles_sent_.end() ? 0 : it->second;
}

std::optional<std::uint64_t> Rebalancer::epoch_now() const {
  const std::optional<std::uint64_t> mine = host_.describing_epoch(), others = coordinator_.others_epoch();
  if (!mine && !others) return std::nullopt;
  return std::min(mine.value_or(~std::uint64_t{0}), others.value_or(~std::uint64_t{0}));
}

bool Rebalancer::at_point() {
  return ctx_.monitor.scripted ? scripted_point() : adaptive_point();
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> Rebalancer::hold() const {
  if (!ctx_.monitor.scripted || next_step_ >= ctx_.monitor.script.size()) return std::nullopt;
  const monitor::ScriptStep& step = ctx_.monitor.script[next_step_];
  if (step.trigger != monitor::ScriptStep::Trigger::position) return std::nullopt;
  return std::pair{step.epoch, step.batch};
}

bool Rebalancer::adaptive_point() {
  const std::optional<std::uint64_t> now = epoch_now();
  if (!now) return false;
  const std::uint64_t epoch = *now;
  const std::uint32_t every = ctx_.monitor.rebalance_windows;
  const bool boundary = epoch > point_epoch_;
  if (!boundary && !(every > 0 && coordinator_.windows() - point_windows_ >= every)) return false;
  point_epoch_ = epoch;
  point_windows_ = coordinator_.windows();
  host_.close_window();  // the host's own slab hits and cache-full figures up to now belong to the span
  monitor::RoleView view = coordinator_.role_view(host_.roles());
  coordinator_.reset_span();
  // The first epoch starts with a cold cache: no server has served anything yet (decide_roles' R2 waits).
  view.warm = epoch > first_epoch_ && !(boundary && epoch == first_epoch_ + 1);
  std::optional<monitor::RoleMove> move = monitor::decide_roles(view, ctx_.monitor.roles);
  if (move && move->from == monitor::ServiceRole::cache_server &&
      host_.only_serving_slab(static_cast<int>(move->rank))) {
    log::info("rebalance at epoch {}: keeping rank {} serving, it is the only serving slab", epoch,
              move->rank);
    move.reset();
  }
  std::vector<std::string> randomizers_busy;
  for (const auto& r : view.randomizers) randomizers_busy.push_back(str_cat("r", r.rank, " ", r.busy));
  const std::string figures =
      str_cat("\"warm\":", view.warm ? "true" : "false", ",\"consumer_wait\":", view.consumer_wait,
              ",\"transformer_busy\":", monitor::transformer_busy(view), ",\"cache_full\":", view.cache_full,
              ",\"misses\":", view.misses, ",\"windows\":", view.windows, ",\"randomizers_busy\":\"",
              join(randomizers_busy, ", "), "\"");
  if (move) make(*move, epoch);
  log_point(epoch, move, figures);
  return move.has_value();
}

bool Rebalancer::scripted_point() {
  const auto& steps = ctx_.monitor.script;
  if (next_step_ >= steps.size()) return false;
  const monitor::ScriptStep& step = steps[next_step_];
  const std::optional<std::uint64_t> now = epoch_now();
  if (!now) return false;  // nobody describes any more: finish() names the steps left
  bool due = false;
  if (step.trigger == monitor::ScriptStep::Trigger::window) {
    due = coordinator_.windows() >= step.window;
  } else if (const std::optional<bool> there = host_.reached(step.epoch, step.batch)) {
    due = *there;
  } else {
    due = *now >= step.epoch;  // the host's pipelines are over: the others' epochs, batch not known
  }
  // One step at a time: a retirement ends with the handover and the rank's kRetired, which may come in either
  // order; only then does this randomizer send it misses.
  const bool retiring =
      coordinator_.retirement_pending() ||
      (retired_ >= 0 && host_.roles().at(static_cast<std::size_t>(retired_)) != Role::transformer);
  if (!due || retiring) return false;
  ++next_step_;
  if (const std::string why = cannot_make(step); !why.empty()) {
    log::warn("monitor.role_script: step '{}' skipped: {}", step.text, why);
    return true;
  }
  const monitor::RoleMove move = monitor::script_move(step, *service_role(host_.roles().at(step.rank)),
                                                      static_cast<std::uint32_t>(ctx_.layout.coordinator()));
  make(move, *now);
  log_point(*now, move, "\"scripted\":true");
  return true;
}

std::string Rebalancer::cannot_make(const monitor::ScriptStep& step) const {
  // The start check simulated the script on the layout; at run time a slab may still wait to serve again,
  // or a randomizer may have finished before its retirement: then the layout differs from the one checked.
  const int rank = static_cast<int>(step.rank);
  const std::vector<Role>& roles = host_.roles();
  if (step.retire)
    return coordinator_.can_retire(rank) ? "" : str_cat("randomizer ", rank, " has finished its pipelines");
  const Role to = step.to == monitor::ServiceRole::transformer ? Role::transformer : Role::cache_server;
  if (roles.at(step.rank) == to) return str_cat("rank ", rank, " is a ", role_name(to), " already");
  if (to == Role::cache_server && std::count(roles.begin(), roles.end(), Role::transformer) < 2)
    return str_cat("rank ", rank, " is the last transformer");
  if (to == Role::transformer && host_.only_serving_slab(rank))
    return str_cat("rank ", rank, " holds the only serving slab");
  return {};
}

void Rebalancer::make(const monitor::RoleMove& move, std::uint64_t epoch) {
  ++moves_;
  if (move.from == monitor::ServiceRole::randomizer) {
    // R3: the randomizer drains and hands over; it becomes a transformer for the others only when it says
    // so (kRetired), so no miss list reaches it while it still describes.
    log::info("rebalance at epoch {}: rank {} randomizer -> transformer, pipelines to rank {} ({}: {})",
              epoch, move.rank, move.heir, monitor::to_string(move.rule), move.why);
    host_.expect_handover();
    coordinator_.retiring(static_cast<int>(move.rank));
    retired_ = static_cast<int>(move.rank);
    Writer w;
    encode(w, RoleChange{static_cast<std::int32_t>(move.rank), 0, epoch, move.why,
                         static_cast<std::int32_t>(move.heir)});
    ctx_.fabric->send(static_cast<int>(move.rank), kRetire, w.view());
    return;
  }
  const Role to = move.to == monitor::ServiceRole::transformer ? Role::transformer : Role::cache_server;
  log::info("rebalance at epoch {}: rank {} {} -> {} ({}: {})", epoch, move.rank,
            monitor::to_string(move.from), monitor::to_string(move.to), monitor::to_string(move.rule),
            move.why);
  host_.apply_role(static_cast<int>(move.rank), to);
  Writer w;
  encode(w, RoleChange{static_cast<std::int32_t>(move.rank), static_cast<std::uint8_t>(move.to), epoch,
                       move.why});
  ctx_.fabric->send(static_cast<int>(move.rank), kRole, w.view());
  ++roles_sent_[static_cast<int>(move.rank)];
  for (int r : ctx_.layout.randomizers)
    if (r != ctx_.rank) ctx_.fabric->send(r, kRole, w.view());
}

void Rebalancer::log_point(std::uint64_t epoch, const std::optional<monitor::RoleMove>& move,
                           const std::string& figures) {
  std::string move_json = "null";
  if (move) {
    move_json =
        str_cat("{\"rank\":", move->rank, ",\"from\":\"", monitor::to_string(move->from), "\",\"to\":\"",
                monitor::to_string(move->to), "\",\"rule\":\"", monitor::to_string(move->rule),
                "\",\"why\":\"", move->why, "\"",
                move->from == monitor::ServiceRole::randomizer ? str_cat(",\"heir\":", move->heir) : "", "}");
  } else {
    log::debug("rebalance point at epoch {}: no move ({})", epoch, figures);
  }
  ctx_.stats_line(str_cat("{\"kind\":\"rebalance\",\"epoch\":", epoch, ",", figures, ",\"move\":", move_json,
                          ",\"layout\":\"", host_.roles_text(), "\"}"));
}

void Rebalancer::finish() const {
  const auto& steps = ctx_.monitor.script;
  for (std::size_t i = next_step_; ctx_.monitor.scripted && i < steps.size(); ++i)
    log::warn("monitor.role_script: step '{}' not taken: the run ended before it", steps[i].text);
}

}  // namespace ferry::roles
