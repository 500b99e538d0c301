#include "roles/node_memory.hpp"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

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

std::string cache_beyond_node(const Context& ctx) {
  const Layout& layout = ctx.layout;
  const int node = layout.node_of.at(static_cast<std::size_t>(ctx.rank));
  if (ctx.rank != node) return {};  // the node's lowest rank speaks for it: one reading, one line
  const auto slabs = static_cast<std::uint64_t>(
      std::count_if(layout.slab_holders.begin(), layout.slab_holders.end(),
                    [&](int r) { return layout.node_of.at(static_cast<std::size_t>(r)) == node; }));
  const std::uint64_t cache = ctx.config.runtime.cache_bytes;
  if (slabs == 0 || cache == 0) return {};
  // Saturating: a product past 2^64 is "more than any node".
  const std::uint64_t need = cache > UINT64_MAX / slabs ? UINT64_MAX : cache * slabs;
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  const auto refuse = [&](const std::string& what, std::uint64_t have) {
    return str_cat("runtime.cache_bytes = ", cache, " times ", slabs, " slab(s) on node ", host, " (rank ",
                   node, "'s node) needs ", need, " bytes, but ", what, " has ", have,
                   " bytes: lower runtime.cache_bytes or spread the slab holders over more nodes");
  };
  if (const auto available = mem_available_bytes(); available && need > *available)
    return refuse("MemAvailable (/proc/meminfo)", *available);
  // Files in the shared-memory folder hold a slab only where System V cannot (a slab past shmmax): only then
  // does a small /dev/shm (a container's 64 MiB) limit the cache.
  const auto sysv = sysv_segment_limit();
  if (const std::string dir = transport::shared_memory_dir(ctx.config.runtime.transport);
      !dir.empty() && (!sysv || cache > *sysv))
    if (const auto free = free_bytes(dir); free && need > *free)
      return refuse(str_cat(dir, " (free)"), *free);
  return {};
}

}  // namespace ferry::roles
