// Ferry's configuration: one TOML file, every key also a CLI flag. Reference: docs/config.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ferry/dataset.hpp"
#include "ferry/transform.hpp"

namespace ferry {

// The transform chain of one field in one stage ("image" -> cast | normalize).
struct FieldChain {
  std::string field;
  std::vector<OpSpec> ops;
};

// One training pipeline: a dataset read in a seeded order, prepared (cacheable) and augmented (random).
struct PipelineConfig {
  std::string name = "default";
  int cache_id = 0;        // pipelines with equal cache IDs share one cache's capacity
  std::uint64_t seed = 0;  // permutation and augmentation seed
  int epochs = 1;
  std::size_t batch_size = 32;  // samples per batch per consumer
  bool drop_last = true;        // true: equal shares, last partial batch dropped; false: pad shares, keep it
  bool shuffle = true;          // false: identity order (still split per consumer)
  DatasetSpec dataset;
  std::vector<FieldChain> prepare;  // deterministic, cached
  std::vector<FieldChain> augment;  // random per (seed, epoch, sample ID)
};

struct Config {
  std::string log_level = "info";
  std::vector<PipelineConfig> pipelines;
};

// Reads and validates a TOML config file. Throws ConfigError naming the file, line and key.
Config load_config(const std::string& path);
// Same for TOML text; `source` names it in messages.
Config parse_config(const std::string& toml_text, const std::string& source);
// Checks every key's value and the relations between them. Throws ConfigError naming the key.
void validate(const Config& config);
// The effective config as TOML (what --print-config prints); parse_config(to_toml(c)) gives c back.
std::string to_toml(const Config& config);

}  // namespace ferry
