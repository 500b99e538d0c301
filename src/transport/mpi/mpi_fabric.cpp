// MPI backend: construction, sends, polling and waiting for messages, failure recording, orderly shutdown
// (the progress engine is in mpi_progress.cpp).
#include "transport/mpi/mpi_fabric.hpp"

#include <chrono>
#include <climits>
#include <string>
#include <thread>
#include <utility>

#include "core/check.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"

namespace ferry::transport::mpi {

namespace {

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
