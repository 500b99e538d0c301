// The transport layer's interface chain: Fabric (one per rank, over a communicator) -> its per-peer endpoints
// (internal to each backend) -> Region (registered local memory) / RemoteRegion (a peer's region, attached
// from its packed key) -> Request (completion of sends and gets); the last three are in fabric_handles.hpp.
// Backends: "ucx" and "mpi" (registry.hpp).
// The contract every backend keeps is written in docs/transport.md; the public methods here validate
// arguments once, so both backends fail the same way on bad input.
#pragma once

#include <mpi.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "transport/buffer_pool.hpp"
#include "transport/fabric_handles.hpp"
#include "transport/peer_watch.hpp"

namespace ferry::transport {

using Tag = std::uint32_t;
// MPI only promises MPI_TAG_UB >= 32767; both backends accept the same range so code moves between them.
inline constexpr Tag kMaxTag = 32767;
// TransportError::status() for a caller's mistake caught before any native call (bad peer, tag, bounds).
inline constexpr int kInvalidArgument = -1;

// A received message; owns its bytes, so it may outlive the Fabric that delivered it.
struct Message {
  int source = -1;
  Tag tag = 0;
  std::vector<std::byte> bytes;
};

// One rank's transport instance over a communicator. Not thread-safe: one thread per rank makes every call
// (MPI_THREAD_SINGLE or FUNNELED is enough). Creating and closing a Fabric are collective over its
// communicator.
class Fabric {
 public:
  Fabric(const Fabric&) = delete;
  Fabric& operator=(const Fabric&) = delete;
  virtual ~Fabric() = default;

  std::string_view backend() const noexcept { return backend_; }
  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }

  // Messages this rank sent (send, send_nb) and received (poll, wait), and their bytes, since the start.
  struct Counts {
    std::uint64_t sent = 0, sent_bytes = 0, received = 0, received_bytes = 0;
  };
  const Counts& counts() const noexcept { return counts_; }

  // Sends bytes to peer (which may be this rank). Returns at once; the buffer may be reused on return (the
  // backend copies it). Messages from one sender to one receiver with one tag arrive in send order.
  void send(int peer, Tag tag, std::span<const std::byte> bytes);
  // Zero-copy send: the buffer must stay untouched until the Request completes. Same ordering as send().
  Request send_nb(int peer, Tag tag, std::span<const std::byte> bytes);

  // The next received message, or nothing; never blocks.
  std::optional<Message> poll();
  // Blocks until a message is available or the timeout passes, sleeping on an fd (UCX) or with backoff
  // (MPI) rather than spinning. Also drives sends and gets in flight.
  std::optional<Message> wait(std::chrono::microseconds timeout);
  // Hands a handled message's payload back for the next messages received or sent to reuse (BufferPool: no
  // fresh pages to fault in). Optional: a message dropped instead is freed as before.
  void recycle(Message&& message) noexcept { buffers_.give(std::move(message.bytes)); }
  // Bytes of handled payloads and sent copies kept for reuse (runtime.message_buffer_bytes; 0 keeps none).
  void set_buffer_budget(std::uint64_t bytes) noexcept { buffers_.set_budget(bytes); }
  const BufferPool::Stats& buffer_stats() const noexcept { return buffers_.stats(); }

  // Registers [data, data + bytes) for one-sided gets by peers. COLLECTIVE: every rank of the fabric calls
  // it the same number of times in the same order (a rank with nothing to expose passes nullptr, 0),
  // because MPI windows are created collectively; destroying the Regions is collective in the same way.
  Region register_memory(void* data, std::size_t bytes);
  // Like register_memory, but the transport allocates `bytes` and owns them until the Region is destroyed
  // (Region::data() is where they are). It places them where peers' gets need no help from this rank where
  // it can: UCX maps them with UCP_MEM_MAP_ALLOCATE, which its shared-memory transports can map into the
  // reader, so a get is a plain copy; MPI uses MPI_Win_allocate. COLLECTIVE, in the same sequence as
  // register_memory (allocate_memory(0) exposes nothing).
  Region allocate_memory(std::size_t bytes);
  // Registers [data, data + bytes) of this rank as a destination of its own gets: not exposed to peers, not
  // collective. Gets whose destination lies inside a live local region skip the backend's per-get
  // registration (UCX passes the memory handle); elsewhere they work as before. The Region has no key; the
  // memory stays the caller's and must outlive it. MPI: nothing to register (an invalid Region).
  Region register_local(void* data, std::size_t bytes);
  // Whether a get into [dst, dst + bytes) passes a memory handle registered beforehand: inside a live local
  // region, or inside a live region this rank exposed (register_memory, allocate_memory: a cache server's
  // slab). Always false where the backend registers nothing (MPI).
  bool registered_destination(const void* dst, std::size_t bytes) const;
  // Turns a peer's packed key into a RemoteRegion. Cheap to repeat: keys are unpacked once per
  // (owner, region) and cached until close().
  RemoteRegion attach(std::span<const std::byte> key);
  // Where an attached region is mapped into this process, when the transport reads it through a mapping
  // (UCX shared-memory transports: ucp_rkey_ptr), so the caller can fault the pages in before data moves;
  // empty otherwise. Valid while the Fabric is open.
  std::span<const std::byte> mapped(const RemoteRegion& region);
  // Starts a one-sided read of remote [offset, offset + bytes) into dst (local memory, not registered).
  // Bounds are checked here, before anything is issued. Many gets may be in flight; dst must stay valid
  // until the Request (or wait_all) completes.
  Request get(const RemoteRegion& from, std::size_t offset, void* dst, std::size_t bytes);
  // Blocks until every send and get this rank has issued is complete. Throws the first failure among
  // operations that completed since the previous wait_all().
  void wait_all();

  // Runs the progress engine once without blocking (deliveries, completions).
  void progress();
  // The one call any thread may make: a wait() in progress (or the next one) returns early, possibly with
  // no message. For work that finishes on another thread (a worker's result) without a message.
  void wake() noexcept { do_wake(); }
  // Collective barrier that keeps this rank's progress engine running while it waits, so a peer blocked
  // on one of our transfers cannot deadlock against it.
  void barrier();
  // Collective, orderly shutdown: completes this rank's operations, waits at a barrier (so no peer is torn
  // down under an in-flight message), closes endpoints and releases handles. Messages not yet received are
  // dropped. Idempotent; the destructor calls it (and logs instead of throwing). Once a peer is known lost,
  // it is local instead: nothing waits for the peers (see watch()).
  void close();
  bool closed() const noexcept { return closed_; }

  // Peer-failure detection (docs/errors.md): once `watch` knows a peer is lost, every call above (and every
  // Request::wait) throws ferry::PeerLost instead of waiting for it; a loss wakes a blocked wait at once.
  // The UCX backend also reports its endpoints' failures to it.
  void watch(std::shared_ptr<PeerWatch> watch);
  const std::shared_ptr<PeerWatch>& peer_watch() const noexcept { return watch_; }
  // Throws PeerLost when a peer is known lost. Backends call it in every blocking loop.
  void check_peers() {
    if (watch_ && watch_->lost()) watch_->check();
  }

 protected:
  Fabric(std::string backend, int rank, int size) : backend_(std::move(backend)), rank_(rank), size_(size) {}

  virtual Request do_send(int peer, Tag tag, std::span<const std::byte> bytes, bool copy) = 0;
  virtual std::optional<Message> do_poll() = 0;
  virtual std::optional<Message> do_wait(std::chrono::microseconds timeout) = 0;
  virtual Region do_register(void* data, std::size_t bytes) = 0;
  virtual Region do_allocate(std::size_t bytes) = 0;
  virtual RemoteRegion do_attach(std::span<const std::byte> key) = 0;
  virtual Region do_register_local(void* data, std::size_t bytes) { return Region(data, bytes, {}, nullptr); }
  virtual std::span<const std::byte> do_mapped(const RemoteRegion&) { return {}; }
  virtual bool do_registered_destination(const void*, std::size_t) const { return false; }
  virtual Request do_get(const RemoteRegion& from, std::size_t offset, void* dst, std::size_t bytes) = 0;
  virtual void do_wait_all() = 0;
  virtual void do_progress() = 0;
  virtual void do_barrier() = 0;
  virtual void do_close() = 0;
  virtual void do_wake() noexcept = 0;
  // close() after a peer loss: releases what this rank holds without waiting for any peer.
  virtual void do_abandon() noexcept {}

  // For backend destructors: close() that logs instead of throwing.
  void close_noexcept() noexcept;

  // Payloads of received messages come from here (recycle() gives them back), and so do send()'s copies
  // (copy_of; the backend gives each back once sent). The budget until set_buffer_budget() is
  // runtime.message_buffer_bytes's default, for fabrics made without a Runtime.
  BufferPool buffers_{64ULL << 20};

 private:
  void check_open(const char* what) const;
  void check_peer(int peer, const char* what) const;

  std::string backend_;
  int rank_ = 0;
  int size_ = 0;
  bool closed_ = false;
  std::shared_ptr<PeerWatch> watch_;
  Counts counts_;
  std::optional<Message> count(std::optional<Message> message) noexcept;
};

}  // namespace ferry::transport
