// Synthetic writers of the encoded-bytes kinds, into the vlen layout: vlen (random bytes) and jpeg (photos
// from photo_pixels, encoded, some spoiled on request for tests of the bad-input path).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "storage/jpeg_encoder.hpp"
#include "storage/synthetic.hpp"
#include "storage/synthetic_options.hpp"
#include "storage/vlen_writer.hpp"

namespace ferry::synthetic {

void photo_pixels(std::uint64_t seed, std::uint64_t id, PhotoSize size, std::uint8_t* out) {
  float f[6];
  for (int k = 0; k < 6; ++k) f[k] = 0.005f + 0.045f * unit_float(sample_bits(0x7a04, seed, id, k));
  for (std::size_t y = 0; y < size.height; ++y) {
    for (std::size_t x = 0; x < size.width; ++x) {
      const float fx = static_cast<float>(x), fy = static_cast<float>(y);
      const std::uint64_t noise = sample_bits(0x7a02, seed, id, y * size.width + x);
      const float luma = static_cast<float>(noise % 65) - 32.0f;
      for (std::size_t c = 0; c < 3; ++c) {
        const float fc = static_cast<float>(c);
        const float chroma = static_cast<float>((noise >> (8 + 8 * c)) % 25) - 12.0f;
        const float v = 128.0f + 50.0f * std::sin(fx * f[0] + fy * f[1] + fc) +
                        35.0f * std::cos(fx * f[2] - fy * f[3] + 2.0f * fc) +
                        20.0f * std::sin(fx * fy * f[4] * 0.01f + fc) + luma + chroma;
        out[(y * size.width + x) * 3 + c] = static_cast<std::uint8_t>(std::clamp(v, 0.0f, 255.0f));
      }
    }
  }
}

namespace {

// Commits a vlen file; `bytes` names its variable-length field.
GenResult vlen_result(const GenOptions& o, storage::VlenWriter& writer, FieldSpec bytes) {
  GenResult r;
  r.samples = o.samples;
  r.payload_bytes = writer.payload_bytes();
  r.file_bytes = writer.commit();
  r.spec.layout = Layout::vlen;
  r.spec.files = {o.out};
  r.spec.fields = {std::move(bytes), {"label", "/labels"}};
  return r;
}

}  // namespace

GenResult write_vlen(const GenOptions& o) {
  check_common(o);
  storage::VlenWriter writer(o.out, "/bytes", o.samples, {o.chunk, o.deflate});
  for (std::uint64_t id = 0; id < o.samples; ++id) {
    std::vector<std::uint8_t> sample(vlen_length(o.seed, id));
    for (std::uint64_t pos = 0; pos < sample.size(); ++pos) sample[pos] = vlen_byte(o.seed, id, pos);
    writer.add(std::move(sample), vlen_label(o.seed, id));
    report(o, id + 1);
  }
  return vlen_result(o, writer, {"bytes", "/bytes"});
}

namespace {

bool listed(const std::vector<std::uint64_t>& ids, std::uint64_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// A sample the options ask to be corrupt: truncated, noise (no JPEG marker), or empty.
void spoil(const GenOptions& o, std::uint64_t id, std::vector<std::uint8_t>& bytes) {
  if (listed(o.truncate_sample, id)) bytes.resize(bytes.size() / 2);
  if (listed(o.garbage_sample, id))
    for (std::size_t pos = 0; pos < bytes.size(); ++pos) bytes[pos] = vlen_byte(o.seed, id, pos) | 0x01;
  if (listed(o.empty_sample, id)) bytes.clear();
}

}  // namespace

GenResult write_jpeg(const GenOptions& o) {
  check_common(o);
  if (o.quality < 1 || o.quality > 100)
    throw ConfigError(str_cat("synthetic data: --quality ", o.quality, " is not in 1..100"));
  storage::VlenWriter writer(o.out, "/images", o.samples, {o.chunk, o.deflate});
  storage::JpegEncoder encoder;
  std::vector<std::uint8_t> pixels;
  for (std::uint64_t id = 0; id < o.samples; ++id) {
    const PhotoSize size = photo_size(o.seed, id, or_default(o.width, 500));
    pixels.resize(size.height * size.width * 3);
    photo_pixels(o.seed, id, size, pixels.data());
    std::vector<std::uint8_t> bytes = encoder.encode(pixels.data(), size.height, size.width, 3, o.quality);
    spoil(o, id, bytes);
    writer.add(std::move(bytes), photo_label(o.seed, id));
    report(o, id + 1);
  }
  return vlen_result(o, writer, {"image", "/images"});
}

}  // namespace ferry::synthetic
