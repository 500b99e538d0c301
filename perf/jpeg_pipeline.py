#!/usr/bin/python3
"""The ImageNet-style JPEG pipeline against torchvision, on the same HDF5 file, ratios from one run.

    /usr/bin/python3 perf/jpeg_pipeline.py --build build [--samples 1024] [--rounds 3] [--core 1]
        [--run-epochs 6] [--before-build OTHER_BUILD] [--out perf/results/DIR]

1. Single core, decode every epoch: Ferry `ferry local` (1 rank, pinned to one core, Kokkos Serial)
   with augment = decode_jpeg | random_resized_crop(224) | random_flip | cast | normalize, against
   torchvision in one process on the same core (torch.set_num_threads(1)): h5py read per sample,
   torchvision.io.decode_jpeg + RandomResizedCrop(224, bilinear, antialias=False) + RandomHorizontalFlip +
   float/255 + Normalize, and the PIL path (Image.open + RandomResizedCrop (PIL's antialiased bilinear) +
   flip + ToTensor + Normalize). Images/s of the best of the epochs.
2. Cached: `ferry run` (randomizer, cache server, transformer, 1 consumer) with prepare = decode_jpeg |
   resize(shorter=256) | center_crop(256) held as u8 in the cache and augment = random_resized_crop(224) |
   random_flip | cast | normalize on the consumer; epochs after the first against the torchvision figure
   of 1 (what a PyTorch DataLoader with num_workers=0 does every epoch).
   The other placement, decode in augment (no prepare, the JPEG bytes are the entries): epoch 0 reads,
   epoch 1 reads and inserts, epochs 2.. take the JPEG bytes from the cache (docs/cache.md, "Variable
   entries"); their mean against epoch 0 of the same run, and against --before-build's epochs 2.. (a build
   that does not cache variable-length entries reads them every epoch).
3. Where the single-core time goes: decode alone on the same core, Ferry (`decode_jpeg | center_crop(224)`)
   and torchvision.io.decode_jpeg (both libjpeg-turbo with its default islow IDCT and fancy upsampling), and
   the pipeline with `decode_jpeg(fast=true)` (ifast IDCT, plain upsampling: other pixel values, an option).
The load average is recorded at start and end: on shared cores the absolute figures move with it, the
ratios (both sides measured in the same rounds) much less.
Writes summary.md and results.json to --out.
"""
import argparse
import io
import json
import os
import platform
import re
import subprocess
import sys
import time

import h5py
import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision import transforms
from torchvision.io import decode_jpeg

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
NORM = f"normalize(mean=[{', '.join(map(str, MEAN))}], std=[{', '.join(map(str, STD))}])"
AUGMENT = f"random_resized_crop(size=224) | random_flip | cast(scale=0.00392156862745098) | {NORM}"
PREPARE = "decode_jpeg | resize(shorter=256) | center_crop(size=256)"
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1", OMP_NUM_THREADS="1")


def sh(cmd):
    print("+", " ".join(cmd), flush=True)
    out = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"failed ({out.returncode}): {' '.join(cmd)}\n{out.stdout}\n{out.stderr}")
    return out.stdout + out.stderr


def epoch_rates(text):
    """samples/s per epoch from the table ferry local and ferry run print (pipeline epoch samples samples/s)."""
    rates = {}
    for m in re.finditer(r"^default\s+(\d+)\s+(\d+)\s+(\d+)", text, re.M):
        rates[int(m.group(1))] = float(m.group(3))
    return [rates[e] for e in sorted(rates)]


def ferry_flags(data, epochs, batch):
    return ["--dataset.layout", "vlen", "--dataset.files", data, "--dataset.fields", "image=/images,label=/labels",
            "--batch_size", str(batch), "--epochs", str(epochs)]


def torchvision_rate(data, epochs, use_pil, decode_only=False):
    torch.set_num_threads(1)
    crop = transforms.RandomResizedCrop(224, antialias=False) if not use_pil else transforms.RandomResizedCrop(224)
    flip = transforms.RandomHorizontalFlip()
    norm = transforms.Normalize(MEAN, STD)
    to_tensor = transforms.ToTensor()
    best = 0.0
    with h5py.File(data, "r") as f:
        images, labels = f["images"], f["labels"]
        n = images.shape[0]
        for _ in range(epochs):
            order = torch.randperm(n).tolist()
            t0 = time.perf_counter()
            for i in order:
                raw = images[i]  # one h5py read per sample, as a Dataset's __getitem__ does
                _ = int(labels[i])
                if decode_only:
                    x = decode_jpeg(torch.from_numpy(raw))
                elif use_pil:
                    x = norm(to_tensor(flip(crop(Image.open(io.BytesIO(raw.tobytes())).convert("RGB")))))
                else:
                    x = norm(flip(crop(decode_jpeg(torch.from_numpy(raw)))).float().div_(255))
            best = max(best, n / (time.perf_counter() - t0))
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    # A multiple of the batch (64): epoch 0 then prepares every sample, so every later epoch is all hits.
    ap.add_argument("--samples", type=int, default=1024)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--core", type=int, default=1)
    ap.add_argument("--run-epochs", type=int, default=6,
                    help="ferry run epochs (the first is cold; decode in augment: the first two), at least 3")
    ap.add_argument("--before-build", help="another build (e.g. main's) measured in the same rounds and runs")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default="perf/out/jpeg")
    args = ap.parse_args()
    if args.run_epochs < 3:
        ap.error("--run-epochs must be at least 3 (decode in augment caches from epoch 2 on)")
    os.makedirs(args.out, exist_ok=True)
    data = os.path.join(args.out, "imagenet_like.h5")
    ferry = os.path.join(args.build, "src", "apps", "ferry")
    sh([os.path.join(args.build, "src", "apps", "ferry-gen"), "jpeg", "--out", data, "--samples", str(args.samples)])
    with h5py.File(data, "r") as f:
        mean_kb = float(np.mean([len(x) for x in f["images"][:200]])) / 1000

    # Rounds alternate Ferry and torchvision on the same core, best of each kept: on shared cores the load
    # changes from minute to minute, and both sides then see the same spread.
    load_start = os.getloadavg()
    pin = ["taskset", "-c", str(args.core)]
    best = dict.fromkeys(["ferry", "ferry_fast", "ferry_decode", "tv_tensor", "tv_pil", "tv_decode", "before"], 0.0)
    before = os.path.join(args.before_build, "src", "apps", "ferry") if args.before_build else None

    def ferry_local(augment, program=ferry):
        out = sh(pin + [program, "local"] + ferry_flags(data, args.epochs, 64) + ["--augment", "image=" + augment])
        return max(epoch_rates(out))

    def ferry_run(program, decode_in="prepare"):
        stages = (["--prepare", "image=" + PREPARE, "--augment", "image=" + AUGMENT] if decode_in == "prepare"
                  else ["--augment", "image=decode_jpeg | " + AUGMENT])
        return epoch_rates(sh(["mpirun", "-n", "4", program, "run"] + ferry_flags(data, args.run_epochs, 64) + stages))

    def mean(values):
        return sum(values) / len(values)

    for _ in range(args.rounds):
        if before:
            best["before"] = max(best["before"], ferry_local("decode_jpeg | " + AUGMENT, before))
        best["ferry"] = max(best["ferry"], ferry_local("decode_jpeg | " + AUGMENT))
        best["ferry_fast"] = max(best["ferry_fast"], ferry_local("decode_jpeg(fast=true) | " + AUGMENT))
        best["ferry_decode"] = max(best["ferry_decode"], ferry_local("decode_jpeg | center_crop(size=224)"))
        os.sched_setaffinity(0, {args.core})
        best["tv_tensor"] = max(best["tv_tensor"], torchvision_rate(data, args.epochs, use_pil=False))
        best["tv_pil"] = max(best["tv_pil"], torchvision_rate(data, args.epochs, use_pil=True))
        best["tv_decode"] = max(best["tv_decode"], torchvision_rate(data, args.epochs, False, decode_only=True))
        os.sched_setaffinity(0, set(range(os.cpu_count())))
    baseline = max(best["tv_tensor"], best["tv_pil"])

    before_rates = ferry_run(before) if before else []
    rates = ferry_run(ferry)
    cached = sum(rates[1:]) / len(rates[1:])
    before_aug = ferry_run(before, "augment") if before else []
    aug = ferry_run(ferry, "augment")
    load_end = os.getloadavg()

    single, tv = best["ferry"], best["tv_tensor"]
    rows = [
        ("single core, decode + random_resized_crop 224 + flip + normalize", "images/s", single,
         "torchvision decode_jpeg path", tv, f"{single / tv:.2f}x"),
        ("same, against the PIL path", "images/s", single, "PIL path", best["tv_pil"],
         f"{single / best['tv_pil']:.2f}x"),
        ("single core, decode alone (libjpeg-turbo, default islow IDCT + fancy upsampling)", "images/s",
         best["ferry_decode"], "torchvision.io.decode_jpeg alone", best["tv_decode"],
         f"{best['ferry_decode'] / best['tv_decode']:.2f}x"),
        ("single core pipeline with decode_jpeg(fast=true) (other pixel values)", "images/s", best["ferry_fast"],
         "torchvision decode_jpeg path", tv, f"{best['ferry_fast'] / tv:.2f}x"),
        ("ferry run cold epoch (decode in prepare, 1 transformer)", "images/s", rates[0], "best torchvision",
         baseline, f"{rates[0] / baseline:.2f}x"),
        ("ferry run cached epochs, mean (u8 256x256 in the cache)", "images/s", cached, "best torchvision",
         baseline, f"{cached / baseline:.2f}x (goal 5x)"),
        ("ferry run cached epochs, slowest", "images/s", min(rates[1:]), "best torchvision", baseline,
         f"{min(rates[1:]) / baseline:.2f}x (goal 5x)"),
        ("ferry run decode in augment, epochs 2.. mean (JPEG bytes cached)", "images/s", mean(aug[2:]),
         "its epoch 0 (read from HDF5)", aug[0], f"{mean(aug[2:]) / aug[0]:.2f}x"),
    ]
    if before:
        before_cached = sum(before_rates[1:]) / len(before_rates[1:])
        rows += [("single core pipeline, --before-build", "images/s", best["before"], "torchvision decode_jpeg path",
                  tv, f"{best['before'] / tv:.2f}x"),
                 ("ferry run cached epochs, mean, --before-build", "images/s", before_cached, "best torchvision",
                  baseline, f"{before_cached / baseline:.2f}x"),
                 ("ferry run decode in augment, epochs 2.. mean", "images/s", mean(aug[2:]),
                  "--before-build, epochs 2.. mean", mean(before_aug[2:]),
                  f"{mean(aug[2:]) / mean(before_aug[2:]):.2f}x")]
    machine = (f"{platform.node()}, {os.cpu_count()} cores, load average (1 min) {load_start[0]:.2f} at start, "
               f"{load_end[0]:.2f} at end; torchvision {torchvision.__version__}")
    lines = [f"# JPEG pipeline ({time.strftime('%Y-%m-%d %H:%M')})", "",
             f"{args.samples} synthetic ImageNet-like JPEGs (ferry-gen jpeg: longer side 400-500, quality 90, "
             f"4:2:0, mean {mean_kb:.0f} KB), batch 64; single-core figures: best epoch of {args.rounds} "
             f"alternating rounds of {args.epochs} epochs on core {args.core} (taskset); ferry run: "
             f"{args.run_epochs} epochs, cached = epochs 1..{args.run_epochs - 1}. Machine: {machine}.", "",
             "| figure | unit | Ferry | baseline | baseline value | ratio |", "|---|---|---|---|---|---|"]
    for name, unit, value, bname, bvalue, ratio in rows:
        lines.append(f"| {name} | {unit} | {value:.0f} | {bname} | {bvalue:.0f} | {ratio} |")
    lines += ["", f"ferry run epochs (images/s): {', '.join(f'{r:.0f}' for r in rates)}" +
              (f"; --before-build ({args.before_build}): {', '.join(f'{r:.0f}' for r in before_rates)}"
               if before else ""),
              f"ferry run decode in augment, epochs (images/s): {', '.join(f'{r:.0f}' for r in aug)}" +
              (f"; --before-build: {', '.join(f'{r:.0f}' for r in before_aug)}" if before else ""),
              f"Goal single core >= 400 images/s: {'met' if single >= 400 else 'missed'} ({single:.0f}).",
              f"Goal cached >= 5x: {'met' if min(rates[1:]) >= 5 * baseline else 'missed'} "
              f"(slowest cached epoch {min(rates[1:]) / baseline:.2f}x)."]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(args.out, "summary.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"ferry_single_core": single, "ferry_single_core_fast_decode": best["ferry_fast"],
                   "ferry_decode_alone": best["ferry_decode"], "torchvision_tensor": tv,
                   "torchvision_pil": best["tv_pil"], "torchvision_decode_alone": best["tv_decode"],
                   "ferry_run_epochs": rates, "before_single_core": best["before"],
                   "ferry_run_decode_in_augment_epochs": aug, "before_run_decode_in_augment_epochs": before_aug,
                   "before_run_epochs": before_rates, "samples": args.samples, "mean_jpeg_kb": mean_kb,
                   "load_average_start": load_start, "load_average_end": load_end}, f, indent=1)
    os.remove(data)


main()
