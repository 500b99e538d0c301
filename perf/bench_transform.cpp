// Each transform op's Kokkos kernel (through Chain::run, as the loader calls it) against a plain scalar loop
// computing the same thing, in the same run. The closing "ratio" lines divide the two times, so they read the
// same on any machine: near 1 means the functor + Kokkos dispatch costs nothing over hand-written loops.
// Then "numpy" lines: each op's elements/s against numpy's on the same arrays (perf/numpy_kernels.py, run
// with /usr/bin/python3 or $FERRY_PYTHON right after the kernels, so on the same load); >= 1 means Ferry's
// kernel is at least as fast as the Dataset code of perf/torch_loader.py.
// Batch: 8 samples of 224 x 224 x 3 (ImageNet-sized), HWC.
// The cases (ops, baselines, inputs) are in bench_transform_cases.*; this file registers them and prints the
// ratios.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "bench_transform_cases.hpp"
#include "ratio_main.hpp"
#include "transform/chain.hpp"
#include "transform/kokkos_runtime.hpp"
#include "transform/vector_math.hpp"

namespace ferry::perf::bench_transform {
namespace {

using ferry::transform::Chain;
using ferry::transform::TensorDesc;

const std::vector<std::uint64_t> kIds = {5, 900, 13, 77, 4, 60001, 2, 8};

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
}  // namespace ferry::perf::bench_transform

int main(int argc, char** argv) {
  namespace bt = ferry::perf::bench_transform;
  ferry::transform::ensure_kokkos();
  for (const bt::Case& c : bt::cases()) bt::register_case(c);
  return ferry::perf::run_with_ratios(argc, argv, [](const ferry::perf::TimesReporter& times) {
    bt::print_ratios(times);
    bt::print_numpy_ratios(times);
  });
}
