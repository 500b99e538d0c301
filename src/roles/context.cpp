#include "roles/context.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>

#include "core/log.hpp"
#include "roles/protocol.hpp"

namespace ferry::roles {

std::uint64_t now_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

bool Context::may_transform() const {
  const Role r = role();
  return r == Role::transformer || (r == Role::cache_server && monitor.rebalance) ||
         (r == Role::randomizer && monitor.may_move_randomizers(layout.randomizers.size()));
}

PipelineRuntime* Context::find_pipeline(std::size_t index) {
  for (auto& p : pipelines)
    if (p.index == index) return &p;
  return nullptr;
}

void Context::stats_line(const std::string& json) const {
  if (config.runtime.stats_file.empty()) return;
  // O_APPEND with one write per line keeps lines of different ranks whole on a local or POSIX file system.
  const int fd = ::open(config.runtime.stats_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) {
    log::warn("cannot open runtime.stats_file '{}' for appending", config.runtime.stats_file);
    return;
  }
  const std::string line = json + "\n";
  if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    log::warn("short write to runtime.stats_file '{}'", config.runtime.stats_file);
  ::close(fd);
}

void Context::broadcast_abort(const std::string& message, ErrorKind kind) noexcept {
  if (!fabric || fabric->closed()) return;
  try {
    const std::vector<std::byte> bytes = encode_abort(kind, message);
    for (int r = 0; r < fabric->size(); ++r)
      if (r != rank) fabric->send(r, kAbort, bytes);
  } catch (const std::exception& e) {
    log::error("could not tell every rank about the failure: {}", e.what());
  }
}

}  // namespace ferry::roles
