#include "core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <string>

namespace ferry::log {

bool valid_level(std::string_view level) noexcept {
  for (std::string_view known : {"trace", "debug", "info", "warn", "warning", "error", "critical", "off"}) {
    if (level == known) return true;
  }
  return false;
}

void init(int rank, std::string_view level) {
  std::string chosen(level.empty() ? "info" : level);
  if (const char* env = std::getenv("FERRY_LOG_LEVEL"); env && valid_level(env)) chosen = env;

  // Logs go to stderr so that tools can print results on stdout.
  auto logger = spdlog::get("ferry");
  if (!logger) logger = spdlog::stderr_color_mt("ferry");
  const std::string who = rank >= 0 ? "ferry r" + std::to_string(rank) : std::string("ferry");
  logger->set_pattern("[" + who + " %l] %v");
  logger->set_level(spdlog::level::from_str(chosen));
  spdlog::set_default_logger(logger);
}

}  // namespace ferry::log
