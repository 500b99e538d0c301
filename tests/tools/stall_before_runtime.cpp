// An MPI program that joins the job and never creates a Ferry Runtime: it blocks reading a pipe that nobody
// writes, like a training program stuck before its Runtime (or lost before it). The other ranks wait in the
// set-up's first collective until runtime.setup_timeout_s ends the job (ferry_run_setup_deadline_* tests).
#include <mpi.h>
#include <unistd.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (MPI_Init(&argc, &argv) != MPI_SUCCESS) return 1;
  int fds[2];
  if (pipe(fds) != 0) {
    std::perror("stall_before_runtime: pipe");
    return 1;
  }
  char byte = 0;
  // Blocks for as long as this process lives: it holds the write end itself, so no end of file comes.
  const ssize_t got = read(fds[0], &byte, 1);
  std::fprintf(stderr, "stall_before_runtime: read returned %zd\n", got);
  MPI_Finalize();
  return 1;
}
