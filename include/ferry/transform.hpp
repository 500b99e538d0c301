// Transform op specifications, as written in the config: "cast(scale=0.00392) | normalize(mean=[0.5],
// std=[0.25])". Op reference: docs/transforms.md.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ferry {

struct OpSpec {
  std::string name;                                         // registered op name, e.g. "normalize"
  std::vector<std::pair<std::string, std::string>> params;  // key -> value text ("0.5", "[0.5, 0.25]", "chw")
  // Canonical text "name(k=v, ...)": what fingerprints and --print-config use.
  std::string text() const;
};

// Parses "op(k=v, k=[a, b]) | op2" into specs. Throws ConfigError naming `where` (a config key) on bad
// syntax.
std::vector<OpSpec> parse_op_chain(const std::string& text, const std::string& where);

// Which stage a chain belongs to. Prepare is deterministic and cached; augment is random per (seed, epoch,
// ID).
enum class Stage { prepare, augment };

}  // namespace ferry
