// The consumer's device side (docs/heterogeneous.md): its accelerator for the augment stage (which
// pipelines can go there, jobs started as soon as a prefetched batch's data are in, results collected in
// order) and device-resident batches (runtime.device_batches: receives from the transformers' GPUs, the
// batch uploaded beside them). The rest of the consumer: consumer.cpp, consumer_assemble.cpp.
#include <algorithm>
#include <exception>
#include <map>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "roles/consumer.hpp"
#include "roles/consumer_state.hpp"
#include "transform/target.hpp"

namespace ferry::roles {

void ConsumerEngine::open_accelerator() {
  // A pipeline's augment stage can go to the device when every field it augments has a device program
  // (plain C++: decided before any device is touched, so a consumer with nothing to offload opens none).
  std::map<Pipe*, std::map<std::size_t, transform::DeviceProgram>> wanted;
  for (auto& p : pipes_) {
    const loader::SampleProcessor& proc = *p->runtime->processor;
    std::map<std::size_t, transform::DeviceProgram> programs;
    std::string no;
    bool all = true;
    for (std::size_t f = 0; f < proc.field_count() && all; ++f) {
      if (!proc.has_augment(f)) continue;
      if (auto program = proc.augment_program(f, &no))
        programs.emplace(f, std::move(*program));
      else
        all = false;
    }
    if (!all)
      log::info("rank {}: pipeline '{}' augments on the CPU only: {}", ctx_.rank, p->config->name, no);
    else if (!programs.empty())
      wanted.emplace(p.get(), std::move(programs));
  }
  if (wanted.empty()) return;
  // The device training uses on this thread (its current device), not device 0: consumers of one node that
  // each chose their GPU with cudaSetDevice / torch.cuda.set_device keep to it.
  std::string why;
  accelerator_ = AcceleratorUse::open(transform::cuda_current_device(), &why);
  if (!accelerator_) {
    log::debug("rank {}: augment stays on this consumer's CPU: {}", ctx_.rank, why);
    return;
  }
  try {
    for (auto& [pipe, programs] : wanted)
      for (auto& [field, program] : programs)
        pipe->device_programs[field] = accelerator_->accelerator().add_program(program);
    log::info("rank {}: accelerator {} for the augment stage of {} pipeline(s); utilization from {}",
              ctx_.rank, accelerator_->accelerator().name(), wanted.size(),
              accelerator_->utilization_source());
  } catch (const std::exception& e) {
    log::warn("rank {}: accelerator {} unusable, augmenting on the CPU: {}", ctx_.rank,
              accelerator_->accelerator().name(), e.what());
    for (auto& p : pipes_) p->device_programs.clear();
    accelerator_.reset();
  }
}

void ConsumerEngine::pump_device_receives() {
  if (receiving_) {
    if (!ctx_.link->done(receiving_->posted)) return;
    ctx_.link->release(receiving_->posted);
    Slot& s = slot_for(*receiving_->pipe, receiving_->epoch, receiving_->batch);
    s.waiting -= receiving_->positions;
    receiving_.reset();
  }
  if (incoming_.empty()) return;
  // One receive posted at a time, and the sender posts its send only when told: a device transfer then
  // never waits behind another one whose sender is not ready (docs/heterogeneous.md, device batches).
  Incoming next = incoming_.front();
  incoming_.pop_front();
  const int peer = ctx_.link_member.at(static_cast<std::size_t>(next.source));
  FERRY_ENFORCE(peer >= 0, "device samples from rank ", next.source, ", which is not on the device link");
  Slot& s = slot_for(*next.pipe, next.epoch, next.batch);
  next.posted = ctx_.link->receive(peer, s.inbox.data() + next.offset, next.bytes);
  receiving_ = next;
  Writer w;
  w.u(next.transfer);
  ctx_.fabric->send(next.source, kDeviceReady, w.view());
}

void ConsumerEngine::to_device(Pipe& p, Slot& s) {
  transform::PeerLink& link = *ctx_.link;
  const EntryLayout& layout = p.runtime->entry;
  if (s.reusable_after != 0) {
    link.copies_after(s.reusable_after);
    s.reusable_after = 0;
  }
  s.device_fields.resize(s.out.fields.size());
  for (std::size_t f = 0; f < s.out.fields.size(); ++f) {
    BatchField& field = s.out.fields[f];
    if (field.variable()) continue;  // variable-length fields stay in host memory
    std::byte* device = s.device_fields[f].reserve(link, std::max<std::size_t>(field.bytes, 1));
    link.upload(device, field.data, field.bytes);
  }
  // Samples that came device to device (their fields have no augment stage: prepared is final).
  for (const auto& place : s.placements) {
    const std::uint64_t bytes = layout.sizes[place.field];
    link.copy(s.device_fields[place.field].data() + place.position * bytes, s.inbox.data() + place.offset,
              bytes);
  }
  link.synchronize();
  for (std::size_t f = 0; f < s.out.fields.size(); ++f) {
    BatchField& field = s.out.fields[f];
    if (field.variable()) continue;
    field.device_data = s.device_fields[f].data();
    field.data = nullptr;  // the host copy misses what came device to device: not handed out
  }
}

void ConsumerEngine::start_on_device(Pipe& p, Slot& s) {
  s.routed = true;
  if (p.assembly) p.assembly->finish(s.index);  // the device's input: every sample in place (a no-op later)
  // A batch past its augment head runs the rest on the CPU (past_head_field).
  if (s.past_head || p.device_programs.empty() || !accelerator_ || !accelerator_->usable()) return;
  const auto index = static_cast<std::uint32_t>(p.runtime->index);
  const monitor::OpPlacement* placement = jobs_.find(index, 0, monitor::Stage::augment);
  const monitor::OpPlacement initial =
      monitor::placement_before_jobs(ctx_.monitor.policy, index, monitor::Stage::augment);
  // Routed by the batch's place in the pipeline (epoch * batches + batch): the same answer whenever it is
  // asked, ahead or at pop.
  if (monitor::route(placement ? *placement : initial, s.epoch * p.batches_per_epoch + s.batch) !=
      monitor::Target::accelerator)
    return;
  const auto t0 = std::chrono::steady_clock::now();
  loader::SampleProcessor& proc = *p.runtime->processor;
  transform::Device& device = accelerator_->device();
  s.args = {s.out.ids.data(), proc.seed(), s.epoch};
  s.field_out.resize(proc.field_count());
  try {
    for (const auto& [field, program] : p.device_programs) {
      const std::byte* in = prepared_samples(p, s, field);
      std::byte* out = batch_bytes(p, s, field);  // the device writes its result here
      const transform::DeviceJob job{
          program, in,     s.n * proc.prepared(field).bytes(), out, s.n * proc.output(field).bytes(),
          s.n,     &s.args};
      const transform::Device::Ticket ticket = device.stage(job);
      s.runs.push_back({field, ticket, in, out});
      device.launch(ticket);
    }
  } catch (const std::exception& e) {
    // Errors that leave the device usable (no memory beside training, a bad launch); an asynchronous fault
    // poisons the process's CUDA context, which training shares, and no fallback saves that.
    // Jobs of earlier fields may be on the device: they finish (or fail) before they are released.
    for (const auto& run : s.runs) settle(run.ticket);
    s.runs.clear();
    accelerator_->fail(reporter_->recorder(), ctx_.rank, "the augment stage", e);
  }
  s.device_ns += static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
}

std::exception_ptr ConsumerEngine::settle(transform::Device::Ticket ticket) {
  transform::Device& device = accelerator_->device();
  std::exception_ptr error;
  try {
    // The consumer's CPU is free meanwhile: Device::wait sleeps.
    while (!device.poll(ticket)) device.wait(std::chrono::microseconds(200));
  } catch (...) {
    error = std::current_exception();
  }
  device.release(ticket);
  return error;
}

bool ConsumerEngine::collect(Pipe& p, Slot& s, const DeviceRun& run) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::exception_ptr error = settle(run.ticket);
  s.device_ns += static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
  if (!error) return true;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    if (accelerator_->usable()) accelerator_->fail(reporter_->recorder(), ctx_.rank, "the augment stage", e);
  }
  p.runtime->processor->augment(run.field, run.in, run.out, s.n, s.out.ids.data(), s.epoch);
  return false;
}

void ConsumerEngine::start_ahead(Pipe& p) {
  if (p.device_programs.empty() || !accelerator_ || !accelerator_->usable()) return;
  for (Slot& s : p.ring) {
    // Only batches of the epoch whose plan is at hand (switching plans back and forth costs a permutation).
    if (s.routed || s.assembled || !p.plan || p.plan->epoch() != s.epoch || !complete(s)) continue;
    p.plan->batch_ids(p.my_index, s.batch, s.out.ids);
    start_on_device(p, s);
  }
}

}  // namespace ferry::roles
