#include "config/cli.hpp"

#include "config/keys.hpp"
#include "config/parse.hpp"

namespace ferry::config {

void add_options(CLI::App& app, CommandLine& cl) {
  app.add_option("-c,--config", cl.config_path, "TOML config file (keys: docs/config.md)");
  app.add_flag("--print-config", cl.print_config, "print the effective config as TOML and exit");
  for (const auto& def : keys()) {
    const std::string key(def.key);
    auto* opt = app.add_option("--" + key, cl.values[key], std::string(def.help))->group("Config keys");
    if (def.kind == Kind::list || def.kind == Kind::map || def.kind == Kind::chains) {
      opt->expected(1, 1 << 20);
    } else {
      opt->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // the last one given wins
    }
  }
}

Config resolve(const CommandLine& cl) {
  Config config = cl.config_path.empty() ? Config{} : load_unchecked(cl.config_path);
  bool any_pipeline_key = false;
  for (const auto& [key, texts] : cl.values) {
    if (texts.empty()) continue;
    if (find_key(key, Scope::pipeline)) any_pipeline_key = true;
  }
  if (any_pipeline_key && config.pipelines.empty()) config.pipelines.emplace_back();
  for (const auto& [key, texts] : cl.values) {
    if (texts.empty()) continue;
    const std::string where = "--" + key;
    if (const KeyDef* def = find_key(key, Scope::global)) {
      def->from_text(config, nullptr, texts, where);
    } else if (const KeyDef* def = find_key(key, Scope::pipeline)) {
      for (auto& p : config.pipelines) def->from_text(config, &p, texts, where);
    }
  }
  validate(config);
  return config;
}

}  // namespace ferry::config
