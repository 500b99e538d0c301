// The wire fields of cached variable-length entries (docs/cache.md, "Variable entries"): the size of a hit in
// the descriptor, the size reserved for an insert in the miss list, and the entry sizes a transformer reports
// with its kMissDone.
#include <gtest/gtest.h>

#include "ferry/error.hpp"
#include "roles/protocol.hpp"
#include "round_trip.hpp"

using namespace ferry::roles;

namespace {

template <typename Message>
void expect_refused(std::span<const std::byte> bytes) {
  Reader r(bytes);
  Message m;
  EXPECT_THROW(decode(r, m), ferry::InternalError);
}

}  // namespace

TEST(VariableEntries, DescriptorCarriesTheSizeOfEachVariableHit) {
  // Sized and unsized hits of one server stay apart (two runs); misses never carry a size.
  Descriptor d{1, 3, 8, {}, false};
  d.sources = {{true, 2, 640, 0}, {true, 2, 1280, 0},    {true, 2, 1920, 110'000}, {true, 2, 128, 1},
               {false, 1, 0, 0},  {true, 0, 64, 70'000}, {true, 5, 1ull << 33, 3}};
  const Descriptor back = round_trip(d);
  ASSERT_EQ(back.sources.size(), d.sources.size());
  for (std::size_t i = 0; i < d.sources.size(); ++i) {
    EXPECT_EQ(back.sources[i].hit, d.sources[i].hit) << i;
    EXPECT_EQ(back.sources[i].who, d.sources[i].who) << i;
    EXPECT_EQ(back.sources[i].offset, d.sources[i].offset) << i;
    EXPECT_EQ(back.sources[i].bytes, d.sources[i].bytes) << i;
  }
}

TEST(VariableEntries, DescriptorSizesCostAVarintAHit) {
  Descriptor fixed{0, 0, 0, {}}, sized{0, 0, 0, {}};
  for (std::uint64_t i = 0; i < 64; ++i) {
    fixed.sources.push_back({true, 1, i * 4096, 0});
    sized.sources.push_back({true, 1, i * 4096, 100'000 + i});  // 3-byte varints
  }
  std::size_t fixed_bytes = 0, sized_bytes = 0;
  round_trip(fixed, &fixed_bytes);
  round_trip(sized, &sized_bytes);
  EXPECT_EQ(sized_bytes, fixed_bytes + 64 * 3);
}

TEST(VariableEntries, DescriptorRefusesASizedMissAndAnEmptyHit) {
  // pipeline 0, epoch 0, batch 0, 1 position, then one run of 1: header (who 1, sized, miss) = 6.
  const std::byte sized_miss[] = {std::byte{0}, std::byte{0}, std::byte{0},
                                  std::byte{1}, std::byte{6}, std::byte{1}};
  expect_refused<Descriptor>(sized_miss);
  // header (who 1, sized, hit) = 7, offset 1 (x 64), size 0.
  const std::byte empty_hit[] = {std::byte{0}, std::byte{0}, std::byte{0}, std::byte{1},
                                 std::byte{7}, std::byte{1}, std::byte{1}, std::byte{0}};
  expect_refused<Descriptor>(empty_hit);
}

TEST(VariableEntries, MissListCarriesTheBytesReservedForAnInsert) {
  Misses m{0, 1, 2, 3, {}, false, {}};
  m.entries.push_back({4, {0}, true, 1, 64 * 9, 110'017});
  m.entries.push_back({7, {1, 2}, false, 0, 0, 0});
  const Misses back = round_trip(m);
  ASSERT_EQ(back.entries.size(), 2u);
  EXPECT_TRUE(back.entries[0].insert);
  EXPECT_EQ(back.entries[0].bytes, 110'017u);
  EXPECT_EQ(back.entries[0].offset, 64u * 9);
  EXPECT_FALSE(back.entries[1].insert);
  EXPECT_EQ(back.entries[1].bytes, 0u);
  EXPECT_EQ(back.entries[1].positions, (std::vector<std::uint32_t>{1, 2}));
}

TEST(VariableEntries, MissDoneReportsEntrySizesInIdOrder) {
  MissDone done;
  done.figures.pipeline = 1;
  done.unfilled = {{5, 0, 640}};
  for (std::uint64_t id : {3, 4, 900, 1'000'000}) done.sizes.push_back({id, 100'000 + id});
  std::size_t bytes = 0;
  const MissDone back = round_trip(done, &bytes);
  ASSERT_EQ(back.sizes.size(), done.sizes.size());
  for (std::size_t i = 0; i < done.sizes.size(); ++i) {
    EXPECT_EQ(back.sizes[i].id, done.sizes[i].id);
    EXPECT_EQ(back.sizes[i].bytes, done.sizes[i].bytes);
  }
  ASSERT_EQ(back.unfilled.size(), 1u);
  EXPECT_EQ(back.unfilled[0].id, 5u);
  // IDs out of order are the sender's bug: refused, not sent.
  std::swap(done.sizes[0], done.sizes[1]);
  Writer w;
  EXPECT_THROW(encode(w, done), ferry::InternalError);
  // A count its bytes cannot hold is refused before anything is allocated: an empty MissDone (12 figures,
  // no unfilled entry) that says 100 sizes follow, in no bytes.
  std::vector<std::byte> hundred(13, std::byte{0});
  hundred.push_back(std::byte{100});
  expect_refused<MissDone>(hundred);
}

TEST(VariableEntries, HandoverCarriesEachPipelinesEntrySizes) {
  Handover h;
  h.share = 1;
  h.pipelines.resize(2);
  h.pipelines[0].pipeline = 3;
  h.pipelines[0].sizes = {{0, 64}, {17, 110'000}, {1'281'166, 4'000'000'000}};
  h.pipelines[1].pipeline = 4;  // fixed entries: none
  h.entries.push_back({9, 17, 0, 640, 110'000});
  const Handover back = round_trip(h);
  ASSERT_EQ(back.pipelines.size(), 2u);
  ASSERT_EQ(back.pipelines[0].sizes.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back.pipelines[0].sizes[i].id, h.pipelines[0].sizes[i].id);
    EXPECT_EQ(back.pipelines[0].sizes[i].bytes, h.pipelines[0].sizes[i].bytes);
  }
  EXPECT_TRUE(back.pipelines[1].sizes.empty());
  ASSERT_EQ(back.entries.size(), 1u);
  EXPECT_EQ(back.entries[0].bytes, 110'000u);
}
