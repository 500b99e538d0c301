"""Structural checks of perf/model (ctest model_structure): counts the model must get exactly, the per-byte
costs of each delivery path, the cost fit (cost_fit.py) and the command line's errors. No timing is asserted
(the solvers' figures are model arithmetic, not measurements); the costs are the fixed ones of
model_inputs.json. The latency bound's structure (latency.py) is checked in model_latency_test.py."""
import json
import os
import subprocess
import sys
import unittest

from model_fixtures import COSTS, IB, INPUTS, MODEL
import ferry_model as fm  # noqa: E402

try:  # cost_fit.py and measure_inputs.py fit with numpy (Debian's python3-numpy)
    import cost_fit  # noqa: E402
    import measure_inputs  # noqa: E402
    NUMPY = True
except ImportError:
    NUMPY = False


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

    def test_each_message_received_costs_above_the_base(self):
        # 12 ranks on 2 cores (6 a core, 4 over the base): each message a rank receives costs 4 x w more.
        costs = dict(COSTS, oversub_per_wake_s=1e-6, oversub_base_ranks_per_core=2.0)
        layout = fm.Layout(consumers=6, transformers=3, cache_servers=2, cache_bytes=64 << 20)
        work = fm.Workload(samples=3840, raw_bytes=3076, entry_bytes=12292, prepare_bytes=3072, batch=32, epochs=2)
        n_used, per_epoch = fm.counts(layout, work)
        batches = n_used // work.batch  # 12292 B entries: one miss list a batch (under 1 MiB)
        hits, misses, admitted = per_epoch[0]
        lists, inserts = batches, batches * admitted / misses
        plain, woken = (fm.epoch_loads(layout, work, c, {}, hits, misses, admitted, n_used)[0]
                        for c in (COSTS, costs))
        received = {"consumer": (batches + lists) / 6, "transformer": lists / 3, "cache_server": inserts / 2,
                    "randomizer": batches + lists + inserts}
        for role, n in received.items():
            self.assertAlmostEqual(woken[role] - plain[role], n * 4e-6, msg=role)
        # A warm epoch: descriptors and credits only.
        hits, misses, admitted = per_epoch[1]
        self.assertEqual(misses, 0)
        plain, woken = (fm.epoch_loads(layout, work, c, {}, hits, 0, 0, n_used)[0] for c in (COSTS, costs))
        self.assertAlmostEqual(woken["consumer"] - plain["consumer"], batches / 6 * 4e-6)
        self.assertAlmostEqual(woken["transformer"] - plain["transformer"], 0.0)
        self.assertAlmostEqual(woken["randomizer"] - plain["randomizer"], batches * 4e-6)

    def test_spare_cores_pay_no_wake_cost(self):
        costs = dict(COSTS, oversub_per_wake_s=1e-6, oversub_base_ranks_per_core=2.0)
        for cores in (2.0 * 4 / 2, 64):  # 4 ranks: at the base; 64 cores: under one rank a core
            layout = fm.Layout(consumers=1, transformers=1, cache_servers=1, cores_per_node=cores)
            self.assertEqual([e.seconds for e in fm.predict(layout, self.work, costs, {})],
                             [e.seconds for e in fm.predict(layout, self.work, COSTS, {})])

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


class DeliveryPath(unittest.TestCase):
    """Entries under 64 KiB reach consumers and cache servers in messages, larger ones through the send pool
    (roles/send_pool.hpp): each path's per-byte costs are charged where the protocol puts the bytes."""
    layout = fm.Layout(consumers=2, transformers=1, cache_servers=0)

    def loads(self, entry, costs=COSTS):
        work = fm.Workload(samples=1024, raw_bytes=3076, entry_bytes=entry, prepare_bytes=3072, batch=16, epochs=1)
        return fm.epoch_loads(self.layout, work, costs, {}, 0, 1024, 0, 1024)[0]

    def test_the_path_follows_the_entry_size(self):
        self.assertEqual(fm.delivery(fm.POOL_ENTRY_BYTES - 1), "message")
        self.assertEqual(fm.delivery(fm.POOL_ENTRY_BYTES), "pool")

    def test_message_bytes_cost_the_transformer_only_on_the_message_path(self):
        free = dict(COSTS, transformer=dict(COSTS["transformer"], message_per_byte_s=0.0))
        for entry, charged in ((12292, 1024 * 12292 * 1e-9), (1 << 17, 0.0)):
            self.assertAlmostEqual(self.loads(entry)["transformer"] - self.loads(entry, free)["transformer"],
                                   charged)

    def test_a_consumer_pays_its_path_per_byte(self):
        for entry, key in ((12292, "miss_message_per_byte_s"), (1 << 17, "miss_pool_per_byte_s")):
            per = COSTS["consumer"]["miss_per_sample_s"] + entry * COSTS["consumer"][key]
            self.assertAlmostEqual(self.loads(entry)["consumer"], 1024 * per / 2)


@unittest.skipUnless(NUMPY, "cost_fit.py needs numpy")
class Fit(unittest.TestCase):
    """cost_fit.py: non-negative least squares, and the costs recovered from rows the model's rules made."""

    def test_a_negative_coefficient_is_left_out(self):
        a = [[1, 0], [1, 1], [1, 2]]
        self.assertEqual([round(c, 9) for c in cost_fit.nonnegative_fit(a, [2, 3, 4])], [2.0, 1.0])
        self.assertEqual([round(c, 9) for c in cost_fit.nonnegative_fit(a, [4, 3, 2])][1], 0.0)

    def test_the_calibration_rows_give_back_the_costs_that_made_them(self):
        tr, cons, rnd = COSTS["transformer"], COSTS["consumer"], COSTS["randomizer"]
        rows = []
        for side, batch, cast, cold in measure_inputs.CALIBRATION:
            raw, n = side * side * 3 + 4, 32768
            entry = (raw - 4) * (4 if cast else 1) + 4
            prep = raw - 4 if cast else 0
            cpu = {"randomizer": n // batch * (rnd["per_batch_s"] + cold * rnd["per_list_s"]) + n * rnd["per_sample_s"]}
            if cold:
                cpu["transformer"] = n // batch * 2 * tr["hdf5_per_call_s"] + n * fm.transformer_per_miss(
                    tr, raw, entry, prep)
                path = fm.delivery(entry)
                cpu["consumer"] = n * (cons["miss_per_sample_s"] + entry * cons[f"miss_{path}_per_byte_s"])
            else:
                cpu["consumer"] = n * (cons["hit_per_sample_s"] + entry * cons["hit_per_byte_s"])
            rows.append(dict(side=side, batch=batch, cast=cast, cold=cold, raw=raw, entry=entry, samples=n,
                             batches=n // batch, cpu=cpu, busy_share=None))
        got = cost_fit.costs_from(rows, {"transformer": tr["insert_per_byte_s"], "cache_server": 4e-10})
        for role in ("transformer", "consumer", "randomizer"):
            for key, value in COSTS[role].items():
                self.assertAlmostEqual(got[role][key] / value, 1.0, places=6, msg=f"{role} {key}")


    def test_width_rows_give_back_the_factor_and_the_wake_cost(self):
        # Rows made by the model's own charge at k = 0.05 and w = 3 us: 64x64 warm and cold, smaller sides
        # cold (more messages per byte), so the factor and the cost per message come apart.
        k, w = 0.05, 3e-6
        rows = []
        for side in measure_inputs.WIDTH_SIDES:
            for c, t, s in measure_inputs.WIDTHS:
                for cold in ((False, True) if side == cost_fit.WIDTH_SIDE else (True,)):
                    ranks = c + t + (0 if cold else s) + 1
                    row = dict(side=side, samples=cost_fit.WIDTH_SAMPLES, consumers=c, transformers=t,
                               servers=0 if cold else s, cold=cold, ranks=ranks, ranks_per_core=ranks / 2,
                               entry=side * side * 3 * 4 + 4)
                    base, per_wake = cost_fit.width_model_cpu(row, COSTS)
                    x = max(0.0, ranks / 2 - cost_fit.OVERSUB_BASE)
                    row["cpu_per_epoch"] = (1 + k * x) * (base + w * per_wake)
                    rows.append(row)
        got_k, got_w = cost_fit.oversub_fit(rows, COSTS)
        self.assertAlmostEqual(got_k, k, places=9)
        self.assertAlmostEqual(got_w / w, 1.0, places=6)
        for row in rows:
            self.assertAlmostEqual(row["fitted_cpu_per_epoch"] / row["cpu_per_epoch"], 1.0, places=6)
        # The 64x64 rows alone (fixed bytes per batch) still give the rows back, whatever the split.
        only = [r for r in rows if r["side"] == cost_fit.WIDTH_SIDE]
        cost_fit.oversub_fit(only, COSTS)
        for row in only:
            self.assertAlmostEqual(row["fitted_cpu_per_epoch"] / row["cpu_per_epoch"], 1.0, places=2)


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
