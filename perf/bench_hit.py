"""1. Hit delivery bandwidth (perf/README.md): one consumer reading cached samples of 64 KiB to 4 MiB from one
cache server, against ucx_perftest's ucp_get, Ferry's transport gets and memcpy, all in this run. The suite
(perf/suite.py) runs it as `--only hit`."""

import os
import random
import subprocess
import time

from suite_data import gen_image
from suite_report import fmt, plot_lines
from suite_runner import KiB, MiB

SIZES = [64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB]
SIDE = {64 * KiB: 128, 256 * KiB: 256, MiB: 512, 4 * MiB: 1024}  # RGBA images of each size


def ucx_perftest(s, size, iters, repeat):
    """Best of `repeat` runs (server and client on this machine), MiB/s."""
    best = None
    for _ in range(repeat):
        bw = ucx_perftest_once(s, size, iters)
        if bw is not None and (best is None or bw > best):
            best = bw
    return best


def ucx_perftest_once(s, size, iters):
    for attempt in range(3):
        port = str(random.randint(20000, 40000))
        args = ["-t", "ucp_get", "-s", str(size), "-n", str(iters), "-w", str(max(10, iters // 10)), "-O",
                "16", "-f", "-p", port]
        log = open(os.path.join(s.raw, "ucx_perftest.log"), "a")
        server = subprocess.Popen(["ucx_perftest"] + args, stdout=log, stderr=subprocess.STDOUT)
        time.sleep(0.5)
        try:
            out = subprocess.run(["ucx_perftest", "localhost"] + args, capture_output=True, text=True,
                                 timeout=60).stdout
        except subprocess.TimeoutExpired:
            out = ""
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.write(out)
        log.close()
        numbers = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
        if numbers and len(numbers[-1]) >= 8:
            return float(numbers[-1][5])  # bandwidth overall, MB/s (UCX's MB = 2^20 bytes)
    return None


def llc_bytes():
    """The last-level cache's size from lscpu (bytes; 32 MiB when unknown)."""
    try:
        out = subprocess.run(["lscpu", "-B"], capture_output=True, text=True, timeout=10).stdout
        sizes = [int(line.split()[2]) for line in out.splitlines() if line.startswith(("L3 cache", "L2 cache"))]
        return max(sizes) if sizes else 32 * MiB
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return 32 * MiB


def _micro(s, budget, repeat, pool):
    """ferry_bench memcpy and get over SIZES: ({(mode, size): MiB/s} of the gets, the same of memcpy)."""
    size_list = ",".join(f"{size // KiB}K" for size in SIZES)
    out = s.fresh("hit_micro.jsonl")
    s.sh([s.bench, "memcpy", out, "--sizes", size_list, "--bytes", f"{budget // MiB}M", "--pool", pool,
          "--repeat", str(repeat)], "hit_memcpy")
    s.sh(s.mpirun(2) + [s.bench, "get", out, "--sizes", size_list, "--bytes", f"{budget // MiB}M",
                        "--window", "16", "--pool", pool, "--repeat", str(repeat)], "hit_get")
    micro = s.read_jsonl(out)
    s.raw_lines["hit_micro"] = micro
    get = {(m["mode"], m["size"]): m["mib_per_s"] for m in micro if m["kind"] == "get"}
    mem = {(m["mode"], m["size"]): m["mib_per_s"] for m in micro if m["kind"] == "memcpy"}
    return get, mem


def _first_read(s, size, total, label):
    """Goal 2's baseline without Ferry (perf/first_read.cpp): a process reads memory another process has just
    written, pass after pass; records the first pass against the best one."""
    out = s.fresh(f"first_read_{label}.jsonl")
    if not s.sh([s.first_read, out, str(size), str(total), "3" if s.quick else "5"], f"first_read_{label}"):
        return
    passes = s.read_jsonl(out)[0]["pass_ms"]
    s.record("hit", label, "memory, no Ferry: first read pass after another process wrote vs best pass",
             1000.0 / passes[0], "passes/s", 1000.0 / min(passes), "best pass")


def _consumer(s, size, label, per_size):
    """The whole system: one consumer reading cached samples of `size` (epochs after the first): (MiB/s, the
    dataset's path), the best of the runs (1 quick, 3 full). Records goal 2 (every all-hit epoch against the
    best) from the best of the runs per epoch, so that a time slice lost to another process in one run is not
    taken for a penalty of that epoch (a real one shows in every run), and the set-up's fault-in times.
    The last epoch is timed but not compared (below)."""
    n = max(16, per_size // size)
    path = os.path.join(s.data, f"hit_{label}.h5")
    gen_image(s, path, n, SIDE[size], "--channels", "4")
    ferry, per_epoch, setup = None, {}, []
    for run in range(1 if s.quick else 3):
        name = f"hit_{label}" if run == 0 else f"hit_{label}_run{run + 1}"
        cfg = s.config(name, [dict(name="hit", files=path, fields={"image": "/images"},
                                   epochs=4 if s.quick else 6, batch=4)],
                       cache_bytes=n * (size + 4096) * 1.2 + MiB)
        lines = s.ferry_run(name, cfg, consumers=1)
        stats = s.read_jsonl(os.path.join(s.raw, f"{name}.stats.jsonl"))
        setup += [x for x in stats if x.get("kind") == "memory_setup"]
        consumer = [x for x in lines if x.get("role") == "consumer"]
        if not consumer:
            continue
        cached = [e for e in consumer[0]["pipelines"][0]["epochs"] if e["epoch"] > 0]
        if cached:
            mean = sum(e["bytes"] for e in cached) / sum(e["seconds"] for e in cached) / MiB
            ferry = max(ferry or 0, mean)
        full = {x["epoch"] for x in stats if x.get("kind") == "consumer_epoch" and x["hits"] == x["samples"] > 0}
        # The run's last epoch is left out of goal 2: no epoch follows it, so its time holds no gets for the
        # next epoch's first batches and ends with batches already fetched (a few percent shorter).
        for e in cached[:-1]:
            if e["epoch"] in full:
                per_epoch[e["epoch"]] = max(per_epoch.get(e["epoch"], 0), e["bytes"] / e["seconds"] / MiB)
    if per_epoch:
        # Goal 2: every all-hit epoch, the first included, against the best one (hits from the stats file).
        all_hit = [per_epoch[e] for e in sorted(per_epoch)]
        first, best = all_hit[0], max(all_hit)
        s.record("hit", label, "first all-hit epoch vs best all-hit epoch", first, "MiB/s", best,
                 "best all-hit epoch", 0.9, ">= 0.9")
        s.record("hit", label, "slowest all-hit epoch vs best all-hit epoch", min(all_hit), "MiB/s",
                 best, "best all-hit epoch", 0.9, ">= 0.9")
    for what in sorted({x["what"] for x in setup}):
        s.record("hit", label, f"set-up: {what} faulted in (s, at start)",
                 max(x["seconds"] for x in setup if x["what"] == what), "s")
    return ferry, path


def bench_hit(s):
    s.log("1. hit delivery bandwidth")
    budget = 64 * MiB if s.quick else 256 * MiB  # per timed pass
    # The memcpy baseline streams from a pool larger than the last-level cache (issue 14: a hit's physical
    # limit on one node); the quick run keeps CI's memory small.
    llc = llc_bytes()
    pool = "64M" if s.quick else f"{max(1024, 2 * llc // MiB)}M"
    get, mem = _micro(s, budget, 3 if s.quick else 5, pool)
    curves = {"ucx_perftest ucp_get": {}, "memcpy (same buffer)": {}, "memcpy (streaming)": {},
              "Ferry transport get (same buffer)": {}, "Ferry transport get (streaming)": {},
              "Ferry consumer, cached epoch": {}}
    # Full run: each size's cached dataset is as large as the memcpy pool, so that both stream from memory.
    # A set little larger than the LLC is partly served from it after its first all-hit epoch: at 364 MiB
    # (a 300 MiB LLC here) every later epoch copied faster than the first, at 1 GiB none did (goal 2;
    # perf/README.md, "Epoch profiles").
    per_size = 24 * MiB if s.quick else int(pool[:-1]) * MiB
    for size in SIZES:
        label = f"{size // KiB}KiB" if size < MiB else f"{size // MiB}MiB"
        perftest = ucx_perftest(s, size, max(200, budget // size), 2 if s.quick else 3)
        ferry, path = _consumer(s, size, label, per_size)
        _first_read(s, size, per_size, label)
        curves["ucx_perftest ucp_get"][size] = perftest
        curves["memcpy (same buffer)"][size] = mem.get(("hot", size))
        curves["memcpy (streaming)"][size] = mem.get(("stream", size))
        curves["Ferry transport get (same buffer)"][size] = get.get(("hot", size))
        curves["Ferry transport get (streaming)"][size] = get.get(("stream", size))
        curves["Ferry consumer, cached epoch"][size] = ferry
        s.record("hit", label, "consumer cached epoch vs ucx_perftest", ferry, "MiB/s", perftest,
                 "ucx_perftest", 0.85, ">= 0.85")
        s.record("hit", label, "transport get (same pattern) vs ucx_perftest", get.get(("hot", size)), "MiB/s",
                 perftest, "ucx_perftest", 0.85, ">= 0.85")
        s.record("hit", label, f"consumer cached epoch vs memcpy (streaming, pool {pool} > LLC)", ferry,
                 "MiB/s", mem.get(("stream", size)), "memcpy", 0.5, ">= 0.5")
        s.log(f"  {label}: ferry consumer {fmt(ferry)} MiB/s, transport get {fmt(get.get(('hot', size)))}, "
              f"ucx_perftest {fmt(perftest)}, memcpy {fmt(mem.get(('stream', size)))}")
        if not s.a.keep_data:
            os.remove(path)
    plot_lines(s.out, "hit_bandwidth.png", "Hit delivery bandwidth (one consumer, one cache server)",
               "message / sample size (bytes)", "MiB/s", curves, logx=True, logy=True)
    s.ratio_lines("hit")
