"""What the suite writes (perf/suite.py): the figures' number format, the plots (matplotlib, Agg; none when it
is missing), the machine's description, and results.csv, results.json and summary.md."""

import csv
import datetime
import glob
import json
import os
import platform
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLUMNS = ["benchmark", "case", "metric", "value", "unit", "baseline", "baseline_name", "ratio", "goal", "met",
           "note"]


def fmt(v):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) >= 100:
            return f"{v:,.0f}"
        if abs(v) >= 1:
            return f"{v:.2f}"
        return f"{v:.4f}"
    return str(v)


# ---- plots ------------------------------------------------------------------------------------------------------
def _pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _save(plt, fig, ax, out, name):
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, name), dpi=110)
    plt.close(fig)


def plot_lines(out, name, title, xlabel, ylabel, curves, logx=False, logy=False):
    """OUT/NAME: one line per curve ({label: {x: y}}); points without a y are left out."""
    plt = _pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, pts in curves.items():
        xs = [x for x in sorted(pts) if pts[x]]
        if xs:
            ax.plot(xs, [pts[x] for x in xs], marker="o", label=label)
    if logx:
        ax.set_xscale("log", base=2)
    if logy:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(True, alpha=0.3)
    _save(plt, fig, ax, out, name)


def plot_bars(out, name, title, groups, log=True):
    """OUT/NAME: one group of bars per key of groups ({group: {label: value}})."""
    plt = _pyplot()
    if plt is None:
        return
    labels = []
    for g in groups.values():
        for k in g:
            if k not in labels:
                labels.append(k)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / max(1, len(labels))
    for i, label in enumerate(labels):
        xs = [j + i * width for j in range(len(groups))]
        ax.bar(xs, [g.get(label) or 0 for g in groups.values()], width, label=label)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(groups))])
    ax.set_xticklabels(list(groups))
    if log:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.grid(True, axis="y", alpha=0.3)
    _save(plt, fig, ax, out, name)


# ---- reports ----------------------------------------------------------------------------------------------------
def machine(quick):
    def cmd(c):
        try:
            return subprocess.run(c, capture_output=True, text=True, timeout=10, shell=True).stdout.strip()
        except Exception:
            return ""
    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpu": cmd("lscpu | sed -n 's/^Model name: *//p'"),
        "cores": os.cpu_count(),
        "memory": cmd("free -h | awk '/Mem:/ {print $2}'"),
        "kernel": platform.release(),
        "os": cmd(". /etc/os-release && echo $PRETTY_NAME"),
        "mpi": cmd("mpirun --version 2>&1 | head -1"),
        "ucx": cmd("ucx_info -v 2>&1 | head -1"),
        "load_before": os.getloadavg()[0],
        "ucx_tls": os.environ.get("UCX_TLS", "(default)"),
        "mode": "quick" if quick else "full",
        "git": cmd(f"git -C {ROOT} rev-parse --short HEAD"),
    }


def write(out, rows, raw_lines, machine):
    """OUT/results.csv, OUT/results.json (with every program's JSON lines) and OUT/summary.md."""
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow(r)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"machine": machine, "results": rows, "raw": raw_lines}, f, indent=1)
    md = [f"# Ferry benchmark summary ({machine['mode']} run)", "",
          f"- date: {machine['date']}, git {machine['git']}",
          f"- machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory']} RAM, {machine['os']}, "
          f"kernel {machine['kernel']}",
          f"- {machine['mpi']}; {machine['ucx']}; UCX_TLS {machine['ucx_tls']}",
          f"- load average when started: {machine['load_before']:.2f} (the cores may be shared)",
          f"- wall time of the suite: {machine['suite_seconds']:.0f} s", "",
          "| benchmark | case | metric | Ferry | baseline | ratio | goal | met |",
          "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        base = f"{fmt(r['baseline'])} ({r['baseline_name']})" if r["baseline"] is not None else ""
        ratio = f"{r['ratio']:.3f}" if r["ratio"] is not None else ""
        met = "" if r["met"] is None else ("yes" if r["met"] else "**no**")
        md.append(f"| {r['benchmark']} | {r['case']} | {r['metric']} | {fmt(r['value'])} {r['unit']} | {base} "
                  f"| {ratio} | {r['goal']} | {met} |")
    md += ["", "Plots: " + ", ".join(f"[{os.path.basename(p)}]({os.path.basename(p)})"
                                    for p in sorted(glob.glob(os.path.join(out, "*.png")))), ""]
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write("\n".join(md))
