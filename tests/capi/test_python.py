"""The Python client (python/ferry) under mpirun with 5 ranks (3 service ranks, 2 consumers):

- errors arrive as the right ferry.Error subclass with Ferry's message, on every rank;
- batches are numpy arrays (and torch tensors) with the dataset's shapes and dtypes, over Ferry's own memory
  (the array's data pointer is the C API's pointer), and hold exactly the bytes h5py reads for their IDs;
- epochs have batches_per_epoch batches and the two consumers' IDs in an epoch are disjoint;
- copy=True batches survive later batches;
- a second Runtime started from state() delivers exactly the rest of the first run's sequence.

    mpirun -n 5 /usr/bin/python3 tests/capi/test_python.py FASHION_MNIST.h5 [--transport ucx|mpi]
(FERRY_LIBRARY names the libferry.so under test.) Exit 0 when every check held on every rank.
"""

import argparse
import os
import re
import sys

import mpi4py

mpi4py.rc.thread_level = "funneled"
from mpi4py import MPI  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import ferry  # noqa: E402

WORLD = MPI.COMM_WORLD
failures = []


def check(cond, message):
    # Recorded, not raised: every rank must stay in step with the collective calls that follow.
    if not cond:
        failures.append(message)
        print(f"rank {WORLD.Get_rank()}: FAIL: {message}", file=sys.stderr, flush=True)
    return cond


def config(data, transport, epochs=2, batch=32):
    return f"""
log_level = "warn"
[runtime]
transport = "{transport}"
[[pipeline]]
name = "raw"
seed = 11
epochs = {epochs}
batch_size = {batch}
[pipeline.dataset]
files = ["{data}"]
fields = {{ image = "/images", label = "/labels" }}
"""


def expect_error(kind, pattern, **kwargs):
    try:
        with ferry.Runtime(**kwargs):
            pass
    except ferry.Error as e:
        check(isinstance(e, kind), f"{kwargs}: raised {type(e).__name__}, expected {kind.__name__}")
        check(re.search(pattern, str(e)) is not None, f"message '{e}' does not match '{pattern}'")
        return
    check(False, f"{kwargs}: no error raised")


def first_run(args, images, labels):
    """Drains 2 epochs; returns (ids per batch, state after each batch, consumer index) on consumers."""
    seen_ids, states = [], []
    with ferry.Runtime(config_text=config(args.data, args.transport)) as rt:
        check(rt.role in ("randomizer", "cache_server", "transformer", "consumer"), f"role {rt.role}")
        if not rt.is_consumer:
            check(rt.consumer_index == -1, "service rank has a consumer index")
            try:
                rt.next_batch("raw")
                check(False, "next_batch on a service rank did not raise")
            except ferry.InvalidArgument:
                pass
            rt.serve()
            return None, None, -1
        check(rt.pipelines == ["raw"], f"pipelines {rt.pipelines}")
        check(rt.consumer_count == 2, f"consumer_count {rt.consumer_count}")
        try:
            rt.loader("nope")
            check(False, "an unknown pipeline did not raise")
        except ferry.InvalidArgument as e:
            check("nope" in str(e), f"message '{e}'")
        try:
            rt.serve()
            check(False, "serve() on a consumer did not raise")
        except ferry.InvalidArgument:
            pass

        loader = rt.loader("raw")
        bpe = loader.batches_per_epoch
        check(loader.dataset_size == len(labels), f"dataset_size {loader.dataset_size}")
        kept, kept_at = None, 3
        epochs = []
        for epoch in loader.epochs():
            epoch_ids = []
            for batch in epoch:
                img, lab, ids = batch["image"], batch["label"], batch.ids
                check(isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.shape == (32, 28, 28),
                      f"image {type(img)} {img.dtype} {img.shape}")
                check(lab.dtype == np.uint8 and lab.shape == (32,), f"label {lab.dtype} {lab.shape}")
                check(ids.dtype == np.uint64 and ids.shape == (32,), f"ids {ids.dtype} {ids.shape}")
                check(batch.epoch == epoch.number, "batch epoch differs from its epoch")
                # Zero-copy: numpy and torch see the C API's pointer itself.
                check(img.__array_interface__["data"][0] == batch.pointers["image"], "image array is a copy")
                check(lab.__array_interface__["data"][0] == batch.pointers["label"], "label array is a copy")
                t = batch.torch("image")
                check(t.data_ptr() == batch.pointers["image"] and t.dtype == torch.uint8 and
                      tuple(t.shape) == (32, 28, 28), "torch tensor is a copy or has the wrong type")
                # Exact bytes: what h5py reads for the same IDs.
                check(np.array_equal(img, images[ids]), f"image bytes differ (epoch {batch.epoch} batch {batch.index})")
                check(np.array_equal(lab, labels[ids]), f"label bytes differ (epoch {batch.epoch} batch {batch.index})")
                seen_ids.append(ids.copy())
                epoch_ids.append(ids.copy())
                states.append(rt.state())
                if len(seen_ids) == kept_at:
                    kept = batch.copy()
                    check(kept.copied and kept["image"].__array_interface__["data"][0] != batch.pointers["image"],
                          "copy() did not copy")
            check(len(epoch_ids) == bpe, f"epoch {epoch.number}: {len(epoch_ids)} batches, expected {bpe}")
            epochs.append(np.concatenate(epoch_ids))
        check(len(epochs) == 2, f"{len(epochs)} epochs, expected 2")
        # The copy taken early still holds its batch.
        check(kept is not None and np.array_equal(kept["image"], images[kept.ids]), "copied batch changed")
        check(re.fullmatch(r"ferry-state 1 pipeline=raw seed=11 epoch=\d+ batch=\d+ dataset=[0-9a-f]{16}",
                           states[0]) is not None,
              f"state '{states[0]}'")
        # Disjoint shares: the consumers' IDs of one epoch, together, have no duplicate.
        comm = rt.consumer_comm
        for e, ids in enumerate(epochs):
            everyone = np.concatenate(comm.allgather(ids))
            check(len(np.unique(everyone)) == len(everyone) == 2 * bpe * 32,
                  f"epoch {e}: {len(np.unique(everyone))} distinct IDs of {len(everyone)}")
        check(loader.next_batch() is None, "a batch after the end")
        index = rt.consumer_index
    return seen_ids, states, index


def resumed_run(args, state, images):
    """A new Runtime from `state`: the IDs it delivers on consumers."""
    got = []
    with ferry.Runtime(config_text=config(args.data, args.transport), state=state) as rt:
        if not rt.is_consumer:
            rt.serve()
            return None
        for batch in rt.loader():
            check(np.array_equal(batch["image"], images[batch.ids]), "resumed image bytes differ")
            got.append(batch.ids.copy())
    return got


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("--transport", default="ucx")
    args = p.parse_args()
    args.data = os.path.abspath(args.data)
    with h5py.File(args.data, "r") as f:
        images, labels = f["images"][:], f["labels"][:]

    expect_error(ferry.ConfigError, r"/nonexistent/job\.toml", config="/nonexistent/job.toml")
    expect_error(ferry.ConfigError, r"not a Ferry state", config_text=config(args.data, args.transport),
                 state="checkpoint 7")
    # Set-up errors are gathered from every rank (Runtime), which reports them as a config error.
    expect_error(ferry.Error, r"/imagez", config_text=config(args.data, args.transport).replace(
        '"/images"', '"/imagez"'))

    # Device-resident batches need a GPU per consumer: without one, every rank fails at set-up naming the
    # option. Their fields are DeviceArrays, which hand their GPU memory on by __cuda_array_interface__.
    if not os.path.exists("/dev/nvidia0"):
        expect_error(ferry.ConfigError, r"runtime\.device_batches = true, but the consumer cannot receive",
                     config_text=config(args.data, args.transport).replace(
                         "[runtime]\n", "[runtime]\ndevice_batches = true\n"))
    a = ferry.DeviceArray(0x7f0000001000, (32, 28, 28), np.float32)
    check(a.__cuda_array_interface__ == {"shape": (32, 28, 28), "typestr": "<f4", "data": (0x7f0000001000, False),
                                         "strides": None, "version": 3}, f"{a}: {a.__cuda_array_interface__}")
    check(a.nbytes == 32 * 28 * 28 * 4, f"{a}: {a.nbytes} bytes")

    ids, states, index = first_run(args, images, labels)
    # Resume from the middle of epoch 0 and from inside epoch 1; the service ranks need the state too.
    for k in (100, 200):
        state = WORLD.bcast(states[k - 1] if index == 0 else None,
                            root=min(r for r in WORLD.allgather(WORLD.Get_rank() if index == 0 else None)
                                     if r is not None))
        got = resumed_run(args, state, images)
        if got is not None:
            rest = ids[k:]
            check(len(got) == len(rest) and all(np.array_equal(a, b) for a, b in zip(got, rest)),
                  f"resumed at {k} ({state}): {len(got)} batches, expected the {len(rest)} of the first run")

    ok = WORLD.allreduce(0 if failures else 1, op=MPI.MIN)
    if WORLD.Get_rank() == 0:
        print("test_python: all checks passed" if ok else "test_python: FAILED", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
