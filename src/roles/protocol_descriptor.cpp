// The descriptor's codec (protocol.hpp, Descriptor): runs of equal sources, offsets in 64-byte units, and
// the optional tail (directory shard, its positions, a batch past its head).
#include <algorithm>

#include "ferry/config.hpp"
#include "roles/protocol.hpp"

namespace ferry::roles {
namespace {

// [who][sized][hit]: a run of sized hits carries each entry's size after its offset.
std::uint64_t source_header(const Source& s) {
  const bool sized = s.hit && s.bytes != 0;
  return (static_cast<std::uint64_t>(s.who) << 2) | (sized ? 2 : 0) | (s.hit ? 1 : 0);
}

}  // namespace

void encode(Writer& w, const Descriptor& d) {
  w.u(d.pipeline).u(d.epoch).u(d.batch).u(d.sources.size());
  // Runs of positions with the same (hit/miss, sized, who): [header][run length][hits: offset (/ 64) and,
  // sized, the entry's bytes...].
  for (std::size_t i = 0; i < d.sources.size();) {
    std::size_t j = i;
    while (j < d.sources.size() && source_header(d.sources[j]) == source_header(d.sources[i])) ++j;
    w.u(source_header(d.sources[i])).u(j - i);
    if (d.sources[i].hit)
      for (std::size_t k = i; k < j; ++k) {
        w.u(d.sources[k].offset / kOffsetAlign);
        if (d.sources[k].bytes != 0) w.u(d.sources[k].bytes);
      }
    i = j;
  }
  // Tail: [shard][positions?][past head], then the positions as gaps (each at least 1 after the first).
  FERRY_ENFORCE(!d.partial || d.positions.size() == d.sources.size(), "descriptor of ", d.sources.size(),
                " sources at ", d.positions.size(), " positions");
  if (!d.past_head && d.shard == 0 && !d.partial) return;
  w.u((static_cast<std::uint64_t>(d.shard) << 2) | (d.partial ? 2 : 0) | (d.past_head ? 1 : 0));
  for (std::size_t k = 0; d.partial && k < d.positions.size(); ++k) {
    FERRY_ENFORCE(k == 0 || d.positions[k] > d.positions[k - 1], "descriptor positions not ascending");
    w.u(k == 0 ? d.positions[0] : d.positions[k] - d.positions[k - 1] - 1);
  }
}

Source& Descriptor::source_at(std::uint32_t position) {
  if (!partial) return sources.at(position);
  const auto it = std::lower_bound(positions.begin(), positions.end(), position);
  FERRY_ENFORCE(it != positions.end() && *it == position, "position ", position, " is not in the descriptor");
  return sources[static_cast<std::size_t>(it - positions.begin())];
}

void decode(Reader& r, Descriptor& d) {
  d.pipeline = static_cast<std::uint32_t>(r.u());
  d.epoch = r.u();
  d.batch = r.u();
  const std::uint64_t n = r.u();  // a run of misses takes 2 bytes for any length: bounded by the batch size
  FERRY_ENFORCE(n <= kMaxBatchSize, "descriptor of ", n, " positions, more than a batch holds");
  d.sources.clear();
  d.sources.reserve(n);
  while (d.sources.size() < n) {
    const std::uint64_t header = r.u();
    const std::uint64_t run = r.u();
    FERRY_ENFORCE(run > 0 && run <= n - d.sources.size(), "descriptor run of ", run, " overflows its batch");
    for (std::uint64_t k = 0; k < run; ++k) {
      Source s;
      s.hit = header & 1;
      s.who = static_cast<std::uint32_t>(header >> 2);
      FERRY_ENFORCE(s.hit || !(header & 2), "descriptor run of sized misses");
      if (s.hit) s.offset = r.u() * kOffsetAlign;
      if (header & 2) {
        s.bytes = r.u();
        FERRY_ENFORCE(s.bytes != 0, "descriptor hit of 0 bytes");
      }
      d.sources.push_back(s);
    }
  }
  const std::uint64_t tail = r.done() ? 0 : r.u();
  FERRY_ENFORCE(tail >> 2 < kMaxDirectoryShards, "descriptor of directory shard ", tail >> 2);
  d.past_head = (tail & 1) != 0;
  d.shard = static_cast<std::uint32_t>(tail >> 2);
  d.positions.clear();
  d.partial = (tail & 2) != 0;
  if (d.partial) {
    d.positions.reserve(n);
    std::uint64_t position = 0;
    for (std::uint64_t k = 0; k < n; ++k) {
      const std::uint64_t gap = r.u();
      FERRY_ENFORCE(gap < kMaxBatchSize, "descriptor position past a batch");
      position = k == 0 ? gap : position + 1 + gap;
      FERRY_ENFORCE(position < kMaxBatchSize, "descriptor position past a batch");
      d.positions.push_back(static_cast<std::uint32_t>(position));
    }
  }
  FERRY_ENFORCE(r.done(), "descriptor with an unknown tail");
}

}  // namespace ferry::roles
