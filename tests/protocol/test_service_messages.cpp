// The messages between service roles (roles/protocol.hpp, roles/reporter.hpp): a randomizer's handover, the
// kRetire that asks for it and the insert acks (Stored), and a node stats leader's kStatsBundle.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "ferry/error.hpp"
#include "roles/protocol.hpp"
#include "roles/reporter.hpp"

using namespace ferry::roles;

// A randomizer's handover: consumers' positions, unprinted epoch tallies and the directory in eviction
// order come back field for field; the kRetire that asks for it names the heir, and an insert ack says
// where each entry went (its offset names the randomizer share it belongs to).
TEST(Protocol, HandoverRetireAndStoredRoundTrip) {
  Handover h;
  h.share = 1;
  HandoverPipeline p;
  p.pipeline = 3;
  p.consumers = {{5, 41, false, 2, 0, {}}, {6, 40, false, 1, 0, {}}, {7, 60, true, 3, 3, {}}};
  p.consumers[0].outstanding = {{2, 39, {{9, 17, 1}, {9, 3, 0}}}, {2, 40, {}}};
  HandoverEpoch e;
  e.sum.pipeline = 3;
  e.sum.epoch = 2;
  e.sum.samples = 960;
  e.sum.hits = 400;
  e.sum.busy_us = 12345;
  e.consumers_reported = 1;
  e.miss_lists = 17;
  e.layout = "c[2] t[3,4]";
  p.epochs = {e};
  h.pipelines = {p};
  for (std::uint64_t i = 0; i < 5; ++i)
    h.entries.push_back({9, 100 + i, static_cast<std::uint32_t>(i % 2), i * 448, 420});
  Writer w;
  encode(w, h);
  Reader r(w.view());
  Handover back;
  decode(r, back);
  EXPECT_TRUE(r.done());
  EXPECT_EQ(back.share, 1u);
  ASSERT_EQ(back.pipelines.size(), 1u);
  const auto& bp = back.pipelines[0];
  EXPECT_EQ(bp.pipeline, 3u);
  ASSERT_EQ(bp.consumers.size(), 3u);
  for (std::size_t c = 0; c < 3; ++c) {
    EXPECT_EQ(bp.consumers[c].rank, p.consumers[c].rank);
    EXPECT_EQ(bp.consumers[c].next_seq, p.consumers[c].next_seq);
    EXPECT_EQ(bp.consumers[c].finished, p.consumers[c].finished);
    EXPECT_EQ(bp.consumers[c].epochs_reported, p.consumers[c].epochs_reported);
    EXPECT_EQ(bp.consumers[c].epochs_announced, p.consumers[c].epochs_announced);
    ASSERT_EQ(bp.consumers[c].outstanding.size(), p.consumers[c].outstanding.size());
    for (std::size_t b = 0; b < p.consumers[c].outstanding.size(); ++b) {
      const auto &got = bp.consumers[c].outstanding[b], &want = p.consumers[c].outstanding[b];
      EXPECT_EQ(got.epoch, want.epoch);
      EXPECT_EQ(got.batch, want.batch);
      ASSERT_EQ(got.pins.size(), want.pins.size());
      for (std::size_t i = 0; i < want.pins.size(); ++i) {
        EXPECT_EQ(got.pins[i].group, want.pins[i].group);
        EXPECT_EQ(got.pins[i].id, want.pins[i].id);
        EXPECT_EQ(got.pins[i].server, want.pins[i].server);
      }
    }
  }
  ASSERT_EQ(bp.epochs.size(), 1u);
  EXPECT_EQ(bp.epochs[0].sum.epoch, 2u);
  EXPECT_EQ(bp.epochs[0].sum.hits, 400u);
  EXPECT_EQ(bp.epochs[0].sum.busy_us, 12345u);
  EXPECT_EQ(bp.epochs[0].consumers_reported, 1u);
  EXPECT_EQ(bp.epochs[0].miss_lists, 17u);
  EXPECT_EQ(bp.epochs[0].layout, "c[2] t[3,4]");
  ASSERT_EQ(back.entries.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(back.entries[i].group, 9u);
    EXPECT_EQ(back.entries[i].id, 100 + i);
    EXPECT_EQ(back.entries[i].server, i % 2);
    EXPECT_EQ(back.entries[i].offset, i * 448);
    EXPECT_EQ(back.entries[i].bytes, 420u);
  }

  for (const std::int32_t heir : {-1, 0, 4}) {
    Writer rw;
    encode(rw, RoleChange{1, 0, 3, "why", heir});
    Reader rr(rw.view());
    RoleChange change;
    decode(rr, change);
    EXPECT_TRUE(rr.done());
    EXPECT_EQ(change.heir, heir);
    EXPECT_EQ(change.why, "why");
  }

  Writer sw;
  encode(sw, Stored{9, {4, 7}, {64, 1 << 20}});
  Reader sr(sw.view());
  Stored stored;
  decode(sr, stored);
  EXPECT_TRUE(sr.done());
  EXPECT_EQ(stored.ids, (std::vector<std::uint64_t>{4, 7}));
  EXPECT_EQ(stored.offsets, (std::vector<std::uint64_t>{64, 1 << 20}));
}

TEST(Protocol, StatsBundleCarriesEveryWindowOfANode) {
  // A node stats leader's kStatsBundle: the windows of its node in the order they came.
  std::vector<ferry::monitor::RankStats> windows(3);
  for (std::uint32_t i = 0; i < 3; ++i) {
    windows[i].rank = 8 + i;
    windows[i].window_ns = 1000 * (i + 1);
    windows[i].consumer = i > 0;
    windows[i].pipelines.push_back({});
    windows[i].pipelines.back().pipeline = i;
    windows[i].pipelines.back().batches = 20 + i;
  }
  std::vector<std::byte> bundle;
  for (const auto& w : windows) append_window(bundle, ferry::monitor::encode(w));
  EXPECT_EQ(decode_bundle(bundle), windows);
  EXPECT_TRUE(decode_bundle({}).empty());
  bundle.pop_back();  // truncated: an error, never a wild read
  EXPECT_THROW(decode_bundle(bundle), ferry::Error);
}
