#include "transport/region_key.hpp"

#include <cstring>

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "transport/fabric.hpp"

namespace ferry::transport {

namespace {

constexpr std::uint32_t kMagic = 0x4b595246;  // "FRYK"

struct KeyHeader {
  std::uint32_t magic;
  char backend;
  char pad[3];
  std::int32_t owner;
  std::uint32_t native_bytes;
  std::uint64_t id;
  std::uint64_t base;
  std::uint64_t size;
};

}  // namespace

std::vector<std::byte> pack_region_key(const RegionKey& key) {
  KeyHeader header{};
  header.magic = kMagic;
  header.backend = key.backend;
  header.owner = key.owner;
  header.native_bytes = static_cast<std::uint32_t>(key.native.size());
  header.id = key.id;
  header.base = key.base;
  header.size = key.size;
  std::vector<std::byte> out(sizeof header + key.native.size());
  std::memcpy(out.data(), &header, sizeof header);
  if (!key.native.empty()) std::memcpy(out.data() + sizeof header, key.native.data(), key.native.size());
  return out;
}

RegionKey unpack_region_key(std::span<const std::byte> bytes, char expected_backend,
                            std::string_view backend_name) {
  KeyHeader header{};
  if (bytes.size() < sizeof header) {
    throw TransportError(
        str_cat(backend_name, " fabric: a region key of ", bytes.size(), " bytes is too short to be a key"),
        kInvalidArgument);
  }
  std::memcpy(&header, bytes.data(), sizeof header);
  if (header.magic != kMagic || bytes.size() != sizeof header + header.native_bytes) {
    throw TransportError(str_cat(backend_name, " fabric: bytes are not a packed region key"),
                         kInvalidArgument);
  }
  if (header.backend != expected_backend) {
    throw TransportError(str_cat(backend_name, " fabric: region key was packed by the '",
                                 header.backend == 'U'   ? "ucx"
                                 : header.backend == 'M' ? "mpi"
                                                         : "?",
                                 "' backend"),
                         kInvalidArgument);
  }
  RegionKey key;
  key.backend = header.backend;
  key.owner = header.owner;
  key.id = header.id;
  key.base = header.base;
  key.size = header.size;
  key.native.assign(bytes.begin() + sizeof header, bytes.end());
  return key;
}

}  // namespace ferry::transport
