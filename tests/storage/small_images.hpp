// The bad-input tests' image files: a small file of `n` images written by the generator, and the fields it
// holds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/synthetic.hpp"
#include "storage_test_util.hpp"

namespace ferry {

inline const std::vector<FieldSpec> kImageFields = {{"image", "/images"}, {"label", "/labels"}};

inline std::string write_images(const testing::TempDir& dir, const std::string& name, std::uint64_t n = 10,
                                std::size_t height = 4) {
  synthetic::GenOptions o;
  o.out = dir.file(name);
  o.samples = n;
  o.height = height;
  o.width = 4;
  o.channels = 1;
  synthetic::generate(o);
  return o.out;
}

}  // namespace ferry
