// R3's handover (docs/heterogeneous.md, "Moving a randomizer"): what the retiring randomizer sends (its
// pipelines, consumer positions, uncredited batches with their pins, unprinted epoch tallies, and its share's
// stored directory entries in eviction order) and how the heir takes it in: entries restored where they are
// (no byte moves), batches pinned again, slabs that still have readers of dropped entries held back.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "roles/protocol.hpp"
#include "roles/randomizer_state.hpp"

namespace ferry::roles {

// Retiring side: the kHandover message for all of its pipelines and its (only) share.
Handover describe_handover(const std::vector<RandomizerPipeline>& pipelines, const CacheShare& share);

// Heir side. Where each restored entry lives: (group, id) -> slab.
using EntryPlaces = std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint32_t>;

// Slabs that must not take entries in the new share until the handed-over batches are credited: a pin of
// such a batch names an entry that is gone (its slab stopped serving before the handover), and consumers
// may still read those bytes.
std::vector<char> slabs_to_hold(const Handover& h, std::size_t holders);

// Restores every handed-over entry into `share`'s directory where it is; returns how many were left out (on
// a slab that does not serve here) and fills `restored`.
std::uint64_t restore_entries(CacheShare& share, const Handover& h, EntryPlaces& restored);

// Takes over one pipeline's consumers (positions, uncredited batches pinned again) and unprinted epochs.
void adopt_pipeline(RandomizerPipeline& p, const HandoverPipeline& hp, CacheShare& share,
                    const EntryPlaces& restored);

}  // namespace ferry::roles
