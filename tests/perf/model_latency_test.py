"""The latency bound's structure in perf/model (ctest model_latency, label model): hop delays, the closed
form against the discrete-event and mean-value solvers, and how the bound moves with ranks per core
(latency.py). No timing is asserted; the costs are the fixed ones of model_inputs.json."""
import unittest

from model_fixtures import COSTS, IB
import ferry_model as fm  # noqa: E402
import latency  # noqa: E402


class Latency(unittest.TestCase):
    """The latency bound (latency.py): hop delays, the closed form against the queueing solvers, and how the
    bound moves with ranks per core."""
    work = fm.Workload(samples=4096, raw_bytes=3076, entry_bytes=12292, prepare_bytes=3072, batch=32, epochs=3)
    table = [[2.0, 1e-4], [8.0, 2e-3], [4.0, 5e-4], [16.0, 1e-3]]  # out of order, and 16 below 8

    def costs(self, table=None, wire=1e-6):
        return dict(COSTS, hop_delay_s={"ucx": {"wire_s": wire, "table": self.table if table is None else table}})

    def test_hop_delay_is_the_wire_with_a_core_per_rank(self):
        for rpc in (0.01, 0.5, 1.0):
            self.assertEqual(latency.hop_delay(rpc, self.table, 1e-6), 1e-6)
        self.assertAlmostEqual(latency.hop_delay(2.0, self.table, 1e-6), 1e-4)
        self.assertAlmostEqual(latency.hop_delay(6.0, self.table, 1e-6), 5e-4 + (2e-3 - 5e-4) / 2)

    def test_hop_delay_never_falls_with_ranks_per_core(self):
        grid = [0.5 + 0.25 * i for i in range(200)]
        delays = [latency.hop_delay(r, self.table, 1e-6) for r in grid]
        self.assertEqual(delays, sorted(delays))
        self.assertGreaterEqual(latency.hop_delay(16.0, self.table, 1e-6), 2e-3)  # 16's lower point is raised

    def test_polled_transport_keeps_its_table(self):
        # MPI ranks poll with growing sleeps: more traffic, shorter sleeps, so the measured delay may fall.
        mpi = [[2.0, 3e-3], [4.0, 1e-3]]
        self.assertAlmostEqual(latency.hop_delay(4.0, mpi, 1e-6, monotone=False), 1e-3)
        self.assertAlmostEqual(latency.hop_delay(4.0, mpi, 1e-6), 3e-3)
        self.assertGreaterEqual(latency.hop_delay(64.0, mpi, 1e-6, monotone=False), 1e-6)  # never below the wire

    def test_a_run_the_cpu_explains_puts_the_wire_in_the_table(self):
        hop_calibration = __import__("hop_calibration")
        row = lambda c, seconds: dict(transport="ucx", consumers=c, entry=772, cores=2,
                                      ranks_per_core=(c + 3) / 2, seconds=seconds, load={"share": 1.0})
        rows = [row(1, 1e-9), row(13, 10.0)]  # 2 ranks a core done in no time; 8 a core in 5 s an epoch
        got = hop_calibration.table(rows, COSTS, {"ucx": 1e-6})["ucx"]["table"]
        self.assertEqual(got[0], [2.0, 1e-6])
        self.assertEqual(got[1][0], 8.0)
        self.assertGreater(got[1][1], 1e-6)

    def test_simulation_equals_the_closed_form_on_one_station(self):
        # One station of deterministic service s, a delay Z, N batches: X = min(N / (s + Z), 1 / s) exactly.
        for service, delay, n in ((1e-3, 1e-2, 4), (1e-3, 1e-3, 4), (2e-3, 0.0, 3), (5e-4, 2e-3, 1)):
            chain = [latency.Station("consumer", service)]
            closed = latency.bound_throughput(chain, delay, n)
            self.assertAlmostEqual(closed, min(n / (service + delay), 1 / service))
            self.assertAlmostEqual(latency.simulate(chain, delay, n, cycles=400) / closed, 1.0, places=6)

    def test_queueing_solvers_stay_under_the_bound(self):
        # A Ferry-like cycle: a randomizer shared by 8 consumers, 2 transformers, each consumer's own rank.
        chain = [latency.Station("randomizer", 2e-5, 1, 8), latency.Station("transformer", 6e-4, 2, 8),
                 latency.Station("consumer", 1.5e-4)]
        for delay in (0.0, 1e-3, 1e-2):
            bound = latency.bound_throughput(chain, delay, 4)
            self.assertLessEqual(latency.amva(chain, delay, 4), bound * (1 + 1e-9))
            self.assertLessEqual(latency.simulate(chain, delay, 4, classes=8, cycles=200), bound * (1 + 1e-9))
        # Pure delay: every solver gives N / Z.
        self.assertAlmostEqual(latency.amva([], 1e-3, 4), 4000.0)
        self.assertAlmostEqual(latency.simulate([], 1e-3, 4, cycles=50), 4000.0)

    def test_latency_bound_grows_with_ranks_per_core(self):
        layout = lambda cores: fm.Layout(consumers=20, transformers=8, cache_servers=3, cache_bytes=64 << 20,
                                         cores_per_node=cores)
        seconds = [fm.predict(layout(c), self.work, self.costs(), {})[1].loads["latency"]
                   for c in (64, 32, 16, 8, 4, 2, 1)]  # 0.5 to 32 ranks per core
        self.assertEqual(seconds, sorted(seconds))
        self.assertGreater(seconds[-1], seconds[0])

    def test_scheduling_term_vanishes_with_a_core_per_rank(self):
        layout = fm.Layout(consumers=4, transformers=2, cache_servers=1, cache_bytes=64 << 20, cores_per_node=8)
        self.assertEqual(fm.hop_seconds(layout, self.costs(), {}), 1e-6)
        with_table, without = (fm.predict(layout, self.work, c, {}) for c in (self.costs(), self.costs(table=[])))
        self.assertEqual([e.seconds for e in with_table], [e.seconds for e in without])
        # Across nodes the fabric's latency is the wire's.
        wide = fm.Layout(consumers=8, transformers=2, cache_servers=2, nodes=2, cores_per_node=32)
        self.assertEqual(fm.hop_seconds(wide, self.costs(), IB), IB["get_latency_s"])

    def test_long_hops_bind_at_the_closed_form(self):
        # All hits after epoch 0: two hops a batch; 40 ms each dwarfs every CPU charge.
        layout = fm.Layout(consumers=4, transformers=2, cache_servers=2, cache_bytes=64 << 20, cores_per_node=2)
        costs = self.costs(table=[[2.0, 0.04], [8.0, 0.04]])  # 4.5 ranks per core: 40 ms
        e = fm.predict(layout, self.work, costs, {})[1]
        self.assertEqual(e.bound, "latency")
        batches = 4096 // 4 // 32
        loads, _ = fm.epoch_loads(layout, self.work, costs, {}, 4096, 0, 0, 4096)
        services = (loads["consumer"] / batches + loads["randomizer"] / (4 * batches)) * fm.oversubscription(
            layout, costs)
        self.assertAlmostEqual(e.seconds, batches * (2 * 0.04 + services) / layout.prefetch)


if __name__ == "__main__":
    unittest.main()
