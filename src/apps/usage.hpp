// Exit codes of every Ferry program and what a CLI11 parse outcome becomes (docs/errors.md): CLI11's own
// exit codes (106 for a missing option, 109 for an extra argument, ...) never reach the shell.
#pragma once

#include <CLI/CLI.hpp>
#include <iostream>

namespace ferry::apps {

inline constexpr int kExitFailure = 1;  // a runtime error: a file, a dataset, a transport, a failed rank
inline constexpr int kExitUsage = 2;    // a usage error: the command line or the config is wrong

// The exit code for a parse outcome of `app`. --help and --version print (when `print`) and give 0; a
// usage error prints one line, "PROGRAM: error: WHAT (see PROGRAM --help)", when `print`, and gives
// kExitUsage. Under MPI every rank parses the same arguments; only one prints.
inline int parse_exit(const char* program, CLI::App& app, const CLI::ParseError& e, bool print) {
  if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
    // CallForHelp, CallForAllHelp, CallForVersion: app.exit prints the text and gives 0.
    if (!print) return 0;
    return app.exit(e);
  }
  if (print) std::cerr << program << ": error: " << e.what() << " (see " << program << " --help)\n";
  return kExitUsage;
}

}  // namespace ferry::apps
