"""The model's machine check (ctest model_machine): perf/model/micro_inputs.first_touch_ratio, which tells a
host that charges a page's first access (a shadow-paged VM, perf/results/2026-12-07d-first-touch) from one
that does not, and the validation header that reports it. No timing is asserted: the clock is scripted."""
import argparse
import contextlib
import io
import os
import sys
import unittest
from unittest import mock

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "perf", "model"))

try:  # micro_inputs.py measures with numpy (Debian's python3-numpy)
    import micro_inputs  # noqa: E402
    import validate  # noqa: E402
    NUMPY = True
except ImportError:
    NUMPY = False


def scripted_ratio(first_s, second_s, repeats=3):
    """first_touch_ratio with a clock that says every mapping's passes took first_s and second_s (the middle
    mapping's first pass 10x longer: the median must not take it); the ratio and its stderr."""
    ticks = []
    for k in range(repeats):
        first = first_s * (10 if k == 1 else 1)
        ticks += [100.0 * k, 100.0 * k + first, 100.0 * k + first + second_s]
    clock = iter(ticks)
    err = io.StringIO()
    with mock.patch.object(micro_inputs.time, "perf_counter", lambda: next(clock)), \
            contextlib.redirect_stderr(err):
        ratio = micro_inputs.first_touch_ratio(mib=1, repeats=repeats)
    return ratio, err.getvalue()


@unittest.skipUnless(NUMPY, "perf/model's micro_inputs.py and validate.py need numpy")
class FirstTouch(unittest.TestCase):
    def test_a_host_that_charges_first_accesses_is_named_on_stderr(self):
        ratio, err = scripted_ratio(2.0, 0.05)
        self.assertEqual(ratio, 40.0)
        self.assertIn("40x", err)
        self.assertIn("perf/model/README.md", err)

    def test_an_even_host_passes_in_silence(self):
        ratio, err = scripted_ratio(0.06, 0.05)
        self.assertEqual(ratio, 1.2)
        self.assertEqual(err, "")

    def test_a_real_measurement_gives_a_positive_ratio(self):
        # Runs the real passes (the madvise, both writes): no figure is asserted, only that it measures.
        with contextlib.redirect_stderr(io.StringIO()):
            self.assertGreater(micro_inputs.first_touch_ratio(mib=4, repeats=1), 0.0)

    def test_the_validation_header_reports_the_ratio_or_its_absence(self):
        args = argparse.Namespace(inputs="inputs.json", solver="bound", measured=None, repeat=2)
        runs = [{"when": "2026-12-07 09:51 UTC", "repeat": 2}]
        costs = {"costs": {"share_factor": 1.0}, "measured": "2026-12-07 09:51 UTC"}
        self.assertIn("first-touch ratio 27.5)", validate.header(args, dict(costs, first_touch_ratio=27.5), runs))
        self.assertIn("first-touch ratio not measured)", validate.header(args, costs, runs))


if __name__ == "__main__":
    unittest.main()
