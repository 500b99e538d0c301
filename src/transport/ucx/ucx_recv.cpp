// UCX backend, receive side and the blocking-wait model.
//
// The AM callback runs inside ucp_worker_progress: it copies an eager payload into the reorder buffer, or,
// for a rendezvous message, keeps UCX's descriptor (returns UCS_INPROGRESS) and queues it. The queued
// receives are started with ucp_am_recv_data_nbx right after progress returns, outside the callback, into
// a buffer sized from the header. Nothing here throws out of a callback: failures are recorded and the next
// poll()/wait() rethrows them.
#include <cstring>
#include <utility>

#include "core/check.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "transport/ucx/ucx_fabric.hpp"

namespace ferry::transport::ucx {

namespace {

// Longest single sleep on the event fd. Wakeups come from the fd; this only bounds the cost of a lost one
// (a transport without event support), at 10 wakeups a second when idle.
constexpr auto kWakeupSafetyNet = std::chrono::milliseconds(100);

}  // namespace

ucs_status_t UcxFabric::on_am(void* arg, const void* header, std::size_t header_length, void* data,
                              std::size_t length, const ucp_am_recv_param_t* param) {
  auto* fabric = static_cast<UcxFabric*>(arg);
  if (header_length != sizeof(AmHeader)) {
    fabric->record_async("active message with a foreign header", UCS_ERR_INVALID_PARAM);
    return UCS_OK;
  }
  AmHeader am{};
  std::memcpy(&am, header, sizeof am);
  try {
    if ((param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV) != 0) {
      fabric->rndv_pending_.push_back(RndvPending{data, am, length});
      return UCS_INPROGRESS;  // descriptor stays valid until ucp_am_recv_data_nbx takes it
    }
    // Eager payloads are below the rendezvous threshold: one copy is cheap and lets the Message own its
    // bytes (and outlive the worker) instead of pinning a UCX descriptor.
    Message* message = fabric->inbox_.reserve(am.source, am.tag, am.seq, length);
    if (length != 0) std::memcpy(message->bytes.data(), data, length);
    fabric->inbox_.complete(am.source, am.tag, am.seq);
  } catch (const std::exception& e) {
    log::error("ucx fabric: dropping a message from rank {}: {}", am.source, e.what());
    fabric->record_async("receiving an active message", UCS_ERR_NO_MEMORY);
  }
  return UCS_OK;
}

void UcxFabric::start_rndv_receives() {
  std::vector<RndvPending> pending;
  pending.swap(rndv_pending_);
  for (const RndvPending& rndv : pending) {
    const AmHeader& am = rndv.header;
    Message* message = inbox_.reserve(am.source, am.tag, am.seq, rndv.bytes);
    auto context = std::make_unique<RndvContext>(RndvContext{this, am});
    ucp_request_param_t params{};
    params.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
    params.cb.recv_am = &UcxFabric::on_rndv_done;
    params.user_data = context.get();
    const ucs_status_ptr_t started =
        ucp_am_recv_data_nbx(worker_.get(), rndv.desc, message->bytes.data(), rndv.bytes, &params);
    if (started == nullptr) {
      inbox_.complete(am.source, am.tag, am.seq);
    } else if (UCS_PTR_IS_ERR(started)) {
      // The slot is released anyway so later messages of the stream are not held back forever.
      record_async("ucp_am_recv_data_nbx", UCS_PTR_STATUS(started));
      inbox_.complete(am.source, am.tag, am.seq);
    } else {
      context.release();  // owned by on_rndv_done from here
      ++receives_in_flight_;
    }
  }
}

void UcxFabric::on_rndv_done(void* request, ucs_status_t status, std::size_t length, void* user_data) {
  std::unique_ptr<RndvContext> context(static_cast<RndvContext*>(user_data));
  UcxFabric* fabric = context->fabric;
  const AmHeader& am = context->header;
  if (status != UCS_OK) fabric->record_async("ucp_am_recv_data_nbx", status);
  try {
    fabric->inbox_.complete(am.source, am.tag, am.seq);
  } catch (const std::exception& e) {
    log::error("ucx fabric: completing a message from rank {}: {}", am.source, e.what());
  }
  --fabric->receives_in_flight_;
  ucp_request_free(request);
}

void UcxFabric::record_async(const char* call, ucs_status_t status) noexcept {
  if (async_error_) return;  // the first failure is the informative one
  try {
    async_error_.emplace(str_cat(call, " failed: ", ucs_status_string(status)), status);
  } catch (...) {
    log::error("ucx fabric: {} failed: {}", call, ucs_status_string(status));
  }
}

void UcxFabric::rethrow_async() {
  if (!async_error_) return;
  TransportError error = std::move(*async_error_);
  async_error_.reset();
  throw error;
}

void UcxFabric::progress_engine() {
  for (;;) {
    while (ucp_worker_progress(worker_.get()) != 0) {
    }
    if (rndv_pending_.empty()) return;
    start_rndv_receives();
  }
}

void UcxFabric::idle_wait(std::chrono::microseconds timeout) {
  // Arming fails with BUSY when events arrived since the last progress: return and progress again.
  const ucs_status_t status = ucp_worker_arm(worker_.get());
  if (status == UCS_ERR_BUSY) return;
  if (status != UCS_OK) ferry::detail::throw_ucs("ucp_worker_arm", status);
  // Taken here whatever this wait is for, so the eventfd never stays readable (every later wait would spin),
  // and kept for wait().
  if (wait_readable(event_fd_, timeout, waker_.fd()) && waker_.consume()) woken_ = true;
}

bool UcxFabric::block_until(const std::function<bool()>& ready, Clock::time_point deadline) {
  for (;;) {
    progress_engine();
    check_peers();
    if (ready()) return true;
    const auto left = remaining(deadline, kWakeupSafetyNet);
    if (left.count() == 0) return false;
    idle_wait(left);
  }
}

std::optional<Message> UcxFabric::do_poll() {
  progress_engine();
  rethrow_async();
  return inbox_.pop();
}

std::optional<Message> UcxFabric::do_wait(std::chrono::microseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  block_until(
      [this] { return inbox_.has_ready() || async_error_.has_value() || std::exchange(woken_, false); },
      deadline);
  rethrow_async();
  return inbox_.pop();
}

}  // namespace ferry::transport::ucx
