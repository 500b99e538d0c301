// The communicator a Fabric bootstraps and synchronizes over: a dup of the caller's, so Ferry's collectives
// and tags never match the application's, with errors returned (not fatal) so every call can be checked.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <span>
#include <utility>
#include <vector>

namespace ferry::transport {

// Every rank's bytes of one allgather of byte strings of any length (worker addresses, packed keys).
struct GatheredBytes {
  std::vector<std::byte> bytes;
  std::vector<int> offsets, lengths;  // per rank
  std::span<const std::byte> of(int rank) const {
    const auto r = static_cast<std::size_t>(rank);
    return {bytes.data() + offsets[r], static_cast<std::size_t>(lengths[r])};
  }
};
// Collective over comm: MPI_Allgather of the lengths, then MPI_Allgatherv of the bytes.
GatheredBytes allgather_bytes(MPI_Comm comm, std::span<const std::byte> mine);

// Ends the job from any thread: MPI_Abort(comm, 1). Called from a watching thread while the main thread may
// be inside MPI, which is outside what MPI promises: should it hang, a timer ends this process (exit code 1)
// after 5 s.
[[noreturn]] void abort_job(MPI_Comm comm) noexcept;

class Comm {
 public:
  Comm() = default;
  // Collective over parent.
  static Comm dup(MPI_Comm parent);

  Comm(Comm&& other) noexcept : handle_(std::exchange(other.handle_, MPI_COMM_NULL)) {}
  Comm& operator=(Comm&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, MPI_COMM_NULL);
    }
    return *this;
  }
  Comm(const Comm&) = delete;
  Comm& operator=(const Comm&) = delete;
  ~Comm() { reset(); }

  MPI_Comm get() const noexcept { return handle_; }
  int rank() const;
  int size() const;
  // Frees the communicator now (MPI_Comm_free is collective in effect: call it on every rank).
  void reset() noexcept;

 private:
  MPI_Comm handle_ = MPI_COMM_NULL;
};

}  // namespace ferry::transport
