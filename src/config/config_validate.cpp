// Checks of a whole Config across its keys (validate) and applying a saved Ferry state to it (apply_state);
// each key's own checks are in keys*.cpp.
#include <cstddef>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/strings.hpp"
#include "ferry/config.hpp"
#include "ferry/error.hpp"
#include "monitor/settings.hpp"

namespace ferry {

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

}  // namespace ferry
