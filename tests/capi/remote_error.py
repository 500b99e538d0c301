"""Another rank's error reaches Python as the class that rank raised. A job over a file-per-sample folder
with one corrupt sample file: the transformer that reads it fails with a DatasetError, and every rank (the
consumers in next_batch, the service ranks in serve, the failing rank itself) must raise ferry.DatasetError
naming the file, not ferry.TransportError.

    mpirun -n 5 /usr/bin/python3 remote_error.py JOB.toml BAD_FILE_NAME
(FERRY_LIBRARY names the libferry.so under test.) Rank 0 prints the verdict; exit 0 when every rank held.
"""

import os
import sys

import mpi4py

mpi4py.rc.thread_level = "funneled"
from mpi4py import MPI  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import ferry  # noqa: E402


def main():
    config, bad_file = sys.argv[1], sys.argv[2]
    raised = None
    try:
        with ferry.Runtime(config) as rt:
            if not rt.is_consumer:
                rt.serve()
            else:
                for _ in rt.loader():
                    pass
    except ferry.Error as e:
        raised = (type(e).__name__, str(e))
    world = MPI.COMM_WORLD
    everyone = world.gather(raised, root=0)
    if world.Get_rank() != 0:
        return 0
    wrong = [f"rank {r}: {got}" for r, got in enumerate(everyone)
             if got is None or got[0] != "DatasetError" or bad_file not in got[1]]
    if wrong:
        print("remote_error: expected ferry.DatasetError naming " + bad_file + " on every rank; got:\n" +
              "\n".join(wrong), file=sys.stderr)
        return 1
    print(f"remote_error: all {len(everyone)} ranks raised DatasetError naming {bad_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
