// LocalLoader delivery: the bytes each consumer gets match the generator's, every sample arrives exactly once
// per epoch across consumers (or padded), variable-length samples arrive whole, and set-ups that cannot work
// are refused with what is wrong.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ferry/error.hpp"
#include "ferry/local_loader.hpp"
#include "local_loader_fixture.hpp"
#include "storage/synthetic.hpp"

using ferry::loader::test::drain;
using ferry::loader::test::image_pipeline;
using ferry::loader::test::kSeed;
using ferry::loader::test::LoaderData;

TEST(LocalLoader, RawBytesMatchTheGenerator) {
  const auto p = image_pipeline();
  const std::size_t pixels = 6 * 5 * 3;
  for (const auto& d : drain(p)) {
    ASSERT_EQ(d.ids.size(), 4u);
    for (std::size_t i = 0; i < d.ids.size(); ++i) {
      for (std::size_t pos = 0; pos < pixels; ++pos)
        ASSERT_EQ(static_cast<std::uint8_t>(d.fields[0][i * pixels + pos]),
                  ferry::synthetic::image_value(kSeed, d.ids[i], pos))
            << "id " << d.ids[i] << " pos " << pos;
      std::int32_t label;
      std::memcpy(&label, d.fields[1].data() + i * 4, 4);
      ASSERT_EQ(label, ferry::synthetic::image_label(kSeed, d.ids[i]));
    }
  }
}

TEST(LocalLoader, ExactlyOncePerEpochAcrossConsumers) {
  auto p = image_pipeline();  // 103 samples, 3 consumers: 34 each, 8 batches of 4 (2 dropped per consumer)
  std::map<std::uint64_t, std::multiset<std::uint64_t>> per_epoch;
  for (std::uint32_t c = 0; c < 3; ++c) {
    auto batches = drain(p, c, 3);
    EXPECT_EQ(batches.size(), 2u * 8u);
    for (const auto& d : batches) per_epoch[d.epoch].insert(d.ids.begin(), d.ids.end());
  }
  ASSERT_EQ(per_epoch.size(), 2u);
  for (const auto& [epoch, ids] : per_epoch) {
    EXPECT_EQ(ids.size(), 3u * 32u);
    EXPECT_EQ(std::set<std::uint64_t>(ids.begin(), ids.end()).size(), ids.size())
        << "duplicate in epoch " << epoch;
    for (auto id : ids) EXPECT_LT(id, 103u);
  }
  EXPECT_NE(per_epoch[0], per_epoch[1]);  // a new order each epoch
}

TEST(LocalLoader, PadModeDeliversEverySample) {
  auto p = image_pipeline();
  p.drop_last = false;
  p.epochs = 1;
  p.batch_size = 5;
  std::multiset<std::uint64_t> ids;
  for (std::uint32_t c = 0; c < 2; ++c) {
    auto batches = drain(p, c, 2);
    ASSERT_EQ(batches.size(), 11u);  // 52 samples per consumer: 10 batches of 5 and one of 2
    EXPECT_EQ(batches.back().ids.size(), 2u);
    for (const auto& d : batches) ids.insert(d.ids.begin(), d.ids.end());
  }
  EXPECT_EQ(ids.size(), 104u);
  EXPECT_EQ(std::set<std::uint64_t>(ids.begin(), ids.end()).size(), 103u);
}

// A job that would deliver nothing is refused with the pipeline's name and why, not drained silently.
TEST(LocalLoader, RefusesAJobThatWouldDeliverNothing) {
  auto p = image_pipeline();
  p.batch_size = 52;  // 103 samples over 2 consumers, drop_last: shares of 51
  const auto message = [](const ferry::PipelineConfig& config) {
    try {
      ferry::LocalLoader loader(config, 0, 2);
    } catch (const ferry::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(
      message(p),
      "pipeline 'img': batch_size = 52 is larger than each consumer's share of 51 sample(s) (103 over 2 "
      "consumer(s), drop_last = true): no consumer would get a batch");
  p.drop_last = false;  // padded shares of 52 keep one batch
  EXPECT_EQ(message(p), "no error");
  p = image_pipeline();
  p.start_epoch = 2;  // a state saved after the last batch of both epochs
  EXPECT_EQ(message(p),
            "pipeline 'img': the resume position (start_epoch = 2, start_batch = 0) is the end of its 2 "
            "epoch(s): nothing is left to deliver");
}

TEST(LocalLoader, VariableLengthSamples) {
  ferry::PipelineConfig p;
  p.batch_size = 6;
  p.dataset.layout = ferry::Layout::vlen;
  p.dataset.files = {LoaderData::dir + "/vlen.h5"};
  p.dataset.fields = {{"bytes", "/bytes"}, {"label", "/labels"}};
  ferry::LocalLoader loader(p);
  std::size_t seen = 0;
  while (const ferry::Batch* b = loader.next_batch()) {
    const auto& f = b->field("bytes");
    ASSERT_TRUE(f.variable());
    for (std::size_t i = 0; i < b->size(); ++i, ++seen) {
      auto s = f.sample(i);
      ASSERT_EQ(s.size(), ferry::synthetic::vlen_length(kSeed, b->ids[i]));
      for (std::size_t pos = 0; pos < s.size(); ++pos)
        ASSERT_EQ(static_cast<std::uint8_t>(s[pos]), ferry::synthetic::vlen_byte(kSeed, b->ids[i], pos));
    }
  }
  EXPECT_EQ(seen, 36u);
}

TEST(LocalLoader, BadSetupsAreNamed) {
  auto p = image_pipeline();
  EXPECT_THROW(ferry::LocalLoader(p, 3, 3), ferry::ConfigError);
  p.prepare = {{"image", ferry::parse_op_chain("log1p", "test")}};
  try {
    ferry::LocalLoader loader(p);
    FAIL() << "log1p on u8 accepted";
  } catch (const ferry::TransformError& e) {
    EXPECT_NE(std::string(e.what()).find("image"), std::string::npos) << e.what();
  }
  ferry::PipelineConfig v;
  v.dataset.layout = ferry::Layout::vlen;
  v.dataset.files = {LoaderData::dir + "/vlen.h5"};
  v.dataset.fields = {{"bytes", "/bytes"}};
  v.prepare = {{"bytes", ferry::parse_op_chain("cast", "test")}};
  try {
    ferry::LocalLoader loader(v);
    FAIL() << "transform on a vlen field accepted";
  } catch (const ferry::TransformError& e) {
    EXPECT_NE(std::string(e.what()).find("'bytes'"), std::string::npos) << e.what();
  }
}
