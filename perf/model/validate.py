"""Validation: runs Ferry at 3 to 32 ranks here and compares every epoch with the model's prediction.

    /usr/bin/python3 perf/model/validate.py --build build --inputs perf/model/inputs/here.json \
        --out perf/results/2026-12-06-model [--points p4,p8] [--repeat 2]

Each point is a real `ferry_bench run` (mpirun, oversubscribed on this machine's cores) over a generated
image-like set (ferry-gen image, 64x64x3 u8, prepare `cast` to f32), 3 epochs: epoch 0 cold, later epochs
from the cache. The machine is shared: before and after each run runs.core_share() measures the share of a
core this session's processes get, which the model is given (Layout.core_share). A point runs `--repeat`
times and the run with the largest share (the least disturbed) is kept. Writes validation.md and validation.json.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferry_model as fm  # noqa: E402
from runs import Runner, entry_bytes  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = 7680  # a multiple of consumers x batch for every point: all samples delivered, counts exact
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
}


def slab_for(share, servers, entry):
    """cache_bytes per server holding `share` of the set (reserved entry sizes, one entry of slack)."""
    if servers == 0:
        return 0
    reserved = -(-entry // fm.SLAB_ALIGN) * fm.SLAB_ALIGN
    return int(-(-int(SAMPLES * share) // servers) * reserved)


def run_point(runner, name, repeat):
    c, t, s, side, batch, share, step, transport = POINTS[name]
    path, raw = runner.dataset(SAMPLES, side)
    entry = side * side * 3 * 4 + 4  # cast: f32 image + int32 label
    cache = slab_for(share, s, entry)
    toml = runner.config(f"val_{name}", path, epochs=3, batch=batch, servers=s, transformers=t,
                         cache_bytes=max(cache, 1 << 20) if s else 1 << 20, cast=True, transport=transport)
    best = None
    for _ in range(repeat):
        lines, epochs, _, load = runner.run(toml, 1 + s + t + c, step_ms=step)
        total = sum(e["seconds"] for e in epochs.values())
        print(f"{name}: {total:.3f} s of epochs, core share {load['share']:.2f}", file=sys.stderr)
        if best is None or load["share"] > best[0]:
            best = (load["share"], lines, epochs, load)
    _, lines, epochs, load = best
    assert entry_bytes(lines) == entry, f"{name}: entry bytes {entry_bytes(lines)} != {entry}"
    workload = fm.Workload(samples=SAMPLES, raw_bytes=raw, entry_bytes=entry, prepare_bytes=raw - 4, batch=batch,
                           epochs=3, step_s=step / 1000)
    layout = fm.Layout(consumers=c, transformers=t, cache_servers=s, cache_bytes=cache, transport=transport,
                       cores_per_node=os.cpu_count(), core_share=load["share"])
    return name, layout, workload, epochs, load


def compare(name, layout, workload, measured, load, inputs):
    rows = []
    for p in fm.predict(layout, workload, inputs["costs"], {}):
        m = measured[p.epoch]
        sps = m["samples"] / m["seconds"]
        rows.append(dict(point=name, ranks=layout.ranks, consumers=layout.consumers, transformers=layout.transformers,
                         servers=layout.cache_servers, transport=layout.transport, step_ms=workload.step_s * 1e3,
                         side=int((workload.raw_bytes - 4) / 3) ** 0.5, epoch=p.epoch, load=load,
                         sps=sps, model_sps=p.samples_per_s, err=p.samples_per_s / sps - 1,
                         hits=m["hits"], model_hits=p.hits, bytes=m["hdf5_bytes"], model_bytes=p.hdf5_bytes,
                         reads=m["hdf5_reads"], model_reads=p.hdf5_reads, wait=m["wait_seconds"],
                         model_wait=p.wait_s, bound=p.bound, busiest=p.busiest))
    return rows


def table(rows):
    out = ["| point | ranks (C/T/S) | transport | step ms | epoch | load avg / core share | measured samples/s | model samples/s "
           "| error | hits meas / model | HDF5 bytes meas / model | reads meas / model | model bound |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ok = lambda a, b: f"{a} / {b}" + ("" if a == b else " **differs**")
        out.append(f"| {r['point']} | {r['ranks']} ({r['consumers']}/{r['transformers']}/{r['servers']}) "
                   f"| {r['transport']} | {r['step_ms']:g} | {r['epoch']} | {r['load']['loadavg']:.1f} / {r['load']['share']:.2f} | {r['sps']:.0f} "
                   f"| {r['model_sps']:.0f} | {100 * r['err']:+.0f} %{'' if abs(r['err']) <= 0.15 else ' **miss**'} "
                   f"| {ok(r['hits'], r['model_hits'])} | {ok(r['bytes'], r['model_bytes'])} "
                   f"| {r['reads']} / {r['model_reads']:.0f} | {r['bound']} |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--inputs", default=os.path.join(HERE, "inputs", "here.json"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--points", default=",".join(POINTS))
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--work", default="/tmp/ferry-model-validate")
    args = ap.parse_args()
    inputs = json.load(open(args.inputs))
    runner = Runner(args.build, args.work)
    rows = []
    for name in args.points.split(","):
        rows += compare(*run_point(runner, name, args.repeat), inputs)
        print(table([r for r in rows if r["point"] == name]), file=sys.stderr)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "validation.json"), "w") as f:
        json.dump(rows, f, indent=1)
    with open(os.path.join(args.out, "validation.md"), "w") as f:
        f.write(table(rows) + "\n")
    print(table(rows))


if __name__ == "__main__":
    main()
