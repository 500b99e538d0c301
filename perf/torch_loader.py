"""The PyTorch baseline of perf/run.sh: a torch.utils.data.DataLoader over the same HDF5 file(s), read with h5py
sample by sample (the way users write it), the same transforms in numpy, DistributedSampler shares, one
process per consumer (started by mpirun, mpi4py for barriers).

    mpirun -n 2 /usr/bin/python3 perf/torch_loader.py --kind fmnist --files x.h5 --batch-size 64 \
        --workers 0,2 --epochs 2 --out result.jsonl

For each num_workers value it runs --epochs epochs (workers persist across them) and rank 0 appends one JSON
line per (workers, epoch): samples (all ranks), seconds (the slowest rank's epoch, between barriers), cpu_s
(user + system CPU-seconds of every rank and its DataLoader workers during the epoch, summed).
"""

import argparse
import glob
import json
import os
import time

import mpi4py

mpi4py.rc.thread_level = "funneled"
from mpi4py import MPI  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402
import torch  # noqa: E402
from torch.utils.data import DataLoader, Dataset, DistributedSampler  # noqa: E402

SCALE = np.float32(0.00392157)
MEAN, STD = np.float32(0.286), np.float32(0.353)


class H5Samples(Dataset):
    """One sample per __getitem__; files are opened lazily in each worker process."""

    def __init__(self, kind, files, seed):
        self.kind, self.seed, self.epoch = kind, seed, 0
        if kind == "cosmo":
            self.paths = sorted(glob.glob(os.path.join(files, "*.h5")))
            self.n = len(self.paths)
        else:
            self.path = files
            with h5py.File(files, "r") as f:
                self.n = f["images"].shape[0]
        self.file = None

    def __len__(self):
        return self.n

    def _flip(self, index):
        return np.random.default_rng([self.seed, self.epoch, index]).random() < 0.5

    def __getitem__(self, index):
        if self.kind == "cosmo":  # cast | log1p, as Ferry's prepare chain
            with h5py.File(self.paths[index], "r") as f:
                x = np.log1p(f["full"][()].astype(np.float32))
                y = f["unitPar"][()].astype(np.float32)
            return torch.from_numpy(x), torch.from_numpy(y)
        if self.file is None:
            self.file = h5py.File(self.path, "r")
        x = self.file["images"][index]
        y = int(self.file["labels"][index])
        if self.kind == "fmnist":  # cast(scale) | normalize, then random_flip
            x = (x.astype(np.float32) * SCALE - MEAN) / STD
            if self._flip(index):
                x = x[:, ::-1]
        else:  # image: cast(scale) | hwc_to_chw, then random_flip
            x = np.transpose(x.astype(np.float32) * SCALE, (2, 0, 1))
            if self._flip(index):
                x = x[:, :, ::-1]
        return torch.from_numpy(np.ascontiguousarray(x)), y


def tree_cpu_seconds():
    """User + system CPU-seconds of this process and its live children (DataLoader workers)."""
    me = psutil.Process()
    total = 0.0
    for proc in [me] + me.children(recursive=True):
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kind", required=True, choices=["fmnist", "image", "cosmo"])
    p.add_argument("--files", required=True)
    p.add_argument("--batch-size", type=int, required=True)
    p.add_argument("--workers", default="0")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    torch.set_num_threads(1)
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    data = H5Samples(a.kind, a.files, a.seed)
    lines = []
    for workers in [int(w) for w in a.workers.split(",")]:
        sampler = DistributedSampler(data, num_replicas=size, rank=rank, shuffle=True, seed=a.seed, drop_last=True)
        loader = DataLoader(data, batch_size=a.batch_size, sampler=sampler, num_workers=workers, drop_last=True,
                            persistent_workers=workers > 0)
        for epoch in range(a.epochs):
            sampler.set_epoch(epoch)
            data.epoch = epoch
            samples = 0
            comm.Barrier()
            c0 = tree_cpu_seconds()
            t0 = time.perf_counter()
            for x, _ in loader:
                samples += x.shape[0]
            seconds = time.perf_counter() - t0
            cpu = comm.allreduce(tree_cpu_seconds() - c0, op=MPI.SUM)
            seconds = comm.allreduce(seconds, op=MPI.MAX)
            samples = comm.allreduce(samples, op=MPI.SUM)
            lines.append({"kind": "torch", "dataset": a.kind, "workers": workers, "epoch": epoch,
                          "samples": samples, "seconds": seconds, "cpu_s": cpu, "ranks": size})
        del loader
    if rank == 0:
        with open(a.out, "a") as f:
            for line in lines:
                f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
