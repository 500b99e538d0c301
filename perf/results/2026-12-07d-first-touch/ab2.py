#!/usr/bin/python3
"""A/B of two ferry_bench binaries on given configs, alternating; prints per-epoch seconds and serve CPU."""
import json, os, subprocess, sys, re
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")
bins = {"old": sys.argv[3], "new": sys.argv[4]}
points = sys.argv[1].split(",")   # toml:ranks
rounds = int(sys.argv[2])
for r in range(rounds):
    for name in (["old", "new"] if r % 2 == 0 else ["new", "old"]):
        for pt in points:
            src, n = pt.split(":")
            base = os.path.basename(src).replace(".toml", "")
            toml = f"/work/quiet9/ab/{base}_{name}.toml"
            stats = f"/work/quiet9/ab/{base}_{name}.stats.jsonl"
            text = re.sub(r'stats_file = ".*"', f'stats_file = "{stats}"', open(src).read())
            open(toml, "w").write(text)
            out = f"/work/quiet9/ab/{base}_{name}.jsonl"
            for f in (out, stats):
                if os.path.exists(f): os.remove(f)
            import time; t0 = time.time()
            pr = subprocess.run(["mpirun", "-n", n, bins[name], "run", toml, out], capture_output=True, text=True, env=ENV)
            wall = time.time() - t0
            eps, cpu, setup = [], {}, 0.0
            for l in open(stats):
                d = json.loads(l)
                if d.get("kind") == "epoch": eps.append(round(d["seconds"], 2))
                if d.get("kind") == "memory_setup": setup += d["seconds"]
                if d.get("kind") == "serve":
                    cpu[d["role"]] = cpu.get(d["role"], 0) + d["cpu_seconds"]
            print(f"round {r} {name} {base:12} rc {pr.returncode} epochs_s {eps} total {sum(eps):.1f} setup_s {setup:.1f} job_wall {wall:.1f} serve_cpu "
                  f"{ {k: round(v, 1) for k, v in sorted(cpu.items())} }", flush=True)
