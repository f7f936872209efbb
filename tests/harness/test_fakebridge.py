"""The fake bridge against jvb-api.md §2/§3/§8, through its Python driver.

Every request to a bridge goes over loopback with http.client, as the
daemon's would; the control API is only used to script and to read.
"""

import json
import os
import socket
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from harness.fakebridge import FakeBridgeError, FakeBridges  # noqa: E402
from harness.net import allocate  # noqa: E402

STATS_INT = ["conferences", "participants", "endpoints", "local_endpoints",
             "octo_endpoints", "largest_conference", "mucs_configured",
             "mucs_joined", "muc_clients_configured",
             "muc_clients_connected"]
STATS_BOOL = ["graceful_shutdown", "shutting_down", "drain", "healthy"]
JSON = {"Content-Type": "application/json"}

NET = allocate()


class FakeBridgeTest(unittest.TestCase):
    """One fakebridge process for the class; bridges added per test."""

    @classmethod
    def setUpClass(cls):
        cls.fb = FakeBridges()
        cls.next_host = 1

    @classmethod
    def tearDownClass(cls):
        rc = cls.fb.stop()
        if rc != 0:
            raise AssertionError("fakebridge exited with %s:\n%s"
                                 % (rc, cls.fb.log_text()[-3000:]))

    def add(self, **kw):
        cls = type(self)
        addr = NET.addr(cls.next_host)
        cls.next_host += 1
        kw.setdefault("stats_interval_s", 1)
        return self.fb.add(addr, **kw)

    def get_json(self, b, path):
        status, headers, body = b.rest("GET", path)
        self.assertEqual(status, 200, (path, body))
        self.assertEqual(headers["content-type"], "application/json")
        return json.loads(body)

    def assert_refused(self, b, path="/about/health"):
        with self.assertRaises(ConnectionRefusedError):
            b.rest("GET", path, timeout=2)

    # -- §2 endpoints --------------------------------------------------

    def test_stats_fields_and_types(self):
        b = self.add(participants=7, conference_size=3, octo_endpoints=1)
        st = self.get_json(b, "/colibri/stats")
        for k in STATS_INT:
            self.assertIs(type(st[k]), int, k)
        for k in STATS_BOOL:
            self.assertIs(type(st[k]), bool, k)
        self.assertIs(type(st["stress_level"]), float)
        self.assertIs(type(st["version"]), str)
        self.assertRegex(st["current_timestamp"],
                         r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$")
        self.assertEqual(st["local_endpoints"], 7)
        self.assertEqual(st["participants"], 8)     # local + octo
        self.assertEqual(st["endpoints"], 8)
        self.assertEqual(st["octo_endpoints"], 1)
        self.assertEqual(st["conferences"], 3)
        self.assertEqual(st["largest_conference"], 3)
        self.assertFalse(st["graceful_shutdown"] or st["shutting_down"] or
                         st["drain"])
        self.assertTrue(st["healthy"])
        status, _, _ = b.rest("PUT", "/colibri/stats", body=b"x")
        self.assertEqual(status, 405)

    def test_drain(self):
        b = self.add()
        self.assertEqual(self.get_json(b, "/colibri/drain"), {"drain": False})
        status, headers, body = b.rest("POST", "/colibri/drain/enable",
                                       body=b"ignored")
        self.assertEqual((status, body), (200, b""))
        self.assertNotIn("content-type", headers)
        self.assertEqual(self.get_json(b, "/colibri/drain"), {"drain": True})
        # The flag is live even though counters are a snapshot.
        self.assertTrue(self.get_json(b, "/colibri/stats")["drain"])
        self.assertEqual(b.rest("POST", "/colibri/drain/enable")[0], 200)
        self.assertEqual(b.rest("GET", "/colibri/drain/enable")[0], 405)
        self.assertEqual(b.rest("POST", "/colibri/drain")[0], 405)
        self.assertEqual(b.rest("POST", "/colibri/drain/disable")[0], 200)
        self.assertFalse(self.get_json(b, "/colibri/stats")["drain"])
        self.assertEqual(b.state()["state"], "RUNNING")

    def test_health_version_debug(self):
        b = self.add(participants=4, conference_size=3)
        status, headers, body = b.rest("GET", "/about/health")
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(self.get_json(b, "/about/version"),
                         {"name": "JVB", "version": "2.3.215-gbee626bf",
                          "os": "Linux"})
        dbg = self.get_json(b, "/debug")
        self.assertEqual(dbg["shutdown_state"], "RUNNING")
        self.assertIs(dbg["drain"], False)
        self.assertEqual(sum(c["endpoints"]
                             for c in dbg["conferences"].values()), 4)
        self.assertTrue(dbg["health"]["success"])
        status, headers, _ = b.rest("GET", "/colibri/debug/foo")
        self.assertEqual(status, 301)
        self.assertEqual(headers["location"], "/debug/foo")
        self.assertEqual(b.rest("TRACE", "/about/health")[0], 405)
        self.assertEqual(b.rest("GET", "/colibri/nothing")[0], 404)
        b.set(healthy=False, version="2.1.0-abc")
        status, _, body = b.rest("GET", "/about/health")
        self.assertEqual(status, 500)
        self.assertTrue(body)
        self.assertFalse(self.get_json(b, "/debug")["health"]["success"])
        self.assertEqual(self.get_json(b, "/about/version")["version"],
                         "2.1.0-abc")

    def test_shutdown_validation(self):
        b = self.add(participants=2)
        path = "/colibri/shutdown"
        good = b'{"graceful-shutdown": true}'
        self.assertEqual(b.rest("POST", path, body=good)[0], 415)
        self.assertEqual(b.rest("POST", path, body=good, headers={
            "Content-Type": "text/plain"})[0], 415)
        for bad in [b"{}", b"", b"not json", b'{"graceful-shutdown": 1}',
                    b'{"graceful-shutdown": null}',
                    b'{"graceful-shutdown": "maybe"}',
                    b'{"graceful-shutdown": true, "x": 1}', b"[true]"]:
            self.assertEqual(b.rest("POST", path, body=bad,
                                    headers=JSON)[0], 400, bad)
        self.assertEqual(b.rest("GET", path)[0], 405)
        self.assertEqual(b.state()["state"], "RUNNING")
        status, headers, body = b.rest("POST", path, body=(
            b'{ "graceful-shutdown": "true" }'), headers={
            "Content-Type": "application/json; charset=UTF-8"})
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(b.state()["state"], "GRACEFUL_SHUTDOWN")
        # Repeats: 200, no body, nothing changes.
        before = b.state()["entered_ms"]["GRACEFUL_SHUTDOWN"]
        self.assertEqual(b.rest("POST", path, body=good, headers=JSON)[:3:2],
                         (200, b""))
        st = b.state()
        self.assertEqual(st["state"], "GRACEFUL_SHUTDOWN")
        self.assertEqual(st["entered_ms"]["GRACEFUL_SHUTDOWN"], before)
        # Forced while graceful: straight to SHUTTING_DOWN.
        self.assertEqual(b.rest("POST", path, body={
            "graceful-shutdown": "false"})[0], 200)
        st = b.state()
        self.assertEqual((st["state"], st["shutdown_cause"]),
                         ("SHUTTING_DOWN", "forced"))
        self.assertEqual(b.rest("POST", path, body={
            "graceful-shutdown": False})[0], 200)

    # -- §1.1 switches, modes, old versions, faults ----------------------

    def test_switches(self):
        b = self.add(rest_enabled=False)
        for path in ["/colibri/stats", "/colibri/debug"]:
            self.assertEqual(b.rest("GET", path)[0], 404, path)
        self.assertEqual(b.rest("POST", "/colibri/shutdown", body={
            "graceful-shutdown": True})[0], 404)
        # Drain, health, version and debug do not need COLIBRI.
        self.assertEqual(b.rest("POST", "/colibri/drain/enable")[0], 200)
        for path in ["/colibri/drain", "/about/health", "/about/version",
                     "/debug"]:
            self.assertEqual(b.rest("GET", path)[0], 200, path)
        # SHUTDOWN alone is not enough.
        b.set(shutdown_enabled=True)
        self.assertEqual(b.rest("POST", "/colibri/shutdown", body={
            "graceful-shutdown": True})[0], 404)
        b.set(rest_enabled=True, shutdown_enabled=False)
        self.assertEqual(b.rest("GET", "/colibri/stats")[0], 200)
        self.assertEqual(b.rest("POST", "/colibri/shutdown", body={
            "graceful-shutdown": True})[0], 404)
        b.set(drain_enabled=False, health_enabled=False,
              version_enabled=False, debug_enabled=False)
        for path in ["/colibri/drain", "/about/health", "/about/version",
                     "/debug"]:
            self.assertEqual(b.rest("GET", path)[0], 404, path)
        self.assertEqual(b.rest("POST", "/colibri/drain/disable")[0], 404)
        self.assertEqual(b.state()["state"], "RUNNING")
        self.assertTrue(b.state()["drain"])

    def test_modes(self):
        b = self.add()
        b.set_mode("404")
        for path in ["/colibri/stats", "/about/health", "/colibri/drain"]:
            self.assertEqual(b.rest("GET", path)[0], 404)
        b.set_mode("hang")
        b.clear_requests()
        with self.assertRaises(socket.timeout):
            b.rest("GET", "/colibri/stats", timeout=0.5)
        reqs = b.requests()
        self.assertEqual([(r["path"], r["status"]) for r in reqs],
                         [("/colibri/stats", 0)])
        b.set_mode("down")
        self.assertFalse(b.state()["listening"])
        self.assert_refused(b)
        b.set_mode("normal")
        self.assertEqual(b.rest("GET", "/about/health")[0], 200)

    def test_legacy_versions(self):
        b = self.add(legacy_shutting_down=True, legacy_no_drain=True,
                     shutting_down_delay_s=30)
        st = self.get_json(b, "/colibri/stats")
        self.assertNotIn("shutting_down", st)
        self.assertNotIn("drain", st)
        self.assertIs(st["colibri2"], True)
        self.assertEqual(b.rest("GET", "/colibri/drain")[0], 404)
        self.assertEqual(b.rest("POST", "/colibri/drain/enable")[0], 404)
        self.assertEqual(b.rest("POST", "/colibri/shutdown", body={
            "graceful-shutdown": False})[0], 200)
        self.assertIs(self.get_json(b, "/colibri/stats")["shutting_down"],
                      True)

    def test_faults(self):
        b = self.add()
        b.fault("/colibri/shutdown", status=500, count=1)
        body = {"graceful-shutdown": True}
        self.assertEqual(b.rest("POST", "/colibri/shutdown", body=body)[0],
                         500)
        self.assertEqual(b.state()["state"], "RUNNING")
        self.assertEqual(b.state()["faults"], [])
        # Validation still comes first.
        b.fault("/colibri/shutdown", status=500, count=-1)
        self.assertEqual(b.rest("POST", "/colibri/shutdown", body=b"{}",
                                headers=JSON)[0], 400)
        b.clear_faults()
        b.fault("*", status=503)
        self.assertEqual(b.rest("GET", "/about/health")[0], 503)
        self.assertEqual(b.rest("GET", "/colibri/stats")[0], 503)
        self.assertEqual(b.rest("GET", "/nothing")[0], 404)
        b.clear_faults()
        self.assertEqual(b.rest("POST", "/colibri/shutdown", body=body)[0],
                         200)
        with self.assertRaises(FakeBridgeError):
            b.fault("/not/an/endpoint")

    # -- §3 state machine, end to end ------------------------------------

    def test_graceful_cycle_to_exit(self):
        b = self.add(participants=3, shutting_down_delay_s=1)
        other = self.add(participants=1)
        self.assertEqual(b.rest("POST", "/colibri/drain/enable")[0], 200)
        self.assertEqual(b.rest("POST", "/colibri/shutdown", body={
            "graceful-shutdown": True})[0], 200)
        st = self.get_json(b, "/colibri/stats")
        self.assertIs(st["graceful_shutdown"], True)
        self.assertEqual(st["local_endpoints"], 3)
        b.leave(over_s=1.0)
        st = b.wait_state("SHUTTING_DOWN", timeout=5)
        self.assertEqual(st["shutdown_cause"], "participants")
        self.assertEqual(st["participants"], 0)
        self.assertIs(self.get_json(b, "/colibri/stats")["shutting_down"],
                      True)
        st = b.wait_state("EXITED", timeout=5)
        self.assertEqual((st["exit_code"], st["exit_cause"], st["cut_off"]),
                         (0, "shutting_down_delay", 0))
        e = st["entered_ms"]
        self.assertLessEqual(e["RUNNING"], e["GRACEFUL_SHUTDOWN"])
        self.assertLess(e["GRACEFUL_SHUTDOWN"], e["SHUTTING_DOWN"])
        self.assertAlmostEqual(st["exited_ms"] - e["SHUTTING_DOWN"], 1000,
                               delta=300)
        self.assertFalse(st["listening"])
        self.assert_refused(b)
        reqs = [(r["method"], r["path"], r["status"]) for r in b.requests()]
        self.assertIn(("POST", "/colibri/drain/enable", 200), reqs)
        shut = [r for r in b.requests() if r["path"] == "/colibri/shutdown"]
        self.assertEqual(json.loads(shut[0]["body"]),
                         {"graceful-shutdown": True})
        self.assertEqual(shut[0]["content_type"], "application/json")
        # The other bridge saw nothing and carries on.
        self.assertEqual(other.requests(), [])
        self.assertEqual(other.state()["state"], "RUNNING")
        with self.assertRaises(FakeBridgeError) as cm:
            b.join(1)
        self.assertEqual(cm.exception.status, 409)

    def test_forced_shutdown_jicofo_moves_them(self):
        b = self.add(participants=4, move_after_s=0.4,
                     shutting_down_delay_s=1.5)
        self.assertEqual(b.rest("POST", "/colibri/shutdown", body={
            "graceful-shutdown": False})[0], 200)
        st = b.state()
        self.assertEqual((st["state"], st["shutdown_cause"]),
                         ("SHUTTING_DOWN", "forced"))
        self.assertIsNone(st["entered_ms"]["GRACEFUL_SHUTDOWN"])
        # Moved during the delay, so nobody is left to be cut off.
        st = b.wait_state("EXITED", timeout=5)
        self.assertEqual((st["moved_total"], st["left_total"],
                          st["cut_off"]), (4, 0, 0))

    def test_forced_shutdown_cuts_off_without_jicofo(self):
        b = self.add(participants=2, shutting_down_delay_s=0.3)
        b.shutdown(graceful=False)
        st = b.wait_state("EXITED", timeout=5)
        self.assertEqual(st["cut_off"], 2)

    def test_min_participants_and_max_duration(self):
        b = self.add(participants=3, min_participants=1, max_duration_s=30)
        b.shutdown()
        b.leave(1)
        self.assertEqual(b.state()["state"], "GRACEFUL_SHUTDOWN")
        b.leave(1)
        st = b.state()
        self.assertEqual((st["state"], st["shutdown_cause"]),
                         ("SHUTTING_DOWN", "participants"))
        c = self.add(participants=1, max_duration_s=0.3)
        c.shutdown()
        st = c.wait_state("SHUTTING_DOWN", timeout=3)
        self.assertEqual(st["shutdown_cause"], "max_duration")
        self.assertEqual(st["participants"], 1)

    def test_stats_snapshot_refresh(self):
        b = self.add(stats_interval_s=2.5)
        b.join(2)
        self.assertEqual(b.state()["participants"], 2)
        t0 = time.monotonic()
        while self.get_json(b, "/colibri/stats")["local_endpoints"] != 2:
            self.assertLess(time.monotonic() - t0, 5, "never refreshed")
            time.sleep(0.05)
        # Refreshed by the interval, not at once (the next refresh is
        # about 2.5 s away).
        b.join(1)
        self.assertEqual(self.get_json(b, "/colibri/stats")
                         ["local_endpoints"], 2)
        time.sleep(2.7)
        self.assertEqual(self.get_json(b, "/colibri/stats")
                         ["local_endpoints"], 3)

    def test_kill(self):
        b = self.add(participants=1)
        b.kill()
        st = b.state()
        self.assertEqual((st["state"], st["exit_code"], st["cut_off"]),
                         ("EXITED", 143, 1))
        time.sleep(0.05)
        self.assert_refused(b)

    def test_remove_and_reuse_address(self):
        b = self.add(nickname="i-gone")
        addr = b.address
        b.remove()
        self.assert_refused(b)
        with self.assertRaises(FakeBridgeError) as cm:
            b.state()
        self.assertEqual(cm.exception.status, 404)
        # A new instance may get the same private address.
        c = self.fb.add(addr, nickname="i-new")
        self.assertEqual(c.rest("GET", "/about/health")[0], 200)

    # -- control API -----------------------------------------------------

    def test_control_errors(self):
        b = self.add(nickname="i-dup")
        with self.assertRaises(FakeBridgeError) as cm:
            self.fb.add(NET.addr(250), nickname="i-dup")
        self.assertEqual(cm.exception.status, 409)
        with self.assertRaises(FakeBridgeError) as cm:
            self.fb.add(b.address, nickname="i-other")
        self.assertEqual(cm.exception.status, 409)
        with self.assertRaises(FakeBridgeError) as cm:
            self.fb.add("10.1.2.3")
        self.assertEqual(cm.exception.status, 400)
        with self.assertRaises(FakeBridgeError) as cm:
            self.fb.add(NET.addr(251), shuting_down_delay_s=1)
        self.assertEqual(cm.exception.status, 400)
        with self.assertRaises(FakeBridgeError) as cm:
            b.set(port=9090)
        self.assertEqual(cm.exception.status, 400)
        with self.assertRaises(FakeBridgeError) as cm:
            self.fb.bridge("nope")
        self.assertEqual(cm.exception.status, 404)
        with self.assertRaises(FakeBridgeError):
            b.set_mode("sideways")


class ManyBridgesTest(unittest.TestCase):

    def test_hundred_bridges_one_process(self):
        fb = FakeBridges(config={
            "defaults": {"stats_interval_s": 1, "shutting_down_delay_s": 0.5},
            "bridges": [{"address": NET.addr(100 + i),
                         "nickname": "i-%03d" % i, "participants": i % 7}
                        for i in range(50)]})
        self.addCleanup(fb.stop)
        more = fb.add_many([{"address": NET.addr(150 + i),
                             "nickname": "i-%03d" % (50 + i)}
                            for i in range(50)],
                           defaults={"participants": 2})
        self.assertEqual(len(more), 50)
        summaries = fb.bridges()
        self.assertEqual(len(summaries), 100)
        self.assertTrue(all(s["listening"] and s["state"] == "RUNNING"
                            for s in summaries))
        b0 = fb.bridge("i-003")
        self.assertEqual(b0.state()["options"]["shutting_down_delay_s"], 0.5)
        for s in summaries:
            b = fb.bridge(s["id"])
            status, _, body = b.rest("GET", "/colibri/stats")
            self.assertEqual(status, 200)
            want = int(s["id"][2:]) % 7 if int(s["id"][2:]) < 50 else 2
            self.assertEqual(json.loads(body)["local_endpoints"], want)
        # Shutting one down leaves the 99 others alone.
        b0.set_participants(0)
        self.assertEqual(b0.rest("POST", "/colibri/shutdown", body={
            "graceful-shutdown": True})[0], 200)
        b0.wait_state("EXITED", timeout=5)
        others = [s for s in fb.bridges() if s["id"] != "i-003"]
        self.assertEqual(len(others), 99)
        self.assertTrue(all(s["state"] == "RUNNING" for s in others))
        self.assertEqual(fb.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
