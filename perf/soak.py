"""Analysis of perf/soak.sh: soak.py OUT SAMPLES TRANSPORT... (run with /usr/bin/python3).

Reads OUT/raw/TRANSPORT.jsonl (runtime.stats_file) and the --dump-ids files OUT/raw/TRANSPORT.<c> and
OUT/raw/local.<c>; writes OUT/summary.md, OUT/results.json and OUT/rss_per_rank.png. Exits 1 when a check
fails: RSS growth from epoch 2 to the last epoch above 1 % on any rank, an epoch that does not deliver every
sample exactly once, IDs that differ from ferry local's, a cache peak above its capacity."""
import json
import os
import platform
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

GOAL_GROWTH_PERCENT = 1.0
FIRST_EPOCH = 2


def read_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def rss_series(lines):
    """{rank: {"roles": set, "rss": {epoch: bytes}}} from the rss lines."""
    ranks = {}
    for obj in lines:
        if obj["kind"] != "rss":
            continue
        r = ranks.setdefault(obj["rank"], {"roles": [], "rss": {}})
        if obj["role"] not in r["roles"]:
            r["roles"].append(obj["role"])
        r["rss"][obj["epoch"]] = obj["rss_bytes"]
    return ranks


def id_checks(raw, transport, samples):
    """Exactly-once per epoch over the consumers, and the same files as ferry local's."""
    problems, consumers, epochs = [], 0, {}
    while os.path.exists(f"{raw}/{transport}.{consumers}"):
        path = f"{raw}/{transport}.{consumers}"
        with open(path) as f:
            text = f.read()
        with open(f"{raw}/local.{consumers}") as f:
            if f.read() != text:
                problems.append(f"{path} differs from {raw}/local.{consumers}")
        for line in text.splitlines():
            fields = line.split()
            epochs.setdefault(int(fields[1]), []).extend(int(x) for x in fields[3:])
        consumers += 1
    for epoch, ids in sorted(epochs.items()):
        if sorted(ids) != list(range(samples)):
            problems.append(f"epoch {epoch}: {len(ids)} IDs, {len(set(ids))} distinct, not each of {samples} once")
    return consumers, len(epochs), problems


def analyse(out, samples, transport):
    raw = f"{out}/raw"
    lines = read_lines(f"{raw}/{transport}.jsonl")
    ranks = rss_series(lines)
    epochs = sorted({obj["epoch"] for obj in lines if obj["kind"] == "epoch"})
    last = epochs[-1]
    rows, problems = [], []
    for rank, r in sorted(ranks.items()):
        missing = [e for e in epochs if e not in r["rss"]]
        if missing:
            problems.append(f"rank {rank}: no rss line for epochs {missing[:5]}")
            continue
        first, end = r["rss"][FIRST_EPOCH], r["rss"][last]
        growth = 100.0 * (end - first) / first
        rows.append({"rank": rank, "roles": " -> ".join(r["roles"]), "rss_epoch_2": first,
                     "rss_last": end, "growth_percent": growth, "met": growth <= GOAL_GROWTH_PERCENT})
        if growth > GOAL_GROWTH_PERCENT:
            problems.append(f"rank {rank}: RSS grew {growth:.2f} % from epoch {FIRST_EPOCH} to {last}")
    serve = [obj for obj in lines if obj["kind"] == "serve"]
    peak = max((obj.get("cache_peak_bytes", 0) for obj in serve), default=0)
    capacity = max((obj.get("cache_capacity", 0) for obj in serve), default=0)
    if not capacity or peak > capacity:
        problems.append(f"cache peak {peak} bytes against capacity {capacity}")
    moves = sum(1 for obj in lines if obj["kind"] == "rebalance" and obj.get("move"))
    consumers, id_epochs, id_problems = id_checks(raw, transport, samples)
    problems += id_problems
    if id_epochs != len(epochs):
        problems.append(f"IDs for {id_epochs} epochs, epoch lines for {len(epochs)}")
    return {"transport": transport, "epochs": len(epochs), "last_epoch": last, "ranks": rows,
            "series": {rank: [r["rss"].get(e) for e in epochs] for rank, r in ranks.items()},
            "epoch_list": epochs, "cache_peak_bytes": peak, "cache_capacity": capacity,
            "role_moves": moves, "consumers": consumers, "problems": problems}


def plot(results, path):
    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4), squeeze=False)
    for ax, res in zip(axes[0], results):
        for row in res["ranks"]:
            mib = [b / 1048576 if b else None for b in res["series"][row["rank"]]]
            ax.plot(res["epoch_list"], mib, label=f"r{row['rank']} {row['roles']}")
        ax.set_title(f"{res['transport'].upper()}: RSS per rank")
        ax.set_xlabel("epoch")
        ax.set_ylabel("VmRSS (MiB)")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def summary(out, samples, results):
    lines = [f"# Soak: {results[0]['epochs']} epochs, {samples} samples, rebalancing on", "",
             f"Machine: {platform.node()}, {os.cpu_count()} cores; load at the end: "
             f"{' '.join(open('/proc/loadavg').read().split()[:3])}", "",
             f"| transport | rank | role | RSS epoch {FIRST_EPOCH} (MiB) | RSS last epoch (MiB) | growth % | "
             f"<= {GOAL_GROWTH_PERCENT} % |", "|---|---|---|---|---|---|---|"]
    for res in results:
        for row in res["ranks"]:
            lines.append(f"| {res['transport']} | {row['rank']} | {row['roles']} | "
                         f"{row['rss_epoch_2'] / 1048576:.2f} | {row['rss_last'] / 1048576:.2f} | "
                         f"{row['growth_percent']:+.3f} | {'yes' if row['met'] else 'NO'} |")
    lines.append("")
    for res in results:
        lines.append(f"- {res['transport']}: {res['consumers']} consumers, {res['epochs']} epochs each with every "
                     f"sample once and the IDs of ferry local: {'yes' if not res['problems'] else 'see below'}; "
                     f"cache peak {res['cache_peak_bytes']} of {res['cache_capacity']} bytes per server; "
                     f"{res['role_moves']} role moves")
        lines += [f"  - FAILED: {p}" for p in res["problems"]]
    with open(f"{out}/summary.md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    out, samples, transports = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    results = [analyse(out, samples, t) for t in transports]
    plot(results, f"{out}/rss_per_rank.png")
    summary(out, samples, results)
    with open(f"{out}/results.json", "w") as f:
        json.dump([{k: v for k, v in r.items() if k not in ("series", "epoch_list")} for r in results], f,
                  indent=1)
    sys.exit(1 if any(r["problems"] for r in results) else 0)


if __name__ == "__main__":
    main()
