"""Structural checks of perf/model (ctest model_structure): counts the model must get exactly, and its
command line's errors. No timing is asserted; the costs are the fixed ones of model_inputs.json."""
import json
import os
import subprocess
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "perf", "model")
sys.path.insert(0, MODEL)
import ferry_model as fm  # noqa: E402

INPUTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model_inputs.json")
COSTS = json.load(open(INPUTS))["costs"]
IB = json.load(open(os.path.join(MODEL, "profiles", "ib_hdr200.json")))


def cli(*args):
    return subprocess.run([sys.executable, os.path.join(MODEL, "model.py"), "--inputs", INPUTS, *args],
                          capture_output=True, text=True)


class Counting(unittest.TestCase):
    work = fm.Workload(samples=4096, raw_bytes=3076, entry_bytes=12292, prepare_bytes=3072, batch=32, epochs=3)

    def test_cache_holding_the_set(self):
        layout = fm.Layout(consumers=4, transformers=2, cache_servers=2, cache_bytes=64 << 20)
        e = fm.predict(layout, self.work, COSTS, {})
        self.assertEqual([x.hit_rate for x in e], [0.0, 1.0, 1.0])
        self.assertEqual(e[0].hdf5_bytes, 4096 * 3076)  # epoch 0 reads the dataset once
        self.assertEqual([x.hdf5_bytes for x in e[1:]], [0, 0])
        # A batch of 32 x 12292 B is under runtime.miss_list_bytes (1 MiB): one list, one read per field.
        self.assertEqual(e[0].hdf5_reads, 4096 // 32 * 1 * 2)
        split = fm.Layout(consumers=4, transformers=2, cache_servers=2, cache_bytes=64 << 20, list_bytes=0)
        self.assertEqual(fm.predict(split, self.work, COSTS, {})[0].hdf5_reads, 4096 // 32 * 2 * 2)  # x T
        self.assertEqual(fm.miss_runs(16, 16 << 20, 1 << 20, 8), 8)  # large entries: one list a transformer
        self.assertEqual(fm.miss_runs(16, 200 << 10, 1 << 20, 8), 3)  # 3.1 MiB: three

    def test_partial_cache_is_its_capacity(self):
        # 12292 B entries reserve 12352 B; 100 fit a slab of 100 x 12352 + 63 B (usable rounds down to 64).
        layout = fm.Layout(consumers=4, cache_servers=3, cache_bytes=100 * 12352 + 63)
        self.assertEqual(fm.cache_entries(layout, self.work), 300)
        e = fm.predict(layout, self.work, COSTS, {})
        self.assertEqual([x.hits for x in e], [0, 300, 300])
        self.assertEqual(e[1].hdf5_bytes, (4096 - 300) * 3076)

    def test_no_cache_server_reads_every_epoch(self):
        e = fm.predict(fm.Layout(consumers=2, cache_servers=0), self.work, COSTS, {})
        self.assertEqual([x.hdf5_bytes for x in e], [4096 * 3076] * 3)

    def test_drop_last_delivers_whole_batches(self):
        work = fm.Workload(samples=1000, raw_bytes=100, entry_bytes=100, batch=32, epochs=1)
        self.assertEqual(fm.predict(fm.Layout(consumers=3), work, COSTS, {})[0].samples, 3 * 320)

    def test_more_transformers_never_slower_when_they_bind(self):
        layout = lambda t: fm.Layout(consumers=4, transformers=t, cache_servers=0, cores_per_node=64)
        one, four = (fm.predict(layout(t), self.work, COSTS, {})[0] for t in (1, 4))
        self.assertEqual(one.bound, "transformer")
        self.assertGreater(four.samples_per_s, one.samples_per_s)

    def test_oversubscription_grows_with_ranks_per_core(self):
        costs = dict(COSTS, oversub_per_rank_per_core=0.1, oversub_base_ranks_per_core=2.0)
        factor = lambda c, t, s, cores: fm.oversubscription(
            fm.Layout(consumers=c, transformers=t, cache_servers=s, cores_per_node=cores), costs)
        self.assertEqual(factor(1, 1, 1, 2), 1.0)  # 4 ranks on 2 cores: the base
        self.assertAlmostEqual(factor(6, 3, 2, 2), 1.4)  # 12 ranks on 2 cores: 1 + 0.1 x (6 - 2)
        self.assertEqual(factor(4, 2, 1, 64), 1.0)  # spare cores cost nothing
        # The node's CPU work scales with it, so a wide job on two cores is predicted slower.
        layout = fm.Layout(consumers=20, transformers=8, cache_servers=3, cache_bytes=64 << 20)
        plain, over = (fm.predict(layout, self.work, c, {})[1] for c in (COSTS, costs))
        self.assertEqual(plain.bound, "node cores")
        self.assertAlmostEqual(plain.seconds / over.seconds, 1.0 / (1 + 0.1 * (32 / 2 - 2)))

    def test_rank_share_bounds_one_rank_not_the_node(self):
        layout = lambda share, rank: fm.Layout(consumers=1, transformers=1, cache_servers=0, cores_per_node=64,
                                               core_share=share, rank_share=rank)
        alone, shared = (fm.predict(layout(0.5, r), self.work, COSTS, {})[0] for r in (1.0, 0.0))
        self.assertEqual(alone.bound, "transformer")
        self.assertAlmostEqual(shared.seconds / alone.seconds, 2.0)  # without rank_share a rank gets core_share

    def test_remote_hits_cross_the_nic(self):
        slow = dict(IB, link_bandwidth_Bps=1e6)
        layout = fm.Layout(consumers=8, transformers=2, cache_servers=2, nodes=2, cache_bytes=64 << 20,
                           cores_per_node=32)
        e = fm.predict(layout, self.work, COSTS, slow)
        self.assertEqual(e[1].bound, "nic")
        self.assertEqual(e[1].hit_rate, 1.0)


class CommandLine(unittest.TestCase):
    base = ["--samples", "4096", "--raw-bytes", "3076", "--entry-bytes", "12292", "--consumers", "4",
            "--epochs", "2", "--batch", "32"]

    def test_json_rows(self):
        out = cli(*self.base, "--json")
        self.assertEqual(out.returncode, 0, out.stderr)
        rows = [json.loads(line) for line in out.stdout.splitlines()]
        self.assertEqual([r["hits"] for r in rows], [0, 4096])

    def test_nodes_need_a_profile(self):
        out = cli(*self.base, "--nodes", "2")
        self.assertEqual(out.returncode, 2)
        self.assertIn("--profile", out.stderr)

    def test_bad_value_named(self):
        out = cli(*self.base, "--consumers", "0")
        self.assertEqual(out.returncode, 2)
        self.assertIn("--consumers", out.stderr)

    def test_missing_inputs_named(self):
        out = subprocess.run([sys.executable, os.path.join(MODEL, "model.py"), "--inputs", "/nonexistent.json",
                              *self.base], capture_output=True, text=True)
        self.assertEqual(out.returncode, 2)
        self.assertIn("/nonexistent.json", out.stderr)


if __name__ == "__main__":
    unittest.main()
