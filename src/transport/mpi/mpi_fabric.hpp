// The MPI backend, over a dup of the caller's communicator. Messages are MPI_Isend (from a copy, for send())
// and MPI_Improbe + MPI_Mrecv/MPI_Imrecv on the receive side; gets are MPI_Get on windows locked once with
// MPI_Win_lock_all (passive target) and completed with MPI_Win_flush_local. Open MPI's blocking calls
// busy-poll, so waits are MPI_Test/MPI_Improbe loops with exponential-backoff sleeps (Backoff). Details:
// docs/transport.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "ferry/error.hpp"
#include "transport/comm.hpp"
#include "transport/fabric.hpp"
#include "transport/reorder.hpp"
#include "transport/wait_util.hpp"

namespace ferry::transport::mpi {

// Collective over comm (it is duplicated).
std::unique_ptr<Fabric> make_fabric(MPI_Comm comm);

// Windows this rank takes part in, by region id. Ids are assigned in creation order, which is the same on
// every rank because window creation is collective; so a peer's id names the same window here. Shared with
// the Regions, which remove their window when destroyed.
struct WindowTable {
  struct Entry {
    MPI_Win window = MPI_WIN_NULL;
    bool gets_pending = false;  // MPI_Get issued since the last flush
  };
  std::map<std::uint64_t, Entry> windows;
  std::uint64_t next_id = 0;
};

class MpiFabric;

// A send_nb or get. Sends complete in the fabric's progress engine; gets complete when their window is
// flushed towards the target (a short wait: the data is on its way once MPI_Get returned).
class MpiOp final : public detail::Operation {
 public:
  MpiOp(MpiFabric& fabric, const char* call) : fabric_(&fabric), call_(call) {}
  bool test() override;
  void wait() override;

 private:
  friend class MpiFabric;
  void finish_get();
  void throw_if_failed() const;

  MpiFabric* fabric_;
  const char* call_;
  bool done_ = false;
  int error_ = MPI_SUCCESS;
  // Gets only: the window (by id, since the Region may be gone) and target to flush.
  bool is_get_ = false;
  std::uint64_t window_id_ = 0;
  int target_ = -1;
};

class MpiFabric final : public Fabric {
 public:
  explicit MpiFabric(Comm comm);
  ~MpiFabric() override;

  // Receives arrivals and completes finished sends and receives. True when anything moved.
  bool progress_engine();
  // Progresses until ready() or deadline, sleeping with backoff in between. True when ready() held.
  bool block_until(const std::function<bool()>& ready, Clock::time_point deadline);

 protected:
  Request do_send(int peer, Tag tag, std::span<const std::byte> bytes, bool copy) override;
  std::optional<Message> do_poll() override;
  std::optional<Message> do_wait(std::chrono::microseconds timeout) override;
  Region do_register(void* data, std::size_t bytes) override;
  Region do_allocate(std::size_t bytes) override;
  Region wrap_window(MPI_Win window, void* data, std::size_t bytes);
  RemoteRegion do_attach(std::span<const std::byte> key) override;
  Request do_get(const RemoteRegion& from, std::size_t offset, void* dst, std::size_t bytes) override;
  void do_wait_all() override;
  void do_progress() override;
  void do_barrier() override;
  void do_close() override;
  void do_wake() noexcept override { waker_.wake(); }

 private:
  friend class MpiOp;
  struct PendingSend {
    std::vector<std::byte> copy;  // send(): the bytes MPI reads from
    std::shared_ptr<MpiOp> op;    // send_nb(): completion to signal; empty for send()
  };
  struct PendingRecv {
    int source;
    Tag tag;
    std::uint64_t seq;
  };

  bool receive_arrivals();
  bool complete_sends();
  bool complete_receives();
  void flush_gets();
  void record_failure(const char* call, int code) noexcept;
  void rethrow_failure();

  Comm comm_;
  std::shared_ptr<WindowTable> windows_;
  ReorderBuffer inbox_{buffers_};
  std::map<std::pair<int, Tag>, std::uint64_t> next_recv_seq_;
  // Parallel arrays: MPI_Testsome wants the requests contiguous.
  std::vector<MPI_Request> send_requests_;
  std::vector<PendingSend> sends_;
  std::vector<MPI_Request> recv_requests_;
  std::vector<PendingRecv> recvs_;
  std::optional<TransportError> failure_;  // first failure not yet thrown
  Waker waker_;                            // Fabric::wake() from other threads
  bool woken_ = false;                     // a wake-up the next wait() reports
};

}  // namespace ferry::transport::mpi
