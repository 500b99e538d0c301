#include "storage/jpeg_encoder.hpp"

#include <turbojpeg.h>

#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::storage {

JpegEncoder::JpegEncoder() : handle_(tjInitCompress()) {
  if (!handle_) throw DatasetError(str_cat("tjInitCompress failed: ", tjGetErrorStr2(nullptr)), "", "");
}

JpegEncoder::~JpegEncoder() {
  tjDestroy(handle_);  // fails only for a null handle, which the constructor ruled out
}

std::vector<std::uint8_t> JpegEncoder::encode(const std::uint8_t* pixels, std::size_t height,
                                              std::size_t width, std::size_t channels, int quality) {
  const bool rgb = channels == 3;
  if (!rgb && channels != 1)
    throw DatasetError(str_cat("JPEG encoding takes 1 or 3 channels, not ", channels), "", "");
  const int w = static_cast<int>(width), h = static_cast<int>(height);
  const int subsamp = rgb ? TJSAMP_420 : TJSAMP_GRAY;
  // A buffer of the worst-case size: libjpeg-turbo then never reallocates it.
  std::vector<std::uint8_t> out(tjBufSize(w, h, subsamp));
  unsigned char* dst = out.data();
  unsigned long size = static_cast<unsigned long>(out.size());
  if (tjCompress2(handle_, pixels, w, 0, h, rgb ? TJPF_RGB : TJPF_GRAY, &dst, &size, subsamp, quality,
                  TJFLAG_NOREALLOC) != 0) {
    throw DatasetError(str_cat("JPEG encoding failed: ", tjGetErrorStr2(handle_)), "", "");
  }
  out.resize(size);
  return out;
}

}  // namespace ferry::storage
