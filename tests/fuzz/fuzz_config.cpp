// libFuzzer target: the config reader (config/config.cpp, config_validate.cpp, keys.cpp, cli.cpp). The first
// byte picks the form:
//   0: a TOML file (parse_config); a config that validates must print (to_toml) as TOML that reads back and
//      prints the same: --print-config output is a config file.
//   1: command-line flags, one argument per line (CLI11 with config::add_options, then config::resolve).
//   2: a resume state line (apply_state) on a config with one pipeline.
// Bad input must throw ferry::Error (ConfigError: one line naming the key); CLI11's own parse errors are the
// CLI's usage errors. Anything else escaping, a crash or UB is a finding.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "config/cli.hpp"
#include "ferry/config.hpp"
#include "ferry/error.hpp"
#include "fuzz_input.hpp"

namespace {

void from_toml(const std::string& text) {
  const ferry::Config config = ferry::parse_config(text, "fuzz.toml");
  const std::string printed = ferry::to_toml(config);
  std::string again;
  try {
    again = ferry::to_toml(ferry::parse_config(printed, "printed.toml"));
  } catch (const ferry::Error& e) {
    ferry::fuzz::broken("printed config does not read back", printed + "\n" + e.what());
  }
  if (again != printed)
    ferry::fuzz::broken("printed config reads back different", printed + "\n--\n" + again);
}

void from_flags(const std::string& text) {
  std::vector<std::string> args{"ferry"};
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) args.push_back(line);
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  CLI::App app{"fuzz"};
  ferry::config::CommandLine cl;
  ferry::config::add_options(app, cl);
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::Error&) {
    return;
  }
  cl.config_path.clear();  // no file reads: the TOML form covers the file
  (void)ferry::config::resolve(cl);
}

void from_state(const std::string& text) {
  ferry::Config config;
  config.pipelines.emplace_back();
  config.pipelines.back().name = "p";
  ferry::apply_state(config, text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ferry::fuzz::Input in(data, size);
  try {
    switch (in.mode() % 3) {
      case 0:
        from_toml(in.rest_text());
        break;
      case 1:
        from_flags(in.rest_text());
        break;
      default:
        from_state(in.rest_text());
        break;
    }
  } catch (const ferry::Error&) {
  }
  return 0;
}
