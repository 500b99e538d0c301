#include "transform/image_codec.hpp"

#include <spng.h>
#include <turbojpeg.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::transform {

namespace {

ImageSize checked(std::size_t height, std::size_t width, std::size_t channels, const char* format) {
  if (height == 0 || width == 0) throw TransformError(str_cat(format, " header gives an empty image"));
  if (height * width > kMaxImagePixels) {
    throw TransformError(str_cat(format, " header gives ", width, "x", height, " pixels, more than the ",
                                 kMaxImagePixels, " Ferry decodes"));
  }
  return {height, width, channels};
}

}  // namespace

JpegDecoder::JpegDecoder(bool fast)
    : handle_(tjInitDecompress()), flags_(fast ? TJFLAG_FASTDCT | TJFLAG_FASTUPSAMPLE : 0) {
  if (!handle_) throw TransformError(str_cat("tjInitDecompress failed: ", tjGetErrorStr2(nullptr)));
}

JpegDecoder::~JpegDecoder() {
  tjDestroy(handle_);  // returns -1 only for a null handle, which the constructor ruled out
}

ImageSize JpegDecoder::header(const std::byte* data, std::size_t bytes, ColorMode mode, int scale_denom) {
  int width = 0, height = 0, subsamp = 0, colorspace = 0;
  const auto* src = reinterpret_cast<const unsigned char*>(data);
  if (tjDecompressHeader3(handle_, src, static_cast<unsigned long>(bytes), &width, &height, &subsamp,
                          &colorspace) != 0) {
    throw TransformError(str_cat("not a readable JPEG (", bytes, " bytes): ", tjGetErrorStr2(handle_)));
  }
  const tjscalingfactor factor{1, scale_denom};
  return checked(static_cast<std::size_t>(TJSCALED(height, factor)),
                 static_cast<std::size_t>(TJSCALED(width, factor)), mode == ColorMode::rgb ? 3 : 1, "JPEG");
}

void JpegDecoder::decode(const std::byte* data, std::size_t bytes, const ImageSize& size, ColorMode mode,
                         std::byte* out) {
  const auto* src = reinterpret_cast<const unsigned char*>(data);
  const int format = mode == ColorMode::rgb ? TJPF_RGB : TJPF_GRAY;
  const int width = static_cast<int>(size.width), height = static_cast<int>(size.height);
  if (tjDecompress2(handle_, src, static_cast<unsigned long>(bytes), reinterpret_cast<unsigned char*>(out),
                    width, 0, height, format, flags_) == 0) {
    return;
  }
  const std::string why = tjGetErrorStr2(handle_);
  // libjpeg fills a truncated image with gray and only warns; PIL refuses it ("image file is truncated"), and
  // so does Ferry. Other warnings (extraneous bytes before a marker) leave a whole image and pass.
  if (tjGetErrorCode(handle_) == TJERR_WARNING && why.find("Premature end") == std::string::npos) return;
  throw TransformError(str_cat("corrupt JPEG (", bytes, " bytes): ", why));
}

namespace {

struct SpngFree {
  void operator()(spng_ctx* ctx) const noexcept { spng_ctx_free(ctx); }
};
using Spng = std::unique_ptr<spng_ctx, SpngFree>;

void check_spng(int status, const char* what, std::size_t bytes) {
  if (status != 0)
    throw TransformError(str_cat("corrupt PNG (", bytes, " bytes): ", what, ": ", spng_strerror(status)));
}

Spng open_png(const std::byte* data, std::size_t bytes) {
  Spng ctx(spng_ctx_new(0));
  if (!ctx) throw TransformError("spng_ctx_new failed (out of memory)");
  check_spng(spng_set_png_buffer(ctx.get(), data, bytes), "spng_set_png_buffer", bytes);
  return ctx;
}

}  // namespace

ImageSize png_header(const std::byte* data, std::size_t bytes, ColorMode mode) {
  Spng ctx = open_png(data, bytes);
  spng_ihdr ihdr{};
  check_spng(spng_get_ihdr(ctx.get(), &ihdr), "spng_get_ihdr", bytes);
  return checked(ihdr.height, ihdr.width, mode == ColorMode::rgb ? 3 : 1, "PNG");
}

void png_decode(const std::byte* data, std::size_t bytes, const ImageSize& size, ColorMode mode,
                std::byte* out) {
  Spng ctx = open_png(data, bytes);
  std::size_t need = 0;
  check_spng(spng_decoded_image_size(ctx.get(), SPNG_FMT_RGB8, &need), "spng_decoded_image_size", bytes);
  if (need != size.height * size.width * 3) throw TransformError("PNG header changed between reads");
  if (mode == ColorMode::rgb) {
    check_spng(spng_decode_image(ctx.get(), out, need, SPNG_FMT_RGB8, 0), "spng_decode_image", bytes);
    return;
  }
  // Gray: L = (19595 R + 38470 G + 7471 B + 2^15) >> 16, PIL's weights; a gray PNG maps to itself.
  thread_local std::vector<std::uint8_t> rgb;
  rgb.resize(need);
  check_spng(spng_decode_image(ctx.get(), rgb.data(), need, SPNG_FMT_RGB8, 0), "spng_decode_image", bytes);
  auto* o = reinterpret_cast<std::uint8_t*>(out);
  for (std::size_t p = 0; p < size.height * size.width; ++p) {
    const std::uint8_t* px = rgb.data() + 3 * p;
    o[p] = static_cast<std::uint8_t>((19595u * px[0] + 38470u * px[1] + 7471u * px[2] + 32768u) >> 16);
  }
}

}  // namespace ferry::transform
