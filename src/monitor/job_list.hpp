// The resource computation job list: for each transform op of each pipeline's prepare and augment stages,
// where its batches run (CPU or accelerator) and what share goes to each. The coordinator computes it
// (policy.hpp) and sends it to the transformation ranks (prepare) and the consumers (augment), which route
// each batch with route().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace ferry::monitor {

enum class Target : std::uint8_t { cpu = 0, accelerator = 1 };
std::string_view to_string(Target target) noexcept;

// Which chain an op belongs to, and so whose accelerator runs it: the prepare stage runs on the
// transformation ranks (their devices), the augment stage on each consumer (the device current on the
// thread that made the consumer's Runtime: the one training chose).
//
// `head` is not a chain of its own but a placement: the movable head of a pipeline's augment stage (its
// leading deterministic ops, up to the first random one; decode_jpeg | resize | center_crop ...). Its one
// placement (op 0) says which share of the pipeline's batches run their head on the transformation ranks
// instead of the consumer: for it, Target::accelerator means "on the transformation ranks" and
// `accelerator_units` is their share (docs/heterogeneous.md, "The movable head").
enum class Stage : std::uint8_t { prepare = 0, augment = 1, head = 2 };
std::string_view to_string(Stage stage) noexcept;

// Why a placement is what it is, for logs and tests.
enum class Reason : std::uint8_t {
  hold = 0,              // no rule fired, or a rule fired for fewer windows than the hysteresis asks
  offload = 1,           // consumers starve and the accelerator is idle: share moved up
  accelerator_busy = 2,  // the accelerator (head: the transformation ranks) is busy: share moved down
  queues_full = 3,       // consumers are fed with room to spare: share moved down
  no_accelerator = 4,    // no rank has one: all on CPU
  not_capable = 5,       // this op has no device kernel (head: the augment stage has no movable head): on CPU
  fixed = 6,             // the static policy's fixed placement
  no_data = 7,  // no consumer (head: or no transformation rank) reported in the window: nothing changes
};
std::string_view to_string(Reason reason) noexcept;

// Shares are multiples of 1/kShareUnits so that routing is exact integer arithmetic on every rank.
inline constexpr std::uint32_t kShareUnits = 1024;

struct OpPlacement {
  std::uint32_t pipeline = 0;
  std::uint32_t op = 0;                 // index in the pipeline's chain of `stage`
  std::uint32_t accelerator_units = 0;  // share of batches on the accelerator, in 1/kShareUnits
  Reason reason = Reason::hold;
  Stage stage = Stage::prepare;

  double accelerator_share() const noexcept { return static_cast<double>(accelerator_units) / kShareUnits; }
  double cpu_share() const noexcept { return 1.0 - accelerator_share(); }
  // Share of batches per target, indexed by Target.
  std::array<double, 2> shares() const noexcept { return {cpu_share(), accelerator_share()}; }
  // The target that takes most batches (cpu on a tie).
  Target target() const noexcept {
    return accelerator_units * 2 > kShareUnits ? Target::accelerator : Target::cpu;
  }

  friend bool operator==(const OpPlacement&, const OpPlacement&) = default;
};

// Rounds a share in [0, 1] to units (clamped).
std::uint32_t share_to_units(double share) noexcept;

// Where the pipeline's batch number `batch` (a per-pipeline counter on the transformation rank) runs: the
// accelerator batches are spread evenly (batch b goes there when floor((b+1)u/U) > floor(bu/U)), so every
// run of U batches holds exactly u accelerator batches and no burst reaches the device.
Target route(const OpPlacement& placement, std::uint64_t batch) noexcept;

struct JobList {
  std::uint64_t window = 0;      // the window it was computed from
  std::vector<OpPlacement> ops;  // sorted by (pipeline, stage, op)

  // Puts the placements in (pipeline, stage, op) order, which find() relies on.
  void sort() noexcept;
  // The placement of one op; nullptr when the list does not name it (then it runs on CPU).
  const OpPlacement* find(std::uint32_t pipeline, std::uint32_t op,
                          Stage stage = Stage::prepare) const noexcept;

  friend bool operator==(const JobList&, const JobList&) = default;
};

std::vector<std::byte> encode(const JobList& jobs);
JobList decode_job_list(std::span<const std::byte> bytes);  // ferry::Error on a bad message

}  // namespace ferry::monitor
