// libFuzzer target: the prepare/augment chain parser (transform/op_spec.cpp) and the chain built from it
// (transform/chain.cpp, op_args.cpp). The first byte picks the stage (bit 0), the field's dtype (bits 1-4)
// and its shape (bits 5-7); the rest is the chain text. A chain that builds must print (text()) as a chain
// that builds with the same fingerprint, and must run over two samples made of the input's bytes (any bit
// pattern: NaN, infinities, extremes) without a crash or UB. Bad text or parameters must throw ferry::Error.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "ferry/error.hpp"
#include "fuzz_input.hpp"
#include "transform/chain.hpp"

namespace {

using ferry::transform::Chain;
using ferry::transform::ImageLayout;
using ferry::transform::TensorDesc;

constexpr std::size_t kMaxRunBytes = 1 << 16;  // per sample: a resize to 10^4 x 10^4 is checked, not run

TensorDesc field_desc(std::uint8_t mode) {
  const auto dtype = static_cast<ferry::DType>(((mode >> 1) & 0xf) % 10);
  switch (mode >> 5) {
    case 0:
      return TensorDesc::of(dtype, {8});
    case 1:
      return TensorDesc::of(dtype, {4, 4});
    case 2:
      return TensorDesc::of(dtype, {6, 5, 3});
    case 3:
      return TensorDesc{dtype, {3, 6, 5}, ImageLayout::chw};
    case 4:
      return TensorDesc::of(dtype, {2, 3, 4, 5});
    case 5:
      return TensorDesc::of(dtype, {1, 1});
    case 6:
      return TensorDesc::of(dtype, {7, 9, 1});
    default:
      return TensorDesc::of(dtype, {16, 16, 3});
  }
}

void run_twice(Chain& chain, std::span<const std::byte> pattern) {
  constexpr std::size_t n = 2;
  std::vector<std::byte> in(n * chain.input().bytes());
  for (std::size_t i = 0; i < in.size(); ++i)
    in[i] = pattern.empty() ? std::byte{0} : pattern[i % pattern.size()];
  std::vector<std::byte> out(n * chain.output().bytes());
  const std::uint64_t ids[n] = {7, 1ull << 40};
  chain.run(in.data(), out.data(), n, ids, 1, 2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ferry::fuzz::Input in(data, size);
  const auto stage = in.mode() & 1 ? ferry::Stage::augment : ferry::Stage::prepare;
  const std::string text = in.rest_text();
  try {
    Chain chain(ferry::parse_op_chain(text, "fuzz.x"), field_desc(in.mode()), stage, "x");
    Chain again(ferry::parse_op_chain(chain.text(), "printed.x"), chain.input(), stage, "x");
    if (again.fingerprint() != chain.fingerprint() || again.text() != chain.text())
      ferry::fuzz::broken("printed chain builds a different chain", chain.text() + "\n" + again.text());
    if (chain.max_sample_bytes() <= kMaxRunBytes) run_twice(chain, in.rest());
  } catch (const ferry::Error&) {
  }
  return 0;
}
