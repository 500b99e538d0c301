"""8. Scaling (perf/README.md): the Fashion-MNIST job at growing rank counts, 3 service ranks and the rest
consumers, cached epochs against the smallest count. On one machine the ranks are oversubscribed, so this
is functional, not a speed-up. The suite (perf/suite.py) runs it as `--only scaling`."""

import os

from suite_data import dataset
from suite_report import plot_lines


def bench_scaling(s):
    s.log("8. scaling sweep (oversubscribed on this machine: functional, not a speed-up)")
    tpl, _ = dataset(s, "fmnist")
    ranks = [4, 8] if s.quick else [4, 6, 8, 12, 16]
    scaling = {"cold epoch": {}, "cached epoch": {}}
    for r in ranks:
        cfg = s.config(f"scaling_{r}", [dict(tpl, name="fmnist", epochs=2)], cache_bytes=60000 * 3200 * 1.1)
        cold, cached = s.ferry_epochs(s.ferry_run(f"scaling_{r}", cfg, r - 3))
        scaling["cold epoch"][r] = cold
        scaling["cached epoch"][r] = cached
        s.record("scaling", f"{r} ranks ({r - 3} consumers)", "cached epoch samples/s", cached, "samples/s",
                 scaling["cached epoch"].get(ranks[0]), f"{ranks[0]} ranks")
    plot_lines(s.out, "scaling.png", f"Scaling sweep on {os.cpu_count()} cores (oversubscribed)",
               "MPI ranks (3 service + consumers)", "samples/s", scaling)
    s.ratio_lines("scaling")
