// Decoders behind decode_jpeg and decode_png: libjpeg-turbo's TurboJPEG API and libspng, into u8 HWC.
// Errors are TransformError with the library's own words; the op adds field, op and sample.
#pragma once

#include <cstddef>

namespace ferry::transform {

enum class ColorMode : unsigned char { rgb, gray };

// A decoded image's geometry (HWC, u8).
struct ImageSize {
  std::size_t height = 0;
  std::size_t width = 0;
  std::size_t channels = 0;
  std::size_t bytes() const noexcept { return height * width * channels; }
};

// Images larger than this many pixels are refused before any memory is allocated for them: a corrupt
// header must not ask for gigabytes.
constexpr std::size_t kMaxImagePixels = std::size_t{1} << 28;

// One TurboJPEG decompressor. Not thread-safe: one per op (a chain is per thread).
class JpegDecoder {
 public:
  // `fast`: TJFLAG_FASTDCT | TJFLAG_FASTUPSAMPLE (ifast IDCT, no fancy upsampling), other values than
  // libjpeg's defaults by a few levels (docs/transforms.md, decode_jpeg(fast=true)).
  explicit JpegDecoder(bool fast = false);
  ~JpegDecoder();
  JpegDecoder(const JpegDecoder&) = delete;
  JpegDecoder& operator=(const JpegDecoder&) = delete;

  // Size of the decoded image with libjpeg's DCT scaling 1/`scale_denom` (1, 2, 4 or 8), from the header.
  ImageSize header(const std::byte* data, std::size_t bytes, ColorMode mode, int scale_denom);
  // Decodes into `out` (size.bytes()); `size` from header() with the same arguments. Warnings libjpeg
  // recovers from (extraneous bytes before a marker) pass, as they do in PIL; truncated data fails.
  void decode(const std::byte* data, std::size_t bytes, const ImageSize& size, ColorMode mode,
              std::byte* out);

 private:
  void* handle_;  // tjhandle
  int flags_;     // TJFLAG_* for tjDecompress2
};

// libspng: 8-bit RGB (alpha dropped, 16-bit samples reduced to their high byte) or gray (ITU-R 601 luma
// from RGB, as PIL's convert("L"), unless the PNG is gray already).
ImageSize png_header(const std::byte* data, std::size_t bytes, ColorMode mode);
void png_decode(const std::byte* data, std::size_t bytes, const ImageSize& size, ColorMode mode,
                std::byte* out);

}  // namespace ferry::transform
