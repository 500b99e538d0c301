"""The model's time bounds on a node (ferry_model.py): the CPU of the busiest node's ranks with the cores they
share (cpu_time, with the oversubscription factor), the batches' message chains (latency_time, latency.py),
and the queue at the busiest rank."""
import math

import latency


ROLES = ("consumer", "transformer", "cache_server", "randomizer")


def node_ranks(layout):
    """Ranks of each role on the busiest node (ranks spread evenly over the nodes)."""
    count = {"consumer": layout.consumers, "transformer": layout.transformers,
             "cache_server": layout.cache_servers, "randomizer": layout.randomizers}
    return {r: math.ceil(k / layout.nodes) for r, k in count.items() if k}


def oversubscription(layout, costs):
    """Factor on every rank's CPU work for ranks sharing a node's cores: context switches, wake-ups and caches
    shared by more ranks per core cost CPU that a rank alone on a core does not pay. Calibrated here on runs
    of several widths (measure_inputs.py): 1 + k x (ranks per core - the base calibration's), never below 1."""
    k = costs.get("oversub_per_rank_per_core", 0.0)
    base = costs.get("oversub_base_ranks_per_core", 0.0)
    return 1.0 + k * max(0.0, ranks_per_core(layout) - base)


def wake_loads(layout, batches, lists, inserts, costs):
    """Extra CPU seconds per rank, by role, for the messages it receives in an epoch when the node runs more
    ranks per core than the base calibration: each costs `oversub_per_wake_s` x (ranks per core - base)
    (a woken rank's context switch and cold caches; fitted on width runs of 3 KB to 49 KB entries beside the
    factor on CPU, cost_fit.oversub_fit). Received: a consumer its batches' descriptors and miss lists' entry
    messages, a transformer its miss lists, a cache server its insert messages, the randomizer credits,
    lists done and inserts done (with D directory shards: D descriptors a batch, a credit to each shard).
    `lists`/`inserts`: the epoch's miss lists and those whose entries are admitted."""
    x = max(0.0, ranks_per_core(layout) - costs.get("oversub_base_ranks_per_core", 0.0))
    w = costs.get("oversub_per_wake_s", 0.0) * x
    d = max(1, layout.randomizers)  # directory shards: a consumer gets D descriptors a batch, each shard a credit
    received = {"consumer": (d * batches + lists) / layout.consumers, "transformer": lists / layout.transformers,
                "cache_server": inserts / max(layout.cache_servers, 1),
                "randomizer": batches + (lists + inserts) / d}
    return {role: n * w for role, n in received.items()}


def cpu_time(layout, loads, sleep, overlaps=False, factor=1.0):
    """Shortest epoch in which every rank of the busiest node finishes its CPU work.

    CPU sharing: the node has `cores_per_node` cores, of which Ferry's ranks together get the share a =
    `core_share` when other jobs compete (1 on a dedicated node; measured here), and one busy rank at most
    the share b = `rank_share` of a core. A rank runs on one core at a time, so T >= f W_r / b (+ the
    consumer's steps, or max with them when `overlaps`), and the node's cores must hold every rank's work:
    T >= f sum(W) / (a x cores), with f the oversubscription factor. The
    CPU a rank spends waiting (progress wake-ups, receiving) is in its per-event costs: they are measured as
    whole CPU. Returns (T, bound).
    """
    per_node = node_ranks(layout)
    a = layout.core_share
    work = factor * sum(loads[r] * k for r, k in per_node.items())
    node = work / (a * layout.cores_per_node)
    b = min(1.0, layout.rank_share or a)
    each = {r: factor * loads[r] / b for r in per_node}
    if "consumer" in each:
        c = each["consumer"]
        each["consumer"] = max(c, sleep) if overlaps else c + sleep
    r = max(each, key=each.get)
    if node >= each[r]:
        return node, "node cores"
    return each[r], "consumer steps" if r == "consumer" else r


def ranks_per_core(layout):
    """Ranks of the busiest node over its cores: above 1, woken ranks wait for a core."""
    return sum(node_ranks(layout).values()) / layout.cores_per_node


def hop_seconds(layout, costs, fabric):
    """One hop's latency (latency.hop_delay): the measured table of the layout's transport (costs
    "hop_delay_s", hop_calibration.py) at the busiest node's ranks per core; across nodes the fabric's
    control latency (its get latency where it states none) is the wire's."""
    hop = costs.get("hop_delay_s", {}).get(layout.transport, {})
    wire = hop.get("wire_s", 0.0)
    if layout.nodes > 1:
        wire = fabric.get("ctrl_latency_s", fabric.get("get_latency_s", wire))
    return latency.hop_delay(ranks_per_core(layout), hop.get("table"), wire, hop.get("monotone", True))


def latency_time(layout, workload, costs, fabric, loads, misses, n_used, steps, factor, solver="bound"):
    """Seconds the batches' message chains need (latency.py), with the CPU charges of the CPU bound;
    `solver` "bound" (the closed form) or "mva" (with queueing at the ranks)."""
    batches = n_used // layout.consumers // workload.batch
    if batches <= 0:
        return 0.0
    share = min(1.0, layout.rank_share or layout.core_share)
    chain = latency.batch_chain(layout.consumers, layout.transformers, loads, factor, share, batches,
                                steps / batches, workload.step_overlaps)
    hops = latency.hops_per_batch(misses / n_used if n_used else 0.0, workload.batch)
    return latency.epoch_seconds(chain, hops, hop_seconds(layout, costs, fabric), layout.prefetch, batches, solver)


def queue_of(role, util, layout, workload):
    """Requests waiting at the busiest rank: bounded by credits when saturated, M/D/1 below that."""
    bound = layout.prefetch * layout.consumers  # batches the randomizer may have described ahead
    if role == "transformer":
        bound = bound / layout.transformers
    if util >= 1.0:
        return float(bound)
    return min(float(bound), util * util / (2 * (1 - util)))
