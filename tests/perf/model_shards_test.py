"""Directory shards in perf/model (ctest model_shards, label model): what a shard, a consumer and the job
count and are charged with D = runtime.directory_shards randomizers, on the fixed costs of model_inputs.json.
Structure and counts only: no timing is asserted."""
import json
import os
import subprocess
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "perf", "model")
sys.path.insert(0, MODEL)
import ferry_model as fm  # noqa: E402
import latency  # noqa: E402
import shards_ab  # noqa: E402

INPUTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model_inputs.json")
COSTS = json.load(open(INPUTS))["costs"]
WORK = fm.Workload(samples=4096, raw_bytes=3076, entry_bytes=12292, prepare_bytes=3072, batch=32, epochs=3)


def only(**randomizer):
    """COSTS with the randomizer's costs set to `randomizer` (the others 0)."""
    rnd = {"per_batch_s": 0.0, "per_sample_s": 0.0, "per_list_s": 0.0, **randomizer}
    return dict(COSTS, randomizer=rnd)


def loads(shards, costs=COSTS, hits=0, work=WORK, transformers=2):
    layout = fm.Layout(consumers=4, transformers=transformers, cache_servers=2, randomizers=shards,
                       cache_bytes=64 << 20)
    n = fm.used_samples(layout, work)
    return fm.epoch_loads(layout, work, costs, {}, hits, n - hits, 0, n)


class ShardCharges(unittest.TestCase):
    def test_one_shard_is_one_randomizer(self):
        rnd = COSTS["randomizer"]
        got, reads = loads(1)
        batches = 4096 // 32
        # A batch of 32 x 12292 B is one miss list (under runtime.miss_list_bytes), a read per field.
        self.assertAlmostEqual(got["randomizer"], batches * (rnd["per_batch_s"] + 32 * rnd["per_sample_s"]
                                                             + rnd["per_list_s"]))
        self.assertEqual(reads, batches * 2)
        cons = COSTS["consumer"]
        self.assertAlmostEqual(got["consumer"], 4096 * (cons["miss_per_sample_s"] + 12292
                                                        * cons["miss_message_per_byte_s"]) / 4)

    def test_per_sample_cost_divides_per_batch_cost_does_not(self):
        for d in (2, 4, 8):
            per_sample = [loads(x, only(per_sample_s=1e-6), hits=4096)[0]["randomizer"] for x in (1, d)]
            self.assertAlmostEqual(per_sample[1], per_sample[0] / d)
            per_batch = [loads(x, only(per_batch_s=1e-5), hits=4096)[0]["randomizer"] for x in (1, d)]
            self.assertAlmostEqual(per_batch[1], per_batch[0])

    def test_unsharded_share_stays_on_every_shard(self):
        costs = only(per_sample_s=1e-6, unsharded_share=0.25)
        one, four = (loads(d, costs, hits=4096)[0]["randomizer"] for d in (1, 4))
        self.assertAlmostEqual(four / one, 0.25 + 0.75 / 4)

    def test_consumers_pay_a_descriptor_and_a_credit_per_shard(self):
        batches_each = 4096 // 4 // 32
        one = loads(1, hits=4096)[0]["consumer"]
        for d in (2, 5):
            extra = loads(d, hits=4096)[0]["consumer"] - one
            self.assertAlmostEqual(extra, batches_each * 2 * (d - 1) * fm.message_s(COSTS))
        self.assertAlmostEqual(fm.message_s(COSTS), COSTS["randomizer"]["per_batch_s"] / 2)

    def test_each_shard_sends_its_own_miss_lists(self):
        batches = 4096 // 32
        # Small entries: one list a batch per shard, so the transformers read D times as often.
        for d in (1, 2, 4):
            got, reads = loads(d, only(per_list_s=1.0))
            self.assertAlmostEqual(got["randomizer"], batches)
            self.assertEqual(reads, d * batches * 2)
        # 1 MiB entries, 8 transformers: 8 lists a batch (one a transformer); 2 shards of 16 misses: 8 each;
        # 8 shards of 4 misses: 4 each (one a miss).
        big = fm.Workload(samples=4096, raw_bytes=1 << 20, entry_bytes=1 << 20, batch=32, epochs=1)
        for d, per_shard in ((1, 8), (2, 8), (8, 4)):
            got, _ = loads(d, only(per_list_s=1.0), work=big, transformers=8)
            self.assertAlmostEqual(got["randomizer"], batches * per_shard)
        # More shards than positions in a batch: a list per missed position, over the shards.
        self.assertAlmostEqual(fm.shard_lists(8, 8, 16, 4, 1 << 20, 1 << 20), 0.5)


class ShardCounts(unittest.TestCase):
    def test_hits_and_bytes_do_not_change_with_shards(self):
        for d in (1, 2, 3):
            layout = fm.Layout(consumers=4, cache_servers=2, randomizers=d, cache_bytes=64 << 20)
            e = fm.predict(layout, WORK, COSTS, {})
            self.assertEqual([x.hits for x in e], [0, 4096, 4096])
            self.assertEqual([x.hdf5_bytes for x in e], [4096 * 3076, 0, 0])

    def test_each_shard_fills_its_slice_with_its_key_range(self):
        # 12292 B entries reserve 12352 B. One randomizer: a slab of 100 x 12352 + 63 B holds 100 per server;
        # 3 shards get (slab / 3) aligned down to 64: 33 each per server.
        slab = 100 * 12352 + 63
        for d, held in ((1, 200), (3, 3 * 2 * 33)):
            layout = fm.Layout(consumers=4, cache_servers=2, randomizers=d, cache_bytes=slab)
            self.assertEqual(fm.cache_entries(layout, WORK), held)
            self.assertEqual([x.hits for x in fm.predict(layout, WORK, COSTS, {})], [0, held, held])

    def test_directory_per_randomizer_divides(self):
        for d in (1, 2, 4):
            layout = fm.Layout(consumers=4, cache_servers=2, randomizers=d, cache_bytes=64 << 20)
            e = fm.predict(layout, WORK, COSTS, {})
            self.assertEqual(e[-1].directory_bytes, -(-4096 // d) * fm.DIRECTORY_ENTRY_BYTES)


class ShardCycle(unittest.TestCase):
    def test_every_consumer_shares_each_shard(self):
        got, _ = loads(4, hits=4096)
        chain = latency.batch_chain(4, 2, got, 1.0, 1.0, 32, 0.0, False)
        self.assertEqual((chain[0].name, chain[0].copies, chain[0].shared_by), ("randomizer", 1, 4))
        self.assertAlmostEqual(chain[0].service, got["randomizer"] / (4 * 32))


class ChooseShards(unittest.TestCase):
    base = ["--samples", "65536", "--raw-bytes", "3076", "--entry-bytes", "12292", "--batch", "32",
            "--epochs", "2", "--cache-servers", "1", "--transformers", "1", "--cores-per-node", "64"]

    def run_model(self, costs, *args):
        path = os.path.join(self.tmp, "inputs.json")
        with open(path, "w") as f:
            json.dump({"costs": costs}, f)
        return subprocess.run([sys.executable, os.path.join(MODEL, "model.py"), "--inputs", path, *self.base,
                               *args], capture_output=True, text=True)

    def setUp(self):
        import shutil
        import tempfile
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp, True)  # nothing of the test left in the temporary folder

    def test_fewest_shards_leave_the_randomizer_unbound(self):
        cheap = self.run_model(COSTS, "--tasks", "40", "--choose-shards", "64")
        self.assertEqual((cheap.returncode, cheap.stdout.strip()), (0, "1"), cheap.stderr)
        costly = dict(COSTS, randomizer=dict(COSTS["randomizer"], per_sample_s=2e-5))
        out = self.run_model(costly, "--tasks", "40", "--choose-shards", "64")
        self.assertEqual(out.returncode, 0, out.stderr)
        d = int(out.stdout)
        self.assertGreater(d, 1)
        for shards, bound in ((d, False), (d // 2, True)):
            rows = self.run_model(costly, "--tasks", "40", "--directory-shards", str(shards), "--json")
            self.assertEqual(any(json.loads(r)["bound"] == "randomizer" for r in rows.stdout.splitlines()), bound)

    def test_tasks_leave_the_consumers(self):
        rows = [json.loads(r) for r in self.run_model(COSTS, "--tasks", "10", "--directory-shards", "4",
                                                      "--json").stdout.splitlines()]
        self.assertEqual(rows[0]["samples"], 65536 // 4 // 32 * 32 * 4)  # 10 - 1 - 1 - 4 = 4 consumers
        out = self.run_model(COSTS, "--tasks", "6", "--directory-shards", "4")
        self.assertEqual(out.returncode, 2)
        self.assertIn("--tasks 6 leaves no consumer", out.stderr)
        both = self.run_model(COSTS, "--tasks", "6", "--consumers", "2")
        self.assertEqual(both.returncode, 2)
        self.assertIn("--consumers and --tasks", both.stderr)


class AbCheck(unittest.TestCase):
    def test_the_ab_check_has_its_structure(self):
        out = shards_ab.check(COSTS)
        ratios = [r["model"] for r in out["rows"]]
        self.assertEqual([r["shards"] for r in out["rows"]], [2, 4])
        self.assertTrue(1.0 > ratios[0] > ratios[1] > 0.0)


if __name__ == "__main__":
    unittest.main()
