// A sample past an augment head that ends in a per-sample shape (decode alone; docs/heterogeneous.md, "The
// movable head"), as the transformer sends it to the consumer: inside its entry (roles/entry.hpp, a
// length-prefixed field of the layout past the head) [rank][dims...][length][bytes]. The consumer checks
// every such sample against the field's description before the rest of the chain reads it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "roles/wire.hpp"
#include "transform/shaped_samples.hpp"
#include "transform/tensor_desc.hpp"

namespace ferry::roles {

struct ShapedSample {
  std::vector<std::uint64_t> shape;
  std::span<const std::byte> bytes;  // into the decoded message: valid while it is
};
// At most this many dimensions, and at most this many elements in all (so no dimension is longer): a corrupt
// shape is refused before anything is sized from it. Not tighter than what a head can make wherever it runs
// (a decoder allows 2^28 pixels in any aspect, transform/image_codec.cpp), so a sample the consumer could
// make itself also travels.
inline constexpr std::uint64_t kMaxSampleRank = 8;
inline constexpr std::uint64_t kMaxSampleElements = std::uint64_t{1} << 40;
void encode(Writer& w, const ShapedSample& s);
// Writes a sample of `shape` and `bytes` as encode() does, to a Writer or a ByteCount.
template <typename Out>
void encode(Out& w, std::span<const std::uint64_t> shape, std::span<const std::byte> bytes) {
  w.u(shape.size());
  for (const auto d : shape) w.u(d);
  w.u(bytes.size()).raw(bytes);
}
void decode(Reader& r, ShapedSample& s);
// Writes sample i of `samples` as encode() does, to a Writer or a ByteCount.
template <typename Out>
void encode_sample(Out& w, const transform::ShapedSamples& samples, std::size_t i) {
  static_assert(std::is_same_v<std::size_t, std::uint64_t>, "shapes are written as they are held");
  encode(w, samples.shape(i), samples.sample(i));
}

// What is wrong with `s` as a sample of `desc` (a description past the head: 0 where a dimension varies):
// another rank, a fixed dimension that differs, a varying one of 0, more than kMaxSampleElements, or a byte
// count other than its elements times the element size. Empty when nothing is.
std::string shape_problem(const transform::TensorDesc& desc, const ShapedSample& s);

// Decodes `field_bytes` (one field of an entry past the head) as a sample of `desc` and checks it; a
// malformed or wrong sample throws InternalError with `who` ("pipeline 'p', field 'image', epoch 0 batch 3":
// the rank and role are added where the error is printed) and what is wrong.
ShapedSample read_shaped(std::span<const std::byte> field_bytes, const transform::TensorDesc& desc,
                         const std::string& who);

}  // namespace ferry::roles
