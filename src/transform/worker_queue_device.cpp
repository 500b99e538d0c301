// WorkerQueue's accelerator path: a worker stages and launches a device job without waiting, the progress
// thread polls the device and hands finished jobs on, and kept results stay on the device until released.
#include <utility>

#include "core/log.hpp"
#include "ferry/error.hpp"
#include "transform/worker_queue.hpp"

namespace ferry::transform {

// The control-message path: stage and launch without waiting, so the worker is free again at once.
void WorkerQueue::run_device_job(Job&& job) {
  if (device_ == nullptr) {
    finish(std::move(job), std::make_exception_ptr(TransformError(
                               "worker queue: accelerator job on a rank without an accelerator")));
    return;
  }
  const DeviceJob& what = std::get<DeviceJob>(job.work);
  Device::Ticket ticket = 0;
  try {
    std::lock_guard device_lock(device_mutex_);
    ticket = device_->stage(what);
    try {
      device_->launch(ticket);
    } catch (...) {
      device_->release(ticket);
      throw;
    }
  } catch (...) {
    finish(std::move(job), std::current_exception());
    return;
  }
  {
    std::lock_guard lock(mutex_);
    launched_.push_back(Launched{ticket, std::move(job)});
    ++on_device_;
  }
  progress_cv_.notify_one();
}

void WorkerQueue::progress_loop() {
  std::list<Launched> mine;  // launched jobs this thread polls, oldest first
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (mine.empty()) {
        progress_cv_.wait(lock, [&] { return stop_progress_ || !launched_.empty(); });
        if (launched_.empty()) return;  // workers are gone and nothing is on the device
      }
      mine.splice(mine.end(), launched_);
    }
    bool any = false;
    for (auto it = mine.begin(); it != mine.end();) {
      bool done = false;
      std::exception_ptr error;
      {
        std::lock_guard device_lock(device_mutex_);
        try {
          done = device_->poll(it->ticket);
        } catch (...) {
          error = std::current_exception();
          done = true;
        }
        const DeviceJob& what = std::get<DeviceJob>(it->job.work);
        if (done && !error && what.keep)
          *what.keep = it->ticket;  // the submitter releases it (release_kept)
        else if (done)
          device_->release(it->ticket);
      }
      if (!done) {
        ++it;
        continue;
      }
      Job job = std::move(it->job);
      it = mine.erase(it);
      {
        std::lock_guard lock(mutex_);
        --on_device_;
      }
      finish(std::move(job), error);
      any = true;
    }
    if (!any && !mine.empty()) {
      try {
        device_->wait(options_.device_wait);
      } catch (const std::exception& e) {
        // A failing wait is not a job failure: poll() reports those. Keep polling.
        log::warn("worker queue: device wait failed: {}", e.what());
      }
    }
  }
}

const std::byte* WorkerQueue::kept_result(std::uint64_t ticket) {
  std::lock_guard device_lock(device_mutex_);
  return device_ ? device_->result(ticket) : nullptr;
}

void WorkerQueue::release_kept(std::uint64_t ticket) noexcept {
  std::lock_guard device_lock(device_mutex_);
  if (device_) device_->release(ticket);
}

}  // namespace ferry::transform
