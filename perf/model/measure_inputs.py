"""Measures the model's inputs on this machine and writes them as JSON (perf/model/README.md).

    /usr/bin/python3 perf/model/measure_inputs.py --build build --out perf/model/inputs/here.json [--work DIR]

1. Control messages per transport: UCX `ucx_perftest -t ucp_am_lat` (64 B) and `ucp_am_bw` (64 KiB); MPI a
   mpi4py ping-pong and stream (mpi_pingpong.py).
2. One-sided gets: `ferry_bench get` (src/transport, 16 in flight, streaming through a pool) for both
   backends; per-get time fitted as latency + bytes / bandwidth. memcpy per byte (`ferry_bench memcpy`).
3. Per-role CPU costs of the real system: `ferry_bench run` of each calibration config with 2 and with 6
   epochs; the difference of each role's CPU over 4 epochs is one epoch's CPU, so start-up drops out
   (service ranks: CPU outside their waits; consumers: process CPU). Cold configs (no cache server: every
   epoch misses) give the transformer's HDF5 cost per call and per
   byte, per-sample cost and prepare (`cast`) cost per byte; warm configs (the cache holds the set) give a
   consumer's cost per hit; both give the randomizer's cost per batch, per sample and per miss list.
   Least squares over the configs (the output keeps every raw figure under "calibration").
   In the cold runs the transformer's busy CPU over its busy wall time, against the spinner probe's share
   measured around the run (runs.core_share), gives `share_factor` (what a busy Ferry rank gets beyond a
   spinner's share on a shared machine).
   The service ranks' CPU while they wait over their waiting time gives `idle_cpu_per_s`.
4. Cache inserts: one cold epoch with a cache server that admits every sample against one whose slab takes
   almost none (1 MiB); the difference of the transformer's and the cache server's busy CPU (outside waits
   and set-up) over the inserted bytes is each one's insert cost per byte.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runs import ENV, Runner, entry_bytes, role_cpu  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = 4096
# (side, batch, cast, cold): cold = no cache server, every epoch reads and prepares every sample.
CALIBRATION = [(32, 16, True, True), (64, 16, True, True), (96, 16, True, True), (32, 64, True, True),
               (64, 16, False, True), (32, 16, True, False), (64, 16, True, False), (64, 64, False, False)]


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


def calibrate(runner):
    """Per-epoch CPU seconds per role for every calibration config (6-epoch run minus 2-epoch run, / 4)."""
    rows = []
    for side, batch, cast, cold in CALIBRATION:
        path, raw = runner.dataset(SAMPLES, side)
        cpu, busy_share = {}, None
        for epochs in (2, 6):
            name = f"calib_{side}_{batch}_{int(cast)}_{int(cold)}_{epochs}"
            toml = runner.config(name, path, epochs=epochs, batch=batch, servers=0 if cold else 1, transformers=1,
                                 cache_bytes=256 << 20, cast=cast)
            lines, _, _, load = runner.run(toml, 3 if cold else 4)
            cpu[epochs] = role_work(lines)
            if epochs == 6:
                idle = idle_rates(lines)
                if cold:
                    busy_share = dict(transformer=transformer_share(lines), probe=load["share"])
        per = {k: (cpu[6][k] - cpu[2][k]) / 4 for k in cpu[6]}
        rows.append(dict(side=side, batch=batch, cast=cast, cold=cold, raw=raw, entry=entry_bytes(lines),
                         samples=SAMPLES, batches=SAMPLES // batch, load=load, cpu=per, busy_share=busy_share,
                         idle_rates=idle))
        print(f"calib side={side} batch={batch} cast={cast} cold={cold}: {per} "
              f"(core share {load['share']:.2f})", file=sys.stderr)
    return rows


def role_work(lines):
    """CPU seconds per role: service ranks' busy CPU (busy_cpu: waits and set-up left out, the model charges
    waiting separately through idle_cpu_per_s), consumers' process CPU (they report no idle figure)."""
    work = busy_cpu(lines)
    work["consumer"] = sum(role_cpu(lines).get("consumer", []))
    return work


def busy_cpu(lines):
    """Service ranks' CPU outside their waits (ServeReport cpu - idle cpu), by role: set-up (the slab's
    fault-in) and waiting are left out, which the process CPU would count."""
    out = {}
    for line in lines:
        if line.get("kind") == "rank" and "idle_cpu_s" in line:
            out[line["role"]] = out.get(line["role"], 0.0) + line["cpu_s"] - line["idle_cpu_s"]
    return out


def insert_cost(runner):
    """Per inserted byte: the transformer's extra busy CPU (its second send) and the cache server's (its
    copy into the slab), one epoch inserting every sample against one inserting ~none (least of 3 each)."""
    path, _ = runner.dataset(SAMPLES, 64)
    busy, entry = {}, None
    for name, cache in (("all", 256 << 20), ("none", 1 << 20)):
        for _ in range(3):  # CPU seconds, least of 3: a loaded machine only ever adds
            toml = runner.config(f"insert_{name}", path, epochs=1, batch=16, servers=1, transformers=1,
                                 cache_bytes=cache, cast=True)
            lines, _, _, _ = runner.run(toml, 4)
            b = busy_cpu(lines)
            busy[name] = b if name not in busy else {k: min(v, busy[name][k]) for k, v in b.items()}
        entry = entry_bytes(lines)
    inserted = (SAMPLES - (1 << 20) // (-(-entry // 64) * 64)) * entry
    per_byte = {role: max(0.0, (busy["all"][role] - busy["none"][role]) / inserted)
                for role in ("transformer", "cache_server")}
    print(f"insert: {busy} -> {per_byte} s/B", file=sys.stderr)
    return per_byte, busy


def transformer_share(lines):
    """CPU over wall of the (single) transformer while busy: the share of a core a busy Ferry rank got."""
    t = next(line for line in lines if line.get("role") == "transformer")
    return (t["cpu_s"] - t["idle_cpu_s"]) / max(1e-9, t["wall_s"] - t["idle_wall_s"])


def share_factor(rows):
    """Busy Ferry rank's share over the spinner probe's (runs.core_share), median of the cold runs.

    The probe's spinners never sleep; Ferry's ranks block and wake, and the scheduler gives waking tasks
    more than a spinner's share. validate.py gives the model min(1, probe x factor)."""
    ratios = sorted(r["busy_share"]["transformer"] / r["busy_share"]["probe"] for r in rows if r["busy_share"])
    return ratios[len(ratios) // 2] if ratios else 1.0


def idle_rates(lines):
    """CPU seconds per wall second of every service rank while it waits (ServeReport idle figures)."""
    return [line["idle_cpu_s"] / line["idle_wall_s"] for line in lines
            if line.get("kind") == "rank" and line.get("idle_wall_s", 0) > 0]


def idle_rate(rows):
    """Median over the calibration runs' waiting service ranks: what a rank burns while it waits (progress
    wake-ups, heartbeats), charged by the model to every waiting rank, consumers included."""
    rates = sorted(x for r in rows for x in r["idle_rates"])
    return rates[len(rates) // 2] if rates else 0.0


def fit(rows, role, columns):
    """Least squares of a role's per-epoch CPU on the given columns (functions of a row); >= 0 each."""
    a = np.array([[f(r) for f in columns] for r in rows], float)
    y = np.array([r["cpu"][role] for r in rows], float)
    coef = np.linalg.lstsq(a, y, rcond=None)[0]
    return [max(float(c), 0.0) for c in coef]


def costs_from(rows, insert_per_byte):
    cold = [r for r in rows if r["cold"]]
    warm = [r for r in rows if not r["cold"]]
    prep = lambda r: (r["raw"] - 4) if r["cast"] else 0  # bytes cast touches: the image field
    call, per_sample, per_byte, prep_byte = fit(cold, "transformer", [
        lambda r: r["batches"] * 2, lambda r: r["samples"], lambda r: r["samples"] * r["raw"],
        lambda r: r["samples"] * prep(r)])
    miss_s, miss_b = fit(cold, "consumer", [lambda r: r["samples"], lambda r: r["samples"] * r["entry"]])
    hit_s, hit_b = fit(warm, "consumer", [lambda r: r["samples"], lambda r: r["samples"] * r["entry"]])
    rb, rs, rl = fit(rows, "randomizer", [lambda r: r["batches"], lambda r: r["samples"],
                                          lambda r: r["batches"] if r["cold"] else 0])
    return {
        "transformer": {"hdf5_per_call_s": call, "hdf5_per_byte_s": per_byte, "per_sample_s": per_sample,
                        "prepare_per_byte_s": prep_byte,
                        "insert_per_byte_s": insert_per_byte["transformer"]},
        "consumer": {"hit_per_sample_s": hit_s, "hit_per_byte_s": hit_b, "miss_per_sample_s": miss_s,
                     "miss_per_byte_s": miss_b},
        "randomizer": {"per_batch_s": rb, "per_sample_s": rs, "per_list_s": rl},
        "cache_server": {"copy_per_byte_s": insert_per_byte["cache_server"]},
        "epoch_fixed_s": 0.0,
        "share_factor": share_factor(rows),
        "idle_cpu_per_s": idle_rate(rows),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--out", default=os.path.join(HERE, "inputs", "here.json"))
    ap.add_argument("--work", default="/tmp/ferry-model-inputs")
    args = ap.parse_args()
    runner = Runner(args.build, args.work)
    load0 = os.getloadavg()[0]
    nets = transports(runner)
    mem = memcpy(runner)
    rows = calibrate(runner)
    insert, insert_raw = insert_cost(runner)
    doc = {"measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "host": os.uname().nodename,
           "cores": os.cpu_count(), "load_average_start": load0, "load_average_end": os.getloadavg()[0],
           "how": __doc__.split("\n\n", 2)[2].strip(), "transport": nets, "memcpy_Bps": mem,
           "costs": costs_from(rows, insert), "calibration": rows, "insert_calibration_cpu_s": insert_raw}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
    print(json.dumps(doc["costs"], indent=1))


if __name__ == "__main__":
    main()
