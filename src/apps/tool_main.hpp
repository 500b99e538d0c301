// The shared skeleton of the serial tools (ferry-gen, ferry-import): parse the command line, run the body,
// and turn failures into one line on stderr and the documented exit codes (docs/errors.md): 2 for usage and
// config errors, 1 for everything else (any other exception included).
#pragma once

#include <CLI/CLI.hpp>
#include <exception>
#include <functional>
#include <iostream>

#include "apps/usage.hpp"
#include "ferry/error.hpp"

namespace ferry::apps {

inline int run_tool(const char* name, CLI::App& app, int argc, char** argv,
                    const std::function<int()>& body) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return parse_exit(name, app, e, true);
  }
  try {
    return body();
  } catch (const ConfigError& e) {
    std::cerr << name << ": error: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << name << ": error: " << e.what() << "\n";
    return kExitFailure;
  } catch (...) {
    std::cerr << name << ": error: unknown exception\n";
    return kExitFailure;
  }
}

}  // namespace ferry::apps
