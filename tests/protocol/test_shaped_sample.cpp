// A sample past an augment head that ends in a per-sample shape (roles/shaped_sample.hpp): its shape and
// bytes survive the trip, every truncation is refused, and the consumer's check names what is wrong with a
// shape or a size in one line with the rank and role it was given.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ferry/error.hpp"
#include "roles/shaped_sample.hpp"

using namespace ferry::roles;
using ferry::transform::ImageLayout;
using ferry::transform::TensorDesc;

namespace {

const TensorDesc kDecoded{ferry::DType::u8, {0, 0, 3}, ImageLayout::hwc, true};

std::vector<std::byte> encoded(const std::vector<std::uint64_t>& shape, std::size_t bytes) {
  const std::vector<std::byte> data(bytes, std::byte{7});
  Writer w;
  encode(w, ShapedSample{shape, data});
  return w.take();
}

std::string problem_of(const std::vector<std::uint64_t>& shape, std::size_t bytes,
                       const TensorDesc& desc = kDecoded) {
  const auto wire = encoded(shape, bytes);
  try {
    read_shaped(wire, desc, "rank 3 (consumer): pipeline 'p', field 'image'");
  } catch (const ferry::InternalError& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST(Protocol, ShapedSampleRoundTripsWithItsShape) {
  const std::vector<std::byte> pixels(5 * 300 * 3, std::byte{42});
  ferry::transform::ShapedSamples samples;
  samples.reset(3);
  const std::vector<std::size_t> shape = {5, 300, 3};
  std::copy(pixels.begin(), pixels.end(), samples.append(shape, pixels.size()));
  Writer w;
  encode_sample(w, samples, 0);
  ByteCount counted;
  encode_sample(counted, samples, 0);
  EXPECT_EQ(w.size(), counted.size());
  const ShapedSample back = read_shaped(w.view(), kDecoded, "rank 0 (consumer)");
  EXPECT_EQ(back.shape, (std::vector<std::uint64_t>{5, 300, 3}));
  EXPECT_TRUE(std::ranges::equal(back.bytes, pixels));
  // Every truncation is refused, never over-read.
  for (std::size_t cut = 0; cut < w.size(); ++cut) {
    Reader r(std::span<const std::byte>(w.view().data(), cut));
    ShapedSample partial;
    EXPECT_THROW(decode(r, partial), ferry::Error) << cut;
  }
}

TEST(Protocol, ShapedSampleOfAWrongShapeOrSizeIsOneLine) {
  EXPECT_EQ(problem_of({4, 6, 3}, 72), "");
  const std::string who = "rank 3 (consumer): pipeline 'p', field 'image': a sample past its augment head ";
  EXPECT_EQ(problem_of({4, 6, 3}, 71), who + "of shape [4, 6, 3] has 71 bytes, not 72");
  EXPECT_EQ(problem_of({4, 6}, 24), who + "has shape [4, 6] for samples of u8[?, ?, 3] hwc");
  EXPECT_EQ(problem_of({4, 6, 1}, 24), who + "has shape [4, 6, 1] for samples of u8[?, ?, 3] hwc");
  EXPECT_EQ(problem_of({0, 6, 3}, 0), who + "has shape [0, 6, 3] for samples of u8[?, ?, 3] hwc");
  // An image as wide as a decoder allows travels as it would be made on the consumer (a 1 x 1,100,000 PNG).
  EXPECT_EQ(problem_of({1, 1100000, 3}, 3300000), "");
  // Corrupt counts are refused before anything is sized from them.
  Writer huge;
  huge.u(3).u(std::uint64_t{1} << 41).u(2).u(3).u(0);
  EXPECT_THROW(read_shaped(huge.view(), kDecoded, "rank 3 (consumer)"), ferry::InternalError);
  EXPECT_EQ(problem_of({std::uint64_t{1} << 30, std::uint64_t{1} << 20, 3}, 0),
            who + "has shape [1073741824, 1048576, 3], more than 1099511627776 elements");
  Writer ranks;
  ranks.u(9);
  try {
    read_shaped(ranks.view(), kDecoded, "rank 3 (consumer)");
    ADD_FAILURE() << "a rank of 9 was taken";
  } catch (const ferry::InternalError& e) {
    EXPECT_NE(std::string(e.what()).find("rank 3 (consumer): a sample past its augment head is malformed: "),
              std::string::npos)
        << e.what();
  }
  // Bytes after the sample's data: its length and the field's disagree.
  auto wire = encoded({1, 1, 3}, 3);
  wire.push_back(std::byte{0});
  EXPECT_THROW(read_shaped(wire, kDecoded, "rank 3 (consumer)"), ferry::InternalError);
}
