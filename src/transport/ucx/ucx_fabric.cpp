// UCX backend: bootstrap, sends, completion of operations, orderly shutdown.
#include "transport/ucx/ucx_fabric.hpp"

#include "core/check.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"

namespace ferry::transport::ucx {

namespace {

constexpr unsigned kAmId = 0;
// close() waits this long for this rank's own operations before giving up on them (and logging).
constexpr auto kCloseTimeout = std::chrono::seconds(60);

}  // namespace

std::unique_ptr<Fabric> make_fabric(MPI_Comm comm) {
  return std::make_unique<UcxFabric>(comm);
}

UcxFabric::UcxFabric(MPI_Comm comm) : UcxFabric(Comm::dup(comm)) {}

UcxFabric::UcxFabric(Comm comm)
    : Fabric("ucx", comm.rank(), comm.size()), comm_(std::move(comm)), context_(Context::create()) {
  worker_ = Worker::create(context_->get());
  FERRY_CHECK_UCS(ucp_worker_get_efd(worker_.get(), &event_fd_));
  // Installed before the addresses go out, so no peer can send to a worker without a handler.
  worker_.set_am_handler(kAmId, &UcxFabric::on_am, this);
  connect_all();
}

UcxFabric::~UcxFabric() {
  close_noexcept();
}

void UcxFabric::connect_all() {
  const WorkerAddress address(worker_.get());
  const GatheredBytes all = allgather_bytes(comm_.get(), address.bytes());
  // Eager endpoint creation is local (wireup traffic starts with the first operation); Ferry jobs are tens
  // of ranks per fabric, not thousands.
  endpoints_.reserve(all.lengths.size());
  endpoint_owners_.resize(all.lengths.size());
  for (std::size_t r = 0; r < all.lengths.size(); ++r) {
    const auto* peer = reinterpret_cast<const ucp_address_t*>(all.of(static_cast<int>(r)).data());
    endpoint_owners_[r] = EndpointOwner{this, static_cast<int>(r)};
    endpoints_.push_back(
        Endpoint::connect(worker_.get(), peer, {&UcxFabric::on_endpoint_error, &endpoint_owners_[r]}));
  }
}

void UcxFabric::on_endpoint_error(void* arg, ucp_ep_h, ucs_status_t status) {
  // From ucp_worker_progress on this rank's thread. The peer is gone or unreachable: a watched job names it
  // (every later call throws PeerLost); otherwise the next call throws this as a TransportError.
  const auto* owner = static_cast<const EndpointOwner*>(arg);
  UcxFabric* fabric = owner->fabric;
  fabric->endpoints_[static_cast<std::size_t>(owner->peer)].mark_failed();
  const auto& watch = fabric->peer_watch();
  if (watch &&
      watch->report(owner->peer,
                    str_cat("UCX reported its endpoint failed (", ucs_status_string(status), ")"), true))
    return;
  fabric->record_async("a UCX endpoint", status);
}

Request UcxFabric::do_send(int peer, Tag tag, std::span<const std::byte> bytes, bool copy) {
  auto op = std::make_shared<UcxOp>(*this, "ucp_am_send_nbx", /*detached=*/copy);
  std::uint64_t& seq = next_send_seq_[(static_cast<std::uint64_t>(peer) << 32) | tag];
  op->header_ = AmHeader{tag, rank(), seq};
  const void* buffer = bytes.data();
  if (copy && !bytes.empty()) {
    op->payload_ = buffers_.copy_of(bytes);  // a kept buffer where one fits: no fresh pages to fault in
    buffer = op->payload_.data();
  }
  ucp_request_param_t params{};
  params.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
  params.cb.send = &UcxFabric::on_op_done;
  params.user_data = op.get();
  // The header must stay valid until the send completes (UCX 1.13 has no UCP_AM_SEND_FLAG_COPY_HEADER),
  // so it lives in the op, not on the stack.
  Request request = issue(op, ucp_am_send_nbx(endpoints_[static_cast<std::size_t>(peer)].get(), kAmId,
                                              &op->header_, sizeof(AmHeader), buffer, bytes.size(), &params));
  ++seq;  // only once the message is really on its way, or the receiver's stream would wait for it forever
  return request;
}

Request UcxFabric::issue(const std::shared_ptr<UcxOp>& op, ucs_status_ptr_t started) {
  if (started == nullptr) {  // completed at once; UCX will not call the callback
    op->done_ = true;
    buffers_.give(std::move(op->payload_));
    return op->detached_ ? Request{} : Request(op);
  }
  if (UCS_PTR_IS_ERR(started)) ferry::detail::throw_ucs(op->call_, UCS_PTR_STATUS(started));
  op->self_ = op;
  ++ops_in_flight_;
  return op->detached_ ? Request{} : Request(op);
}

void UcxFabric::on_op_done(void* request, ucs_status_t status, void* user_data) {
  auto* op = static_cast<UcxOp*>(user_data);
  UcxFabric* fabric = op->fabric_;
  op->done_ = true;
  op->status_ = status;
  if (status != UCS_OK) {
    if (op->detached_) {
      fabric->record_async(op->call_, status);
    } else if (!fabric->op_error_) {
      try {
        fabric->op_error_.emplace(str_cat(op->call_, " failed: ", ucs_status_string(status)), status);
      } catch (...) {  // out of memory for the message: the op itself still carries the status
      }
    }
  }
  --fabric->ops_in_flight_;
  fabric->buffers_.give(std::move(op->payload_));  // send()'s copy, for the next message (nothing otherwise)
  ucp_request_free(request);
  // Last: may destroy the op.
  std::shared_ptr<UcxOp> keep = std::move(op->self_);
}

bool UcxOp::test() {
  if (!done_) fabric_->progress_engine();
  if (done_) throw_if_failed();
  return done_;
}

void UcxOp::wait() {
  if (!done_) fabric_->block_until([this] { return done_; }, Clock::time_point::max());
  throw_if_failed();
}

void UcxOp::throw_if_failed() const {
  if (status_ != UCS_OK) ferry::detail::throw_ucs(call_, status_);
}

void UcxFabric::do_wait_all() {
  block_until([this] { return ops_in_flight_ == 0; }, Clock::time_point::max());
  rethrow_async();
  if (op_error_) {
    TransportError error = std::move(*op_error_);
    op_error_.reset();
    throw error;
  }
}

void UcxFabric::do_progress() {
  progress_engine();
  rethrow_async();
}

void UcxFabric::do_barrier() {
  progress_barrier(
      comm_.get(),
      [this] {
        progress_engine();
        check_peers();
      },
      [this](std::chrono::microseconds t) { idle_wait(t); });
}

void UcxFabric::do_close() {
  log::debug("ucx fabric: {} messages were held back to keep send order", inbox_.held_back());
  const auto deadline = Clock::now() + kCloseTimeout;
  const auto quiet = [this] { return ops_in_flight_ == 0 && receives_in_flight_ == 0; };
  if (!block_until(quiet, deadline)) {
    log::warn("ucx fabric: closing with {} operations and {} receives still in flight", ops_in_flight_,
              receives_in_flight_);
  }
  // Every rank's sends are complete after this barrier; the barrier progresses, so rendezvous payloads that
  // peers are still pulling from us keep moving while we wait.
  do_barrier();
  block_until(quiet, deadline);
  attached_slots_.clear();
  attached_.clear();  // rkeys go before the endpoints they were unpacked on
  std::vector<void*> closing;
  for (Endpoint& endpoint : endpoints_) {
    if (void* request = endpoint.start_close(); request != nullptr) closing.push_back(request);
  }
  const bool closed = block_until(
      [&closing] {
        for (void* request : closing) {
          if (ucp_request_check_status(request) == UCS_INPROGRESS) return false;
        }
        return true;
      },
      deadline);
  for (void* request : closing) {
    const ucs_status_t status = ucp_request_check_status(request);
    if (status != UCS_OK) log::warn("ucp_ep_close_nbx finished with {}", ucs_status_string(status));
    ucp_request_free(request);
  }
  if (!closed) log::warn("ucx fabric: endpoint close timed out");
  // No peer destroys its worker while another still flushes an endpoint towards it.
  do_barrier();
  release_all();
}

void UcxFabric::do_abandon() noexcept {
  // A peer is lost: nothing flushes towards it or waits at a barrier. Endpoints close by force.
  attached_slots_.clear();
  attached_.clear();
  for (Endpoint& endpoint : endpoints_) endpoint.mark_failed();
  release_all();
}

void UcxFabric::release_all() noexcept {
  endpoints_.clear();
  worker_.reset();
  context_.reset();  // Regions still registered keep the context until they are destroyed
  comm_.reset();
}

}  // namespace ferry::transport::ucx
