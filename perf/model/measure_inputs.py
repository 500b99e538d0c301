"""Measures the model's inputs on this machine and writes them as JSON (perf/model/README.md).

    /usr/bin/python3 perf/model/measure_inputs.py --build build --out perf/model/inputs/here.json [--work DIR]

0. First: `first_touch_ratio` (micro_inputs.py), a first write pass over populated memory over a second; above
   5 (a shadow-paged VM) it says on stderr that the model will not hold here.
1. Control messages per transport: UCX `ucx_perftest -t ucp_am_lat` (64 B) and `ucp_am_bw` (64 KiB); MPI a
   mpi4py ping-pong and stream (mpi_pingpong.py).
2. One-sided gets: `ferry_bench get` (src/transport, 16 in flight, streaming through a pool) for both
   backends; per-get time fitted as latency + bytes / bandwidth. memcpy per byte (`ferry_bench memcpy`).
3. Per-role CPU costs of the real system: `ferry_bench run` of each calibration config with 2 and with 6
   epochs; the difference of each role's process CPU over 4 epochs is one epoch's CPU, so start-up drops out
   (waits included: a rank receives and copies inside them). Cold configs (no cache server: every
   epoch misses) give the transformer's HDF5 cost per call and per
   byte, per-sample cost and prepare (`cast`) cost per byte; warm configs (the cache holds the set) give a
   consumer's cost per hit; both give the randomizer's cost per batch, per sample and per miss list.
   Entries under 64 KiB travel in messages, larger ones through the send pool: the transformer's cost per
   byte sent in messages and the consumer's per byte on each path are fitted apart (cost_fit.py).
   Non-negative least squares over the configs (the output keeps every raw figure under "calibration").
   In the cold runs the transformer's busy CPU over its busy wall time, against the spinner probe's share
   measured around the run (runs.core_share), gives `share_factor` (what a busy Ferry rank gets beyond a
   spinner's share on a shared machine).
4. Cache inserts: one cold epoch with a cache server that admits every sample against one whose slab takes
   almost none (1 MiB); the difference of the transformer's and the cache server's role-loop CPU (set-up
   left out) over the inserted bytes is each one's insert cost per byte.
5. Oversubscription: warm and cold runs of 5 to 48 ranks of 64x64 images, and cold ones of 16x16 and 32x32
   (3 KB and 12 KB entries: more batches per byte); the whole job's CPU per epoch against what the base costs
   charge grows with the ranks per core, fitted as a factor 1 + k x (ranks per core - 2) on the CPU
   (`oversub_per_rank_per_core`; model_time.oversubscription); `cost_fit.py --wake` fits a cost per message
   received beside it, w x (ranks per core - 2) (`oversub_per_wake_s`, model_time.wake_loads). `--only widths` measures these alone
   (`--width-sides`) into an existing inputs file and refits it (its other rows as they are).
6. Hop delay: all-hit epochs of small samples at 4 to 64 ranks (hop_calibration.py); per run the delay per
   message with which the model's latency bound matches it (`hop_delay_s`; latency.py). `--only hops`
   measures this alone and adds it to an existing inputs file (the other costs as they are).
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cost_fit  # noqa: E402
import hop_calibration  # noqa: E402
from micro_inputs import first_touch_ratio, memcpy, transports, wires  # noqa: E402
# CALIBRATION: also measure_inputs.CALIBRATION, as tests/perf/model_test.py reads it
from role_calibration import CALIBRATION, calibrate, insert_cost, role_work  # noqa: E402,F401
from runs import Runner, entry_bytes, slab_holding  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
HOW = __doc__.split("\n\n", 2)[2].strip()  # what the inputs file says of how it was measured
# Widths for the oversubscription cost (consumers, transformers, cache servers; + 1 randomizer): 6, 12, 24 and
# 48 ranks with a cache, 5, 10, 21 and 44 without (the last since 2026-12-06r: 22-24 ranks a core, toward the
# 64-rank point's 32). The validation points have other widths (validate.py).
WIDTHS = [(3, 1, 1), (6, 3, 2), (14, 6, 3), (30, 13, 4)]
WIDTH_SAMPLES = cost_fit.WIDTH_SAMPLES  # a multiple of 16 x 3, 6, 14 and 30 consumers
WIDTH_MULTIPLE = 3360  # 16 x lcm(3, 6, 14, 30): every width delivers every sample
# Image sides of the width runs: 64 warm and cold, the smaller ones cold (their messages carry 12 KB and 3 KB
# entries, so the per-message cost and the factor on CPU come apart in the fit).
WIDTH_SIDES = (64, 32, 16)


def width_runs(runner, costs, sides=WIDTH_SIDES, samples=WIDTH_SAMPLES):
    """Whole-job CPU per epoch at several widths against what the base costs (3-4 ranks) charge: its growth
    with ranks per core is the oversubscription cost (cost_fit.oversub_fit: a factor on CPU and a cost per
    message received). 64x64 images warm (every epoch after the first all hits) and cold (no cache server);
    the other sides cold. The 6-epoch minus 2-epoch difference over 4, as in calibrate()."""
    rows = []
    for side in sides:
        path, raw = runner.dataset(samples, side)
        for c, t, s in WIDTHS:
            for cold in ((False, True) if side == cost_fit.WIDTH_SIDE else (True,)):
                rows.append(width_row(runner, path, raw, side, samples, (c, t, 0 if cold else s), cold))
    k, w = cost_fit.oversub_fit(rows, costs, wake=False)  # the default of cost_fit.derive
    for r in rows:
        print(f"width {r['side']}x{r['side']} {r['ranks']} ranks ({r['consumers']}/{r['transformers']}/"
              f"{r['servers']}): {r['cpu_per_epoch']:.3f} CPU s an epoch, base costs {r['model_cpu_per_epoch']:.3f} "
              f"(x{r['ratio']:.2f}, core share {r['load']['share']:.2f})", file=sys.stderr)
    return (k, w), rows


def width_row(runner, path, raw, side, samples, width, cold):
    """One width run: the job's CPU per epoch (6-epoch minus 2-epoch run over 4) and what was run."""
    import ferry_model as fm
    c, t, servers = width
    layout = fm.Layout(consumers=c, transformers=t, cache_servers=servers, cores_per_node=os.cpu_count())
    cpu, shares = {}, []
    for epochs in (2, 6):
        name = f"width_{side}_{c}_{t}_{servers}_{epochs}"
        cache = slab_holding(-(-samples // max(servers, 1)), raw * 4 - 12)  # f32 image + label
        toml = runner.config(name, path, epochs=epochs, batch=16, servers=servers, transformers=t,
                             cache_bytes=cache, cast=True)
        lines, epoch_lines, _, load = runner.run(toml, layout.ranks)
        cpu[epochs] = sum(role_work(lines).values())
        seconds = [epoch_lines[e]["seconds"] for e in sorted(epoch_lines)]
        entry = entry_bytes(lines)
        shares.append(load["share"])
    return dict(side=side, samples=samples, consumers=c, transformers=t, servers=servers, cold=cold,
                ranks=layout.ranks, ranks_per_core=layout.ranks / os.cpu_count(), entry=entry,
                cpu_per_epoch=(cpu[6] - cpu[2]) / 4, load=dict(load, share_min=min(shares)), epoch_seconds=seconds,
                measured=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))


def add_widths(runner, path, sides, samples=WIDTH_SAMPLES):
    """--only widths: width runs of `sides` now, replacing the inputs file's rows of those sides (the others
    kept), and every cost refitted from the stored rows (cost_fit.derive)."""
    doc = read_inputs(path)
    rows = [r for r in doc["width_calibration"] if r.get("side", cost_fit.WIDTH_SIDE) not in sides]
    _, new = width_runs(runner, cost_fit.derive(doc), sides, samples)
    doc["width_calibration"] = rows + new
    cost_fit.derive(doc)
    doc["widths_measured"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    write_inputs(doc, path)
    return 0


def read_inputs(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit(f"measure_inputs: --only needs an existing --out file: {path}: {e}")


def write_inputs(doc, path):
    doc["how"] = HOW
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
    print(json.dumps({k: v for k, v in doc["costs"].items() if k != "hop_delay_s"}, indent=1))


def add_hops(runner, path):
    """--only hops: the hop delay measured now, added to the inputs file at `path` (its other costs kept)."""
    doc = read_inputs(path)
    rows = hop_calibration.measure(runner)
    doc["costs"]["hop_delay_s"] = hop_calibration.table(rows, doc["costs"], wires(doc["transport"]))
    doc["hop_calibration"] = rows
    doc["hops_measured"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    write_inputs(doc, path)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--out", default=os.path.join(HERE, "inputs", "here.json"))
    ap.add_argument("--work", default="/tmp/ferry-model-inputs")
    ap.add_argument("--only", choices=["hops", "widths"],
                    help="measure only the hop delay, or the width runs, into the existing --out file")
    ap.add_argument("--width-sides", default=",".join(map(str, WIDTH_SIDES)),
                    help="image sides of the width runs (default %(default)s)")
    ap.add_argument("--width-samples", type=int, default=WIDTH_SAMPLES,
                    help="images of the width runs, a multiple of 3360 (default %(default)s; fewer: a dry run)")
    args = ap.parse_args()
    runner = Runner(args.build, args.work)
    try:
        sides = tuple(int(x) for x in args.width_sides.split(","))
    except ValueError:
        raise SystemExit(f"measure_inputs: --width-sides wants sides like 64,32,16, not {args.width_sides!r}")
    if args.only == "hops":
        return add_hops(runner, args.out)
    if args.width_samples <= 0 or args.width_samples % WIDTH_MULTIPLE:
        raise SystemExit(f"measure_inputs: --width-samples must be a positive multiple of {WIDTH_MULTIPLE} "
                         f"(16 x 3, 6, 14 and 30 consumers), not {args.width_samples}")
    if args.only == "widths":
        return add_widths(runner, args.out, sides, args.width_samples)
    load0, touch = os.getloadavg()[0], first_touch_ratio()
    nets = transports(runner)
    mem = memcpy(runner)
    rows = calibrate(runner)
    insert, insert_raw = insert_cost(runner)
    costs = cost_fit.costs_from(rows, insert)
    (k, w), widths = width_runs(runner, costs, sides, args.width_samples)
    costs.update(oversub_per_rank_per_core=k, oversub_per_wake_s=w, oversub_base_ranks_per_core=cost_fit.OVERSUB_BASE)
    hops = hop_calibration.measure(runner)
    costs["hop_delay_s"] = hop_calibration.table(hops, costs, wires(nets))
    doc = {"measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "host": os.uname().nodename,
           "cores": os.cpu_count(), "load_average_start": load0, "load_average_end": os.getloadavg()[0],
           "how": HOW, "transport": nets, "memcpy_Bps": mem, "first_touch_ratio": touch,
           "costs": costs, "calibration": rows, "width_calibration": widths, "insert_calibration_cpu_s": insert_raw,
           "hop_calibration": hops}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
    print(json.dumps(doc["costs"], indent=1))


if __name__ == "__main__":
    main()
