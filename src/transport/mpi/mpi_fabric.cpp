// MPI backend: messages, progress and the backoff wait model, orderly shutdown.
#include "transport/mpi/mpi_fabric.hpp"

#include <climits>
#include <thread>
#include <utility>

#include "core/check.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"

namespace ferry::transport::mpi {

namespace {

// Payloads up to this size are received with a blocking MPI_Mrecv: they arrived eagerly, so the call only
// copies. Larger ones use MPI_Imrecv, which completes while this rank keeps serving other traffic.
constexpr int kEagerReceiveBytes = 64 * 1024;
constexpr auto kCloseTimeout = std::chrono::seconds(60);

std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return str_cat("error ", code);
  return std::string(text, static_cast<std::size_t>(length));
}

}  // namespace

std::unique_ptr<Fabric> make_fabric(MPI_Comm comm) {
  return std::make_unique<MpiFabric>(Comm::dup(comm));
}

MpiFabric::MpiFabric(Comm comm)
    : Fabric("mpi", comm.rank(), comm.size()),
      comm_(std::move(comm)),
      windows_(std::make_shared<WindowTable>()) {}

MpiFabric::~MpiFabric() {
  close_noexcept();
}

Request MpiFabric::do_send(int peer, Tag tag, std::span<const std::byte> bytes, bool copy) {
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) {
    throw TransportError(
        str_cat("mpi fabric: a message of ", bytes.size(), " bytes is above MPI's int count"),
        kInvalidArgument);
  }
  PendingSend pending;
  const void* buffer = bytes.data();
  if (copy) {
    pending.copy = buffers_.copy_of(bytes);  // a kept buffer where one fits: no fresh pages to fault in
    buffer = pending.copy.data();
  } else {
    pending.op = std::make_shared<MpiOp>(*this, "MPI_Isend");
  }
  MPI_Request request = MPI_REQUEST_NULL;
  FERRY_CHECK_MPI(MPI_Isend(buffer, static_cast<int>(bytes.size()), MPI_BYTE, peer, static_cast<int>(tag),
                            comm_.get(), &request));
  Request handle = pending.op ? Request(pending.op) : Request{};
  send_requests_.push_back(request);
  sends_.push_back(std::move(pending));
  return handle;
}

bool MpiFabric::receive_arrivals() {
  bool moved = false;
  for (;;) {
    int found = 0;
    MPI_Message message = MPI_MESSAGE_NULL;
    MPI_Status status;
    FERRY_CHECK_MPI(MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_.get(), &found, &message, &status));
    if (!found) return moved;
    moved = true;
    int count = 0;
    FERRY_CHECK_MPI(MPI_Get_count(&status, MPI_BYTE, &count));
    const Tag tag = static_cast<Tag>(status.MPI_TAG);
    // Probe order is send order per (source, tag) (MPI's non-overtaking rule), so the sequence number the
    // reorder buffer needs can be assigned here.
    const std::uint64_t seq = next_recv_seq_[{status.MPI_SOURCE, tag}]++;
    Message* slot = inbox_.reserve(status.MPI_SOURCE, tag, seq, static_cast<std::size_t>(count));
    if (count <= kEagerReceiveBytes) {
      FERRY_CHECK_MPI(MPI_Mrecv(slot->bytes.data(), count, MPI_BYTE, &message, MPI_STATUS_IGNORE));
      inbox_.complete(status.MPI_SOURCE, tag, seq);
    } else {
      MPI_Request request = MPI_REQUEST_NULL;
      FERRY_CHECK_MPI(MPI_Imrecv(slot->bytes.data(), count, MPI_BYTE, &message, &request));
      recv_requests_.push_back(request);
      recvs_.push_back(PendingRecv{status.MPI_SOURCE, tag, seq});
    }
  }
}

bool MpiFabric::complete_sends() {
  if (send_requests_.empty()) return false;
  int completed = 0;
  std::vector<int> indices(send_requests_.size());
  std::vector<MPI_Status> statuses(send_requests_.size());
  const int rc = MPI_Testsome(static_cast<int>(send_requests_.size()), send_requests_.data(), &completed,
                              indices.data(), statuses.data());
  if (rc != MPI_SUCCESS && rc != MPI_ERR_IN_STATUS) ferry::detail::throw_mpi("MPI_Testsome", rc);
  if (completed <= 0) return false;  // MPI_UNDEFINED (no active requests) is negative
  for (int i = 0; i < completed; ++i) {
    const int error = rc == MPI_ERR_IN_STATUS ? statuses[static_cast<std::size_t>(i)].MPI_ERROR : MPI_SUCCESS;
    PendingSend& pending = sends_[static_cast<std::size_t>(indices[static_cast<std::size_t>(i)])];
    if (pending.op) {
      pending.op->done_ = true;
      pending.op->error_ = error;
    } else if (error != MPI_SUCCESS) {
      record_failure("MPI_Isend", error);
    }
    buffers_.give(std::move(pending.copy));  // for the next message (kept or freed)
    pending.copy = {};
    pending.op.reset();
  }
  // Completed requests were set to MPI_REQUEST_NULL; keep the rest, in order.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < send_requests_.size(); ++i) {
    if (send_requests_[i] == MPI_REQUEST_NULL) continue;
    // Never self-move: a self-moved vector comes out empty, freeing bytes MPI is still sending.
    if (kept != i) {
      send_requests_[kept] = send_requests_[i];
      sends_[kept] = std::move(sends_[i]);
    }
    ++kept;
  }
  send_requests_.resize(kept);
  sends_.resize(kept);
  return true;
}

bool MpiFabric::complete_receives() {
  if (recv_requests_.empty()) return false;
  int completed = 0;
  std::vector<int> indices(recv_requests_.size());
  std::vector<MPI_Status> statuses(recv_requests_.size());
  const int rc = MPI_Testsome(static_cast<int>(recv_requests_.size()), recv_requests_.data(), &completed,
                              indices.data(), statuses.data());
  if (rc != MPI_SUCCESS && rc != MPI_ERR_IN_STATUS) ferry::detail::throw_mpi("MPI_Testsome", rc);
  if (completed <= 0) return false;
  for (int i = 0; i < completed; ++i) {
    const auto index = static_cast<std::size_t>(indices[static_cast<std::size_t>(i)]);
    if (rc == MPI_ERR_IN_STATUS && statuses[static_cast<std::size_t>(i)].MPI_ERROR != MPI_SUCCESS) {
      record_failure("MPI_Imrecv", statuses[static_cast<std::size_t>(i)].MPI_ERROR);
    }
    inbox_.complete(recvs_[index].source, recvs_[index].tag, recvs_[index].seq);
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < recv_requests_.size(); ++i) {
    if (recv_requests_[i] == MPI_REQUEST_NULL) continue;
    recv_requests_[kept] = recv_requests_[i];
    recvs_[kept] = recvs_[i];
    ++kept;
  }
  recv_requests_.resize(kept);
  recvs_.resize(kept);
  return true;
}

bool MpiFabric::progress_engine() {
  bool moved = receive_arrivals();
  moved = complete_receives() || moved;
  moved = complete_sends() || moved;
  return moved;
}

bool MpiFabric::block_until(const std::function<bool()>& ready, Clock::time_point deadline) {
  Backoff backoff;
  for (;;) {
    if (progress_engine()) backoff.reset();
    check_peers();
    if (ready()) return true;
    const auto sleep = remaining(deadline, backoff.next());
    if (sleep.count() == 0) return false;
    // A sleep that Fabric::wake() cuts short. The wake-up is taken here whatever this wait is for, so the
    // eventfd never stays readable (which would turn every later sleep into a spin), and kept for wait().
    if (wait_readable(waker_.fd(), sleep) && waker_.consume()) woken_ = true;
  }
}

void MpiFabric::record_failure(const char* call, int code) noexcept {
  if (failure_) return;
  try {
    failure_.emplace(str_cat(call, " failed: ", mpi_error_text(code)), code);
  } catch (...) {
    log::error("mpi fabric: {} failed with code {}", call, code);
  }
}

void MpiFabric::rethrow_failure() {
  if (!failure_) return;
  TransportError error = std::move(*failure_);
  failure_.reset();
  throw error;
}

std::optional<Message> MpiFabric::do_poll() {
  progress_engine();
  rethrow_failure();
  return inbox_.pop();
}

std::optional<Message> MpiFabric::do_wait(std::chrono::microseconds timeout) {
  block_until([this] { return inbox_.has_ready() || failure_.has_value() || std::exchange(woken_, false); },
              Clock::now() + timeout);
  rethrow_failure();
  return inbox_.pop();
}

void MpiFabric::do_progress() {
  progress_engine();
  rethrow_failure();
}

void MpiFabric::do_barrier() {
  progress_barrier(
      comm_.get(),
      [this] {
        progress_engine();
        check_peers();
      },
      [](std::chrono::microseconds t) { std::this_thread::sleep_for(t); });
}

bool MpiOp::test() {
  if (is_get_) {
    finish_get();  // MPI has no non-blocking flush; a flush of issued gets is short
  } else if (!done_) {
    fabric_->progress_engine();
  }
  if (done_) throw_if_failed();
  return done_;
}

void MpiOp::wait() {
  if (is_get_) {
    finish_get();
  } else if (!done_) {
    fabric_->block_until([this] { return done_; }, Clock::time_point::max());
  }
  throw_if_failed();
}

void MpiOp::throw_if_failed() const {
  if (error_ != MPI_SUCCESS) ferry::detail::throw_mpi(call_, error_);
}

void MpiFabric::do_close() {
  log::debug("mpi fabric: {} messages were held back to keep send order", inbox_.held_back());
  const auto deadline = Clock::now() + kCloseTimeout;
  flush_gets();
  // Receiving continues while we wait: a peer's large send completes only once we have matched it.
  if (!block_until([this] { return send_requests_.empty(); }, deadline)) {
    log::warn("mpi fabric: closing with {} sends still in flight", send_requests_.size());
  }
  do_barrier();
  if (!block_until([this] { return recv_requests_.empty(); }, deadline)) {
    log::warn("mpi fabric: closing with {} receives still in flight", recv_requests_.size());
  }
  comm_.reset();
}

}  // namespace ferry::transport::mpi
