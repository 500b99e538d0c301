#include "roles/protocol.hpp"

namespace ferry::roles {
namespace {

constexpr std::uint64_t kAlign = 64;  // slab offsets are 64-byte aligned: send offset / 64

std::uint64_t source_header(const Source& s) {
  return (static_cast<std::uint64_t>(s.who) << 1) | (s.hit ? 1 : 0);
}

}  // namespace

void encode(Writer& w, const Descriptor& d) {
  w.u(d.pipeline).u(d.epoch).u(d.batch).u(d.sources.size());
  // Runs of positions with the same (hit/miss, who): [header][run length][offsets of hits...].
  for (std::size_t i = 0; i < d.sources.size();) {
    std::size_t j = i;
    while (j < d.sources.size() && source_header(d.sources[j]) == source_header(d.sources[i])) ++j;
    w.u(source_header(d.sources[i])).u(j - i);
    if (d.sources[i].hit)
      for (std::size_t k = i; k < j; ++k) w.u(d.sources[k].offset / kAlign);
    i = j;
  }
}

void decode(Reader& r, Descriptor& d) {
  d.pipeline = static_cast<std::uint32_t>(r.u());
  d.epoch = r.u();
  d.batch = r.u();
  const std::uint64_t n = r.u();
  d.sources.clear();
  d.sources.reserve(n);
  while (d.sources.size() < n) {
    const std::uint64_t header = r.u();
    const std::uint64_t run = r.u();
    FERRY_ENFORCE(run > 0 && run <= n - d.sources.size(), "descriptor run of ", run, " overflows its batch");
    for (std::uint64_t k = 0; k < run; ++k) {
      Source s;
      s.hit = header & 1;
      s.who = static_cast<std::uint32_t>(header >> 1);
      if (s.hit) s.offset = r.u() * kAlign;
      d.sources.push_back(s);
    }
  }
}

void encode(Writer& w, const Misses& m) {
  w.u(m.pipeline).u(m.epoch).u(m.batch).u(static_cast<std::uint64_t>(m.consumer)).u(m.entries.size());
  std::uint64_t previous = 0;
  for (const auto& e : m.entries) {
    w.u(e.id - previous);  // ascending: small deltas
    previous = e.id;
    w.u((static_cast<std::uint64_t>(e.positions.size()) << 1) | (e.insert ? 1 : 0));
    for (auto p : e.positions) w.u(p);
    if (e.insert) w.u(e.server).u(e.offset / kAlign);
  }
}

void decode(Reader& r, Misses& m) {
  m.pipeline = static_cast<std::uint32_t>(r.u());
  m.epoch = r.u();
  m.batch = r.u();
  m.consumer = static_cast<std::int32_t>(r.u());
  const std::uint64_t n = r.u();
  m.entries.resize(n);
  std::uint64_t previous = 0;
  for (auto& e : m.entries) {
    e.id = previous + r.u();
    previous = e.id;
    const std::uint64_t head = r.u();
    e.insert = head & 1;
    e.positions.resize(head >> 1);
    for (auto& p : e.positions) p = static_cast<std::uint32_t>(r.u());
    if (e.insert) {
      e.server = static_cast<std::uint32_t>(r.u());
      e.offset = r.u() * kAlign;
    }
  }
}

void encode(Writer& w, const SamplesHeader& h) {
  w.u(h.pipeline).u(h.epoch).u(h.batch).u(h.count).u(h.transfer).u(h.field);
}
void decode(Reader& r, SamplesHeader& h) {
  h.pipeline = static_cast<std::uint32_t>(r.u());
  h.epoch = r.u();
  h.batch = r.u();
  h.count = r.u();
  h.transfer = r.u();
  h.field = static_cast<std::uint32_t>(r.u());
}

void encode(Writer& w, const InsertHeader& h) {
  w.u(static_cast<std::uint64_t>(h.randomizer)).u(h.group).u(h.count);
}
void decode(Reader& r, InsertHeader& h) {
  h.randomizer = static_cast<std::int32_t>(r.u());
  h.group = r.u();
  h.count = r.u();
}

void encode(Writer& w, const Stored& s) {
  w.u(s.group).u(s.ids.size());
  for (auto id : s.ids) w.u(id);
}
void decode(Reader& r, Stored& s) {
  s.group = r.u();
  s.ids.resize(r.u());
  for (auto& id : s.ids) id = r.u();
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
      .u(f.elapsed_us);
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
}

void encode(Writer& w, const RoleChange& c) {
  w.u(static_cast<std::uint64_t>(c.rank)).u(c.role).u(c.epoch).u(c.why.size());
  w.raw({reinterpret_cast<const std::byte*>(c.why.data()), c.why.size()});
}

void decode(Reader& r, RoleChange& c) {
  c.rank = static_cast<std::int32_t>(r.u());
  const std::uint64_t role = r.u();
  FERRY_ENFORCE(role <= 1, "role change to unknown role ", role);
  c.role = static_cast<std::uint8_t>(role);
  c.epoch = r.u();
  const auto text = r.raw(r.u());
  c.why.assign(reinterpret_cast<const char*>(text.data()), text.size());
}

}  // namespace ferry::roles
