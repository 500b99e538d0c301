// Command-line flags: they override a config file's keys for every pipeline or describe one pipeline alone,
// and a bad value names its flag.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "config/cli.hpp"
#include "config_fixture.hpp"
#include "ferry/config.hpp"
#include "ferry/error.hpp"

using ferry::config::testing::config_error;
using ferry::config::testing::kGood;

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
