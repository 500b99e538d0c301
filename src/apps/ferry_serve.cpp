// ferry-serve: the service ranks of an MPMD job. Started beside the training program with the same config:
//   mpirun -n 3 ferry-serve --config job.toml : -n 4 ./train --config job.toml
// The ferry-serve ranks take the randomizer, cache-server and transformer roles; every other rank is a
// consumer. Exits when every consumer has finished.
#include <mpi.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "apps/ferry_cli.hpp"
#include "apps/usage.hpp"
#include "ferry/features.hpp"

int main(int argc, char** argv) {
  if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
    std::fprintf(stderr, "ferry-serve: error: MPI_Init failed\n");
    return 1;
  }
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  CLI::App app{"ferry-serve: service ranks (randomizer, cache servers, transformers) of an MPMD Ferry job"};
  app.set_version_flag("--version", std::string(ferry::kVersion));
  ferry::config::CommandLine cl;
  ferry::config::add_options(app, cl);
  int rc = 0;
  try {
    app.parse(argc, argv);
    rc = ferry::apps::run_distributed(cl, {}, true);
  } catch (const CLI::ParseError& e) {
    rc = ferry::apps::parse_exit("ferry-serve", app, e, rank == 0);
    // The other program of an MPMD job waits in the set-up's first collective: it fails with this line.
    ferry::apps::leave_setup(rc == 0 ? "ferry-serve was asked for --help or --version, so it sets nothing up"
                                     : std::string("ferry-serve: usage error: ") + e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ferry-serve: error (rank %d): %s\n", rank, e.what());
    rc = ferry::apps::kExitFailure;
  } catch (...) {
    std::fprintf(stderr, "ferry-serve: error (rank %d): unknown exception\n", rank);
    rc = ferry::apps::kExitFailure;
  }
  MPI_Finalize();
  return rc;
}
