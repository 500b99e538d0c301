// Samples dropped from a batch under bad_samples = skip (docs/transforms.md, "Bad samples"). LocalLoader and
// the consumer of the multi-rank system drop them with these functions, so both deliver the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ferry/batch.hpp"

namespace ferry::loader {

// The delivery positions of a batch whose sample at position i is distinct sample slot[i] of a read, for
// the read's skipped indices `skipped` (ascending), appended to `positions`.
void positions_of(std::span<const std::size_t> skipped, std::span<const std::size_t> slot,
                  std::vector<std::size_t>& positions);

// Removes the samples at `drop` (delivery positions, any order, repeats allowed) from `batch`: its IDs and
// every host field, compacted in place in delivery order. writable[f] is the memory batch.fields[f].data
// points to; a variable field's offsets are rewritten in offsets[f], which batch.fields[f].offsets points
// into. Returns the number of samples dropped.
std::size_t drop_samples(Batch& batch, std::vector<std::size_t>& drop, std::span<std::byte* const> writable,
                         std::span<std::vector<std::uint64_t>> offsets);

// The line `ferry local` and `ferry run` print after an epoch's table row when samples were skipped:
// "ferry: pipeline 'NAME' epoch E: N sample(s) skipped (bad_samples = skip)". Nothing when `skipped` is 0.
void print_skipped(const std::string& pipeline, std::uint64_t epoch, std::uint64_t skipped);

}  // namespace ferry::loader
