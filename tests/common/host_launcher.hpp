// transform::run_program's launcher on the host: the same functors through Kokkos' host space, one flat
// launch per step as the CUDA launcher makes. With it the tests check, without a GPU, that a DeviceProgram
// (its steps, their geometry, parameters and keys) computes what its chain computes.
#pragma once

#include "transform/dispatch.hpp"  // first: FERRY_HD becomes KOKKOS_INLINE_FUNCTION
#include "transform/kernels_elementwise.hpp"
#include "transform/kernels_image.hpp"
#include "transform/program_runner.hpp"
#include "transform/vector_math.hpp"

namespace ferry::transform::test {

struct HostLauncher {
  static constexpr std::size_t kPlacementBytes = sizeof(kernels::Placement);

  static kernels::Planes planes(const ImageGeometry& g) { return {g.planes, g.height, g.width, g.inner}; }

  void sample_keys(const std::uint64_t* ids, std::uint64_t* keys, std::size_t n, std::uint64_t batch_key,
                   std::uint64_t op_index) {
    for_each("test::keys", n, kernels::SampleKeys{ids, keys, batch_key, op_index});
  }
  void cast(DType from, const void* in, float* out, std::size_t count, double scale, double shift) {
    visit_dtype(from, [&](auto tag) {
      using T = decltype(tag);
      for_each("test::cast", count, kernels::Cast<T>{static_cast<const T*>(in), out, scale, shift});
    });
  }
  void affine(const float* in, float* out, std::size_t count, const float* sub, const float* div,
              std::size_t channels, std::size_t stride) {
    for_each("test::affine", count, kernels::ChannelAffine{in, out, sub, div, stride, channels});
  }
  // The host chain's log1p (vector routine, not one libm call per element), so the bytes match it; the CUDA
  // launcher's device log1pf matches to a few ulps only.
  void log1p(const float* in, float* out, std::size_t count) { vmath::log1p(in, out, count); }
  void transpose(std::size_t word, bool to_chw, const void* in, void* out, std::size_t n, std::size_t pixels,
                 std::size_t channels) {
    visit_word(word, [&](auto tag) {
      using W = decltype(tag);
      const auto* i = static_cast<const W*>(in);
      auto* o = static_cast<W*>(out);
      if (to_chw)
        for_each("test::to_chw", n * pixels * channels, kernels::HwcToChw<W>{i, o, pixels, channels});
      else
        for_each("test::to_hwc", n * pixels * channels, kernels::ChwToHwc<W>{i, o, pixels, channels});
    });
  }
  void place_random(const std::uint64_t* keys, void* places, std::size_t n, std::int64_t range_y,
                    std::int64_t range_x, std::int64_t pad, float flip_p) {
    for_each(
        "test::place", n,
        kernels::PlaceRandom{keys, static_cast<kernels::Placement*>(places), range_y, range_x, pad, flip_p});
  }
  void window(std::size_t word, const void* in, void* out, std::size_t n, const ImageGeometry& src,
              const ImageGeometry& dst, const void* places, std::int64_t top, std::int64_t left, bool flip) {
    visit_word(word, [&](auto tag) {
      using W = decltype(tag);
      const kernels::Window<W> f{static_cast<const W*>(in),
                                 static_cast<W*>(out),
                                 planes(src),
                                 planes(dst),
                                 static_cast<const kernels::Placement*>(places),
                                 kernels::Placement{top, left, flip ? 1 : 0}};
      for (std::size_t p = 0; p < n * dst.planes * dst.height * dst.width; ++p) f(p);  // flat, as on a GPU
    });
  }
  void resize(const float* in, float* out, std::size_t n, const ImageGeometry& src,
              const ImageGeometry& dst) {
    const float sy = static_cast<float>(src.height) / static_cast<float>(dst.height);
    const float sx = static_cast<float>(src.width) / static_cast<float>(dst.width);
    const kernels::ResizeBilinear f{in, out, planes(src), planes(dst), sy, sx};
    for (std::size_t p = 0; p < n * dst.planes * dst.height * dst.width; ++p) f(p);
  }
  void noise(const float* in, float* out, const std::uint64_t* keys, std::size_t n, std::size_t elements,
             float mean, float stdev) {
    for_each("test::noise", n * elements, kernels::GaussianNoise{in, out, keys, elements, mean, stdev});
  }
};

}  // namespace ferry::transform::test
