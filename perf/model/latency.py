"""The latency bound of a Ferry job: a batch's chain of messages as a closed queueing network.

Each consumer keeps `prefetch` batches in flight (its credits). A batch goes round a cycle: the randomizer
describes it (CPU there), its misses go to a transformer (CPU there), the consumer gets its hits and receives
its misses, assembles it and trains on it (CPU and step there), and credits the randomizer, which describes the
next. Every message between two ranks is a hop: the wire's latency, plus, when a node runs more ranks than it
has cores, the time the woken receiver waits to be scheduled. That wait is measured here, never fitted to the
validation points: hop_calibration.py times all-hit epochs of small samples at several ranks per core and
keeps, per transport, the per-hop delay the network below needs to match them (costs["hop_delay_s"]).

The model's latency bound is the closed form of the network without queueing: a consumer's batches per
second <= prefetch / (hops x delay + the services on the cycle); queueing at a saturated rank is the CPU
bound's, beside it (ferry_model.predict takes the longest). `simulate` (discrete events, deterministic service)
and `amva` (mean-value analysis, Schweitzer's approximation, one class per consumer, all alike) solve the same
network with queueing: the tests check the closed form against both, and validate.py --solver mva uses amva.
"""
import heapq
import math
from dataclasses import dataclass


@dataclass
class Station:
    """Ranks of one role on a batch's cycle. A batch visits one of `copies` alike ranks (FIFO, one batch at a
    time) for `service` seconds; `shared_by` consumers' batches use those ranks (each consumer's own: 1)."""
    name: str
    service: float
    copies: int = 1
    shared_by: int = 1


def hop_delay(ranks_per_core, table, wire_s, monotone=True):
    """Seconds a message takes from send to its receiver running: `wire_s` with a core per rank, and the
    measured table [[ranks per core, seconds], ...] (hop_calibration.py) above one rank per core, linear in
    between from (1, wire_s) and past the last point along the last two; never below the wire. `monotone`
    (ranks woken by an event, UCX): never decreasing in ranks per core, a lower measured point after a higher
    one is raised to it. MPI ranks poll with growing sleeps (transport/wait_util.hpp, Backoff), and a rank that
    gets more messages sleeps less, so its table may fall with more ranks: kept as measured."""
    points = [(1.0, wire_s)]
    for rpc, seconds in sorted(table or []):
        if rpc > 1.0:
            floor = points[-1][1] if monotone else wire_s
            points.append((float(rpc), max(float(seconds), floor)))
    if ranks_per_core <= 1.0 or len(points) == 1:
        return wire_s
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if ranks_per_core <= x1:
            return y0 + (y1 - y0) * (ranks_per_core - x0) / (x1 - x0)
    (x0, y0), (x1, y1) = points[-2], points[-1]
    return max(wire_s if not monotone else y1, y1 + (y1 - y0) * (ranks_per_core - x1) / (x1 - x0))


def amva(stations, delay, population, tol=1e-10, rounds=10000):
    """Batches per second of one consumer: `population` batches cycle through `stations` and a pure delay
    (`delay` seconds a cycle: the hops). Schweitzer's mean-value analysis for alike classes: a batch arriving
    at a station sees its mean queue less its own share, q_total - q_own / population."""
    if population <= 0:
        return 0.0
    q = [population / (len(stations) + 1) / s.copies for s in stations]  # own batches at one copy
    x = 0.0
    for _ in range(rounds):
        resid = []
        for s, qi in zip(stations, q):
            d = s.service / s.copies  # one class's demand at one copy
            others = s.shared_by * qi - qi / population
            resid.append(s.copies * d * (1.0 + max(0.0, others)))
        cycle = delay + sum(resid)
        x_new = population / cycle if cycle > 0 else math.inf
        q_new = [x_new * r / s.copies for s, r in zip(stations, resid)]
        done = abs(x_new - x) <= tol * max(x_new, 1e-30)
        x, q = x_new, q_new
        if done:
            break
    return x


def bound_throughput(stations, delay, population):
    """The network's asymptotic bounds (no queueing model): min(N / (Z + sum of services), each station's
    saturation). Exact for one station with deterministic service, which the tests check `simulate` on."""
    total = delay + sum(s.service for s in stations)
    x = population / total if total > 0 else math.inf
    for s in stations:
        if s.service > 0:
            x = min(x, s.copies / (s.service * s.shared_by))
    return x


def simulate(stations, delay, population, classes=1, cycles=2000):
    """Batches per second of one consumer by discrete events: `classes` consumers with `population` batches
    each; a batch waits `delay`, then visits each station in order (one of its copies, round robin; FIFO;
    deterministic service). A station's copies serve groups of `shared_by` consecutive consumers (consumer c
    is in group c // shared_by). Measured over the second half of `cycles` cycles per batch."""
    free = {}  # (station index, group, copy) -> time the copy is next free
    turn = {}  # (station index, group) -> next copy
    events = []  # (time, seq, class, batch, next station index); station -1: the delay
    seq = 0
    for c in range(classes):
        for b in range(population):
            events.append((0.0, seq, c, b, -1))
            seq += 1
    heapq.heapify(events)
    half, t_half, count_half = classes * population * cycles // 2, None, 0
    finished = 0
    while events:
        t, _, c, b, k = heapq.heappop(events)
        if k == len(stations):  # cycle complete
            finished += 1
            if finished == half:
                t_half = t
            elif t_half is not None:
                count_half += 1
            if finished >= classes * population * cycles:
                break
            k = -1
        if k == -1:
            nxt = (t + delay, 0)
        else:
            s = stations[k]
            group = c // max(1, s.shared_by)
            copy = turn.get((k, group), 0)
            turn[(k, group)] = (copy + 1) % s.copies
            start = max(t, free.get((k, group, copy), 0.0))
            free[(k, group, copy)] = start + s.service
            nxt = (start + s.service, 0)
        heapq.heappush(events, (nxt[0], seq, c, b, k + 1))
        seq += 1
    return count_half / (t - t_half) / classes if t_half is not None and t > t_half else 0.0


def batch_chain(consumers, transformers, loads, factor, share, batches, step_s, overlaps):
    """The stations of one batch's cycle from an epoch's per-rank CPU seconds (`loads`: one rank of each role,
    ferry_model.epoch_loads), `batches` per consumer, the consumer's step per batch (`overlaps`: the step
    leaves its CPU free). CPU is stretched by the oversubscription `factor` over the `share` of a core one
    busy rank gets, as in the CPU bound. Cache servers are off the cycle (inserts are not waited for). The
    randomizer is one directory shard: every shard describes every batch (its own positions), in parallel
    with the others, so the cycle passes one shard's service per batch, shared by every consumer."""
    total = consumers * batches
    if total <= 0:
        return []
    per = lambda role: factor * loads.get(role, 0.0) / share
    cpu = per("consumer") / batches
    out = [Station("randomizer", per("randomizer") / total, 1, consumers)]
    if transformers and loads.get("transformer", 0.0) > 0:
        out.append(Station("transformer", per("transformer") * transformers / total, transformers, consumers))
    out.append(Station("consumer", max(cpu, step_s) if overlaps else cpu + step_s, 1, 1))
    return out


def hops_per_batch(miss_fraction, batch):
    """Messages on a batch's cycle: describe and credit; a batch with a miss has its miss list go to a
    transformer first, and the samples come from there (3). Misses taken as binomial per batch."""
    q = min(1.0, max(0.0, miss_fraction))
    return 2.0 + (1.0 - (1.0 - q) ** batch)


def cycle_seconds(stations, hops, delay_per_hop):
    """One batch's cycle with nothing queued: its hops and every station's service on the way."""
    return hops * delay_per_hop + sum(s.service for s in stations)


def epoch_seconds(stations, hops, delay_per_hop, prefetch, batches, solver="bound"):
    """Seconds for `batches` batches per consumer with `prefetch` of them in flight. "bound" (the model's): the
    latency bound batches x cycle / prefetch, no queueing (a station's saturation is the CPU bound's, beside
    it); "mva": amva() over the same network, queueing at the stations included."""
    if solver == "mva":
        x = amva(stations, hops * delay_per_hop, prefetch)
    else:
        cycle = cycle_seconds(stations, hops, delay_per_hop)
        x = prefetch / cycle if cycle > 0 else math.inf
    return batches / x if x > 0 else math.inf
