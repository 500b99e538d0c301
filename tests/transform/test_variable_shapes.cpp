// How the chain validator treats the variable shapes of encoded samples: where a fixed shape is needed, what
// a decode accepts, and where a chain becomes an ordinary batch chain again.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ferry/error.hpp"
#include "helpers.hpp"

namespace ferry::transform::test {
namespace {

template <typename E>
void expect_chain_error(const std::string& ops, Stage stage, const std::vector<std::string>& words) {
  try {
    Chain(parse_op_chain(ops, "t"), TensorDesc::bytes_of_variable_length(), stage, "image");
    FAIL() << "no error for " << ops;
  } catch (const E& e) {
    for (const auto& w : words) EXPECT_NE(std::string(e.what()).find(w), std::string::npos) << e.what();
  }
}

TEST(VariableShapes, ValidatorSaysWhereAFixedShapeIsNeeded) {
  expect_chain_error<TransformError>("decode_jpeg | cast", Stage::prepare,
                                     {"op cast needs a fixed shape", "decode_jpeg(mode=rgb, scale=1)",
                                      "u8[?, ?, 3] hwc", "random_resized_crop"});
  expect_chain_error<TransformError>("decode_jpeg | resize(shorter=256)", Stage::prepare,
                                     {"ends with u8[?, ?, 3] hwc", "a batch needs one shape"});
  expect_chain_error<TransformError>("cast", Stage::prepare, {"op cast needs a fixed shape", "u8[?]"});
  expect_chain_error<TransformError>("resize(height=4, width=4)", Stage::prepare,
                                     {"op resize", "needs an image", "[?]"});
  expect_chain_error<ConfigError>("decode_jpeg(scale=0.3)", Stage::prepare, {"'scale'", "0.125"});
  expect_chain_error<ConfigError>("decode_jpeg(fast=yes)", Stage::prepare,
                                  {"'fast'", "true or false", "'yes'"});
  expect_chain_error<TransformError>("decode_jpeg | random_resized_crop(size=8)", Stage::prepare,
                                     {"random_resized_crop is random"});
  // A decode on a fixed-shape field.
  try {
    Chain(parse_op_chain("decode_jpeg", "t"), TensorDesc::of(DType::u8, {8, 8, 3}), Stage::prepare, "image");
    FAIL();
  } catch (const TransformError& e) {
    EXPECT_NE(std::string(e.what()).find("needs encoded bytes"), std::string::npos) << e.what();
  }
  // Fixed from random_resized_crop on: the rest is an ordinary batch chain, and there is no device program.
  Chain chain(
      parse_op_chain("decode_jpeg | random_resized_crop(size=16) | random_flip | cast | normalize(mean="
                     "[0.5, 0.5, 0.5], std=[0.2, 0.2, 0.2])",
                     "t"),
      TensorDesc::bytes_of_variable_length(), Stage::augment, "image");
  EXPECT_EQ(chain.per_sample_ops(), 2u);
  EXPECT_EQ(chain.output(), TensorDesc::of(DType::f32, {16, 16, 3}));
  std::string why;
  EXPECT_FALSE(chain.device_program(&why));
  EXPECT_NE(why.find("decode_jpeg"), std::string::npos) << why;
}

}  // namespace
}  // namespace ferry::transform::test
