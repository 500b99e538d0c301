// Synthetic value functions and the ferry-gen / ferry-import command lines.
#include <sys/wait.h>

#include <cstdlib>

#include "storage/synthetic.hpp"
#include "storage_test_util.hpp"

namespace ferry {
namespace {

using testing::TempDir;

TEST(Synthetic, ValuesArePureAndSeeded) {
  static_assert(synthetic::image_value(1, 2, 3) == synthetic::image_value(1, 2, 3));
  EXPECT_NE(synthetic::sample_bits(0, 1, 2, 3), synthetic::sample_bits(0, 2, 2, 3));
  int differ = 0;
  for (std::uint64_t pos = 0; pos < 64; ++pos)
    differ += synthetic::image_value(1, 5, pos) != synthetic::image_value(2, 5, pos);
  EXPECT_GT(differ, 50);
}

TEST(Synthetic, ValueRanges) {
  int histogram[3] = {};
  double cosmo_sum = 0;
  for (std::uint64_t pos = 0; pos < 20000; ++pos) {
    const std::int16_t c = synthetic::cosmo_value(3, 1, pos);
    ASSERT_GE(c, 0);
    ASSERT_LE(c, 200);
    cosmo_sum += c;
    const std::int32_t l = synthetic::deepcam_label(3, 1, pos);
    ASSERT_TRUE(l >= 0 && l <= 2);
    ++histogram[l];
    const float d = synthetic::deepcam_value(3, 1, pos);
    ASSERT_LE(std::abs(d), static_cast<float>(pos % 16 + 1));
  }
  EXPECT_LT(cosmo_sum / 20000, 80.0);  // skewed toward small counts
  EXPECT_GT(histogram[0], histogram[1]);
  EXPECT_GT(histogram[1], histogram[2]);
  EXPECT_GT(histogram[2], 0);
  for (std::uint64_t id = 0; id < 100; ++id) {
    ASSERT_LT(synthetic::image_label(0, id), 10);
    ASSERT_GE(synthetic::cosmo_param(0, id, 2), -1.0f);
    ASSERT_LT(synthetic::cosmo_param(0, id, 2), 1.0f);
  }
}

TEST(Synthetic, NamesAndKinds) {
  EXPECT_EQ(synthetic::sample_file_name(42, 100), "sample_000042.h5");
  EXPECT_EQ(synthetic::sample_file_name(5, 12345678), "sample_00000005.h5");
  synthetic::Kind k{};
  EXPECT_TRUE(synthetic::parse_kind("deepcam", k));
  EXPECT_EQ(k, synthetic::Kind::deepcam);
  EXPECT_FALSE(synthetic::parse_kind("imagenet", k));
}

TEST(Synthetic, BadOptionsAreConfigErrors) {
  TempDir dir;
  synthetic::GenOptions o;
  o.out = dir.file("x.h5");
  o.samples = 0;
  EXPECT_THROW(synthetic::generate(o), ConfigError);
  o.samples = 1;
  o.deflate = 12;
  EXPECT_THROW(synthetic::generate(o), ConfigError);
}

// Runs a shell command, returning its exit status (-1 if it did not exit normally).
int run(const std::string& command) {
  const int status = std::system((command + " >/dev/null 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string tool(const char* name) {
  return std::string(FERRY_BINARY_DIR) + "/src/apps/" + name;
}

TEST(Cli, FerryGenExitCodes) {
  const std::string gen = tool("ferry-gen");
  if (!std::filesystem::exists(gen)) GTEST_SKIP() << "ferry-gen not built";
  TempDir dir;
  EXPECT_EQ(run(gen + " image --out " + dir.file("a.h5") + " --samples 7 --seed 3 --height 5 --width 5"), 0);
  auto ds = Dataset::open(testing::stacked_spec({dir.file("a.h5")}, {{"image", "/images"}}));
  EXPECT_EQ(ds->size(), 7u);
  EXPECT_EQ(static_cast<std::uint8_t>(testing::read_field(*ds, 0, {6})[10]),
            synthetic::image_value(3, 6, 10));
  EXPECT_EQ(run(gen + " cosmoflow --out " + dir.file("c") + " --samples 2 --cosmo-width 4 --deflate 2"), 0);
  EXPECT_TRUE(std::filesystem::exists(dir.file("c/sample_000001.h5")));
  EXPECT_EQ(run(gen + " --help"), 0);
  EXPECT_EQ(run(gen + " image"), 2);                                     // --out missing
  EXPECT_EQ(run(gen + " pictures --out " + dir.file("p.h5")), 2);        // unknown kind
  EXPECT_EQ(run(gen + " cosmoflow --out x --full --cosmo-width 8"), 2);  // exclusive options
  EXPECT_EQ(run(gen + " image --out " + dir.file("no/such/dir/a.h5")), 1);
}

TEST(Cli, FerryImportExitCodes) {
  const std::string imp = tool("ferry-import");
  if (!std::filesystem::exists(imp)) GTEST_SKIP() << "ferry-import not built";
  TempDir dir;
  EXPECT_EQ(run(imp + " idx --images " + dir.file("none") + " --labels " + dir.file("none") + " --out " +
                dir.file("o.h5")),
            1);
  EXPECT_EQ(run(imp + " idx --images x"), 2);
  EXPECT_EQ(run(imp), 2);
}

}  // namespace
}  // namespace ferry
