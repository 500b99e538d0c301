#include "roles/protocol.hpp"

#include "ferry/config.hpp"

namespace ferry::roles {

void encode(Writer& w, const Misses& m) {
  w.u(m.pipeline).u(m.epoch).u(m.batch).u(static_cast<std::uint64_t>(m.consumer)).u(m.entries.size());
  std::uint64_t previous = 0;
  for (const auto& e : m.entries) {
    w.u(e.id - previous);  // ascending: small deltas
    previous = e.id;
    w.u((static_cast<std::uint64_t>(e.positions.size()) << 1) | (e.insert ? 1 : 0));
    for (auto p : e.positions) w.u(p);
    if (e.insert) w.u(e.server).u(e.offset / kOffsetAlign).u(e.bytes);
  }
  if (!m.head) return;
  w.u(1).u(m.fetches.size());  // the tail: its presence says "head"
  previous = 0;
  for (const auto& f : m.fetches) {
    w.u(f.id - previous).u(f.positions.size());
    previous = f.id;
    for (auto p : f.positions) w.u(p);
    w.u(f.server).u(f.offset / kOffsetAlign).u(f.bytes);
  }
}

void decode(Reader& r, Misses& m) {
  m.pipeline = static_cast<std::uint32_t>(r.u());
  m.epoch = r.u();
  m.batch = r.u();
  m.consumer = static_cast<std::int32_t>(r.u());
  m.entries.resize(r.count(2));
  std::uint64_t previous = 0;
  for (auto& e : m.entries) {
    e.id = previous + r.u();
    previous = e.id;
    const std::uint64_t head = r.u();
    e.insert = head & 1;
    FERRY_ENFORCE((head >> 1) <= kMaxBatchSize, "miss list entry for ", head >> 1, " positions");
    e.positions.resize(head >> 1);
    for (auto& p : e.positions) p = static_cast<std::uint32_t>(r.u());
    if (e.insert) {
      e.server = static_cast<std::uint32_t>(r.u());
      e.offset = r.u() * kOffsetAlign;
      e.bytes = r.u();
    }
  }
  m.head = !r.done();
  m.fetches.clear();
  if (!m.head) return;
  FERRY_ENFORCE(r.u() == 1, "miss list with an unknown tail");
  m.fetches.resize(r.count(5));  // id, count, server, offset, bytes: a byte each at least
  previous = 0;
  for (auto& f : m.fetches) {
    f.id = previous + r.u();
    previous = f.id;
    f.positions.resize(r.count(1));
    for (auto& p : f.positions) p = static_cast<std::uint32_t>(r.u());
    f.server = static_cast<std::uint32_t>(r.u());
    f.offset = r.u() * kOffsetAlign;
    f.bytes = r.u();
  }
}

void encode(Writer& w, const SamplesHeader& h) {
  w.u(h.pipeline).u(h.epoch).u(h.batch).u(h.count).u(h.transfer).u(h.field).u(h.skipped);
}
void decode(Reader& r, SamplesHeader& h) {
  h.pipeline = static_cast<std::uint32_t>(r.u());
  h.epoch = r.u();
  h.batch = r.u();
  h.count = r.u();
  h.transfer = r.u();
  h.field = static_cast<std::uint32_t>(r.u());
  h.skipped = r.u();
}

void encode(Writer& w, const InsertHeader& h) {
  w.u(static_cast<std::uint64_t>(h.randomizer)).u(h.group).u(h.count);
}
void decode(Reader& r, InsertHeader& h) {
  h.randomizer = static_cast<std::int32_t>(r.u());
  h.group = r.u();
  h.count = r.u();
}

void encode(Writer& w, const PoolSlot& s) {
  w.u(s.offset).u(s.entries).u(s.sizes.size());
  for (const std::uint64_t size : s.sizes) w.u(size);
}
void decode(Reader& r, PoolSlot& s) {
  s.offset = r.u();
  s.entries = r.u();
  s.sizes.resize(r.count(1));
  // Bounds that keep every offset computed from them below 2^64: 2^24 samples of 2^38 bytes at most.
  FERRY_ENFORCE(s.entries <= (1ull << 24), "send pool slot of ", s.entries, " entries");
  for (auto& size : s.sizes) {
    size = r.u();
    FERRY_ENFORCE(size <= (1ull << 38) / s.sizes.size(), "send pool field of ", size, " bytes");
  }
}

void encode(Writer& w, const Stored& s) {
  FERRY_ENFORCE(s.offsets.size() == s.ids.size(), "insert ack with ", s.ids.size(), " IDs and ",
                s.offsets.size(), " offsets");
  w.u(s.group).u(s.ids.size());
  for (std::size_t i = 0; i < s.ids.size(); ++i) w.u(s.ids[i]).u(s.offsets[i]);
}
void decode(Reader& r, Stored& s) {
  s.group = r.u();
  const std::uint64_t n = r.count(2);
  s.ids.resize(n);
  s.offsets.resize(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    s.ids[i] = r.u();
    s.offsets[i] = r.u();
  }
}

void encode(Writer& w, const Credit& c) {
  w.u(c.pipeline).u(c.epoch).u(c.batch);
}
void decode(Reader& r, Credit& c) {
  c.pipeline = static_cast<std::uint32_t>(r.u());
  c.epoch = r.u();
  c.batch = r.u();
}

void encode(Writer& w, const EpochFigures& f) {
  w.u(f.pipeline)
      .u(f.epoch)
      .u(f.samples)
      .u(f.hits)
      .u(f.misses)
      .u(f.bytes)
      .u(f.wait_us)
      .u(f.hdf5_reads)
      .u(f.hdf5_bytes)
      .u(f.busy_us)
      .u(f.elapsed_us)
      .u(f.skipped);
}
void decode(Reader& r, EpochFigures& f) {
  f.pipeline = static_cast<std::uint32_t>(r.u());
  f.epoch = r.u();
  f.samples = r.u();
  f.hits = r.u();
  f.misses = r.u();
  f.bytes = r.u();
  f.wait_us = r.u();
  f.hdf5_reads = r.u();
  f.hdf5_bytes = r.u();
  f.busy_us = r.u();
  f.elapsed_us = r.u();
  f.skipped = r.u();
}

}  // namespace ferry::roles
