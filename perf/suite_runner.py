"""The suite's state and how it runs programs (perf/suite.py): the output folders, the programs of the build,
subprocesses with their logs under raw/, Ferry's configs and runs through ferry_bench, the result rows and
their ratio lines, and the per-epoch figures read from ferry_bench's JSON lines."""

import json
import os
import subprocess
import sys
import time

from suite_report import fmt

KiB, MiB = 1024, 1024 * 1024


class Suite:
    def __init__(self, args):
        self.a = args
        self.quick = args.quick
        self.out = os.path.abspath(args.out)
        self.raw = os.path.join(self.out, "raw")
        self.data = os.path.join(self.out, "data")
        os.makedirs(self.raw, exist_ok=True)
        os.makedirs(self.data, exist_ok=True)
        build = os.path.abspath(args.build_dir)
        self.bench = os.path.join(build, "perf", "ferry_bench")
        self.gen = os.path.join(build, "src", "apps", "ferry-gen")
        self.importer = os.path.join(build, "src", "apps", "ferry-import")
        self.first_read = os.path.join(build, "perf", "first_read")
        for exe in (self.bench, self.gen, self.importer, self.first_read):
            if not os.access(exe, os.X_OK):
                sys.exit(f"perf: missing {exe} (build with -DFERRY_BUILD_PERF=ON)")
        self.timeout = 90 if self.quick else 300
        self.rows = []      # one per reported figure
        self.raw_lines = {}  # benchmark -> list of JSON records
        self.consumers = 2  # consumer processes of the comparisons (2 cores)
        self.t_start = time.time()

    # ---- running things ---------------------------------------------------------------------------------------
    def log(self, text):
        print(f"[{time.time() - self.t_start:6.1f}s] {text}", flush=True)

    def sh(self, cmd, name, env=None, timeout=None):
        """Runs cmd (a list); its output goes to raw/NAME.log. Returns True on exit 0."""
        full_env = dict(os.environ)
        full_env.setdefault("FERRY_LOG_LEVEL", "warn")
        full_env.update(env or {})
        with open(os.path.join(self.raw, name + ".log"), "a") as log:
            log.write("$ " + " ".join(cmd) + "\n")
            log.flush()
            try:
                rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=full_env,
                                    timeout=timeout or self.timeout).returncode
            except subprocess.TimeoutExpired:
                log.write(f"perf: timed out after {timeout or self.timeout} s\n")
                self.log(f"  {name}: TIMEOUT")
                return False
        if rc != 0:
            self.log(f"  {name}: exit {rc} (see raw/{name}.log)")
        return rc == 0

    def mpirun(self, n):
        flags = ["mpirun", "-n", str(n), "--oversubscribe", "--bind-to", "none"]
        if os.geteuid() == 0:
            flags.append("--allow-run-as-root")
        return flags

    def fresh(self, name):
        """raw/NAME with nothing in it yet (the programs append their JSON lines)."""
        path = os.path.join(self.raw, name)
        if os.path.exists(path):
            os.remove(path)
        return path

    def read_jsonl(self, path):
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    # ---- results ----------------------------------------------------------------------------------------------
    def record(self, bench, case, metric, value, unit, baseline=None, baseline_name="", goal=None, goal_text="",
               higher_is_better=True, note=""):
        ratio = value / baseline if (value is not None and baseline) else None
        met = None
        if goal is not None:
            x = ratio if baseline is not None else value
            if x is not None:
                met = x >= goal if higher_is_better else x <= goal
        self.rows.append({"benchmark": bench, "case": case, "metric": metric, "value": value, "unit": unit,
                          "baseline": baseline, "baseline_name": baseline_name, "ratio": ratio,
                          "goal": goal_text, "met": met, "note": note})

    def ratio_lines(self, bench):
        print(f"--- {bench}: ratios", flush=True)
        for r in self.rows:
            if r["benchmark"] != bench:
                continue
            shown = f"{r['ratio']:.3f}" if r["ratio"] is not None else fmt(r["value"])
            verdict = "" if r["met"] is None else ("  goal met" if r["met"] else "  GOAL MISSED")
            base = f" / {r['baseline_name']} {fmt(r['baseline'])}" if r["baseline"] is not None else ""
            goal = f" (goal {r['goal']})" if r["goal"] else ""
            print(f"ratio {bench} {r['case']} {r['metric']}: {shown}  [{fmt(r['value'])} {r['unit']}{base}]"
                  f"{goal}{verdict}", flush=True)

    # ---- Ferry's runs -----------------------------------------------------------------------------------------
    def config(self, name, pipelines, cache_bytes, extra_runtime=""):
        """Writes a TOML config; pipelines: list of dicts with name, seed, epochs, batch, files, fields,
        layout, prepare, augment."""
        text = ['log_level = "warn"', "[runtime]", f"cache_bytes = {int(cache_bytes)}",
                f'stats_file = "{os.path.join(self.raw, name + ".stats.jsonl")}"', extra_runtime]
        for p in pipelines:
            fields = ", ".join(f'{k} = "{v}"' for k, v in p["fields"].items())
            text += ["[[pipeline]]", f'name = "{p["name"]}"', f"seed = {p.get('seed', 1)}",
                     f"epochs = {p['epochs']}", f"batch_size = {p['batch']}", f"cache_id = {p.get('cache_id', 0)}",
                     "[pipeline.dataset]", f'layout = "{p.get("layout", "stacked")}"',
                     f'files = ["{p["files"]}"]', f"fields = {{ {fields} }}"]
            if p.get("prepare"):
                text += ["[pipeline.prepare]"] + [f'{k} = "{v}"' for k, v in p["prepare"].items()]
            if p.get("augment"):
                text += ["[pipeline.augment]"] + [f'{k} = "{v}"' for k, v in p["augment"].items()]
        path = os.path.join(self.raw, name + ".toml")
        with open(path, "w") as f:
            f.write("\n".join(text) + "\n")
        return path

    def ferry_run(self, name, config, consumers, step_ms=0, service=3):
        """ferry_bench run: the Runtime with `service` service ranks; its JSON lines ([] when it failed)."""
        cmd = [self.bench, "run", config, self.fresh(name + ".jsonl")]
        if step_ms:
            cmd += ["--step-ms", str(step_ms)]
        return self._ferry_bench(name, self.mpirun(service + consumers), cmd)

    def ferry_local(self, name, config, consumers):
        """ferry_bench local: LocalLoader on every rank; its JSON lines ([] when it failed)."""
        return self._ferry_bench(name, self.mpirun(consumers),
                                 [self.bench, "local", config, self.fresh(name + ".jsonl")])

    def _ferry_bench(self, name, launcher, cmd):
        ok = self.sh(launcher + cmd, name)
        lines = self.read_jsonl(os.path.join(self.raw, name + ".jsonl"))
        self.raw_lines.setdefault(name, lines)
        return lines if ok else []

    # ---- per-epoch figures ------------------------------------------------------------------------------------
    def rank_epochs(self, ranks):
        """{epoch: [samples of every consumer, slowest consumer's seconds]} from ferry_bench's rank lines."""
        per_epoch = {}
        for x in ranks:
            for p in x.get("pipelines", []):
                add_epochs(per_epoch, p["epochs"])
        return per_epoch

    def ferry_epochs(self, lines):
        """(cold samples/s, cached samples/s) over the consumers: samples / slowest consumer's epoch time."""
        per_epoch = self.rank_epochs([x for x in lines if x.get("role") == "consumer"])
        rates = {k: v[0] / v[1] for k, v in per_epoch.items() if v[1] > 0}
        if not rates:
            return None, None
        cached = [r for k, r in rates.items() if k > 0]
        return rates.get(0), (sum(cached) / len(cached) if cached else None)

    def local_epochs(self, lines):
        """The best epoch's samples/s of a ferry_local run (samples of every rank / slowest rank's time)."""
        per_epoch = {}
        for x in lines:
            add_epochs(per_epoch, x.get("epochs", []))
        rates = [v[0] / v[1] for v in per_epoch.values() if v[1] > 0]
        return max(rates) if rates else None


def add_epochs(per_epoch, epochs):
    """Adds one rank's epoch records to {epoch: [samples, slowest seconds]}."""
    for e in epochs:
        d = per_epoch.setdefault(e["epoch"], [0, 0.0])
        d[0] += e["samples"]
        d[1] = max(d[1], e["seconds"])
