// Wire format of a Region's packed remote key, shared by both backends: a fixed little header (owner, region
// id, base address, size, backend letter) followed by the backend's own bytes (a packed UCX rkey; nothing for
// MPI). Keys travel between ranks of one job, so the header uses the host's byte order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace ferry::transport {

struct RegionKey {
  char backend = '?';  // 'U' (ucx) or 'M' (mpi)
  int owner = -1;
  std::uint64_t id = 0;
  std::uint64_t base = 0;  // remote virtual address of byte 0 (UCX); 0 for MPI (window displacement)
  std::uint64_t size = 0;
  std::vector<std::byte> native;
};

std::vector<std::byte> pack_region_key(const RegionKey& key);
// Throws TransportError when the bytes are not a key, or a key of another backend (named in the message).
RegionKey unpack_region_key(std::span<const std::byte> bytes, char expected_backend,
                            std::string_view backend_name);

}  // namespace ferry::transport
