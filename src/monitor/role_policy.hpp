// Role rebalancing as a pure function: at a rebalance point the coordinator summarizes what the service
// ranks did since the previous one (RoleView) and decide_roles() says which one rank, if any, changes role,
// and why. The three rules (docs/heterogeneous.md, "Role rebalancing"):
//   R2, consumers starve: consumers waited at least role_wait of their time and the transformers are
//       saturated (mean busy fraction >= role_busy): the cache server serving the smallest share of samples,
//       if that share is below role_min_hits and another server remains, becomes a transformer. Only on a
//       warm span: in the first epoch every server serves nothing yet.
//   R1, misses remain while transformers idle: the cache was full (it declined an admission or evicted an
//       entry for room: static declines, LRU and clairvoyant evict), the
//       transformers' mean busy fraction is below role_idle and more than one transformer remains: the least
//       busy transformer becomes a cache server (its slab adds capacity).
//   R3, consumers starve and a randomizer idles: R2's starvation, no cache server to spare, and a randomizer
//       other than the coordinator's that together with the coordinator's stays below role_idle: it hands
//       its pipelines and its share of the cache to the coordinator's randomizer (the heir) and becomes a
//       transformer. Only with role_randomizers.
// R2 and R3 are checked first: a starving consumer costs more than a cold entry. role_idle < role_busy keeps
// the two apart, so a move is not undone by the opposite rule at the next point.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::monitor {

enum class ServiceRole : std::uint8_t { transformer = 0, cache_server = 1, randomizer = 2 };
std::string_view to_string(ServiceRole role) noexcept;

struct RoleParams {
  double idle = 0.3;        // monitor.role_idle
  double busy = 0.7;        // monitor.role_busy
  double wait = 0.1;        // monitor.role_wait
  double min_hits = 0.1;    // monitor.role_min_hits
  bool randomizers = true;  // monitor.role_randomizers: R3 may move a randomizer
  void validate() const;    // ConfigError naming the key
};

struct ServiceView {
  std::uint32_t rank = 0;
  ServiceRole role = ServiceRole::transformer;
  double busy = 0;        // transformation busy fraction over the span
  double hit_share = 0;   // share of all samples delivered in the span that were hits on its slab
  bool can_serve = true;  // holds a cache slab (a former randomizer holds none: R1 passes it over)
  // It reported in the span. A saturated rank may report late: a span without its report is no evidence
  // that it idled, so its busy figure counts for nothing and R1 never picks it.
  bool heard = true;
};

struct RandomizerView {
  std::uint32_t rank = 0;
  double busy = 0;           // fraction of the span it was not waiting for messages
  bool coordinator = false;  // the coordinator's randomizer: never moves, takes over (the heir)
};

struct RoleView {
  std::uint64_t windows = 0;  // windows gathered since the previous point (0: no evidence)
  // The span lies after the run's first epoch: hit shares mean something (the first epoch starts cold).
  bool warm = true;
  std::vector<ServiceView> services;  // every transformer and cache server, by rank
  double consumer_wait = 0;           // fraction of the consumers' time blocked in next_batch()
  std::uint64_t cache_full = 0;       // admissions declined plus entries evicted for want of room
  std::uint64_t misses = 0;           // samples the transformers prepared
  // Every randomizer that may take part in a move: the coordinator's, and the others that still describe
  // batches and are not handing over already.
  std::vector<RandomizerView> randomizers;
};

enum class RoleRule : std::uint8_t {
  r1_idle_transformers = 1,
  r2_starving_consumers = 2,
  r3_idle_randomizer = 3,
  scripted = 4  // monitor.role_policy = "scripted": a step of monitor.role_script (role_script.hpp)
};
std::string_view to_string(RoleRule rule) noexcept;

struct RoleMove {
  std::uint32_t rank = 0;
  ServiceRole from = ServiceRole::transformer, to = ServiceRole::cache_server;
  RoleRule rule = RoleRule::r1_idle_transformers;
  std::string why;         // the figures that caused it, for the log and the stats file
  std::uint32_t heir = 0;  // R3: the randomizer that takes over the moving one's pipelines
  friend bool operator==(const RoleMove& a, const RoleMove& b) {
    return a.rank == b.rank && a.from == b.from && a.to == b.to && a.rule == b.rule && a.heir == b.heir;
  }
};

// Mean busy fraction of the view's transformers that reported in the span (0 when none did).
double transformer_busy(const RoleView& view) noexcept;

std::optional<RoleMove> decide_roles(const RoleView& view, const RoleParams& params);

}  // namespace ferry::monitor
