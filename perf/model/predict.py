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
LAYOUTS = [(s, t, r) for r in (1, 2, 4, 8, 16, 32, 64, 128, 256) for s in (1, 2)
           for t in (1, 2, 3, 4, 6, 8, 12, 16, 24, 28)]
FABRICS = ("ib_hdr200", "slingshot11")
EPOCHS = 8  # the static cache fills in epoch 0 and, where drop_last leaves samples out, in the next few


def layout_for(nodes, servers, transformers, randomizers, local_lists=False):
    """local_lists: a batch's misses go to the transformers of the consumer's node only (built since the
    2026-12-06 results: runtime.transformers_per_node; before, they were split over every transformer)."""
    return fm.Layout(consumers=GPUS_PER_NODE * nodes, transformers=transformers * nodes,
                     cache_servers=servers * nodes, randomizers=randomizers, nodes=nodes,
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
    """The layout rule in closed form: what each service role must sustain for 90 % of the GPU-bound rate."""
    d, tr, rnd = DATASETS[name], costs["transformer"], costs["randomizer"]
    rate = GPUS_PER_NODE / d["gpu_s_per_sample"]  # samples/s a node's GPUs consume
    per_miss = tr["hdf5_per_call_s"] + fm.transformer_per_miss(tr, d["raw"], d["entry"], d["prepare"])
    per_batch = rnd["per_batch_s"] + d["batch"] * rnd["per_sample_s"]
    link = fabric["link_bandwidth_Bps"] * fabric.get("link_efficiency", 1.0) * fabric.get("nics_per_node", 1)
    return dict(node_rate=rate, transformer_s_per_miss=per_miss,
                transformers_per_node_all_miss=math.ceil(0.9 * rate * per_miss),
                nodes_to_hold_set=math.ceil(d["samples"] * d["entry"] / CACHE_PER_NODE),
                randomizer_s_per_batch_all_hit=per_batch, randomizer_s_per_list=rnd["per_list_s"],
                consumers_per_randomizer_all_hit=math.floor(d["batch"] * d["gpu_s_per_sample"] / (0.9 * per_batch)),
                nic_share=rate * d["entry"] / link)


def first_bottleneck(rows, key="efficiency"):
    for r in rows:
        if r[key] < 0.9:
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
    colors = {"naive": "tab:red", "rule": "tab:blue", "local": "tab:green"}
    labels = {"naive": "1 S + 1 T per node, 1 R", "rule": "rule (today's code)", "local": "rule, node-local miss lists"}
    for name in DATASETS:
        fig, axes = plt.subplots(1, len(FABRICS), figsize=(11, 4.2), sharey=True)
        for ax, fab in zip(axes, FABRICS):
            for kind in ("naive", "rule", "local"):
                series = results[f"{fab}|{name}|{kind}"]
                ax.plot(NODES, [100 * r["efficiency"] for r in series], marker="o", color=colors[kind],
                        label=f"{labels[kind]}, steady epoch")
                ax.plot(NODES, [100 * r["cold_efficiency"] for r in series], marker="x", linestyle="--",
                        color=colors[kind], label=f"{labels[kind]}, epoch 0")
            ax.axhline(90, color="grey", linestyle=":")
            ax.set_xscale("log", base=2)
            ax.set_xlabel("nodes (4 GPUs, 4 consumers each)")
            ax.set_ylim(0, 105)
            ax.set_title(f"{name}, {fab}")
        axes[0].set_ylabel("efficiency (% of GPU-bound samples/s)")
        axes[0].legend(fontsize=7, loc="lower left")
        fig.suptitle("Ferry model: weak scaling (prediction)")
        fig.tight_layout()
        path = os.path.join(out, f"efficiency_{name}.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        files.append(path)
    return files


def fmt_rule(spec):
    return "none found" if spec is None else f"{spec[0]} S + {spec[1]} T per node, {spec[2]} R"


def report(inputs_path, costs, results, rules, bottlenecks, hits, plots):
    out = [f"Model inputs: `{os.path.relpath(inputs_path)}` (costs measured on the 2-core machine, see "
           "perf/model/README.md); fabrics: perf/model/profiles/*.json (values and their sources).",
           f"Nodes of {GPUS_PER_NODE} GPUs, one consumer per GPU, {SPARE_CORES} cores per node for Ferry's ranks, "
           f"{CACHE_PER_NODE >> 30} GiB of cache slab per node. GPU step per sample (assumed, not measured): "
           + ", ".join(f"{k} {1e3 * v['gpu_s_per_sample']:.1f} ms (batch {v['batch']})" for k, v in DATASETS.items())
           + f". Efficiency = predicted samples/s of the steady (last of {EPOCHS}) epoch over GPUs x the GPU-bound "
           "rate; "
           "epoch 0 (cold) in parentheses. Layouts: S cache servers and T transformers per node, R randomizers "
           "in the job; the rule is the layout with the fewest service ranks that keeps >= 90 % in every epoch, "
           "epoch 0 included unless the file system bounds it (found by search over S <= 2, T <= 28, R <= 256; "
           "'none found' shows the search's last layout). R > 1 for one pipeline needs the sharded randomizer of "
           "issue 16.", ""]
    pct = lambda r: f"{100 * r['efficiency']:.0f} % ({100 * r['cold_efficiency']:.0f} %)"
    for fab in FABRICS:
        for name in DATASETS:
            key = f"{fab}|{name}"
            naive, best, local = (results[f"{key}|{k}"] for k in ("naive", "rule", "local"))
            out += [f"### {name}, {fab}", "",
                    "| nodes | GPUs | naive: 1 S + 1 T per node, 1 R | its bound, steady / cold "
                    "| rule, job-wide miss lists | efficiency | rule, node-local miss lists (transformers_per_node) "
                    "| efficiency |",
                    "|---|---|---|---|---|---|---|---|"]
            for a, b, c in zip(naive, best, local):
                n = a["nodes"]
                out.append(f"| {n} | {a['consumers']} | {pct(a)} | {a['bound']} / {a['cold_bound']} "
                           f"| {fmt_rule(rules[key][n])} | {pct(b)} | {fmt_rule(rules[key + '|local'][n])} "
                           f"| {pct(c)} |")
            first = bottlenecks[f"{fab}|{name}"]
            t = rule_terms(name, costs, json.load(open(os.path.join(HERE, "profiles", fab + ".json"))))
            out += ["", f"Rule terms: a node's GPUs take {t['node_rate']:.0f} samples/s; a miss costs a transformer "
                    f"{1e3 * t['transformer_s_per_miss']:.2f} ms, so an all-miss epoch at 90 % needs "
                    f"{t['transformers_per_node_all_miss']} transformers per node; the cache holds the set from "
                    f"{t['nodes_to_hold_set']} node(s); an all-hit batch costs the randomizer "
                    f"{1e6 * t['randomizer_s_per_batch_all_hit']:.0f} us (+ {1e6 * t['randomizer_s_per_list']:.0f} us "
                    f"per miss list), so one randomizer serves {t['consumers_per_randomizer_all_hit']} consumers "
                    "at 90 %; "
                    f"remote hits use {100 * t['nic_share']:.1f} % of a node's links."]
            cold = first_bottleneck(naive, "cold_efficiency")
            out += ["", "First bottleneck (naive layout), steady epochs: " + (
                "none up to 1,024 nodes" if first is None else
                f"**{first['bound']}** (busiest rank: {first['busiest']}) from {first['nodes']} node(s), "
                f"efficiency {100 * first['efficiency']:.0f} %") + "; cold epoch 0: " + (
                "none" if cold is None else f"**{cold['cold_bound']}** from {cold['nodes']} node(s), "
                f"efficiency {100 * cold['cold_efficiency']:.0f} %") + ".", ""]
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
            local_rule = layout_rule(name, fabric, costs, local_lists=True)
            local = [point(name, n, fabric, costs, local_rule[n] or LAYOUTS[-1], True) for n in NODES]
            key = f"{fab}|{name}"
            results[key + "|naive"], results[key + "|rule"], results[key + "|local"] = naive, best, local
            rules[key], rules[key + "|local"], bottlenecks[key] = rule, local_rule, first_bottleneck(naive)
    os.makedirs(args.out, exist_ok=True)
    plots = [] if args.no_plots else plot(results, args.out)
    with open(os.path.join(args.out, "prediction.md"), "w") as f:
        f.write(report(args.inputs, costs, results, rules, bottlenecks, hits, plots))
    with open(os.path.join(args.out, "prediction.json"), "w") as f:
        json.dump(dict(results=results, rules={k: {str(n): v for n, v in r.items()} for k, r in rules.items()},
                       hits=hits), f, indent=1)
    print(open(os.path.join(args.out, "prediction.md")).read())


if __name__ == "__main__":
    main()
