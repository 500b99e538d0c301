"""Ferry's performance model from the command line: one prediction, as a table or JSON.

    /usr/bin/python3 perf/model/model.py --inputs perf/model/inputs/here.json --samples 7680 \
        --raw-bytes 12292 --entry-bytes 49156 --batch 16 --consumers 4 --transformers 2 --cache-servers 1

With --profile (profiles/*.json) and --nodes > 1, hits and misses cross the fabric. --config reads batch,
epochs, prefetch and cache_bytes from a Ferry TOML file (flags given beside it win). Prints one row per epoch:
samples/s, hit rate, HDF5 bytes and reads, consumer wait (summed), the bound, the busiest rank and its queue.
--directory-shards D (= --randomizers): the pipeline's directory split over D randomizers. --tasks N instead
of --consumers: the job's ranks, the consumers being what the service ranks leave. --choose-shards MOST
prints the fewest shards (1, 2, 4, ... MOST) with which the randomizer bounds no epoch (fewest_shards; with
--tasks each shard takes a consumer's rank) and exits: slurm/scaling_sweep.sh --shards auto uses it.
Exit status 2 on bad input, naming the option or file.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferry_model as fm  # noqa: E402


def fail(msg):
    print(f"model: {msg}", file=sys.stderr)
    sys.exit(2)


def load_json(path, what):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        fail(f"cannot read {what} {path}: {e}")


def from_config(path):
    """batch, epochs, prefetch, cache_bytes, transport of a Ferry TOML file's first pipeline."""
    import tomllib
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        fail(f"cannot read --config {path}: {e}")
    rt = doc.get("runtime", {})
    pipes = doc.get("pipeline", [{}])
    pipe = pipes[0] if isinstance(pipes, list) else pipes
    return {k: v for k, v in (("batch", pipe.get("batch_size")), ("epochs", pipe.get("epochs")),
                              ("prefetch", rt.get("prefetch")), ("cache_bytes", rt.get("cache_bytes")),
                              ("transport", rt.get("transport"))) if v is not None}


def parse(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", required=True, help="measured costs (measure_inputs.py output)")
    ap.add_argument("--profile", help="fabric profile JSON (profiles/); needed when --nodes > 1")
    ap.add_argument("--config", help="Ferry TOML: batch_size, epochs, prefetch, cache_bytes")
    ap.add_argument("--samples", type=int, required=True)
    ap.add_argument("--raw-bytes", type=int, required=True, help="HDF5 bytes per sample, all fields")
    ap.add_argument("--entry-bytes", type=int, required=True, help="prepared bytes per sample (cache entry)")
    ap.add_argument("--prepare-bytes", type=float, default=0.0, help="bytes the prepare ops touch per sample")
    ap.add_argument("--batch", type=int)
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--step-ms", type=float, default=0.0, help="training time per batch")
    ap.add_argument("--consumers", type=int)
    ap.add_argument("--tasks", type=int, help="the job's ranks instead of --consumers: consumers = tasks - "
                    "cache servers - transformers - shards")
    ap.add_argument("--transformers", type=int, default=1)
    ap.add_argument("--cache-servers", type=int, default=1)
    ap.add_argument("--randomizers", "--directory-shards", dest="randomizers", type=int, default=1,
                    help="directory shards D, one randomizer each (runtime.randomizers = runtime.directory_shards)")
    ap.add_argument("--choose-shards", type=int, metavar="MOST",
                    help="print the fewest shards <= MOST with which the randomizer bounds no epoch, and exit")
    ap.add_argument("--nodes", type=int, default=1)
    ap.add_argument("--cache-bytes", type=int, help="slab bytes per cache server")
    ap.add_argument("--cores-per-node", type=float, default=2.0)
    ap.add_argument("--prefetch", type=int)
    ap.add_argument("--transport", choices=["ucx", "mpi"], help="whose measured hop delay applies (default ucx)")
    ap.add_argument("--json", action="store_true", help="one JSON object per epoch instead of the table")
    ap.add_argument("--csv", action="store_true",
                    help="one line per epoch: epoch,samples_per_s,hit_rate_pct,hdf5_mib,bound (no header)")
    args = ap.parse_args(argv)
    conf = from_config(args.config) if args.config else {}
    for key, default in (("batch", 32), ("epochs", 1), ("prefetch", 4), ("cache_bytes", 256 << 20),
                         ("transport", "ucx")):
        if getattr(args, key) is None:
            setattr(args, key, conf.get(key, default))
    if (args.consumers is None) == (args.tasks is None):
        fail("give one of --consumers and --tasks")
    for key in ("samples", "raw_bytes", "entry_bytes", "batch", "epochs", "transformers", "nodes", "randomizers",
                "consumers" if args.tasks is None else "tasks", *(("choose_shards",) if args.choose_shards else ())):
        if getattr(args, key) <= 0:
            fail(f"--{key.replace('_', '-')} must be positive (got {getattr(args, key)})")
    if args.nodes > 1 and not args.profile:
        fail("--nodes > 1 needs --profile (a fabric profile from perf/model/profiles)")
    return args


def fewest_shards(layout_of, workload, costs, fabric, most):
    """The fewest directory shards D (1, 2, 4, ... up to `most`) with which the randomizer bounds no epoch;
    where it bounds one with every D, the D with the most samples/s over the run. `layout_of(D)`: the job's
    Layout with D shards, None where no consumer is left."""
    best, d = (0.0, 1), 1
    while d <= most and (layout := layout_of(d)) is not None:
        epochs = fm.predict(layout, workload, costs, fabric)
        if all(e.bound != "randomizer" for e in epochs):
            return d
        best = max(best, (sum(e.samples for e in epochs) / sum(e.seconds for e in epochs), -d))
        d *= 2
    return abs(best[1])


def layout_with(args, shards):
    """The Layout of the arguments with `shards` directory shards; None where --tasks leaves no consumer."""
    consumers = args.consumers if args.tasks is None else args.tasks - args.cache_servers - args.transformers - shards
    if consumers <= 0:
        return None
    return fm.Layout(consumers=consumers, transformers=args.transformers, cache_servers=args.cache_servers,
                     randomizers=shards, nodes=args.nodes, cache_bytes=args.cache_bytes,
                     cores_per_node=args.cores_per_node, prefetch=args.prefetch, transport=args.transport)


def main(argv=None):
    args = parse(argv if argv is not None else sys.argv[1:])
    inputs = load_json(args.inputs, "--inputs")
    if "costs" not in inputs:
        fail(f"--inputs {args.inputs} has no 'costs' (write it with measure_inputs.py)")
    fabric = load_json(args.profile, "--profile") if args.profile else {}
    workload = fm.Workload(samples=args.samples, raw_bytes=args.raw_bytes, entry_bytes=args.entry_bytes,
                           prepare_bytes=args.prepare_bytes, batch=args.batch, epochs=args.epochs,
                           step_s=args.step_ms / 1000)
    if args.choose_shards:
        print(fewest_shards(lambda d: layout_with(args, d), workload, inputs["costs"], fabric, args.choose_shards))
        return 0
    layout = layout_with(args, args.randomizers)
    if layout is None:
        fail(f"--tasks {args.tasks} leaves no consumer beside {args.cache_servers} cache server(s), "
             f"{args.transformers} transformer(s) and {args.randomizers} randomizer(s)")
    epochs = fm.predict(layout, workload, inputs["costs"], fabric)
    if args.json:
        for e in epochs:
            print(json.dumps(vars(e)))
        return 0
    if args.csv:
        for e in epochs:
            print(f"{e.epoch},{e.samples_per_s:.0f},{100 * e.hit_rate:.1f},{e.hdf5_bytes / 2**20:.2f},{e.bound}")
        return 0
    print(f"{'epoch':>5} {'samples':>9} {'samples/s':>11} {'hit rate':>8} {'hdf5 bytes':>12} {'reads':>8} "
          f"{'wait s':>8}  bound / busiest (util, queue)")
    for e in epochs:
        print(f"{e.epoch:>5} {e.samples:>9} {e.samples_per_s:>11.0f} {100 * e.hit_rate:>7.1f}% {e.hdf5_bytes:>12} "
              f"{e.hdf5_reads:>8.0f} {e.wait_s:>8.3f}  {e.bound} / {e.busiest} ({e.busiest_util:.2f}, "
              f"{e.busiest_queue:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
