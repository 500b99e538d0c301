"""The model's transport inputs (measure_inputs.py steps 1 and 2): control-message latency and bandwidth per
transport (ucx_perftest; mpi_pingpong.py), one-sided get latency and bandwidth per backend (`ferry_bench get`)
and memcpy bandwidth (`ferry_bench memcpy`); and whether this host charges a page's first access
(first_touch_ratio)."""
import json
import mmap
import os
import random
import subprocess
import sys
import time

import numpy as np

from runs import ENV

HERE = os.path.dirname(os.path.abspath(__file__))


def perftest(test, size, iters):
    """ucx_perftest server and client on this machine; returns the client's last figures row."""
    port = str(random.randint(20000, 40000))
    args = ["-t", test, "-s", str(size), "-n", str(iters), "-p", port]
    server = subprocess.Popen(["ucx_perftest"] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        out = subprocess.run(["ucx_perftest", "localhost", "-f"] + args, capture_output=True, text=True,
                             timeout=120).stdout
    finally:
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    if not rows:
        raise RuntimeError(f"ucx_perftest {test} printed no figures")
    return [float(x) for x in rows[-1]]


def transports(runner):
    lat = perftest("ucp_am_lat", 64, 20000)
    bw = perftest("ucp_am_bw", 65536, 5000)
    ucx = {"ctrl_latency_s": lat[1] * 1e-6, "ctrl_latency_mean_s": lat[2] * 1e-6,
           "ctrl_bandwidth_Bps": bw[4] * 2**20,
           "how": "ucx_perftest ucp_am_lat 64 B (median one-way; mean beside it: preemption on shared cores), "
                  "ucp_am_bw 64 KiB (average MB/s, UCX MB = 2^20 B)"}
    out = subprocess.run(["mpirun", "-n", "2", "/usr/bin/python3", os.path.join(HERE, "mpi_pingpong.py")],
                         capture_output=True, text=True, env=ENV, timeout=300, check=True).stdout
    m = json.loads(out.strip().splitlines()[-1])
    mpi = {"ctrl_latency_s": m["latency_s"], "ctrl_bandwidth_Bps": m["bandwidth_Bps"],
           "how": "mpi4py ping-pong 64 B (best of 3, half the round trip; includes ~1 us of mpi4py per call) "
                  "and 1 MiB stream, 8 in flight"}
    for name, into in (("ucx", ucx), ("mpi", mpi)):
        into.update(gets(runner, name))
    return {"ucx": ucx, "mpi": mpi}


def gets(runner, backend):
    sizes = [4096, 16384, 65536, 262144, 1048576]
    out = os.path.join(runner.work, f"get_{backend}.jsonl")
    if os.path.exists(out):
        os.remove(out)
    subprocess.run(["mpirun", "-n", "2", runner.bench, "get", out, "--sizes", ",".join(f"{s // 1024}K" for s in sizes),
                    "--bytes", "128M", "--window", "16", "--pool", "256M", "--repeat", "3", "--backend", backend],
                   check=True, capture_output=True, env=ENV, timeout=600)
    rows = [json.loads(line) for line in open(out) if line.strip()]
    stream = {r["size"]: r["mib_per_s"] * 2**20 for r in rows if r["kind"] == "get" and r["mode"] == "stream"}
    s = np.array(sorted(stream), float)
    t = s / np.array([stream[k] for k in sorted(stream)])  # seconds per get, 16 in flight
    slope, icept = np.polyfit(s, t, 1)
    return {"get_latency_s": max(float(icept), 0.0), "get_bandwidth_Bps": float(1 / slope),
            "get_curve_Bps": {str(int(k)): stream[k] for k in sorted(stream)},
            "get_how": "ferry_bench get, 16 in flight, streaming through a 256 MiB pool, best of 3; "
                       "time per get fitted as latency + bytes / bandwidth"}


def memcpy(runner):
    out = os.path.join(runner.work, "memcpy.jsonl")
    if os.path.exists(out):
        os.remove(out)
    subprocess.run([runner.bench, "memcpy", out, "--sizes", "64K", "--bytes", "256M", "--pool", "256M",
                    "--repeat", "3"], check=True, capture_output=True, env=ENV, timeout=300)
    rows = [json.loads(line) for line in open(out) if line.strip()]
    return max(r["mib_per_s"] for r in rows if r["mode"] == "stream") * 2**20


def wires(nets):
    """Each transport's one-way control-message latency: a hop's delay with a core per rank."""
    return {name: net["ctrl_latency_s"] for name, net in nets.items()}


MADV_POPULATE_WRITE = 23  # <asm-generic/mman-common.h>; Python's mmap module does not name it


def first_touch_pass(mib):
    """One fresh mapping of `mib` MiB: seconds of its first write pass and of its second; whether the kernel
    populated it first (Linux >= 5.14)."""
    m = mmap.mmap(-1, mib << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        try:
            m.madvise(MADV_POPULATE_WRITE)
            populated = True
        except OSError:
            populated = False  # the first pass pays the guest's own page faults as well
        a = np.frombuffer(m, dtype=np.uint8)
        t0 = time.perf_counter()
        a[:] = 1
        t1 = time.perf_counter()
        a[:] = 2
        t2 = time.perf_counter()
        del a  # the view holds the buffer: close() would refuse
    finally:
        m.close()
    return t1 - t0, t2 - t1, populated


def first_touch_ratio(mib=256, repeats=3):
    """A first write pass over populated memory over a second pass, the median of `repeats` fresh mappings:
    near 1 where population backs the pages (expected on bare metal and under hardware virtualization),
    27-39 on the shadow-paged guest (PVM) of 2026-12-07, whose host charges a page's first access after
    MADV_POPULATE_WRITE (perf/results/2026-12-07d-first-touch). The model has no such cost: above 5 this says
    so on stderr, and its validation will not hold here (perf/model/README.md)."""
    passes = [first_touch_pass(mib) for _ in range(repeats)]
    ratios = sorted(first / max(second, 1e-9) for first, second, _ in passes)
    ratio = round(ratios[len(ratios) // 2], 1)
    if ratio > 5:
        what = "populated memory" if all(p for _, _, p in passes) else "fresh memory (no MADV_POPULATE_WRITE)"
        print(f"perf/model: a first write of {what} took {ratio:.0f}x a second one: this host charges first "
              "accesses (a shadow-paged VM?), which the model does not (perf/model/README.md)", file=sys.stderr)
    return ratio
