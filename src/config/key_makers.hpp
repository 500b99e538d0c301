// The makers of config key entries (keys.hpp) that more than one file of the table uses: keys.cpp (the
// parsers and make_keys), keys_runtime.cpp, keys_monitor.cpp, keys_pipeline.cpp and keys_dataset.cpp.
// Internal to src/config.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/keys.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::config::detail {

[[noreturn]] void bad(const std::string& where, const std::string& what);
long long parse_integer(std::string_view text, const std::string& where);
bool parse_bool(std::string_view text, const std::string& where);
double parse_number(std::string_view text, const std::string& where);
std::string node_text(const toml::node& node, const std::string& where);
// Splits "a=b" at the first '=' (values may contain '=', as op chains do).
std::pair<std::string, std::string> split_pair(const std::string& text, const std::string& where);

// An integer key of a pipeline (or of the scope given), bounded by [min, max].
KeyDef integer_key(std::string_view key, Scope scope, long long min, long long max, std::string_view help,
                   std::function<void(PipelineConfig&, long long)> set,
                   std::function<long long(const PipelineConfig&)> get);

// A pipeline key with a fixed set of choices, each naming one value of an enum.
template <typename E>
KeyDef pipeline_choice(std::string_view key, std::string_view help,
                       std::vector<std::pair<std::string_view, E>> choices,
                       std::function<void(PipelineConfig&, E)> set_value,
                       std::function<E(const PipelineConfig&)> get) {
  std::vector<std::string_view> names;
  for (const auto& choice : choices) names.push_back(choice.first);
  KeyDef def{key, Scope::pipeline, Kind::choice, help, names, 0, 0, {}, {}, {}};
  auto set = [=](PipelineConfig& p, const std::string& v, const std::string& where) {
    for (const auto& [name, value] : choices) {
      if (name == v) {
        set_value(p, value);
        return;
      }
    }
    bad(where, str_cat(key, " = '", v, "' is not one of ", join(names)));
  };
  def.from_toml = [=](Config&, PipelineConfig* p, const toml::node& n, const std::string& w) {
    set(*p, node_text(n, w), w);
  };
  def.from_text = [=](Config&, PipelineConfig* p, const std::vector<std::string>& t, const std::string& w) {
    set(*p, t.back(), w);
  };
  def.to_toml = [=](const Config&, const PipelineConfig* p) {
    for (const auto& [name, value] : choices)
      if (value == get(*p)) return quote(name);
    return quote("");
  };
  return def;
}

// An integer key of a global section, read and written through `set` / `get` on the whole Config.
KeyDef config_integer(std::string_view key, long long min, long long max, std::string_view help,
                      std::function<void(Config&, long long)> set,
                      std::function<long long(const Config&)> get);

// A string key of a global section (Config::*section); `allowed` empty means any text.
template <typename Section>
KeyDef section_text(std::string_view key, std::vector<std::string_view> allowed, std::string_view help,
                    Section Config::*section, std::string Section::*member) {
  KeyDef def{key, Scope::global, allowed.empty() ? Kind::text : Kind::choice, help, allowed, 0, 0, {}, {},
             {}};
  auto set = [=](Config& c, const std::string& v, const std::string& where) {
    if (!allowed.empty()) {
      bool ok = false;
      for (auto a : allowed) ok = ok || a == v;
      if (!ok) bad(where, str_cat(key, " = '", v, "' is not one of ", join(allowed)));
    }
    (c.*section).*member = v;
  };
  def.from_toml = [=](Config& c, PipelineConfig*, const toml::node& n, const std::string& w) {
    set(c, node_text(n, w), w);
  };
  def.from_text = [=](Config& c, PipelineConfig*, const std::vector<std::string>& t, const std::string& w) {
    set(c, t.back(), w);
  };
  def.to_toml = [=](const Config& c, const PipelineConfig*) { return quote((c.*section).*member); };
  return def;
}

// A global true/false key of one section of Config (runtime or monitor).
template <typename Section>
KeyDef section_bool(std::string_view key, std::string_view help, Section Config::*section,
                    bool Section::*member) {
  KeyDef def{key, Scope::global, Kind::boolean, help, {}, 0, 0, {}, {}, {}};
  def.from_toml = [=](Config& c, PipelineConfig*, const toml::node& n, const std::string& where) {
    auto v = n.value<bool>();
    if (!v || !n.is_boolean()) bad(where, str_cat(key, " must be true or false"));
    c.*section.*member = *v;
  };
  def.from_text = [=](Config& c, PipelineConfig*, const std::vector<std::string>& t,
                      const std::string& where) { c.*section.*member = parse_bool(t.back(), where); };
  def.to_toml = [=](const Config& c, const PipelineConfig*) {
    return std::string(c.*section.*member ? "true" : "false");
  };
  return def;
}

void add_runtime_keys(std::vector<KeyDef>& k);   // keys_runtime.cpp
void add_monitor_keys(std::vector<KeyDef>& k);   // keys_monitor.cpp
void add_pipeline_keys(std::vector<KeyDef>& k);  // keys_pipeline.cpp
void add_dataset_keys(std::vector<KeyDef>& k);   // keys_dataset.cpp
std::vector<KeyDef> make_keys();                 // keys.cpp: the whole table

}  // namespace ferry::config::detail
