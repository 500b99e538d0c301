// Config files: every key parsed, the printed config reads back to the same, the key/value pairs ranks
// compare at set-up, a consumer group set in code checked, and a missing file named.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/key_values.hpp"
#include "config_fixture.hpp"
#include "ferry/config.hpp"
#include "ferry/error.hpp"

using ferry::config::testing::config_error;
using ferry::config::testing::kGood;
using ferry::config::testing::pipeline_with;

TEST(Config, ParsesEveryKey) {
  const ferry::Config c = ferry::parse_config(kGood, "good.toml");
  EXPECT_EQ(c.log_level, "warn");
  ASSERT_EQ(c.pipelines.size(), 2u);
  const auto& p = c.pipelines[0];
  EXPECT_EQ(p.name, "fmnist");
  EXPECT_EQ(p.cache_id, 2);
  EXPECT_EQ(p.seed, 42u);
  EXPECT_EQ(p.epochs, 3);
  EXPECT_EQ(p.batch_size, 64u);
  EXPECT_FALSE(p.drop_last);
  EXPECT_EQ(p.bad_samples, ferry::BadSamples::skip);
  EXPECT_EQ(c.pipelines[1].bad_samples, ferry::BadSamples::fail);  // default
  EXPECT_EQ(p.consumers, (std::vector<int>{1, 0}));
  EXPECT_TRUE(c.pipelines[1].consumers.empty());  // default: every consumer
  EXPECT_EQ(p.dataset.layout, ferry::Layout::stacked);
  ASSERT_EQ(p.dataset.files.size(), 2u);
  EXPECT_EQ(p.dataset.files[1], "b.h5");
  ASSERT_EQ(p.dataset.fields.size(), 2u);
  EXPECT_EQ(p.dataset.fields[0].name, "image");
  EXPECT_EQ(p.dataset.fields[0].path, "/images");
  EXPECT_EQ(p.dataset.chunk_cache_bytes, 1048576u);
  ASSERT_EQ(p.prepare.size(), 1u);
  ASSERT_EQ(p.prepare[0].ops.size(), 2u);
  EXPECT_EQ(p.prepare[0].ops[1].name, "normalize");
  ASSERT_EQ(p.augment.size(), 1u);
  EXPECT_EQ(p.augment[0].ops[0].name, "random_flip");
  EXPECT_EQ(c.pipelines[1].dataset.layout, ferry::Layout::file_per_sample);
  EXPECT_EQ(c.pipelines[1].dataset.files.at(0), "cosmo_dir");
  EXPECT_EQ(c.pipelines[1].batch_size, 32u);  // default
  EXPECT_EQ(c.monitor.window_ms, 250);
  EXPECT_EQ(c.monitor.window_batches, 20);  // default
  EXPECT_EQ(c.monitor.policy, "static");
  EXPECT_DOUBLE_EQ(c.monitor.static_share, 0.375);
  EXPECT_DOUBLE_EQ(c.monitor.low_water, 0.1);
  EXPECT_TRUE(c.monitor.rebalance);
  EXPECT_DOUBLE_EQ(c.monitor.role_min_hits, 0.05);
}

TEST(Config, PrintedConfigParsesBackToTheSame) {
  const ferry::Config c = ferry::parse_config(kGood, "good.toml");
  const std::string printed = ferry::to_toml(c);
  const ferry::Config again = ferry::parse_config(printed, "printed.toml");
  EXPECT_EQ(ferry::to_toml(again), printed);
  EXPECT_EQ(again.pipelines[0].prepare[0].ops[1].text(), c.pipelines[0].prepare[0].ops[1].text());
  EXPECT_DOUBLE_EQ(again.monitor.static_share, 0.375);
  EXPECT_DOUBLE_EQ(again.monitor.high_water, 0.9);
  EXPECT_TRUE(again.monitor.rebalance);
  EXPECT_EQ(again.pipelines[0].consumers, (std::vector<int>{1, 0}));
  EXPECT_TRUE(again.pipelines[1].consumers.empty());
  EXPECT_NE(printed.find("consumers = [1, 0]\n"), std::string::npos) << printed;
  EXPECT_EQ(again.pipelines[0].bad_samples, ferry::BadSamples::skip);
}

// What the ranks of a job compare at set-up: every key by a name a message can show, log_level left out.
TEST(Config, KeyValuesNameEveryKeyButTheLogLevel) {
  ferry::Config c = ferry::parse_config(kGood, "good.toml");
  const auto pairs = ferry::config::key_values(c);
  const auto value_of = [&](const std::string& key) {
    for (const auto& [k, v] : pairs)
      if (k == key) return v;
    return std::string("(none)");
  };
  EXPECT_EQ(value_of("pipelines"), "2");
  EXPECT_EQ(value_of("runtime.transport"), "\"" + c.runtime.transport + "\"");
  EXPECT_EQ(value_of("pipeline[1].batch_size"), "32");
  EXPECT_EQ(value_of("pipeline[0].start_dataset"), "\"\"");
  EXPECT_EQ(value_of("log_level"), "(none)");
  c.log_level = c.log_level == "debug" ? "warn" : "debug";
  EXPECT_EQ(ferry::config::key_values(c), pairs);
  c.pipelines[1].epochs += 1;
  EXPECT_NE(ferry::config::key_values(c), pairs);
}

TEST(Config, ConsumerGroupSetInCodeIsChecked) {
  ferry::Config c = ferry::parse_config(pipeline_with(""), "good.toml");
  c.pipelines[0].consumers = {0, -1};
  EXPECT_NE(config_error([&] { ferry::validate(c); }).find("consumers: -1 is not a consumer index"),
            std::string::npos);
  c.pipelines[0].consumers = {1, 1};
  EXPECT_NE(config_error([&] { ferry::validate(c); }).find("consumers lists a consumer twice"),
            std::string::npos);
}

TEST(Config, MissingFileIsNamed) {
  const std::string msg = config_error([] { ferry::load_config("/nonexistent/ferry.toml"); });
  EXPECT_NE(msg.find("/nonexistent/ferry.toml"), std::string::npos) << msg;
}
