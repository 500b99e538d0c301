// The config tests' inputs: a config that sets every kind of key, a pipeline with extra keys, and the message
// of the ConfigError a call throws.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "ferry/error.hpp"

namespace ferry::config::testing {

inline constexpr const char* kGood = R"TOML(
log_level = "warn"

[monitor]
window_ms = 250
policy = "static"
static_share = 0.375
low_water = 0.1
rebalance = true
role_min_hits = 0.05

[[pipeline]]
name = "fmnist"
cache_id = 2
seed = 42
epochs = 3
batch_size = 64
drop_last = false
shuffle = true
bad_samples = "skip"
consumers = [1, 0]

[pipeline.dataset]
layout = "stacked"
files = ["a.h5", "b.h5"]
fields = { image = "/images", label = "/labels" }
chunk_cache_bytes = 1048576

[pipeline.prepare]
image = "cast(scale=0.00392) | normalize(mean=[0.286], std=[0.353])"

[pipeline.augment]
image = [ { op = "random_flip", p = 0.5 } ]

[[pipeline]]
name = "cosmo"
[pipeline.dataset]
layout = "file_per_sample"
files = "cosmo_dir"
fields = { full = "full" }
)TOML";

// Runs `fn`, expects a ConfigError, and returns its message.
template <typename Fn>
std::string config_error(Fn fn) {
  try {
    fn();
  } catch (const ferry::ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError thrown";
  return {};
}

inline std::string pipeline_with(const std::string& extra, const std::string& dataset_extra = "") {
  return "[[pipeline]]\n" + extra +
         "\n[pipeline.dataset]\nfiles = [\"x.h5\"]\nfields = { image = \"/images\" }\n" + dataset_extra;
}

}  // namespace ferry::config::testing
