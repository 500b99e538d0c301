#include "transform/cuda/device.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "transform/cuda/check_cuda.hpp"
#include "transform/cuda/launch.hpp"

namespace ferry::cuda {
namespace {

// Device memory that grows and is reused. Growing frees the old buffer, and cudaFree waits for the device:
// that happens only while the first, largest jobs arrive.
struct DeviceBuffer {
  void* data = nullptr;
  std::size_t size = 0;
  void reserve(std::size_t bytes) {
    if (bytes <= size) return;
    if (data) FERRY_CHECK_CUDA(cudaFree(data));
    data = nullptr;
    size = 0;
    FERRY_CHECK_CUDA(cudaMalloc(&data, bytes));
    size = bytes;
  }
  void free() noexcept {
    if (data && cudaFree(data) != cudaSuccess) std::fprintf(stderr, "ferry: cudaFree failed\n");
    data = nullptr;
  }
};

// Pinned host memory (needed for copies that do not block the caller), grown and reused.
struct PinnedBuffer {
  void* data = nullptr;
  std::size_t size = 0;
  void reserve(std::size_t bytes) {
    if (bytes <= size) return;
    if (data) FERRY_CHECK_CUDA(cudaFreeHost(data));
    data = nullptr;
    size = 0;
    FERRY_CHECK_CUDA(cudaMallocHost(&data, bytes));
    size = bytes;
  }
  void free() noexcept {
    if (data && cudaFreeHost(data) != cudaSuccess) std::fprintf(stderr, "ferry: cudaFreeHost failed\n");
    data = nullptr;
  }
};

struct Program {
  transform::DeviceProgram program;
  std::vector<DeviceBuffer> sub, div;  // per step: affine parameters on the device
};

}  // namespace

struct CudaDevice::Impl {
  struct Slot {
    PinnedBuffer host_in, host_out;
    DeviceBuffer in, a, b;
    cudaEvent_t start = nullptr, end = nullptr;
    transform::DeviceJob job;
    bool busy = false;
  };

  int ordinal = 0;
  cudaStream_t stream = nullptr;
  std::vector<Program> programs;
  std::vector<std::unique_ptr<Slot>> slots;
  std::unordered_map<Ticket, Slot*> tickets;
  Ticket next_ticket = 1;
  std::atomic<std::uint64_t> busy{0};

  void select() const { FERRY_CHECK_CUDA(cudaSetDevice(ordinal)); }

  Slot& free_slot() {
    for (auto& s : slots)
      if (!s->busy) return *s;
    auto slot = std::make_unique<Slot>();
    FERRY_CHECK_CUDA(cudaEventCreate(&slot->start));
    FERRY_CHECK_CUDA(cudaEventCreate(&slot->end));
    slots.push_back(std::move(slot));
    return *slots.back();
  }

  Slot& slot_of(Ticket ticket) {
    auto it = tickets.find(ticket);
    if (it == tickets.end()) throw InternalError(str_cat("CUDA device: unknown ticket ", ticket));
    return *it->second;
  }
};

CudaDevice::CudaDevice(int ordinal) : impl_(std::make_unique<Impl>()) {
  impl_->ordinal = ordinal;
  impl_->select();
  FERRY_CHECK_CUDA(cudaStreamCreateWithFlags(&impl_->stream, cudaStreamNonBlocking));
}

CudaDevice::~CudaDevice() {
  if (cudaSetDevice(impl_->ordinal) != cudaSuccess) return;
  cudaStreamSynchronize(impl_->stream);
  for (auto& s : impl_->slots) {
    s->host_in.free();
    s->host_out.free();
    s->in.free();
    s->a.free();
    s->b.free();
    cudaEventDestroy(s->start);
    cudaEventDestroy(s->end);
  }
  for (auto& p : impl_->programs) {
    for (auto& d : p.sub) d.free();
    for (auto& d : p.div) d.free();
  }
  cudaStreamDestroy(impl_->stream);
}

std::uint64_t CudaDevice::add_program(const transform::DeviceProgram& program) {
  impl_->select();
  Program p;
  p.program = program;
  p.sub.resize(program.steps.size());
  p.div.resize(program.steps.size());
  for (std::size_t i = 0; i < program.steps.size(); ++i) {
    const auto& step = program.steps[i];
    if (step.kind != transform::DeviceStep::Kind::affine) continue;
    const std::size_t bytes = step.sub.size() * sizeof(float);
    p.sub[i].reserve(bytes);
    p.div[i].reserve(bytes);
    FERRY_CHECK_CUDA(cudaMemcpy(p.sub[i].data, step.sub.data(), bytes, cudaMemcpyHostToDevice));
    FERRY_CHECK_CUDA(cudaMemcpy(p.div[i].data, step.div.data(), bytes, cudaMemcpyHostToDevice));
  }
  impl_->programs.push_back(std::move(p));
  return impl_->programs.size() - 1;
}

transform::Device::Ticket CudaDevice::stage(const transform::DeviceJob& job) {
  if (job.kernel >= impl_->programs.size())
    throw TransformError(str_cat("CUDA device: no program ", job.kernel, " registered"));
  const auto& program = impl_->programs[job.kernel].program;
  if (job.input_bytes != job.samples * program.input.bytes() ||
      job.output_bytes != job.samples * program.output.bytes())
    throw TransformError(str_cat("CUDA device: job of ", job.samples, " samples has ", job.input_bytes,
                                 " input and ", job.output_bytes, " output bytes, the program wants ",
                                 program.input.bytes(), " and ", program.output.bytes(), " per sample"));
  impl_->select();
  Impl::Slot& slot = impl_->free_slot();
  const std::size_t elements = job.samples * program.input.elements();
  slot.host_in.reserve(job.input_bytes);
  slot.host_out.reserve(job.output_bytes);
  slot.in.reserve(job.input_bytes);
  slot.a.reserve(elements * sizeof(float));
  slot.b.reserve(elements * sizeof(float));
  std::memcpy(slot.host_in.data, job.input, job.input_bytes);
  FERRY_CHECK_CUDA(cudaEventRecord(slot.start, impl_->stream));
  FERRY_CHECK_CUDA(cudaMemcpyAsync(slot.in.data, slot.host_in.data, job.input_bytes, cudaMemcpyHostToDevice,
                                   impl_->stream));
  slot.job = job;
  slot.busy = true;
  const Ticket ticket = impl_->next_ticket++;
  impl_->tickets.emplace(ticket, &slot);
  return ticket;
}

void CudaDevice::launch(Ticket ticket) {
  Impl::Slot& slot = impl_->slot_of(ticket);
  const Program& p = impl_->programs[slot.job.kernel];
  const std::size_t count = slot.job.samples * p.program.input.elements();
  impl_->select();
  // Ping-pong between a and b; the first step reads the staged input.
  const void* from = slot.in.data;
  float* to = static_cast<float*>(slot.a.data);
  for (std::size_t i = 0; i < p.program.steps.size(); ++i) {
    const auto& step = p.program.steps[i];
    const auto* in = static_cast<const float*>(from);
    switch (step.kind) {
      case transform::DeviceStep::Kind::cast:
        cast_to_f32_async(step.from, from, to, count, step.scale, step.shift, impl_->stream);
        break;
      case transform::DeviceStep::Kind::affine:
        channel_affine_async(in, to, count, static_cast<const float*>(p.sub[i].data),
                             static_cast<const float*>(p.div[i].data), step.sub.size(), step.stride,
                             impl_->stream);
        break;
      case transform::DeviceStep::Kind::log1p:
        log1p_async(in, to, count, impl_->stream);
        break;
    }
    from = to;
    to = to == slot.a.data ? static_cast<float*>(slot.b.data) : static_cast<float*>(slot.a.data);
  }
  FERRY_CHECK_CUDA(cudaMemcpyAsync(slot.host_out.data, from, slot.job.output_bytes, cudaMemcpyDeviceToHost,
                                   impl_->stream));
  FERRY_CHECK_CUDA(cudaEventRecord(slot.end, impl_->stream));
}

bool CudaDevice::poll(Ticket ticket) {
  Impl::Slot& slot = impl_->slot_of(ticket);
  impl_->select();
  const cudaError_t rc = cudaEventQuery(slot.end);
  if (rc == cudaErrorNotReady) return false;
  FERRY_CHECK_CUDA(rc);
  float ms = 0;
  FERRY_CHECK_CUDA(cudaEventElapsedTime(&ms, slot.start, slot.end));
  impl_->busy.fetch_add(static_cast<std::uint64_t>(static_cast<double>(ms) * 1e6), std::memory_order_relaxed);
  std::memcpy(slot.job.output, slot.host_out.data, slot.job.output_bytes);
  return true;
}

void CudaDevice::release(Ticket ticket) noexcept {
  auto it = impl_->tickets.find(ticket);
  if (it == impl_->tickets.end()) return;
  it->second->busy = false;
  impl_->tickets.erase(it);
}

void CudaDevice::wait(std::chrono::microseconds timeout) {
  // The queue's progress thread sleeps here between polls (WorkerQueueOptions::device_wait, 500 us by
  // default), never on an event: blocking in cudaEventSynchronize would hold up no one but costs a context
  // switch per job either way.
  std::this_thread::sleep_for(std::min<std::chrono::microseconds>(timeout, std::chrono::milliseconds(1)));
}

std::uint64_t CudaDevice::busy_ns() const noexcept {
  return impl_->busy.load(std::memory_order_relaxed);
}

}  // namespace ferry::cuda
