"""Prediction: weak scaling from 1 to 1,024 nodes x 4 GPUs on a real fabric (perf/model/README.md).

    /usr/bin/python3 perf/model/predict.py --inputs perf/model/inputs/here.json \
        --out perf/results/2026-12-06-model [--no-plots]

One consumer per GPU (4 per node); service ranks on the node's spare cores. For each dataset (ImageNet-sized
1.28 M x 110 KB, CosmoFlow-sized 262,144 x 16 MiB) and fabric (profiles/ib_hdr200.json, slingshot11.json):
efficiency per node count with the naive layout (1 randomizer, 1 cache server and 1 transformer per node),
the first bottleneck and the node count where it bites, the smallest layout that keeps >= 90 % at every node
count (the layout rule), and what a cache hit costs on the fabric. Writes prediction.md, prediction.json and,
unless --no-plots or without matplotlib, efficiency_<dataset>.png.
"""
import argparse
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferry_model as fm  # noqa: E402

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
# Candidate layouts: (cache servers per node, transformers per node, randomizers in the job).
LAYOUTS = [(s, t, r) for r in (1, 2, 4, 8, 16, 32, 64) for s in (1, 2) for t in (1, 2, 4, 8, 12, 16, 24)]
FABRICS = ("ib_hdr200", "slingshot11")


def layout_for(nodes, servers, transformers, randomizers):
    return fm.Layout(consumers=GPUS_PER_NODE * nodes, transformers=transformers * nodes,
                     cache_servers=servers * nodes, randomizers=randomizers, nodes=nodes,
                     cache_bytes=CACHE_PER_NODE // servers, cores_per_node=SPARE_CORES)


def point(name, nodes, fabric, costs, layout_spec):
    d = DATASETS[name]
    work = fm.Workload(samples=d["samples"], raw_bytes=d["raw"], entry_bytes=d["entry"], prepare_bytes=d["prepare"],
                       fields=1, batch=d["batch"], epochs=3, step_s=d["batch"] * d["gpu_s_per_sample"],
                       step_overlaps=True)
    layout = layout_for(nodes, *layout_spec)
    epochs = fm.predict(layout, work, costs, fabric)
    ideal = layout.consumers / d["gpu_s_per_sample"]
    steady = epochs[-1]
    return dict(dataset=name, nodes=nodes, layout=layout_spec, consumers=layout.consumers,
                efficiency=steady.samples_per_s / ideal, cold_efficiency=epochs[0].samples_per_s / ideal,
                samples_per_s=steady.samples_per_s, hit_rate=steady.hit_rate, bound=steady.bound,
                busiest=steady.busiest, busiest_util=steady.busiest_util, loads=steady.loads,
                step_total=work.step_s * (work.samples // layout.consumers // work.batch))


def layout_rule(name, fabric, costs):
    """Per node count, the cheapest (service ranks per node, then randomizers) layout with efficiency >= 0.9."""
    rule = {}
    for n in NODES:
        ok = [(s * n + t * n + r, (s, t, r)) for s, t, r in LAYOUTS
              if point(name, n, fabric, costs, (s, t, r))["efficiency"] >= 0.9]
        rule[n] = min(ok)[1] if ok else None
    return rule


def hit_cost(fabric, costs, sample=110 * 1000, window=16):
    """A 110 KB hit: one get's latency, and what a consumer node's NIC delivers with `window` gets in flight."""
    bw = fabric["link_bandwidth_Bps"] * fabric.get("link_efficiency", 1.0)
    latency = fabric["get_latency_s"] + sample / bw + costs["consumer"]["hit_per_sample_s"]
    per_node = min(bw * fabric.get("nics_per_node", 1), window * GPUS_PER_NODE * sample / latency)
    return dict(latency_us=latency * 1e6, node_Bps=per_node, meets_latency=latency < 40e-6, meets_bw=per_node >= 2e9)


def first_bottleneck(rows):
    for r in rows:
        if r["efficiency"] < 0.9:
            return r
    return None


def plot(results, out):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("predict: matplotlib not found: no plots (apt-get install python3-matplotlib)", file=sys.stderr)
        return []
    files = []
    for name in DATASETS:
        fig, ax = plt.subplots(figsize=(6.4, 4))
        for key, series in results.items():
            fab, ds, kind = key.split("|")
            if ds == name:
                ax.plot(NODES, [100 * r["efficiency"] for r in series], marker="o", label=f"{fab}, {kind}")
        ax.axhline(90, color="grey", linestyle=":")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("nodes (4 GPUs, 4 consumers each)")
        ax.set_ylabel("efficiency, steady epoch (%)")
        ax.set_ylim(0, 105)
        ax.set_title(f"Ferry model: weak scaling, {name}")
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = os.path.join(out, f"efficiency_{name}.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        files.append(path)
    return files


def fmt_rule(spec):
    return "none found" if spec is None else f"{spec[0]} S + {spec[1]} T per node, {spec[2]} R"


def report(inputs_path, results, rules, bottlenecks, hits, plots):
    out = [f"Model inputs: `{os.path.relpath(inputs_path)}` (costs measured on the 2-core machine, see "
           "perf/model/README.md); fabrics: perf/model/profiles/*.json (values and their sources).",
           f"Nodes of {GPUS_PER_NODE} GPUs, one consumer per GPU, {SPARE_CORES} cores per node for Ferry's ranks, "
           f"{CACHE_PER_NODE >> 30} GiB of cache slab per node. GPU step per sample (assumed, not measured): "
           + ", ".join(f"{k} {1e3 * v['gpu_s_per_sample']:.1f} ms (batch {v['batch']})" for k, v in DATASETS.items())
           + ". Efficiency = predicted samples/s of the steady (third) epoch over GPUs x the GPU-bound rate; "
           "epoch 0 (cold) beside it.", ""]
    for fab in FABRICS:
        for name in DATASETS:
            naive, best = results[f"{fab}|{name}|naive"], results[f"{fab}|{name}|rule"]
            out += [f"### {name}, {fab}", "",
                    "| nodes | GPUs | naive layout: efficiency (cold) | bound | busiest | rule layout | efficiency (cold) "
                    "| bound | hit rate |", "|---|---|---|---|---|---|---|---|---|"]
            for a, b in zip(naive, best):
                out.append(f"| {a['nodes']} | {a['consumers']} | {100 * a['efficiency']:.0f} % "
                           f"({100 * a['cold_efficiency']:.0f} %) | {a['bound']} | {a['busiest']} "
                           f"| {fmt_rule(rules[f'{fab}|{name}'][a['nodes']])} | {100 * b['efficiency']:.0f} % "
                           f"({100 * b['cold_efficiency']:.0f} %) | {b['bound']} | {100 * b['hit_rate']:.1f} % |")
            first = bottlenecks[f"{fab}|{name}"]
            out += ["", "First bottleneck (naive layout): " + (
                "none up to 1,024 nodes" if first is None else
                f"**{first['bound']}** (busiest rank: {first['busiest']}) from {first['nodes']} node(s), "
                f"efficiency {100 * first['efficiency']:.0f} %"), ""]
    out += ["### A cache hit on the fabric (110 KB sample)", "",
            "| fabric | latency per hit | bar < 40 us | bytes/s per consumer node (16 gets in flight per consumer) "
            "| bar >= 2 GB/s |", "|---|---|---|---|---|"]
    for fab, h in hits.items():
        out.append(f"| {fab} | {h['latency_us']:.1f} us | {'met' if h['meets_latency'] else 'missed'} "
                   f"| {h['node_Bps'] / 1e9:.1f} GB/s | {'met' if h['meets_bw'] else 'missed'} |")
    out += ["", "Plots: " + (", ".join(os.path.basename(p) for p in plots) or "none (--no-plots)"), ""]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", default=os.path.join(HERE, "inputs", "here.json"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-plots", action="store_true")
    args = ap.parse_args()
    costs = json.load(open(args.inputs))["costs"]
    results, rules, bottlenecks, hits = {}, {}, {}, {}
    for fab in FABRICS:
        fabric = json.load(open(os.path.join(HERE, "profiles", fab + ".json")))
        hits[fab] = hit_cost(fabric, costs)
        for name in DATASETS:
            naive = [point(name, n, fabric, costs, (1, 1, 1)) for n in NODES]
            rule = layout_rule(name, fabric, costs)
            best = [point(name, n, fabric, costs, rule[n] or LAYOUTS[-1]) for n in NODES]
            results[f"{fab}|{name}|naive"], results[f"{fab}|{name}|rule"] = naive, best
            rules[f"{fab}|{name}"], bottlenecks[f"{fab}|{name}"] = rule, first_bottleneck(naive)
    os.makedirs(args.out, exist_ok=True)
    plots = [] if args.no_plots else plot(results, args.out)
    with open(os.path.join(args.out, "prediction.md"), "w") as f:
        f.write(report(args.inputs, results, rules, bottlenecks, hits, plots))
    with open(os.path.join(args.out, "prediction.json"), "w") as f:
        json.dump(dict(results=results, rules={k: {str(n): v for n, v in r.items()} for k, r in rules.items()},
                       hits=hits), f, indent=1)
    print(open(os.path.join(args.out, "prediction.md")).read())


if __name__ == "__main__":
    main()
