"""Ferry's benchmark suite (perf/README.md). perf/run.sh builds Ferry and calls this with /usr/bin/python3.

    /usr/bin/python3 perf/suite.py --build-dir build-perf --out perf/out/DATE [--quick] [--only hit,epoch,...]

Every benchmark measures Ferry and its baseline in this same run and prints its ratio lines last. The output
folder gets results.csv, results.json, summary.md, one PNG per figure, raw/ (every program's JSON lines and
logs) and data/ (the generated datasets, deleted at the end unless --keep-data).

This file is the command line. The benchmarks are perf/bench_*.py (one function of the Suite each); the
Suite's runs and result rows are perf/suite_runner.py, its datasets perf/suite_data.py, its plots and
reports perf/suite_report.py.
"""

import argparse
import shutil
import sys
import time

from bench_epoch import bench_cpu, bench_epoch
from bench_hit import bench_hit
from bench_read_ahead import bench_read_ahead
from bench_rebalance import bench_rebalance
from bench_scaling import bench_scaling
from bench_service import bench_service
from bench_sharing import bench_sharing
from suite_report import machine, write
from suite_runner import Suite

BENCHMARKS = ["hit", "epoch", "naive", "cpu", "sharing", "service", "scaling", "rebalance", "readahead"]
STEPS = {"hit": bench_hit, "cpu": bench_cpu, "sharing": bench_sharing, "service": bench_service,
         "scaling": bench_scaling, "rebalance": bench_rebalance, "readahead": bench_read_ahead}


def parse_args():
    p = argparse.ArgumentParser(description="Ferry's benchmark suite")
    p.add_argument("--build-dir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--only", default=",".join(BENCHMARKS), help="comma list of " + ",".join(BENCHMARKS))
    p.add_argument("--keep-data", action="store_true")
    a = p.parse_args()
    for b in a.only.split(","):
        if b not in BENCHMARKS:
            sys.exit(f"perf: unknown benchmark '{b}' (known: {','.join(BENCHMARKS)})")
    return a


def run_one(s, b, only):
    """Benchmark b; epoch and naive share their runs (naive alone runs them without PyTorch)."""
    if b == "epoch":
        bench_epoch(s, with_torch=True, with_naive="naive" in only)
    elif b == "naive":
        if "epoch" not in only:
            bench_epoch(s, with_torch=False, with_naive=True)
    else:
        STEPS[b](s)


def main():
    a = parse_args()
    only = a.only.split(",")
    s = Suite(a)
    about = machine(s.quick)
    for b in BENCHMARKS:
        if b not in only:
            continue
        try:
            run_one(s, b, only)
        except Exception as e:  # a broken benchmark must not hide the others' results
            s.log(f"  {b}: FAILED: {type(e).__name__}: {e}")
            s.record(b, "error", f"{type(e).__name__}: {e}", None, "")
    about["suite_seconds"] = time.time() - s.t_start
    write(s.out, s.rows, s.raw_lines, about)
    if not a.keep_data:
        shutil.rmtree(s.data, ignore_errors=True)
    print(f"\nperf: {len(s.rows)} figures in {s.out}/summary.md ({about['suite_seconds']:.0f} s)", flush=True)
    print("\n=== all ratio lines ===", flush=True)
    for b in BENCHMARKS:
        s.ratio_lines(b) if any(r["benchmark"] == b for r in s.rows) else None
    for b in ["control", "idle", "memory"]:
        s.ratio_lines(b)
    return 0


if __name__ == "__main__":
    sys.exit(main())
