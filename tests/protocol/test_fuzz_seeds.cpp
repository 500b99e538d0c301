// The committed fuzz seeds (tests/fuzz/corpus) are whole messages of today's format: a seed that a format
// change left one field short only exercises the "truncated" error path, and replaying it still passes. So
// each named seed (not the regress_* inputs, kept as they crashed) must decode to its end and re-encode to
// the same bytes. After a change to a message, fix the seeds (docs/testing.md, "Fuzzing").
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/wire_kinds.hpp"
#include "roles/protocol.hpp"

namespace {

using namespace ferry::roles;
namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(FERRY_TEST_DATA_DIR) / ".." / "fuzz" / "corpus";

std::vector<std::byte> read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(bytes.size());
  for (std::size_t i = 0; i < bytes.size(); ++i) out[i] = static_cast<std::byte>(bytes[i]);
  return out;
}

template <typename Message>
void expect_whole(std::span<const std::byte> bytes, const std::string& name) {
  Message m;
  Reader r(bytes);
  ASSERT_NO_THROW(decode(r, m)) << name;
  EXPECT_TRUE(r.done()) << name << ": bytes left after the message";
  Writer w;
  encode(w, m);
  EXPECT_TRUE(std::ranges::equal(w.view(), bytes)) << name << ": re-encodes to other bytes";
}

std::vector<fs::path> named_seeds(const std::string& target) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(kCorpus / target))
    if (entry.path().filename().string().rfind("regress", 0) != 0) out.push_back(entry.path());
  return out;
}

}  // namespace

TEST(FuzzSeeds, WireSeedsAreWholeMessages) {
  const auto seeds = named_seeds("wire");
  ASSERT_GE(seeds.size(), 12u);
  std::vector<bool> kinds(ferry::fuzz::kWireKinds, false);
  for (const auto& path : seeds) {
    const auto bytes = read(path);
    ASSERT_FALSE(bytes.empty()) << path;
    const auto mode = static_cast<std::uint8_t>(bytes[0]);
    kinds[mode % ferry::fuzz::kWireKinds] = true;
    const auto rest = std::span(bytes).subspan(1);
    ferry::fuzz::visit_wire_kind(
        mode, [&]<typename Message>(const char*) { expect_whole<Message>(rest, path.filename().string()); });
  }
  for (std::size_t k = 0; k < kinds.size(); ++k) EXPECT_TRUE(kinds[k]) << "no seed for message kind " << k;
}

TEST(FuzzSeeds, HandoverSeedsAreWholeMessages) {
  // fuzz_handover's first byte picks the cache policy and slab holders; the rest is the message.
  const auto seeds = named_seeds("handover");
  ASSERT_GE(seeds.size(), 3u);
  for (const auto& path : seeds) {
    const auto bytes = read(path);
    ASSERT_FALSE(bytes.empty()) << path;
    expect_whole<Handover>(std::span(bytes).subspan(1), path.filename().string());
  }
}
