"""Issue 14, goal 7 (reads overlap work): the cold epoch with the transformation rank's read-ahead off
(`runtime.read_ahead_bytes = 0`: reads on the progress thread) against on (the default budget), in the same
command, on the image and cosmo sets. perf/suite.py runs it as `--only readahead`.

Every epoch is cold (`cache_bytes = 0`). Figures per set, each a ratio on over off:
- cold epoch samples/s: samples over the slowest consumer's epoch time, epochs after the first (the first
  carries start-up), from the 3-epoch runs;
- CPU-ms per delivered sample (issue 14, goal 3): every rank's getrusage, (3-epoch run - 1-epoch run) over
  the samples of the 2 epochs between them, as the `cpu` benchmark computes it;
- scaling of the cold epoch with 1, 2 and 4 transformation ranks (read-ahead on and off), against 1 (not in
  the quick run).
Runs alternate off and on so that a change of the machine's load falls on both.
"""

import os

from suite_data import dataset
from suite_report import plot_lines

KINDS = ["image", "cosmo"]
SETTINGS = {"off": 0, "on": 64 << 20}


def _run(s, kind, tpl, epochs, budget, transformers):
    """One cold run: (process CPU-s summed over ranks, samples delivered, cold samples/s after epoch 0)."""
    name = f"readahead_{kind}_{budget}_{transformers}t_{epochs}e"
    extra = f"read_ahead_bytes = {budget}\ntransformers = {transformers}"
    cfg = s.config(name, [dict(tpl, name=kind, epochs=epochs)], cache_bytes=0, extra_runtime=extra)
    lines = s.ferry_run(name, cfg, s.consumers, service=2 + transformers)
    ranks = [x for x in lines if x.get("kind") == "rank"]
    if not ranks:
        return None
    per_epoch = s.rank_epochs(ranks)
    later = [v for k, v in per_epoch.items() if k > 0]
    seconds = sum(v[1] for v in later)
    rate = sum(v[0] for v in later) / seconds if seconds > 0 else None
    return (sum(x.get("process_cpu_s", 0.0) for x in ranks), sum(v[0] for v in per_epoch.values()), rate)


def bench_read_ahead(s):
    s.log("readahead: cold epoch with the transformation rank's read-ahead off and on (issue 14, goal 7)")
    curves = {}
    for kind in KINDS:
        tpl, _ = dataset(s, kind)
        got = {}
        for epochs in (1, 3):
            for setting, budget in SETTINGS.items():
                got[(setting, epochs)] = _run(s, kind, tpl, epochs, budget, 1)
        rate, cpu = {}, {}
        for setting in SETTINGS:
            one, three = got[(setting, 1)], got[(setting, 3)]
            if one and three and three[1] > one[1]:
                cpu[setting] = 1000 * (three[0] - one[0]) / (three[1] - one[1])
            rate[setting] = three[2] if three else None
        s.record("readahead", kind, "cold epoch samples/s, read-ahead on vs off", rate["on"], "samples/s",
                 rate["off"], "read_ahead_bytes = 0")
        s.record("readahead", kind, "cold epoch CPU-ms per sample, on vs off", cpu.get("on"), "CPU-ms/sample",
                 cpu.get("off"), "read_ahead_bytes = 0", higher_is_better=False)
        s.log(f"  {kind}: off {rate['off']} samples/s {cpu.get('off')} CPU-ms/sample, "
              f"on {rate['on']} samples/s {cpu.get('on')} CPU-ms/sample")
        scaling = {setting: {1: rate[setting]} for setting in SETTINGS}
        if s.quick:  # CI's quick run: the on/off ratios only
            continue
        for transformers in (2, 4):
            for setting, budget in SETTINGS.items():
                r = _run(s, kind, tpl, 3, budget, transformers)
                scaling[setting][transformers] = r[2] if r else None
        for transformers in (1, 2, 4):
            for setting in SETTINGS:
                if transformers > 1:
                    s.record("readahead", f"{kind}, read-ahead {setting}", f"cold samples/s, {transformers} "
                             "transformers vs 1", scaling[setting][transformers], "samples/s",
                             scaling[setting][1], "1 transformer")
            if transformers > 1:
                s.record("readahead", f"{kind}, {transformers} transformers", "cold samples/s, on vs off",
                         scaling["on"][transformers], "samples/s", scaling["off"][transformers],
                         "read_ahead_bytes = 0")
        for setting in SETTINGS:
            curves[f"{kind}, read-ahead {setting}"] = scaling[setting]
    plot_lines(s.out, "read_ahead_scaling.png", f"Cold epoch vs transformation ranks on {os.cpu_count()} cores",
               "transformation ranks", "samples/s", curves)
    s.ratio_lines("readahead")
