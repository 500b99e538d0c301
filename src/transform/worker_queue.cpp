// WorkerQueue's jobs and hand-offs: submission with backpressure, the CPU workers, per-consumer ordering of
// the hand-offs, drain and shutdown. The accelerator path (staging, launching, polling) is in
// worker_queue_device.cpp.
#include "transform/worker_queue.hpp"

#include <Kokkos_Core.hpp>
#include <type_traits>
#include <utility>

#include "core/check.hpp"
#include "core/log.hpp"
#include "ferry/error.hpp"

namespace ferry::transform {

std::size_t host_dispatch_workers(std::size_t wanted) noexcept {
  if (wanted == 0) wanted = 1;
#if defined(KOKKOS_ENABLE_SERIAL)
  // Kokkos 3.4 Serial runs RangePolicy / MDRangePolicy parallel_for inline in the caller with no shared
  // state (the only kind Ferry's ops launch); reductions, scans and team policies would share one global
  // scratch, which Ferry does not use. docs/heterogeneous.md has the sources.
  if constexpr (std::is_same_v<Kokkos::DefaultHostExecutionSpace, Kokkos::Serial>) return wanted;
#endif
  return 1;
}

WorkerQueue::WorkerQueue(WorkerQueueOptions options, Device* device) : options_(options), device_(device) {
  FERRY_ENFORCE(options_.workers > 0, "a worker queue needs at least one worker");
  FERRY_ENFORCE(options_.capacity > 0, "a worker queue needs a capacity of at least one job");
  workers_.reserve(options_.workers);
  for (std::size_t i = 0; i < options_.workers; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
  if (device_ != nullptr) progress_ = std::thread([this] { progress_loop(); });
}

WorkerQueue::~WorkerQueue() {
  try {
    shutdown(Stop::drain);
  } catch (const std::exception& e) {
    log::warn("worker queue: a hand-off failed during shutdown: {}", e.what());
  } catch (...) {
    log::warn("worker queue: a hand-off failed during shutdown");
  }
}

void WorkerQueue::enqueue_locked(std::unique_lock<std::mutex>& lock, std::uint32_t consumer, Work&& work,
                                 Handoff&& done) {
  Lane& lane = lanes_[consumer];
  queue_.push_back(Job{consumer, lane.next_submit++, std::move(work), std::move(done)});
  ++outstanding_;
  lock.unlock();
  work_cv_.notify_one();
}

void WorkerQueue::submit(std::uint32_t consumer, Work work, Handoff done) {
  std::unique_lock lock(mutex_);
  space_cv_.wait(lock, [&] { return stopping_ || outstanding_ < options_.capacity; });
  if (stopping_) throw Error("worker queue: submit after shutdown");
  enqueue_locked(lock, consumer, std::move(work), std::move(done));
}

bool WorkerQueue::try_submit(std::uint32_t consumer, Work& work, Handoff& done) {
  std::unique_lock lock(mutex_);
  if (stopping_) throw Error("worker queue: submit after shutdown");
  if (outstanding_ >= options_.capacity) return false;
  enqueue_locked(lock, consumer, std::move(work), std::move(done));
  return true;
}

void WorkerQueue::worker_loop(std::size_t index) {
  for (;;) {
    std::unique_lock lock(mutex_);
    work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and nothing left to run
    Job job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();

    if (auto* cpu = std::get_if<CpuWork>(&job.work)) {
      std::exception_ptr error;
      try {
        (*cpu)(index);
      } catch (...) {
        error = std::current_exception();
      }
      finish(std::move(job), error);
    } else {
      run_device_job(std::move(job));
    }
  }
}

void WorkerQueue::finish(Job&& job, std::exception_ptr error) {
  std::unique_lock lock(mutex_);
  Lane& lane = lanes_[job.consumer];
  lane.ready.emplace(job.seq, Finished{std::move(job.done), error});
  if (lane.handing_off) return;  // that thread will find this result too
  lane.handing_off = true;
  // Hand off every result that is next in line. The lock is released around each hand-off so that other
  // consumers, workers and submitters go on; handing_off keeps this lane's calls on one thread, in order.
  for (auto it = lane.ready.find(lane.next_handoff); it != lane.ready.end();
       it = lane.ready.find(lane.next_handoff)) {
    Finished next = std::move(it->second);
    lane.ready.erase(it);
    ++lane.next_handoff;
    lock.unlock();
    std::exception_ptr failure;
    try {
      if (next.done) next.done(next.error);
    } catch (...) {
      failure = std::current_exception();
    }
    next = Finished{};  // destroy the hand-off's captures before the slot is given back
    lock.lock();
    if (failure && !handoff_failure_) handoff_failure_ = failure;
    --outstanding_;
    space_cv_.notify_one();
  }
  lane.handing_off = false;
  if (outstanding_ == 0) idle_cv_.notify_all();
}

void WorkerQueue::rethrow_handoff_failure() {
  std::exception_ptr failure;
  {
    std::lock_guard lock(mutex_);
    failure = std::exchange(handoff_failure_, nullptr);
  }
  if (failure) std::rethrow_exception(failure);
}

void WorkerQueue::drain() {
  {
    std::unique_lock lock(mutex_);
    idle_cv_.wait(lock, [&] { return outstanding_ == 0; });
  }
  rethrow_handoff_failure();
}

void WorkerQueue::shutdown(Stop stop) {
  std::deque<Job> cancelled;
  {
    std::lock_guard lock(mutex_);
    if (joined_) return;
    stopping_ = true;
    if (stop == Stop::cancel) cancelled.swap(queue_);
  }
  work_cv_.notify_all();
  space_cv_.notify_all();
  for (auto& job : cancelled) {
    finish(std::move(job), std::make_exception_ptr(Error("worker queue shut down before the job ran")));
  }
  for (auto& t : workers_) t.join();
  {
    std::lock_guard lock(mutex_);
    stop_progress_ = true;
  }
  progress_cv_.notify_all();
  if (progress_.joinable()) progress_.join();
  {
    std::lock_guard lock(mutex_);
    joined_ = true;
    FERRY_ENFORCE(outstanding_ == 0, "worker queue stopped with ", outstanding_, " jobs not handed off");
  }
  rethrow_handoff_failure();
}

std::size_t WorkerQueue::queue_length() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::size_t WorkerQueue::outstanding() const {
  std::lock_guard lock(mutex_);
  return outstanding_;
}

std::size_t WorkerQueue::on_device() const {
  std::lock_guard lock(mutex_);
  return on_device_;
}

}  // namespace ferry::transform
