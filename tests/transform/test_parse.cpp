// parse_op_chain and OpSpec::text.
#include <gtest/gtest.h>

#include "ferry/error.hpp"
#include "ferry/transform.hpp"

namespace ferry {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

TEST(ParseOpChain, EmptyTextIsEmptyChain) {
  EXPECT_TRUE(parse_op_chain("", "k").empty());
  EXPECT_TRUE(parse_op_chain("   \t ", "k").empty());
}

TEST(ParseOpChain, BareNamesAndParams) {
  const auto ops =
      parse_op_chain("cast(scale=0.00392) | normalize(mean=[0.5], std=[0.25, 1e-3]) | log1p", "k");
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops[0].name, "cast");
  EXPECT_EQ(ops[0].params, (Params{{"scale", "0.00392"}}));
  EXPECT_EQ(ops[1].name, "normalize");
  EXPECT_EQ(ops[1].params, (Params{{"mean", "[0.5]"}, {"std", "[0.25, 1e-3]"}}));
  EXPECT_EQ(ops[2].name, "log1p");
  EXPECT_TRUE(ops[2].params.empty());
}

TEST(ParseOpChain, WhitespaceTolerant) {
  const auto a =
      parse_op_chain("  center_crop ( height = 3 ,width=4 )|random_flip(  )  |x(k=[ 1 ,2,3 ])", "k");
  const auto b = parse_op_chain("center_crop(height=3, width=4) | random_flip | x(k=[1, 2, 3])", "k");
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].params, b[i].params);
    EXPECT_EQ(a[i].text(), b[i].text());
  }
}

TEST(ParseOpChain, WordsAndNegativeNumbers) {
  const auto ops = parse_op_chain("cast(to=f32, shift=-1.5) | noise(std=0.1,mean=-2)", "k");
  EXPECT_EQ(ops[0].params, (Params{{"to", "f32"}, {"shift", "-1.5"}}));
  EXPECT_EQ(ops[1].params, (Params{{"std", "0.1"}, {"mean", "-2"}}));
}

TEST(OpSpecText, CanonicalForm) {
  EXPECT_EQ((OpSpec{"log1p", {}}.text()), "log1p");
  EXPECT_EQ((OpSpec{"normalize", {{"mean", "[0.5, 0.25]"}, {"std", "2"}}}.text()),
            "normalize(mean=[0.5, 0.25], std=2)");
  const std::string text = "cast(to=f32, scale=2) | resize(height=8, width=9) | log1p";
  const auto ops = parse_op_chain(text, "k");
  std::string round;
  for (const auto& op : ops) round += (round.empty() ? "" : " | ") + op.text();
  EXPECT_EQ(round, text);
}

// Every syntax error is a ConfigError naming the config key and the offending text.
void expect_syntax_error(const std::string& text, const std::string& fragment) {
  try {
    parse_op_chain(text, "transform.prepare");
    FAIL() << "no error for '" << text << "'";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("transform.prepare"), std::string::npos) << what;
    EXPECT_NE(what.find(text), std::string::npos) << what;
    EXPECT_NE(what.find(fragment), std::string::npos) << what;
  }
}

TEST(ParseOpChain, SyntaxErrors) {
  expect_syntax_error("cast |", "expected an op name at end of text");
  expect_syntax_error("| cast", "expected an op name at '| cast'");
  expect_syntax_error("cast || log1p", "expected an op name");
  expect_syntax_error("cast(scale)", "expected '=' after parameter 'scale'");
  expect_syntax_error("cast(scale=)", "expected a value");
  expect_syntax_error("cast(scale=1", "expected ',' or ')'");
  expect_syntax_error("cast(scale=1 2)", "expected ',' or ')'");
  expect_syntax_error("normalize(mean=[1, 2)", "expected ',' or ']' in a list");
  expect_syntax_error("cast(scale=1, scale=2)", "parameter 'scale' given twice");
  expect_syntax_error("cast log1p", "expected '|' between ops");
  expect_syntax_error("3d(x=1)", "expected an op name");
  expect_syntax_error("cast(=1)", "expected a parameter name");
}

}  // namespace
}  // namespace ferry
