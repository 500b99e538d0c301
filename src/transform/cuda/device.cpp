// CudaDevice (device.hpp): programs registered once, jobs staged, launched and polled in reusable slots on
// the device's own stream.
#include "transform/cuda/device.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "transform/cuda/check_cuda.hpp"
#include "transform/cuda/device_scope.hpp"
#include "transform/cuda/growing_buffer.hpp"
#include "transform/cuda/launch.hpp"
#include "transform/cuda/stream_launcher.hpp"
#include "transform/program_runner.hpp"

namespace ferry::cuda {
namespace {

struct Program {
  transform::DeviceProgram program;
  std::vector<DeviceBuffer> sub, div;            // per step: affine parameters on the device
  std::vector<const float*> sub_ptrs, div_ptrs;  // the same, as run_program takes them
};

}  // namespace

struct CudaDevice::Impl {
  struct Slot {
    PinnedBuffer host_in, host_out, host_ids;
    DeviceBuffer in, a, b, ids, keys, places;
    transform::DeviceArgs args;  // the job's seed and epoch (ids are copied to host_ids)
    cudaEvent_t start = nullptr, end = nullptr;
    transform::DeviceJob job;
    const void* result = nullptr;  // the last step's output in device memory (a, b or in)
    bool busy = false;
  };

  int ordinal = 0;
  cudaStream_t stream = nullptr;
  std::vector<Program> programs;
  std::vector<std::unique_ptr<Slot>> slots;
  std::unordered_map<Ticket, Slot*> tickets;
  Ticket next_ticket = 1;
  std::atomic<std::uint64_t> busy{0};

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
  const DeviceScope scope(impl_->ordinal);
  FERRY_CHECK_CUDA(cudaStreamCreateWithFlags(&impl_->stream, cudaStreamNonBlocking));
}

CudaDevice::~CudaDevice() {
  int previous = 0;
  if (cudaGetDevice(&previous) != cudaSuccess || cudaSetDevice(impl_->ordinal) != cudaSuccess) return;
  FERRY_REPORT_CUDA(cudaStreamSynchronize(impl_->stream));
  for (auto& s : impl_->slots) {
    for (PinnedBuffer* b : {&s->host_in, &s->host_out, &s->host_ids}) b->free();
    for (DeviceBuffer* b : {&s->in, &s->a, &s->b, &s->ids, &s->keys, &s->places}) b->free();
    FERRY_REPORT_CUDA(cudaEventDestroy(s->start));
    FERRY_REPORT_CUDA(cudaEventDestroy(s->end));
  }
  for (auto& p : impl_->programs) {
    for (auto& d : p.sub) d.free();
    for (auto& d : p.div) d.free();
  }
  FERRY_REPORT_CUDA(cudaStreamDestroy(impl_->stream));
  FERRY_REPORT_CUDA(cudaSetDevice(previous));
}

std::uint64_t CudaDevice::add_program(const transform::DeviceProgram& program) {
  const DeviceScope scope(impl_->ordinal);
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
  for (std::size_t i = 0; i < program.steps.size(); ++i) {
    p.sub_ptrs.push_back(static_cast<const float*>(p.sub[i].data));
    p.div_ptrs.push_back(static_cast<const float*>(p.div[i].data));
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
  const auto* args = static_cast<const transform::DeviceArgs*>(job.context);
  if (program.random && (!args || !args->ids))
    throw TransformError("CUDA device: a random program's job needs its sample IDs (DeviceArgs)");
  const DeviceScope scope(impl_->ordinal);
  Impl::Slot& slot = impl_->free_slot();
  const std::size_t between = job.samples * program.max_sample_bytes;  // any step's input or output
  slot.host_in.reserve(job.input_bytes);
  slot.host_out.reserve(job.output_bytes);
  slot.in.reserve(job.input_bytes);
  slot.a.reserve(between);
  slot.b.reserve(between);
  std::memcpy(slot.host_in.data, job.input, job.input_bytes);
  FERRY_CHECK_CUDA(cudaEventRecord(slot.start, impl_->stream));
  FERRY_CHECK_CUDA(cudaMemcpyAsync(slot.in.data, slot.host_in.data, job.input_bytes, cudaMemcpyHostToDevice,
                                   impl_->stream));
  if (program.random) {
    const std::size_t id_bytes = job.samples * sizeof(std::uint64_t);
    slot.host_ids.reserve(id_bytes);
    slot.ids.reserve(id_bytes);
    slot.keys.reserve(id_bytes);
    slot.places.reserve(job.samples * placement_bytes());
    std::memcpy(slot.host_ids.data, args->ids, id_bytes);
    FERRY_CHECK_CUDA(
        cudaMemcpyAsync(slot.ids.data, slot.host_ids.data, id_bytes, cudaMemcpyHostToDevice, impl_->stream));
    slot.args = *args;
  }
  slot.job = job;
  slot.busy = true;
  const Ticket ticket = impl_->next_ticket++;
  impl_->tickets.emplace(ticket, &slot);
  return ticket;
}

void CudaDevice::launch(Ticket ticket) {
  Impl::Slot& slot = impl_->slot_of(ticket);
  const Program& p = impl_->programs[slot.job.kernel];
  const DeviceScope scope(impl_->ordinal);
  transform::ProgramMemory memory;
  memory.input = slot.in.data;
  memory.a = slot.a.data;
  memory.b = slot.b.data;
  memory.ids = static_cast<const std::uint64_t*>(slot.ids.data);
  memory.keys = static_cast<std::uint64_t*>(slot.keys.data);
  memory.places = slot.places.data;
  memory.sub = p.sub_ptrs.data();
  memory.div = p.div_ptrs.data();
  StreamLauncher launcher{impl_->stream};
  const void* result =
      transform::run_program(p.program, slot.job.samples, memory, slot.args.seed, slot.args.epoch, launcher);
  slot.result = result;
  FERRY_CHECK_CUDA(cudaMemcpyAsync(slot.host_out.data, result, slot.job.output_bytes, cudaMemcpyDeviceToHost,
                                   impl_->stream));
  FERRY_CHECK_CUDA(cudaEventRecord(slot.end, impl_->stream));
}

bool CudaDevice::poll(Ticket ticket) {
  Impl::Slot& slot = impl_->slot_of(ticket);
  const DeviceScope scope(impl_->ordinal);
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

const std::byte* CudaDevice::result(Ticket ticket) {
  return static_cast<const std::byte*>(impl_->slot_of(ticket).result);
}

std::uint64_t CudaDevice::busy_ns() const noexcept {
  return impl_->busy.load(std::memory_order_relaxed);
}

}  // namespace ferry::cuda
