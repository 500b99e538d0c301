// The shared skeleton of the serial tools (ferry-gen, ferry-import): parse the command line, run the body,
// and turn failures into one line on stderr and the documented exit codes (docs/errors.md): 2 for usage and
// config errors, 1 for everything else.
#pragma once

#include <CLI/CLI.hpp>
#include <exception>
#include <functional>
#include <iostream>

#include "ferry/error.hpp"

namespace ferry::apps {

inline int run_tool(const char* name, CLI::App& app, int argc, char** argv,
                    const std::function<int()>& body) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << name << ": error: " << e.what() << " (see " << name << " --help)\n";
    return 2;
  }
  try {
    return body();
  } catch (const ConfigError& e) {
    std::cerr << name << ": error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << name << ": error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace ferry::apps
