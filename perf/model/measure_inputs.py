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
from runs import Runner, entry_bytes, role_cpu_after_setup, slab_holding  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
HOW = __doc__.split("\n\n", 2)[2].strip()  # what the inputs file says of how it was measured
SAMPLES = 32768  # warm epochs last long enough (~0.1-0.3 s) that set-up noise does not swamp them
# (side, batch, cast, cold): cold = no cache server, every epoch reads and prepares every sample.
CALIBRATION = [(32, 16, True, True), (64, 16, True, True), (96, 16, True, True), (32, 64, True, True),
               (64, 16, False, True), (32, 16, True, False), (64, 16, True, False), (64, 64, False, False)]
# Widths for the oversubscription cost (consumers, transformers, cache servers; + 1 randomizer): 6, 12, 24 and
# 48 ranks with a cache, 5, 10, 21 and 44 without (the last since 2026-12-06r: 22-24 ranks a core, toward the
# 64-rank point's 32). The validation points have other widths (validate.py).
WIDTHS = [(3, 1, 1), (6, 3, 2), (14, 6, 3), (30, 13, 4)]
WIDTH_SAMPLES = cost_fit.WIDTH_SAMPLES  # a multiple of 16 x 3, 6, 14 and 30 consumers
WIDTH_MULTIPLE = 3360  # 16 x lcm(3, 6, 14, 30): every width delivers every sample
# Image sides of the width runs: 64 warm and cold, the smaller ones cold (their messages carry 12 KB and 3 KB
# entries, so the per-message cost and the factor on CPU come apart in the fit).
WIDTH_SIDES = (64, 32, 16)


def calibrate(runner):
    """Per-epoch CPU seconds per role for every calibration config (6-epoch run minus 2-epoch run, / 4)."""
    rows = []
    for side, batch, cast, cold in CALIBRATION:
        path, raw = runner.dataset(SAMPLES, side)
        cpu, busy_share = {}, None
        for epochs in (2, 6):
            name = f"calib_{side}_{batch}_{int(cast)}_{int(cold)}_{epochs}"
            toml = runner.config(name, path, epochs=epochs, batch=batch, servers=0 if cold else 1, transformers=1,
                                 cache_bytes=slab_holding(SAMPLES, side * side * 3 * (4 if cast else 1) + 4),
                                 cast=cast)
            lines, epoch_lines, _, load = runner.run(toml, 3 if cold else 4)
            cpu[epochs] = role_work(lines)
            seconds = [epoch_lines[e]["seconds"] for e in sorted(epoch_lines)]
            if epochs == 6 and cold:
                busy_share = dict(transformer=transformer_share(lines), probe=load["share"])
        per = {k: (cpu[6][k] - cpu[2][k]) / 4 for k in cpu[6]}
        rows.append(dict(side=side, batch=batch, cast=cast, cold=cold, raw=raw, entry=entry_bytes(lines),
                         samples=SAMPLES, batches=SAMPLES // batch, load=load, cpu=per, busy_share=busy_share,
                         epoch_seconds=seconds))
        print(f"calib side={side} batch={batch} cast={cast} cold={cold}: {per} "
              f"(core share {load['share']:.2f})", file=sys.stderr)
    return rows


def role_work(lines):
    """CPU seconds per role after set-up, waits included (a rank receives and copies inside its waits: the
    cache server's slab copies, UCX's rendezvous reads). Set-up is left out (mapping and faulting in the slabs
    costs a consumer more CPU than a warm epoch); the 6-epoch minus 2-epoch difference takes out the end."""
    return role_cpu_after_setup(lines)


def loop_cpu(lines):
    """Service ranks' CPU in their role loop, waits included (ServeReport cpu), by role: set-up (the slab's
    fault-in) is left out, which the process CPU would count."""
    out = {}
    for line in lines:
        if line.get("kind") == "rank" and "cpu_s" in line:
            out[line["role"]] = out.get(line["role"], 0.0) + line["cpu_s"]
    return out


def insert_cost(runner):
    """Per inserted byte: the transformer's extra CPU (its second send) and the cache server's (receiving and
    copying into the slab), one epoch inserting every sample against one inserting ~none (least of 3 each)."""
    path, _ = runner.dataset(SAMPLES, 64)
    busy, entry = {}, None
    for name, cache in (("all", slab_holding(SAMPLES, 64 * 64 * 3 * 4 + 4)), ("none", 1 << 20)):
        for _ in range(3):  # CPU seconds, least of 3: a loaded machine only ever adds
            toml = runner.config(f"insert_{name}", path, epochs=1, batch=16, servers=1, transformers=1,
                                 cache_bytes=cache, cast=True)
            lines, _, _, _ = runner.run(toml, 4)
            b = loop_cpu(lines)
            busy[name] = b if name not in busy else {k: min(v, busy[name][k]) for k, v in b.items()}
        entry = entry_bytes(lines)
    per_byte = cost_fit.insert_per_byte(busy, entry, SAMPLES)
    print(f"insert: {busy} -> {per_byte} s/B", file=sys.stderr)
    return per_byte, busy


def transformer_share(lines):
    """CPU over wall of the (single) transformer while busy: the share of a core a busy Ferry rank got."""
    t = next(line for line in lines if line.get("role") == "transformer")
    return (t["cpu_s"] - t["idle_cpu_s"]) / max(1e-9, t["wall_s"] - t["idle_wall_s"])


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
