"""A small CNN trained on Fashion-MNIST with PyTorch, its batches from Ferry (docs/python.md).

    mpirun -n 5 /usr/bin/python3 examples/03_pytorch_fmnist.py --train fm_train.h5 --test fm_t10k.h5
    mpirun -n 2 /usr/bin/python3 examples/03_pytorch_fmnist.py --train fm_train.h5 --test fm_t10k.h5 --direct

With 5 ranks Ferry takes 3 as its service ranks (randomizer, cache server, transformer) and the other 2 train.
The consumers keep identical models: same initial weights (same torch seed) and gradients averaged every step
with MPI_Allreduce (mpi4py) on Ferry's consumer communicator, or, with --allreduce gloo, through
torch.distributed's gloo backend (a FileStore rendezvous on local disk: one machine only). --direct runs the
same model and loop with every rank reading the HDF5 file itself with h5py (same transforms, its own seeded
order): the baseline for the time per step. Prints the loss every --log-every steps, the time per step and the
test accuracy (consumer 0 reads the test set with h5py). --check exits 1 unless the loss fell.

Other data than Fashion-MNIST: --images and --labels name the HDF5 datasets (integer labels in 0..9),
--prepare the images' prepare chain (float32 images out, H x W or H x W x C; the network takes their channels
and size). --direct and --test read with h5py and Fashion-MNIST's transform, so they refuse a --prepare.
"""

import argparse
import os
import sys
import time

import mpi4py

mpi4py.rc.thread_level = "funneled"  # Ferry needs no more; mpi4py initializes MPI on import
from mpi4py import MPI  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import ferry  # noqa: E402

MEAN, STD = 0.286, 0.353  # Fashion-MNIST pixel statistics after scaling to [0, 1]
PREPARE = f"cast(scale=0.00392157) | normalize(mean=[{MEAN}], std=[{STD}])"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", required=True, help="Fashion-MNIST training set (ferry-import idx)")
    p.add_argument("--test", help="test set; consumer 0 reports the accuracy on it")
    p.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: all epochs)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=64, help="per consumer")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--log-every", type=int, default=20)
    p.add_argument("--transport", default="ucx", choices=["ucx", "mpi"], help="Ferry's runtime.transport")
    p.add_argument("--allreduce", default="mpi", choices=["mpi", "gloo"])
    p.add_argument("--direct", action="store_true", help="read the HDF5 file with h5py instead of Ferry")
    p.add_argument("--check", action="store_true", help="exit 1 unless the loss fell")
    p.add_argument("--images", default="/images", help="HDF5 dataset of the images")
    p.add_argument("--labels", default="/labels", help="HDF5 dataset of the labels (integers 0..9)")
    p.add_argument("--prepare", default=PREPARE, help="prepare chain of the images (float32 out)")
    args = p.parse_args()
    if args.prepare != PREPARE and (args.direct or args.test):
        p.error("--direct and --test read with h5py and Fashion-MNIST's transform: they refuse a --prepare")
    return args


class Net(nn.Module):
    def __init__(self, channels=1):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d((7, 7))  # 28x28 images give 7x7 already: then the identity
        self.fc1 = nn.Linear(32 * 7 * 7, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(self.pool(x).flatten(1))))


def ferry_config(args):
    # The prepare stage is deterministic (cached by Ferry), the flip is random per (seed, epoch, sample).
    return f"""
log_level = "warn"
[runtime]
transport = "{args.transport}"
[[pipeline]]
name = "fmnist"
seed = {args.seed}
epochs = {args.epochs}
batch_size = {args.batch_size}
[pipeline.dataset]
files = ["{os.path.abspath(args.train)}"]
fields = {{ image = "{args.images}", label = "{args.labels}" }}
[pipeline.prepare]
image = "{args.prepare}"
[pipeline.augment]
image = "random_flip(p=0.5)"
"""


def channels_first(images):
    """[B,H,W] -> [B,1,H,W] (a view), [B,H,W,C] -> [B,C,H,W] (a copy)."""
    return images.unsqueeze(1) if images.dim() == 3 else images.permute(0, 3, 1, 2).contiguous()


def ferry_batches(loader):
    """(images [B,C,H,W] float32, labels [B] int64) as torch tensors; images of one channel are zero-copy
    views, H x W x C ones are made channels-first."""
    for batch in loader:
        images = channels_first(batch.torch("image"))
        labels = batch.torch("label").long()  # u8 -> int64 for the loss: a copy of B values
        yield images, labels


def direct_batches(args, rank, size):
    """The same samples straight from HDF5 with h5py: a seeded shuffle per epoch, DistributedSampler-style
    shares, sorted reads (h5py wants increasing indices), the same cast, normalize and flip in numpy."""
    with h5py.File(args.train, "r") as f:
        images, labels = f[args.images], f[args.labels]
        n = images.shape[0]
        per_rank = n // size
        for epoch in range(args.epochs):
            order = np.random.default_rng([args.seed, epoch]).permutation(n)[rank * per_rank:(rank + 1) * per_rank]
            flips = np.random.default_rng([args.seed, epoch, rank])
            for start in range(0, per_rank - args.batch_size + 1, args.batch_size):
                ids = order[start:start + args.batch_size]
                sorted_ids = np.sort(ids)
                where = np.argsort(np.argsort(ids))  # position of each wanted ID in the sorted read
                x = images[sorted_ids][where].astype(np.float32) * np.float32(0.00392157)
                x = (x - np.float32(MEAN)) / np.float32(STD)
                flip = flips.random(len(ids)) < 0.5
                x[flip] = x[flip, :, ::-1]
                y = labels[sorted_ids][where].astype(np.int64)
                yield channels_first(torch.from_numpy(np.ascontiguousarray(x))), torch.from_numpy(y)


class Averager:
    """Averages gradients (and the loss, for reporting) over the consumers."""

    def __init__(self, kind, comm):
        self.comm, self.size, self.gloo = comm, comm.Get_size(), kind == "gloo"
        if self.gloo:
            import torch.distributed as dist
            # Rendezvous: a file every consumer can reach (one machine), named after this MPI job.
            job = os.environ.get("PMIX_NAMESPACE") or os.environ.get("OMPI_MCA_ess_base_jobid") or "0"
            path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"ferry-gloo-{job}")
            store = dist.FileStore(path, self.size)
            dist.init_process_group("gloo", store=store, rank=comm.Get_rank(), world_size=self.size)
            self.dist = dist

    def __call__(self, params, loss):
        flat = torch.cat([p.grad.reshape(-1) for p in params] + [loss.detach().reshape(1)])
        if self.gloo:
            self.dist.all_reduce(flat)
        else:
            self.comm.Allreduce(MPI.IN_PLACE, flat.numpy(), op=MPI.SUM)
        flat /= self.size
        offset = 0
        for p in params:
            p.grad.copy_(flat[offset:offset + p.numel()].view_as(p.grad))
            offset += p.numel()
        return float(flat[-1])

    def close(self):
        if self.gloo:
            self.dist.destroy_process_group()


def train(args, batches, comm, leader):
    model = None  # made at the first batch, which gives the channels
    average = Averager(args.allreduce, comm)
    windows, window, step = [], [], 0
    data_s = compute_s = 0.0
    timed_steps = 0
    t = time.perf_counter()
    for images, labels in batches:
        t_data = time.perf_counter()
        if model is None:
            torch.manual_seed(args.seed)  # every consumer starts from the same weights
            model = Net(images.shape[1])
            params = list(model.parameters())
            opt = torch.optim.SGD(params, lr=args.lr, momentum=0.9)
        opt.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        window.append(average(params, loss))
        opt.step()
        step += 1
        t_end = time.perf_counter()
        if step > 5:  # the first steps pay for start-up (first reads, allocator)
            data_s += t_data - t
            compute_s += t_end - t_data
            timed_steps += 1
        if step % args.log_every == 0:
            windows.append(sum(window) / len(window))
            window = []
            if leader:
                print(f"step {step:5d}  loss {windows[-1]:.4f}", flush=True)
        if args.steps and step >= args.steps:
            break
        t = time.perf_counter()
    average.close()
    if leader and timed_steps:
        per = 1000.0 / timed_steps
        print(f"{'direct' if args.direct else 'ferry'}: {step} steps, {per * (data_s + compute_s):.2f} ms/step "
              f"({per * data_s:.2f} ms waiting for data, {per * compute_s:.2f} ms compute and allreduce)",
              flush=True)
    return model, windows


def evaluate(model, path, args):
    with h5py.File(path, "r") as f:
        x = (f[args.images][:].astype(np.float32) * np.float32(0.00392157) - np.float32(MEAN)) / np.float32(STD)
        y = f[args.labels][:].astype(np.int64)
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(y), 1000):
            logits = model(channels_first(torch.from_numpy(x[start:start + 1000])))
            correct += int((logits.argmax(1).numpy() == y[start:start + 1000]).sum())
    return correct / len(y)


def main():
    args = parse_args()
    torch.set_num_threads(1)  # several ranks share the cores
    if args.direct:
        comm = MPI.COMM_WORLD
        model, windows = train(args, direct_batches(args, comm.Get_rank(), comm.Get_size()), comm,
                               comm.Get_rank() == 0)
        index = comm.Get_rank()
    else:
        with ferry.Runtime(config_text=ferry_config(args)) as rt:
            if not rt.is_consumer:
                rt.serve()
                return 0
            comm, index = rt.consumer_comm, rt.consumer_index
            model, windows = train(args, ferry_batches(rt.loader("fmnist")), comm, index == 0)
            if index == 0:
                print(f"ferry state: {rt.state()}", flush=True)
    if index == 0 and args.test:
        print(f"test accuracy {evaluate(model, args.test, args):.4f}", flush=True)
    if args.check:
        if len(windows) < 2 or not windows[-1] < 0.8 * windows[0]:
            print(f"loss did not fall: {windows}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
