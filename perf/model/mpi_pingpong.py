"""MPI control-message figures for the model (run by measure_inputs.py under `mpirun -n 2 /usr/bin/python3`).

Ping-pong of 64 B (one-way latency = half the round trip) and a stream of 1 MiB messages (bandwidth), through
mpi4py's buffer interface (no pickling); prints one JSON line from rank 0. mpi4py adds about a microsecond per
call over C, stated in the inputs file.
"""
import json
import sys
import time

import numpy as np
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
peer = 1 - rank


def pingpong(nbytes, iters):
    buf = np.zeros(nbytes, np.uint8)
    comm.Barrier()
    t0 = time.perf_counter()
    for _ in range(iters):
        if rank == 0:
            comm.Send(buf, peer, 1)
            comm.Recv(buf, peer, 1)
        else:
            comm.Recv(buf, peer, 1)
            comm.Send(buf, peer, 1)
    return (time.perf_counter() - t0) / iters / 2


def stream(nbytes, iters, window=8):
    buf = np.zeros(nbytes, np.uint8)
    comm.Barrier()
    t0 = time.perf_counter()
    for _ in range(iters // window):
        reqs = [comm.Isend(buf, peer, 2) if rank == 0 else comm.Irecv(buf, peer, 2) for _ in range(window)]
        MPI.Request.Waitall(reqs)
    comm.Barrier()
    return nbytes * (iters // window) * window / (time.perf_counter() - t0)


lat = min(pingpong(64, 5000) for _ in range(3))
bw = max(stream(1 << 20, 512) for _ in range(3))
if rank == 0:
    json.dump({"latency_s": lat, "bandwidth_Bps": bw, "latency_bytes": 64, "bandwidth_bytes": 1 << 20}, sys.stdout)
    print()
