// Bad config files, table-driven: each case is a config text whose ConfigError must be one line naming the
// culprit (the key, the value, or the file and line of a syntax error).
#include <gtest/gtest.h>

#include <string>

#include "config_fixture.hpp"
#include "ferry/config.hpp"
#include "ferry/error.hpp"

using ferry::config::testing::config_error;
using ferry::config::testing::pipeline_with;

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
