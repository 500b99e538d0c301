// MPI backend, progress engine: receiving arrivals (MPI_Improbe + MPI_Mrecv/MPI_Imrecv), completing sends and
// receives (MPI_Testsome), the backoff wait loop every blocking call uses, and completion of MpiOp.
#include <functional>
#include <utility>
#include <vector>

#include "core/check.hpp"
#include "transport/mpi/mpi_fabric.hpp"

namespace ferry::transport::mpi {

namespace {

// Payloads up to this size are received with a blocking MPI_Mrecv: they arrived eagerly, so the call only
// copies. Larger ones use MPI_Imrecv, which completes while this rank keeps serving other traffic.
constexpr int kEagerReceiveBytes = 64 * 1024;

}  // namespace

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

namespace {

// complete_some(requests, pending, on_done): MPI_Testsome over `requests`, on_done(pending[i], error) for
// each completed request (error: its status's MPI_ERROR where MPI reported one, else MPI_SUCCESS), then drops
// the completed requests and their pending entries, keeping the rest in order. False when none completed.
template <class Pending, class OnDone>
bool complete_some(std::vector<MPI_Request>& requests, std::vector<Pending>& pending, OnDone on_done) {
  if (requests.empty()) return false;
  int completed = 0;
  std::vector<int> indices(requests.size());
  std::vector<MPI_Status> statuses(requests.size());
  const int rc = MPI_Testsome(static_cast<int>(requests.size()), requests.data(), &completed, indices.data(),
                              statuses.data());
  if (rc != MPI_SUCCESS && rc != MPI_ERR_IN_STATUS) ferry::detail::throw_mpi("MPI_Testsome", rc);
  if (completed <= 0) return false;  // MPI_UNDEFINED (no active requests) is negative
  for (int i = 0; i < completed; ++i) {
    const auto at = static_cast<std::size_t>(i);
    const int error = rc == MPI_ERR_IN_STATUS ? statuses[at].MPI_ERROR : MPI_SUCCESS;
    on_done(pending[static_cast<std::size_t>(indices[at])], error);
  }
  // Completed requests were set to MPI_REQUEST_NULL; keep the rest, in order.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (requests[i] == MPI_REQUEST_NULL) continue;
    // Never self-move: a self-moved vector comes out empty, freeing bytes MPI is still sending.
    if (kept != i) {
      requests[kept] = requests[i];
      pending[kept] = std::move(pending[i]);
    }
    ++kept;
  }
  requests.resize(kept);
  pending.resize(kept);
  return true;
}

}  // namespace

bool MpiFabric::complete_sends() {
  return complete_some(send_requests_, sends_, [this](PendingSend& done, int error) {
    if (done.op) {
      done.op->done_ = true;
      done.op->error_ = error;
    } else if (error != MPI_SUCCESS) {
      record_failure("MPI_Isend", error);
    }
    buffers_.give(std::move(done.copy));  // for the next message (kept or freed)
    done.copy = {};
    done.op.reset();
  });
}

bool MpiFabric::complete_receives() {
  return complete_some(recv_requests_, recvs_, [this](const PendingRecv& done, int error) {
    if (error != MPI_SUCCESS) record_failure("MPI_Imrecv", error);
    inbox_.complete(done.source, done.tag, done.seq);
  });
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

}  // namespace ferry::transport::mpi
