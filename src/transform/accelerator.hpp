// The accelerator a transformation rank can hand prepare jobs to, if any: a CUDA device when this build has
// CUDA and the process sees one (device `ordinal`, after CUDA_VISIBLE_DEVICES; Slurm's --gpus-per-task sets
// it per rank). Callers stay free of CUDA types and #ifs.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "transform/device_program.hpp"
#include "transform/worker_queue.hpp"

namespace ferry::transform {

class Accelerator {
 public:
  virtual ~Accelerator() = default;
  virtual Device& device() noexcept = 0;
  // Registers a program; DeviceJob::kernel names it.
  virtual std::uint64_t add_program(const DeviceProgram& program) = 0;
  virtual std::string name() const = 0;
  // The device's PCI bus id, for NVML (whose indices ignore CUDA_VISIBLE_DEVICES).
  virtual std::string pci_bus_id() const = 0;
};

// Nothing (and `why` says why) when this build has no CUDA, no device is visible, or the device fails to
// initialize (exclusive mode taken by another process, no memory left): the caller then stays on the CPU.
std::unique_ptr<Accelerator> open_accelerator(int ordinal, std::string* why = nullptr);

// Tests only: where open_accelerator() gets its device from instead of CUDA, so that the multi-rank tests run
// the runtime's device paths (routing, device jobs, fallback, monitoring) on machines without a GPU, with a
// host stand-in that runs the same programs. An empty function (the default) means CUDA. Set it before any
// Runtime is made; it applies to every later open_accelerator() in the process.
using AcceleratorFactory = std::function<std::unique_ptr<Accelerator>(int ordinal, std::string* why)>;
void set_accelerator_factory_for_tests(AcceleratorFactory factory);

}  // namespace ferry::transform
