#include "monitor/job_list.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "monitor/codec.hpp"

namespace ferry::monitor {

namespace {
constexpr std::uint64_t kJobListTag =
    0x4a02;  // 'J', version 2 (stages; a decoder of before the head stage refuses it by name)
}  // namespace

std::string_view to_string(Target target) noexcept {
  return target == Target::accelerator ? "accelerator" : "cpu";
}

std::string_view to_string(Stage stage) noexcept {
  switch (stage) {
    case Stage::prepare:
      return "prepare";
    case Stage::augment:
      return "augment";
    case Stage::head:
      return "head";
  }
  return "?";
}

std::string_view to_string(Reason reason) noexcept {
  switch (reason) {
    case Reason::hold:
      return "hold";
    case Reason::offload:
      return "offload";
    case Reason::accelerator_busy:
      return "accelerator busy";
    case Reason::queues_full:
      return "queues full";
    case Reason::no_accelerator:
      return "no accelerator";
    case Reason::not_capable:
      return "no device kernel";
    case Reason::fixed:
      return "fixed";
    case Reason::no_data:
      return "no data";
  }
  return "?";
}

std::uint32_t share_to_units(double share) noexcept {
  if (!(share > 0)) return 0;  // also NaN
  if (share >= 1) return kShareUnits;
  return static_cast<std::uint32_t>(std::lround(share * kShareUnits));
}

Target route(const OpPlacement& placement, std::uint64_t batch) noexcept {
  const std::uint64_t u = std::min(placement.accelerator_units, kShareUnits);
  const std::uint64_t b = batch % kShareUnits;  // the pattern repeats every kShareUnits batches
  return (b + 1) * u / kShareUnits > b * u / kShareUnits ? Target::accelerator : Target::cpu;
}

void JobList::sort() noexcept {
  std::sort(ops.begin(), ops.end(), [](const OpPlacement& a, const OpPlacement& b) {
    return std::tuple{a.pipeline, a.stage, a.op} < std::tuple{b.pipeline, b.stage, b.op};
  });
}

const OpPlacement* JobList::find(std::uint32_t pipeline, std::uint32_t op, Stage stage) const noexcept {
  const auto key = std::tuple{pipeline, stage, op};
  const auto it = std::lower_bound(ops.begin(), ops.end(), key, [](const OpPlacement& p, const auto& k) {
    return std::tuple{p.pipeline, p.stage, p.op} < k;
  });
  if (it == ops.end() || std::tuple{it->pipeline, it->stage, it->op} != key) return nullptr;
  return &*it;
}

std::vector<std::byte> encode(const JobList& jobs) {
  Writer w;
  w.u64(kJobListTag);
  w.u64(jobs.window);
  w.u64(jobs.ops.size());
  for (const auto& p : jobs.ops) {
    w.u64(p.pipeline);
    w.u64(static_cast<std::uint64_t>(p.stage));
    w.u64(p.op);
    w.u64(p.accelerator_units);
    w.u64(static_cast<std::uint64_t>(p.reason));
  }
  return w.take();
}

JobList decode_job_list(std::span<const std::byte> bytes) {
  Reader r(bytes, "monitor job list");
  if (r.u64() != kJobListTag) r.fail("not a job list, or from another Ferry version");
  JobList jobs;
  jobs.window = r.u64();
  jobs.ops.resize(r.count(5));
  for (auto& p : jobs.ops) {
    p.pipeline = r.u32();
    const std::uint64_t stage = r.u64();
    if (stage > static_cast<std::uint64_t>(Stage::head)) r.fail("unknown stage");
    p.stage = static_cast<Stage>(stage);
    p.op = r.u32();
    p.accelerator_units = r.u32();
    if (p.accelerator_units > kShareUnits) r.fail("accelerator share above 1");
    const std::uint64_t reason = r.u64();
    if (reason > static_cast<std::uint64_t>(Reason::no_data)) r.fail("unknown placement reason");
    p.reason = static_cast<Reason>(reason);
  }
  r.expect_done();
  return jobs;
}

}  // namespace ferry::monitor
