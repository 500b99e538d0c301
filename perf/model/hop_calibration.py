"""The per-hop delay of the latency bound (latency.py), measured on this machine at several ranks per core.

    /usr/bin/python3 perf/model/measure_inputs.py --build build --only hops   (adds it to inputs/here.json)

Calibration runs (never the validation points): `ferry_bench run` of a small-sample set (16x16x3 u8 images,
no prepare stage: a hit costs a consumer little CPU), one transformer, one cache server holding the set, one
randomizer and 1 to 61 consumers, so 4 to 64 ranks on this machine's cores; UCX, and MPI at 4 to 16 ranks.
Epoch 0 fills the cache; epochs 2 and 3 are all hits (epoch 1 may still wait for inserts epoch 0 left pending).
A warm epoch's cycle is describe -> consumer -> credit, two hops, with almost no CPU on it, so its duration
says what a hop takes. For each run the delay per hop is solved for: the value with which the model's latency
bound (with the CPU costs measured by measure_inputs.py) equals the measured warm epoch. A run that the CPU
bound already explains waited no measurable time on its hops: its point is the wire's latency (until
2026-12-06r it was left out, and the table interpolated across it from the next higher point).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferry_model as fm  # noqa: E402

SAMPLES = 120960  # a multiple of 16 x {1, 5, 13}, drop_last trims the rest; warm epochs of 0.1 s and more
SIDE = 16
EPOCHS = 4
WARM = (2, 3)
CONSUMERS = {"ucx": (1, 5, 13, 29, 61), "mpi": (1, 5, 13)}  # + 1 transformer, 1 cache server, 1 randomizer


def model_for(consumers, transport, entry, cores, share=1.0, rank_share=0.0):
    raw = SIDE * SIDE * 3 + 4
    workload = fm.Workload(samples=SAMPLES, raw_bytes=raw, entry_bytes=entry, batch=16, epochs=EPOCHS)
    reserved = -(-entry // fm.SLAB_ALIGN) * fm.SLAB_ALIGN
    layout = fm.Layout(consumers=consumers, transformers=1, cache_servers=1, cache_bytes=(SAMPLES + 1) * reserved,
                       transport=transport, cores_per_node=cores, core_share=share, rank_share=rank_share)
    return layout, workload


def measure(runner):
    """Raw rows: one run per (transport, consumers), its warm epochs' seconds and the probe's share."""
    from runs import entry_bytes
    path, _ = runner.dataset(SAMPLES, SIDE)
    rows = []
    for transport, widths in CONSUMERS.items():
        for c in widths:
            layout, _ = model_for(c, transport, SIDE * SIDE * 3 + 4, os.cpu_count())
            toml = runner.config(f"hop_{transport}_{c}", path, epochs=EPOCHS, batch=16, servers=1, transformers=1,
                                 cache_bytes=layout.cache_bytes, cast=False, transport=transport)
            lines, epochs, _, load = runner.run(toml, layout.ranks, sched=True)
            warm = [epochs[e] for e in WARM]
            sched = runner.last_sched.window(*warm_window(lines))
            rows.append(dict(transport=transport, consumers=c, ranks=layout.ranks, cores=os.cpu_count(),
                             ranks_per_core=layout.ranks / os.cpu_count(), entry=entry_bytes(lines),
                             samples=sum(e["samples"] for e in warm), hits=sum(e["hits"] for e in warm),
                             seconds=sum(e["seconds"] for e in warm), cold_seconds=epochs[0]["seconds"], load=load,
                             sched=sched, wait_per_wakeup_s=sched["waiting_s"] / max(1, sched["slices"])))
            r = rows[-1]
            print(f"hops {transport} {layout.ranks} ranks: warm {r['samples'] / r['seconds']:.0f} samples/s, "
                  f"{1e6 * r['wait_per_wakeup_s']:.0f} us run-queue wait per wake-up, "
                  f"{r['sched']['on_cpu_s'] / max(1e-9, r['sched']['seconds']):.2f} cores busy "
                  f"(share {load['share']:.2f})", file=sys.stderr)
    return rows


def warm_window(lines):
    """Steady-clock [start, end] of the WARM epochs: first consumer start to last consumer end."""
    starts, ends = [], []
    for line in lines:
        if line.get("role") == "consumer" and "pipelines" in line:
            ep = {e["epoch"]: e for e in line["pipelines"][0]["epochs"]}
            starts.append(ep[WARM[0]]["end_s"] - ep[WARM[0]]["seconds"])
            ends.append(ep[WARM[-1]]["end_s"])
    return min(starts), max(ends)


def warm_seconds(row, costs, delay):
    """The model's warm epoch (mean of the WARM ones) for a calibration row with a per-hop delay of `delay`:
    the longest of its CPU bound and its latency bound."""
    share = min(1.0, row["load"]["share"])
    layout, workload = model_for(row["consumers"], row["transport"], row["entry"], row["cores"], share,
                                 min(1.0, share * costs.get("share_factor", 1.0)))
    table = {"wire_s": delay, "table": [[1e9, delay]]}  # the same delay at every ranks per core
    trial = dict(costs, hop_delay_s={row["transport"]: table})
    return fm.predict(layout, workload, trial, {})[WARM[0]], layout


def solve(row, costs, wire_s):
    """The per-hop delay with which the model's warm epoch lasts what was measured; None when the CPU bound
    alone is as long (its hops took no measurable time beyond the wire: table() puts the wire there)."""
    measured = row["seconds"] / len(WARM)
    epoch, _ = warm_seconds(row, costs, wire_s)
    if epoch.seconds >= measured:
        return None
    lo, hi = wire_s, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if warm_seconds(row, costs, mid)[0].seconds < measured:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def table(rows, costs, wires):
    """costs["hop_delay_s"]: per transport the wire latency and [[ranks per core, seconds per hop], ...]."""
    out = {}
    for transport, wire in wires.items():
        points = []
        for row in rows:
            if row["transport"] != transport:
                continue
            row["hop_s"] = solve(row, costs, wire)
            # A run the CPU bound explains waited no measurable time on its hops: the wire's delay there
            # (left out, the table would interpolate from a higher point down to one rank per core).
            points.append([row["ranks_per_core"], wire if row["hop_s"] is None else row["hop_s"]])
        out[transport] = {"wire_s": wire, "table": sorted(points), "monotone": transport != "mpi",
                          "how": "hop_calibration.py: all-hit epochs of 16x16 images, 1 transformer, 1 cache "
                                 "server, 1 randomizer, 1-61 consumers; per run the per-hop delay with which "
                                 "the latency bound equals the measured epoch"}
    return out
