// The LocalLoader tests' data and helpers: small datasets written once for the whole binary (images, a
// CosmoFlow folder, variable-length bytes, JPEGs good and bad), a pipeline over the images, and a drain that
// copies out every batch a consumer gets.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "ferry/local_loader.hpp"
#include "storage/synthetic.hpp"

namespace ferry::loader::test {

namespace fs = std::filesystem;
using synthetic::GenOptions;
using synthetic::Kind;

constexpr std::uint64_t kSeed = 5;  // data seed (the files' content)

// Small datasets written once for the whole suite.
class LoaderData : public ::testing::Environment {
 public:
  static inline std::string dir;
  void SetUp() override {
    dir = (fs::path(::testing::TempDir()) / ("ferry_loader_" + std::to_string(::getpid()))).string();
    fs::create_directories(dir);
    GenOptions img;
    img.kind = Kind::image;
    img.out = dir + "/images.h5";
    img.samples = 103;
    img.seed = kSeed;
    img.height = 6;
    img.width = 5;
    img.channels = 3;
    img.chunk = 8;
    img.deflate = 1;
    ferry::synthetic::generate(img);
    GenOptions cosmo = img;
    cosmo.kind = Kind::cosmoflow;
    cosmo.out = dir + "/cosmo";
    cosmo.samples = 12;
    cosmo.cosmo_width = 4;
    cosmo.chunk = 0;
    cosmo.deflate = 0;
    ferry::synthetic::generate(cosmo);
    GenOptions vlen = img;
    vlen.kind = Kind::vlen;
    vlen.out = dir + "/vlen.h5";
    vlen.samples = 40;
    vlen.chunk = 0;
    vlen.deflate = 0;
    ferry::synthetic::generate(vlen);
    GenOptions jpeg = vlen;
    jpeg.kind = Kind::jpeg;
    jpeg.out = dir + "/jpeg.h5";
    jpeg.samples = 30;
    jpeg.width = 48;  // the longer side
    ferry::synthetic::generate(jpeg);
    jpeg.out = dir + "/jpeg_bad.h5";
    jpeg.truncate_sample = {13};
    ferry::synthetic::generate(jpeg);
  }
  void TearDown() override { fs::remove_all(dir); }
};

// An inline variable: registered once per binary, however many test files include this header.
[[maybe_unused]] inline auto* const kLoaderEnv = ::testing::AddGlobalTestEnvironment(new LoaderData);

inline ferry::PipelineConfig image_pipeline() {
  ferry::PipelineConfig p;
  p.name = "img";
  p.seed = 99;
  p.epochs = 2;
  p.batch_size = 4;
  p.dataset.files = {LoaderData::dir + "/images.h5"};
  p.dataset.fields = {{"image", "/images"}, {"label", "/labels"}};
  return p;
}

// Every batch of every epoch of consumer c of C, copied out.
struct Delivered {
  std::uint64_t epoch, index;
  std::vector<std::uint64_t> ids;
  std::vector<std::vector<std::byte>> fields;
};

inline std::vector<Delivered> drain(const ferry::PipelineConfig& p, std::uint32_t c = 0,
                                    std::uint32_t consumers = 1) {
  ferry::LocalLoader loader(p, c, consumers);
  std::vector<Delivered> out;
  while (const ferry::Batch* b = loader.next_batch()) {
    Delivered d{b->epoch, b->index, b->ids, {}};
    for (const auto& f : b->fields) d.fields.emplace_back(f.data, f.data + f.bytes);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace ferry::loader::test
