// Fingerprints: stable while the data is unchanged, different when a file, a field or the layout changes.
#include <fcntl.h>
#include <sys/stat.h>

#include "storage/synthetic.hpp"
#include "storage_test_util.hpp"

namespace ferry {
namespace {

using testing::TempDir;

synthetic::GenResult make(const std::string& out, synthetic::Kind kind, std::uint64_t n) {
  synthetic::GenOptions o;
  o.kind = kind;
  o.out = out;
  o.samples = n;
  o.height = 4;
  o.width = 4;
  o.cosmo_width = 2;
  return synthetic::generate(o);
}

// Sets a file's modification time to `seconds` since the epoch.
void set_mtime(const std::string& path, long seconds) {
  const timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

TEST(Fingerprint, StableAcrossOpens) {
  TempDir dir;
  const DatasetSpec spec = make(dir.file("img.h5"), synthetic::Kind::image, 10).spec;
  const std::uint64_t first = Dataset::open(spec)->fingerprint();
  EXPECT_EQ(Dataset::open(spec)->fingerprint(), first);
  EXPECT_NE(first, 0u);
}

TEST(Fingerprint, ChangesWhenTheFileIsRewritten) {
  TempDir dir;
  const std::string path = dir.file("img.h5");
  const DatasetSpec spec = make(path, synthetic::Kind::image, 10).spec;
  set_mtime(path, 1'600'000'000);
  const std::uint64_t before = Dataset::open(spec)->fingerprint();

  make(path, synthetic::Kind::image, 10);  // same size, new mtime
  set_mtime(path, 1'600'000'100);
  const std::uint64_t touched = Dataset::open(spec)->fingerprint();
  EXPECT_NE(touched, before);

  make(path, synthetic::Kind::image, 12);  // new size and sample count
  set_mtime(path, 1'600'000'100);
  EXPECT_NE(Dataset::open(spec)->fingerprint(), touched);
}

TEST(Fingerprint, DependsOnFieldsAndFileOrder) {
  TempDir dir;
  DatasetSpec spec = make(dir.file("a.h5"), synthetic::Kind::image, 5).spec;
  make(dir.file("b.h5"), synthetic::Kind::image, 5);
  const std::uint64_t both = Dataset::open(spec)->fingerprint();
  spec.fields.pop_back();
  EXPECT_NE(Dataset::open(spec)->fingerprint(), both);
  spec.fields = {{"image", "/images"}};
  spec.files = {dir.file("a.h5"), dir.file("b.h5")};
  const std::uint64_t ab = Dataset::open(spec)->fingerprint();
  spec.files = {dir.file("b.h5"), dir.file("a.h5")};
  EXPECT_NE(Dataset::open(spec)->fingerprint(), ab);
}

TEST(Fingerprint, FilePerSampleSeesEveryFile) {
  TempDir dir;
  const DatasetSpec spec = make(dir.file("cosmo"), synthetic::Kind::cosmoflow, 4).spec;
  const std::uint64_t before = Dataset::open(spec)->fingerprint();
  EXPECT_EQ(Dataset::open(spec)->fingerprint(), before);
  // Touch only the last file, which open() never reads.
  set_mtime(dir.file("cosmo/" + synthetic::sample_file_name(3, 4)), 1'500'000'000);
  EXPECT_NE(Dataset::open(spec)->fingerprint(), before);
}

}  // namespace
}  // namespace ferry
