#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

#include "cache/slab_allocator.hpp"
#include "ferry/error.hpp"

using ferry::cache::SlabAllocator;

namespace {

constexpr std::uint64_t kAlign = SlabAllocator::kAlignment;

// Live ranges never overlap, stay inside the slab, and add up to what the allocator reports.
void expect_consistent(const SlabAllocator& slab, const std::map<std::uint64_t, std::uint64_t>& live) {
  std::uint64_t end = 0, sum = 0;
  for (const auto& [offset, bytes] : live) {
    ASSERT_EQ(offset % kAlign, 0u);
    ASSERT_GE(offset, end) << "range at " << offset << " overlaps its predecessor";
    end = offset + SlabAllocator::reserved_size(bytes);
    sum += SlabAllocator::reserved_size(bytes);
  }
  ASSERT_LE(end, slab.usable());
  ASSERT_EQ(sum, slab.used());
  ASSERT_LE(slab.used(), slab.capacity());
  ASSERT_LE(slab.largest_free(), slab.free_bytes());
}

}  // namespace

TEST(SlabAllocator, ReservedSizesAreAligned) {
  EXPECT_EQ(SlabAllocator::reserved_size(0), 64u);
  EXPECT_EQ(SlabAllocator::reserved_size(1), 64u);
  EXPECT_EQ(SlabAllocator::reserved_size(64), 64u);
  EXPECT_EQ(SlabAllocator::reserved_size(65), 128u);
}

TEST(SlabAllocator, FillsExactlyAndRefusesWhenFull) {
  SlabAllocator slab(1000);  // usable: 960 = 15 aligned slots
  EXPECT_EQ(slab.usable(), 960u);
  std::vector<std::uint64_t> offsets;
  while (auto offset = slab.allocate(50)) offsets.push_back(*offset);
  ASSERT_EQ(offsets.size(), 15u);
  for (std::size_t i = 0; i < offsets.size(); ++i) EXPECT_EQ(offsets[i], i * 64);
  EXPECT_EQ(slab.used(), 960u);
  EXPECT_EQ(slab.largest_free(), 0u);
  EXPECT_FALSE(slab.allocate(1).has_value());
  EXPECT_FALSE(slab.allocate(2000).has_value());
}

TEST(SlabAllocator, CoalescesFreedNeighbours) {
  SlabAllocator slab(64 * 8);
  std::vector<std::uint64_t> offsets;
  for (int i = 0; i < 8; ++i) offsets.push_back(*slab.allocate(64));
  // Free 2, 4, then 3: the middle release must merge all three into one 192-byte block.
  slab.release(offsets[2], 64);
  slab.release(offsets[4], 64);
  EXPECT_EQ(slab.free_blocks(), 2u);
  EXPECT_FALSE(slab.allocate(128).has_value());
  slab.release(offsets[3], 64);
  EXPECT_EQ(slab.free_blocks(), 1u);
  EXPECT_EQ(slab.largest_free(), 192u);
  EXPECT_EQ(*slab.allocate(150), offsets[2]);
}

TEST(SlabAllocator, BestFitKeepsLargeBlocksWhole) {
  SlabAllocator slab(64 * 10);
  std::vector<std::uint64_t> offsets;
  for (int i = 0; i < 10; ++i) offsets.push_back(*slab.allocate(64));
  for (int i = 0; i < 3; ++i) slab.release(offsets[i], 64);  // a three-slot hole at 0
  slab.release(offsets[6], 64);                              // and a one-slot hole
  // A one-slot entry goes into the one-slot hole, not the three-slot one.
  EXPECT_EQ(*slab.allocate(10), offsets[6]);
  EXPECT_EQ(*slab.allocate(192), offsets[0]);
}

TEST(SlabAllocator, DoubleReleaseIsABug) {
  SlabAllocator slab(4096);
  const std::uint64_t a = *slab.allocate(100);
  slab.release(a, 100);
  EXPECT_THROW(slab.release(a, 100), ferry::InternalError);
  EXPECT_THROW(slab.release(4096, 64), ferry::InternalError);
  EXPECT_THROW(slab.release(32, 64), ferry::InternalError);
}

TEST(SlabAllocator, RandomSequencesStayConsistentAndCoalesceToOneBlock) {
  std::mt19937_64 rng(7);
  for (std::uint64_t capacity : {4096ull, 100000ull, 1ull << 20}) {
    SlabAllocator slab(capacity);
    std::map<std::uint64_t, std::uint64_t> live;  // offset -> bytes
    std::uniform_int_distribution<std::uint64_t> size(0, capacity / 8);
    for (int step = 0; step < 20000; ++step) {
      if (live.empty() || rng() % 100 < 55) {
        const std::uint64_t bytes = size(rng);
        const std::uint64_t free_before = slab.free_bytes(), largest = slab.largest_free();
        if (auto offset = slab.allocate(bytes)) {
          ASSERT_TRUE(live.emplace(*offset, bytes).second);
          ASSERT_EQ(slab.free_bytes(), free_before - SlabAllocator::reserved_size(bytes));
        } else {
          // Refused only when no free block was large enough.
          ASSERT_LT(largest, SlabAllocator::reserved_size(bytes));
        }
      } else {
        auto it = live.begin();
        std::advance(it, rng() % live.size());
        slab.release(it->first, it->second);
        live.erase(it);
      }
      expect_consistent(slab, live);
      if (HasFatalFailure()) return;
    }
    for (const auto& [offset, bytes] : live) slab.release(offset, bytes);
    EXPECT_EQ(slab.used(), 0u);
    EXPECT_EQ(slab.free_blocks(), 1u);
    EXPECT_EQ(slab.largest_free(), slab.usable());
  }
}

TEST(SlabAllocator, ResetFreesEverything) {
  SlabAllocator slab(640);
  while (slab.allocate(64)) {
  }
  slab.reset();
  EXPECT_EQ(slab.used(), 0u);
  EXPECT_EQ(slab.largest_free(), 640u);
}

// reserve() takes exactly the range asked for, out of the middle of a free block, and refuses ranges that
// are partly in use, unaligned or outside the slab; what it leaves free is allocated and coalesced as usual.
TEST(SlabAllocator, ReserveTakesAnExactRange) {
  SlabAllocator slab(8 * kAlign);
  ASSERT_TRUE(slab.reserve(3 * kAlign, 2 * kAlign - 10));  // [3, 5) in cache lines
  EXPECT_EQ(slab.used(), 2 * kAlign);
  EXPECT_EQ(slab.free_blocks(), 2u);  // [0, 3) and [5, 8)
  EXPECT_FALSE(slab.reserve(4 * kAlign, kAlign)) << "in use";
  EXPECT_FALSE(slab.reserve(2 * kAlign, 2 * kAlign)) << "overlaps the reserved range";
  EXPECT_FALSE(slab.reserve(kAlign + 1, kAlign)) << "unaligned";
  EXPECT_FALSE(slab.reserve(7 * kAlign, 2 * kAlign)) << "past the end";
  EXPECT_EQ(slab.used(), 2 * kAlign) << "a refused reserve changes nothing";
  ASSERT_TRUE(slab.reserve(0, kAlign));
  ASSERT_TRUE(slab.reserve(7 * kAlign, kAlign));
  EXPECT_EQ(slab.largest_free(), 2 * kAlign);  // [1, 3) and [5, 7)
  EXPECT_EQ(slab.allocate(2 * kAlign), std::optional<std::uint64_t>(kAlign));
  slab.release(3 * kAlign, 2 * kAlign - 10);
  slab.release(kAlign, 2 * kAlign);
  EXPECT_EQ(slab.free_blocks(), 1u) << "[1, 7) coalesced";
  EXPECT_EQ(slab.largest_free(), 6 * kAlign);
}
