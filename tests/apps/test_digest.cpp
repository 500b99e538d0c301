// The CLI's delivery digest and --dump-ids files (src/apps/digest.hpp).
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "apps/digest.hpp"
#include "ferry/error.hpp"
#include "storage/storage_test_util.hpp"
#include "transform/target.hpp"

namespace {

// A batch of 3 samples: an 8x8x3 u8 image field and an i32 label field over `image` and `label`.
struct TestBatch {
  std::vector<std::byte> image = std::vector<std::byte>(3 * 8 * 8 * 3);
  std::vector<std::byte> label = std::vector<std::byte>(3 * 4);
  ferry::Batch batch;

  TestBatch() {
    for (std::size_t i = 0; i < image.size(); ++i) image[i] = static_cast<std::byte>(i * 7);
    for (std::size_t i = 0; i < label.size(); ++i) label[i] = static_cast<std::byte>(i);
    batch.pipeline = "train";
    batch.epoch = 1;
    batch.index = 4;
    batch.ids = {17, 3, 42};
    batch.fields.push_back({"image", ferry::DType::u8, {3, 8, 8, 3}, image.data(), image.size()});
    batch.fields.push_back({"label", ferry::DType::i32, {3}, label.data(), label.size()});
  }
};

TEST(Digest, SameBatchSameDigest) {
  TestBatch a, b;
  EXPECT_EQ(ferry::apps::digest_batch(0, a.batch), ferry::apps::digest_batch(0, b.batch));
}

TEST(Digest, OneByteOfOneSampleChangesIt) {
  TestBatch a;
  const std::uint64_t before = ferry::apps::digest_batch(0, a.batch);
  // Every byte position of every field: the last sample's last byte included.
  for (auto* field : {&a.image, &a.label}) {
    for (std::size_t i = 0; i < field->size(); ++i) {
      (*field)[i] ^= std::byte{1};
      EXPECT_NE(ferry::apps::digest_batch(0, a.batch), before) << "byte " << i;
      (*field)[i] ^= std::byte{1};
    }
  }
  EXPECT_EQ(ferry::apps::digest_batch(0, a.batch), before);
}

TEST(Digest, IdsOrderAndRunningValueCount) {
  TestBatch a;
  const std::uint64_t before = ferry::apps::digest_batch(0, a.batch);
  std::swap(a.batch.ids[0], a.batch.ids[1]);
  EXPECT_NE(ferry::apps::digest_batch(0, a.batch), before);
  std::swap(a.batch.ids[0], a.batch.ids[1]);
  EXPECT_NE(ferry::apps::digest_batch(1, a.batch), before);
  // Bytes moved from one field to the next are a different delivery.
  a.batch.fields[0].bytes -= 1;
  a.batch.fields[1].data -= 1;
  a.batch.fields[1].bytes += 1;
  EXPECT_NE(ferry::apps::digest_batch(0, a.batch), before);
}

TEST(Digest, KnownValue) {
  // Pins the definition that examples/01_c_api.c repeats in C (its test compares with `ferry local`); a
  // change here means changing that example too.
  TestBatch a;
  EXPECT_EQ(ferry::apps::digest_batch(0, a.batch), 0xce589e4b667605ffULL);
}

// A device field is hashed from a host copy; without CUDA or a GPU the copy cannot be made, and the digest
// says so instead of reading a null host pointer. (perf/gpu_check.sh checks the copy on a GPU: a run with
// runtime.device_batches prints ferry local's digest.)
TEST(Digest, DeviceFieldWithoutAGpuIsAnErrorNotACrash) {
  if (ferry::transform::cuda_device_count() > 0) GTEST_SKIP() << "this machine has a GPU";
  TestBatch a;
  a.batch.fields[0].device_data = a.batch.fields[0].data;
  a.batch.fields[0].data = nullptr;
  try {
    ferry::apps::digest_batch(0, a.batch);
    FAIL() << "no error";
  } catch (const ferry::TransformError& e) {
    EXPECT_NE(std::string(e.what()).find("copy from device memory"), std::string::npos) << e.what();
  }
}

TEST(IdDump, OneLinePerBatch) {
  const ferry::testing::TempDir dir;  // removed with the dump at the end
  const std::string path = dir.file("ids");
  TestBatch a;
  {
    ferry::apps::IdDump dump(path, 2);
    dump.write(a.batch);
    a.batch.index = 5;
    a.batch.ids = {9};
    dump.write(a.batch);
    dump.close();
  }
  std::ifstream in(path + ".2");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "train 1 4 17 3 42\ntrain 1 5 9\n");
}

TEST(IdDump, UnwritablePathNamesTheFile) {
  try {
    ferry::apps::IdDump dump("/nonexistent/dir/ids", 0);
    FAIL() << "no error";
  } catch (const ferry::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/ids.0"), std::string::npos) << e.what();
  }
}

TEST(IdDump, DefaultWritesNothing) {
  TestBatch a;
  ferry::apps::IdDump dump;
  dump.write(a.batch);
  dump.close();
}

}  // namespace
