// A transform::Device on one CUDA GPU, for the worker queue's accelerator jobs. Plain C++ (no CUDA types),
// only built when CUDA is found (FERRY_HAVE_CUDA); constructing one needs a visible device.
//
// Each job runs a registered DeviceProgram (a prepare chain's elementwise steps) over `samples` samples:
// stage() copies the host input into a pinned staging buffer and enqueues its copy to the device, launch()
// enqueues the steps and the copy back, both on the device's own stream (never the default one, which
// training may be using), between two events. poll() asks the end event (cudaEventQuery, never blocks) and
// on completion copies the result to the job's output and adds the events' elapsed time to busy_ns().
// Buffers live in slots that are reused, so steady state allocates nothing; there are as many slots as jobs
// ever were in flight at once (the worker queue's capacity bounds it).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "transform/device_program.hpp"
#include "transform/worker_queue.hpp"

namespace ferry::cuda {

class CudaDevice final : public transform::Device {
 public:
  // Uses device `ordinal`: every call makes it the calling thread's current device and puts the previous
  // one back before returning, so a caller's own device choice (training's) is left alone. Throws
  // TransportError naming the CUDA call that failed.
  explicit CudaDevice(int ordinal = 0);
  ~CudaDevice() override;
  CudaDevice(const CudaDevice&) = delete;
  CudaDevice& operator=(const CudaDevice&) = delete;

  // Registers a program (its per-channel parameters go to device memory once); DeviceJob::kernel names it.
  std::uint64_t add_program(const transform::DeviceProgram& program);

  Ticket stage(const transform::DeviceJob& job) override;
  void launch(Ticket ticket) override;
  bool poll(Ticket ticket) override;
  void release(Ticket ticket) noexcept override;
  void wait(std::chrono::microseconds timeout) override;
  std::uint64_t busy_ns() const noexcept override;
  const std::byte* result(Ticket ticket) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry::cuda
