"""Analytical per-epoch model of a Ferry job (perf/model/README.md).

Given the workload (samples, raw and prepared bytes, batch, epochs, cache), the layout (randomizers, cache
servers, transformers, consumers, nodes) and the measured costs (inputs/*.json) plus a fabric profile
(profiles/*.json), it predicts per epoch: hits, misses, HDF5 bytes and reads, samples/s, consumer wait, the
busiest rank and its queue. Counting (hits, bytes) follows the code's rules; time is a bottleneck bound:
the epoch lasts as long as its most loaded resource (one rank's CPU, the shared cores of a node, a NIC, the
parallel file system, or the consumers' own training steps), or as long as the batches' chains of messages
take with the credits a consumer has (latency.py: each hop's wire latency and, with more ranks than cores,
the measured wait for the receiver to be scheduled).
"""
from dataclasses import dataclass, field

from model_counts import (DIRECTORY_ENTRY_BYTES, SLAB_ALIGN, cache_entries, counts,  # noqa: F401
                          directory_bytes, expected_lists, miss_runs, shard_lists, used_samples)
from model_time import (ROLES, cpu_time, hop_seconds, latency_time, node_ranks,  # noqa: F401
                        oversubscription, queue_of, ranks_per_core, wake_loads)

POOL_ENTRY_BYTES = 64 << 10  # roles/send_pool.hpp kPoolEntryBytes: fixed entries this large use the send pool


@dataclass
class Workload:
    samples: int             # N
    raw_bytes: int           # bytes read from HDF5 per sample (all fields)
    entry_bytes: int         # prepared bytes per sample (the cache entry)
    prepare_bytes: float = 0.0  # bytes the prepare ops touch per sample (input of cast, log1p, ...), 0: none
    fields: int = 2          # HDF5 datasets read per miss list (one H5Dread each)
    batch: int = 32          # per consumer
    epochs: int = 3
    step_s: float = 0.0      # consumer training time per batch (sleep here, the GPU step at scale)
    step_overlaps: bool = False  # True: the step leaves the consumer's CPU free (asynchronous GPU kernels);
    #                              False: it holds the consumer's thread (`--step-ms` sleeps here)
    drop_last: bool = True


@dataclass
class Layout:
    consumers: int
    transformers: int = 1
    cache_servers: int = 1
    randomizers: int = 1     # D: the pipeline's directory shards, one randomizer each (runtime.randomizers =
    #                          runtime.directory_shards = D): each describes its key range's positions of every batch
    nodes: int = 1
    cache_bytes: int = 256 << 20  # slab per cache server
    cores_per_node: float = 2.0   # cores of a node Ferry's ranks may run on
    core_share: float = 1.0       # share of the node's cores Ferry's ranks get together beside other jobs
    rank_share: float = 0.0       # share of a core one busy rank gets (a waking task gets more than its
    #                               fair share while the others wait); 0: core_share (cpu_time)
    prefetch: int = 4
    transport: str = "ucx"
    list_fanout: int = 0     # most transformers one batch's misses go to (node-local lists); 0: every one
    list_bytes: int = 1 << 20  # runtime.miss_list_bytes: a batch's misses go to min(T, bytes / this) of them

    @property
    def ranks(self):
        return self.consumers + self.transformers + self.cache_servers + self.randomizers


@dataclass
class Epoch:
    epoch: int
    samples: int
    hits: int
    misses: int
    hdf5_bytes: int
    hdf5_reads: float
    seconds: float
    samples_per_s: float
    hit_rate: float
    wait_s: float            # summed over consumers, like the table's wait s
    busiest: str
    busiest_util: float
    busiest_queue: float
    bound: str               # what limited the epoch
    loads: dict = field(default_factory=dict)  # resource -> seconds of work in this epoch
    directory_bytes: int = 0  # one randomizer's cache directory at the epoch's end (its key range's entries)


def delivery(entry_bytes):
    """How a miss reaches its consumer and cache server (roles/miss_delivery.cpp): "pool", one-sided gets from
    the transformer's send pool (fixed entries of 64 KiB and more), or "message", the entries written into UCX
    or MPI messages. Assumes the pool has room for a miss list (runtime.send_pool_bytes, 64 MiB by default: a
    list that never fits goes in messages)."""
    return "pool" if entry_bytes >= POOL_ENTRY_BYTES else "message"


def transformer_per_miss(tr, raw_bytes, entry_bytes, prepare_bytes):
    """A transformer's CPU per miss beyond its HDF5 calls: per sample, per raw byte read, per byte its prepare
    ops touch, and per byte it writes into messages (the message path only: on the pool path the entry is
    prepared into the send pool's slot and leaves by the consumer's gets)."""
    sent = entry_bytes * tr["message_per_byte_s"] if delivery(entry_bytes) == "message" else 0.0
    return (tr["per_sample_s"] + raw_bytes * tr["hdf5_per_byte_s"] + prepare_bytes * tr["prepare_per_byte_s"]
            + sent)


def remote_fraction(layout):
    """Share of hits and inserts that cross the network: one node's share of the cache servers is local."""
    return 0.0 if layout.nodes <= 1 else 1.0 - 1.0 / layout.nodes


def message_s(costs):
    """CPU of one control message, sent or received: the randomizer's cost per batch (a descriptor sent, a
    credit received, and the batch's bookkeeping) over its two messages."""
    return costs["randomizer"]["per_batch_s"] / 2


def epoch_loads(layout, workload, costs, fabric, hits, misses, admitted, n_used):
    """Seconds of work per resource in one epoch (CPU seconds for ranks; busy seconds for links). The
    randomizer's is one directory shard's (D = layout.randomizers): every batch's descriptor and credit, its
    key range's samples (1 / D of them) and the miss lists of those."""
    c, t, s, d = layout.consumers, layout.transformers, max(layout.cache_servers, 1), max(1, layout.randomizers)
    e_b, r_b = workload.entry_bytes, workload.raw_bytes
    batches = n_used // workload.batch
    fanout = min(t, layout.list_fanout) if layout.list_fanout else t
    shard_lists_ = batches * shard_lists(misses / max(batches, 1), workload.batch, d, fanout, e_b,
                                         layout.list_bytes)
    lists = d * shard_lists_  # every shard's: each list is an HDF5 read per field at a transformer
    reads = lists * workload.fields
    remote = remote_fraction(layout)
    tr = costs["transformer"]
    cons = costs["consumer"]
    rnd = costs["randomizer"]
    # A transformer: HDF5 (per call, per byte), prepare ops (per byte touched), per-sample handling, the
    # entries written into messages (per byte; on the pool path they are prepared into the slot and the
    # consumer gets them: nothing more), and the second send of each admitted entry to its cache server (per
    # byte); the server copies it into the slab.
    path = delivery(e_b)
    pfs_s = misses * r_b / fabric["pfs_bandwidth_Bps"] if fabric.get("pfs_bandwidth_Bps") else 0.0
    w_tr = (reads * tr["hdf5_per_call_s"] + misses * transformer_per_miss(tr, r_b, e_b, workload.prepare_bytes)
            + admitted * e_b * tr["insert_per_byte_s"]) / t
    # A consumer: hits are gets; misses arrive by their path (local: CPU copies through shared memory, a
    # message's fragments each a wake-up; remote: RDMA into the batch buffer, the NIC's time below); the
    # per-sample costs cover assembly, pins, one descriptor and one credit a batch. With D shards a batch
    # brings D descriptors and takes D credits: D - 1 of each more, at message_s each.
    hit_cpu = hits * (cons["hit_per_sample_s"] + (1 - remote) * e_b * cons["hit_per_byte_s"])
    miss_cpu = misses * (cons["miss_per_sample_s"] + (1 - remote) * e_b * cons[f"miss_{path}_per_byte_s"])
    w_cons = (hit_cpu + miss_cpu + batches * 2 * (d - 1) * message_s(costs)) / c
    # A shard: per batch (a descriptor, a credit) for every batch, per sample for its key range's only
    # (`unsharded_share` u: the share of the per-sample cost that every shard would pay for every position;
    # 0, the calibration's split, unless a sensitivity run sets it: shards_ab.py).
    u = rnd.get("unsharded_share", 0.0)
    w_rnd = (batches * rnd["per_batch_s"] + n_used * rnd["per_sample_s"] * (u + (1 - u) / d)
             + shard_lists_ * rnd["per_list_s"])
    w_srv = admitted * e_b * costs["cache_server"]["copy_per_byte_s"] / s
    loads = {"consumer": w_cons, "transformer": w_tr, "randomizer": w_rnd, "cache_server": w_srv,
             "pfs": pfs_s}
    for role, extra in wake_loads(layout, batches, lists, lists * admitted / max(misses, 1), costs).items():
        loads[role] += extra  # oversubscribed: each message received costs more (model_time.wake_loads)
    if layout.nodes > 1:
        # Busiest NIC: a node receives its consumers' remote hits and misses and sends its cache share.
        link = fabric["link_bandwidth_Bps"] * fabric.get("link_efficiency", 1.0) * fabric.get("nics_per_node", 1)
        into_node = (hits * remote + misses * remote) * e_b / layout.nodes
        loads["nic"] = into_node / link
        # Per-get latency overlapped prefetch x batch deep; it binds only when the window is too shallow.
        loads["get_latency"] = hits / c * fabric["get_latency_s"] / max(1, layout.prefetch * workload.batch)
    return loads, reads


def predict(layout, workload, costs, fabric, solver="bound"):
    """List of Epoch predictions. `solver`: the latency bound's (latency_time)."""
    n_used, per_epoch = counts(layout, workload)
    fixed = costs.get("epoch_fixed_s", 0.0)
    out, stored = [], 0
    for e, (hits, misses, admitted) in enumerate(per_epoch):
        stored += admitted
        # The inserts admitted in epoch e are charged to it: a transformer inserts a batch's entries right
        # after sending them to the consumer. (When the cache servers lag, a later epoch's hits on entries
        # still pending wait for them: the cost moves to the next epoch, so validation compares whole runs.)
        loads, reads = epoch_loads(layout, workload, costs, fabric, hits, misses, admitted, n_used)
        steps = (n_used // layout.consumers // workload.batch) * workload.step_s
        factor = oversubscription(layout, costs)
        cpu, cpu_bound = cpu_time(layout, loads, steps, workload.step_overlaps, factor)
        bounds = {cpu_bound: cpu, "pfs": loads["pfs"],
                  "latency": latency_time(layout, workload, costs, fabric, loads, misses, n_used, steps, factor,
                                          solver)}
        for k in ("nic", "get_latency"):
            if k in loads:
                bounds[k] = loads[k]
        bound = max(bounds, key=bounds.get)
        seconds = bounds[bound] + fixed
        busy = factor * loads["consumer"] / min(1.0, layout.rank_share or layout.core_share)
        busy = max(busy, steps) if workload.step_overlaps else busy + steps
        wait = max(0.0, layout.consumers * (seconds - busy))  # summed over consumers, like the table
        ranks = {k: loads[k] for k in node_ranks(layout)}
        busiest = max(ranks, key=ranks.get)
        util = ranks[busiest] / seconds if seconds > 0 else 0.0
        out.append(Epoch(e, n_used, hits, misses, misses * workload.raw_bytes, reads, seconds,
                         n_used / seconds if seconds > 0 else float("inf"), hits / n_used if n_used else 0.0,
                         wait, busiest, util, queue_of(busiest, util, layout, workload), bound, bounds,
                         directory_bytes(layout, stored)))
    return out
