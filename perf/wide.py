"""perf/wide.py OUT SAMPLES RANKS...: per-rank figures of perf/wide.sh's runs (OUT/raw/<ranks>/stats.jsonl)
against the width; writes OUT/summary.md and OUT/results.json."""
import json
import sys
from collections import defaultdict


def load(path):
    lines = [json.loads(l) for l in open(path)]
    ranks = {o["rank"]: o for o in lines if o.get("kind") == "rank"}
    serve = {o["rank"]: o for o in lines if o.get("kind") == "serve"}
    gather = next((o for o in lines if o.get("kind") == "gather"), None)
    epochs = [o for o in lines if o.get("kind") == "epoch"]
    return ranks, serve, gather, epochs


def role_figures(ranks, serve):
    by_role = defaultdict(list)
    for r, o in ranks.items():
        by_role[serve[r]["initial_role"] if r in serve else o["role"]].append(o)
    out = {}
    for role, rows in sorted(by_role.items()):
        def stat(key):
            values = [row[key] for row in rows]
            return {"mean": sum(values) / len(values), "max": max(values)}
        f = {k: stat(k) for k in ("messages_sent", "messages_received", "bytes_sent", "bytes_received",
                                  "cpu_seconds", "wall_seconds", "setup_cpu_seconds", "setup_wall_seconds",
                                  "rss_bytes")}
        f["ranks"] = len(rows)
        f["cpu_over_wall_max"] = max(row["cpu_seconds"] / max(row["wall_seconds"], 1e-9) for row in rows)
        idle = [serve[row["rank"]] for row in rows if row["rank"] in serve]
        if idle:
            f["idle_cpu_over_idle_wall_max"] = max(
                s["idle_cpu_seconds"] / max(s["idle_wall_seconds"], 1e-9) for s in idle)
        out[role] = f
    return out


def main():
    out, samples, widths = sys.argv[1], int(sys.argv[2]), [int(w) for w in sys.argv[3:]]
    results = []
    for w in widths:
        ranks, serve, gather, epochs = load(f"{out}/raw/{w}/stats.jsonl")
        seconds = float(open(f"{out}/raw/{w}/seconds").read())
        busiest = max(ranks.values(), key=lambda o: o["messages_received"])
        results.append({
            "ranks": w, "seconds": seconds, "rank_lines": len(ranks),
            "samples_delivered": sum(e.get("samples", 0) for e in epochs),
            "cpu_seconds_all_ranks": sum(o["cpu_seconds"] for o in ranks.values()),
            "setup_wall_seconds_max": max(o["setup_wall_seconds"] for o in ranks.values()),
            "runtime_wall_seconds_max": max(o["wall_seconds"] for o in ranks.values()),
            "busiest_receiver": {"rank": busiest["rank"], "role": busiest["role"],
                                 "messages": busiest["messages_received"]},
            "gather": gather, "roles": role_figures(ranks, serve)})
    json.dump(results, open(f"{out}/results.json", "w"), indent=1)
    md = ["# Wide runs (perf/wide.sh)", "",
          f"{samples} samples of 8x8x3 u8, two pipelines (batch 4, 2 epochs), checked against `ferry local`.",
          "Wall: the `ferry run` command (start-up of every process included); Runtime wall: the longest-lived",
          "Runtime, with its set-up in brackets. CPU: all ranks' process CPU while their Runtime lived.",
          "Machine (2 cores, shared; load averages before and after each width):", "", "```",
          open(f"{out}/machine").read().rstrip(), "```", "",
          "| ranks | wall s | Runtime wall s (set-up) | CPU s (all ranks) | samples delivered | coordinator: gather messages | senders | "
          "windows | from ranks | gather bytes | busiest receiver (rank, role, messages) |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        g = r["gather"] or {}
        b = r["busiest_receiver"]
        md.append(f"| {r['ranks']} | {r['seconds']:.1f} | {r['runtime_wall_seconds_max']:.1f} "
                  f"({r['setup_wall_seconds_max']:.1f}) | {r['cpu_seconds_all_ranks']:.1f} | "
                  f"{r['samples_delivered']} | {g.get('messages')} | {len(g.get('senders', []))} | "
                  f"{g.get('windows')} | {g.get('reporters')} | {g.get('bytes')} | "
                  f"{b['rank']} {b['role']} {b['messages']} |")
    md += ["", "Per role (mean / max over the role's ranks): messages sent, received; KiB sent, received; "
           "CPU s; wall s; max CPU/wall; max idle CPU / idle wall (service ranks); RSS MiB max.", "",
           "| ranks | role | n | msgs sent | msgs recv | KiB sent | KiB recv | CPU s | wall s | CPU/wall max | "
           "idle CPU/idle wall max | RSS MiB max |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        for role, f in r["roles"].items():
            mm = lambda k, d=1: f"{f[k]['mean'] / d:.0f} / {f[k]['max'] / d:.0f}"
            idle = f.get("idle_cpu_over_idle_wall_max")
            md.append(f"| {r['ranks']} | {role} | {f['ranks']} | {mm('messages_sent')} | "
                      f"{mm('messages_received')} | {mm('bytes_sent', 1024)} | {mm('bytes_received', 1024)} | "
                      f"{f['cpu_seconds']['mean']:.2f} / {f['cpu_seconds']['max']:.2f} | "
                      f"{f['wall_seconds']['max']:.1f} | {f['cpu_over_wall_max']:.2f} | "
                      f"{'' if idle is None else f'{idle:.3f}'} | {f['rss_bytes']['max'] / 2**20:.0f} |")
    open(f"{out}/summary.md", "w").write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
