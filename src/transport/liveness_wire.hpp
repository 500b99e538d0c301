// The liveness thread's own UCX worker (liveness.hpp): a context, a worker and an endpoint per rank, apart
// from the Fabric's, so heartbeats never wait behind data and the thread never touches the Fabric. Only
// the liveness thread uses it once constructed (UCS_THREAD_MODE_SINGLE); stop() is the one call from others.
#pragma once

#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ferry::transport {

enum class Kind : std::uint8_t { beat = 1, lost = 2, ack = 3, bye = 4 };

struct Packet {
  Kind kind = Kind::beat;
  int from = -1;
  int about = -1;   // kLost: the lost rank
  std::string why;  // kLost: why it is lost
};

class Wire {
 public:
  // COLLECTIVE over comm: creates the worker and connects an endpoint to every rank.
  explicit Wire(MPI_Comm comm);
  ~Wire();
  Wire(const Wire&) = delete;
  Wire& operator=(const Wire&) = delete;

  // COLLECTIVE over the same comm: every rank's process ID.
  std::vector<int> exchange_pids();
  void on_receive(std::function<void(const Packet&)> handler);
  void on_endpoint_error(std::function<void(int rank, const std::string& why)> handler);

  // Starts a small eager send; best effort (a send to a failed endpoint is dropped).
  void send(int rank, const Packet& packet);
  // Delivers arrivals and completes sends.
  void progress();
  // Sleeps on the worker's event fd until an arrival, stop() or the timeout.
  void sleep(std::chrono::steady_clock::duration timeout);
  // Progresses until every send completed or the timeout passed.
  void drain(std::chrono::milliseconds timeout);
  void stop() noexcept;  // any thread
  bool stopping() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry::transport
