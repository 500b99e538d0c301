#include "monitor/role_policy.hpp"

#include <algorithm>

#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::monitor {

std::string_view to_string(ServiceRole role) noexcept {
  switch (role) {
    case ServiceRole::transformer:
      return "transformer";
    case ServiceRole::cache_server:
      return "cache_server";
    case ServiceRole::randomizer:
      return "randomizer";
  }
  return "?";
}

std::string_view to_string(RoleRule rule) noexcept {
  switch (rule) {
    case RoleRule::r1_idle_transformers:
      return "R1 idle transformers, misses remain";
    case RoleRule::r2_starving_consumers:
      return "R2 consumers starve, transformers saturated";
    case RoleRule::r3_idle_randomizer:
      return "R3 consumers starve, a randomizer idles";
    case RoleRule::scripted:
      return "scripted";
  }
  return "?";
}

void RoleParams::validate() const {
  auto fraction = [](double v, const char* key) {
    if (!(v >= 0.0 && v <= 1.0))
      throw ConfigError(str_cat(key, " = ", v, " is out of range (allowed: 0 to 1)"));
  };
  fraction(idle, "monitor.role_idle");
  fraction(busy, "monitor.role_busy");
  fraction(wait, "monitor.role_wait");
  fraction(min_hits, "monitor.role_min_hits");
  if (!(idle < busy))
    throw ConfigError(str_cat("monitor.role_idle (", idle, ") must be below monitor.role_busy (", busy,
                              "): between them no role moves, or R1 and R2 would undo each other"));
}

double transformer_busy(const RoleView& view) noexcept {
  double sum = 0;
  int n = 0;
  for (const auto& s : view.services)
    if (s.role == ServiceRole::transformer && s.heard) {
      sum += s.busy;
      ++n;
    }
  return n ? sum / n : 0.0;
}

std::optional<RoleMove> decide_roles(const RoleView& view, const RoleParams& params) {
  if (view.windows == 0) return std::nullopt;
  std::vector<const ServiceView*> transformers, servers;
  bool heard = false;  // some transformer reported: the busy mean is evidence
  for (const auto& s : view.services) {
    (s.role == ServiceRole::transformer ? transformers : servers).push_back(&s);
    heard = heard || (s.role == ServiceRole::transformer && s.heard);
  }
  if (!heard) return std::nullopt;
  const double busy = transformer_busy(view);

  const bool starving = view.consumer_wait >= params.wait && !transformers.empty() && busy >= params.busy;
  // R2: the cache server that serves least, while another remains to keep the cache.
  if (view.warm && starving && servers.size() > 1) {
    const ServiceView* pick = *std::min_element(servers.begin(), servers.end(), [](auto* a, auto* b) {
      return a->hit_share != b->hit_share ? a->hit_share < b->hit_share : a->rank > b->rank;
    });
    if (pick->hit_share < params.min_hits)
      return RoleMove{pick->rank, ServiceRole::cache_server, ServiceRole::transformer,
                      RoleRule::r2_starving_consumers,
                      str_cat("consumers waited ", view.consumer_wait, " of their time (>= ", params.wait,
                              "), transformers busy ", busy, " (>= ", params.busy, "), rank ", pick->rank,
                              " served ", pick->hit_share, " of samples (< ", params.min_hits, ")")};
  }
  // R3: the least busy randomizer but the coordinator's, when both together stay idle. Needs no warm span:
  // it reads no hit shares.
  if (starving && params.randomizers) {
    const RandomizerView* heir = nullptr;
    const RandomizerView* pick = nullptr;
    for (const auto& r : view.randomizers) {
      if (r.coordinator) {
        heir = &r;
      } else if (!pick || r.busy < pick->busy || (r.busy == pick->busy && r.rank > pick->rank)) {
        pick = &r;
      }
    }
    if (heir && pick && pick->busy + heir->busy < params.idle)
      return RoleMove{pick->rank,
                      ServiceRole::randomizer,
                      ServiceRole::transformer,
                      RoleRule::r3_idle_randomizer,
                      str_cat("consumers waited ", view.consumer_wait, " of their time (>= ", params.wait,
                              "), transformers busy ", busy, " (>= ", params.busy, "), randomizers ",
                              pick->rank, " and ", heir->rank, " busy ", pick->busy, " and ", heir->busy,
                              " (together < ", params.idle, "): rank ", heir->rank, " takes over"),
                      heir->rank};
  }
  // R1: the least busy transformer that holds a slab, while another transformer remains to read misses.
  std::vector<const ServiceView*> can_serve;
  for (const auto* t : transformers)
    if (t->can_serve && t->heard) can_serve.push_back(t);
  if (view.cache_full > 0 && view.misses > 0 && transformers.size() > 1 && !can_serve.empty() &&
      busy < params.idle) {
    const ServiceView* pick = *std::min_element(can_serve.begin(), can_serve.end(), [](auto* a, auto* b) {
      return a->busy != b->busy ? a->busy < b->busy : a->rank > b->rank;
    });
    return RoleMove{
        pick->rank, ServiceRole::transformer, ServiceRole::cache_server, RoleRule::r1_idle_transformers,
        str_cat("transformers busy ", busy, " (< ", params.idle, ") while ", view.misses,
                " samples missed and the cache was full ", view.cache_full,
                " times (declined or evicted for room); rank ", pick->rank, " was busy ", pick->busy)};
  }
  return std::nullopt;
}

}  // namespace ferry::monitor
