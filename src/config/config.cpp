// Config reading, validation and printing; the keys themselves are in keys*.cpp (config/key_makers.hpp).
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "config/keys.hpp"
#include "config/parse.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "monitor/settings.hpp"

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

void validate(const Config& config) {
  const monitor::Settings monitor =
      monitor::settings_from(config.monitor);  // throws naming the monitor.* key
  if (config.pipelines.empty())
    throw ConfigError(
        "config has no pipeline: add a [[pipeline]] table or give --dataset.files and --dataset.fields");
  std::set<int> cache_ids;
  for (const auto& p : config.pipelines) cache_ids.insert(p.cache_id);
  const int shards = config.runtime.directory_shards;
  if (shards > config.runtime.randomizers)
    throw ConfigError(str_cat("runtime.directory_shards = ", shards, " needs as many randomizers, but ",
                              "runtime.randomizers = ", config.runtime.randomizers));
  if (static_cast<std::size_t>(config.runtime.randomizers) >
      cache_ids.size() * static_cast<std::size_t>(shards))
    throw ConfigError(str_cat("runtime.randomizers = ", config.runtime.randomizers, " but the pipelines use ",
                              cache_ids.size(), " cache_id(s) in ", shards,
                              " directory shard(s) each (runtime.directory_shards): a randomizer owns whole "
                              "shards"));
  if (shards > 1 && monitor.scripted && monitor.script_retires())
    throw ConfigError(str_cat("monitor.role_script retires a randomizer, but runtime.directory_shards = ",
                              shards, ": a directory shard does not move (set it to 1)"));
  std::set<std::string> names;
  for (const auto& p : config.pipelines) {
    const std::string who = "pipeline '" + p.name + "'";
    if (!names.insert(p.name).second) throw ConfigError(str_cat(who, ": name is used by two pipelines"));
    if (p.dataset.files.empty())
      throw ConfigError(
          str_cat(who, ": dataset.files is empty (name HDF5 files, a directory or a list file)"));
    if (p.dataset.fields.empty())
      throw ConfigError(str_cat(who, ": dataset.fields is empty (name at least one field = \"/hdf5/path\")"));
    std::set<std::string> fields;
    std::vector<std::string> field_names;
    for (const auto& f : p.dataset.fields) {
      if (f.name.empty() || f.path.empty())
        throw ConfigError(str_cat(who, ": dataset.fields entry '", f.name, "' needs a name and a path"));
      if (!fields.insert(f.name).second)
        throw ConfigError(str_cat(who, ": dataset.fields names '", f.name, "' twice"));
      field_names.push_back(f.name);
    }
    for (int c : p.consumers)
      if (c < 0) throw ConfigError(str_cat(who, ": consumers: ", c, " is not a consumer index"));
    std::set<int> group(p.consumers.begin(), p.consumers.end());
    if (group.size() != p.consumers.size())
      throw ConfigError(str_cat(who, ": consumers lists a consumer twice"));
    for (const auto* stage : {&p.prepare, &p.augment}) {
      const char* stage_name = stage == &p.prepare ? "prepare" : "augment";
      for (const auto& chain : *stage)
        if (!fields.count(chain.field))
          throw ConfigError(str_cat(who, ": ", stage_name, ".", chain.field,
                                    " names no field of dataset.fields (have: ", join(field_names), ")"));
    }
  }
}

void apply_state(Config& config, const std::string& state) {
  // "ferry-state 1 pipeline=NAME seed=S epoch=E batch=B [dataset=HEX]"
  std::istringstream in(state);
  std::string magic, version;
  in >> magic >> version;
  if (magic != "ferry-state" || version != "1")
    throw ConfigError(
        str_cat("'", state.substr(0, 40), "' is not a Ferry state (expected \"ferry-state 1 ...\")"));
  std::string name, seed, epoch, batch, dataset, word;
  while (in >> word) {
    const auto eq = word.find('=');
    if (eq == std::string::npos) throw ConfigError(str_cat("Ferry state: '", word, "' is not KEY=VALUE"));
    const std::string key = word.substr(0, eq), value = word.substr(eq + 1);
    if (key == "pipeline")
      name = value;
    else if (key == "seed")
      seed = value;
    else if (key == "epoch")
      epoch = value;
    else if (key == "batch")
      batch = value;
    else if (key == "dataset")
      dataset = value;
    else
      throw ConfigError(str_cat("Ferry state: unknown field '", key, "'"));
  }
  if (name.empty() || seed.empty() || epoch.empty() || batch.empty())
    throw ConfigError("Ferry state: needs pipeline, seed, epoch and batch");
  for (auto& p : config.pipelines) {
    if (p.name != name) continue;
    try {
      if (std::stoull(seed) != p.seed)
        throw ConfigError(str_cat("Ferry state of pipeline '", name, "' has seed ", seed,
                                  " but the config says ", p.seed, ": the sequence would differ"));
      p.start_epoch = std::stoull(epoch);
      p.start_batch = std::stoull(batch);
      if (!dataset.empty() &&
          (dataset.size() != 16 || dataset.find_first_not_of("0123456789abcdef") != std::string::npos))
        throw ConfigError(str_cat("Ferry state of pipeline '", name, "': dataset=", dataset,
                                  " is not 16 lowercase hex digits"));
      p.start_dataset = dataset;
    } catch (const std::logic_error&) {
      throw ConfigError(
          str_cat("Ferry state of pipeline '", name, "': seed, epoch and batch must be integers"));
    }
    return;
  }
  throw ConfigError(str_cat("Ferry state names pipeline '", name, "', which the config does not have"));
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
