"""`jvb-lifecycled probe-bridge` against the fake bridge: the right
diagnosis and exit status for a usable bridge, one whose port answers 404
everywhere (the public websocket port mix-up), one that is down (nothing
listens), one that hangs, one with the COLIBRI API off, and one without
the drain API; and never a request that changes the bridge."""

import os
import re
import tempfile
import unittest

from ops import (MINIMAL_CONFIG, FakeBridges, allocate, free_port, main,
                 run_cli)


class ProbeBridge(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.net = allocate()
        cls.fb = FakeBridges()
        cls.port = free_port()

    @classmethod
    def tearDownClass(cls):
        cls.fb.stop()
        cls.net.release()

    def bridge(self, i, **options):
        b = self.fb.add(self.net.addr(i), port=self.port,
                        nickname="i-%08x" % i, participants=4, **options)
        self.addCleanup(b.remove)
        return b

    def probe(self, b, *extra):
        p = run_cli(["probe-bridge", b.address, "--port", str(self.port),
                     "--timeout", "1s"] + list(extra))
        self.assertEqual(p.stderr, "")
        # read-only, whatever happened
        for r in b.requests():
            self.assertEqual(r["method"], "GET", r)
        st = b.state()
        self.assertFalse(st["drain"])
        self.assertNotEqual(st["state"], "GRACEFUL_SHUTDOWN")
        return p

    def line(self, out, path):
        rows = [l for l in out.splitlines()
                if re.match(r"\s+(GET|POST)\s+%s\s" % re.escape(path), l)]
        self.assertEqual(len(rows), 1, out)
        return rows[0]

    def test_normal(self):
        b = self.bridge(1)
        p = self.probe(b)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertRegex(self.line(p.stdout, "/about/version"),
                         r"\sok\s+JVB ")
        self.assertRegex(self.line(p.stdout, "/about/health"),
                         r"\sok\s+healthy$")
        self.assertRegex(self.line(p.stdout, "/colibri/stats"),
                         r"\sok\s+4 local endpoints, \d+ conferences?, "
                         r"drain off, running$")
        self.assertRegex(self.line(p.stdout, "/colibri/drain"),
                         r"\sok\s+drain off$")
        self.assertRegex(self.line(p.stdout, "/debug"),
                         r"\sok\s+running, \d+ conferences?")
        self.assertRegex(self.line(p.stdout, "/colibri/shutdown"),
                         r"not tried\s+it would shut the bridge down")
        self.assertIn("verdict: USABLE for draining: the REST API answers "
                      "on %s:%d." % (b.address, self.port), p.stdout)
        self.assertIn("videobridge.rest.shutdown.enabled = true", p.stdout)
        self.assertEqual(len(b.requests()), 5)
        # [bridge] port and timeout come from the configuration
        with tempfile.TemporaryDirectory() as tmp:
            conf = os.path.join(tmp, "c.conf")
            with open(conf, "w") as f:
                f.write(MINIMAL_CONFIG % (tmp, tmp) +
                        "[bridge]\nport = %d\ntimeout = 2s\n" % self.port)
            p = run_cli(["probe-bridge", b.address, "-c", conf])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("on %s:%d (read-only" % (b.address, self.port),
                      p.stdout)

    def test_404_everywhere(self):
        b = self.bridge(2, mode="404")
        p = self.probe(b)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertRegex(self.line(p.stdout, "/colibri/stats"),
                         r"\sNOT FOUND\s")
        self.assertIn("verdict: NOT USABLE: %s:%d answers 404 for every "
                      "bridge endpoint: it is not the bridge's private HTTP "
                      "server." % (b.address, self.port), p.stdout)
        self.assertIn("port 9090 is usually the public websocket server",
                      p.stdout)
        self.assertIn("Set [bridge] port = 8080 here", p.stdout)
        self.assertIn("videobridge.http-servers.private.host = 0.0.0.0",
                      p.stdout)

    def test_down(self):
        b = self.bridge(3, mode="down")
        p = self.probe(b)
        self.assertEqual(p.returncode, 1, p.stdout)
        for path in ("/about/version", "/about/health", "/colibri/stats",
                     "/colibri/drain", "/debug"):
            self.assertRegex(self.line(p.stdout, path), r"\sREFUSED\s")
        self.assertIn("verdict: NOT USABLE: nothing listens on %s:%d "
                      "(connection refused)." % (b.address, self.port),
                      p.stdout)
        self.assertIn("fix: on the bridge, bind its private HTTP server",
                      p.stdout)
        self.assertIn("videobridge.http-servers.private.host = 0.0.0.0",
                      p.stdout)

    def test_hang(self):
        b = self.bridge(4, mode="hang")
        p = self.probe(b)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertRegex(self.line(p.stdout, "/colibri/stats"),
                         r"\sTIMEOUT\s")
        self.assertIn("verdict: NOT USABLE: no answer from %s:%d within "
                      "1.0s." % (b.address, self.port), p.stdout)
        self.assertIn("firewall or security group drops TCP port %d"
                      % self.port, p.stdout)

    def test_colibri_off(self):
        b = self.bridge(5, rest_enabled=False)
        p = self.probe(b)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertRegex(self.line(p.stdout, "/colibri/stats"),
                         r"\sNOT FOUND\s+HTTP 404: the COLIBRI REST API is "
                         r"off \(set videobridge.apis.rest.enabled=true\)")
        self.assertRegex(self.line(p.stdout, "/about/health"), r"\sok\s")
        self.assertIn("verdict: NOT USABLE: the bridge answers, but its "
                      "COLIBRI REST API is off", p.stdout)
        self.assertIn("fix: in jvb.conf set videobridge.apis.rest.enabled "
                      "= true and videobridge.rest.shutdown.enabled = true",
                      p.stdout)

    def test_no_drain_api(self):
        b = self.bridge(6, drain_enabled=False)
        p = self.probe(b)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertRegex(self.line(p.stdout, "/colibri/drain"),
                         r"\sNOT FOUND\s")
        self.assertIn("note: GET /colibri/drain answers 404", p.stdout)

    def test_usage_and_config(self):
        p = run_cli(["probe-bridge"])
        self.assertEqual(p.returncode, 2)
        p = run_cli(["probe-bridge", "not an address!", "--port", "1"])
        self.assertEqual(p.returncode, 1)
        self.assertIn("not an address", p.stderr)
        p = run_cli(["probe-bridge", "127.0.0.1", "--port", "99999"])
        self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
    main()
