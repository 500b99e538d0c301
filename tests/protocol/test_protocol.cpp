#include <gtest/gtest.h>

#include <random>

#include "roles/protocol.hpp"

using namespace ferry::roles;

TEST(Protocol, DescriptorRoundTripsAndIsCompact) {
  std::mt19937_64 rng(7);
  Descriptor d{3, 2, 17, {}};
  for (int i = 0; i < 256; ++i) {
    Source s;
    s.hit = rng() % 4 != 0;
    s.who = static_cast<std::uint32_t>(rng() % (s.hit ? 4 : 2));
    s.offset = s.hit ? (rng() % (std::uint64_t{1} << 24)) * 64 : 0;  // 1 GiB slabs
    d.sources.push_back(s);
  }
  Writer w;
  encode(w, d);
  Reader r(w.view());
  Descriptor back;
  decode(r, back);
  EXPECT_TRUE(r.done());
  ASSERT_EQ(back.sources.size(), d.sources.size());
  for (std::size_t i = 0; i < d.sources.size(); ++i) {
    EXPECT_EQ(back.sources[i].hit, d.sources[i].hit);
    EXPECT_EQ(back.sources[i].who, d.sources[i].who);
    EXPECT_EQ(back.sources[i].offset, d.sources[i].offset);
  }
  // Random hits on 4 servers of 1 GiB: at most ~6 bytes a sample (no IDs: consumers compute them).
  EXPECT_LT(static_cast<double>(w.size()) / 256.0, 6.0) << w.size() << " bytes";
}

TEST(Protocol, MissListRoundTripsWithDeltaEncodedIds) {
  Misses m{1, 4, 9, 12, {}};
  for (std::uint64_t id = 1000; id < 1064; id += 1 + id % 3) {
    MissEntry e;
    e.id = id;
    e.positions = {static_cast<std::uint32_t>(id % 64)};
    e.insert = id % 2 == 0;
    e.server = e.insert ? 1 : 0;
    e.offset = e.insert ? id * 64 : 0;
    m.entries.push_back(e);
  }
  Writer w;
  encode(w, m);
  Reader r(w.view());
  Misses back;
  decode(r, back);
  EXPECT_TRUE(r.done());
  ASSERT_EQ(back.entries.size(), m.entries.size());
  for (std::size_t i = 0; i < m.entries.size(); ++i) {
    EXPECT_EQ(back.entries[i].id, m.entries[i].id);
    EXPECT_EQ(back.entries[i].positions, m.entries[i].positions);
    EXPECT_EQ(back.entries[i].insert, m.entries[i].insert);
    EXPECT_EQ(back.entries[i].offset, m.entries[i].offset);
  }
  EXPECT_LT(static_cast<double>(w.size()) / static_cast<double>(m.entries.size()), 6.0);
}

// A device transfer's number and field survive the trip; host-only samples say transfer 0.
TEST(Protocol, SamplesHeaderCarriesTheDeviceTransfer) {
  for (const SamplesHeader h : {SamplesHeader{2, 5, 31, 7, 0, 0}, SamplesHeader{1, 3, 9, 4, 1ull << 40, 3}}) {
    Writer w;
    encode(w, h);
    Reader r(w.view());
    SamplesHeader back;
    decode(r, back);
    EXPECT_TRUE(r.done());
    EXPECT_EQ(back.pipeline, h.pipeline);
    EXPECT_EQ(back.epoch, h.epoch);
    EXPECT_EQ(back.batch, h.batch);
    EXPECT_EQ(back.count, h.count);
    EXPECT_EQ(back.transfer, h.transfer);
    EXPECT_EQ(back.field, h.field);
  }
}

TEST(Protocol, TruncatedMessagesAreCaughtNotOverread) {
  Descriptor d{0, 0, 0, {{true, 1, 640}, {false, 0, 0}}};
  Writer w;
  encode(w, d);
  auto bytes = w.take();
  bytes.pop_back();
  Reader r(bytes);
  Descriptor back;
  EXPECT_THROW(decode(r, back), ferry::InternalError);
}
