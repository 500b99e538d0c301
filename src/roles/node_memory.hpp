// Whether a node can hold the cache slabs the layout puts on it, its ranks' send pools and their message
// buffers, checked before any of that memory is taken: runtime.cache_bytes times the slab holders on the
// node, plus the send pools of its ranks and runtime.message_buffer_bytes for each of its ranks, against
// MemAvailable (/proc/meminfo) and, for the slabs and pools,
// where the transport maps slabs through a shared-memory file system, against that file system's free
// size (statvfs). A cache the node cannot hold would otherwise fill /dev/shm and the node's memory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "roles/context.hpp"

namespace ferry::roles {

// MemAvailable of /proc/meminfo in bytes; nullopt where the file or the line is missing.
std::optional<std::uint64_t> mem_available_bytes();
// Free bytes of the file system holding `dir` (statvfs f_bavail * f_frsize); nullopt where it cannot be read.
std::optional<std::uint64_t> free_bytes(const std::string& dir);

// COLLECTIVE over ctx.comm (a split by node and a sum): "" when this rank's node can hold its slabs, send
// pools (`pool_bytes`: this rank's, roles/send_pool.hpp) and message buffers, else one line naming
// runtime.cache_bytes, runtime.send_pool_bytes, runtime.message_buffer_bytes, the node and the figures. Only
// the node's lowest rank checks (the others return ""); gather the result so that every rank fails.
std::string cache_beyond_node(const Context& ctx, std::uint64_t pool_bytes);

}  // namespace ferry::roles
