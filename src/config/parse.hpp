// Reading without validation, for callers that layer command-line values on top before validating.
#pragma once

#include <string>

#include "ferry/config.hpp"

namespace ferry::config {

Config parse_unchecked(const std::string& toml_text, const std::string& source);
Config load_unchecked(const std::string& path);

}  // namespace ferry::config
