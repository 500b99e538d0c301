// The UCX backend. Messages are UCP active messages (one AM id; a small header carries tag, source and a
// per-(destination, tag) sequence number); rendezvous payloads are pulled with ucp_am_recv_data_nbx outside
// the AM callback; gets are ucp_get_nbx with rkeys unpacked once per (owner, region). Idle waits sleep on the
// worker's event fd (ucp_worker_get_efd + ucp_worker_arm + ppoll). Details: docs/transport.md.
#pragma once

#include <ucp/api/ucp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ferry/error.hpp"
#include "transport/comm.hpp"
#include "transport/fabric.hpp"
#include "transport/reorder.hpp"
#include "transport/ucx/ucx_handles.hpp"
#include "transport/wait_util.hpp"

namespace ferry::transport::ucx {

// Collective over comm: exchanges worker addresses with MPI_Allgather(v) and connects every endpoint.
std::unique_ptr<Fabric> make_fabric(MPI_Comm comm);

// Sent as the AM header (its own buffer, not the payload), so a message needs no framing copy.
struct AmHeader {
  std::uint32_t tag;
  std::int32_t source;
  std::uint64_t seq;  // per (source, destination, tag), from 0
};

class UcxFabric;

// Local get destinations (Fabric::register_local, and every region this rank exposed): a get into one passes
// its memory handle. Shared with the Regions, which remove their entry when destroyed, even after the Fabric.
struct LocalMaps {
  struct Entry {
    std::uintptr_t base;
    std::size_t size;
    ucp_mem_h memh;
  };
  std::vector<Entry> entries;  // a few per rank (one pool per consumer pipeline)
  // The handle of the registration holding [dst, dst + bytes), or nullptr.
  ucp_mem_h find(const void* dst, std::size_t bytes) const noexcept;
};

// A send or get in flight. UCX holds a raw pointer to it (user_data) until its callback runs, so the op
// holds itself alive through `self` until then; the callback only records the status (it never throws).
class UcxOp final : public detail::Operation {
 public:
  UcxOp(UcxFabric& fabric, const char* call, bool detached)
      : fabric_(&fabric), call_(call), detached_(detached) {}
  bool test() override;
  void wait() override;

 private:
  friend class UcxFabric;
  void throw_if_failed() const;

  UcxFabric* fabric_;
  const char* call_;
  bool detached_;  // nobody holds a Request: a failure goes to the fabric (next poll/wait throws it)
  bool done_ = false;
  ucs_status_t status_ = UCS_OK;
  AmHeader header_{};
  std::vector<std::byte> payload_;  // send(): the copy UCX reads from, so the caller's buffer is free
  std::shared_ptr<UcxOp> self_;
};

class UcxFabric final : public Fabric {
 public:
  explicit UcxFabric(MPI_Comm comm);
  explicit UcxFabric(Comm comm);
  ~UcxFabric() override;

  // Progress engine, on the communication thread: drains the worker and starts deferred rendezvous
  // receives. Never throws a stored asynchronous failure (public entry points do).
  void progress_engine();
  // Progresses until ready() or deadline, sleeping on the event fd in between. True when ready() held.
  bool block_until(const std::function<bool()>& ready, Clock::time_point deadline);

 protected:
  Request do_send(int peer, Tag tag, std::span<const std::byte> bytes, bool copy) override;
  std::optional<Message> do_poll() override;
  std::optional<Message> do_wait(std::chrono::microseconds timeout) override;
  Region do_register(void* data, std::size_t bytes) override;
  Region do_allocate(std::size_t bytes) override;
  Region make_region(void* data, std::size_t bytes, std::optional<MemMap> memory, bool allocated);
  RemoteRegion do_attach(std::span<const std::byte> key) override;
  Region do_register_local(void* data, std::size_t bytes) override;
  bool do_registered_destination(const void* dst, std::size_t bytes) const override {
    return locals_->find(dst, bytes) != nullptr;
  }
  std::span<const std::byte> do_mapped(const RemoteRegion& region) override;
  Request do_get(const RemoteRegion& from, std::size_t offset, void* dst, std::size_t bytes) override;
  void do_wait_all() override;
  void do_progress() override;
  void do_barrier() override;
  void do_close() override;
  void do_wake() noexcept override { waker_.wake(); }
  void do_abandon() noexcept override;

 private:
  friend class UcxOp;
  struct RndvPending {
    void* desc;
    AmHeader header;
    std::size_t bytes;
  };
  struct RndvContext {
    UcxFabric* fabric;
    AmHeader header;
  };
  struct EndpointOwner {  // an endpoint error callback's argument
    UcxFabric* fabric;
    int peer;
  };
  struct Attached {
    int owner;
    std::uint64_t id;
    std::uint64_t base;
    std::uint64_t size;
    Rkey rkey;
  };

  static ucs_status_t on_am(void* arg, const void* header, std::size_t header_length, void* data,
                            std::size_t length, const ucp_am_recv_param_t* param);
  static void on_op_done(void* request, ucs_status_t status, void* user_data);
  static void on_rndv_done(void* request, ucs_status_t status, std::size_t length, void* user_data);
  static void on_endpoint_error(void* arg, ucp_ep_h endpoint, ucs_status_t status);

  void connect_all();
  Request issue(const std::shared_ptr<UcxOp>& op, ucs_status_ptr_t started);
  void start_rndv_receives();
  void record_async(const char* call, ucs_status_t status) noexcept;
  void rethrow_async();
  // Arms the worker and sleeps on its event fd for at most timeout; returns at once if events are pending.
  void idle_wait(std::chrono::microseconds timeout);
  void release_all() noexcept;

  // Declaration order is release order reversed: rkeys, endpoints, worker, context (see ucx_handles.hpp).
  Comm comm_;
  std::shared_ptr<Context> context_;
  Worker worker_;
  int event_fd_ = -1;
  Waker waker_;                                 // Fabric::wake() from other threads
  bool woken_ = false;                          // a wake-up the next wait() reports
  std::vector<Endpoint> endpoints_;             // one per rank, this rank's own included
  std::vector<EndpointOwner> endpoint_owners_;  // same index; never resized after connect_all()
  std::vector<Attached> attached_;
  std::map<std::pair<int, std::uint64_t>, std::uint32_t> attached_slots_;

  std::unordered_map<std::uint64_t, std::uint64_t> next_send_seq_;  // key: peer << 32 | tag
  ReorderBuffer inbox_{buffers_};
  std::vector<RndvPending> rndv_pending_;
  std::size_t ops_in_flight_ = 0;
  std::size_t receives_in_flight_ = 0;
  std::optional<TransportError> async_error_;  // first failure nobody holds a Request for
  std::optional<TransportError> op_error_;     // first op failure since the last wait_all()
  std::uint64_t next_region_id_ = 0;
  std::shared_ptr<LocalMaps> locals_ = std::make_shared<LocalMaps>();
};

}  // namespace ferry::transport::ucx
