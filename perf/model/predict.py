"""Prediction: weak scaling from 1 to 1,024 nodes x 4 GPUs on a real fabric (perf/model/README.md).

    /usr/bin/python3 perf/model/predict.py --inputs perf/model/inputs/here.json \
        --out perf/results/2026-12-06s-model [--no-plots] [--unsharded-share U]

One consumer per GPU (4 per node); service ranks on the node's spare cores. For each dataset (ImageNet-sized
1.28 M x 110 KB, CosmoFlow-sized 262,144 x 16 MiB) and fabric (profiles/ib_hdr200.json, slingshot11.json):
efficiency per node count with the naive layout (1 randomizer, 1 cache server and 1 transformer per node),
the first bottleneck and the node count where it bites, the smallest layout that keeps >= 90 % at every node
count (the layout rule: cache servers and transformers per node, and D directory shards, one randomizer
each: runtime.randomizers = runtime.directory_shards = D), what bounds the rule's layout (the next
bottleneck), and what a cache hit costs on the fabric. Writes prediction.md, prediction.json and, unless
--no-plots or without matplotlib, efficiency_<dataset>.png (predict_report.py). `--unsharded-share U` charges
every shard the share U of the randomizer's per-sample cost (a sensitivity run: shards_ab.py).
"""
import argparse
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferry_model as fm  # noqa: E402
from predict_report import plot, report  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NODES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
GPUS_PER_NODE = 4
SPARE_CORES = 32          # cores per node left to Ferry's service ranks and the consumers' hit handling
CACHE_PER_NODE = 256 << 30  # slab bytes per node (all its cache servers together)
# GPU step time per sample (assumptions, stated in prediction.md): ResNet-50 on an A100 trains about 2,500
# images/s (NVIDIA's published training throughput is of that order), CosmoFlow about 50 samples/s per GPU.
DATASETS = {
    "imagenet": dict(samples=1_281_167, raw=110 * 1000, entry=110 * 1000, prepare=0, batch=256,
                     gpu_s_per_sample=1 / 2500),
    "cosmoflow": dict(samples=262_144, raw=16 << 20, entry=16 << 20, prepare=16 << 20, batch=8,
                      gpu_s_per_sample=1 / 50),
}
# Candidate layouts: (cache servers per node, transformers per node, directory shards D: randomizers in the job).
LAYOUTS = [(s, t, r) for r in (1, 2, 4, 8, 16, 32, 64, 128, 256) for s in (1, 2)
           for t in (1, 2, 3, 4, 6, 8, 12, 16, 24, 28)]
FABRICS = ("ib_hdr200", "slingshot11")
EPOCHS = 8  # the static cache fills in epoch 0 and, where drop_last leaves samples out, in the next few


def layout_for(nodes, servers, transformers, shards, local_lists=False):
    """local_lists: a batch's misses go to the transformers of the consumer's node only (built since the
    2026-12-06 results: runtime.transformers_per_node; before, they were split over every transformer)."""
    return fm.Layout(consumers=GPUS_PER_NODE * nodes, transformers=transformers * nodes,
                     cache_servers=servers * nodes, randomizers=shards, nodes=nodes,
                     cache_bytes=CACHE_PER_NODE // servers, cores_per_node=SPARE_CORES,
                     list_fanout=transformers if local_lists else 0)


def point(name, nodes, fabric, costs, layout_spec, local_lists=False):
    d = DATASETS[name]
    work = fm.Workload(samples=d["samples"], raw_bytes=d["raw"], entry_bytes=d["entry"], prepare_bytes=d["prepare"],
                       fields=1, batch=d["batch"], epochs=EPOCHS, step_s=d["batch"] * d["gpu_s_per_sample"],
                       step_overlaps=True)
    layout = layout_for(nodes, *layout_spec, local_lists=local_lists)
    epochs = fm.predict(layout, work, costs, fabric)
    ideal = layout.consumers / d["gpu_s_per_sample"]
    steady = epochs[-1]
    return dict(dataset=name, nodes=nodes, layout=layout_spec, consumers=layout.consumers,
                efficiency=steady.samples_per_s / ideal, cold_efficiency=epochs[0].samples_per_s / ideal,
                cold_bound=epochs[0].bound,
                samples_per_s=steady.samples_per_s, hit_rate=steady.hit_rate, bound=steady.bound,
                busiest=steady.busiest, busiest_util=steady.busiest_util, loads=steady.loads,
                cold_busiest=epochs[0].busiest, cold_busiest_util=epochs[0].busiest_util,
                directory_bytes=steady.directory_bytes,
                step_total=work.step_s * (work.samples // layout.consumers // work.batch))


def layout_rule(name, fabric, costs, local_lists=False):
    """Per node count, the cheapest layout (fewest service ranks) with efficiency >= 0.9 in every epoch, the
    cold one included."""
    rule = {}
    for n in NODES:
        ok = []
        for s, t, r in LAYOUTS:
            p = point(name, n, fabric, costs, (s, t, r), local_lists)
            # The file system bounds epoch 0 whatever the layout (the set is read once): not the layout's to fix.
            cold_ok = p["cold_efficiency"] >= 0.9 or p["cold_bound"] == "pfs"
            if p["efficiency"] >= 0.9 and cold_ok:
                ok.append((s * n + t * n + r, (s, t, r)))
        rule[n] = min(ok)[1] if ok else None
    return rule


def hit_cost(fabric, costs, sample=110 * 1000, window=16):
    """A 110 KB hit: one get's latency, and what a consumer node's NIC delivers with `window` gets in flight."""
    bw = fabric["link_bandwidth_Bps"] * fabric.get("link_efficiency", 1.0)
    latency = fabric["get_latency_s"] + sample / bw + costs["consumer"]["hit_per_sample_s"]
    per_node = min(bw * fabric.get("nics_per_node", 1), window * GPUS_PER_NODE * sample / latency)
    return dict(latency_us=latency * 1e6, node_Bps=per_node, meets_latency=latency < 40e-6, meets_bw=per_node >= 2e9)


def rule_terms(name, costs, fabric):
    """The layout rule in closed form: what each service role must sustain for 90 % of the GPU-bound rate.
    A directory shard pays every batch's per-batch cost and 1 / D of its per-sample cost (all-hit batches)."""
    d, tr, rnd = DATASETS[name], costs["transformer"], costs["randomizer"]
    rate = GPUS_PER_NODE / d["gpu_s_per_sample"]  # samples/s a node's GPUs consume
    per_miss = tr["hdf5_per_call_s"] + fm.transformer_per_miss(tr, d["raw"], d["entry"], d["prepare"])
    u = rnd.get("unsharded_share", 0.0)
    fixed = rnd["per_batch_s"] + u * d["batch"] * rnd["per_sample_s"]  # what no number of shards divides
    per_batch = rnd["per_batch_s"] + d["batch"] * rnd["per_sample_s"]
    budget = d["batch"] * d["gpu_s_per_sample"] / 0.9  # a shard's seconds per batch of each consumer at 90 %
    link = fabric["link_bandwidth_Bps"] * fabric.get("link_efficiency", 1.0) * fabric.get("nics_per_node", 1)
    return dict(node_rate=rate, transformer_s_per_miss=per_miss,
                transformers_per_node_all_miss=math.ceil(0.9 * rate * per_miss),
                nodes_to_hold_set=math.ceil(d["samples"] * d["entry"] / CACHE_PER_NODE),
                randomizer_s_per_batch_all_hit=per_batch, randomizer_s_per_list=rnd["per_list_s"],
                consumers_per_randomizer_all_hit=math.floor(budget / per_batch),
                shard_s_per_batch_fixed=fixed, shard_s_per_batch_divided=per_batch - fixed,
                consumers_per_pipeline_most=math.floor(budget / fixed),
                fixed_what=f", and {100 * u:.1f} % of its samples' cost" if u else "",
                nic_share=rate * d["entry"] / link)


def first_bottleneck(rows, key="efficiency"):
    for r in rows:
        if r[key] < 0.9:
            return r
    return None


def next_bottleneck(rows):
    """With the rule's layouts: the first node count where an epoch is bound by anything but the GPUs' steps
    (steady first, then epoch 0), as (row, "steady" or "cold"), or None."""
    for r in rows:
        for epoch, bound in (("steady", r["bound"]), ("cold", r["cold_bound"])):
            if bound != "consumer steps":
                return r, epoch
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", default=os.path.join(HERE, "inputs", "here.json"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--unsharded-share", type=float, default=0.0,
                    help="share of the randomizer's per-sample cost every shard pays (sensitivity; shards_ab.py)")
    args = ap.parse_args()
    if not 0.0 <= args.unsharded_share <= 1.0:
        raise SystemExit(f"predict: --unsharded-share must be in [0, 1] (got {args.unsharded_share})")
    costs = json.load(open(args.inputs))["costs"]
    if args.unsharded_share:
        costs["randomizer"] = dict(costs["randomizer"], unsharded_share=args.unsharded_share)
    results, rules, summary, hits = {}, {}, {}, {}
    for fab in FABRICS:
        fabric = json.load(open(os.path.join(HERE, "profiles", fab + ".json")))
        hits[fab] = hit_cost(fabric, costs)
        for name in DATASETS:
            naive = [point(name, n, fabric, costs, (1, 1, 1)) for n in NODES]
            rule = layout_rule(name, fabric, costs)
            best = [point(name, n, fabric, costs, rule[n] or LAYOUTS[-1]) for n in NODES]
            local_rule = layout_rule(name, fabric, costs, local_lists=True)
            local = [point(name, n, fabric, costs, local_rule[n] or LAYOUTS[-1], True) for n in NODES]
            key = f"{fab}|{name}"
            results[key + "|naive"], results[key + "|rule"], results[key + "|local"] = naive, best, local
            rules[key], rules[key + "|local"] = rule, local_rule
            summary[key] = dict(terms=rule_terms(name, costs, fabric), first=first_bottleneck(naive),
                                cold=first_bottleneck(naive, "cold_efficiency"), next=next_bottleneck(best),
                                next_local=next_bottleneck(local))
    setup = dict(nodes=NODES, gpus_per_node=GPUS_PER_NODE, spare_cores=SPARE_CORES, cache_per_node=CACHE_PER_NODE,
                 datasets=DATASETS, fabrics=FABRICS, epochs=EPOCHS)
    os.makedirs(args.out, exist_ok=True)
    plots = [] if args.no_plots else plot(results, args.out, setup)
    with open(os.path.join(args.out, "prediction.md"), "w") as f:
        f.write(report(args.inputs, setup, costs, results, rules, summary, hits, plots))
    with open(os.path.join(args.out, "prediction.json"), "w") as f:
        json.dump(dict(results=results, rules={k: {str(n): v for n, v in r.items()} for k, r in rules.items()},
                       hits=hits, unsharded_share=costs["randomizer"].get("unsharded_share", 0.0)), f, indent=1)
    print(open(os.path.join(args.out, "prediction.md")).read())


if __name__ == "__main__":
    main()
