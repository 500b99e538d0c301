#include "roles/shaped_sample.hpp"

#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::roles {
namespace {

std::string shape_text(const std::vector<std::uint64_t>& shape) {
  return str_cat("[", join(shape), "]");
}

}  // namespace

void encode(Writer& w, const ShapedSample& s) {
  encode(w, s.shape, s.bytes);
}

void decode(Reader& r, ShapedSample& s) {
  const std::uint64_t rank = r.u();
  FERRY_ENFORCE(rank <= kMaxSampleRank, "sample of ", rank, " dimensions, more than ", kMaxSampleRank);
  s.shape.resize(rank);
  for (auto& d : s.shape) {
    d = r.u();
    FERRY_ENFORCE(d <= kMaxSampleElements, "sample dimension of ", d, ", more than ", kMaxSampleElements);
  }
  s.bytes = r.raw(r.u());
}

std::string shape_problem(const transform::TensorDesc& desc, const ShapedSample& s) {
  if (s.shape.size() != desc.shape.size())
    return str_cat("has shape ", shape_text(s.shape), " for samples of ", desc.str());
  std::uint64_t elements = 1;
  for (std::size_t d = 0; d < s.shape.size(); ++d) {
    const std::uint64_t want = desc.shape[d], got = s.shape[d];
    if (want != 0 ? got != want : got == 0)
      return str_cat("has shape ", shape_text(s.shape), " for samples of ", desc.str());
    if (got > kMaxSampleElements / elements)  // before the product can overflow
      return str_cat("has shape ", shape_text(s.shape), ", more than ", kMaxSampleElements, " elements");
    elements *= got;
  }
  const std::uint64_t want = elements * dtype_size(desc.dtype);
  if (s.bytes.size() != want)
    return str_cat("of shape ", shape_text(s.shape), " has ", s.bytes.size(), " bytes, not ", want);
  return {};
}

ShapedSample read_shaped(std::span<const std::byte> field_bytes, const transform::TensorDesc& desc,
                         const std::string& who) {
  ShapedSample s;
  Reader r(field_bytes);
  try {
    decode(r, s);
  } catch (const Error& e) {
    throw InternalError(str_cat(who, ": a sample past its augment head is malformed: ", e.what()));
  }
  std::string problem = shape_problem(desc, s);
  if (problem.empty() && !r.done()) problem = "has bytes after its data";
  if (!problem.empty()) throw InternalError(str_cat(who, ": a sample past its augment head ", problem));
  return s;
}

}  // namespace ferry::roles
