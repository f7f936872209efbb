"""The Prosody harness itself: start, accounts, a client login (plain and
TLS against the harness CA; another CA must fail), the brewery room usable
at once (no locking), restart with the same port and accounts, kill,
pause/resume, and cleanup."""

import os
import socket
import ssl
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))

from harness.prosody import (Prosody, XmppClient, XmppError,  # noqa: E402
                             available, make_ca)

try:
    from harness.net import allocate
except ImportError:  # pragma: no cover
    def allocate():
        return None

if not available():
    print("prosody is not installed", file=sys.stderr)
    sys.exit(77)

NS_MUC_USER = "{http://jabber.org/protocol/muc#user}"
NS_COLIBRI = "{http://jitsi.org/protocol/colibri}"


class ProsodyHarnessTest(unittest.TestCase):

    def make(self, **kw):
        p = Prosody(allocate(), **kw)
        self.addCleanup(p.stop)
        return p.start()

    def test_plain_login_room_and_restart(self):
        p = self.make(tls=False)
        self.assertEqual(p.brewery, "jvbbrewery@internal.auth.jitsi.test")
        self.assertTrue(p.host.startswith("127."))
        p.register("jvb", "pw-1")
        p.register("focus", "pw-2")
        jvb = p.client("jvb")
        self.addCleanup(jvb.close)
        self.assertTrue(jvb.jid.startswith("jvb@auth.jitsi.test/"))
        self.assertTrue(jvb.ping())

        # The first occupant creates the room; it is usable at once.
        self_pres = jvb.join(p.brewery, "i-0abc",
                             stats={"drain": "false", "participants": 2})
        codes = {s.get("code") for s in self_pres.iter(NS_MUC_USER +
                                                       "status")}
        self.assertIn("110", codes)
        focus = p.client("focus")
        self.addCleanup(focus.close)
        focus.join(p.brewery, "focus")
        # focus sees the bridge's stats presence.
        seen = focus.next(lambda e: e.get("from", "").endswith("/i-0abc")
                          and e.find(NS_COLIBRI + "stats") is not None)
        stats = {s.get("name"): s.get("value")
                 for s in seen.iter(NS_COLIBRI + "stat")}
        self.assertEqual(stats, {"drain": "false", "participants": "2"})
        # A taken nickname is refused.
        with self.assertRaises(XmppError):
            focus.join(p.brewery, "i-0abc")

        # Killed: connections are cut.
        port = p.port
        p.kill()
        self.assertFalse(p.running())
        with self.assertRaises((XmppError, OSError)):
            jvb.ping()
        # Restarted: same port, same accounts.
        p.restart()
        self.assertEqual(p.port, port)
        again = p.client("jvb")
        self.addCleanup(again.close)
        self.assertTrue(again.ping())
        self.assertIn("Authenticated as jvb@auth.jitsi.test", p.log_text())

    def test_wrong_password_and_unknown_user(self):
        p = self.make(tls=False)
        p.register("jvb", "right")
        with self.assertRaises(XmppError):
            XmppClient(p.host, p.port, p.domain, "jvb", "wrong").connect()
        with self.assertRaises(XmppError):
            XmppClient(p.host, p.port, p.domain, "nobody", "x").connect()

    def test_pause_and_resume(self):
        p = self.make(tls=False)
        p.register("jvb", "pw")
        c = p.client("jvb", timeout=2.0)
        self.addCleanup(c.close)
        p.pause()
        try:
            with self.assertRaises((XmppError, socket.timeout)):
                c.ping()
        finally:
            p.resume()
        c2 = p.client("jvb")
        self.addCleanup(c2.close)
        self.assertTrue(c2.ping())

    def test_tls(self):
        p = self.make(tls=True)
        self.assertTrue(os.path.exists(p.ca_file))
        p.register("jvb", "pw")
        c = p.client("jvb")
        self.addCleanup(c.close)
        self.assertTrue(c.ping())
        self.assertIn("Stream encrypted", p.log_text())
        # Another CA: verification fails.
        other, _ = make_ca(os.path.join(p.dir, "other"), "other")
        with self.assertRaises(ssl.SSLError):
            XmppClient(p.host, p.port, p.domain, "jvb", "pw",
                       ca_file=other).connect()
        # Encryption is required: no login in the clear.
        with self.assertRaises(XmppError):
            XmppClient(p.host, p.port, p.domain, "jvb", "pw").connect()

    def test_stop_cleans_up(self):
        p = Prosody(allocate(), tls=False)
        try:
            p.start()
            d, port = p.dir, p.port
            self.assertTrue(os.path.isdir(d))
        finally:
            p.stop()
        self.assertFalse(os.path.exists(d))
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
            except OSError:
                break
            self.assertLess(time.monotonic(), deadline,
                            "still listening after stop()")
            time.sleep(0.1)
        p.stop()  # idempotent


if __name__ == "__main__":
    unittest.main(verbosity=2)
