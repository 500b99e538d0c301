// Argument checks shared by every backend; the backends see only valid peers, tags and ranges.
#include "transport/fabric.hpp"

#include <algorithm>

#include "core/check.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::transport {

bool Request::test() {
  return op_ == nullptr || op_->test();
}

void Request::wait() {
  if (op_ != nullptr) op_->wait();
}

void Fabric::check_open(const char* what) const {
  if (closed_) {
    throw TransportError(str_cat(backend_, " fabric: ", what, " after close()"), kInvalidArgument);
  }
}

void Fabric::check_peer(int peer, const char* what) const {
  if (peer < 0 || peer >= size_) {
    throw TransportError(
        str_cat(backend_, " fabric: ", what, " to rank ", peer, ", but the fabric has ranks 0..", size_ - 1),
        kInvalidArgument);
  }
}

namespace {
void check_tag(std::string_view backend, Tag tag) {
  if (tag > kMaxTag) {
    throw TransportError(
        str_cat(backend, " fabric: tag ", tag, " is above the largest portable tag ", kMaxTag),
        kInvalidArgument);
  }
}
}  // namespace

void Fabric::send(int peer, Tag tag, std::span<const std::byte> bytes) {
  check_open("send");
  check_peers();
  check_peer(peer, "send");
  check_tag(backend_, tag);
  do_send(peer, tag, bytes, /*copy=*/true);
  ++counts_.sent;
  counts_.sent_bytes += bytes.size();
}

Request Fabric::send_nb(int peer, Tag tag, std::span<const std::byte> bytes) {
  check_open("send_nb");
  check_peers();
  check_peer(peer, "send_nb");
  check_tag(backend_, tag);
  Request request = do_send(peer, tag, bytes, /*copy=*/false);
  ++counts_.sent;
  counts_.sent_bytes += bytes.size();
  return request;
}

std::optional<Message> Fabric::poll() {
  check_open("poll");
  check_peers();
  return count(do_poll());
}

std::optional<Message> Fabric::count(std::optional<Message> message) noexcept {
  if (message) {
    ++counts_.received;
    counts_.received_bytes += message->bytes.size();
  }
  return message;
}

std::optional<Message> Fabric::wait(std::chrono::microseconds timeout) {
  check_open("wait");
  check_peers();
  // Backends compute now + timeout; a day is "forever" for a poll loop and cannot overflow the clock.
  constexpr std::chrono::microseconds kLongest = std::chrono::hours(24);
  return count(do_wait(std::clamp(timeout, std::chrono::microseconds::zero(), kLongest)));
}

Region Fabric::register_memory(void* data, std::size_t bytes) {
  check_open("register_memory");
  if (data == nullptr && bytes != 0) {
    throw TransportError(str_cat(backend_, " fabric: register_memory of ", bytes, " bytes at a null address"),
                         kInvalidArgument);
  }
  return do_register(data, bytes);
}

Region Fabric::allocate_memory(std::size_t bytes) {
  check_open("allocate_memory");
  return do_allocate(bytes);
}

Region Fabric::register_local(void* data, std::size_t bytes) {
  check_open("register_local");
  if (data == nullptr && bytes != 0) {
    throw TransportError(str_cat(backend_, " fabric: register_local of ", bytes, " bytes at a null address"),
                         kInvalidArgument);
  }
  if (bytes == 0) return Region(data, 0, {}, nullptr);
  return do_register_local(data, bytes);
}

bool Fabric::registered_destination(const void* dst, std::size_t bytes) const {
  return do_registered_destination(dst, bytes);
}

std::span<const std::byte> Fabric::mapped(const RemoteRegion& region) {
  check_open("mapped");
  return do_mapped(region);
}

RemoteRegion Fabric::attach(std::span<const std::byte> key) {
  check_open("attach");
  return do_attach(key);
}

Request Fabric::get(const RemoteRegion& from, std::size_t offset, void* dst, std::size_t bytes) {
  check_open("get");
  check_peers();
  check_peer(from.owner, "get");
  // Written so that offset + bytes cannot overflow.
  if (offset > from.size || bytes > from.size - offset) {
    throw TransportError(
        str_cat(backend_, " fabric: get of ", bytes, " bytes at offset ", offset, " is outside region ",
                from.id, " of rank ", from.owner, " (region size ", from.size, " bytes)"),
        kInvalidArgument);
  }
  if (dst == nullptr && bytes != 0) {
    throw TransportError(str_cat(backend_, " fabric: get of ", bytes, " bytes into a null buffer"),
                         kInvalidArgument);
  }
  if (bytes == 0) return Request{};
  return do_get(from, offset, dst, bytes);
}

void Fabric::wait_all() {
  check_open("wait_all");
  check_peers();
  do_wait_all();
}

void Fabric::progress() {
  check_open("progress");
  check_peers();
  do_progress();
}

void Fabric::barrier() {
  check_open("barrier");
  check_peers();
  do_barrier();
}

void Fabric::close() {
  if (closed_) return;
  // Marked closed first: if shutdown fails half-way, a retry from the destructor must not run it again.
  closed_ = true;
  if (watch_) watch_->clear_wakes();
  if (watch_ && watch_->lost()) {
    do_abandon();
    return;
  }
  do_close();
}

void Fabric::watch(std::shared_ptr<PeerWatch> watch) {
  watch_ = std::move(watch);
  if (watch_) watch_->on_loss([this] { do_wake(); });
}

void Fabric::close_noexcept() noexcept {
  try {
    close();
  } catch (const std::exception& e) {
    log::warn("{} fabric: close failed: {}", backend_, e.what());
  }
}

}  // namespace ferry::transport
