"""Idle cost of the XMPP session on the loop: a brewery watcher joined to
the room over TLS, with the default keepalive (ping every 30 s), left alone
for JL_IDLE_SECONDS (default 60).  Asserts the deterministic measure (loop
wake-ups: at most one per second; in practice a few per ping) and the CPU
time (under 0.5 % of the period).  The figures are printed and written to
$JL_IDLE_REPORT as JSON."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_xconn_common import ProsodyTestCase, skip_unless_ready  # noqa

SECONDS = int(os.environ.get("JL_IDLE_SECONDS", "60"))


@skip_unless_ready
class IdleTest(ProsodyTestCase):
    tls = True

    def test_idle_session(self):
        p = self.start_prosody()
        p.register("observer", "pw")
        w = self.probe(p, "observer", room=p.brewery, nick="observer")
        w.cmd("start")
        w.wait(lambda e: e["ev"] == "link" and e["up"], 20, "joined")
        w.mark()
        w.cmd("idle %d" % SECONDS)
        ev = w.wait(lambda e: e["ev"] == "idle", SECONDS + 30,
                    "the idle report")
        seconds = ev["ms"] / 1000.0
        cpu_pct = 100.0 * ev["cpu_ms"] / ev["ms"]
        report = {
            "seconds": round(seconds, 3),
            "wakeups": ev["wakeups"],
            "wakeups_per_s": round(ev["wakeups"] / seconds, 4),
            "run_once_calls": ev["run_once"],
            "pings": ev["pings"],
            "cpu_ms": ev["cpu_ms"],
            "cpu_percent": round(cpu_pct, 4),
            "tls": True,
            "sanitized": "asan" in os.environ.get("JL_XCONN_PROBE", ""),
        }
        print("idle report: %s" % json.dumps(report))
        path = os.environ.get("JL_IDLE_REPORT")
        if path:
            with open(path, "w") as f:
                json.dump(report, f, indent=1)
                f.write("\n")
        self.assertTrue(ev["up"])
        self.assertGreaterEqual(seconds, SECONDS - 0.5)
        # No polling: wake-ups come from keepalive pings only.
        self.assertLessEqual(ev["wakeups"], max(1, SECONDS))
        self.assertLessEqual(ev["wakeups"], 4 * (SECONDS // 30 + 1))
        self.assertLess(cpu_pct, 0.5)


if __name__ == "__main__":
    unittest.main(verbosity=2)
