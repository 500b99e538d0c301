"""The model's directory shards against their A/B measurement (perf/results/2026-12-06-shards): runs nothing.

    /usr/bin/python3 perf/model/shards_ab.py [--inputs perf/model/inputs/here.json] [--json]

perf/directory_shards_ab.sh ran one job (131,072 generated 8x8 images, cast | hwc_to_chw: 196 raw bytes and
772-byte entries, batch 256, 3 epochs of which epoch 0 reads HDF5, a cache server, a transformer, 2
consumers) with 1 randomizer and with D = 2 and 4 directory shards, and measured the busiest randomizer's CPU
per delivered sample over one randomizer's. The model charges a shard every batch's per-batch cost and its
key range's per-sample cost (the split of the calibration rows, cost_fit.py); this prints the ratio it
predicts for that job (with the oversubscription factor of D + 4 ranks on 2 cores) beside the measured one,
and the share u of the per-sample cost that no shard divides (ferry_model: costs["randomizer"]
["unsharded_share"]) with which the model would give the measured ratio: the input of predict.py's
sensitivity run (--unsharded-share). Nothing here is fitted on a validation point.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferry_model as fm  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = 131072
# perf/results/2026-12-06-shards/README.md: busiest randomizer CPU per sample, D over 1, per round.
MEASURED = {2: (0.59, 0.57), 4: (0.43, 0.40)}


def ab_job():
    return fm.Workload(samples=SAMPLES, raw_bytes=196, entry_bytes=772, prepare_bytes=192, batch=256, epochs=3)


def randomizer_cpu(costs, shards):
    """The busiest randomizer's CPU over the A/B job's 3 epochs (oversubscription factor included)."""
    work = ab_job()
    layout = fm.Layout(consumers=2, transformers=1, cache_servers=1, randomizers=shards,
                       cache_bytes=SAMPLES * 2048, cores_per_node=2)
    n_used, per_epoch = fm.counts(layout, work)
    total = sum(fm.epoch_loads(layout, work, costs, {}, h, m, a, n_used)[0]["randomizer"] for h, m, a in per_epoch)
    return total * fm.oversubscription(layout, costs)


def with_share(costs, u):
    return dict(costs, randomizer=dict(costs["randomizer"], unsharded_share=u))


def check(costs):
    """Per D: the model's ratio (u = 0), the measured one (mean of the rounds), and the u that matches it
    (the ratio is linear in u)."""
    one = randomizer_cpu(costs, 1)
    rows = []
    for d, rounds in MEASURED.items():
        measured = sum(rounds) / len(rounds)
        at0, at1 = (randomizer_cpu(with_share(costs, u), d) / one for u in (0.0, 1.0))
        rows.append(dict(shards=d, model=at0, measured=measured, unsharded_share=(measured - at0) / (at1 - at0)))
    shares = [r["unsharded_share"] for r in rows]
    return dict(rows=rows, model_us_per_sample=1e6 * one / (3 * SAMPLES),
                unsharded_share=sum(shares) / len(shares))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", default=os.path.join(HERE, "inputs", "here.json"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    try:
        costs = json.load(open(args.inputs))["costs"]
    except (OSError, ValueError, KeyError) as e:
        raise SystemExit(f"shards_ab: cannot read costs from --inputs {args.inputs}: {e!r}")
    out = check(costs)
    if args.json:
        print(json.dumps(out, indent=1))
        return
    print(f"one randomizer, model: {out['model_us_per_sample']:.3f} us per sample delivered")
    print("| shards | busiest randomizer CPU / sample, D over 1: model | measured | u that matches |")
    print("|---|---|---|---|")
    for r in out["rows"]:
        print(f"| {r['shards']} | {r['model']:.3f} | {r['measured']:.3f} | {r['unsharded_share']:.3f} |")
    print(f"mean u: {out['unsharded_share']:.3f}")


if __name__ == "__main__":
    main()
