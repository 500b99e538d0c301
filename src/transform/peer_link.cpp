#include "transform/peer_link.hpp"

#include <mutex>

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "ferry/features.hpp"
#include "transform/target.hpp"

#if FERRY_HAVE_NCCL
#include "transform/cuda/nccl/link.hpp"
#endif

namespace ferry::transform {
namespace {

std::mutex factory_mutex;
PeerLinkFactory& factory() {
  static PeerLinkFactory f;
  return f;
}

}  // namespace

void set_peer_link_factory_for_tests(PeerLinkFactory f) {
  std::lock_guard lock(factory_mutex);
  factory() = std::move(f);
}

bool peer_link_possible(int ordinal, std::string* why) {
  {
    std::lock_guard lock(factory_mutex);
    if (factory()) return true;
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

std::unique_ptr<PeerLink> open_peer_link(MPI_Comm members, int ordinal) {
  {
    std::lock_guard lock(factory_mutex);
    if (factory()) return factory()(members, ordinal);
  }
#if FERRY_HAVE_NCCL
  return nccl::open_link(members, ordinal);
#else
  (void)members;
  (void)ordinal;
  throw TransportError("device batches need a build with CUDA and NCCL", 0);
#endif
}

}  // namespace ferry::transform
