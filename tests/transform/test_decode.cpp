// decode_jpeg against libjpeg's own API (a second path to libjpeg-turbo's output), decode_png against the
// pixels spng encoded, and corrupt input.
#include <gtest/gtest.h>
// clang-format off
#include <cstdio>  // jpeglib.h needs FILE
#include <jpeglib.h>
// clang-format on
#include <spng.h>

#include "helpers.hpp"
#include "storage/jpeg_encoder.hpp"
#include "storage/synthetic.hpp"

namespace ferry::transform::test {
namespace {

std::vector<std::uint8_t> photo(std::size_t h, std::size_t w) {
  std::vector<std::uint8_t> pixels(h * w * 3);
  synthetic::photo_pixels(3, 1, {h, w}, pixels.data());
  return pixels;
}

std::vector<std::byte> jpeg(std::size_t h, std::size_t w, int quality = 90) {
  const auto pixels = photo(h, w);
  storage::JpegEncoder encoder;
  const auto bytes = encoder.encode(pixels.data(), h, w, 3, quality);
  return to_bytes(bytes);
}

// libjpeg's decompressor with its defaults (islow DCT, fancy upsampling), the way PIL calls it; `fast`:
// ifast DCT and plain upsampling instead.
std::vector<std::uint8_t> libjpeg_decode(const std::vector<std::byte>& data, bool gray, unsigned denom,
                                         std::size_t& h, std::size_t& w, bool fast = false) {
  jpeg_decompress_struct info{};
  jpeg_error_mgr err{};
  info.err = jpeg_std_error(&err);
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  jpeg_read_header(&info, TRUE);
  info.out_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
  info.scale_num = 1;
  info.scale_denom = denom;
  if (fast) {
    info.dct_method = JDCT_IFAST;
    info.do_fancy_upsampling = FALSE;
  }
  jpeg_start_decompress(&info);
  h = info.output_height;
  w = info.output_width;
  const std::size_t row = w * static_cast<std::size_t>(info.output_components);
  std::vector<std::uint8_t> out(h * row);
  while (info.output_scanline < info.output_height) {
    JSAMPROW line = out.data() + info.output_scanline * row;
    jpeg_read_scanlines(&info, &line, 1);
  }
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  return out;
}

// Runs a chain over variable-length samples; returns the fixed-size output.
std::vector<std::byte> run_variable(const std::string& ops,
                                    const std::vector<std::vector<std::byte>>& samples,
                                    Stage stage = Stage::prepare, std::uint64_t first_id = 0,
                                    bool fuse = true) {
  Chain chain(parse_op_chain(ops, "t"), TensorDesc::bytes_of_variable_length(), stage, "image",
              OpRegistry::global(), fuse);
  std::vector<std::byte> in;
  std::vector<std::uint64_t> offsets{0};
  for (const auto& s : samples) {
    in.insert(in.end(), s.begin(), s.end());
    offsets.push_back(in.size());
  }
  const auto ids = iota_ids(samples.size(), first_id);
  std::vector<std::byte> out(samples.size() * chain.output().bytes());
  chain.run_variable(in.data(), offsets.data(), out.data(), samples.size(), ids.data(), 7, 0);
  return out;
}

TEST(DecodeJpeg, EqualsLibjpegForEveryModeAndScale) {
  const auto data = jpeg(75, 100);
  for (const bool gray : {false, true}) {
    for (const unsigned denom : {1u, 2u, 4u, 8u}) {
      std::size_t h = 0, w = 0;
      const auto want = libjpeg_decode(data, gray, denom, h, w);
      const std::string ops = std::string("decode_jpeg(mode=") + (gray ? "gray" : "rgb") +
                              ", scale=" + format_number(1.0 / denom) +
                              ") | resize(height=" + std::to_string(h) + ", width=" + std::to_string(w) + ")";
      // resize to the decoded size is the identity (source coordinates land on pixel centres).
      const auto got = from_bytes<std::uint8_t>(run_variable(ops, {data}));
      ASSERT_EQ(got.size(), want.size()) << ops;
      EXPECT_EQ(got, want) << ops;
    }
  }
}

TEST(DecodeJpeg, FastEqualsLibjpegIfastWithoutFancyUpsampling) {
  const auto data = jpeg(75, 100);
  std::size_t h = 0, w = 0;
  const auto want = libjpeg_decode(data, false, 1, h, w, true);
  const auto got = from_bytes<std::uint8_t>(
      run_variable("decode_jpeg(fast=true) | center_crop(height=75, width=100)", {data}));
  EXPECT_EQ(got, want);
  EXPECT_NE(got, libjpeg_decode(data, false, 1, h, w));  // it is another decode, not the default one
}

TEST(DecodeJpeg, SamplesOfDifferentSizesInOneBatch) {
  const std::vector<std::vector<std::byte>> samples{jpeg(40, 60), jpeg(64, 48), jpeg(33, 33)};
  const auto out = from_bytes<std::uint8_t>(run_variable("decode_jpeg | center_crop(size=32)", samples));
  ASSERT_EQ(out.size(), 3u * 32 * 32 * 3);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    std::size_t h = 0, w = 0;
    const auto full = libjpeg_decode(samples[i], false, 1, h, w);
    const std::size_t top = (h - 32) / 2, left = (w - 32) / 2;
    for (std::size_t y = 0; y < 32; ++y)
      for (std::size_t x = 0; x < 32 * 3; ++x)
        ASSERT_EQ(out[(i * 32 + y) * 96 + x], full[(top + y) * w * 3 + left * 3 + x]) << i;
  }
}

TEST(DecodeJpeg, AugmentChainFusedEqualsOpByOp) {
  // random_resized_crop right after decode runs per sample and absorbs flip, cast and normalize.
  const std::vector<std::vector<std::byte>> samples{jpeg(75, 100), jpeg(120, 90), jpeg(64, 64)};
  const std::string ops =
      "decode_jpeg | random_resized_crop(size=48) | random_flip | cast(scale=0.00392156862745098) | "
      "normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])";
  for (std::uint64_t first : {0, 10, 20}) {
    EXPECT_EQ(run_variable(ops, samples, Stage::augment, first),
              run_variable(ops, samples, Stage::augment, first, false))
        << first;
  }
}

TEST(DecodeJpeg, CorruptAndTruncatedSamplesNameTheSample) {
  const auto good = jpeg(40, 60);
  auto truncated = good;
  truncated.resize(good.size() / 2);
  std::vector<std::byte> garbage(500, std::byte{0x5a});
  for (const auto& [bad, words] : std::vector<std::pair<std::vector<std::byte>, std::string>>{
           {truncated, "corrupt JPEG"}, {garbage, "not a readable JPEG"}}) {
    try {
      run_variable("decode_jpeg | resize(height=8, width=8)", {good, bad, good}, Stage::prepare, 40);
      FAIL() << "no error for " << words;
    } catch (const SampleError& e) {
      EXPECT_EQ(e.id(), 41u);
      const std::string what = e.what();
      EXPECT_NE(what.find("field 'image': op decode_jpeg"), std::string::npos) << what;
      EXPECT_NE(what.find(words), std::string::npos) << what;
    }
  }
}

// bad_samples = skip: with a failure list, the chain records each sample it cannot take (batch index and
// message), writes zeros for it, and gives the others the bytes they get in a batch of their own.
TEST(DecodeJpeg, FailuresAreRecordedWhenAsked) {
  const auto good = jpeg(40, 60);
  auto truncated = good, headless = good;
  truncated.resize(good.size() / 2);
  headless.resize(200);  // ends inside the headers: fails before any pixel, in the header read
  const std::vector<std::vector<std::byte>> samples{good, truncated, {}, good, headless, good};
  Chain chain(parse_op_chain("decode_jpeg | resize(height=8, width=8) | cast", "t"),
              TensorDesc::bytes_of_variable_length(), Stage::prepare, "image");
  std::vector<std::byte> in;
  std::vector<std::uint64_t> offsets{0};
  for (const auto& s : samples) {
    in.insert(in.end(), s.begin(), s.end());
    offsets.push_back(in.size());
  }
  const auto ids = iota_ids(samples.size(), 50);
  const std::size_t bytes = chain.output().bytes();
  std::vector<std::byte> out(samples.size() * bytes, std::byte{0x7f});
  std::vector<SampleFailure> failed;
  chain.run_variable(in.data(), offsets.data(), out.data(), samples.size(), ids.data(), 7, 0, &failed);
  ASSERT_EQ(failed.size(), 3u);
  EXPECT_EQ(failed[0].index, 1u);
  EXPECT_NE(failed[0].what.find("corrupt JPEG"), std::string::npos) << failed[0].what;
  EXPECT_EQ(failed[1].index, 2u);
  EXPECT_NE(failed[1].what.find("not a readable JPEG (0 bytes)"), std::string::npos) << failed[1].what;
  const auto alone = run_variable("decode_jpeg | resize(height=8, width=8) | cast", {good});
  EXPECT_TRUE(std::equal(alone.begin(), alone.end(), out.begin()));
  EXPECT_EQ(failed[2].index, 4u);
  // A decoder that failed (in the header read, too) decodes the next sample as if nothing had happened.
  EXPECT_TRUE(std::equal(alone.begin(), alone.end(), out.begin() + 3 * bytes));
  EXPECT_TRUE(std::equal(alone.begin(), alone.end(), out.begin() + 5 * bytes));
  for (std::size_t b = bytes; b < 3 * bytes; ++b) ASSERT_EQ(out[b], std::byte{0}) << b;
}

std::vector<std::byte> png(const std::vector<std::uint8_t>& rgb, std::size_t h, std::size_t w) {
  spng_ctx* ctx = spng_ctx_new(SPNG_CTX_ENCODER);
  spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
  spng_ihdr ihdr{};
  ihdr.width = static_cast<std::uint32_t>(w);
  ihdr.height = static_cast<std::uint32_t>(h);
  ihdr.bit_depth = 8;
  ihdr.color_type = SPNG_COLOR_TYPE_TRUECOLOR;
  spng_set_ihdr(ctx, &ihdr);
  EXPECT_EQ(spng_encode_image(ctx, rgb.data(), rgb.size(), SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE), 0);
  std::size_t size = 0;
  int status = 0;
  void* buffer = spng_get_png_buffer(ctx, &size, &status);
  std::vector<std::byte> out(static_cast<std::byte*>(buffer), static_cast<std::byte*>(buffer) + size);
  free(buffer);
  spng_ctx_free(ctx);
  return out;
}

TEST(DecodePng, RoundTripsAndGrayIsPilLuma) {
  const std::size_t h = 20, w = 30;
  const auto pixels = photo(h, w);
  const auto data = png(pixels, h, w);
  const auto rgb =
      from_bytes<std::uint8_t>(run_variable("decode_png | center_crop(height=20, width=30)", {data}));
  EXPECT_EQ(rgb, pixels);
  const auto gray = from_bytes<std::uint8_t>(
      run_variable("decode_png(mode=gray) | center_crop(height=20, width=30)", {data}));
  ASSERT_EQ(gray.size(), h * w);
  for (std::size_t p = 0; p < h * w; ++p) {
    const unsigned r = pixels[3 * p], g = pixels[3 * p + 1], b = pixels[3 * p + 2];
    ASSERT_EQ(gray[p], (19595 * r + 38470 * g + 7471 * b + 32768) >> 16) << p;
  }
  auto truncated = data;
  truncated.resize(data.size() - 20);
  EXPECT_THROW(run_variable("decode_png | resize(height=4, width=4)", {truncated}), SampleError);
}

}  // namespace
}  // namespace ferry::transform::test
