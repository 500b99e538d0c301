"""numpy's time for bench_transform's ops on the same arrays (written by bench_transform as raw files), the
way a PyTorch Dataset writes them (perf/torch_loader.py): one ufunc call per step, outputs preallocated.
Run by bench_transform with Debian's /usr/bin/python3; prints one line per op: `numpy OP SECONDS` (best of
--repeat, the whole batch).

    /usr/bin/python3 perf/numpy_kernels.py --u8 in_u8.raw --f32 in_f32.raw --shape 8,224,224,3
"""

import argparse
import time

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--u8", required=True)
    p.add_argument("--f32", required=True)
    p.add_argument("--shape", required=True)
    p.add_argument("--repeat", type=int, default=20)
    a = p.parse_args()
    n, h, w, c = (int(v) for v in a.shape.split(","))
    u8 = np.fromfile(a.u8, dtype=np.uint8).reshape(n, h, w, c)
    f32 = np.fromfile(a.f32, dtype=np.float32).reshape(n, h, w, c)
    y = np.empty_like(f32)
    chw = np.empty((n, c, h, w), dtype=np.float32)
    crop = np.empty((n, 192, 192, c), dtype=np.float32)
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)[:c]
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)[:c]
    scale = np.float32(0.0039)
    flips = np.array([s % 2 == 0 for s in range(n)])  # half the samples, as random_flip(p=0.5)
    rng = np.random.default_rng(1)

    def normalize():
        np.subtract(f32, mean, out=y)
        np.divide(y, std, out=y)

    def random_flip():
        for s in range(n):
            np.copyto(y[s], f32[s, :, ::-1] if flips[s] else f32[s])

    def noise():
        np.add(f32, np.float32(0.1) * rng.standard_normal(f32.shape, dtype=np.float32), out=y)

    ops = {
        "cast": lambda: np.multiply(u8, scale, out=y, dtype=np.float32),
        "normalize": normalize,
        "minmax": normalize,  # the same arithmetic: (x - min) / (max - min)
        "log1p": lambda: np.log1p(f32, out=y),
        "hwc_to_chw": lambda: np.copyto(chw, f32.transpose(0, 3, 1, 2)),
        "center_crop": lambda: np.copyto(crop, f32[:, 16:208, 16:208]),
        "random_flip": random_flip,
        "noise": noise,
    }
    for name, fn in ops.items():
        fn()
        best = float("inf")
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        print(f"numpy {name} {best:.9f}", flush=True)


if __name__ == "__main__":
    main()
