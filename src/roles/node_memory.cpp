#include "roles/node_memory.hpp"

#include <mpi.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/check.hpp"
#include "core/strings.hpp"
#include "transport/registry.hpp"

namespace ferry::roles {

std::optional<std::uint64_t> mem_available_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key, unit;
    std::uint64_t value = 0;
    if (!(fields >> key >> value) || key != "MemAvailable:") continue;
    fields >> unit;
    return unit == "kB" ? value * 1024 : value;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> free_bytes(const std::string& dir) {
  struct statvfs fs {};
  if (statvfs(dir.c_str(), &fs) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(fs.f_bavail) * static_cast<std::uint64_t>(fs.f_frsize);
}

// The largest System V segment the kernel allows (UCX maps a slab that way first, with no file behind it).
std::optional<std::uint64_t> sysv_segment_limit() {
  std::ifstream in("/proc/sys/kernel/shmmax");
  std::uint64_t value = 0;
  if (in >> value) return value;
  return std::nullopt;
}

namespace {

// COLLECTIVE over ctx.comm: the sum of `value` over the ranks of this rank's node, on the node's lowest rank
// (zero on the others).
std::uint64_t sum_on_node(const Context& ctx, std::uint64_t value) {
  const int node = ctx.layout.node_of.at(static_cast<std::size_t>(ctx.rank));
  MPI_Comm node_comm = MPI_COMM_NULL;
  FERRY_CHECK_MPI(MPI_Comm_split(ctx.comm, node, ctx.rank, &node_comm));
  std::uint64_t sum = 0;
  const int rc = MPI_Reduce(&value, &sum, 1, MPI_UINT64_T, MPI_SUM, 0, node_comm);
  FERRY_CHECK_MPI(MPI_Comm_free(&node_comm));
  FERRY_CHECK_MPI(rc);
  return ctx.rank == node ? sum : 0;
}

// Saturating: a sum or product past 2^64 is "more than any node".
std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}
std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
  return a == 0 || b == 0 ? 0 : a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

}  // namespace

std::string cache_beyond_node(const Context& ctx, std::uint64_t pool_bytes) {
  const Layout& layout = ctx.layout;
  const std::uint64_t pools = sum_on_node(ctx, pool_bytes);  // each rank's own, after its set-up
  const int node = layout.node_of.at(static_cast<std::size_t>(ctx.rank));
  if (ctx.rank != node) return {};  // the node's lowest rank speaks for it: one reading, one line
  const auto slabs = static_cast<std::uint64_t>(
      std::count_if(layout.slab_holders.begin(), layout.slab_holders.end(),
                    [&](int r) { return layout.node_of.at(static_cast<std::size_t>(r)) == node; }));
  const std::uint64_t cache = ctx.config.runtime.cache_bytes;
  const std::uint64_t slab_bytes = saturating_mul(cache, slabs);
  // Every rank keeps up to runtime.message_buffer_bytes of message payloads (transport/buffer_pool.hpp), on
  // the heap: they count against MemAvailable only. The key is the same on every rank (the config).
  const auto ranks =
      static_cast<std::uint64_t>(std::count(layout.node_of.begin(), layout.node_of.end(), node));
  const std::uint64_t buffers = saturating_mul(ctx.config.runtime.message_buffer_bytes, ranks);
  const std::uint64_t need = saturating_add(saturating_add(slab_bytes, pools), buffers);
  if (need == 0) return {};
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  const auto refuse = [&](const std::string& what, std::uint64_t needed, std::uint64_t have) {
    return str_cat(
        "runtime.cache_bytes = ", cache, " times ", slabs, " slab(s), ", pools,
        " bytes of send pools (runtime.send_pool_bytes) and ", buffers,
        " bytes of message buffers (runtime.message_buffer_bytes) on node ", host, " (rank ", node,
        "'s node) need ", needed, " bytes, but ", what, " has ", have,
        " bytes: lower runtime.cache_bytes, runtime.send_pool_bytes or runtime.message_buffer_bytes, "
        "or spread the ranks over more nodes");
  };
  if (const auto available = mem_available_bytes(); available && need > *available)
    return refuse("MemAvailable (/proc/meminfo)", need, *available);
  // Files in the shared-memory folder hold a region only where System V cannot (one past shmmax): only then
  // does a small /dev/shm (a container's 64 MiB) limit it. Each rank's pool is one region of send_pool_bytes.
  const auto sysv = sysv_segment_limit();
  const auto in_files = [&](std::uint64_t region) { return region != 0 && (!sysv || region > *sysv); };
  const std::uint64_t file_bytes = saturating_add(in_files(cache) ? slab_bytes : 0,
                                                  in_files(ctx.config.runtime.send_pool_bytes) ? pools : 0);
  if (const std::string dir = transport::shared_memory_dir(ctx.config.runtime.transport);
      !dir.empty() && file_bytes != 0)
    if (const auto free = free_bytes(dir); free && file_bytes > *free)
      return refuse(str_cat(dir, " (free)"), file_bytes, *free);
  return {};
}

}  // namespace ferry::roles
