// RAII owners of UCX handles. Each is move-only (std::exchange) and releases its handle in a noexcept
// destructor that logs a failure and never throws. Release order matters to UCX (rkeys before their
// endpoint, endpoints before their worker, the worker and every memory mapping before the context);
// UcxFabric declares its members in that order, and mappings share ownership of the context.
#pragma once

#include <ucp/api/ucp.h>

#include <cstddef>
#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace ferry::transport::ucx {

class Context {
 public:
  // ucp_init with active messages, RMA and wakeup (the event fd that lets idle ranks sleep).
  static std::shared_ptr<Context> create();

  explicit Context(ucp_context_h handle) noexcept : handle_(handle) {}
  Context(Context&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Context& operator=(Context&&) = delete;
  Context(const Context&) = delete;
  ~Context();

  ucp_context_h get() const noexcept { return handle_; }

 private:
  ucp_context_h handle_ = nullptr;
};

class Worker {
 public:
  Worker() = default;
  // Single-threaded worker: one thread per rank does all communication (docs/transport.md).
  static Worker create(ucp_context_h context);

  Worker(Worker&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Worker& operator=(Worker&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  Worker(const Worker&) = delete;
  ~Worker() { reset(); }

  ucp_worker_h get() const noexcept { return handle_; }
  void reset() noexcept;
  // Installs the active-message handler for id; eager messages of several fragments reach it once, whole.
  void set_am_handler(unsigned id, ucp_am_recv_callback_t callback, void* arg);

 private:
  ucp_worker_h handle_ = nullptr;
};

// This worker's address, to be shipped to peers at bootstrap.
class WorkerAddress {
 public:
  explicit WorkerAddress(ucp_worker_h worker);
  WorkerAddress(WorkerAddress&& other) noexcept
      : worker_(other.worker_), address_(std::exchange(other.address_, nullptr)), length_(other.length_) {}
  WorkerAddress& operator=(WorkerAddress&&) = delete;
  WorkerAddress(const WorkerAddress&) = delete;
  ~WorkerAddress();

  std::span<const std::byte> bytes() const noexcept {
    return {reinterpret_cast<const std::byte*>(address_), length_};
  }

 private:
  ucp_worker_h worker_ = nullptr;
  ucp_address_t* address_ = nullptr;
  std::size_t length_ = 0;
};

class Endpoint {
 public:
  Endpoint() = default;
  // Peer-failure handling is on (UCP_ERR_HANDLING_MODE_PEER): a failed or vanished peer makes UCX call
  // on_error (from ucp_worker_progress) and fail the endpoint's operations instead of aborting.
  static Endpoint connect(ucp_worker_h worker, const ucp_address_t* address, ucp_err_handler_t on_error);

  Endpoint(Endpoint&& other) noexcept
      : worker_(other.worker_), handle_(std::exchange(other.handle_, nullptr)), failed_(other.failed_) {}
  Endpoint& operator=(Endpoint&& other) noexcept {
    if (this != &other) {
      reset();
      worker_ = other.worker_;
      handle_ = std::exchange(other.handle_, nullptr);
      failed_ = other.failed_;
    }
    return *this;
  }
  Endpoint(const Endpoint&) = delete;
  ~Endpoint() { reset(); }

  ucp_ep_h get() const noexcept { return handle_; }
  // Starts a flushing close and gives up the handle. Returns the close request, or nullptr when the close
  // finished at once; the caller progresses the worker until the request completes, then frees it.
  // An endpoint marked failed (its peer is gone) closes without flushing (UCP_EP_CLOSE_FLAG_FORCE).
  void* start_close();
  // Fallback for error paths: flushing close, progressing the worker for a bounded time.
  void reset() noexcept;
  void mark_failed() noexcept { failed_ = true; }

 private:
  ucp_worker_h worker_ = nullptr;
  ucp_ep_h handle_ = nullptr;
  bool failed_ = false;
};

// Memory registered with ucp_mem_map. Holds the context so a Region may outlive its Fabric.
class MemMap {
 public:
  MemMap(std::shared_ptr<Context> context, void* address, std::size_t length);
  // UCX allocates `length` bytes itself (UCP_MEM_MAP_ALLOCATE); address() says where.
  static MemMap allocate(std::shared_ptr<Context> context, std::size_t length);
  void* address() const;
  MemMap(MemMap&& other) noexcept
      : context_(std::move(other.context_)), handle_(std::exchange(other.handle_, nullptr)) {}
  MemMap& operator=(MemMap&&) = delete;
  MemMap(const MemMap&) = delete;
  ~MemMap();

  ucp_mem_h get() const noexcept { return handle_; }
  // The remote key peers need for gets (ucp_rkey_pack), as plain bytes.
  std::vector<std::byte> packed_rkey() const;

 private:
  MemMap() = default;
  std::shared_ptr<Context> context_;
  ucp_mem_h handle_ = nullptr;
};

// A peer's unpacked remote key, valid for gets through the endpoint it was unpacked on.
class Rkey {
 public:
  Rkey() = default;
  static Rkey unpack(ucp_ep_h endpoint, const void* packed);

  Rkey(Rkey&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Rkey& operator=(Rkey&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  Rkey(const Rkey&) = delete;
  ~Rkey() { reset(); }

  ucp_rkey_h get() const noexcept { return handle_; }
  void reset() noexcept;

 private:
  ucp_rkey_h handle_ = nullptr;
};

}  // namespace ferry::transport::ucx
