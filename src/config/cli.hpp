// Command-line flags for every config key ("--batch_size 64", "--dataset.files a.h5,b.h5",
// "--prepare image='cast | log1p'") plus --config FILE and --print-config, on a CLI11 app.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "ferry/config.hpp"

namespace ferry::config {

struct CommandLine {
  std::string config_path;
  bool print_config = false;
  std::map<std::string, std::vector<std::string>> values;  // key -> texts given on the command line
};

// Adds --config, --print-config and one flag per key to `app`; the parsed texts land in `cl`.
void add_options(CLI::App& app, CommandLine& cl);

// The file named by --config (if any), with command-line values on top, validated. Pipeline-scope flags apply
// to every pipeline; when the file has none, they describe one pipeline.
Config resolve(const CommandLine& cl);

}  // namespace ferry::config
