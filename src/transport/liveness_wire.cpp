#include "transport/liveness_wire.hpp"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <list>

#include "core/check.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "transport/comm.hpp"
#include "transport/ucx/ucx_handles.hpp"
#include "transport/wait_util.hpp"

namespace ferry::transport {

namespace {

constexpr unsigned kAmId = 0;
// A packet's fixed part travels as the AM header; `why` as the payload.
struct Header {
  std::uint8_t kind;
  std::int32_t from;
  std::int32_t about;
};
// Sends to a stopped peer may never complete; past this many in flight, new ones are dropped.
constexpr std::size_t kMaxInFlight = 4096;

}  // namespace

struct Wire::Impl {
  struct Owner {
    Impl* impl;
    int rank;
  };
  struct InFlight {
    Header header{};
    std::string payload;
    void* request = nullptr;
  };

  MPI_Comm comm;
  std::shared_ptr<ucx::Context> context;
  ucx::Worker worker;
  int event_fd = -1;
  Waker stopper;
  std::atomic<bool> stop{false};
  std::vector<Owner> owners;
  std::vector<ucx::Endpoint> endpoints;
  std::vector<bool> failed;
  std::list<InFlight> in_flight;
  std::function<void(const Packet&)> receive;
  std::function<void(int, const std::string&)> endpoint_error;

  static ucs_status_t on_am(void* arg, const void* header, std::size_t header_length, void* data,
                            std::size_t length, const ucp_am_recv_param_t* param);
  static void on_error(void* arg, ucp_ep_h, ucs_status_t status);
  void connect();
};

ucs_status_t Wire::Impl::on_am(void* arg, const void* header, std::size_t header_length, void* data,
                               std::size_t length, const ucp_am_recv_param_t* param) {
  auto* impl = static_cast<Impl*>(arg);
  // Liveness packets are small and eager; anything else is not ours to read.
  if (header_length != sizeof(Header) || (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV) != 0) return UCS_OK;
  Header h{};
  std::memcpy(&h, header, sizeof h);
  Packet packet{static_cast<Kind>(h.kind), h.from, h.about, {}};
  if (length > 0) packet.why.assign(static_cast<const char*>(data), length);
  if (impl->receive) impl->receive(packet);
  return UCS_OK;
}

void Wire::Impl::on_error(void* arg, ucp_ep_h, ucs_status_t status) {
  const auto* owner = static_cast<const Owner*>(arg);
  Impl* impl = owner->impl;
  impl->failed[static_cast<std::size_t>(owner->rank)] = true;
  impl->endpoints[static_cast<std::size_t>(owner->rank)].mark_failed();
  if (impl->endpoint_error)
    impl->endpoint_error(
        owner->rank, str_cat("UCX reported its liveness endpoint failed (", ucs_status_string(status), ")"));
}

void Wire::Impl::connect() {
  const ucx::WorkerAddress address(worker.get());
  const GatheredBytes all = allgather_bytes(comm, address.bytes());
  const int size = static_cast<int>(all.lengths.size());
  owners.resize(static_cast<std::size_t>(size));
  failed.assign(static_cast<std::size_t>(size), false);
  endpoints.reserve(static_cast<std::size_t>(size));
  for (int r = 0; r < size; ++r) {
    const auto i = static_cast<std::size_t>(r);
    owners[i] = Owner{this, r};
    const auto* peer = reinterpret_cast<const ucp_address_t*>(all.of(r).data());
    endpoints.push_back(ucx::Endpoint::connect(worker.get(), peer, {&Impl::on_error, &owners[i]}));
  }
}

Wire::Wire(MPI_Comm comm) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.comm = comm;
  s.context = ucx::Context::create();
  s.worker = ucx::Worker::create(s.context->get());
  FERRY_CHECK_UCS(ucp_worker_get_efd(s.worker.get(), &s.event_fd));
  s.worker.set_am_handler(kAmId, &Impl::on_am, &s);
  s.connect();
}

Wire::~Wire() {
  Impl& s = *impl_;
  // A send still in flight (to a stopped peer) is released by UCX when the forced close ends it.
  for (Impl::InFlight& f : s.in_flight)
    if (f.request != nullptr) ucp_request_free(f.request);
  s.in_flight.clear();
  // Peers may be gone: close without flushing.
  for (auto& endpoint : s.endpoints) endpoint.mark_failed();
  s.endpoints.clear();
  s.worker.reset();
  s.context.reset();
}

std::vector<int> Wire::exchange_pids() {
  int size = 0;
  FERRY_CHECK_MPI(MPI_Comm_size(impl_->comm, &size));
  const int pid = static_cast<int>(::getpid());
  std::vector<int> pids(static_cast<std::size_t>(size));
  FERRY_CHECK_MPI(MPI_Allgather(&pid, 1, MPI_INT, pids.data(), 1, MPI_INT, impl_->comm));
  return pids;
}

void Wire::on_receive(std::function<void(const Packet&)> handler) {
  impl_->receive = std::move(handler);
}

void Wire::on_endpoint_error(std::function<void(int, const std::string&)> handler) {
  impl_->endpoint_error = std::move(handler);
}

void Wire::send(int rank, const Packet& packet) {
  Impl& s = *impl_;
  const auto i = static_cast<std::size_t>(rank);
  if (i >= s.endpoints.size() || s.failed[i] || s.in_flight.size() >= kMaxInFlight) return;
  Impl::InFlight& f = s.in_flight.emplace_back();
  f.header = Header{static_cast<std::uint8_t>(packet.kind), packet.from, packet.about};
  f.payload = packet.why;
  ucp_request_param_t params{};
  params.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
  params.flags = UCP_AM_SEND_FLAG_EAGER;
  const ucs_status_ptr_t request = ucp_am_send_nbx(s.endpoints[i].get(), kAmId, &f.header, sizeof f.header,
                                                   f.payload.data(), f.payload.size(), &params);
  if (request == nullptr || UCS_PTR_IS_ERR(request)) {
    s.in_flight.pop_back();  // done at once, or failed (the endpoint's error callback says why)
    return;
  }
  f.request = request;
}

void Wire::progress() {
  Impl& s = *impl_;
  while (ucp_worker_progress(s.worker.get()) != 0) {
  }
  for (auto it = s.in_flight.begin(); it != s.in_flight.end();) {
    if (ucp_request_check_status(it->request) == UCS_INPROGRESS) {
      ++it;
      continue;
    }
    ucp_request_free(it->request);
    it = s.in_flight.erase(it);
  }
}

void Wire::sleep(std::chrono::steady_clock::duration timeout) {
  Impl& s = *impl_;
  const ucs_status_t status = ucp_worker_arm(s.worker.get());
  if (status == UCS_ERR_BUSY) return;  // events arrived since the last progress
  if (status != UCS_OK) ferry::detail::throw_ucs("ucp_worker_arm", status);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout);
  if (wait_readable(s.event_fd, std::max(us, std::chrono::microseconds(1)), s.stopper.fd()))
    s.stopper.consume();
}

void Wire::drain(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!impl_->in_flight.empty() && std::chrono::steady_clock::now() < deadline) {
    progress();
    sleep(std::chrono::milliseconds(1));
  }
}

void Wire::stop() noexcept {
  impl_->stop.store(true);
  impl_->stopper.wake();
}

bool Wire::stopping() const noexcept {
  return impl_->stop.load();
}

}  // namespace ferry::transport
