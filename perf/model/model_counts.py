"""What the model counts exactly (ferry_model.py): samples delivered, cache entries, hits and admissions per
epoch, miss lists per batch, all by the code's own rules, for one pipeline whose cache directory is split by
key range over D = `runtime.directory_shards` randomizers (Layout.randomizers; docs/scaling.md, "The
directory sharded by key range"). D = 1 is one randomizer holding every entry.
"""
import functools
import math

SLAB_ALIGN = 64  # src/cache: every entry reserves max(64, round_up(bytes, 64)); capacity rounded down to 64
# Bytes a randomizer's directory holds per cached entry (src/cache/directory.hpp, key, location, policy
# state, hash slot): the randomizer's RSS in perf/results/2026-12-06-shards fell 5.7 MB when 65,536 of
# 131,072 entries moved to another shard (87 B each) and 9.9 MB when 98,304 did (101 B each).
DIRECTORY_ENTRY_BYTES = 100


def shard_entries(layout, workload):
    """Entries one shard's slice of the slabs holds (static policy): every randomizer owns
    `cache_bytes / R` of every slab, aligned down to 64 (Layout::slab_share), and per server
    floor(slice / reserved) entries."""
    if not layout.cache_servers:
        return 0
    usable = (layout.cache_bytes // max(1, layout.randomizers) // SLAB_ALIGN) * SLAB_ALIGN
    reserved = max(SLAB_ALIGN, -(-workload.entry_bytes // SLAB_ALIGN) * SLAB_ALIGN)
    return layout.cache_servers * (usable // reserved)


def cache_entries(layout, workload):
    """Entries the static policy can hold in the job: every shard's slice of every server."""
    return max(1, layout.randomizers) * shard_entries(layout, workload)


def used_samples(layout, workload):
    """Samples delivered per epoch: DistributedSampler shares of whole batches (docs/sampling.md)."""
    per = workload.samples // layout.consumers
    if workload.drop_last:
        per = (per // workload.batch) * workload.batch
    return per * layout.consumers


def key_ranges(samples, shards):
    """Samples of each shard's key range: IDs [N x j / D, N x (j + 1) / D) (roles/shard_positions.hpp)."""
    return [samples * (j + 1) // shards - samples * j // shards for j in range(shards)]


def counts(layout, workload):
    """Per epoch (hits, misses, admitted) under the static policy: each shard fills its slice with its key
    range's misses while it has room, and never evicts.

    Exact when every sample is delivered each epoch (N a multiple of consumers x batch): epoch e's hits are
    then the entries stored before it, and a shard's misses the rest of its range. Otherwise the dropped tail
    differs per epoch and the figure is the expectation (stored x used / N; the misses split over the shards
    as what each has left to store).
    """
    n_used = used_samples(layout, workload)
    shards = max(1, layout.randomizers)
    room = shard_entries(layout, workload)
    ranges = key_ranges(workload.samples, shards)
    stored, out = [0] * shards, []
    for _ in range(workload.epochs):
        held = sum(stored)
        hits = held if n_used == workload.samples else round(held * n_used / workload.samples)
        misses = n_used - hits
        left = [r - s for r, s in zip(ranges, stored)]
        share = [misses * x // max(1, sum(left)) for x in left[:-1]]
        share.append(misses - sum(share))  # D = 1: every miss
        admit = [min(m, room - s) for m, s in zip(share, stored)]
        out.append((hits, misses, sum(admit)))
        stored = [s + a for s, a in zip(stored, admit)]
    return n_used, out


def miss_runs(misses, entry_bytes, list_bytes, transformers):
    """Miss lists of one batch with `misses` misses (roles/miss_targets.hpp, miss_runs): one per `list_bytes`
    of prepared bytes, at least one, at most one per transformer and per miss; list_bytes 0: min(misses, T)."""
    runs = min(misses, transformers)
    if list_bytes > 0 and misses * entry_bytes > 0:
        runs = min(runs, max(1, misses * entry_bytes // list_bytes))
    return runs


@functools.lru_cache(maxsize=65536)
def expected_lists(misses_per_batch, batch, transformers, entry_bytes=0, list_bytes=0):
    """Mean non-empty miss lists of one batch: its misses in miss_runs() contiguous runs (randomizer.cpp);
    the misses of a batch taken as binomial(batch, miss fraction). Exact when every batch is all-miss or
    all-hit."""
    q = min(1.0, max(0.0, misses_per_batch / batch))
    runs = lambda k: miss_runs(k, entry_bytes, list_bytes, transformers)
    if q in (0.0, 1.0):
        return runs(batch) if q else 0.0
    pmf = [math.comb(batch, k) * q**k * (1 - q) ** (batch - k) for k in range(batch + 1)]
    return sum(p * runs(k) for k, p in enumerate(pmf))


def shard_lists(misses_per_batch, batch, shards, transformers, entry_bytes=0, list_bytes=0):
    """Mean miss lists one directory shard sends per batch (Randomizer::describe, send_misses): its own
    positions of the batch (batch / D on average: equal key ranges, spread by the permutation) and their
    misses, in miss_runs() runs of their own. D = 1: expected_lists. With under one position a batch, a shard
    sends each missed position in a list of its own."""
    positions = batch / shards
    if positions < 1:
        return misses_per_batch / shards
    return expected_lists(misses_per_batch / shards, round(positions), transformers, entry_bytes, list_bytes)


def directory_bytes(layout, stored):
    """Bytes one randomizer's directory holds with `stored` entries in the job: its key range's share."""
    return math.ceil(stored / max(1, layout.randomizers)) * DIRECTORY_ENTRY_BYTES
