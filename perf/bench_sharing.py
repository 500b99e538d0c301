"""4. Sharing (perf/README.md): K pipelines over one dataset in one job against K separate runs, HDF5 bytes
read and prepare CPU-seconds, in this run. The suite (perf/suite.py) runs it as `--only sharing`."""

import os

from suite_data import gen_image
from suite_report import plot_lines
from suite_runner import MiB


def _totals(lines):
    """(HDF5 bytes read, prepare CPU-s) over the transformers of a run; (None, None) when it failed."""
    tr = [x for x in lines if x.get("role") == "transformer"]
    if not tr:
        return None, None
    return (sum(x["hdf5_bytes"] for x in tr), sum(max(0.0, x["cpu_s"] - x["idle_cpu_s"]) for x in tr))


def bench_sharing(s):
    s.log("4. sharing: K pipelines over one dataset against K separate runs")
    path = os.path.join(s.data, "share64.h5")
    n = 2000 if s.quick else 8000
    gen_image(s, path, n, 64)
    base = dict(files=path, fields={"image": "/images", "label": "/labels"}, batch=32, epochs=2,
                prepare={"image": "cast(scale=0.00392157) | hwc_to_chw"}, augment={"image": "random_flip"})
    cache = n * 49280 * 1.2 + 16 * MiB
    separate = {}
    for k in range(1, 5):
        cfg = s.config(f"share_separate_{k}", [dict(base, name=f"p{k}", seed=k)], cache)
        separate[k] = _totals(s.ferry_run(f"share_separate_{k}", cfg, s.consumers))
    points = {}
    for K in [1, 2, 4]:
        cfg = s.config(f"share_K{K}", [dict(base, name=f"p{k}", seed=k) for k in range(1, K + 1)], cache)
        shared = _totals(s.ferry_run(f"share_K{K}", cfg, s.consumers))
        sep = [separate[k] for k in range(1, K + 1)]
        if shared[0] is None or any(x[0] is None for x in sep):
            s.record("sharing", f"K={K}", "HDF5 bytes read vs K separate runs", None, "bytes")
            continue
        sep_bytes, sep_cpu = sum(x[0] for x in sep), sum(x[1] for x in sep)
        points[K] = (shared[0], sep_bytes, shared[1], sep_cpu)
        s.record("sharing", f"K={K}", "HDF5 bytes read vs K separate runs", shared[0], "bytes", sep_bytes,
                 "separate", 1.05 / K, f"<= {1.05 / K:.3f}", higher_is_better=False)
        s.record("sharing", f"K={K}", "prepare CPU-s vs K separate runs", shared[1], "CPU-s", sep_cpu, "separate")
    if not s.a.keep_data:
        os.remove(path)
    ks = sorted(points)
    plot_lines(s.out, "sharing.png", "K pipelines over one dataset (2 epochs each)", "K pipelines",
               "HDF5 MiB read / prepare CPU-s",
               {"HDF5 MiB, shared": {k: points[k][0] / MiB for k in ks},
                "HDF5 MiB, K separate runs": {k: points[k][1] / MiB for k in ks},
                "prepare CPU-s x100, shared": {k: 100 * points[k][2] for k in ks},
                "prepare CPU-s x100, separate": {k: 100 * points[k][3] for k in ks}})
    s.ratio_lines("sharing")
