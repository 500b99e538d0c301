#include "transform/peer_link.hpp"

#include <mutex>

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "ferry/features.hpp"
#include "transform/target.hpp"

#if FERRY_HAVE_CUDA
#include "transform/cuda/launch.hpp"
#endif
#if FERRY_HAVE_NCCL
#include "transform/cuda/nccl/link.hpp"
#endif

namespace ferry::transform {
namespace {

std::mutex peer_link_factory_mutex;
PeerLinkFactory& peer_link_factory() {
  static PeerLinkFactory f;
  return f;
}

}  // namespace

void set_peer_link_factory_for_tests(PeerLinkFactory f) {
  std::lock_guard lock(peer_link_factory_mutex);
  peer_link_factory() = std::move(f);
}

bool peer_link_possible(int ordinal, std::string* why) {
  {
    std::lock_guard lock(peer_link_factory_mutex);
    if (peer_link_factory()) return true;
  }
#if FERRY_HAVE_NCCL
  const int count = cuda_device_count();
  if (ordinal >= 0 && ordinal < count) return true;
  if (why)
    *why = count == 0 ? std::string("no CUDA device is visible")
                      : str_cat("no CUDA device ", ordinal, " (", count, " visible)");
  return false;
#else
  (void)ordinal;
  if (why) *why = kHaveCuda ? "this build has no NCCL" : "this build has no CUDA";
  return false;
#endif
}

std::unique_ptr<PeerLink> open_peer_link(MPI_Comm members, int ordinal, const LinkPeers& peers) {
  {
    std::lock_guard lock(peer_link_factory_mutex);
    if (peer_link_factory()) return peer_link_factory()(members, ordinal, peers);
  }
#if FERRY_HAVE_NCCL
  return nccl::open_link(members, ordinal, peers);
#else
  (void)members;
  (void)ordinal;
  (void)peers;
  throw TransportError("device batches need a build with CUDA and NCCL", 0);
#endif
}

std::string device_identity(int ordinal) noexcept {
  {
    std::lock_guard lock(peer_link_factory_mutex);
    if (peer_link_factory()) return {};
  }
#if FERRY_HAVE_CUDA
  if (ordinal < 0 || ordinal >= cuda_device_count()) return {};
  char host[MPI_MAX_PROCESSOR_NAME] = {};
  int length = 0;
  if (MPI_Get_processor_name(host, &length) != MPI_SUCCESS) return {};
  try {
    return str_cat(std::string(host, static_cast<std::size_t>(length)), "/", cuda::pci_bus_id(ordinal));
  } catch (const std::exception&) {
    return {};  // unknown: the caller is between collectives, and no identity only skips a check
  }
#else
  (void)ordinal;
  return {};
#endif
}

}  // namespace ferry::transform
