// Runs a DeviceProgram's steps through a launcher: the sequencing written once (ping-pong buffers, the
// per-sample keys of random steps, the ranges of random windows), whatever launches the kernels. The CUDA
// device (cuda/device.cpp) runs it with launchers that enqueue on its stream; the tests run it with Kokkos
// host launchers and compare with Chain::run, so a program that describes its chain wrongly fails here too.
// Host C++ (no CUDA types; device_program.hpp needs C++20, so nvcc-compiled files do not include it).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/hash.hpp"
#include "transform/device_program.hpp"

namespace ferry::transform {

// Memory a program runs in, all in the launcher's address space. `a` and `b` hold samples *
// program.max_sample_bytes each; `ids`, `keys` and `places` (samples * the launcher's placement size) are
// needed only by random programs. `sub`/`div` hold each affine step's per-channel parameters (by step index).
struct ProgramMemory {
  const void* input = nullptr;
  void* a = nullptr;
  void* b = nullptr;
  const std::uint64_t* ids = nullptr;
  std::uint64_t* keys = nullptr;
  void* places = nullptr;
  const float* const* sub = nullptr;
  const float* const* div = nullptr;
};

// Launcher: sample_keys(ids, keys, n, batch_key, op_index), cast(from, in, out, count, scale, shift),
// affine(in, out, count, sub, div, channels, stride), log1p(in, out, count),
// transpose(word, to_chw, in, out, n, pixels, channels), place_random(keys, places, n, range_y, range_x, pad,
// flip_p), window(word, in, out, n, src, dst, places_or_null, top, left, flip), resize(in, out, n, src, dst),
// noise(in, out, keys, n, sample_elements, mean, stdev). Returns where the output is (a or b).
template <typename Launcher>
const void* run_program(const DeviceProgram& program, std::size_t n, const ProgramMemory& m,
                        std::uint64_t seed, std::uint64_t epoch, Launcher& launch) {
  using Kind = DeviceStep::Kind;
  const std::uint64_t batch_key = hash_combine(seed, epoch);
  const void* from = m.input;
  void* to = m.a;
  for (std::size_t i = 0; i < program.steps.size(); ++i) {
    const DeviceStep& step = program.steps[i];
    const auto* in = static_cast<const float*>(from);
    auto* out = static_cast<float*>(to);
    const std::size_t count = n * step.in.elements();
    const std::size_t word = dtype_size(step.in.dtype);
    if (step.random) launch.sample_keys(m.ids, m.keys, n, batch_key, step.op_index);
    switch (step.kind) {
      case Kind::cast:
        launch.cast(step.from, from, out, count, step.scale, step.shift);
        break;
      case Kind::affine:
        launch.affine(in, out, count, m.sub[i], m.div[i], step.sub.size(), step.stride);
        break;
      case Kind::log1p:
        launch.log1p(in, out, count);
        break;
      case Kind::transpose:
        launch.transpose(word, step.to_chw, from, to, n, step.in.height() * step.in.width(),
                         step.in.channels());
        break;
      case Kind::window: {
        const ImageGeometry src = geometry(step.in), dst = geometry(step.out);
        const void* places = nullptr;
        if (step.random) {
          // Never negative: the op's factory checked that the window fits the input and its padding.
          const std::int64_t range_y =
              static_cast<std::int64_t>(src.height) - static_cast<std::int64_t>(dst.height) + 2 * step.pad;
          const std::int64_t range_x =
              static_cast<std::int64_t>(src.width) - static_cast<std::int64_t>(dst.width) + 2 * step.pad;
          launch.place_random(m.keys, m.places, n, range_y, range_x, step.pad, step.flip_p);
          places = m.places;
        }
        launch.window(word, from, to, n, src, dst, places, step.top, step.left, step.flip);
        break;
      }
      case Kind::resize:
        launch.resize(in, out, n, geometry(step.in), geometry(step.out));
        break;
      case Kind::noise:
        launch.noise(in, out, m.keys, n, step.in.elements(), step.mean, step.stdev);
        break;
    }
    from = to;
    to = to == m.a ? m.b : m.a;
  }
  return from;
}

}  // namespace ferry::transform
