"""The model's per-role CPU costs (measure_inputs.py steps 3 and 4): `ferry_bench run` of each calibration config
with 2 and with 6 epochs (each role's CPU per epoch, the transformer's busy share of a core), and the cache
inserts' cost per byte (an epoch inserting every sample against one inserting almost none). cost_fit.py fits
the costs from the rows these return."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cost_fit  # noqa: E402
from runs import entry_bytes, role_cpu_after_setup, slab_holding  # noqa: E402

SAMPLES = 32768  # warm epochs last long enough (~0.1-0.3 s) that set-up noise does not swamp them
# (side, batch, cast, cold): cold = no cache server, every epoch reads and prepares every sample.
CALIBRATION = [(32, 16, True, True), (64, 16, True, True), (96, 16, True, True), (32, 64, True, True),
               (64, 16, False, True), (32, 16, True, False), (64, 16, True, False), (64, 64, False, False)]


def calibrate(runner):
    """Per-epoch CPU seconds per role for every calibration config (6-epoch run minus 2-epoch run, / 4)."""
    rows = []
    for side, batch, cast, cold in CALIBRATION:
        path, raw = runner.dataset(SAMPLES, side)
        cpu, busy_share = {}, None
        for epochs in (2, 6):
            name = f"calib_{side}_{batch}_{int(cast)}_{int(cold)}_{epochs}"
            toml = runner.config(name, path, epochs=epochs, batch=batch, servers=0 if cold else 1, transformers=1,
                                 cache_bytes=slab_holding(SAMPLES, side * side * 3 * (4 if cast else 1) + 4),
                                 cast=cast)
            lines, epoch_lines, _, load = runner.run(toml, 3 if cold else 4)
            cpu[epochs] = role_work(lines)
            seconds = [epoch_lines[e]["seconds"] for e in sorted(epoch_lines)]
            if epochs == 6 and cold:
                busy_share = dict(transformer=transformer_share(lines), probe=load["share"])
        per = {k: (cpu[6][k] - cpu[2][k]) / 4 for k in cpu[6]}
        rows.append(dict(side=side, batch=batch, cast=cast, cold=cold, raw=raw, entry=entry_bytes(lines),
                         samples=SAMPLES, batches=SAMPLES // batch, load=load, cpu=per, busy_share=busy_share,
                         epoch_seconds=seconds))
        print(f"calib side={side} batch={batch} cast={cast} cold={cold}: {per} "
              f"(core share {load['share']:.2f})", file=sys.stderr)
    return rows


def role_work(lines):
    """CPU seconds per role after set-up, waits included (a rank receives and copies inside its waits: the
    cache server's slab copies, UCX's rendezvous reads). Set-up is left out (mapping and faulting in the slabs
    costs a consumer more CPU than a warm epoch); the 6-epoch minus 2-epoch difference takes out the end."""
    return role_cpu_after_setup(lines)


def loop_cpu(lines):
    """Service ranks' CPU in their role loop, waits included (ServeReport cpu), by role: set-up (the slab's
    fault-in) is left out, which the process CPU would count."""
    out = {}
    for line in lines:
        if line.get("kind") == "rank" and "cpu_s" in line:
            out[line["role"]] = out.get(line["role"], 0.0) + line["cpu_s"]
    return out


def insert_cost(runner):
    """Per inserted byte: the transformer's extra CPU (its second send) and the cache server's (receiving and
    copying into the slab), one epoch inserting every sample against one inserting ~none (least of 3 each)."""
    path, _ = runner.dataset(SAMPLES, 64)
    busy, entry = {}, None
    for name, cache in (("all", slab_holding(SAMPLES, 64 * 64 * 3 * 4 + 4)), ("none", 1 << 20)):
        for _ in range(3):  # CPU seconds, least of 3: a loaded machine only ever adds
            toml = runner.config(f"insert_{name}", path, epochs=1, batch=16, servers=1, transformers=1,
                                 cache_bytes=cache, cast=True)
            lines, _, _, _ = runner.run(toml, 4)
            b = loop_cpu(lines)
            busy[name] = b if name not in busy else {k: min(v, busy[name][k]) for k, v in b.items()}
        entry = entry_bytes(lines)
    per_byte = cost_fit.insert_per_byte(busy, entry, SAMPLES)
    print(f"insert: {busy} -> {per_byte} s/B", file=sys.stderr)
    return per_byte, busy


def transformer_share(lines):
    """CPU over wall of the (single) transformer while busy: the share of a core a busy Ferry rank got."""
    t = next(line for line in lines if line.get("role") == "transformer")
    return (t["cpu_s"] - t["idle_cpu_s"]) / max(1e-9, t["wall_s"] - t["idle_wall_s"])
