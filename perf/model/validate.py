"""Validation: runs Ferry at 3 to 64 ranks here and compares every epoch with the model's prediction.

    /usr/bin/python3 perf/model/validate.py --build build --inputs perf/model/inputs/here.json \
        --out perf/results/2026-12-06-model [--points p4,p8] [--repeat 2] [--from FILE]

`--from DIR/measurements.json` compares an earlier run's measurements with the model again (new inputs).

Each point is a real `ferry_bench run` (mpirun, oversubscribed on this machine's cores) over a generated
image-like set (ferry-gen image, 64x64x3 u8, prepare `cast` to f32), 5 epochs: epoch 0 cold, later epochs
from the cache. The machine is shared: before and after each run runs.core_share() measures the share of a
core this session's processes get, which the model is given (Layout.core_share; one busy rank's share,
Layout.rank_share, is that times the calibrated share_factor). A point runs `--repeat`
times and the run with the largest share (the least disturbed) is kept. Writes validation.md and validation.json.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferry_model as fm  # noqa: E402
from micro_inputs import first_touch_ratio  # noqa: E402
from runs import Runner, entry_bytes  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
EPOCHS = 5  # epoch 0 cold, 1-4 warm: compared together, so one disturbed epoch does not decide a point
SAMPLES = 61440  # a multiple of consumers x batch for every point: all samples delivered, counts exact
# name: (consumers, transformers, cache servers, side, batch, cache share of the set, step ms, transport)
POINTS = {
    "p3": (1, 1, 0, 64, 16, 0.0, 0, "ucx"),
    "p4": (1, 1, 1, 64, 16, 1.0, 0, "ucx"),
    "p8": (4, 2, 1, 64, 16, 1.0, 0, "ucx"),
    "p8-half": (4, 2, 1, 64, 16, 0.5, 0, "ucx"),
    "p8-mpi": (4, 2, 1, 64, 16, 1.0, 0, "mpi"),
    "p8-small": (4, 2, 1, 32, 16, 1.0, 0, "ucx"),
    "p16": (10, 3, 2, 64, 16, 1.0, 0, "ucx"),
    "p16-step": (10, 3, 2, 64, 16, 1.0, 20, "ucx"),
    "p32": (20, 8, 3, 64, 16, 1.0, 0, "ucx"),
    "p32-half": (20, 8, 3, 64, 16, 0.5, 0, "ucx"),
    "p64": (48, 11, 4, 64, 16, 1.0, 0, "ucx"),
}


def slab_for(share, servers, entry):
    """cache_bytes per server holding `share` of the set (reserved entry sizes, one entry of slack)."""
    if servers == 0:
        return 0
    reserved = -(-entry // fm.SLAB_ALIGN) * fm.SLAB_ALIGN
    return int(-(-int(SAMPLES * share) // servers) * reserved)


def model_for(name, share, rank_share=0.0):
    """The model's Layout and Workload of a point, given the core share measured around its run."""
    c, t, s, side, batch, cache_share, step, transport = POINTS[name]
    raw, entry = side * side * 3 + 4, side * side * 3 * 4 + 4  # u8 image + int32 label; cast: f32 image
    workload = fm.Workload(samples=SAMPLES, raw_bytes=raw, entry_bytes=entry, prepare_bytes=raw - 4, batch=batch,
                           epochs=EPOCHS, step_s=step / 1000)
    layout = fm.Layout(consumers=c, transformers=t, cache_servers=s, cache_bytes=slab_for(cache_share, s, entry),
                       transport=transport, cores_per_node=os.cpu_count(), core_share=share,
                       rank_share=rank_share)
    return layout, workload


def run_point(runner, name, repeat):
    """Runs a point `repeat` times; returns the run with the largest core share: {point, load, epochs}."""
    c, t, s, side, batch, share, step, transport = POINTS[name]
    path, _ = runner.dataset(SAMPLES, side)
    layout, workload = model_for(name, 1.0)
    toml = runner.config(f"val_{name}", path, epochs=EPOCHS, batch=batch, servers=s, transformers=t,
                         cache_bytes=max(layout.cache_bytes, 1 << 20), cast=True, transport=transport)
    best = None
    for _ in range(repeat):
        lines, epochs, _, load = runner.run(toml, layout.ranks, step_ms=step)
        total = sum(e["seconds"] for e in epochs.values())
        print(f"{name}: {total:.3f} s of epochs, core share {load['share']:.2f}", file=sys.stderr)
        if entry_bytes(lines) != workload.entry_bytes:
            raise SystemExit(f"validate: {name}: entry bytes {entry_bytes(lines)} != {workload.entry_bytes}")
        if best is None or load["share"] > best["load"]["share"]:
            best = dict(point=name, load=load, epochs={str(k): v for k, v in epochs.items()}, repeat=repeat,
                        when=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    return best


def compare(run, inputs, solver="bound"):
    """Four rows per point: the cold epoch 0, the warm epochs 1.. together, the steady epochs 2.. (epoch 1's
    hits may wait for inserts epoch 0 left pending at the cache servers, which the model charges to epoch 0),
    and all epochs together (samples over seconds, so one disturbed epoch weighs by its length; the last row
    does not depend on which epoch the trailing inserts land in). Counts are summed over the group; `exact` says whether hits and HDF5 bytes
    matched in every epoch of it."""
    name, load = run["point"], run["load"]
    layout, workload = model_for(name, min(1.0, load["share"]),
                                 min(1.0, load["share"] * inputs["costs"].get("share_factor", 1.0)))
    pred = fm.predict(layout, workload, inputs["costs"], {}, solver)
    hop_s = fm.hop_seconds(layout, inputs["costs"], {})
    rows = []
    last = len(pred) - 1
    for label, group in (("0", pred[:1]), (f"1-{last}", pred[1:]), (f"2-{last}", pred[2:]), (f"0-{last}", pred)):
        if not group:
            continue
        meas = [run["epochs"][str(p.epoch)] for p in group]
        sps = sum(m["samples"] for m in meas) / sum(m["seconds"] for m in meas)
        model_sps = sum(p.samples for p in group) / sum(p.seconds for p in group)
        single = [m["samples"] / m["seconds"] for m in meas]
        rows.append(dict(point=name, ranks=layout.ranks, consumers=layout.consumers, transformers=layout.transformers,
                         servers=layout.cache_servers, transport=layout.transport, step_ms=workload.step_s * 1e3,
                         epochs=label, load=load, sps=sps, sps_min=min(single), sps_max=max(single),
                         model_sps=model_sps, err=model_sps / sps - 1,
                         hits=sum(m["hits"] for m in meas), model_hits=sum(p.hits for p in group),
                         bytes=sum(m["hdf5_bytes"] for m in meas), model_bytes=sum(p.hdf5_bytes for p in group),
                         reads=sum(m["hdf5_reads"] for m in meas),
                         model_reads=sum(p.hdf5_reads for p in group),
                         exact=all(m["hits"] == p.hits and m["hdf5_bytes"] == p.hdf5_bytes for m, p in zip(meas, group)),
                         bound=group[-1].bound, busiest=group[-1].busiest, model_share=layout.core_share,
                         rank_share=layout.rank_share, hop_s=hop_s,
                         latency_sps=sum(p.samples for p in group) / sum(p.loads["latency"] for p in group)))
    return rows


def table(rows):
    out = ["| point | ranks (C/T/S) | transport | step ms | epochs | load avg / probe share / rank share "
           "| measured samples/s (single epochs) | model samples/s | error | hits meas / model | HDF5 bytes meas / model | counts exact "
           "per epoch | reads meas / model | model bound | hop us / latency bound samples/s |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ok = lambda a, b: f"{a} / {b}" + ("" if a == b else " **differs**")
        spread = f" ({r['sps_min']:.0f}-{r['sps_max']:.0f})" if r["sps_min"] != r["sps_max"] else ""
        out.append(f"| {r['point']} | {r['ranks']} ({r['consumers']}/{r['transformers']}/{r['servers']}) "
                   f"| {r['transport']} | {r['step_ms']:g} | {r['epochs']} "
                   f"| {r['load']['loadavg']:.1f} / {r['load']['share']:.2f} / {r.get('rank_share', r['model_share']):.2f} "
                   f"| {r['sps']:.0f}{spread} "
                   f"| {r['model_sps']:.0f} | {100 * r['err']:+.0f} %{'' if abs(r['err']) <= 0.15 else ' **miss**'} "
                   f"| {ok(r['hits'], r['model_hits'])} | {ok(r['bytes'], r['model_bytes'])} "
                   f"| {'yes' if r['exact'] else '**no**'} | {r['reads']} / {r['model_reads']:.0f} | {r['bound']} "
                   f"| {1e6 * r.get('hop_s', 0.0):.0f} / {r.get('latency_sps', 0.0):.0f} |")
    return "\n".join(out)


def summary(rows):
    """How many points the model predicts within 15 %: whole runs (the criterion), cold and warm epochs."""
    out = []
    for label, pick in (("whole runs (all epochs)", lambda r: r["epochs"].startswith("0-")),
                        ("cold epoch 0", lambda r: r["epochs"] == "0"),
                        ("warm epochs 1..", lambda r: r["epochs"].startswith("1-")),
                        ("steady epochs 2.. (epoch 1 may wait for inserts epoch 0 left pending)",
                         lambda r: r["epochs"].startswith("2-"))):
        group = [r for r in rows if pick(r)]
        if not group:
            continue
        ok = [r for r in group if abs(r["err"]) <= 0.15]
        worst = max(group, key=lambda r: abs(r["err"]))
        out.append(f"- {label}: {len(ok)} of {len(group)} within 15 % (worst {worst['point']} "
                   f"{100 * worst['err']:+.0f} %)")
    exact = all(r["exact"] for r in rows)
    out.append(f"- hits and HDF5 bytes: {'exact in every epoch of every point' if exact else '**not exact**'}")
    return "\n".join(out)


def header(args, inputs, runs):
    when = sorted(r.get("when", "?") for r in runs)
    return (f"# Model validation (runs {when[0]} to {when[-1]}, {os.uname().nodename}, {os.cpu_count()} cores)\n\n"
            f"`perf/model/validate.py`, inputs `{os.path.relpath(args.inputs)}` (measured {inputs.get('measured')}, "
            f"share_factor {inputs['costs'].get('share_factor', 1.0):.2f}; hop delay measured "
            f"{inputs.get('hops_measured', inputs.get('measured'))}; first-touch ratio "
            f"{inputs.get('first_touch_ratio', 'not measured')}), latency solver `{args.solver}`"
            + (f", measurements from `{os.path.relpath(args.measured)}`" if args.measured else "")
            + f". Each point: {EPOCHS} epochs of "
            f"{SAMPLES} generated samples, best of {runs[0].get('repeat', args.repeat)} runs by probe share; "
            "counts are compared per "
            "epoch (exact), samples/s as epoch 0, as epochs 1.. and 2.. together and as all epochs together (total "
            "samples over total seconds; the single epochs' range in parentheses). C/T/S: consumers, transformers, "
            "cache servers (and "
            "one randomizer). Load avg: the 1-minute load average after the run; probe share: "
            "runs.core_share() around the run; rank share: one busy rank's share the model was given (probe x "
            "share_factor; the node's is the probe's). Hop us: the delay per message the model used (latency.py, "
            "measured by hop_calibration.py); latency bound: the samples/s its message chains allow alone.\n\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", help="build folder with perf/ferry_bench and ferry-gen (to run the points)")
    ap.add_argument("--from", dest="measured", help="measurements.json of an earlier run: compare again, run nothing")
    ap.add_argument("--inputs", default=os.path.join(HERE, "inputs", "here.json"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--points", default=",".join(POINTS))
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--work", default="/tmp/ferry-model-validate")
    ap.add_argument("--solver", choices=["bound", "mva"], default="bound",
                    help="the latency bound: closed form (the model's) or mean-value analysis with queueing")
    args = ap.parse_args()
    inputs = json.load(open(args.inputs))
    os.makedirs(args.out, exist_ok=True)
    if args.measured:
        runs = json.load(open(args.measured))
    elif args.build:
        runner = Runner(args.build, args.work)
        first_touch_ratio()  # says on stderr when this host charges first accesses (perf/model/README.md)
        runs = []
        for name in args.points.split(","):
            runs.append(run_point(runner, name, args.repeat))
            with open(os.path.join(args.out, "measurements.json"), "w") as f:  # after every point
                json.dump(runs, f, indent=1)
    else:
        raise SystemExit("validate: give --build (run the points) or --from (compare earlier measurements)")
    rows = [row for run in runs for row in compare(run, inputs, args.solver)]
    with open(os.path.join(args.out, "validation.json"), "w") as f:
        json.dump(rows, f, indent=1)
    with open(os.path.join(args.out, "validation.md"), "w") as f:
        f.write(header(args, inputs, runs) + summary(rows) + "\n\n" + table(rows) + "\n")
    print(summary(rows) + "\n\n" + table(rows))


if __name__ == "__main__":
    main()
