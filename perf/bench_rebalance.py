"""9. Role rebalancing (perf/README.md, docs/heterogeneous.md): R1, R2 and R3, each against the same job
without the move, in this run. The suite (perf/suite.py) runs it as `--only rebalance`."""

import os

from suite_data import gen_image
from suite_report import plot_lines
from suite_runner import MiB

EXPENSIVE = "cast(scale=0.00392157) | resize(height=160, width=160) | log1p | resize(height=40, width=40)"


def _cases(n, quick):
    """name: (randomizers, cache servers, transformers, cache bytes, epochs, prepare, consumer step ms)."""
    entry = 32 * 32 * 3 * 4 + 4  # prepared f32 image + i32 label
    slot = (entry + 63) // 64 * 64
    return {
        "R1": (1, 1, 2, n // 2 * slot, 4, "cast(scale=0.00392157) | normalize(mean=[0.5], std=[0.25])",
               8 if quick else 10),
        "R2": (1, 2, 1, 8 * (40 * 40 * 3 * 4 + 128), 3, EXPENSIVE, 0),
        # Two pipelines (cache IDs 0 and 1, one per randomizer); "without" keeps rebalancing on and turns
        # monitor.role_randomizers off, so the randomizer's move is the only difference.
        "R3": (2, 1, 1, 2 * 8 * (40 * 40 * 3 * 4 + 128), 3, EXPENSIVE, 0),
    }


def _run(s, case, params, base, on):
    """One job of `case`, with the move (on) or without: its last epoch's row, its moves, every epoch's row."""
    randomizers, servers, transformers, cache, epochs, prepare, step = params
    name = f"rebalance_{case}_{'on' if on else 'off'}"
    monitor = (f"rebalance = true\nrole_randomizers = {'true' if on else 'false'}" if case == "R3"
               else f"rebalance = {'true' if on else 'false'}")
    extra = (f'randomizers = {randomizers}\ncache_servers = {servers}\ntransformers = {transformers}\n'
             f'cache_policy = "static"\n[monitor]\n{monitor}\nwindow_ms = 100')
    pipes = [dict(base, name=case, epochs=epochs, prepare={"image": prepare})]
    if randomizers == 2:
        pipes.append(dict(base, name=case + "_b", seed=2, cache_id=1, epochs=epochs, prepare={"image": prepare}))
    cfg = s.config(name, pipes, cache, extra_runtime=extra)
    stats = s.fresh(name + ".stats.jsonl")
    lines = s.ferry_run(name, cfg, s.consumers, step_ms=step, service=randomizers + servers + transformers)
    # R3: the rows of the pipeline that moves with its randomizer (the other is alike).
    shown = case + "_b" if randomizers == 2 else case
    rows = {x["epoch"]: x for x in s.read_jsonl(stats)
            if x.get("kind") == "epoch" and x.get("pipeline") == shown}
    moves = [x for x in s.read_jsonl(stats) if x.get("kind") == "rebalance" and x.get("move")]
    s.raw_lines[name + ".stats"] = list(rows.values()) + moves
    return dict(last=rows.get(epochs - 1), moves=moves, rows=rows, ok=bool(lines))


def _record(s, case, epochs, off, on):
    """The rows of one case: its moves, and its last epoch with the move against without."""
    moved = "; ".join(f"epoch {m['epoch']}: rank {m['move']['rank']} {m['move']['from']} -> "
                      f"{m['move']['to']}" for m in on["moves"]) or "no move"
    s.record("rebalance", case, "moves", len(on["moves"]), "moves", note=moved)
    e = epochs - 1
    with_, without = on["last"], off["last"]
    if case == "R1":
        s.record("rebalance", case, f"epoch {e} hit rate, with vs without", with_["hit_rate"], "",
                 without["hit_rate"], "without rebalancing", note=moved)
        s.record("rebalance", case, f"epoch {e} HDF5 MiB read, with vs without", with_["hdf5_bytes"] / MiB, "MiB",
                 without["hdf5_bytes"] / MiB, "without rebalancing", higher_is_better=False, note=moved)
    else:
        s.record("rebalance", case, f"epoch {e} consumer wait, with vs without", with_["wait_seconds"], "s",
                 without["wait_seconds"], "without rebalancing", higher_is_better=False, note=moved)
    s.record("rebalance", case, f"epoch {e} samples/s, with vs without", with_["samples"] / with_["seconds"],
             "samples/s", without["samples"] / without["seconds"], "without rebalancing", note=moved)


def bench_rebalance(s):
    """R1, R2 and R3 of docs/heterogeneous.md, each against the same job without the move, in this run."""
    s.log("9. role rebalancing: R1 (cache too small, transformers idle), R2 (expensive prepare, consumers "
          "wait), R3 (the same with two randomizers and one cache server)")
    n = 1024 if s.quick else 4096
    path = os.path.join(s.data, f"rebalance_{n}.h5")
    if not os.path.exists(path):
        gen_image(s, path, n, 32, "--seed", "5", log="gen_rebalance")
    base = dict(files=path, fields={"image": "/images", "label": "/labels"}, batch=16)
    curves = {}
    for case, params in _cases(n, s.quick).items():
        off, on = (_run(s, case, params, base, move) for move in (False, True))
        if not (off["last"] and on["last"]):
            s.record("rebalance", case, "run failed", None, "")
            continue
        _record(s, case, params[4], off, on)
        for label, fig in ((f"{case} with", on), (f"{case} without", off)):
            curves[label] = {k: v["samples"] / v["seconds"] for k, v in sorted(fig["rows"].items())
                             if v["seconds"] > 0}
    plot_lines(s.out, "rebalance.png", "Role rebalancing: samples/s per epoch, with and without", "epoch",
               "samples/s", curves)
    s.ratio_lines("rebalance")
