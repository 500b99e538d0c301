// Each transform op's Kokkos kernel (through Chain::run, as the loader calls it) against a plain scalar loop
// computing the same thing, in the same run. The closing "ratio" lines divide the two times, so they read the
// same on any machine: near 1 means the functor + Kokkos dispatch costs nothing over hand-written loops.
// Then "numpy" lines: each op's elements/s against numpy's on the same arrays (perf/numpy_kernels.py, run
// with /usr/bin/python3 or $FERRY_PYTHON right after the kernels, so on the same load); >= 1 means Ferry's
// kernel is at least as fast as the Dataset code of perf/torch_loader.py.
// Batch: 8 samples of 224 x 224 x 3 (ImageNet-sized), HWC.
#include <benchmark/benchmark.h>
#include <math.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/hash.hpp"
#include "ratio_main.hpp"
#include "transform/chain.hpp"
#include "transform/kokkos_runtime.hpp"
#include "transform/vector_math.hpp"

namespace {

using ferry::DType;
using ferry::transform::Chain;
using ferry::transform::TensorDesc;

constexpr std::size_t kN = 8, kH = 224, kW = 224, kC = 3;
constexpr std::size_t kPixels = kH * kW, kElems = kPixels * kC;
constexpr std::uint64_t kSeed = 17, kEpoch = 2;

// Scalar baseline: in, out, sample ids; writes the same values the op does.
using Baseline = std::function<void(const std::byte*, std::byte*, const std::uint64_t*)>;

struct Case {
  std::string op;  // chain text
  DType input;
  Baseline baseline;
};

std::uint64_t sample_key(std::uint64_t id) {
  // The chain's key for op index 0: hash(seed, epoch, id, 0).
  return ferry::hash_combine(ferry::hash_combine(ferry::hash_combine(kSeed, kEpoch), id), 0);
}

void base_cast(const std::byte* in, std::byte* out, const std::uint64_t*) {
  const auto* x = reinterpret_cast<const std::uint8_t*>(in);
  auto* y = reinterpret_cast<float*>(out);
  for (std::size_t i = 0; i < kN * kElems; ++i) y[i] = static_cast<float>(x[i]) * 0.0039f + 0.0f;
}

void base_affine(const std::byte* in, std::byte* out, const std::uint64_t*) {
  const float sub[kC] = {0.485f, 0.456f, 0.406f}, div[kC] = {0.229f, 0.224f, 0.225f};
  const auto* x = reinterpret_cast<const float*>(in);
  auto* y = reinterpret_cast<float*>(out);
  for (std::size_t p = 0; p < kN * kPixels; ++p)
    for (std::size_t c = 0; c < kC; ++c) y[p * kC + c] = (x[p * kC + c] - sub[c]) / div[c];
}

void base_log1p(const std::byte* in, std::byte* out, const std::uint64_t*) {
  const auto* x = reinterpret_cast<const float*>(in);
  auto* y = reinterpret_cast<float*>(out);
  for (std::size_t i = 0; i < kN * kElems; ++i) y[i] = ::log1pf(x[i]);
}

void base_hwc_to_chw(const std::byte* in, std::byte* out, const std::uint64_t*) {
  const auto* x = reinterpret_cast<const float*>(in);
  auto* y = reinterpret_cast<float*>(out);
  for (std::size_t s = 0; s < kN; ++s)
    for (std::size_t p = 0; p < kPixels; ++p)
      for (std::size_t c = 0; c < kC; ++c) y[(s * kC + c) * kPixels + p] = x[(s * kPixels + p) * kC + c];
}

// Window copy shared by the crop/flip baselines: per-sample placement, then rows.
void base_window(const float* x, float* y, std::size_t oh, std::size_t ow, long top, long left, bool flip) {
  for (std::size_t r = 0; r < oh; ++r) {
    for (std::size_t col = 0; col < ow; ++col) {
      const long sy = top + static_cast<long>(r);
      const long sx = left + static_cast<long>(flip ? ow - 1 - col : col);
      const bool inside = sy >= 0 && sx >= 0 && sy < static_cast<long>(kH) && sx < static_cast<long>(kW);
      for (std::size_t c = 0; c < kC; ++c)
        y[(r * ow + col) * kC + c] = inside ? x[(sy * kW + sx) * kC + c] : 0.0f;
    }
  }
}

void base_center_crop(const std::byte* in, std::byte* out, const std::uint64_t*) {
  for (std::size_t s = 0; s < kN; ++s)
    base_window(reinterpret_cast<const float*>(in) + s * kElems,
                reinterpret_cast<float*>(out) + s * 192 * 192 * kC, 192, 192, 16, 16, false);
}

std::uint64_t draw(std::uint64_t id, std::uint64_t k) {
  return ferry::hash_combine(sample_key(id), 0xfedcba9800000000ULL + k);
}

void base_random_crop(const std::byte* in, std::byte* out, const std::uint64_t* ids) {
  for (std::size_t s = 0; s < kN; ++s) {
    const long top = static_cast<long>(((draw(ids[s], 0) >> 32) * 9) >> 32) - 4;
    const long left = static_cast<long>(((draw(ids[s], 1) >> 32) * 9) >> 32) - 4;
    base_window(reinterpret_cast<const float*>(in) + s * kElems, reinterpret_cast<float*>(out) + s * kElems,
                kH, kW, top, left, false);
  }
}

void base_random_flip(const std::byte* in, std::byte* out, const std::uint64_t* ids) {
  for (std::size_t s = 0; s < kN; ++s) {
    const bool flip = ferry::unit_float(draw(ids[s], 2)) < 0.5f;
    base_window(reinterpret_cast<const float*>(in) + s * kElems, reinterpret_cast<float*>(out) + s * kElems,
                kH, kW, 0, 0, flip);
  }
}

void base_resize(const std::byte* in, std::byte* out, const std::uint64_t*) {
  constexpr std::size_t kOh = 160, kOw = 160;
  const float sy = static_cast<float>(kH) / kOh, sx = static_cast<float>(kW) / kOw;
  const auto* x = reinterpret_cast<const float*>(in);
  auto* y = reinterpret_cast<float*>(out);
  for (std::size_t s = 0; s < kN; ++s) {
    const float* src = x + s * kElems;
    for (std::size_t r = 0; r < kOh; ++r) {
      const float fy = std::max((r + 0.5f) * sy - 0.5f, 0.0f);
      const std::size_t y0 = static_cast<std::size_t>(fy), y1 = std::min(y0 + 1, kH - 1);
      const float ly = fy - y0;
      for (std::size_t col = 0; col < kOw; ++col) {
        const float fx = std::max((col + 0.5f) * sx - 0.5f, 0.0f);
        const std::size_t x0 = static_cast<std::size_t>(fx), x1 = std::min(x0 + 1, kW - 1);
        const float lx = fx - x0;
        for (std::size_t c = 0; c < kC; ++c) {
          const auto at = [&](std::size_t yy, std::size_t xx) { return src[(yy * kW + xx) * kC + c]; };
          y[((s * kOh + r) * kOw + col) * kC + c] = (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) +
                                                    ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
        }
      }
    }
  }
}

void base_noise(const std::byte* in, std::byte* out, const std::uint64_t* ids) {
  const auto* x = reinterpret_cast<const float*>(in);
  auto* y = reinterpret_cast<float*>(out);
  for (std::size_t s = 0; s < kN; ++s) {
    const std::uint64_t key = sample_key(ids[s]);
    for (std::size_t e = 0; e < kElems; ++e) {
      const std::uint64_t bits = ferry::hash_combine(key, e);
      const float u1 = (static_cast<float>(bits >> 40) + 1.0f) * (1.0f / 16777216.0f);
      const float u2 = static_cast<float>((bits >> 16) & 0xffffff) * (1.0f / 16777216.0f);
      const float z = ::sqrtf(-2.0f * ::logf(u1)) * ::cosf(6.283185307179586f * u2);
      y[s * kElems + e] = x[s * kElems + e] + 0.0f + 0.1f * z;
    }
  }
}

const std::vector<Case>& cases() {
  static const std::vector<Case> kCases = {
      {"cast(scale=0.0039)", DType::u8, base_cast},
      {"normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])", DType::f32, base_affine},
      {"minmax(min=[0.485, 0.456, 0.406], max=[0.714, 0.68, 0.631])", DType::f32, base_affine},
      {"log1p", DType::f32, base_log1p},
      {"hwc_to_chw", DType::f32, base_hwc_to_chw},
      {"center_crop(height=192, width=192)", DType::f32, base_center_crop},
      {"random_crop(height=224, width=224, padding=4)", DType::f32, base_random_crop},
      {"random_flip", DType::f32, base_random_flip},
      {"resize(height=160, width=160)", DType::f32, base_resize},
      {"noise(std=0.1)", DType::f32, base_noise},
  };
  return kCases;
}

// Inputs in [0, 1) as f32, or 0..255 as u8; one buffer, viewed as either.
const std::vector<std::byte>& input_bytes(DType dtype) {
  static const auto make = [](DType t) {
    std::mt19937 gen(1);
    std::vector<std::byte> bytes(kN * kElems * ferry::dtype_size(t));
    for (std::size_t i = 0; i < kN * kElems; ++i) {
      if (t == DType::u8) {
        bytes[i] = static_cast<std::byte>(gen() & 0xff);
      } else {
        reinterpret_cast<float*>(bytes.data())[i] = std::uniform_real_distribution<float>(0, 1)(gen);
      }
    }
    return bytes;
  };
  static const std::vector<std::byte> kU8 = make(DType::u8), kF32 = make(DType::f32);
  return dtype == DType::u8 ? kU8 : kF32;
}

const std::vector<std::uint64_t> kIds = {5, 900, 13, 77, 4, 60001, 2, 8};

std::string op_name(const std::string& text) {
  return text.substr(0, text.find('('));
}

void register_case(const Case& c) {
  const std::string name = op_name(c.op);
  benchmark::RegisterBenchmark((name + "/kokkos").c_str(), [c](benchmark::State& state) {
    Chain chain(ferry::parse_op_chain(c.op, "bench"), TensorDesc::of(c.input, {kH, kW, kC}),
                ferry::Stage::augment, "image");
    std::vector<std::byte> out(kN * chain.output().bytes());
    const auto& in = input_bytes(c.input);
    for (auto _ : state) {
      chain.run(in.data(), out.data(), kN, kIds.data(), kSeed, kEpoch);
      benchmark::DoNotOptimize(out.data());
      benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kN));
  })->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark((name + "/baseline").c_str(), [c](benchmark::State& state) {
    std::vector<std::byte> out(kN * kElems * sizeof(float));
    const auto& in = input_bytes(c.input);
    for (auto _ : state) {
      c.baseline(in.data(), out.data(), kIds.data());
      benchmark::DoNotOptimize(out.data());
      benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kN));
  })->Unit(benchmark::kMicrosecond);
}

// The ratio lines: each op's Kokkos time over its baseline's.
void print_ratios(const ferry::perf::TimesReporter& times) {
  std::printf("\nratio = kokkos time / baseline time (batch of %zu x %zux%zux%zu, %s)\n", kN, kH, kW, kC,
              "Kokkos DefaultHostExecutionSpace");
  for (const Case& c : cases()) {
    const std::string name = op_name(c.op);
    const auto k = times.time(name + "/kokkos"), b = times.time(name + "/baseline");
    if (!k || !b || *b <= 0) continue;
    std::printf("ratio %-12s %6.2f  (kokkos %9.1f us, baseline %9.1f us)\n", name.c_str(), *k / *b, *k, *b);
  }
}

// numpy's best time (seconds, whole batch) per op on the arrays input_bytes() holds; empty when python3 or
// numpy is missing.
std::map<std::string, double> numpy_times() {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("ferry_bench_transform_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const DType t : {DType::u8, DType::f32}) {
    const auto& bytes = input_bytes(t);
    std::ofstream(dir / (t == DType::u8 ? "u8.raw" : "f32.raw"), std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  const char* python = std::getenv("FERRY_PYTHON");
  const std::string cmd = std::string(python ? python : "/usr/bin/python3") +
                          " " FERRY_PERF_DIR "/numpy_kernels.py --u8 " + (dir / "u8.raw").string() +
                          " --f32 " + (dir / "f32.raw").string() + " --shape " + std::to_string(kN) + "," +
                          std::to_string(kH) + "," + std::to_string(kW) + "," + std::to_string(kC);
  std::map<std::string, double> times;
  if (FILE* pipe = ::popen(cmd.c_str(), "r")) {
    char name[64];
    double seconds = 0;
    while (std::fscanf(pipe, " numpy %63s %lf", name, &seconds) == 2) times[name] = seconds;
    ::pclose(pipe);
  }
  fs::remove_all(dir);
  return times;
}

void print_numpy_ratios(const ferry::perf::TimesReporter& times) {
  const auto numpy = numpy_times();
  if (numpy.empty()) {
    std::printf(
        "\nnumpy: no figures (perf/numpy_kernels.py failed; set FERRY_PYTHON to a python3 with numpy)\n");
    return;
  }
  const double elements = static_cast<double>(kN * kElems);
  std::printf("\nnumpy ratio = Ferry elements/s / numpy elements/s, input elements (log1p: %s)\n",
              ferry::transform::vmath::log1p_backend());
  for (const Case& c : cases()) {
    const std::string name = op_name(c.op);
    const auto k = times.time(name + "/kokkos");
    const auto it = numpy.find(name);
    if (!k || *k <= 0 || it == numpy.end() || it->second <= 0) continue;
    const double ferry_rate = elements / (*k * 1e-6), numpy_rate = elements / it->second;
    std::printf("numpy %-12s %6.2f  (ferry %8.1f M elements/s, numpy %8.1f M elements/s)\n", name.c_str(),
                ferry_rate / numpy_rate, ferry_rate * 1e-6, numpy_rate * 1e-6);
  }
}

}  // namespace

int main(int argc, char** argv) {
  ferry::transform::ensure_kokkos();
  for (const Case& c : cases()) register_case(c);
  return ferry::perf::run_with_ratios(argc, argv, [](const ferry::perf::TimesReporter& times) {
    print_ratios(times);
    print_numpy_ratios(times);
  });
}
