// The handles a Fabric hands out: Request (completion of a send_nb or get), Region (registered local memory)
// and RemoteRegion (a peer's region, attached from its packed key), with the backend interfaces behind them
// (detail::Operation, detail::RegionImpl). Included by fabric.hpp, which says how they are made.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace ferry::transport {

namespace detail {

// One in-flight operation of a backend. test() and wait() drive that backend's progress engine on the
// calling (communication) thread and throw TransportError when the operation failed.
class Operation {
 public:
  virtual ~Operation() = default;
  virtual bool test() = 0;
  virtual void wait() = 0;
};

// Backend state behind a Region (UCX memory handle, MPI window); its destructor unregisters.
class RegionImpl {
 public:
  virtual ~RegionImpl() = default;
  // Removes the name of a shared-memory file backing memory the backend allocated (Region::drop_name).
  virtual void drop_name(void* data) {}
};

}  // namespace detail

// Completion handle of a send_nb or get. A default-constructed Request is already complete. Dropping an
// incomplete Request does not cancel the operation: Fabric::wait_all() or close() still completes it.
// A Request must not outlive its Fabric.
class Request {
 public:
  Request() = default;
  explicit Request(std::shared_ptr<detail::Operation> op) : op_(std::move(op)) {}

  // Progresses once; true when complete. Throws TransportError if the operation failed.
  bool test();
  // Blocks (without spinning) until complete. Throws TransportError if the operation failed.
  void wait();

 private:
  std::shared_ptr<detail::Operation> op_;
};

// Registered local memory. key() is the packed remote key: plain bytes to ship to peers, who turn it into a
// RemoteRegion with Fabric::attach. Move-only; destroying it unregisters the memory (see register_memory for
// the collective rule). The memory itself stays owned by the caller and must outlive the Region.
class Region {
 public:
  Region() = default;
  Region(void* data, std::size_t size, std::vector<std::byte> key, std::unique_ptr<detail::RegionImpl> impl)
      : data_(data), size_(size), key_(std::move(key)), impl_(std::move(impl)) {}
  Region(Region&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        key_(std::move(other.key_)),
        impl_(std::move(other.impl_)) {}
  Region& operator=(Region&& other) noexcept {
    if (this != &other) {
      impl_ = std::move(other.impl_);
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      key_ = std::move(other.key_);
    }
    return *this;
  }
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;
  ~Region() = default;

  void* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::span<const std::byte> key() const noexcept { return key_; }
  bool valid() const noexcept { return impl_ != nullptr; }
  // For a region from allocate_memory, once every peer has attached it: removes the name of the
  // shared-memory file the transport put it in, if it has one, so that no file outlives the job (not even
  // after kill -9); the mappings stay valid. Peers cannot attach it afterwards. A no-op otherwise.
  void drop_name() {
    if (impl_) impl_->drop_name(data_);
  }
  // Forgets the registration without undoing it, for when undoing it is collective and a peer is lost
  // (an MPI window): the process's end releases it.
  void leak() noexcept {
    (void)impl_.release();
    data_ = nullptr;
    size_ = 0;
  }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
  std::vector<std::byte> key_;
  std::unique_ptr<detail::RegionImpl> impl_;
};

// A peer's region as seen by this rank: a small copyable value. slot indexes the attaching Fabric's table
// (an unpacked rkey for UCX, a window for MPI) and means nothing to another Fabric.
struct RemoteRegion {
  int owner = -1;
  std::uint64_t id = 0;    // unique per owner
  std::uint64_t size = 0;  // bytes
  std::uint32_t slot = 0;
};

}  // namespace ferry::transport
