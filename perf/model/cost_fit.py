"""The model's costs derived from the calibration runs' raw figures (measure_inputs.py runs them; this fits).

    /usr/bin/python3 perf/model/cost_fit.py --inputs IN.json --out OUT.json    # refit stored runs, run nothing

Every cost is fitted on calibration runs only (never on validation points). Per delivery path
(ferry_model.delivery): entries under 64 KiB reach their consumer and cache server in messages (UCX active
messages: the transformer writes the entry into the message and Fabric::send copies it; the receiver takes
the rendezvous in fragments, each a wake-up), entries of 64 KiB and more through the transformer's send pool
(prepared into the slot, read by the consumer's one-sided gets). So the transformer pays `message_per_byte_s`
per byte it sends in messages and nothing per byte beyond its prepare stage on the pool path; a consumer pays
`miss_message_per_byte_s` or `miss_pool_per_byte_s` per byte of its misses. Until 2026-12-06q one cost per
byte was fitted across both paths, and the one pool row (96x96) pulled the message path's cost down by half.
`--inputs` refits an inputs file's stored rows with the current rules (the hop table included: its delays are
solved with these costs), keeping every raw figure.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferry_model as fm  # noqa: E402
import hop_calibration  # noqa: E402
from micro_inputs import wires  # noqa: E402

OVERSUB_BASE = 2.0  # ranks per core of the base calibration (4 ranks, 2 cores), where the factor is 1
WIDTH_SIDE = 64
WIDTH_SAMPLES = 53760  # a multiple of 16 x 3, 6, 14 and 30 consumers


def nonnegative_fit(a, y):
    """Least squares with every coefficient >= 0 (a cost): columns whose coefficient comes out negative are
    left out (0) and the rest refitted, until none is."""
    a, y = np.asarray(a, float), np.asarray(y, float)
    keep = list(range(a.shape[1]))
    coef = np.zeros(a.shape[1])
    while keep:
        sol = np.linalg.lstsq(a[:, keep], y, rcond=None)[0]
        if (sol >= 0).all():
            coef[keep] = sol
            break
        keep = [k for k, c in zip(keep, sol) if c >= 0] if (sol >= 0).any() else []
    return [float(c) for c in coef]


def fit(rows, role, columns):
    """A role's per-epoch CPU on the given columns (functions of a row), each cost >= 0."""
    return nonnegative_fit([[f(r) for f in columns] for r in rows], [r["cpu"][role] for r in rows])


def path_bytes(row, path):
    """Entry bytes of a row's samples that travel by `path` (ferry_model.delivery)."""
    return row["samples"] * row["entry"] if fm.delivery(row["entry"]) == path else 0


def costs_from(rows, insert_per_byte):
    """Per-event costs from the calibration rows (role_calibration.calibrate) and the insert cost per byte."""
    cold = [r for r in rows if r["cold"]]
    warm = [r for r in rows if not r["cold"]]
    prep = lambda r: (r["raw"] - 4) if r["cast"] else 0  # bytes cast touches: the image field
    call, per_sample, per_byte, prep_byte, message = fit(cold, "transformer", [
        lambda r: r["batches"] * 2, lambda r: r["samples"], lambda r: r["samples"] * r["raw"],
        lambda r: r["samples"] * prep(r), lambda r: path_bytes(r, "message")])
    miss_s, miss_m, miss_p = fit(cold, "consumer", [lambda r: r["samples"], lambda r: path_bytes(r, "message"),
                                                    lambda r: path_bytes(r, "pool")])
    hit_s, hit_b = fit(warm, "consumer", [lambda r: r["samples"], lambda r: r["samples"] * r["entry"]])
    rb, rs, rl = fit(rows, "randomizer", [lambda r: r["batches"], lambda r: r["samples"],
                                          lambda r: r["batches"] if r["cold"] else 0])
    return {
        "transformer": {"hdf5_per_call_s": call, "hdf5_per_byte_s": per_byte, "per_sample_s": per_sample,
                        "prepare_per_byte_s": prep_byte, "message_per_byte_s": message,
                        "insert_per_byte_s": insert_per_byte["transformer"]},
        "consumer": {"hit_per_sample_s": hit_s, "hit_per_byte_s": hit_b, "miss_per_sample_s": miss_s,
                     "miss_message_per_byte_s": miss_m, "miss_pool_per_byte_s": miss_p},
        "randomizer": {"per_batch_s": rb, "per_sample_s": rs, "per_list_s": rl},
        "cache_server": {"copy_per_byte_s": insert_per_byte["cache_server"]},
        "epoch_fixed_s": 0.0,
        "share_factor": share_factor(rows),
    }


def share_factor(rows):
    """Busy Ferry rank's share over the spinner probe's (runs.core_share), median of the cold runs.

    The probe's spinners never sleep; Ferry's ranks block and wake, and the scheduler gives waking tasks
    more than a spinner's share. validate.py gives the model min(1, probe x factor)."""
    ratios = sorted(r["busy_share"]["transformer"] / r["busy_share"]["probe"] for r in rows if r["busy_share"])
    return ratios[len(ratios) // 2] if ratios else 1.0


def insert_per_byte(busy, entry, samples, slab_none=1 << 20):
    """Per inserted byte: the transformer's and the cache server's extra role-loop CPU in an epoch inserting
    every sample (`busy["all"]`) against one inserting only what a `slab_none` slab holds."""
    inserted = (samples - slab_none // (-(-entry // 64) * 64)) * entry
    return {role: max(0.0, (busy["all"][role] - busy["none"][role]) / inserted)
            for role in ("transformer", "cache_server")}


def width_cpu(row, costs):
    """What `costs` charge one epoch of a width run, every rank together (before the factor on CPU)."""
    c, t, s = row["consumers"], row["transformers"], row["servers"]
    side = row.get("side", WIDTH_SIDE)
    raw = side * side * 3 + 4
    work = fm.Workload(samples=row.get("samples", WIDTH_SAMPLES), raw_bytes=raw,
                       entry_bytes=row.get("entry", raw * 4 - 12), prepare_bytes=raw - 4, batch=16)
    layout = fm.Layout(consumers=c, transformers=t, cache_servers=s,
                       cores_per_node=row["ranks"] / row["ranks_per_core"])
    n_used = fm.used_samples(layout, work)
    hits, misses = (0, n_used) if row["cold"] else (n_used, 0)
    loads, _ = fm.epoch_loads(layout, work, costs, {}, hits, misses, 0, n_used)
    count = {"consumer": c, "transformer": t, "cache_server": s, "randomizer": 1}
    return sum(loads[r] * k for r, k in count.items())


def width_model_cpu(row, costs):
    """(base, per_wake): the base costs' charge of a width run (no oversubscription) and the seconds it gains
    per second of `oversub_per_wake_s` (messages received x (ranks per core - base))."""
    probe = 1e-6
    base = width_cpu(row, dict(costs, oversub_per_wake_s=0.0, oversub_base_ranks_per_core=OVERSUB_BASE))
    woken = width_cpu(row, dict(costs, oversub_per_wake_s=probe, oversub_base_ranks_per_core=OVERSUB_BASE))
    return base, (woken - base) / probe


def oversub_fit(width_rows, costs, wake=True):
    """(k, w): the width runs' whole-job CPU per epoch as (1 + k x) (base + w x messages), x = ranks per
    core - base (model_time.oversubscription, wake_loads), k and w >= 0, least squares on each row's ratio
    of its CPU to the base costs' charge (each row weighs alike); a grid over k, w solved for each. Fills each row's base charge,
    ratio and fitted figure. `wake` False: the factor alone (w = 0, k in closed form), as until 2026-12-06r
    and still the default of derive(): the 2026-12-06r window's rows did not support the cost per message
    (perf/results/2026-12-06r-model/README.md)."""
    x, base, per_wake, y = [], [], [], []
    for row in width_rows:
        b, m = width_model_cpu(row, costs)
        row["model_cpu_per_epoch"], row["ratio"] = b, row["cpu_per_epoch"] / b
        x.append(max(0.0, row["ranks_per_core"] - OVERSUB_BASE))
        base.append(b), per_wake.append(m), y.append(row["cpu_per_epoch"])
    x, base, per_wake, y = map(np.array, (x, base, per_wake, y))
    best = (np.inf, max(0.0, float(x @ (y / base - 1) / (x @ x))) if x @ x > 0 else 0.0, 0.0)  # w = 0
    for k in np.linspace(0.0, 0.5, 2001) if wake else ():
        f = 1 + k * x
        a, r = f * per_wake / base, (y - f * base) / base  # on the ratio to the base; per_wake 0 where x is 0
        w = max(0.0, float(a @ r / (a @ a))) if a @ a > 0 else 0.0
        err = float(((r - w * a) ** 2).sum())
        best = min(best, (err, float(k), w))
    _, k, w = best
    for row, f, b, m in zip(width_rows, 1 + k * x, base, per_wake):
        row["fitted_cpu_per_epoch"] = float(f * (b + w * m))
    return k, w


def derive(doc, wake=False):
    """Every derived cost of an inputs document from its raw rows (in place; returns doc["costs"]); `wake`:
    fit the cost per message received beside the factor (oversub_fit)."""
    rows = doc["calibration"]
    entry = next(r["entry"] for r in rows if r["side"] == 64 and r["cast"])
    costs = costs_from(rows, insert_per_byte(doc["insert_calibration_cpu_s"], entry, rows[0]["samples"]))
    k, w = oversub_fit(doc["width_calibration"], costs, wake)
    costs.update(oversub_per_rank_per_core=k, oversub_per_wake_s=w, oversub_base_ranks_per_core=OVERSUB_BASE)
    if doc.get("hop_calibration"):
        costs["hop_delay_s"] = hop_calibration.table(doc["hop_calibration"], costs, wires(doc["transport"]))
    doc["costs"] = costs
    return costs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", required=True, help="an inputs file written by measure_inputs.py")
    ap.add_argument("--out", required=True)
    ap.add_argument("--wake", action="store_true",
                    help="fit the cost per message received (oversub_per_wake_s) beside the factor on CPU")
    args = ap.parse_args()
    try:
        doc = json.load(open(args.inputs))
    except (OSError, ValueError) as e:
        raise SystemExit(f"cost_fit: cannot read --inputs {args.inputs}: {e}")
    for key in ("calibration", "insert_calibration_cpu_s", "width_calibration", "transport"):
        if key not in doc:
            raise SystemExit(f"cost_fit: {args.inputs} has no '{key}' (not written by measure_inputs.py)")
    derive(doc, args.wake)
    doc["refitted"] = "cost_fit.py (rules of 2026-12-06q) from the stored rows of " + doc.get("measured", "?")
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
    print(json.dumps({k: v for k, v in doc["costs"].items() if k != "hop_delay_s"}, indent=1))


if __name__ == "__main__":
    main()
