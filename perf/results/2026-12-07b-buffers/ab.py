#!/usr/bin/python3
"""A/B of two ferry_bench binaries on the validation configs, alternating: epoch seconds, rank CPU, faults."""
import json, os, subprocess, sys, re
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")
bins = {"old": "/work/old/ferry_bench_c0899b2", "new": sys.argv[1]}
points = sys.argv[2].split(",")   # e.g. p3:3,p8-small:8
rounds = int(sys.argv[3])
epochs = sys.argv[4] if len(sys.argv) > 4 else "2"
for r in range(rounds):
    for name in (["old", "new"] if r % 2 == 0 else ["new", "old"]):
        for pt in points:
            p, n = pt.split(":")
            src = open(f"/tmp/ferry-model-validate/val_{p}.toml").read()
            toml = f"/work/ab/{p}.toml"
            open(toml, "w").write(re.sub(r"epochs = \d+", f"epochs = {epochs}", src))
            out = f"/work/ab/{p}_{name}.jsonl"
            if os.path.exists(out): os.remove(out)
            cmd = ["perf", "stat", "-x,", "-e", "page-faults", "--", "mpirun", "-n", n, bins[name], "run", toml, out]
            pr = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
            faults = next((l.split(",")[0] for l in pr.stderr.splitlines() if "page-faults" in l), "?")
            lines = [json.loads(l) for l in open(out) if l.strip()]
            cpu = {}
            eps = None
            for l in lines:
                if l.get("kind") != "rank": continue
                cpu[l["role"]] = cpu.get(l["role"], 0) + l.get("cpu_s", 0)
                if l["role"] == "consumer" and eps is None:
                    eps = [round(e["seconds"], 2) for e in l["pipelines"][0]["epochs"]]
            cons = [l for l in lines if l.get("kind") == "rank" and l["role"] == "consumer"]
            ep = [max(c["pipelines"][0]["epochs"][i]["seconds"] for c in cons) for i in range(len(eps))]
            print(f"round {r} {name:3} {p:9} rc {pr.returncode} epochs_s {[round(x,2) for x in ep]} faults {faults} "
                  f"cpu {{{', '.join(f'{k}: {v:.1f}' for k, v in sorted(cpu.items()))}}}", flush=True)
