#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "config/cli.hpp"
#include "config/key_values.hpp"
#include "ferry/config.hpp"
#include "ferry/error.hpp"

namespace {

const char* kGood = R"TOML(
log_level = "warn"

[monitor]
window_ms = 250
policy = "static"
static_share = 0.375
low_water = 0.1
rebalance = true
role_min_hits = 0.05

[[pipeline]]
name = "fmnist"
cache_id = 2
seed = 42
epochs = 3
batch_size = 64
drop_last = false
shuffle = true
bad_samples = "skip"
consumers = [1, 0]

[pipeline.dataset]
layout = "stacked"
files = ["a.h5", "b.h5"]
fields = { image = "/images", label = "/labels" }
chunk_cache_bytes = 1048576

[pipeline.prepare]
image = "cast(scale=0.00392) | normalize(mean=[0.286], std=[0.353])"

[pipeline.augment]
image = [ { op = "random_flip", p = 0.5 } ]

[[pipeline]]
name = "cosmo"
[pipeline.dataset]
layout = "file_per_sample"
files = "cosmo_dir"
fields = { full = "full" }
)TOML";

// Runs `fn`, expects a ConfigError, and returns its message.
template <typename Fn>
std::string config_error(Fn fn) {
  try {
    fn();
  } catch (const ferry::ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError thrown";
  return {};
}

std::string pipeline_with(const std::string& extra, const std::string& dataset_extra = "") {
  return "[[pipeline]]\n" + extra +
         "\n[pipeline.dataset]\nfiles = [\"x.h5\"]\nfields = { image = \"/images\" }\n" + dataset_extra;
}

}  // namespace

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

struct BadCase {
  const char* name;
  std::string text;
  std::string expect;  // substring the message must contain
};

class BadConfig : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadConfig, MessageNamesTheCulprit) {
  const BadCase& bc = GetParam();
  const std::string msg = config_error([&] { ferry::parse_config(bc.text, "bad.toml"); });
  EXPECT_NE(msg.find(bc.expect), std::string::npos) << "message: " << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "message is not one line: " << msg;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadConfig,
    ::testing::Values(
        BadCase{"syntax", "[[pipeline]\nname = 1", "bad.toml:1"},
        BadCase{"unknown_top", "batch_sise = 3\n" + pipeline_with(""), "unknown key 'batch_sise'"},
        BadCase{"unknown_pipeline", pipeline_with("epocs = 2"), "pipeline[0].epocs"},
        BadCase{"zero_batch", pipeline_with("batch_size = 0"), "batch_size = 0 is out of range"},
        BadCase{"negative_epochs", pipeline_with("epochs = -1"), "epochs = -1 is out of range"},
        BadCase{"batch_not_int", pipeline_with("batch_size = \"big\""), "batch_size must be an integer"},
        BadCase{"bool", pipeline_with("drop_last = 3"), "drop_last must be true or false"},
        BadCase{"layout", pipeline_with("", "layout = \"zarr\""), "dataset.layout = 'zarr'"},
        BadCase{"bad_samples", pipeline_with("bad_samples = \"ignore\""),
                "bad_samples = 'ignore' is not one of fail, skip"},
        BadCase{"log_level", "log_level = \"loud\"\n" + pipeline_with(""), "log_level = 'loud'"},
        BadCase{"no_pipeline", "log_level = \"info\"", "no pipeline"},
        BadCase{"no_files", "[[pipeline]]\n[pipeline.dataset]\nfields = { a = \"/a\" }",
                "dataset.files is empty"},
        BadCase{"no_fields", "[[pipeline]]\n[pipeline.dataset]\nfiles = \"a.h5\"", "dataset.fields is empty"},
        BadCase{"chain_field", pipeline_with("[pipeline.prepare]\nlabel = \"cast\""),
                "prepare.label names no field"},
        BadCase{"chain_syntax", pipeline_with("[pipeline.prepare]\nimage = \"cast(scale=\""),
                "prepare.image"},
        BadCase{"duplicate_name", pipeline_with("name = \"a\"") + pipeline_with("name = \"a\""),
                "pipeline 'a': name is used by two pipelines"},
        BadCase{"monitor_unknown", "[monitor]\nwindow = 3\n" + pipeline_with(""),
                "unknown key 'monitor.window'"},
        BadCase{"monitor_fraction", "[monitor]\nlow_water = 1.5\n" + pipeline_with(""),
                "monitor.low_water = 1.5 is out of range"},
        BadCase{"monitor_not_number", "[monitor]\nstep = \"big\"\n" + pipeline_with(""),
                "monitor.step must be a number"},
        BadCase{"monitor_dead_band", "[monitor]\nlow_water = 0.95\n" + pipeline_with(""),
                "monitor.low_water (0.95) must be below monitor.high_water"},
        BadCase{"monitor_roles", "[monitor]\nrole_idle = 0.8\n" + pipeline_with(""),
                "monitor.role_idle (0.8) must be below monitor.role_busy"},
        BadCase{"monitor_policy", "[monitor]\npolicy = \"greedy\"\n" + pipeline_with(""),
                "monitor.policy = 'greedy' is not one of"},
        BadCase{"monitor_windows", "[monitor]\nwindow_ms = 0\nwindow_batches = 0\n" + pipeline_with(""),
                "monitor.window_batches and monitor.window_ms are both 0"},
        BadCase{"role_policy", "[monitor]\nrole_policy = \"random\"\n" + pipeline_with(""),
                "monitor.role_policy = 'random' is not one of"},
        BadCase{"scripted_off",
                "[monitor]\nrole_policy = \"scripted\"\nrole_script = \"epoch 1: rank 3 -> "
                "transformer\"\n" +
                    pipeline_with(""),
                "monitor.role_policy = \"scripted\" needs monitor.rebalance = true"},
        BadCase{"scripted_empty",
                "[monitor]\nrebalance = true\nrole_policy = \"scripted\"\n" + pipeline_with(""),
                "needs monitor.role_script"},
        BadCase{"script_unused",
                "[monitor]\nrole_script = \"epoch 1: rank 3 -> transformer\"\n" + pipeline_with(""),
                "monitor.role_script is set but monitor.role_policy is \"adaptive\""},
        BadCase{"script_words",
                "[monitor]\nrebalance = true\nrole_policy = \"scripted\"\nrole_script = "
                "\"epoch 1: rank 3 to transformer\"\n" +
                    pipeline_with(""),
                "monitor.role_script: step 'epoch 1: rank 3 to transformer'"},
        BadCase{"consumers_negative", pipeline_with("consumers = [0, -1]"),
                "pipeline[0].consumers: -1 is not a consumer index"},
        BadCase{"consumers_twice", pipeline_with("consumers = [2, 0, 2]"),
                "pipeline[0].consumers: lists consumer 2 twice"},
        BadCase{"consumers_type", pipeline_with("consumers = 3"),
                "consumers must be a list of consumer indices"},
        BadCase{"consumers_items", pipeline_with("consumers = [\"0\"]"),
                "consumers must be a list of consumer indices"},
        BadCase{"files_type", "[[pipeline]]\n[pipeline.dataset]\nfiles = 3\nfields = { a = \"/a\" }",
                "dataset.files must be a string or a list"},
        BadCase{"randomizers_per_cache_id", "[runtime]\nrandomizers = 2\n" + pipeline_with(""),
                "runtime.randomizers = 2 but the pipelines use 1 cache_id(s) in 1 directory shard(s) each"},
        BadCase{"shards_without_randomizers", "[runtime]\ndirectory_shards = 2\n" + pipeline_with(""),
                "runtime.directory_shards = 2 needs as many randomizers, but runtime.randomizers = 1"},
        BadCase{"shards_retire",
                "[runtime]\nrandomizers = 2\ndirectory_shards = 2\n[monitor]\nrebalance = true\n"
                "role_policy = \"scripted\"\nrole_script = \"epoch 1: retire randomizer 1\"\n" +
                    pipeline_with(""),
                "monitor.role_script retires a randomizer, but runtime.directory_shards = 2"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ConfigCli, FlagsOverrideTheFileForEveryPipeline) {
  const std::string path = ::testing::TempDir() + "/ferry_cli.toml";
  { std::ofstream(path) << kGood; }
  CLI::App app;
  ferry::config::CommandLine cl;
  ferry::config::add_options(app, cl);
  std::vector<std::string> args = {"--batch_size", "7", "--seed", "9", "--log_level", "debug"};
  args.insert(args.begin(), {"--config", path});
  std::vector<const char*> argv = {"prog"};
  for (auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  const ferry::Config c = ferry::config::resolve(cl);
  EXPECT_EQ(c.log_level, "debug");
  for (const auto& p : c.pipelines) {
    EXPECT_EQ(p.batch_size, 7u);
    EXPECT_EQ(p.seed, 9u);
  }
  EXPECT_EQ(c.pipelines[0].epochs, 3);  // untouched keys keep the file's values
  std::remove(path.c_str());
}

TEST(ConfigCli, FlagsAloneDescribeOnePipeline) {
  CLI::App app;
  ferry::config::CommandLine cl;
  ferry::config::add_options(app, cl);
  const char* argv[] = {"prog",
                        "--dataset.files",
                        "a.h5,b.h5",
                        "--dataset.fields",
                        "image=/images,label=/labels",
                        "--prepare",
                        "image=cast(scale=0.5) | log1p",
                        "--epochs",
                        "2"};
  app.parse(9, argv);
  const ferry::Config c = ferry::config::resolve(cl);
  ASSERT_EQ(c.pipelines.size(), 1u);
  EXPECT_EQ(c.pipelines[0].dataset.files.size(), 2u);
  EXPECT_EQ(c.pipelines[0].dataset.fields[1].path, "/labels");
  ASSERT_EQ(c.pipelines[0].prepare.at(0).ops.size(), 2u);
  EXPECT_EQ(c.pipelines[0].prepare[0].ops[1].name, "log1p");
  EXPECT_EQ(c.pipelines[0].epochs, 2);
}

TEST(ConfigCli, BadFlagValueNamesTheFlag) {
  CLI::App app;
  ferry::config::CommandLine cl;
  ferry::config::add_options(app, cl);
  const char* argv[] = {"prog",          "--dataset.files", "a.h5", "--dataset.fields",
                        "image=/images", "--batch_size",    "lots"};
  app.parse(7, argv);
  const std::string msg = config_error([&] { ferry::config::resolve(cl); });
  EXPECT_NE(msg.find("--batch_size"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'lots' is not an integer"), std::string::npos) << msg;
}

TEST(ConfigCli, ConsumersFlagIsACommaList) {
  CLI::App app;
  ferry::config::CommandLine cl;
  ferry::config::add_options(app, cl);
  const char* argv[] = {"prog",          "--dataset.files", "a.h5", "--dataset.fields",
                        "image=/images", "--consumers",     "2, 0"};
  app.parse(7, argv);
  const ferry::Config c = ferry::config::resolve(cl);
  ASSERT_EQ(c.pipelines.size(), 1u);
  EXPECT_EQ(c.pipelines[0].consumers, (std::vector<int>{2, 0}));
  // Printed and read back, the group is the same.
  EXPECT_EQ(ferry::parse_config(ferry::to_toml(c), "printed.toml").pipelines[0].consumers,
            (std::vector<int>{2, 0}));
}

TEST(ConfigCli, BadConsumersFlagNamesTheFlag) {
  for (const char* value : {"0,x", "1,-2", "3,3"}) {
    CLI::App app;
    ferry::config::CommandLine cl;
    ferry::config::add_options(app, cl);
    const char* argv[] = {"prog",          "--dataset.files", "a.h5", "--dataset.fields",
                          "image=/images", "--consumers",     value};
    app.parse(7, argv);
    const std::string msg = config_error([&] { ferry::config::resolve(cl); });
    EXPECT_EQ(msg.rfind("--consumers: ", 0), 0u) << value << ": " << msg;
  }
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
