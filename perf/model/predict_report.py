"""predict.py's output: prediction.md (per dataset and fabric: efficiency per node count of the naive layout
and of the layout rule, with what bounds each, the rule's terms, the first and the next bottleneck, a cache
hit's cost on the fabric) and the efficiency plots. Formats what predict.py computed; decides nothing."""
import os
import sys


def plot(results, out, setup):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("predict: matplotlib not found: no plots (apt-get install python3-matplotlib)", file=sys.stderr)
        return []
    files = []
    colors = {"naive": "tab:red", "rule": "tab:blue", "local": "tab:green"}
    labels = {"naive": "1 S + 1 T per node, 1 randomizer", "rule": "rule: S, T per node, D shards",
              "local": "rule, node-local miss lists"}
    nodes = setup["nodes"]
    for name in setup["datasets"]:
        fig, axes = plt.subplots(1, len(setup["fabrics"]), figsize=(11, 4.2), sharey=True)
        for ax, fab in zip(axes, setup["fabrics"]):
            for kind in ("naive", "rule", "local"):
                series = results[f"{fab}|{name}|{kind}"]
                ax.plot(nodes, [100 * r["efficiency"] for r in series], marker="o", color=colors[kind],
                        label=f"{labels[kind]}, steady epoch")
                ax.plot(nodes, [100 * r["cold_efficiency"] for r in series], marker="x", linestyle="--",
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
    return "none found" if spec is None else f"{spec[0]} S + {spec[1]} T per node, D = {spec[2]}"


def pct(r):
    return f"{100 * r['efficiency']:.0f} % ({100 * r['cold_efficiency']:.0f} %)"


def header(inputs_path, setup, costs):
    u = costs["randomizer"].get("unsharded_share", 0.0)
    return [f"Model inputs: `{os.path.relpath(inputs_path)}` (costs measured on the 2-core machine, see "
            "perf/model/README.md); fabrics: perf/model/profiles/*.json (values and their sources).",
            f"Nodes of {setup['gpus_per_node']} GPUs, one consumer per GPU, {setup['spare_cores']} cores per node "
            f"for Ferry's ranks, {setup['cache_per_node'] >> 30} GiB of cache slab per node. GPU step per sample "
            "(assumed, not measured): " + ", ".join(
                f"{k} {1e3 * v['gpu_s_per_sample']:.1f} ms (batch {v['batch']})" for k, v in setup["datasets"].items())
            + f". Efficiency = predicted samples/s of the steady (last of {setup['epochs']}) epoch over GPUs x the "
            "GPU-bound rate; epoch 0 (cold) in parentheses. Layouts: S cache servers and T transformers per node, "
            "D directory shards of the pipeline, one randomizer each (runtime.randomizers = "
            "runtime.directory_shards = D): each shard describes its key range's positions of every batch, so it "
            "pays every batch's descriptor and credit and 1 / D of the per-sample work, and a consumer receives D "
            "descriptors and sends D credits a batch. The rule is the layout with the fewest service ranks that "
            "keeps >= 90 % in every epoch, epoch 0 included unless the file system bounds it (found by search over "
            "S <= 2, T <= 28, D <= 256; 'none found' shows the search's last layout)."
            + (f" Sensitivity run: every shard pays {100 * u:.1f} % of the randomizer's per-sample cost for every "
               "position (--unsharded-share)." if u else ""), ""]


def bottleneck_lines(naive, nxt, nxt_local, first, cold, directory):
    line = "First bottleneck (naive layout), steady epochs: " + (
        "none up to 1,024 nodes" if first is None else
        f"**{first['bound']}** (busiest rank: {first['busiest']}) from {first['nodes']} node(s), "
        f"efficiency {100 * first['efficiency']:.0f} %") + "; cold epoch 0: " + (
        "none" if cold is None else f"**{cold['cold_bound']}** from {cold['nodes']} node(s), "
        f"efficiency {100 * cold['cold_efficiency']:.0f} %") + "."

    def after(found, what):
        if found is None:
            return f"{what}: none up to 1,024 nodes (the GPUs' steps bound every epoch)"
        r, epoch = found
        bound = r["bound"] if epoch == "steady" else r["cold_bound"]
        eff = r["efficiency"] if epoch == "steady" else r["cold_efficiency"]
        return (f"{what}: **{bound}** from {r['nodes']} node(s) ({'steady epochs' if epoch == 'steady' else 'epoch 0'}"
                f", efficiency {100 * eff:.0f} %, layout {fmt_rule(r['layout'])})")
    last = naive[-1]
    return [line, "Next bottleneck, with the rule's layouts: " + after(nxt, "job-wide miss lists") + "; "
            + after(nxt_local, "node-local miss lists") + ".",
            f"Directory per randomizer at {last['nodes']} nodes (steady): {directory[0] / 1e6:.0f} MB with one, "
            f"{directory[1] / 1e6:.0f} MB with the rule's D."]


def terms_line(t):
    return (f"Rule terms: a node's GPUs take {t['node_rate']:.0f} samples/s; a miss costs a transformer "
            f"{1e3 * t['transformer_s_per_miss']:.2f} ms, so an all-miss epoch at 90 % needs "
            f"{t['transformers_per_node_all_miss']} transformers per node; the cache holds the set from "
            f"{t['nodes_to_hold_set']} node(s); an all-hit batch costs one randomizer "
            f"{1e6 * t['randomizer_s_per_batch_all_hit']:.0f} us (+ {1e6 * t['randomizer_s_per_list']:.0f} us per "
            f"miss list), so one randomizer serves {t['consumers_per_randomizer_all_hit']} consumers at 90 %; of "
            f"that, {1e6 * t['shard_s_per_batch_fixed']:.1f} us a batch is every shard's (its descriptor and "
            f"credit{t['fixed_what']}) and {1e6 * t['shard_s_per_batch_divided']:.0f} us is divided by D, so no "
            "number of shards "
            f"serves more than {t['consumers_per_pipeline_most']} consumers per pipeline at 90 %; remote hits use "
            f"{100 * t['nic_share']:.1f} % of a node's links.")


def report(inputs_path, setup, costs, results, rules, summary, hits, plots):
    """`summary[fab|name]`: terms, first, cold, next, next_local (predict.py main)."""
    out = header(inputs_path, setup, costs)
    for fab in setup["fabrics"]:
        for name in setup["datasets"]:
            key = f"{fab}|{name}"
            naive, best, local = (results[f"{key}|{k}"] for k in ("naive", "rule", "local"))
            s = summary[key]
            out += [f"### {name}, {fab}", "",
                    "| nodes | GPUs | naive: 1 S + 1 T per node, D = 1 | its bound, steady / cold "
                    "| rule, job-wide miss lists | efficiency | its bound, steady / cold "
                    "| rule, node-local miss lists (transformers_per_node) | efficiency | its bound, steady / cold |",
                    "|---|---|---|---|---|---|---|---|---|---|"]
            for a, b, c in zip(naive, best, local):
                n = a["nodes"]
                out.append(f"| {n} | {a['consumers']} | {pct(a)} | {a['bound']} / {a['cold_bound']} "
                           f"| {fmt_rule(rules[key][n])} | {pct(b)} | {b['bound']} / {b['cold_bound']} "
                           f"| {fmt_rule(rules[key + '|local'][n])} | {pct(c)} | {c['bound']} / {c['cold_bound']} |")
            directory = (naive[-1]["directory_bytes"], best[-1]["directory_bytes"])
            out += ["", terms_line(s["terms"]), ""]
            out += bottleneck_lines(naive, s["next"], s["next_local"], s["first"], s["cold"], directory) + [""]
    out += ["### A cache hit on the fabric (110 KB sample)", "",
            "| fabric | latency per hit | bar < 40 us | bytes/s per consumer node (16 gets in flight per consumer) "
            "| bar >= 2 GB/s |", "|---|---|---|---|---|"]
    for fab, h in hits.items():
        out.append(f"| {fab} | {h['latency_us']:.1f} us | {'met' if h['meets_latency'] else 'missed'} "
                   f"| {h['node_Bps'] / 1e9:.1f} GB/s | {'met' if h['meets_bw'] else 'missed'} |")
    out += ["", "Plots: " + (", ".join(os.path.basename(p) for p in plots) or "none (--no-plots)"), ""]
    return "\n".join(out)
