"""drain/bridge against the fake bridge (tests/fakebridge, jvb-api.md §8).

Each check runs test_bridge_probe (one bridge_* call on a real loop, result
as a JSON line) against a fake bridge on this process's own 127.0.N.0/24,
and compares what the client reports with what the fake did and says.

Env: JL_BRIDGE_PROBE (the probe binary), JL_FAKEBRIDGE (the fake).
"""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

from harness.fakebridge import FakeBridges  # noqa: E402
from harness.net import allocate  # noqa: E402

PROBE = os.environ.get("JL_BRIDGE_PROBE", "")


def probe(ip, port, op, timeout_ms=3000):
    """Run one call; the decoded result line (or exit code when it did not
    start)."""
    p = subprocess.run([PROBE, ip, str(port), op, str(timeout_ms)],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=30)
    if p.returncode != 0:
        return p.returncode
    lines = p.stdout.decode().strip().splitlines()
    assert len(lines) == 1, p.stdout
    return json.loads(lines[0])


class BridgeClientAgainstFake(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not PROBE or not os.access(PROBE, os.X_OK):
            raise unittest.SkipTest("JL_BRIDGE_PROBE not set")
        cls.net = allocate()
        cls.addClassCleanup(cls.net.release)
        cls.fb = FakeBridges()
        cls.addClassCleanup(cls.fb.stop)
        cls.next_host = 1

    def add(self, **options):
        """A bridge on a fresh address of our net, removed afterwards."""
        host = type(self).next_host
        type(self).next_host += 1
        options.setdefault("stats_interval_s", 0.2)
        b = self.fb.add(self.net.addr(host), port=8080, **options)
        self.addCleanup(self._remove, b)
        return b

    @staticmethod
    def _remove(b):
        try:
            b.remove()
        except Exception:  # already gone with the process: fine
            pass

    def call(self, b, op, timeout_ms=3000):
        r = probe(b.address, b.port, op, timeout_ms)
        self.assertIsInstance(r, dict, "probe did not run the call")
        self.assertEqual(r["op"], op)
        return r

    def test_stats_match_the_bridge(self):
        b = self.add(participants=7, conference_size=5)
        r = self.call(b, "stats")
        self.assertEqual(r["outcome"], "ok", r["diagnosis"])
        self.assertEqual(r["status"], 200)
        truth = b.stats()
        st = r["stats"]
        self.assertEqual(st["local_endpoints"], truth["local_endpoints"])
        self.assertEqual(st["local_endpoints"], 7)
        self.assertEqual(st["participants"], truth["participants"])
        self.assertEqual(st["conferences"], truth["conferences"])
        self.assertEqual(st["has_drain"], True)
        self.assertEqual(st["drain"], False)
        self.assertEqual(st["version"], truth["version"])
        self.assertIn("local_endpoints=7", r["diagnosis"])

    def test_drain_on_and_off(self):
        b = self.add(participants=2)
        self.assertFalse(self.call(b, "drain-get")["drain"])
        r = self.call(b, "drain-enable")
        self.assertEqual(r["outcome"], "ok", r["diagnosis"])
        self.assertTrue(b.state()["drain"])
        self.assertTrue(self.call(b, "drain-get")["drain"])
        # The flag shows in the stats at once, not at the next refresh.
        self.assertTrue(self.call(b, "stats")["stats"]["drain"])
        r = self.call(b, "drain-disable")
        self.assertEqual(r["outcome"], "ok", r["diagnosis"])
        self.assertFalse(b.state()["drain"])
        posts = [q for q in b.requests() if q["method"] == "POST"]
        self.assertEqual([q["path"] for q in posts],
                         ["/colibri/drain/enable", "/colibri/drain/disable"])
        self.assertTrue(all(q["status"] == 200 for q in posts))

    def test_graceful_shutdown_then_exit(self):
        b = self.add(participants=2, shutting_down_delay_s=0.3)
        b.clear_requests()
        r = self.call(b, "shutdown-graceful")
        self.assertEqual(r["outcome"], "ok", r["diagnosis"])
        self.assertEqual(b.state()["state"], "GRACEFUL_SHUTDOWN")
        req = [q for q in b.requests() if q["path"] == "/colibri/shutdown"]
        self.assertEqual(len(req), 1)
        self.assertEqual(req[0]["content_type"], "application/json")
        self.assertEqual(json.loads(req[0]["body"]),
                         {"graceful-shutdown": True})
        d = self.call(b, "debug")
        self.assertEqual(d["outcome"], "ok", d["diagnosis"])
        self.assertEqual(d["debug"]["shutdown_state"], "GRACEFUL_SHUTDOWN")
        self.assertTrue(self.call(b, "stats")["stats"]["graceful_shutdown"])
        b.leave()
        b.wait_state("EXITED", timeout=15)
        r = self.call(b, "stats")
        self.assertEqual(r["outcome"], "refused", r["diagnosis"])
        self.assertIn("videobridge.http-servers.private", r["diagnosis"])
        self.assertIn(b.address, r["diagnosis"])

    def test_forced_shutdown(self):
        b = self.add(participants=3, shutting_down_delay_s=30)
        r = self.call(b, "shutdown-forced")
        self.assertEqual(r["outcome"], "ok", r["diagnosis"])
        self.assertEqual(b.state()["state"], "SHUTTING_DOWN")
        req = [q for q in b.requests() if q["path"] == "/colibri/shutdown"]
        self.assertEqual(json.loads(req[-1]["body"]),
                         {"graceful-shutdown": False})
        self.assertEqual(self.call(b, "debug")["debug"]["shutdown_state"],
                         "SHUTTING_DOWN")

    def test_colibri_off(self):
        b = self.add(rest_enabled=False)
        r = self.call(b, "stats")
        self.assertEqual(r["outcome"], "not-found")
        self.assertEqual(r["status"], 404)
        self.assertIn("videobridge.apis.rest.enabled=true", r["diagnosis"])
        self.assertIn("9090", r["diagnosis"])
        r = self.call(b, "shutdown-graceful")
        self.assertEqual(r["outcome"], "not-found")
        self.assertIn("videobridge.rest.shutdown.enabled=true",
                      r["diagnosis"])
        self.assertEqual(b.state()["state"], "RUNNING")
        # Drain does not need the COLIBRI API.
        self.assertEqual(self.call(b, "drain-enable")["outcome"], "ok")

    def test_shutdown_off(self):
        b = self.add(shutdown_enabled=False)
        self.assertEqual(self.call(b, "stats")["outcome"], "ok")
        r = self.call(b, "shutdown-graceful")
        self.assertEqual(r["outcome"], "not-found")
        self.assertIn("videobridge.rest.shutdown.enabled=true",
                      r["diagnosis"])
        self.assertEqual(b.state()["state"], "RUNNING")

    def test_old_bridge_without_drain(self):
        b = self.add(legacy_no_drain=True)
        r = self.call(b, "drain-get")
        self.assertEqual(r["outcome"], "not-found")
        self.assertIn("predates /colibri/drain", r["diagnosis"])
        st = self.call(b, "stats")
        self.assertEqual(st["outcome"], "ok", st["diagnosis"])
        self.assertEqual(st["stats"]["has_drain"], "drain" in b.stats())

    def test_faults_hang_and_down(self):
        b = self.add(participants=1)
        b.fault("/colibri/stats", status=500, count=1)
        r = self.call(b, "stats")
        self.assertEqual(r["outcome"], "http-error")
        self.assertEqual(r["status"], 500)
        self.assertEqual(self.call(b, "stats")["outcome"], "ok")
        b.set_mode("hang")
        r = self.call(b, "stats", timeout_ms=500)
        self.assertEqual(r["outcome"], "timeout", r["diagnosis"])
        b.set_mode("404")
        r = self.call(b, "stats")
        self.assertEqual(r["outcome"], "not-found", r["diagnosis"])
        b.set_mode("down")
        r = self.call(b, "stats")
        self.assertEqual(r["outcome"], "refused", r["diagnosis"])
        b.set_mode("normal")
        self.assertEqual(self.call(b, "stats")["outcome"], "ok")

    def test_health_and_version(self):
        b = self.add()
        r = self.call(b, "health")
        self.assertEqual(r["outcome"], "ok", r["diagnosis"])
        self.assertTrue(r["healthy"])
        b.set(healthy=False)
        r = self.call(b, "health")
        self.assertEqual(r["outcome"], "ok", r["diagnosis"])
        self.assertFalse(r["healthy"])
        self.assertIn("unhealthy", r["diagnosis"])
        v = self.call(b, "version")
        self.assertEqual(v["outcome"], "ok", v["diagnosis"])
        self.assertEqual(v["version"]["name"], "JVB")
        self.assertEqual(v["version"]["version"], b.stats()["version"])

    def test_bad_address_never_starts(self):
        self.assertEqual(probe("localhost", 8080, "stats"), 3)
        self.assertEqual(probe("127.0.0.1:8080", 8080, "stats"), 3)
        self.assertEqual(probe(self.net.addr(1), 0, "stats"), 3)


if __name__ == "__main__":
    unittest.main()
