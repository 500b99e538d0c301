// Per-rank logging on spdlog. Every line carries the rank: "[ferry r3 warn] ...". Level from the config key
// log_level, overridden by the environment variable FERRY_LOG_LEVEL (trace, debug, info, warn, error, off).
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace ferry::log {

// Installs the rank-prefixed logger (rank < 0: no rank known, e.g. a serial tool). Safe to call again.
void init(int rank, std::string_view level);
// True when the text names a level spdlog knows.
bool valid_level(std::string_view level) noexcept;

template <typename... Args>
void trace(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::trace(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void debug(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::debug(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void info(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::info(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void warn(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::warn(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void error(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::error(fmt, std::forward<Args>(args)...);
}

}  // namespace ferry::log
