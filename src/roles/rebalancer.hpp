// The rebalancer: beside the Coordinator on the coordinator's randomizer, it takes rebalance points and
// decides which service rank changes role there, through a policy that is a pure function of its input:
//   adaptive (monitor.role_policy = "adaptive"): decide_roles() reads the span of measured windows since the
//       previous point (points at epoch boundaries, and every monitor.rebalance_windows windows);
//   scripted ("scripted"): the operator's monitor.role_script steps (monitor/role_script.hpp), taken at the
//       positions they name, whatever the measurements say.
// A move goes out the same way for both: kRole to the rank and to the other randomizers (transformer <->
// cache server), or kRetire to a randomizer (R3's handover, docs/heterogeneous.md). The randomizer that hosts
// it applies the move to its own cache shares (RebalanceHost). Every point is logged and written to
// runtime.stats_file with the figures or the step behind it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "monitor/role_policy.hpp"
#include "roles/context.hpp"
#include "roles/coordinator.hpp"

namespace ferry::roles {

// What the rebalancer needs of the randomizer that hosts it.
class RebalanceHost {
 public:
  virtual ~RebalanceHost() = default;
  // The epoch it describes now (its slowest unfinished consumer's); nothing when it describes no more.
  virtual std::optional<std::uint64_t> describing_epoch() const = 0;
  // Whether every unfinished consumer of its lead pipeline (the first that still describes) has been
  // described up to batch `batch` of epoch `epoch`; nothing when it describes no more.
  virtual std::optional<bool> reached(std::uint64_t epoch, std::uint64_t batch) const = 0;
  virtual void close_window() = 0;  // its own window, so that its figures up to now belong to the span
  virtual const std::vector<Role>& roles() const = 0;
  // The rank's slab is the only one serving its own share: moving it would leave the share no cache.
  virtual bool only_serving_slab(int rank) const = 0;
  virtual void apply_role(int rank, Role role) = 0;
  virtual void expect_handover() = 0;  // a kRetire went out: it must not end before the handover comes
  virtual std::string roles_text() const = 0;
};

class Rebalancer {
 public:
  // `first_epoch`: the epoch the run starts in (a resumed run's may be later than 0).
  Rebalancer(Context& ctx, Coordinator& coordinator, RebalanceHost& host, std::uint64_t first_epoch);

  // Takes a rebalance point when one is due and makes its move, if any. True when a move was made or a
  // scripted step was skipped (the next one may be due at once).
  bool at_point();
  // Why a due step cannot be made as written (the layout differs from the one checked at start: a step
  // skipped before, a retirement not finished), or empty.
  std::string cannot_make(const monitor::ScriptStep& step) const;
  // Scripted policy: the position (epoch, batch) the host must not describe its lead pipeline past until
  // the next step is taken there, so that the move lands exactly at it.
  std::optional<std::pair<std::uint64_t, std::uint64_t>> hold() const;
  std::uint64_t moves() const noexcept { return moves_; }
  // kRole messages sent to the rank (each shutdown says how many, so the rank applies all before ending).
  std::uint64_t roles_sent(int rank) const;
  // At the end of the run: says which scripted steps were never taken (the run ended before them).
  void finish() const;

 private:
  bool adaptive_point();
  bool scripted_point();
  // The epoch being described by every randomizer: the host's and, from their reports, the others'.
  std::optional<std::uint64_t> epoch_now() const;
  void make(const monitor::RoleMove& move, std::uint64_t epoch);
  void log_point(std::uint64_t epoch, const std::optional<monitor::RoleMove>& move,
                 const std::string& figures);

  Context& ctx_;
  Coordinator& coordinator_;
  RebalanceHost& host_;
  std::uint64_t first_epoch_ = 0;
  std::uint64_t point_epoch_ = 0;    // epoch being described at the last point (adaptive)
  std::uint64_t point_windows_ = 0;  // coordinator windows at the last point (adaptive)
  std::size_t next_step_ = 0;        // scripted: the first step not taken yet
  std::uint64_t moves_ = 0;
  int retired_ = -1;  // the last randomizer told to retire (scripted steps wait until it transforms here)
  std::map<int, std::uint64_t> roles_sent_;
};

}  // namespace ferry::roles
