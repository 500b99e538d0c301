// The table of config keys. One entry per key drives the TOML reader, the CLI flags, --print-config and
// docs/config.md, so the four cannot disagree.
#pragma once

#include <toml++/toml.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/config.hpp"

namespace ferry::config {

enum class Scope { global, pipeline };
enum class Kind { integer, number, boolean, text, choice, list, map, chains };

struct KeyDef {
  std::string_view key;  // dotted path inside its scope: "batch_size", "dataset.layout"
  Scope scope;
  Kind kind;
  std::string_view help;
  std::vector<std::string_view> choices;  // Kind::choice
  long long min = 0, max = 0;             // Kind::integer (Kind::number: the range is [0, 1])
  // Set from a TOML node or from command-line text; `where` names the source for messages.
  std::function<void(Config&, PipelineConfig*, const toml::node&, const std::string& where)> from_toml;
  std::function<void(Config&, PipelineConfig*, const std::vector<std::string>&, const std::string& where)>
      from_text;
  // The value as TOML source text (right-hand side of "key = ...", or a table body for map kinds).
  std::function<std::string(const Config&, const PipelineConfig*)> to_toml;
};

const std::vector<KeyDef>& keys();
const KeyDef* find_key(std::string_view key, Scope scope);

// TOML string literal with escapes.
std::string quote(std::string_view text);

}  // namespace ferry::config
