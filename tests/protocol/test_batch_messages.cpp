// The messages of a batch's path (roles/protocol.hpp): the descriptor a consumer gets, the miss list a
// transformer gets, the samples header and kMissDone, each round tripped, kept compact, and refused when
// truncated.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>

#include "ferry/config.hpp"
#include "ferry/error.hpp"
#include "roles/protocol.hpp"
#include "round_trip.hpp"

using namespace ferry::roles;

TEST(Protocol, DescriptorRoundTripsAndIsCompact) {
  std::mt19937_64 rng(7);
  Descriptor d{3, 2, 17, {}, false};
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

// A directory shard's descriptor (runtime.directory_shards): the shard rides in the optional tail beside
// past_head, shard 0 without a head keeps the plain bytes, and a shard past the limit is refused.
TEST(Protocol, DescriptorCarriesItsDirectoryShard) {
  Descriptor d{2, 3, 4, {{true, 1, 128, 0}, {false, 0, 0, 0}, {false, 0, 0, 0}}, false};
  std::size_t plain = 0, sharded = 0;
  EXPECT_EQ(round_trip(d, &plain).shard, 0u);
  d.shard = 5;
  const Descriptor back = round_trip(d, &sharded);
  EXPECT_EQ(back.shard, 5u);
  EXPECT_FALSE(back.past_head);
  EXPECT_EQ(sharded, plain + 1);
  ASSERT_EQ(back.sources.size(), 3u);
  EXPECT_EQ(back.sources[0].offset, 128u);
  d.past_head = true;
  EXPECT_TRUE(round_trip(d).past_head);
  EXPECT_EQ(round_trip(d).shard, 5u);
  // A shard's part of a batch: its sources at ascending positions, none at all too.
  d.partial = true;
  d.positions = {1, 4, 255};
  Descriptor part = round_trip(d);
  EXPECT_TRUE(part.partial);
  EXPECT_EQ(part.positions, d.positions);
  EXPECT_EQ(part.source_at(1).offset, 128u);
  EXPECT_THROW((void)part.source_at(2), ferry::Error);
  d.sources.clear();
  d.positions.clear();
  part = round_trip(d);
  EXPECT_TRUE(part.partial);
  EXPECT_TRUE(part.sources.empty());
  d.sources = {{true, 1, 128, 0}};
  d.positions = {3, 2};  // not ascending: refused as it is written
  Writer bad;
  EXPECT_THROW(encode(bad, d), ferry::Error);
  d.positions = {3};
  d.partial = false;
  d.shard = static_cast<std::uint32_t>(ferry::kMaxDirectoryShards);
  Writer w;
  encode(w, d);
  Reader r(w.view());
  Descriptor refused;
  EXPECT_THROW(decode(r, refused), ferry::Error);
}

TEST(Protocol, MissListRoundTripsWithDeltaEncodedIds) {
  Misses m{1, 4, 9, 12, {}, false, {}};
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

// A batch whose augment head runs on the transformer (docs/heterogeneous.md, "The movable head"): the
// descriptor says so and the miss list carries the hits to read from the cache, both as optional tails, so
// the messages without them keep their bytes (and the committed fuzz seeds their meaning).
TEST(Protocol, PastHeadDescriptorAndFetchListRoundTrip) {
  Descriptor d{2, 3, 4, {{true, 1, 0, 0}, {false, 1, 0, 0}, {true, 1, 0, 0}}, false};
  std::size_t plain = 0, tailed = 0;
  EXPECT_FALSE(round_trip(d, &plain).past_head);
  d.past_head = true;
  const Descriptor back = round_trip(d, &tailed);
  EXPECT_TRUE(back.past_head);
  EXPECT_EQ(tailed, plain + 1);
  ASSERT_EQ(back.sources.size(), 3u);
  EXPECT_TRUE(back.sources[2].hit);

  Misses m{1, 0, 7, 4, {}, false, {}};
  m.entries.push_back({5, {0}, true, 1, 128, 900});
  std::size_t no_head = 0;
  EXPECT_FALSE(round_trip(m, &no_head).head);
  m.head = true;
  for (const bool with_fetches : {false, true}) {
    m.fetches.clear();
    if (with_fetches) m.fetches = {{3, {1, 4}, 0, 64 * 7, 1234}, {40, {2}, 2, 64 * 1000, 77}};
    const Misses got = round_trip(m);
    EXPECT_TRUE(got.head);
    EXPECT_EQ(got.fetches, m.fetches);
    // Every truncation inside the tail is refused, never over-read.
    Writer w;
    encode(w, m);
    for (std::size_t cut = no_head + 1; cut < w.size(); ++cut) {
      Reader t(std::span<const std::byte>(w.view().data(), cut));
      Misses partial;
      EXPECT_THROW(decode(t, partial), ferry::Error) << cut;
    }
  }
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

// bad_samples = skip: the skipped records a consumer expects after the entries, and the reservations a
// randomizer gives back, survive the trip.
TEST(Protocol, SkippedSamplesAndUnfilledReservations) {
  SamplesHeader h{2, 5, 31, 7, 0, 0, 3};
  Writer w;
  encode(w, h);
  MissDone done;
  done.figures.pipeline = 2;
  done.figures.epoch = 5;
  done.figures.skipped = 4;
  done.unfilled = {{17, 1, 4096}, {33, 0, 1ull << 33}};
  encode(w, done);
  Reader r(w.view());
  SamplesHeader back;
  decode(r, back);
  EXPECT_EQ(back.skipped, 3u);
  MissDone got;
  decode(r, got);
  EXPECT_TRUE(r.done());
  EXPECT_EQ(got.figures.pipeline, 2u);
  EXPECT_EQ(got.figures.skipped, 4u);
  ASSERT_EQ(got.unfilled.size(), 2u);
  EXPECT_EQ(got.unfilled[1].id, 33u);
  EXPECT_EQ(got.unfilled[1].server, 0u);
  EXPECT_EQ(got.unfilled[1].offset, 1ull << 33);
  EXPECT_EQ(got.unfilled[0].server, 1u);
}

TEST(Protocol, TruncatedMessagesAreCaughtNotOverread) {
  Descriptor d{0, 0, 0, {{true, 1, 640}, {false, 0, 0}}, false};
  Writer w;
  encode(w, d);
  auto bytes = w.take();
  bytes.pop_back();
  Reader r(bytes);
  Descriptor back;
  EXPECT_THROW(decode(r, back), ferry::InternalError);
}
