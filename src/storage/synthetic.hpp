// Synthetic datasets shaped like the three reference workloads (ImageNet-like images, CosmoFlow, DeepCAM)
// plus encoded-bytes samples. Every value is a pure function of (seed, sample ID, element position), so a
// test, a transform or a rank that never saw the file can recompute exactly what a sample holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/hash.hpp"
#include "ferry/dataset.hpp"

namespace ferry::synthetic {

// ---- value functions (pure; `pos` is the element's flat row-major index inside the sample) ----------

FERRY_HD constexpr std::uint64_t sample_bits(std::uint64_t salt, std::uint64_t seed, std::uint64_t id,
                                             std::uint64_t pos) noexcept {
  return hash_combine(hash_combine(mix64(seed ^ salt), id), pos);
}

// Image pixel (HWC u8): one hash feeds 8 consecutive bytes, which keeps generation of large images cheap.
FERRY_HD constexpr std::uint8_t image_value(std::uint64_t seed, std::uint64_t id,
                                            std::uint64_t pos) noexcept {
  return static_cast<std::uint8_t>(sample_bits(0x1a6e, seed, id, pos / 8) >> (8 * (pos % 8)));
}
// Image class label in [0, 10).
FERRY_HD constexpr std::int32_t image_label(std::uint64_t seed, std::uint64_t id) noexcept {
  return static_cast<std::int32_t>(sample_bits(0x1abe, seed, id, 0) % 10);
}

// CosmoFlow particle count in [0, 200]: the product of two uniform bytes, skewed toward small counts like a
// Poisson field, and never negative, so log1p is always defined.
FERRY_HD constexpr std::int16_t cosmo_value(std::uint64_t seed, std::uint64_t id,
                                            std::uint64_t pos) noexcept {
  const std::uint64_t h = sample_bits(0xc05f, seed, id, pos);
  return static_cast<std::int16_t>(((h & 0xff) * ((h >> 8) & 0xff)) / 325);
}
// CosmoFlow target parameter k (of 4), in [-1, 1).
FERRY_HD constexpr float cosmo_param(std::uint64_t seed, std::uint64_t id, std::uint64_t k) noexcept {
  return unit_float(sample_bits(0xc0a7, seed, id, k)) * 2.0f - 1.0f;
}

// DeepCAM climate variable at flat position `pos` of [H, W, 16]: channel c = pos % 16 spans [-(c+1), c+1).
FERRY_HD constexpr float deepcam_value(std::uint64_t seed, std::uint64_t id, std::uint64_t pos) noexcept {
  const float channel_scale = static_cast<float>(pos % 16 + 1);
  return (unit_float(sample_bits(0xdeca, seed, id, pos)) * 2.0f - 1.0f) * channel_scale;
}
// DeepCAM segmentation label at pixel `pos` of [H, W]: 0 background (80%), 1 cyclone (15%), 2 river (5%).
FERRY_HD constexpr std::int32_t deepcam_label(std::uint64_t seed, std::uint64_t id,
                                              std::uint64_t pos) noexcept {
  const std::uint64_t r = sample_bits(0xdec1, seed, id, pos) % 20;
  return r < 16 ? 0 : (r < 19 ? 1 : 2);
}

constexpr std::uint64_t kVlenMinBytes = 64;
constexpr std::uint64_t kVlenMaxBytes = 4096;
// Length of encoded sample `id`, in [kVlenMinBytes, kVlenMaxBytes].
FERRY_HD constexpr std::uint64_t vlen_length(std::uint64_t seed, std::uint64_t id) noexcept {
  return kVlenMinBytes + sample_bits(0x71e9, seed, id, 0) % (kVlenMaxBytes - kVlenMinBytes + 1);
}
FERRY_HD constexpr std::uint8_t vlen_byte(std::uint64_t seed, std::uint64_t id, std::uint64_t pos) noexcept {
  return static_cast<std::uint8_t>(sample_bits(0x71eb, seed, id, pos / 8) >> (8 * (pos % 8)));
}
FERRY_HD constexpr std::int32_t vlen_label(std::uint64_t seed, std::uint64_t id) noexcept {
  return static_cast<std::int32_t>(sample_bits(0x71ea, seed, id, 0) % 1000);
}

// JPEG photo (kind jpeg): height and width, ImageNet-like. The longer side is 80..100% of `long_side`, the
// shorter 60..100% of the longer; three in four are landscape.
struct PhotoSize {
  std::size_t height, width;
};
FERRY_HD constexpr PhotoSize photo_size(std::uint64_t seed, std::uint64_t id,
                                        std::size_t long_side) noexcept {
  const std::uint64_t bits = sample_bits(0x7a01, seed, id, 0);
  const std::size_t longer = long_side - static_cast<std::size_t>(bits % (long_side / 5 + 1));
  const std::size_t shorter = longer * (60 + static_cast<std::size_t>((bits >> 16) % 41)) / 100;
  if ((bits >> 32) % 4 != 0) return {shorter > 0 ? shorter : 1, longer};
  return {longer, shorter > 0 ? shorter : 1};
}
// JPEG photo label in [0, 1000).
FERRY_HD constexpr std::int32_t photo_label(std::uint64_t seed, std::uint64_t id) noexcept {
  return static_cast<std::int32_t>(sample_bits(0x7a03, seed, id, 0) % 1000);
}
// The photo's pixels (HWC RGB u8, photo_size): smooth waves of per-image frequencies plus pixel noise, so
// that quality 90 gives about 100 KB for 500x375, like ImageNet's photos.
void photo_pixels(std::uint64_t seed, std::uint64_t id, PhotoSize size, std::uint8_t* out);

// ---- writers --------------------------------------------------------------------------------------

enum class Kind { image, cosmoflow, deepcam, vlen, jpeg };
bool parse_kind(std::string_view text, Kind& out) noexcept;
const char* kind_name(Kind kind) noexcept;

struct GenOptions {
  Kind kind = Kind::image;
  // image / vlen: the .h5 file to write. cosmoflow / deepcam: a directory (created) of one file a sample.
  std::string out;
  std::uint64_t samples = 1000;
  std::uint64_t seed = 0;
  std::size_t height = 0;        // 0: kind default (image 64, deepcam 96)
  std::size_t width = 0;         // 0: kind default (image 64, deepcam 144); jpeg: the longer side (500)
  std::size_t channels = 3;      // image only
  std::size_t cosmo_width = 32;  // cosmoflow cube edge (128 is the full-size benchmark)
  // stacked kinds: samples per chunk; per-sample kinds: chunk extent along the first axis. 0: contiguous.
  std::uint64_t chunk = 0;
  int deflate = 0;   // 0..9
  int quality = 90;  // jpeg: 1..100, 4:2:0
  // jpeg: samples that do not decode, for tests of the bad-input path: files cut to half their length
  // (truncated), replaced by as many bytes of noise (garbage), or empty (zero-length).
  std::vector<std::uint64_t> truncate_sample, garbage_sample, empty_sample;
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;  // may be empty
};

struct GenResult {
  std::uint64_t samples = 0;
  std::uint64_t payload_bytes = 0;  // uncompressed sample bytes written
  std::uint64_t file_bytes = 0;     // bytes on disk
  DatasetSpec spec;                 // opens what was written, fields named as below
};

// image:     stacked  /images [N,H,W,C] u8 ("image"), /labels [N] i32 ("label")
// cosmoflow: per file full [4,W,W,W] i16 ("full"), unitPar [4] f32 ("unitPar"); files sample_000000.h5 ...
// deepcam:   per file climate/data [H,W,16] f32 ("data"), climate/labels_0 [H,W] i32 ("label")
// vlen:      vlen     /bytes [N] vlen u8 ("bytes"), /labels [N] i32 ("label")
// jpeg:      vlen     /images [N] vlen u8 of JPEG files ("image"), /labels [N] i32 ("label")
// Throws ConfigError for bad options and DatasetError for I/O failures.
GenResult generate(const GenOptions& options);
GenResult write_image(const GenOptions& options);
GenResult write_cosmoflow(const GenOptions& options);
GenResult write_deepcam(const GenOptions& options);
GenResult write_vlen(const GenOptions& options);
GenResult write_jpeg(const GenOptions& options);

// File name of sample `id` in a per-sample directory of `samples` files: "sample_000042.h5".
std::string sample_file_name(std::uint64_t id, std::uint64_t samples);

}  // namespace ferry::synthetic
