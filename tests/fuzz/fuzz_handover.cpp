// libFuzzer target: R3's handover message (roles/handover.*) as the heir takes it in. The first byte picks
// the cache policy and how many slab holders the heir's layout has; the rest is the kHandover message. The
// heir decodes it, holds slabs, restores entries into a directory and adopts every pipeline whose consumer
// group matches, then audits the directory. A bad message may throw ferry::Error (the role loop's abort);
// anything else escaping, a crash, UB or a broken directory invariant is a finding.
#include <cstdint>

#include "ferry/error.hpp"
#include "fuzz_input.hpp"
#include "roles/handover.hpp"

namespace {

using namespace ferry::roles;

constexpr std::uint64_t kSlabBytes = 1 << 16;

void take_in(const Handover& h, std::uint32_t holders, ferry::cache::Policy policy) {
  const std::vector<char> hold = slabs_to_hold(h, holders);
  CacheShare share;
  share.index = h.share;
  share.pins_on.assign(holders, 0);
  share.pending_on.assign(holders, 0);
  share.deferred_start.assign(holders, 0);
  std::vector<RandomizerPipeline> pipelines;  // the oracle's view; adopted pipelines join it below
  pipelines.reserve(h.pipelines.size());
  share.oracle = std::make_unique<NextUseOracle>(pipelines, &share);
  std::vector<bool> serving(holders);
  for (std::uint32_t s = 0; s < holders; ++s) serving[s] = !hold[s];
  share.directory =
      std::make_unique<ferry::cache::Directory>(holders, kSlabBytes, policy, share.oracle.get(), serving);
  EntryPlaces restored;
  (void)restore_entries(share, h, restored);
  for (const auto& hp : h.pipelines) {
    RandomizerPipeline p;
    p.cache = &share;
    for (const auto& c : hp.consumers) p.consumers.push_back({c.rank, 0, 0, {}, false, 0, 0});
    adopt_pipeline(p, hp, share, restored);
    pipelines.push_back(std::move(p));
  }
  share.directory->audit();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ferry::fuzz::Input in(data, size);
  const std::uint32_t holders = 1 + in.mode() % 4;
  // Clairvoyant needs pipelines with plans (a runtime); the handover itself does not depend on the policy.
  const auto policy = (in.mode() / 4) % 2 ? ferry::cache::Policy::lru : ferry::cache::Policy::static_fill;
  try {
    Reader r(in.rest());
    Handover h;
    decode(r, h);
    take_in(h, holders, policy);
  } catch (const ferry::Error&) {
  }
  return 0;
}
