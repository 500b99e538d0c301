// Synthetic data: kind names, sample file names, generate(), and the writers of the HDF5-array kinds (image,
// cosmoflow, deepcam); the encoded-bytes kinds are in synthetic_encoded.cpp.
#include "storage/synthetic.hpp"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "storage/h5_writer.hpp"
#include "storage/synthetic_options.hpp"

namespace ferry::synthetic {

namespace fs = std::filesystem;
using storage::H5Writer;
using storage::WriteOptions;

namespace {

constexpr std::size_t kCosmoChannels = 4;
constexpr std::size_t kCosmoParams = 4;
constexpr std::size_t kDeepcamChannels = 16;
// Stacked writers fill and write this much sample data at a time (bounded memory for any N).
constexpr std::uint64_t kWriteBlockBytes = std::uint64_t{32} << 20;

// Samples per write block: about kWriteBlockBytes, and a whole number of chunks so no chunk is written twice.
std::uint64_t block_samples(std::uint64_t sample_bytes, std::uint64_t chunk, std::uint64_t total) {
  std::uint64_t n = std::max<std::uint64_t>(1, kWriteBlockBytes / std::max<std::uint64_t>(1, sample_bytes));
  if (chunk > 0) n = std::max<std::uint64_t>(chunk, n / chunk * chunk);
  return std::min(n, total);
}

void make_directory(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw DatasetError(str_cat(dir, ": cannot create directory: ", ec.message()), dir, "");
}

}  // namespace

bool parse_kind(std::string_view text, Kind& out) noexcept {
  for (Kind k : {Kind::image, Kind::cosmoflow, Kind::deepcam, Kind::vlen, Kind::jpeg}) {
    if (text == kind_name(k)) {
      out = k;
      return true;
    }
  }
  return false;
}

const char* kind_name(Kind kind) noexcept {
  switch (kind) {
    case Kind::image:
      return "image";
    case Kind::cosmoflow:
      return "cosmoflow";
    case Kind::deepcam:
      return "deepcam";
    case Kind::vlen:
      return "vlen";
    case Kind::jpeg:
      return "jpeg";
  }
  return "unknown";
}

std::string sample_file_name(std::uint64_t id, std::uint64_t samples) {
  const std::size_t digits = std::max<std::size_t>(6, std::to_string(samples > 0 ? samples - 1 : 0).size());
  std::string number = std::to_string(id);
  return str_cat("sample_", std::string(digits > number.size() ? digits - number.size() : 0, '0'), number,
                 ".h5");
}

GenResult generate(const GenOptions& options) {
  switch (options.kind) {
    case Kind::image:
      return write_image(options);
    case Kind::cosmoflow:
      return write_cosmoflow(options);
    case Kind::deepcam:
      return write_deepcam(options);
    case Kind::vlen:
      return write_vlen(options);
    case Kind::jpeg:
      return write_jpeg(options);
  }
  throw ConfigError("synthetic data: unknown kind");
}

GenResult write_image(const GenOptions& o) {
  check_common(o);
  const std::size_t h = or_default(o.height, 64), w = or_default(o.width, 64), c = o.channels;
  if (c == 0) throw ConfigError("synthetic data: --channels must be at least 1");
  const std::uint64_t sample_bytes = h * w * c;
  const WriteOptions wo{o.chunk, o.deflate};
  H5Writer file(o.out);
  const hsize_t image_dims[] = {o.samples, h, w, c};
  const hsize_t label_dims[] = {o.samples};
  storage::H5Dataset images = file.create("/images", H5T_STD_U8LE, image_dims, wo);
  storage::H5Dataset labels = file.create("/labels", H5T_STD_I32LE, label_dims, wo);
  const std::uint64_t block = block_samples(sample_bytes, o.chunk, o.samples);
  std::vector<std::uint8_t> pixels(block * sample_bytes);
  std::vector<std::int32_t> classes(block);
  for (std::uint64_t first = 0; first < o.samples; first += block) {
    const std::uint64_t n = std::min(block, o.samples - first);
    for (std::uint64_t i = 0; i < n; ++i) {
      std::uint8_t* dst = pixels.data() + i * sample_bytes;
      for (std::uint64_t pos = 0; pos < sample_bytes; ++pos) dst[pos] = image_value(o.seed, first + i, pos);
      classes[i] = image_label(o.seed, first + i);
    }
    file.write_samples(images.get(), "/images", H5T_NATIVE_UINT8, first, n, pixels.data());
    file.write_samples(labels.get(), "/labels", H5T_NATIVE_INT32, first, n, classes.data());
    report(o, first + n);
  }
  images.reset();
  labels.reset();
  GenResult r;
  r.samples = o.samples;
  r.payload_bytes = o.samples * (sample_bytes + sizeof(std::int32_t));
  r.file_bytes = file.commit();
  r.spec.layout = Layout::stacked;
  r.spec.files = {o.out};
  r.spec.fields = {{"image", "/images"}, {"label", "/labels"}};
  return r;
}

GenResult write_cosmoflow(const GenOptions& o) {
  check_common(o);
  const std::size_t w = o.cosmo_width;
  if (w == 0) throw ConfigError("synthetic data: --cosmo-width must be at least 1");
  make_directory(o.out);
  const std::uint64_t elements = kCosmoChannels * w * w * w;
  std::vector<std::int16_t> volume(elements);
  std::vector<float> params(kCosmoParams);
  const hsize_t volume_dims[] = {kCosmoChannels, w, w, w};
  const hsize_t param_dims[] = {kCosmoParams};
  GenResult r;
  for (std::uint64_t id = 0; id < o.samples; ++id) {
    for (std::uint64_t pos = 0; pos < elements; ++pos) volume[pos] = cosmo_value(o.seed, id, pos);
    for (std::size_t k = 0; k < kCosmoParams; ++k) params[k] = cosmo_param(o.seed, id, k);
    H5Writer file((fs::path(o.out) / sample_file_name(id, o.samples)).string());
    file.write_array<std::int16_t>("full", volume, volume_dims, {o.chunk, o.deflate});
    file.write_array<float>("unitPar", params, param_dims);
    r.file_bytes += file.commit();
    report(o, id + 1);
  }
  r.samples = o.samples;
  r.payload_bytes = o.samples * (elements * sizeof(std::int16_t) + kCosmoParams * sizeof(float));
  r.spec.layout = Layout::file_per_sample;
  r.spec.files = {o.out};
  r.spec.fields = {{"full", "full"}, {"unitPar", "unitPar"}};
  return r;
}

GenResult write_deepcam(const GenOptions& o) {
  check_common(o);
  const std::size_t h = or_default(o.height, 96), w = or_default(o.width, 144);
  make_directory(o.out);
  const std::uint64_t pixels = h * w;
  std::vector<float> data(pixels * kDeepcamChannels);
  std::vector<std::int32_t> labels(pixels);
  const hsize_t data_dims[] = {h, w, kDeepcamChannels};
  const hsize_t label_dims[] = {h, w};
  GenResult r;
  for (std::uint64_t id = 0; id < o.samples; ++id) {
    for (std::uint64_t pos = 0; pos < data.size(); ++pos) data[pos] = deepcam_value(o.seed, id, pos);
    for (std::uint64_t pos = 0; pos < pixels; ++pos) labels[pos] = deepcam_label(o.seed, id, pos);
    H5Writer file((fs::path(o.out) / sample_file_name(id, o.samples)).string());
    file.write_array<float>("climate/data", data, data_dims, {o.chunk, o.deflate});
    file.write_array<std::int32_t>("climate/labels_0", labels, label_dims, {o.chunk, o.deflate});
    r.file_bytes += file.commit();
    report(o, id + 1);
  }
  r.samples = o.samples;
  r.payload_bytes = o.samples * pixels * (kDeepcamChannels * sizeof(float) + sizeof(std::int32_t));
  r.spec.layout = Layout::file_per_sample;
  r.spec.files = {o.out};
  r.spec.fields = {{"data", "climate/data"}, {"label", "climate/labels_0"}};
  return r;
}

}  // namespace ferry::synthetic
