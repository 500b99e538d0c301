// A host stand-in for a GPU, for tests only: a transform::Accelerator whose Device runs the registered
// DeviceProgram with the Kokkos host launchers (the step sequencer the CUDA device uses, the same functors),
// so the runtime's device paths (job-list routing, device jobs through the worker queue and on consumers,
// fallback after a failed job, utilization reports) run on machines without a GPU and give the CPU chain's
// exact bytes. Install it with transform::set_accelerator_factory_for_tests(HostAccelerator::factory(...)).
#pragma once

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/host_launcher.hpp"
#include "transform/accelerator.hpp"

namespace ferry::transform::test {

struct HostDeviceCounters {
  std::atomic<std::uint64_t> jobs{0};     // jobs that ran to completion
  std::atomic<std::uint64_t> failed{0};   // jobs failed on purpose
  std::atomic<long long> outstanding{0};  // staged and not yet released
  std::atomic<std::uint64_t> misuse{0};   // poll or release of a ticket that is not staged
};

class HostDevice final : public Device {
 public:
  // Fails (poll throws) the job numbered `fail_job` (0-based, counted over this device); -1: never.
  HostDevice(HostDeviceCounters& counters, long long fail_job) : counters_(counters), fail_job_(fail_job) {}

  std::uint64_t add(const DeviceProgram& program) {
    programs_.push_back(program);
    return programs_.size() - 1;
  }

  Ticket stage(const DeviceJob& job) override {
    if (job.kernel >= programs_.size()) throw std::runtime_error("host device: no such program");
    const DeviceProgram& p = programs_[job.kernel];
    if (job.input_bytes != job.samples * p.input.bytes() ||
        job.output_bytes != job.samples * p.output.bytes())
      throw std::runtime_error("host device: job sizes do not match the program");
    Run run;
    run.job = job;
    run.input.assign(job.input, job.input + job.input_bytes);  // "upload": the caller may reuse its buffer
    const auto* args = static_cast<const DeviceArgs*>(job.context);
    if (p.random && (!args || !args->ids))
      throw std::runtime_error("host device: random program without ids");
    if (args) {
      run.args = *args;
      if (args->ids) run.ids.assign(args->ids, args->ids + job.samples);
    }
    run.number = staged_++;
    ++counters_.outstanding;
    const Ticket t = next_++;
    runs_.emplace(t, std::move(run));
    return t;
  }

  void launch(Ticket ticket) override {
    Run& r = run_of(ticket);
    const auto t0 = std::chrono::steady_clock::now();
    const DeviceProgram& p = programs_[r.job.kernel];
    const std::size_t n = r.job.samples;
    std::vector<std::byte> a(n * p.max_sample_bytes), b(a.size());
    std::vector<std::uint64_t> keys(n);
    std::vector<std::byte> places(n * HostLauncher::kPlacementBytes);
    std::vector<const float*> sub, div;
    for (const auto& step : p.steps) {
      sub.push_back(step.sub.data());
      div.push_back(step.div.data());
    }
    const ProgramMemory memory{r.input.data(), a.data(),      b.data(),   r.ids.data(),
                               keys.data(),    places.data(), sub.data(), div.data()};
    HostLauncher launcher;
    const void* out = run_program(p, n, memory, r.args.seed, r.args.epoch, launcher);
    r.output.assign(static_cast<const std::byte*>(out),
                    static_cast<const std::byte*>(out) + r.job.output_bytes);
    busy_ += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
  }

  bool poll(Ticket ticket) override {
    Run& r = run_of(ticket);
    if (static_cast<long long>(r.number) == fail_job_) {
      ++counters_.failed;
      throw std::runtime_error("host device: job failed on purpose");
    }
    std::memcpy(r.job.output, r.output.data(), r.output.size());  // "download"
    ++counters_.jobs;
    return true;
  }

  void release(Ticket ticket) noexcept override {
    if (runs_.erase(ticket) == 1)
      --counters_.outstanding;
    else
      ++counters_.misuse;  // released twice, or never staged
  }
  void wait(std::chrono::microseconds) override {}
  std::uint64_t busy_ns() const noexcept override { return busy_; }
  // The result as the device holds it until release (host memory here, like the stand-in link's).
  const std::byte* result(Ticket ticket) override { return run_of(ticket).output.data(); }

 private:
  struct Run;
  Run& run_of(Ticket ticket) {
    const auto it = runs_.find(ticket);
    if (it == runs_.end()) {
      ++counters_.misuse;
      throw std::runtime_error("host device: unknown ticket");
    }
    return it->second;
  }
  struct Run {
    DeviceJob job;
    DeviceArgs args;
    std::vector<std::byte> input, output;
    std::vector<std::uint64_t> ids;
    std::uint64_t number = 0;
  };
  HostDeviceCounters& counters_;
  long long fail_job_;
  std::vector<DeviceProgram> programs_;
  std::map<Ticket, Run> runs_;
  Ticket next_ = 1;
  std::uint64_t staged_ = 0;
  std::atomic<std::uint64_t> busy_{0};
};

class HostAccelerator final : public Accelerator {
 public:
  HostAccelerator(HostDeviceCounters& counters, long long fail_job) : device_(counters, fail_job) {}
  Device& device() noexcept override { return device_; }
  std::uint64_t add_program(const DeviceProgram& program) override { return device_.add(program); }
  std::string name() const override { return "host stand-in"; }
  std::string pci_bus_id() const override { return ""; }  // NVML finds nothing: utilization from "events"

  // A factory for set_accelerator_factory_for_tests: every open gets a fresh stand-in sharing `counters`.
  static AcceleratorFactory factory(HostDeviceCounters& counters, long long fail_job = -1) {
    return [&counters, fail_job](int, std::string*) -> std::unique_ptr<Accelerator> {
      return std::make_unique<HostAccelerator>(counters, fail_job);
    };
  }

 private:
  HostDevice device_;
};

}  // namespace ferry::transform::test
