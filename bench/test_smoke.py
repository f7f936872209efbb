"""Smoke test of the benchmark tooling (suite "bench"): a small fleet goes
through the scale-in scenario and the report is written.  No timing is
asserted here (figures belong in bench/results.md): only that the tooling
runs and that every action was completed exactly once, by the daemon, with
CONTINUE, nobody cut off, the queue left empty and the daemon exiting 0.
"""

import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import report  # noqa: E402
import scenarios  # noqa: E402


class BenchSmoke(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="jl-bench-smoke-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def test_scalein_every_action_once(self):
        n = 20
        r = scenarios.scalein(self.dir, n, leave=(1.0, 4.0),
                              heartbeat_timeout=60, seed=7, timeout=120)
        self.assertEqual(r["problems"], [])
        self.assertTrue(r["all_once"])
        self.assertEqual(r["completed"], n)
        self.assertEqual(r["left_open"], 0)
        self.assertEqual(r["cut_off"], 0)
        self.assertTrue(r["queue_empty"])
        self.assertEqual(r["exit_status"], 0)
        self.assertEqual(r["calls"].get("CompleteLifecycleAction"), n)
        self.assertEqual(r["calls"].get("DeleteMessage"), n)
        self.assertEqual(r["latency_n"], n)
        # the figures the report needs are there, and it renders
        for k in ("peak_rss_kb", "cpu_s", "latency_p99", "decide_p99",
                  "api_p99", "calls_min"):
            self.assertIn(k, r)
        text = report.render({"meta": {"repeats": 1},
                              "scalein": {str(n): [r]},
                              "calls": [r],
                              "presence": {str(n): {"poll": [r]}}})
        self.assertIn("## 2. Scale-in", text)
        self.assertIn("CompleteLifecycleAction", text)


if __name__ == "__main__":
    unittest.main()
