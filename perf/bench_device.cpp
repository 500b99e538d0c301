// The prepare stages the accelerator path is for, on the CPU (Chain::run, one thread, as one CPU worker runs
// it) and on the GPU (cuda::CudaDevice through transform::Device: pinned staging, upload, the program, the
// download, as a transformation rank's device job runs it), in the same run. The closing "ratio" lines give
// GPU samples/s over CPU samples/s. Without a GPU the device runs are skipped with the reason and no ratio is
// printed.
//
//   cosmo_log1p   CosmoFlow-like volumes, i16 [4, 64, 64, 64]: cast | log1p
//   image_norm_crop  u8 [256, 256, 3] images: center_crop 224x224 | cast(1/255) | normalize (ImageNet
//   mean/std)
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ratio_main.hpp"
#include "transform/accelerator.hpp"
#include "transform/chain.hpp"
#include "transform/kokkos_runtime.hpp"

namespace {

using ferry::DType;
using ferry::Stage;
using ferry::transform::Chain;
using ferry::transform::TensorDesc;

struct Case {
  std::string name;
  TensorDesc input;
  std::string ops;
  std::size_t batch;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {"cosmo_log1p", TensorDesc::of(DType::i16, {4, 64, 64, 64}), "cast | log1p", 8},
      {"image_norm_crop", TensorDesc::of(DType::u8, {256, 256, 3}),
       "center_crop(height=224, width=224) | cast(scale=0.00392157) | "
       "normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])",
       32},
  };
  return c;
}

std::vector<std::byte> input_of(const Case& c) {
  std::vector<std::byte> in(c.batch * c.input.bytes());
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::byte>((i * 131 + 7) % 251);
  return in;
}

std::unique_ptr<ferry::transform::Accelerator>& accelerator(std::string* why) {
  static std::string reason;
  static auto device = ferry::transform::open_accelerator(0, &reason);
  if (why) *why = reason;
  return device;
}

void register_case(const Case& c) {
  benchmark::RegisterBenchmark(
      (c.name + "/cpu").c_str(),
      [c](benchmark::State& state) {
        Chain chain(ferry::parse_op_chain(c.ops, "bench"), c.input, Stage::prepare, "bench");
        const auto in = input_of(c);
        std::vector<std::byte> out(c.batch * chain.output().bytes());
        for (auto _ : state) {
          chain.run(in.data(), out.data(), c.batch, nullptr, 0, 0);
          benchmark::DoNotOptimize(out.data());
        }
        state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * c.batch));
      })
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark(
      (c.name + "/gpu").c_str(),
      [c](benchmark::State& state) {
        std::string why;
        auto& device = accelerator(&why);
        if (!device) {
          state.SkipWithError(("no GPU: " + why).c_str());
          for (auto _ : state) {
          }
          return;
        }
        Chain chain(ferry::parse_op_chain(c.ops, "bench"), c.input, Stage::prepare, "bench");
        const auto program = chain.device_program();
        const std::uint64_t kernel = device->add_program(*program);
        const auto in = input_of(c);
        std::vector<std::byte> out(c.batch * chain.output().bytes());
        ferry::transform::Device& d = device->device();
        const ferry::transform::DeviceJob job{kernel,     in.data(), in.size(), out.data(),
                                              out.size(), c.batch,   nullptr};
        for (auto _ : state) {
          const auto ticket = d.stage(job);
          d.launch(ticket);
          while (!d.poll(ticket)) d.wait(std::chrono::microseconds(50));
          d.release(ticket);
        }
        state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * c.batch));
      })
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
}

// The ratio lines: GPU samples/s over CPU samples/s, per stage.
void print_ratios(const ferry::perf::TimesReporter& times) {
  std::printf(
      "\nratio = GPU samples/s / CPU samples/s (CPU: one thread; GPU: staging and copies included)\n");
  for (const Case& c : cases()) {
    const auto cpu = times.time(c.name + "/cpu"), gpu = times.time(c.name + "/gpu");
    if (!cpu || !gpu || *gpu <= 0) continue;
    std::printf("ratio %-16s %7.2f  (batch of %zu: cpu %9.3f ms, gpu %9.3f ms)\n", c.name.c_str(),
                *cpu / *gpu, c.batch, *cpu, *gpu);
  }
}

}  // namespace

int main(int argc, char** argv) {
  ferry::transform::ensure_kokkos();
  for (const Case& c : cases()) register_case(c);
  return ferry::perf::run_with_ratios(argc, argv, print_ratios);
}
