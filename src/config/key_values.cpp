#include "config/key_values.hpp"

#include "config/keys.hpp"
#include "core/strings.hpp"

namespace ferry::config {

std::vector<std::pair<std::string, std::string>> key_values(const Config& config) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& def : keys())
    if (def.scope == Scope::global && def.key != "log_level")
      out.emplace_back(std::string(def.key), def.to_toml(config, nullptr));
  out.emplace_back("pipelines", std::to_string(config.pipelines.size()));
  for (std::size_t i = 0; i < config.pipelines.size(); ++i)
    for (const auto& def : keys())
      if (def.scope == Scope::pipeline)
        out.emplace_back(str_cat("pipeline[", i, "].", def.key), def.to_toml(config, &config.pipelines[i]));
  return out;
}

}  // namespace ferry::config
