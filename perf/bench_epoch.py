"""Ferry's epochs against what users would use instead (perf/README.md), on the comparison datasets, 2 consumer
processes, baselines in this run: 2. epoch throughput against the PyTorch DataLoader (perf/torch_loader.py)
and 3. against the naive C++ pipeline (ferry_bench's `local`: LocalLoader per rank); the cold epoch's CPU
cost per sample against PyTorch (issue 14, goal 3). The suite (perf/suite.py) runs them as `--only epoch`,
`--only naive` and `--only cpu`."""

import os

from suite_data import dataset
from suite_report import fmt, plot_bars
from suite_runner import MiB

TORCH_LOADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_loader.py")
KINDS = ["fmnist", "image", "cosmo"]
PAYLOAD = {"fmnist": 3200, "image": 602200, "cosmo": 1769600}  # prepared bytes per sample
SAMPLES = {"fmnist": 60000, "image": 1536, "cosmo": 256}        # of the full run (the cache is sized for them)


def torch_loader(s, name, kind, files, batch, workers):
    """perf/torch_loader.py on the consumers' ranks, 2 epochs per num_workers setting in the comma list
    `workers`, output in raw/NAME.jsonl and raw/NAME.log: its JSON lines."""
    out = s.fresh(f"{name}.jsonl")
    s.sh(s.mpirun(s.consumers) + ["/usr/bin/python3", TORCH_LOADER, "--kind", kind, "--files", files,
                                  "--batch-size", str(batch), "--workers", workers, "--epochs", "2", "--out", out],
         name, timeout=s.timeout * 2)
    return s.read_jsonl(out)


def _torch(s, kind, tpl, files, cold, cached, workers):
    """The DataLoader's best setting by samples/s; records Ferry's epochs against it. (label, samples/s)."""
    torch_lines = torch_loader(s, f"torch_{kind}", kind, files, tpl["batch"], workers)
    s.raw_lines[f"torch_{kind}"] = torch_lines
    best, best_w = None, None
    for t in torch_lines:
        rate = t["samples"] / t["seconds"] if t["seconds"] > 0 else 0
        if best is None or rate > best:
            best, best_w = rate, t["workers"]
    s.record("epoch", kind, "Ferry cached epoch vs PyTorch", cached, "samples/s", best, f"torch nw={best_w}",
             5.0, ">= 5")
    s.record("epoch", kind, "Ferry cold epoch vs PyTorch", cold, "samples/s", best, f"torch nw={best_w}",
             1.5, ">= 1.5")
    return f"PyTorch DataLoader (best: num_workers={best_w})", best


def bench_epoch(s, with_torch=True, with_naive=True):
    s.log("2./3. epoch throughput: Ferry against the PyTorch DataLoader and the naive C++ pipeline")
    epochs = 3 if s.quick else 4
    workers = "0,2" if s.quick else "0,1,2,4"
    epoch_bars = {}
    for kind in KINDS:
        tpl, files = dataset(s, kind)
        pipe = dict(tpl, name=kind, epochs=epochs)
        cfg = s.config(f"epoch_{kind}", [pipe], cache_bytes=SAMPLES[kind] * PAYLOAD[kind] * 1.1 + 16 * MiB)
        cold, cached = s.ferry_epochs(s.ferry_run(f"epoch_{kind}", cfg, s.consumers))
        bars = {"Ferry cold": cold, "Ferry cached": cached}
        if with_torch:
            label, best = _torch(s, kind, tpl, files, cold, cached, workers)
            bars[label] = best
        if with_naive:
            naive = s.local_epochs(s.ferry_local(f"naive_{kind}", cfg, s.consumers))
            bars["naive C++ (LocalLoader per rank)"] = naive
            s.record("naive", kind, "Ferry cached epoch vs naive C++", cached, "samples/s", naive,
                     "LocalLoader/rank")
            s.record("naive", kind, "Ferry cold epoch vs naive C++", cold, "samples/s", naive, "LocalLoader/rank")
        epoch_bars[kind] = bars
        s.log(f"  {kind}: " + ", ".join(f"{k} {fmt(v)}" for k, v in bars.items()))
    plot_bars(s.out, "epoch_throughput.png", "Epoch throughput, 2 consumer processes (samples/s, log)", epoch_bars)
    if with_torch:
        s.ratio_lines("epoch")
    if with_naive:
        s.ratio_lines("naive")


def _cpu_ferry(s, kind, tpl):
    """(CPU-ms per sample, cold samples/s) of Ferry: a 1-epoch and a 3-epoch run with cache_bytes = 0;
    either is None when a run failed."""
    cpu, samples, wall = {}, {}, {}
    for epochs in (1, 3):
        name = f"cpu_{kind}_{epochs}"
        cfg = s.config(name, [dict(tpl, name=kind, epochs=epochs)], cache_bytes=0)
        lines = s.ferry_run(name, cfg, s.consumers)
        ranks = [x for x in lines if x.get("kind") == "rank"]
        if not ranks:
            break
        cpu[epochs] = sum(x.get("process_cpu_s", 0.0) for x in ranks)
        per_epoch = s.rank_epochs(ranks)
        samples[epochs] = sum(v[0] for v in per_epoch.values())
        # Wall clock: the epochs after the first (all cold; the first one carries start-up).
        later = [v for k, v in per_epoch.items() if k > 0]
        wall[epochs] = (sum(v[0] for v in later), sum(v[1] for v in later))
    ferry = ferry_rate = None
    if 1 in cpu and 3 in cpu and samples[3] > samples[1]:
        ferry = 1000 * (cpu[3] - cpu[1]) / (samples[3] - samples[1])
        if wall[3][1] > 0:
            ferry_rate = wall[3][0] / wall[3][1]
    return ferry, ferry_rate


def _cpu_torch(s, kind, tpl, files):
    """(CPU-ms per sample, samples/s, num_workers) of the DataLoader setting with the least CPU per sample."""
    torch_lines = [t for t in torch_loader(s, f"cpu_torch_{kind}", kind, files, tpl["batch"],
                                           "0" if s.quick else "0,2") if t.get("samples") and "cpu_s" in t]
    s.raw_lines[f"cpu_torch_{kind}"] = torch_lines
    torch, torch_w, torch_rate = None, None, None
    for t in torch_lines:
        per = 1000 * t["cpu_s"] / t["samples"]
        if torch is None or per < torch:
            torch, torch_w, torch_rate = per, t["workers"], t["samples"] / t["seconds"]
    return torch, torch_rate, torch_w


def bench_cpu(s):
    """CPU-seconds (user + system, every rank's getrusage summed) per delivered sample of a cold epoch:
    `cache_bytes = 0` makes every epoch cold; (CPU of a 3-epoch run - CPU of a 1-epoch run) / the samples
    of 2 epochs leaves start-up out. PyTorch: its processes and DataLoader workers (psutil), per epoch, the
    setting with the least CPU per sample."""
    s.log("cpu: CPU-seconds per delivered sample of a cold epoch, Ferry against PyTorch")
    bars = {}
    for kind in KINDS:
        tpl, files = dataset(s, kind)
        ferry, ferry_rate = _cpu_ferry(s, kind, tpl)
        torch, torch_rate, torch_w = _cpu_torch(s, kind, tpl, files)
        s.record("cpu", kind, "cold epoch CPU-ms per sample, Ferry vs PyTorch", ferry, "CPU-ms/sample", torch,
                 f"torch nw={torch_w}", 1.0, "<= 1.0", higher_is_better=False)
        s.record("cpu", kind, "cold epoch wall-clock samples/s, Ferry vs PyTorch (same run)", ferry_rate,
                 "samples/s", torch_rate, f"torch nw={torch_w}")
        bars[kind] = {"Ferry (cold, cache_bytes = 0)": ferry, "PyTorch (setting with least CPU)": torch}
        s.log(f"  {kind}: Ferry {fmt(ferry)} CPU-ms/sample, PyTorch {fmt(torch)}")
    plot_bars(s.out, "cpu_per_sample.png", "Cold epoch: CPU-milliseconds per delivered sample (log)", bars)
    s.ratio_lines("cpu")
