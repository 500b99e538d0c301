// A transformation rank's CPU worker queue. CPU jobs are callables run by one of N worker threads. An
// accelerator job enters the same queue as a control message: the worker that dequeues it stages the input on
// the device and launches the kernel asynchronously, then goes back to the queue; a progress thread polls the
// device and hands the result on when it completes. Every job carries a consumer; the hand-offs of one
// consumer happen in submission order (a reorder stage holds results that finish early), whatever mix of CPU
// and accelerator jobs it has. Memory is bounded: at most `capacity` jobs are submitted and not yet handed
// off, and submit() blocks (backpressure) beyond that. The threading model and why: docs/heterogeneous.md.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

namespace ferry::transform {

// What an accelerator job asks the device to do. The memory it points to belongs to the submitter and must
// stay valid until the job is handed off.
struct DeviceJob {
  std::uint64_t kernel = 0;          // which kernel: an id the Device's owner registered with it
  const std::byte* input = nullptr;  // host memory to stage
  std::size_t input_bytes = 0;
  std::byte* output = nullptr;  // host memory the result is copied back to
  std::size_t output_bytes = 0;
  std::size_t samples = 0;
  const void* context = nullptr;  // kernel arguments (sample IDs, seed, epoch), opaque to the queue
  // When set, the job's result stays in device memory after completion (device-resident batches send it on
  // from there): the queue stores the ticket here before the hand-off instead of releasing it, and the
  // submitter reads WorkerQueue::kept_result() and calls WorkerQueue::release_kept() when done with it.
  std::uint64_t* keep = nullptr;
};

// An accelerator as the queue sees it. The queue serializes stage/launch/poll/release (a Device need not be
// thread-safe for them) and calls them from workers and the progress thread; wait() is called without that
// lock and may overlap the others. Implemented by the CUDA launcher and by test fakes.
class Device {
 public:
  using Ticket = std::uint64_t;
  virtual ~Device() = default;

  // Starts copying job.input to device memory; returns without waiting for the copy. Throws when it cannot.
  virtual Ticket stage(const DeviceJob& job) = 0;
  // Enqueues the kernel and the copy of its result to job.output behind the staging; returns at once.
  virtual void launch(Ticket ticket) = 0;
  // Never blocks: true once the result is in job.output. Throws the device's error when the job failed.
  virtual bool poll(Ticket ticket) = 0;
  // Frees what the ticket holds; called exactly once per staged ticket, after completion or failure.
  virtual void release(Ticket ticket) noexcept = 0;
  // Blocks until some launched job may have completed, or `timeout` passed (the progress thread's idle wait).
  virtual void wait(std::chrono::microseconds timeout) = 0;
  // Device time spent on Ferry's jobs so far (CUDA events), for the monitor.
  virtual std::uint64_t busy_ns() const noexcept { return 0; }
  // The job's result in device memory (job.output_bytes), from completion until release; null when this
  // device keeps none.
  virtual const std::byte* result(Ticket ticket) { return nullptr; }
};

struct WorkerQueueOptions {
  std::size_t workers = 1;    // CPU worker threads; see host_dispatch_workers()
  std::size_t capacity = 64;  // jobs submitted and not yet handed off (queued, running, on the device,
                              // waiting for an earlier job of their consumer)
  std::chrono::microseconds device_wait{500};  // longest single Device::wait of the progress thread
};

// How many workers may dispatch Kokkos host kernels at once with the Kokkos this build uses: `wanted` when
// the default host execution space is Serial (a parallel_for runs inline on the calling thread, touching no
// shared state), else 1 (OpenMP / Threads: only the thread that initialized Kokkos may launch in Kokkos 3.x).
std::size_t host_dispatch_workers(std::size_t wanted) noexcept;

class WorkerQueue {
 public:
  // Runs on a worker; `worker` in [0, workers) selects per-worker state (a Chain is not thread-safe).
  using CpuWork = std::function<void(std::size_t worker)>;
  using Work = std::variant<CpuWork, DeviceJob>;
  // Called once per job, in submission order per consumer, with the job's exception (null on success). Runs
  // on whichever thread completed the job that unblocked it (a worker or the progress thread): keep it
  // short (send, enqueue) and never submit() from it: a full queue would wait for the very thread that is
  // blocked. It should not throw; if it does, the first such exception is kept for drain().
  using Handoff = std::function<void(std::exception_ptr error)>;

  enum class Stop { drain, cancel };

  // `device` may be null (no accelerator: device jobs fail with TransformError); it must outlive the queue.
  explicit WorkerQueue(WorkerQueueOptions options, Device* device = nullptr);
  // shutdown(Stop::drain); a failure is logged, never thrown.
  ~WorkerQueue();
  WorkerQueue(const WorkerQueue&) = delete;
  WorkerQueue& operator=(const WorkerQueue&) = delete;

  // Enqueues a job; blocks while `capacity` jobs are outstanding. Throws ferry::Error after shutdown began.
  void submit(std::uint32_t consumer, Work work, Handoff done);
  // As submit, but returns false instead of blocking when the queue is full.
  bool try_submit(std::uint32_t consumer, Work& work, Handoff& done);

  // Waits until every submitted job is handed off, then rethrows the first exception a Handoff threw.
  void drain();
  // Refuses new jobs, then: drain runs every queued job; cancel hands queued jobs off at once with an error.
  // Either way jobs already running or on the device finish and are handed off before it returns.
  // Idempotent, from one thread at a time; rethrows the first Handoff exception as drain() does.
  void shutdown(Stop stop = Stop::drain);

  std::size_t workers() const noexcept { return workers_.size(); }
  std::size_t capacity() const noexcept { return options_.capacity; }
  std::size_t queue_length() const;  // jobs waiting for a worker (the monitor's CPU worker queue length)
  std::size_t outstanding() const;   // submitted, not handed off
  std::size_t on_device() const;     // launched, not completed

  // Jobs submitted with DeviceJob::keep, after their hand-off: the result in device memory, and its release
  // (exactly once per such job). Thread-safe.
  const std::byte* kept_result(std::uint64_t ticket);
  void release_kept(std::uint64_t ticket) noexcept;

 private:
  struct Job {
    std::uint32_t consumer = 0;
    std::uint64_t seq = 0;
    Work work;
    Handoff done;
  };
  struct Launched {
    Device::Ticket ticket = 0;
    Job job;
  };
  struct Finished {
    Handoff done;
    std::exception_ptr error;
  };
  // One consumer's order: the next sequence number to give and to hand off, and results that finished early.
  struct Lane {
    std::uint64_t next_submit = 0;
    std::uint64_t next_handoff = 0;
    std::map<std::uint64_t, Finished> ready;
    bool handing_off = false;  // a thread is calling this lane's hand-offs; others only add to `ready`
  };

  void enqueue_locked(std::unique_lock<std::mutex>& lock, std::uint32_t consumer, Work&& work,
                      Handoff&& done);
  void worker_loop(std::size_t index);
  void run_device_job(Job&& job);
  void progress_loop();
  void finish(Job&& job, std::exception_ptr error);
  void rethrow_handoff_failure();

  WorkerQueueOptions options_;
  Device* device_;
  mutable std::mutex mutex_;
  std::condition_variable work_cv_;      // workers: a job or stop
  std::condition_variable space_cv_;     // submitters: room or stop
  std::condition_variable idle_cv_;      // drain(): outstanding_ reached 0
  std::condition_variable progress_cv_;  // progress thread: a launch or stop
  std::deque<Job> queue_;
  std::list<Launched> launched_;  // handed to the progress thread, which moves them to its own list
  std::unordered_map<std::uint32_t, Lane> lanes_;
  std::size_t outstanding_ = 0;
  std::size_t on_device_ = 0;
  bool stopping_ = false;       // no new jobs
  bool stop_progress_ = false;  // workers are gone: the progress thread leaves once nothing is on the device
  bool joined_ = false;
  std::exception_ptr handoff_failure_;
  std::mutex device_mutex_;  // serializes Device calls but wait()
  std::vector<std::thread> workers_;
  std::thread progress_;
};

}  // namespace ferry::transform
