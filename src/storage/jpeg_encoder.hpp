// JPEG encoding with libjpeg-turbo's TurboJPEG API, for the tools that write JPEG datasets (ferry-gen jpeg).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ferry::storage {

class JpegEncoder {
 public:
  JpegEncoder();
  ~JpegEncoder();
  JpegEncoder(const JpegEncoder&) = delete;
  JpegEncoder& operator=(const JpegEncoder&) = delete;

  // Encodes HWC u8 pixels (3 channels: RGB with 4:2:0 chroma subsampling; 1: gray) at `quality` (1..100).
  // Throws DatasetError with libjpeg-turbo's message on failure.
  std::vector<std::uint8_t> encode(const std::uint8_t* pixels, std::size_t height, std::size_t width,
                                   std::size_t channels, int quality);

 private:
  void* handle_;  // tjhandle
};

}  // namespace ferry::storage
