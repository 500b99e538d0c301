// The effective config as flat "key = value" pairs, one per key of every scope, in the order of the key
// table: what the ranks of a job compare at set-up (roles/setup_agreement.hpp) and name when they differ.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ferry/config.hpp"

namespace ferry::config {

// Global keys by their dotted name ("runtime.transport"), pipeline keys as "pipeline[I].KEY" (I the
// pipeline's position, "pipeline[0].batch_size"), plus "pipelines" (how many). Values are the TOML text
// --print-config writes. log_level is left out: each side of a job may log as much as it likes.
std::vector<std::pair<std::string, std::string>> key_values(const Config& config);

}  // namespace ferry::config
