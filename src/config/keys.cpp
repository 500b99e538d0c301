#include "config/keys.hpp"

#include <charconv>

#include "config/key_makers.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::config {
// The table is built by parts: runtime (keys_runtime.cpp), monitor (keys_monitor.cpp), pipeline
// (keys_pipeline.cpp) and dataset and chains (keys_dataset.cpp), with the makers of config/key_makers.hpp.
namespace detail {

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw ConfigError(where + ": " + what);
}

long long parse_integer(std::string_view text, const std::string& where) {
  text = trim(text);
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    bad(where, str_cat("'", text, "' is not an integer"));
  return value;
}

bool parse_bool(std::string_view text, const std::string& where) {
  text = trim(text);
  for (std::string_view t : {"true", "1", "yes", "on"})
    if (text == t) return true;
  for (std::string_view f : {"false", "0", "no", "off"})
    if (text == f) return false;
  bad(where, str_cat("'", text, "' is not a boolean (use true or false)"));
}

// Splits "a=b" at the first '=' (values may contain '=', as op chains do).
std::pair<std::string, std::string> split_pair(const std::string& text, const std::string& where) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) bad(where, str_cat("'", text, "' is not NAME=VALUE"));
  return {std::string(trim(std::string_view(text).substr(0, eq))),
          std::string(trim(std::string_view(text).substr(eq + 1)))};
}

std::string node_text(const toml::node& node, const std::string& where) {
  if (auto s = node.value<std::string>()) return *s;
  bad(where, "must be a string");
}

double parse_number(std::string_view text, const std::string& where) {
  text = trim(text);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    bad(where, str_cat("'", text, "' is not a number"));
  return value;
}

// An integer key of a global section, read and written through `set` / `get` on the whole Config.
KeyDef config_integer(std::string_view key, long long min, long long max, std::string_view help,
                      std::function<void(Config&, long long)> set,
                      std::function<long long(const Config&)> get) {
  KeyDef def{key, Scope::global, Kind::integer, help, {}, min, max, {}, {}, {}};
  auto check = [key, min, max](long long v, const std::string& where) {
    if (v < min || v > max)
      bad(where, str_cat(key, " = ", v, " is out of range (allowed: ", min, " to ", max, ")"));
    return v;
  };
  def.from_toml = [=](Config& c, PipelineConfig*, const toml::node& n, const std::string& where) {
    auto v = n.value<long long>();
    if (!v || !n.is_integer()) bad(where, str_cat(key, " must be an integer"));
    set(c, check(*v, where));
  };
  def.from_text = [=](Config& c, PipelineConfig*, const std::vector<std::string>& t,
                      const std::string& where) { set(c, check(parse_integer(t.back(), where), where)); };
  def.to_toml = [=](const Config& c, const PipelineConfig*) { return std::to_string(get(c)); };
  return def;
}

std::vector<KeyDef> make_keys() {
  std::vector<KeyDef> k;
  add_runtime_keys(k);
  add_monitor_keys(k);
  add_pipeline_keys(k);
  add_dataset_keys(k);
  return k;
}

}  // namespace detail

const std::vector<KeyDef>& keys() {
  static const std::vector<KeyDef> table = detail::make_keys();
  return table;
}

const KeyDef* find_key(std::string_view key, Scope scope) {
  for (const auto& def : keys())
    if (def.key == key && def.scope == scope) return &def;
  return nullptr;
}

std::string quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace ferry::config
