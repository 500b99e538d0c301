#include "transport/ucx/ucx_handles.hpp"

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "core/check.hpp"
#include "core/log.hpp"

namespace ferry::transport::ucx {

namespace {

// The fallback endpoint close must not hang a destructor on a peer that is gone.
constexpr auto kFallbackCloseTimeout = std::chrono::seconds(2);

// ucp_config_read's descriptor, released on every path.
struct ConfigGuard {
  ucp_config_t* config = nullptr;
  ~ConfigGuard() {
    if (config != nullptr) ucp_config_release(config);
  }
};

}  // namespace

std::shared_ptr<Context> Context::create() {
  // Endpoints handle peer failure (Endpoint::connect). UCX 1.13 then leaves out the shared-memory transports
  // (posix, sysv) unless their error handling is on (UCX_POSIX_ERROR_HANDLING, UCX_SYSV_ERROR_HANDLING, read
  // from the environment by ucp_init, not settable with ucp_config_modify): active messages would go over TCP
  // and gets through cma. ucx_perftest here: 1 MiB gets 1.1 GB/s without, 23-27 GB/s with it, as fast as
  // without peer-failure handling; 64 KiB AM 0.15 vs 0.74 GB/s. Their error handling checks the peer process
  // (ep_check), so it is switched on, once, before the first ucp_init, unless the user set it.
  static const bool shm_errors = [] {
    for (const char* name : {"UCX_POSIX_ERROR_HANDLING", "UCX_SYSV_ERROR_HANDLING"})
      if (std::getenv(name) == nullptr) ::setenv(name, "y", 0);
    return true;
  }();
  (void)shm_errors;
  ConfigGuard guard;
  // Reads UCX_* from the environment (UCX_TLS and friends), like every UCX program.
  FERRY_CHECK_UCS(ucp_config_read(nullptr, nullptr, &guard.config));
  ucp_params_t params{};
  params.field_mask = UCP_PARAM_FIELD_FEATURES | UCP_PARAM_FIELD_MT_WORKERS_SHARED;
  params.features = UCP_FEATURE_AM | UCP_FEATURE_RMA | UCP_FEATURE_WAKEUP;
  params.mt_workers_shared = 0;
  ucp_context_h handle = nullptr;
  FERRY_CHECK_UCS(ucp_init(&params, guard.config, &handle));
  return std::make_shared<Context>(handle);
}

Context::~Context() {
  if (handle_ != nullptr) ucp_cleanup(std::exchange(handle_, nullptr));
}

Worker Worker::create(ucp_context_h context) {
  ucp_worker_params_t params{};
  params.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
  params.thread_mode = UCS_THREAD_MODE_SINGLE;
  Worker worker;
  FERRY_CHECK_UCS(ucp_worker_create(context, &params, &worker.handle_));
  return worker;
}

void Worker::set_am_handler(unsigned id, ucp_am_recv_callback_t callback, void* arg) {
  ucp_am_handler_param_t handler{};
  handler.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_FLAGS |
                       UCP_AM_HANDLER_PARAM_FIELD_CB | UCP_AM_HANDLER_PARAM_FIELD_ARG;
  handler.id = id;
  handler.flags = UCP_AM_FLAG_WHOLE_MSG;
  handler.cb = callback;
  handler.arg = arg;
  FERRY_CHECK_UCS(ucp_worker_set_am_recv_handler(handle_, &handler));
}

void Worker::reset() noexcept {
  if (handle_ != nullptr) ucp_worker_destroy(std::exchange(handle_, nullptr));
}

WorkerAddress::WorkerAddress(ucp_worker_h worker) : worker_(worker) {
  FERRY_CHECK_UCS(ucp_worker_get_address(worker, &address_, &length_));
}

WorkerAddress::~WorkerAddress() {
  if (address_ != nullptr) ucp_worker_release_address(worker_, std::exchange(address_, nullptr));
}

Endpoint Endpoint::connect(ucp_worker_h worker, const ucp_address_t* address, ucp_err_handler_t on_error) {
  ucp_ep_params_t params{};
  params.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE |
                      UCP_EP_PARAM_FIELD_ERR_HANDLER;
  params.address = address;
  // A job whose launcher does not kill it when a rank dies must hear of the death (docs/errors.md).
  params.err_mode = UCP_ERR_HANDLING_MODE_PEER;
  params.err_handler = on_error;
  Endpoint endpoint;
  endpoint.worker_ = worker;
  FERRY_CHECK_UCS(ucp_ep_create(worker, &params, &endpoint.handle_));
  return endpoint;
}

void* Endpoint::start_close() {
  if (handle_ == nullptr) return nullptr;
  ucp_request_param_t params{};
  params.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
  // Flush outstanding operations, then close; a failed endpoint has nothing left to flush to.
  params.flags = failed_ ? UCP_EP_CLOSE_FLAG_FORCE : 0;
  const ucs_status_ptr_t request = ucp_ep_close_nbx(std::exchange(handle_, nullptr), &params);
  if (UCS_PTR_IS_ERR(request)) ferry::detail::throw_ucs("ucp_ep_close_nbx", UCS_PTR_STATUS(request));
  return request;
}

void Endpoint::reset() noexcept {
  if (handle_ == nullptr) return;
  try {
    void* request = start_close();
    const auto deadline = std::chrono::steady_clock::now() + kFallbackCloseTimeout;
    while (request != nullptr && ucp_request_check_status(request) == UCS_INPROGRESS) {
      if (std::chrono::steady_clock::now() > deadline) {
        log::warn("ucp_ep_close_nbx did not complete within {} s; leaving the endpoint to the worker",
                  kFallbackCloseTimeout.count());
        break;
      }
      ucp_worker_progress(worker_);
    }
    if (request != nullptr) ucp_request_free(request);
  } catch (const std::exception& e) {
    log::warn("closing a UCX endpoint failed: {}", e.what());
  }
}

MemMap::MemMap(std::shared_ptr<Context> context, void* address, std::size_t length)
    : context_(std::move(context)) {
  ucp_mem_map_params_t params{};
  params.field_mask = UCP_MEM_MAP_PARAM_FIELD_ADDRESS | UCP_MEM_MAP_PARAM_FIELD_LENGTH;
  params.address = address;
  params.length = length;
  FERRY_CHECK_UCS(ucp_mem_map(context_->get(), &params, &handle_));
}

MemMap MemMap::allocate(std::shared_ptr<Context> context, std::size_t length) {
  MemMap memory;
  memory.context_ = std::move(context);
  ucp_mem_map_params_t params{};
  params.field_mask =
      UCP_MEM_MAP_PARAM_FIELD_ADDRESS | UCP_MEM_MAP_PARAM_FIELD_LENGTH | UCP_MEM_MAP_PARAM_FIELD_FLAGS;
  params.address = nullptr;
  params.length = length;
  params.flags = UCP_MEM_MAP_ALLOCATE;
  FERRY_CHECK_UCS(ucp_mem_map(memory.context_->get(), &params, &memory.handle_));
  return memory;
}

void* MemMap::address() const {
  ucp_mem_attr_t attr{};
  attr.field_mask = UCP_MEM_ATTR_FIELD_ADDRESS;
  FERRY_CHECK_UCS(ucp_mem_query(handle_, &attr));
  return attr.address;
}

MemMap::~MemMap() {
  if (handle_ == nullptr) return;
  const ucs_status_t status = ucp_mem_unmap(context_->get(), std::exchange(handle_, nullptr));
  if (status != UCS_OK) log::warn("ucp_mem_unmap failed: {}", ucs_status_string(status));
}

std::vector<std::byte> MemMap::packed_rkey() const {
  void* buffer = nullptr;
  std::size_t length = 0;
  FERRY_CHECK_UCS(ucp_rkey_pack(context_->get(), handle_, &buffer, &length));
  std::vector<std::byte> bytes(length);
  std::memcpy(bytes.data(), buffer, length);
  ucp_rkey_buffer_release(buffer);
  return bytes;
}

Rkey Rkey::unpack(ucp_ep_h endpoint, const void* packed) {
  Rkey rkey;
  FERRY_CHECK_UCS(ucp_ep_rkey_unpack(endpoint, packed, &rkey.handle_));
  return rkey;
}

void Rkey::reset() noexcept {
  if (handle_ != nullptr) ucp_rkey_destroy(std::exchange(handle_, nullptr));
}

}  // namespace ferry::transport::ucx
