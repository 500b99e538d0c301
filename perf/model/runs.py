"""Running Ferry for the model: datasets, configs, `ferry_bench run`, and the figures the model is compared with.

Used by measure_inputs.py (calibration runs) and validate.py (validation points). Every run is a real
multi-rank job (mpirun, oversubscribed on this machine).
"""
import json
import multiprocessing
import os
import subprocess
import time

from sched_sampler import SchedSampler

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1", FERRY_LOG_LEVEL="warn")
LABEL_BYTES = 4  # ferry-gen image: one int32 label per sample


def _spin(seconds, out):
    t0, c0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        pass
    out.put((time.process_time() - c0) / (time.perf_counter() - t0))


def core_share(seconds=0.5):
    """The share of a core this job's processes get while other jobs keep the machine busy (the model's
    Layout.core_share): one spinner per core runs `seconds`, the mean of CPU time over wall time.

    The kernel shares by sessions (sched_autogroup) and nice levels, so the load average alone does not say
    what Ferry's ranks get; a spinner in the same session as mpirun does.
    """
    cores = os.cpu_count()
    q = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_spin, args=(seconds, q)) for _ in range(cores)]
    for p in procs:
        p.start()
    shares = [q.get() for _ in procs]
    for p in procs:
        p.join()
    return min(1.0, sum(shares) / len(shares))


class Runner:
    def __init__(self, build, work):
        self.build = os.path.abspath(build)
        self.work = os.path.abspath(work)
        os.makedirs(self.work, exist_ok=True)
        self.bench = os.path.join(self.build, "perf", "ferry_bench")
        self.gen = os.path.join(self.build, "src", "apps", "ferry-gen")
        for exe in (self.bench, self.gen):
            if not os.access(exe, os.X_OK):
                raise SystemExit(f"perf/model: {exe} not found (build ferry_bench and ferry-gen first)")

    def dataset(self, samples, side):
        """An image-like set of `samples` u8 side x side x 3 images and int32 labels; raw bytes per sample."""
        path = os.path.join(self.work, f"img_{samples}_{side}.h5")
        if not os.path.exists(path):
            subprocess.run([self.gen, "image", "--out", path, "--samples", str(samples), "--height", str(side),
                            "--width", str(side)], check=True, capture_output=True, env=ENV)
        return path, side * side * 3 + LABEL_BYTES

    def config(self, name, path, *, epochs, batch, servers, transformers, cache_bytes, cast, transport="ucx",
               prefetch=4):
        """A one-pipeline TOML file; prepare `cast` (u8 -> f32) or none."""
        toml = os.path.join(self.work, name + ".toml")
        lines = ["[runtime]", f'transport = "{transport}"', f"cache_servers = {servers}",
                 f"transformers = {transformers}", f"cache_bytes = {cache_bytes}", f"prefetch = {prefetch}",
                 "peer_timeout_s = 300", f'stats_file = "{toml[:-5]}.stats.jsonl"', "", "[[pipeline]]",
                 "seed = 7", f"epochs = {epochs}", f"batch_size = {batch}", "[pipeline.dataset]", f'files = ["{path}"]',
                 'fields = { image = "/images", label = "/labels" }']
        if cast:
            lines += ["[pipeline.prepare]", 'image = "cast"']
        with open(toml, "w") as f:
            f.write("\n".join(lines) + "\n")
        return toml

    def run(self, toml, ranks, step_ms=0.0, timeout=900, sched=False):
        """Runs `ferry_bench run`; returns (rank lines, per-epoch stats lines, seconds, load).

        load: the 1-minute load average after the run and core_share() measured just before and just after
        it, averaged: what the model is given for this run. sched: the ranks' /proc schedstat is sampled
        meanwhile (sched_sampler.SchedSampler), left in self.last_sched.
        """
        out, stats = toml[:-5] + f"_{ranks}.jsonl", toml[:-5] + ".stats.jsonl"
        for old in (out, stats):
            if os.path.exists(old):
                os.remove(old)
        cmd = ["mpirun", "-n", str(ranks), self.bench, "run", toml, out]
        if step_ms:
            cmd += ["--step-ms", str(step_ms)]
        before = core_share()
        t0 = time.time()
        if sched:
            with SchedSampler(os.path.basename(self.bench), toml) as self.last_sched:
                proc = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=timeout)
        else:
            proc = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=timeout)
        seconds = time.time() - t0
        load = dict(loadavg=os.getloadavg()[0], share=(before + core_share()) / 2)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
        with open(out) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        with open(stats) as f:
            records = [json.loads(line) for line in f if line.strip()]
        epochs = {e["epoch"]: e for e in records if e.get("kind") == "epoch"}
        # Every rank's totals from the runtime (roles/rank_totals.hpp), CPU after set-up among them.
        lines += [dict(r, kind="rank_totals") for r in records if r.get("kind") == "rank"]
        return lines, epochs, seconds, load


def role_cpu_after_setup(lines):
    """CPU seconds per role after each rank's set-up (the runtime's rank totals): role -> sum over ranks."""
    out = {}
    for line in lines:
        if line.get("kind") == "rank_totals":
            out[line["role"]] = out.get(line["role"], 0.0) + line["cpu_seconds"] - line["setup_cpu_seconds"]
    return out


def entry_bytes(lines):
    """Prepared bytes per sample, from the consumers' delivered bytes."""
    for line in lines:
        if line.get("role") == "consumer":
            p = line["pipelines"][0]
            return p["bytes"] // p["samples"]
    raise RuntimeError("no consumer line")


def hdf5_bytes(lines):
    return sum(line.get("hdf5_bytes", 0) for line in lines if line.get("role") == "transformer")


def slab_holding(entries, entry):
    """cache_bytes of a slab holding `entries` entries of `entry` bytes (reserved rounded up to 64), and one
    more of slack."""
    return (entries + 1) * 64 * -(-entry // 64)
