// Stats windows: encode/decode round trips and refusals, merging ranks into pipeline summaries, the history
// ring's bounds, the data path's recorder and the window clock.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ferry/error.hpp"
#include "helpers.hpp"
#include "monitor/codec.hpp"
#include "monitor/history.hpp"
#include "monitor/recorder.hpp"
#include "monitor/window.hpp"

namespace ferry::monitor {
namespace {

using testing::make_window;

Window sample_window() {
  Window w = make_window(41, {{0, 0.1, 0.0}, {3, 0.75, 0.5}}, 0.625);
  w.ranks[0].pipelines[0].cache_hits = std::numeric_limits<std::uint64_t>::max();  // 10-byte varint
  w.ranks[0].pipelines[0].cache_lookups = 1ull << 63;
  w.ranks[1].cpu_queue_mean = -0.0;
  w.ranks[2].accelerator_own = std::numeric_limits<double>::denorm_min();
  w.ranks[2].cpu_queue_max = std::numeric_limits<std::uint32_t>::max();
  w.ranks[2].pipelines[1].ops[0].name = "normalize(mean=[0.485, 0.456], std=[0.229, 0.224]) ü";
  w.ranks[0].slab_hits = {3, 0, std::numeric_limits<std::uint64_t>::max()};  // a randomizer's hits per slab
  w.ranks[0].cache_full = 12345;  // a randomizer's declines and evictions
  w.ranks[0].describing_epoch = 7;
  w.ranks[0].randomizer_done = true;
  w.ranks[0].randomizer = true;
  // A consumer with an accelerator that runs the augment stage.
  w.ranks[1].consumer = true;
  w.ranks[1].has_accelerator = true;
  w.ranks[1].accelerator_util = 0.5;
  w.ranks[1].pipelines[0].ops = {
      OpStats{0, "augment image=random_flip(p=0.5)", true, 3, 7, 11, 13, Stage::augment},
      // ... and whose augment head ran on it for 5 batches and on the transformation ranks for 2.
      OpStats{0, "head image=decode_jpeg | resize(shorter=256)", true, 5, 2, 17, 0, Stage::head}};
  return w;
}

TEST(WindowCodec, WindowRoundTrips) {
  const Window w = sample_window();
  const auto bytes = encode(w);
  const Window back = decode_window(bytes);
  EXPECT_EQ(back, w);
  EXPECT_TRUE(std::signbit(back.ranks[1].cpu_queue_mean));  // doubles travel bit for bit
}

TEST(WindowCodec, RankStatsRoundTrip) {
  const Window w = sample_window();
  for (const auto& rank : w.ranks) EXPECT_EQ(decode_rank_stats(encode(rank)), rank);
  EXPECT_EQ(decode_rank_stats(encode(RankStats{})), RankStats{});
}

TEST(WindowCodec, EveryTruncationIsRefused) {
  const auto bytes = encode(sample_window());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_THROW(decode_window(std::span(bytes.data(), n)), Error) << "prefix of " << n << " bytes";
  }
}

TEST(WindowCodec, OtherKindsAndLeftoversAreRefused) {
  const auto rank = encode(RankStats{});
  EXPECT_THROW(decode_window(rank), Error);  // a rank report is not a window
  auto window = encode(Window{});
  window.push_back(std::byte{0});
  try {
    decode_window(window);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad monitor window message"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("trailing"), std::string::npos) << e.what();
  }
}

TEST(WindowCodec, CorruptCountDoesNotAllocate) {
  Writer w;
  w.u64(0x5702);                  // window tag
  w.u64(0);                       // index
  w.u64(std::uint64_t{1} << 60);  // ranks: far more than the bytes could hold
  EXPECT_THROW(decode_window(w.bytes()), Error);
}

TEST(WindowSummary, MergesConsumersAndTransformers) {
  Window w = make_window(0, {{0, 0.2, 0.05}}, 0.3);
  w.ranks[1].pipelines[0].queue_samples = 30;  // rank 1 sampled 3x as often: weighs 3x in the mean
  w.ranks[1].pipelines[0].queue_mean = 0.6;
  w.ranks[1].pipelines[0].queue_min = 0.5;
  RankStats second = w.ranks[2];  // a second transformer without a device kernel for cast
  second.rank = 3;
  second.pipelines[0].ops[0].accelerator_capable = false;
  second.has_accelerator = true;
  second.accelerator_util = 0.9;
  second.accelerator_own = 0.1;
  w.ranks.push_back(second);

  const auto pipes = summarize_pipelines(w);
  ASSERT_EQ(pipes.size(), 1u);
  EXPECT_DOUBLE_EQ(pipes[0].queue_mean, (0.2 * 10 + 0.6 * 30) / 40);
  EXPECT_DOUBLE_EQ(pipes[0].queue_min, 0.05);
  EXPECT_EQ(pipes[0].queue_samples, 40u);
  EXPECT_EQ(pipes[0].batches, 20u);  // delivered by the two consumers
  ASSERT_EQ(pipes[0].ops.size(), 2u);
  EXPECT_EQ(pipes[0].ops[0].cpu_batches, 40u);
  EXPECT_FALSE(pipes[0].ops[0].accelerator_capable);  // not every transformer can

  const auto accel = summarize_accelerators(w);
  EXPECT_EQ(accel.count, 2u);
  EXPECT_DOUBLE_EQ(accel.util_max, 0.9);
  EXPECT_DOUBLE_EQ(accel.own_max, 0.1);
  EXPECT_DOUBLE_EQ(accel.util_mean, 0.6);
  EXPECT_DOUBLE_EQ(w.ranks[2].busy_fraction(), 0.75);
}

TEST(History, KeepsOnlyTheNewestWindows) {
  History h(3);
  EXPECT_TRUE(h.empty());
  EXPECT_THROW(h.latest(), InternalError);
  for (std::uint64_t i = 0; i < 5; ++i) {
    Window w;
    w.index = i;
    h.push(std::move(w));
    EXPECT_EQ(h.size(), std::min<std::size_t>(i + 1, 3));
    EXPECT_EQ(h.latest().index, i);
  }
  EXPECT_EQ(h.capacity(), 3u);
  EXPECT_EQ(h.at(0).index, 2u);
  EXPECT_EQ(h.at(2).index, 4u);
  EXPECT_EQ(h.back(1).index, 3u);
  EXPECT_THROW(h.at(3), InternalError);
  EXPECT_THROW(h.back(3), InternalError);
  h.clear();
  EXPECT_EQ(h.size(), 0u);
  EXPECT_THROW(History(0), ConfigError);
}

TEST(WindowSummary, EachStageSeesItsOwnOpsAndAccelerators) {
  const Window w = sample_window();
  // Prepare: the transformer's two ops and its accelerator (0.625); the consumer's device is not counted.
  const auto prepare = summarize_pipelines(w, Stage::prepare);
  ASSERT_EQ(prepare[0].ops.size(), 2u);
  const AcceleratorSummary service = summarize_accelerators(w, Stage::prepare);
  EXPECT_EQ(service.count, 1u);
  EXPECT_DOUBLE_EQ(service.util_max, 0.625);
  // Augment: the consumer's op and its own accelerator only.
  const auto augment = summarize_pipelines(w, Stage::augment);
  ASSERT_EQ(augment[0].ops.size(), 1u);
  EXPECT_EQ(augment[0].ops[0].stage, Stage::augment);
  EXPECT_EQ(augment[0].ops[0].accelerator_batches, 7u);
  EXPECT_TRUE(augment[1].ops.empty());
  EXPECT_EQ(augment[0].queue_samples, prepare[0].queue_samples);  // the consumers' figures are the same
  const AcceleratorSummary consumers = summarize_accelerators(w, Stage::augment);
  EXPECT_EQ(consumers.count, 1u);
  EXPECT_DOUBLE_EQ(consumers.util_max, 0.5);
}

TEST(Recorder, DrainsOneWindowAndResets) {
  Recorder r(5, 2, {{{"cast", true}, {"hwc_to_chw", false}}, {}}, 1000);
  r.queue(0, 1, 4);
  r.queue(0, 3, 4);
  r.queue(0, 9, 4);  // more than depth counts as full
  r.waited(0, 700);
  r.batch(0);
  r.cache(0, 3, 4);
  r.hdf5(0, 4096);
  r.moved(1, 10);
  r.op(0, 0, Target::accelerator, 50);
  r.op(0, 1, Target::cpu, 60);
  r.op(0, 7, Target::cpu, 60);  // unknown op: ignored
  r.op(9, 0, Target::cpu, 60);  // unknown pipeline: ignored
  r.busy(500);
  r.cpu_queue(2);
  r.cpu_queue(6);
  r.accelerator(0.4, 0.1, UtilSource::events);

  const RankStats s = r.take(3000);
  EXPECT_EQ(s.rank, 5u);
  EXPECT_EQ(s.window_ns, 2000u);
  EXPECT_DOUBLE_EQ(s.busy_fraction(), 500.0 / (2000.0 * 2));
  EXPECT_DOUBLE_EQ(s.cpu_queue_mean, 4.0);
  EXPECT_EQ(s.cpu_queue_max, 6u);
  EXPECT_TRUE(s.has_accelerator);
  EXPECT_DOUBLE_EQ(s.accelerator_util, 0.4);
  ASSERT_EQ(s.pipelines.size(), 2u);
  const auto& p = s.pipelines[0];
  EXPECT_EQ(p.queue_samples, 3u);
  EXPECT_NEAR(p.queue_mean, (0.25 + 0.75 + 1.0) / 3, 1e-6);
  EXPECT_NEAR(p.queue_min, 0.25, 1e-6);
  EXPECT_EQ(p.wait_ns, 700u);
  EXPECT_EQ(p.cache_hits, 3u);
  EXPECT_EQ(p.hdf5_bytes, 4096u);
  EXPECT_EQ(s.pipelines[1].bytes_moved, 10u);
  ASSERT_EQ(p.ops.size(), 2u);
  EXPECT_EQ(p.ops[0].accelerator_batches, 1u);
  EXPECT_EQ(p.ops[0].accelerator_ns, 50u);
  EXPECT_TRUE(p.ops[0].accelerator_capable);
  EXPECT_EQ(p.ops[1].cpu_ns, 60u);

  const RankStats next = r.take(4000);  // counters start again from zero
  EXPECT_EQ(next.window_ns, 1000u);
  EXPECT_EQ(next.pipelines[0].queue_samples, 0u);
  EXPECT_EQ(next.pipelines[0].ops[0].accelerator_batches, 0u);
  EXPECT_EQ(next.busy_ns, 0u);
}

TEST(WindowClock, ClosesAfterBatchesOrTime) {
  WindowClock by_batches({.batches = 3, .ms = 0}, 0);
  by_batches.batch();
  by_batches.batch();
  EXPECT_FALSE(by_batches.due(1'000'000'000'000));
  by_batches.batch();
  EXPECT_TRUE(by_batches.due(0));
  by_batches.restart(10);
  EXPECT_FALSE(by_batches.due(10));

  WindowClock by_time({.batches = 20, .ms = 5}, 1'000);
  EXPECT_FALSE(by_time.due(1'000 + 4'999'999));
  EXPECT_TRUE(by_time.due(1'000 + 5'000'000));
  EXPECT_THROW((WindowConfig{.batches = 0, .ms = 0}.validate()), ConfigError);
}

}  // namespace
}  // namespace ferry::monitor
