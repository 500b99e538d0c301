// Config reading (TOML, unchecked or validated) and printing (to_toml); validation is in config_validate.cpp,
// the keys themselves in keys*.cpp (config/key_makers.hpp).
#include "ferry/config.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/keys.hpp"
#include "config/parse.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry {
namespace config {
namespace {

std::string known_keys(Scope scope) {
  std::vector<std::string> names;
  for (const auto& def : keys())
    if (def.scope == scope) names.emplace_back(def.key);
  if (scope == Scope::global) names.emplace_back("[[pipeline]]");
  if (scope == Scope::global) names.emplace_back("[runtime]");
  if (scope == Scope::global) names.emplace_back("[monitor]");
  return join(names);
}

bool is_key_prefix(const std::string& path, Scope scope) {
  for (const auto& def : keys())
    if (def.scope == scope && def.key.size() > path.size() && def.key.substr(0, path.size()) == path &&
        def.key[path.size()] == '.')
      return true;
  return false;
}

void walk(const toml::table& table, const std::string& prefix, Scope scope, Config& config,
          PipelineConfig* pipeline, const std::string& source, const std::string& label) {
  for (auto&& [k, v] : table) {
    const std::string path = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    const std::string where = str_cat(source, ":", v.source().begin.line, ": ", label, path);
    if (scope == Scope::global && path == "pipeline") {
      auto add = [&](const toml::table& t) {
        config.pipelines.emplace_back();
        PipelineConfig& p = config.pipelines.back();
        p.name = "pipeline" + std::to_string(config.pipelines.size() - 1);
        walk(t, "", Scope::pipeline, config, &p, source,
             str_cat("pipeline[", config.pipelines.size() - 1, "]."));
      };
      if (const auto* t = v.as_table()) {
        add(*t);
      } else if (const auto* arr = v.as_array()) {
        for (const auto& item : *arr) {
          if (!item.is_table()) throw ConfigError(where + ": must be a table ([[pipeline]])");
          add(*item.as_table());
        }
      } else {
        throw ConfigError(where + ": must be a table ([[pipeline]])");
      }
      continue;
    }
    if (const KeyDef* def = find_key(path, scope)) {
      def->from_toml(config, pipeline, v, where);
    } else if (v.is_table() && is_key_prefix(path, scope)) {
      walk(*v.as_table(), path, scope, config, pipeline, source, label);
    } else {
      throw ConfigError(str_cat(source, ":", v.source().begin.line, ": unknown key '", label, path,
                                "' (known here: ", known_keys(scope), ")"));
    }
  }
}

}  // namespace

Config parse_unchecked(const std::string& toml_text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    throw ConfigError(str_cat(source, ":", e.source().begin.line, ": TOML syntax error: ", e.description()));
  }
  Config config;
  walk(root, "", Scope::global, config, nullptr, source, "");
  return config;
}

Config load_unchecked(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(str_cat("config file '", path, "' cannot be read"));
  std::stringstream text;
  text << in.rdbuf();
  Config config = parse_unchecked(text.str(), path);
  // Relative dataset paths in a file are relative to the file, so a config travels with its data.
  const auto dir = std::filesystem::absolute(path).parent_path();
  for (auto& p : config.pipelines)
    for (auto& f : p.dataset.files)
      if (!f.empty() && std::filesystem::path(f).is_relative()) f = (dir / f).lexically_normal().string();
  return config;
}

}  // namespace config

Config parse_config(const std::string& toml_text, const std::string& source) {
  Config config = config::parse_unchecked(toml_text, source);
  validate(config);
  return config;
}

Config load_config(const std::string& path) {
  Config config = config::load_unchecked(path);
  validate(config);
  return config;
}

std::string to_toml(const Config& config) {
  using config::Kind;
  using config::Scope;
  std::string out;
  for (const auto& def : config::keys())
    if (def.scope == Scope::global && def.key.find('.') == std::string_view::npos)
      out += str_cat(def.key, " = ", def.to_toml(config, nullptr), "\n");
  out += "\n[runtime]\n";
  for (const auto& def : config::keys())
    if (def.scope == Scope::global && def.key.substr(0, 8) == "runtime.")
      out += str_cat(def.key.substr(8), " = ", def.to_toml(config, nullptr), "\n");
  out += "\n[monitor]\n";
  for (const auto& def : config::keys())
    if (def.scope == Scope::global && def.key.substr(0, 8) == "monitor.")
      out += str_cat(def.key.substr(8), " = ", def.to_toml(config, nullptr), "\n");
  for (const auto& p : config.pipelines) {
    out += "\n[[pipeline]]\n";
    // Scalars first, grouped by table, then the map and chain tables: TOML forbids reopening a table.
    std::string section;
    for (const auto& def : config::keys()) {
      if (def.scope != Scope::pipeline || def.kind == Kind::map || def.kind == Kind::chains) continue;
      const std::string key(def.key);
      const auto dot = key.rfind('.');
      const std::string table = dot == std::string::npos ? "" : key.substr(0, dot);
      if (table != section) {
        out += str_cat("[pipeline.", table, "]\n");
        section = table;
      }
      out +=
          str_cat(dot == std::string::npos ? key : key.substr(dot + 1), " = ", def.to_toml(config, &p), "\n");
    }
    for (const auto& def : config::keys())
      if (def.scope == Scope::pipeline && (def.kind == Kind::map || def.kind == Kind::chains))
        out += str_cat("[pipeline.", def.key, "]\n", def.to_toml(config, &p));
  }
  return out;
}

}  // namespace ferry
