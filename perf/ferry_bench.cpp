// ferry_bench: the measuring programs behind perf/run.sh (perf/README.md). Each subcommand writes JSON lines
// to OUT (appending); perf/suite.py turns them into ratios against a baseline measured in the same run.
//
//   ferry_bench run CONFIG OUT [--step-ms X]   the multi-rank system (ferry::Runtime), every rank: its role,
//                                              peak RSS, CPU, its ServeReport or per-epoch consumer timings
//   ferry_bench local CONFIG OUT               the naive pipeline: LocalLoader per rank, its own reads
//   ferry_bench get OUT --sizes S,.. --bytes B --window W [--pool P] [--backend ucx|mpi]
//                                              2 ranks: one-sided gets through src/transport (rank 0 reads
//                                              rank 1's registered memory), same pattern as ucx_perftest
//   ferry_bench memcpy OUT --sizes S,.. --bytes B [--pool P]    memcpy bandwidth, one process
//   (get and memcpy: --repeat R timed passes of B bytes per size and mode; best and median reported)
//   ferry_bench permute OUT --n N               keyed permutation rate against std::shuffle
//   ferry_bench idle OUT [--ms M] [--backend ucx|mpi]
//                                              every rank but the last waits in Fabric::wait (100 ms
//                                              timeouts) while the last sleeps M ms, then wakes them: each
//                                              waiter's process CPU over the wait (all threads: UCX's and
//                                              MPI's too)
//
// Sizes take K/M suffixes (KiB, MiB). Ranks write nothing but OUT (rank 0 gathers the lines).
//
// The subcommands live in ferry_bench_system.cpp (run, local), ferry_bench_transport.cpp (get, memcpy, idle)
// and ferry_bench_permute.cpp; what they share in ferry_bench_common.hpp.
#include <mpi.h>

#include <cstdio>
#include <exception>
#include <string>

#include "ferry_bench_common.hpp"

using namespace ferry::perf;

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const bool mpi = o.command == "run" || o.command == "local" || o.command == "get" || o.command == "idle";
  if (mpi) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  }
  int rc = 0;
  try {
    if (o.command == "run")
      rc = cmd_run(o);
    else if (o.command == "local")
      rc = cmd_local(o);
    else if (o.command == "get")
      rc = cmd_get(o);
    else if (o.command == "memcpy")
      rc = cmd_memcpy(o);
    else if (o.command == "permute")
      rc = cmd_permute(o);
    else if (o.command == "idle")
      rc = cmd_idle(o);
    else
      usage(("unknown command '" + o.command + "'").c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ferry_bench %s: error: %s\n", o.command.c_str(), e.what());
    if (mpi) MPI_Abort(MPI_COMM_WORLD, 1);
    return 1;
  }
  if (mpi) MPI_Finalize();
  return rc;
}
