// ferry: the command-line front end.
//   ferry run   [--config FILE] [KEY flags]   the multi-rank system: ranks split into roles (docs/runtime.md)
//   ferry local [--config FILE] [KEY flags]   every rank a consumer running LocalLoader (the reference)
// With --digest both end with one "digest NAME HEX" line per pipeline: a hash of every consumer's IDs and
// bytes in delivery order (apps/digest.hpp), equal for `ferry run` with C consumers and `ferry local` on C
// ranks. Without it nothing is hashed, so the per-epoch figures time the pipeline alone. Every rank exits,
// with the same status: errors are agreed across ranks and reported once.
#include <mpi.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "apps/ferry_cli.hpp"
#include "apps/usage.hpp"
#include "ferry/error.hpp"
#include "ferry/features.hpp"

namespace {
constexpr const char* kDigestHelp =
    "print 'digest NAME HEX' per pipeline: a hash of every consumer's IDs and bytes, equal for ferry run "
    "with C "
    "consumers and ferry local on C ranks (costs an XXH3 pass over every batch)";
constexpr const char* kDumpIdsHelp =
    "each consumer writes PATH.<consumer> (ferry local: rank), a line per batch: PIPELINE EPOCH BATCH ID...";
}  // namespace

int main(int argc, char** argv) {
  if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
    std::fprintf(stderr, "ferry: error: MPI_Init failed\n");
    return 1;
  }
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  CLI::App app{"ferry: stage training data for MPI deep-learning jobs"};
  app.set_version_flag("--version", std::string(ferry::kVersion));
  app.require_subcommand(1);

  ferry::config::CommandLine run_cl, local_cl;
  ferry::apps::RunOptions run_options, local_options;
  auto* run = app.add_subcommand("run", "run the multi-rank system: service ranks serve, the others consume");
  ferry::config::add_options(*run, run_cl);
  run->add_flag("--digest", run_options.digest, kDigestHelp);
  run->add_flag("--per-rank-digest", run_options.per_rank_digest, "--digest, and each consumer's digest too");
  run->add_option("--step-ms", run_options.step_ms, "simulated training time per batch, in milliseconds")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            double ms = -1;
            if (CLI::detail::lexical_cast(text, ms) && ms >= 0) return {};
            return "'" + text + "' is not a number of milliseconds >= 0";
          },
          "MS"));
  run->add_option("--dump-ids", run_options.dump_ids, kDumpIdsHelp);
  run->add_option(
      "--save-state", run_options.save_state,
      "consumer C rewrites PATH.<C> after every batch with its Loader::state() per pipeline (one line "
      "each; written to PATH.<C>.tmp and renamed), to resume a job that was killed");
  auto* local =
      app.add_subcommand("local", "run every pipeline with LocalLoader on each rank (one consumer per rank)");
  ferry::config::add_options(*local, local_cl);
  local->add_flag("--digest", local_options.digest, kDigestHelp);
  local->add_flag("--per-rank-digest", local_options.per_rank_digest, "--digest, and each rank's digest too");
  local->add_option("--dump-ids", local_options.dump_ids, kDumpIdsHelp);

  int rc = 0;
  try {
    app.parse(argc, argv);
    run_options.digest |= run_options.per_rank_digest;
    local_options.digest |= local_options.per_rank_digest;
    rc = run->parsed() ? ferry::apps::run_distributed(run_cl, run_options, false)
                       : ferry::apps::run_local(local_cl, local_options);
  } catch (const CLI::ParseError& e) {
    // Every rank parses the same arguments, so every rank takes this path: print once.
    rc = ferry::apps::parse_exit("ferry", app, e, rank == 0);
    // The other program of an MPMD job waits in the set-up's first collective: it fails with this line.
    ferry::apps::leave_setup(rc == 0 ? "ferry was asked for --help or --version, so it sets nothing up"
                                     : std::string("ferry: usage error: ") + e.what());
  } catch (const std::exception& e) {
    // What the subcommands did not turn into their own message (they agree on errors across ranks).
    std::fprintf(stderr, "ferry: error (rank %d): %s\n", rank, e.what());
    rc = ferry::apps::kExitFailure;
  } catch (...) {
    std::fprintf(stderr, "ferry: error (rank %d): unknown exception\n", rank);
    rc = ferry::apps::kExitFailure;
  }
  MPI_Finalize();
  return rc;
}
