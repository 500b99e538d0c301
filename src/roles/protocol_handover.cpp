// The codecs of the messages that carry entry sizes and text (protocol_handover.hpp): a transformer's answer
// to a miss list (MissDone), a role change (RoleChange) and a retiring randomizer's handover (Handover).
#include "ferry/config.hpp"
#include "roles/protocol.hpp"

namespace ferry::roles {

namespace {
// Entry sizes (kMissDone, kHandover): [count] then per entry [ID delta][bytes], IDs ascending.
void put_sizes(Writer& w, const std::vector<EntrySize>& sizes) {
  w.u(sizes.size());
  std::uint64_t previous = 0;
  for (const auto& s : sizes) {
    FERRY_ENFORCE(s.id >= previous, "entry sizes out of ID order");
    w.u(s.id - previous).u(s.bytes);  // ascending: small deltas
    previous = s.id;
  }
}
void get_sizes(Reader& r, std::vector<EntrySize>& sizes) {
  sizes.resize(r.count(2));
  std::uint64_t previous = 0;
  for (auto& s : sizes) {
    s.id = previous + r.u();
    FERRY_ENFORCE(s.id >= previous, "entry sizes: ID overflows");
    previous = s.id;
    s.bytes = r.u();
  }
}
}  // namespace

void encode(Writer& w, const MissDone& m) {
  encode(w, m.figures);
  w.u(m.unfilled.size());
  for (const auto& u : m.unfilled) w.u(u.id).u(u.server).u(u.offset);
  put_sizes(w, m.sizes);
}
void decode(Reader& r, MissDone& m) {
  decode(r, m.figures);
  m.unfilled.resize(r.count(3));
  for (auto& u : m.unfilled) {
    u.id = r.u();
    u.server = static_cast<std::uint32_t>(r.u());
    u.offset = r.u();
  }
  get_sizes(r, m.sizes);
}

namespace {
void put_text(Writer& w, const std::string& text) {
  w.u(text.size());
  w.raw({reinterpret_cast<const std::byte*>(text.data()), text.size()});
}
std::string get_text(Reader& r) {
  const auto text = r.raw(r.u());
  return {reinterpret_cast<const char*>(text.data()), text.size()};
}
}  // namespace

void encode(Writer& w, const RoleChange& c) {
  w.u(static_cast<std::uint64_t>(c.rank)).u(c.role).u(c.epoch);
  put_text(w, c.why);
  w.u(static_cast<std::uint64_t>(c.heir + 1));
}

void decode(Reader& r, RoleChange& c) {
  c.rank = static_cast<std::int32_t>(r.u());
  const std::uint64_t role = r.u();
  FERRY_ENFORCE(role <= 1, "role change to unknown role ", role);
  c.role = static_cast<std::uint8_t>(role);
  c.epoch = r.u();
  c.why = get_text(r);
  c.heir = static_cast<std::int32_t>(r.u()) - 1;
}

void encode(Writer& w, const Handover& h) {
  w.u(h.share).u(h.pipelines.size());
  for (const auto& p : h.pipelines) {
    w.u(p.pipeline).u(p.consumers.size());
    for (const auto& c : p.consumers) {
      w.u(static_cast<std::uint64_t>(c.rank)).u(c.next_seq).u(c.finished).u(c.epochs_reported);
      w.u(c.epochs_announced).u(c.outstanding.size());
      for (const auto& b : c.outstanding) {
        w.u(b.epoch).u(b.batch).u(b.pins.size());
        for (const auto& pin : b.pins) w.u(pin.group).u(pin.id).u(pin.server);
      }
    }
    w.u(p.epochs.size());
    for (const auto& e : p.epochs) {
      encode(w, e.sum);
      w.u(e.consumers_reported).u(e.miss_lists);
      put_text(w, e.layout);
    }
    put_sizes(w, p.sizes);
  }
  w.u(h.entries.size());
  for (const auto& e : h.entries) w.u(e.group).u(e.id).u(e.server).u(e.offset).u(e.bytes);
}

void decode(Reader& r, Handover& h) {
  h.share = static_cast<std::uint32_t>(r.u());
  h.pipelines.resize(r.count(4));
  for (auto& p : h.pipelines) {
    p.pipeline = static_cast<std::uint32_t>(r.u());
    p.consumers.resize(r.count(6));
    for (auto& c : p.consumers) {
      c.rank = static_cast<std::int32_t>(r.u());
      c.next_seq = r.u();
      c.finished = r.u() != 0;
      c.epochs_reported = r.u();
      c.epochs_announced = r.u();
      c.outstanding.resize(r.count(3));
      for (auto& b : c.outstanding) {
        b.epoch = r.u();
        b.batch = r.u();
        b.pins.resize(r.count(3));
        for (auto& pin : b.pins) {
          pin.group = r.u();
          pin.id = r.u();
          pin.server = static_cast<std::uint32_t>(r.u());
        }
      }
    }
    p.epochs.resize(r.count(14));
    for (auto& e : p.epochs) {
      decode(r, e.sum);
      e.consumers_reported = r.u();
      e.miss_lists = r.u();
      e.layout = get_text(r);
    }
    get_sizes(r, p.sizes);
  }
  h.entries.resize(r.count(5));
  for (auto& e : h.entries) {
    e.group = r.u();
    e.id = r.u();
    e.server = static_cast<std::uint32_t>(r.u());
    e.offset = r.u();
    e.bytes = r.u();
  }
}

}  // namespace ferry::roles
