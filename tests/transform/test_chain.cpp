// Chain construction (validation, descriptions, fingerprints) and runs (determinism, batching, copies).
#include <gtest/gtest.h>

#include "ferry/error.hpp"
#include "helpers.hpp"

namespace ferry::transform::test {
namespace {

const TensorDesc kImage = TensorDesc::of(DType::u8, {12, 10, 3});

Chain make(const std::string& ops, const TensorDesc& desc = kImage, Stage stage = Stage::augment) {
  return Chain(parse_op_chain(ops, "t"), desc, stage, "image");
}

// Builds a chain expected to fail with E and checks the message carries every fragment.
template <typename E>
void expect_error(const std::string& ops, const TensorDesc& desc, Stage stage,
                  const std::vector<std::string>& fragments, const std::string& field = "image") {
  try {
    Chain chain(parse_op_chain(ops, "t"), desc, stage, field);
    FAIL() << "no error for '" << ops << "'";
  } catch (const E& e) {
    const std::string what = e.what();
    for (const auto& f : fragments)
      EXPECT_NE(what.find(f), std::string::npos) << "'" << f << "' not in: " << what;
  } catch (const std::exception& e) {
    FAIL() << "wrong exception type for '" << ops << "': " << e.what();
  }
}

TEST(ChainValidation, UnknownOpListsKnownOnes) {
  expect_error<TransformError>(
      "cast | normalise(mean=0, std=1)", kImage, Stage::prepare,
      {"field 'image'", "unknown op 'normalise'", "normalize", "center_crop", "log1p"});
}

TEST(ChainValidation, RandomOpInPrepareStage) {
  expect_error<TransformError>("random_crop(height=4, width=4)", kImage, Stage::prepare,
                               {"field 'image'", "random_crop is random: put it in the augment stage"});
  expect_error<TransformError>("cast | noise(std=1)", kImage, Stage::prepare, {"noise is random"});
}

TEST(ChainValidation, ParameterErrorsNameOpAndParam) {
  expect_error<ConfigError>("cast(scal=2)", kImage, Stage::prepare,
                            {"field 'image'", "op cast", "unknown parameter 'scal'", "to, scale, shift"});
  expect_error<ConfigError>("log1p(x=1)", kImage, Stage::prepare, {"op log1p", "'x'", "takes none"});
  expect_error<ConfigError>("center_crop(height=4)", kImage, Stage::prepare,
                            {"op center_crop", "parameter 'width' is missing"});
  expect_error<ConfigError>("center_crop(height=4, width=0)", kImage, Stage::prepare,
                            {"op center_crop", "parameter 'width'", "got '0'"});
  expect_error<ConfigError>("cast(scale=abc)", kImage, Stage::prepare, {"op cast", "'scale'", "'abc'"});
  // fuzz_chain: a padding near 2^63 overflowed the crop's signed range arithmetic (UB) instead of being
  // refused.
  expect_error<ConfigError>("random_crop(height=25, width=14, padding=7813195956718829548)", kImage,
                            Stage::augment, {"op random_crop", "parameter 'padding'", "from 0 to 1048576"});
  expect_error<ConfigError>("cast | normalize(mean=[0.5, x], std=1)", kImage, Stage::prepare,
                            {"op normalize", "parameter 'mean'", "list of numbers"});
  expect_error<ConfigError>("cast | normalize(mean=0, std=[1, 0, 1])", kImage, Stage::prepare,
                            {"op normalize", "parameter 'std' must be > 0"});
  expect_error<ConfigError>("random_flip(p=1.5)", kImage, Stage::augment,
                            {"op random_flip", "'p'", "[0, 1]"});
  expect_error<ConfigError>("cast(to=f64)", kImage, Stage::prepare, {"op cast", "'to'", "only f32"});
  expect_error<ConfigError>("cast | minmax(min=[0, 1, 2], max=[1, 1, 3])", kImage, Stage::prepare,
                            {"op minmax", "'max'", "channel 1"});
}

TEST(ChainValidation, DtypeShapeAndLayoutErrors) {
  const TensorDesc full = TensorDesc::of(DType::i16, {4, 8, 8, 8});
  expect_error<TransformError>("log1p", full, Stage::prepare,
                               {"op log1p needs f32 input, field 'full' is i16: put cast first"}, "full");
  expect_error<TransformError>("cast | center_crop(height=4, width=4)", full, Stage::prepare,
                               {"field 'full'", "op center_crop", "[4, 8, 8, 8]"}, "full");
  expect_error<TransformError>("resize(height=4, width=4)", TensorDesc::of(DType::i16, {8, 8, 3}),
                               Stage::prepare, {"op resize", "needs u8 or f32 input, got i16"});
  expect_error<TransformError>("chw_to_hwc", kImage, Stage::prepare, {"op chw_to_hwc", "needs chw", "hwc"});
  expect_error<TransformError>("center_crop(height=13, width=4)", kImage, Stage::prepare,
                               {"op center_crop", "13x4", "u8[12, 10, 3] hwc"});
  expect_error<TransformError>("cast | normalize(mean=[1, 2], std=1)", kImage, Stage::prepare,
                               {"op normalize", "'mean' has 2 values", "3 channels"});
  // The description flowing into each op is the previous op's output: after the crop, the window is too big.
  expect_error<TransformError>("center_crop(height=6, width=6) | random_crop(height=8, width=6)", kImage,
                               Stage::augment, {"op random_crop", "[6, 6, 3]"});
}

TEST(ChainDescriptions, OutputAndMaxBytes) {
  const Chain chain =
      make("cast | hwc_to_chw | resize(height=24, width=20) | center_crop(height=2, width=2)");
  EXPECT_EQ(chain.output().dtype, DType::f32);
  EXPECT_EQ(chain.output().shape, (std::vector<std::size_t>{3, 2, 2}));
  EXPECT_EQ(chain.output().layout, ImageLayout::chw);
  EXPECT_EQ(chain.max_sample_bytes(), std::size_t{24 * 20 * 3 * 4});
  EXPECT_FALSE(chain.random());
  EXPECT_TRUE(make("cast | random_flip").random());
  EXPECT_EQ(chain.text(),
            "cast(to=f32, scale=1, shift=0) | hwc_to_chw | resize(height=24, width=20) | "
            "center_crop(height=2, width=2)");
}

TEST(ChainFingerprint, StableAndSensitive) {
  const auto fp = [](const std::string& ops, const TensorDesc& d = kImage) {
    return make(ops, d).fingerprint();
  };
  EXPECT_EQ(fp("cast(scale=0.5) | log1p"), fp("cast(scale=0.5) | log1p"));
  // Spelling does not matter, meaning does.
  EXPECT_EQ(fp("cast"), fp("cast(to=float32, scale=1.0, shift=0)"));
  EXPECT_EQ(fp("cast(shift=1, scale=2)"), fp("cast( scale = 2.0 ,shift=1 )"));
  EXPECT_NE(fp("cast(scale=0.5)"), fp("cast(scale=0.25)"));
  EXPECT_NE(fp("cast | normalize(mean=0, std=1)"), fp("cast | normalize(mean=0, std=2)"));
  EXPECT_NE(fp("cast | log1p"), fp("cast"));
  EXPECT_NE(fp("center_crop(height=2, width=3)"), fp("center_crop(height=3, width=2)"));
  // The input description is part of it.
  EXPECT_NE(fp("cast"), fp("cast", TensorDesc::of(DType::u8, {12, 10, 1})));
  EXPECT_NE(fp("cast"), fp("cast", TensorDesc::of(DType::u16, {12, 10, 3})));
  EXPECT_NE(fp(""), fp("", TensorDesc::of(DType::u8, {10, 12, 3})));
  // A known value pins the recipe: changing it invalidates every cache, so do it on purpose only.
  EXPECT_EQ(fp("cast(scale=0.5) | log1p"), 0x03f70146dfb08f15ULL);
}

TEST(ChainRun, EmptyChainCopies) {
  Chain chain = make("");
  EXPECT_TRUE(chain.empty());
  EXPECT_EQ(chain.output(), kImage);
  const auto in = to_bytes(random_values<std::uint8_t>(4 * kImage.elements(), 1));
  EXPECT_EQ(run(chain, in, 4, iota_ids(4)), in);
}

const char* const kAugment =
    "cast(scale=0.0039) | random_crop(height=8, width=7, padding=1) | random_flip | "
    "noise(std=0.1) | hwc_to_chw";

TEST(ChainDeterminism, SameKeysSameBytes) {
  const std::size_t n = 6;
  const auto in = to_bytes(random_values<std::uint8_t>(n * kImage.elements(), 2));
  const auto ids = iota_ids(n, 1000);
  Chain a = make(kAugment);
  Chain b = make(kAugment);
  const auto first = run(a, in, n, ids, 5, 2);
  EXPECT_EQ(first, run(a, in, n, ids, 5, 2));  // same chain again (scratch reused)
  EXPECT_EQ(first, run(b, in, n, ids, 5, 2));  // a fresh chain
  EXPECT_NE(first, run(a, in, n, ids, 5, 3));  // another epoch
  EXPECT_NE(first, run(a, in, n, ids, 6, 2));  // another seed
}

TEST(ChainDeterminism, SampleResultIndependentOfBatch) {
  const std::size_t n = 8;
  const std::size_t in_bytes = kImage.bytes();
  const auto in = to_bytes(random_values<std::uint8_t>(n * in_bytes, 3));
  const auto ids = iota_ids(n, 40);
  Chain chain = make(kAugment);
  const std::size_t out_bytes = chain.output().bytes();
  const auto whole = run(chain, in, n, ids, 9, 1);
  // Reversed order, and each sample alone: every sample's bytes follow its ID, not its slot.
  std::vector<std::byte> rev_in(in.size());
  std::vector<std::uint64_t> rev_ids(n);
  for (std::size_t s = 0; s < n; ++s) {
    std::copy_n(in.begin() + s * in_bytes, in_bytes, rev_in.begin() + (n - 1 - s) * in_bytes);
    rev_ids[n - 1 - s] = ids[s];
  }
  const auto reversed = run(chain, rev_in, n, rev_ids, 9, 1);
  for (std::size_t s = 0; s < n; ++s) {
    EXPECT_TRUE(std::equal(whole.begin() + s * out_bytes, whole.begin() + (s + 1) * out_bytes,
                           reversed.begin() + (n - 1 - s) * out_bytes));
    const std::vector<std::byte> one(in.begin() + s * in_bytes, in.begin() + (s + 1) * in_bytes);
    const auto alone = run(chain, one, 1, {ids[s]}, 9, 1);
    EXPECT_TRUE(std::equal(alone.begin(), alone.end(), whole.begin() + s * out_bytes)) << "sample " << s;
  }
}

TEST(ChainDeterminism, OpIndexSeparatesStreams) {
  // Two identical noise ops draw different numbers: the op's index is part of its key.
  const TensorDesc desc = TensorDesc::of(DType::f32, {3, 3});
  const std::vector<float> zeros(9, 0.0f);
  const auto twice = from_bytes<float>(run_text("noise(std=1) | noise(std=1)", desc, to_bytes(zeros), 1));
  const auto once = from_bytes<float>(run_text("noise(std=1)", desc, to_bytes(zeros), 1));
  std::size_t doubled = 0;
  for (std::size_t i = 0; i < 9; ++i) doubled += std::abs(twice[i] - 2 * once[i]) < 1e-6f;
  EXPECT_LT(doubled, 9u);
}

TEST(ChainRun, RandomChainWithoutIdsThrows) {
  Chain chain = make("random_flip");
  std::vector<std::byte> in(kImage.bytes()), out(kImage.bytes());
  EXPECT_THROW(chain.run(in.data(), out.data(), 1, nullptr, 1, 0), TransformError);
  Chain fixed = make("cast");
  std::vector<std::byte> fout(fixed.output().bytes());
  EXPECT_NO_THROW(fixed.run(in.data(), fout.data(), 1, nullptr, 1, 0));
}

TEST(ChainRun, GrowingAndShrinkingBatches) {
  Chain chain = make("cast(scale=2) | hwc_to_chw | center_crop(height=5, width=5)");
  const auto in = to_bytes(random_values<std::uint8_t>(16 * kImage.elements(), 4));
  const auto all = run(chain, in, 16, iota_ids(16));
  const std::size_t out_bytes = chain.output().bytes();
  for (std::size_t n : {1u, 3u, 16u, 2u}) {
    const std::vector<std::byte> part(in.begin(), in.begin() + n * kImage.bytes());
    const auto got = run(chain, part, n, iota_ids(n));
    EXPECT_TRUE(std::equal(got.begin(), got.end(), all.begin())) << n;
    EXPECT_EQ(got.size(), n * out_bytes);
  }
}

// The movable head is timed inside the whole chain only where that times it alone: its ops all run per
// sample and the last of them runs none of the ops after it (fusion); anything else is refused.
TEST(ChainPrefix, TimesOnlyAPrefixOfPerSampleOpsThatAbsorbedNothing) {
  Chain chain(
      parse_op_chain("decode_jpeg | resize(shorter=20) | center_crop(size=16) | cast | random_flip", "t"),
      TensorDesc::bytes_of_variable_length(), Stage::augment, "image");
  ASSERT_EQ(chain.per_sample_ops(), 3u);
  EXPECT_FALSE(chain.can_time_prefix(0));
  EXPECT_TRUE(chain.can_time_prefix(1));
  EXPECT_TRUE(chain.can_time_prefix(2));
  EXPECT_FALSE(chain.can_time_prefix(4));  // past the per-sample ops
  EXPECT_THROW(chain.time_prefix(4), InternalError);
  chain.time_prefix(1);
  EXPECT_EQ(chain.take_prefix_ns(), 0u);  // nothing ran yet
}

}  // namespace
}  // namespace ferry::transform::test
