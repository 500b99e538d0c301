"""A Python training program for an MPMD job beside ferry-serve (started on the consumer ranks only):

    mpirun -n 3 ferry-serve --config JOB.toml : -n 2 /usr/bin/python3 mpmd_consumer.py JOB.toml DATA.h5 \
        [--dump-ids PREFIX]

Drains every pipeline of this consumer, checks that each batch holds exactly the bytes h5py reads for its
IDs (the job has no prepare or augment stage), and with --dump-ids writes PREFIX.<consumer> in the format of
`ferry local --dump-ids` ("PIPELINE EPOCH BATCH ID..." per batch), so the IDs can be compared with ferry
local's. Exit 0 when every batch matched. (FERRY_LIBRARY names the libferry.so under test.)
"""

import argparse
import os
import sys

import mpi4py

mpi4py.rc.thread_level = "funneled"
from mpi4py import MPI  # noqa: E402,F401  (MPI is initialized before Ferry's runtime)

import h5py  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import ferry  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("config")
    p.add_argument("data")
    p.add_argument("--dump-ids")
    args = p.parse_args()
    with h5py.File(args.data, "r") as f:
        images, labels = f["/images"][...], f["/labels"][...]
    bad, batches = 0, 0
    with ferry.Runtime(args.config) as rt:
        if not rt.is_consumer:  # not in MPMD mode: ferry-serve holds every service rank
            print(f"mpmd_consumer: rank is a {rt.role}: start it beside ferry-serve", file=sys.stderr)
            return 1
        lines = []
        for name in rt.pipelines:
            for batch in rt.loader(name):
                ids = batch.ids
                if not (np.array_equal(batch["image"], images[ids]) and np.array_equal(batch["label"], labels[ids])):
                    bad += 1
                    print(f"mpmd_consumer: {name} epoch {batch.epoch} batch {batch.index}: bytes differ from h5py",
                          file=sys.stderr)
                lines.append(f"{name} {batch.epoch} {batch.index} " + " ".join(str(int(i)) for i in ids))
                batches += 1
        if args.dump_ids:
            with open(f"{args.dump_ids}.{rt.consumer_index}", "w") as out:
                out.write("\n".join(lines) + "\n")
    print(f"mpmd_consumer: {batches} batches, {bad} differ from h5py")
    return 0 if bad == 0 and batches > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
