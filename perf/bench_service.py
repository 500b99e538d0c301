"""5. Control overhead, 6. idle cost and 7. memory (perf/README.md), from one Fashion-MNIST run whose
consumers train a fixed time per batch, ferry_bench's permute and idle programs, and the epoch benchmark's
runs. The suite (perf/suite.py) runs them as `--only service`."""

from suite_data import dataset
from suite_report import plot_bars
from suite_runner import KiB

SERVICE_ROLES = ("randomizer", "cache_server", "transformer")


def _control(s, lines):
    """5. Control bytes per sample described, and the keyed permutation against std::shuffle."""
    rnd = [x for x in lines if x.get("role") == "randomizer"]
    if rnd and rnd[0]["samples_described"]:
        per = rnd[0]["control_bytes"] / rnd[0]["samples_described"]
        s.record("control", "fmnist", "control bytes per sample", per, "B/sample", goal=8, goal_text="<= 8",
                 higher_is_better=False)
    out = s.fresh("permute.jsonl")
    s.sh([s.bench, "permute", out, "--n", "1M" if s.quick else "16M"], "permute")
    perm = s.read_jsonl(out)
    s.raw_lines["permute"] = perm
    if perm:
        p = perm[0]
        s.record("control", f"n={p['n']}", "keyed permutation vs std::shuffle (ids/s)",
                 p["permutation_ids_per_s"], "ids/s", p["shuffle_ids_per_s"], "std::shuffle")
        s.record("control", f"n={p['n']}", "EpochPlan::batch_ids rate", p["plan_ids_per_s"], "ids/s")
    s.ratio_lines("control")


def bench_idle_wait(s):
    """The transport alone: ranks waiting in Fabric::wait() against the same ranks in a busy loop as long."""
    idle_wait = {}
    for backend in ("ucx", "mpi"):
        out = s.fresh(f"idle_{backend}.jsonl")
        ms = "500" if s.quick else "1500"
        s.sh(s.mpirun(4) + [s.bench, "idle", out, "--backend", backend, "--ms", ms], f"idle_{backend}")
        for x in s.read_jsonl(out):
            if x.get("kind") != "idle" or x["wall_s"] <= 0 or x["spin_wall_s"] <= 0:
                continue
            pct, spin = 100 * x["cpu_s"] / x["wall_s"], 100 * x["spin_cpu_s"] / x["spin_wall_s"]
            idle_wait[f"{backend} wait (rank {x['rank']})"] = pct
            s.record("idle", f"{backend} rank {x['rank']}", "Fabric::wait CPU / busy loop CPU", pct, "%",
                     spin, "busy loop", goal=0.05, goal_text="<= 0.05", higher_is_better=False,
                     note=f"{ms} ms wait, 4 ranks")
    return idle_wait


def _idle(s, lines, step):
    """6. CPU of the service ranks while the consumers train, over the whole run and inside blocking waits."""
    idle = {}
    for x in lines:
        if x.get("role") in SERVICE_ROLES and x["wall_s"] > 0:
            pct = 100 * x["cpu_s"] / x["wall_s"]
            idle[f"{x['role']} (rank {x['rank']})"] = pct
            s.record("idle", x["role"], "CPU while consumers train, % of a core", pct, "%", goal=2,
                     goal_text="<= 2", higher_is_better=False,
                     note=f"whole run incl. cold epoch; step {step} ms/batch")
        # Inside blocking waits only (ServeReport.idle_*): what an idle rank costs, without the work.
        if x.get("role") in SERVICE_ROLES and x.get("idle_wall_s", 0) > 0:
            s.record("idle", x["role"], "CPU inside blocking waits, % of a core",
                     100 * x["idle_cpu_s"] / x["idle_wall_s"], "%", goal=5, goal_text="<= 5",
                     higher_is_better=False, note=f"{x['idle_wall_s']:.2f} s waiting")
    idle_wait = bench_idle_wait(s)
    plot_bars(s.out, "idle_cpu.png", f"Idle CPU, % of a core: service ranks while consumers train ({step} ms/batch); "
              "ranks in Fabric::wait", {"fmnist": idle, "transport wait": idle_wait}, log=False)
    s.ratio_lines("idle")


def _memory(s, lines):
    """7. Slab bytes used against payload bytes, peak RSS per role (this run and the epoch runs)."""
    rss = {}
    for name in ["service_fmnist", "epoch_image", "epoch_cosmo"]:
        run = lines if name == "service_fmnist" else s.raw_lines.get(name, [])
        server = [x for x in run if x.get("role") == "cache_server"]
        rnd = [x for x in run if x.get("role") == "randomizer"]
        cons = [x for x in run if x.get("role") == "consumer"]
        if server and rnd and cons:
            c = cons[0]["pipelines"][0]
            per_sample = c["bytes"] / c["samples"] if c["samples"] else 0
            entries = sum(x["entries_stored"] for x in server)
            payload = entries * per_sample
            used = rnd[0]["cache_peak_bytes"] * len(server)
            if payload > 0:
                s.record("memory", name.split("_")[1], "cache bytes used / payload bytes - 1",
                         used / payload - 1, "fraction", goal=0.03, goal_text="<= 0.03",
                         higher_is_better=False, note=f"{int(per_sample)} B per sample")
        for x in run:
            role = x.get("role")
            if role:
                key = (name.split("_")[1], role)
                rss[key] = max(rss.get(key, 0), x["maxrss_kib"] / KiB)
    for (case, role), mib in sorted(rss.items()):
        s.record("memory", case, f"peak RSS {role}", mib, "MiB")
    by_case = {}
    for (case, role), mib in rss.items():
        by_case.setdefault(case, {})[role] = mib
    plot_bars(s.out, "memory_rss.png", "Peak RSS per role (MiB)", by_case, log=False)
    s.ratio_lines("memory")


def bench_service(s):
    s.log("5./6./7. control bytes, permutation rate, idle CPU of service ranks, memory")
    tpl, _ = dataset(s, "fmnist")
    step = 10 if s.quick else 20
    cfg = s.config("service_fmnist", [dict(tpl, name="fmnist", epochs=3)], cache_bytes=60000 * 3200 * 1.1)
    lines = s.ferry_run("service_fmnist", cfg, s.consumers, step_ms=step)
    _control(s, lines)
    _idle(s, lines, step)
    _memory(s, lines)
