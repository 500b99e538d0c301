// The liveness rule (docs/errors.md, "A lost rank"): a thread per rank, on its own small UCX worker, apart
// from the data path, so it keeps beating while the rank computes (a training step, a long prepare) and stops
// only when the process stops. Ranks form a ring; each sends a heartbeat to its two neighbours every
// timeout/8 and watches them:
//   - no heartbeat for `timeout` (a SIGSTOPped, hung or cut-off rank): lost;
//   - a neighbour on this host whose process is gone or a zombie (kill -9, a crash): lost at once;
//   - UCX reports a neighbour's endpoint failed: lost at once.
// A rank that finds a loss reports it to the PeerWatch (which prints the one line and wakes the
// communication thread) and tells every other rank, which report it too. Every rank then acknowledges to
// the reporter (the lowest rank not lost), which ends the job once all survivors have printed
// (Runtime::end_after_loss). A rank that leaves in order says goodbye first, so nobody mourns it.
// Should the communication thread not take the loss within kGrace (blocked inside a native call or in the
// caller's own MPI collective), the thread ends the process itself, and on the reporter the job
// (MPI_Abort): no rank outlives a lost peer by more than timeout + kGrace.
#pragma once

#include <mpi.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "transport/peer_watch.hpp"

namespace ferry::transport {

class Liveness {
 public:
  static constexpr std::chrono::seconds kGrace{10};

  // COLLECTIVE over comm (exchanges UCX worker addresses and process IDs); starts the thread. hosts[r] is
  // rank r's host name (a process on this host can be checked directly).
  Liveness(MPI_Comm comm, std::shared_ptr<PeerWatch> watch, std::chrono::milliseconds timeout,
           const std::vector<std::string>& hosts);
  // Says goodbye to the neighbours, stops the thread, releases the worker. Local.
  ~Liveness();
  Liveness(const Liveness&) = delete;
  Liveness& operator=(const Liveness&) = delete;

  // How long one step of this rank's role loop may last (PeerWatch::step_started) before the rank reports
  // itself lost; the heartbeat timeout unless set (tests set a short one beside a long heartbeat timeout).
  void set_step_timeout(std::chrono::milliseconds timeout);

  // On the reporter after a loss: true once every rank not lost has acknowledged it (printed it), false at
  // the deadline.
  bool wait_acknowledged(std::chrono::steady_clock::time_point deadline);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The ring neighbours rank `self` watches and sends heartbeats to (itself excluded; one for two ranks).
std::vector<int> ring_neighbours(int self, int size);

// State of process pid on this host: 'R', 'S', 'T', ... from /proc/PID/stat; 'X' when it is gone.
char process_state(int pid);

}  // namespace ferry::transport
