"""The fake bridge's XMPP side (jvb-api.md §4, §8) against a real Prosody.

An observer account joins the brewery with the harness's small XMPP client
(the way the daemon watches it) and checks what the fake publishes: the
colibri stats presence on join, after state changes and every stats
interval, the healthcheck IQ answers, the goodbye on exit; a taken
nickname and a wrong password.  Skips (77) when Prosody is not installed.
"""

import json
import os
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from harness.fakebridge import FakeBridges  # noqa: E402
from harness.net import allocate  # noqa: E402
from harness.prosody import NS_CLIENT, NS_COLIBRI, Prosody, XmppClient, \
    XmppError, available  # noqa: E402

NET = allocate()
PRESENCE = "{%s}presence" % NS_CLIENT
HEALTH_NS = "http://jitsi.org/protocol/healthcheck"


def stats_of(el):
    st = el.find("{%s}stats" % NS_COLIBRI)
    if st is None:
        return None
    return {s.get("name"): s.get("value")
            for s in st.findall("{%s}stat" % NS_COLIBRI)}


class XmppTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.prosody = Prosody(NET, tls=False).start()
        cls.prosody.register("jvb", "jvb-secret")
        cls.prosody.register("observer", "observer-secret")
        cls.fb = FakeBridges()
        cls.pwdir = tempfile.mkdtemp(prefix="fakebridge-pw-")
        cls.pwfile = cls.prosody.password_file("jvb", cls.pwdir)
        cls.next_host = 1

    @classmethod
    def tearDownClass(cls):
        rc = cls.fb.stop()
        cls.prosody.stop()
        for name in os.listdir(cls.pwdir):
            os.unlink(os.path.join(cls.pwdir, name))
        os.rmdir(cls.pwdir)
        if rc != 0:
            raise AssertionError("fakebridge exited with %s" % rc)

    def setUp(self):
        self.obs = self.prosody.client("observer")
        self.addCleanup(self.obs.close)
        self.obs_nick = "observer-%s" % self._testMethodName[-12:]
        self.obs.join(self.prosody.brewery, self.obs_nick)

    def xmpp(self, **kw):
        x = {"port": self.prosody.port, "domain": self.prosody.domain,
             "username": "jvb", "password_file": self.pwfile,
             "muc_jids": self.prosody.brewery, "tls": "off"}
        x.update(kw)
        return x

    def add(self, nickname, **kw):
        cls = type(self)
        addr = NET.addr(cls.next_host)
        cls.next_host += 1
        kw.setdefault("stats_interval_s", 1)
        kw.setdefault("xmpp", self.xmpp())
        return self.fb.add(addr, nickname=nickname, **kw)

    def presence_from(self, nick, pred=lambda el: True, timeout=5.0):
        """The next presence of occupant nick for which pred holds."""
        occupant = ("%s/%s" % (self.prosody.brewery, nick)).lower()
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail("no matching presence from %s" % nick)
            try:
                el = self.obs.next(lambda e: e.tag == PRESENCE and
                                   e.get("from", "").lower() == occupant,
                                   timeout=left)
            except XmppError:
                self.fail("no matching presence from %s" % nick)
            if pred(el):
                return el

    def test_stats_presence_lifecycle(self):
        # A long interval, so that a presence soon after a change can only
        # be the one the change caused.
        b = self.add("i-0aaa", participants=3, shutting_down_delay_s=1,
                     stats_interval_s=3)
        el = self.presence_from("i-0aaa", lambda e: stats_of(e))
        st = stats_of(el)
        self.assertEqual(st["local_endpoints"], "3")
        self.assertEqual(st["drain"], "false")
        self.assertEqual(st["graceful_shutdown"], "false")
        self.assertEqual(st["shutting_down"], "false")
        self.assertEqual(st["version"], "2.3.215-gbee626bf")
        self.assertIn("stress_level", st)
        b.wait_joined(timeout=5)
        status, _, body = b.rest("GET", "/colibri/stats")
        rest = json.loads(body)
        self.assertEqual((rest["mucs_configured"], rest["mucs_joined"],
                          rest["muc_clients_connected"]), (1, 1, 1))
        # Again every stats interval (the join was one)...
        t0 = time.monotonic()
        self.presence_from("i-0aaa", lambda e: stats_of(e), timeout=5)
        self.assertGreater(time.monotonic() - t0, 1.0)
        # ...and at once after a change: right after a periodic one, the
        # next periodic one is 3 s away.
        self.assertEqual(b.rest("POST", "/colibri/drain/enable")[0], 200)
        el = self.presence_from("i-0aaa", lambda e: stats_of(e),
                                timeout=1.5)
        self.assertEqual(stats_of(el)["drain"], "true")
        self.presence_from("i-0aaa", lambda e: stats_of(e), timeout=5)
        b.leave()
        self.assertEqual(b.rest("POST", "/colibri/shutdown", body={
            "graceful-shutdown": True})[0], 200)
        el = self.presence_from("i-0aaa", lambda e: stats_of(e),
                                timeout=1.5)
        self.assertEqual(stats_of(el)["shutting_down"], "true")
        # Exit: the bridge leaves the room.
        self.presence_from(
            "i-0aaa", lambda e: e.get("type") == "unavailable", timeout=5)
        st = b.wait_for(lambda s: s["xmpp"]["phase"] == "gone", timeout=5,
                        what="XMPP connection closed")
        self.assertEqual(st["state"], "EXITED")

    def test_healthcheck_iq(self):
        b = self.add("i-0bbb")
        self.presence_from("i-0bbb", lambda e: stats_of(e))
        occupant = "%s/i-0bbb" % self.prosody.brewery

        def ask(iq_id):
            self.obs._send("<iq type='get' id='%s' to='%s'><healthcheck "
                           "xmlns='%s'/></iq>" % (iq_id, occupant,
                                                  HEALTH_NS))
            return self.obs.next(lambda e: e.get("id") == iq_id)

        self.assertEqual(ask("hc1").get("type"), "result")
        b.set(healthy=False)
        reply = ask("hc2")
        self.assertEqual(reply.get("type"), "error")
        self.assertEqual(b.state()["xmpp"]["healthchecks_answered"], 2)

    def test_taken_nickname_does_not_join(self):
        squatter = self.prosody.client("observer")
        self.addCleanup(squatter.close)
        squatter.join(self.prosody.brewery, "i-0ccc")
        b = self.add("i-0ccc")
        st = b.wait_for(lambda s: s["xmpp"]["rooms"][0].get("error"),
                        timeout=5, what="join refused")
        room = st["xmpp"]["rooms"][0]
        self.assertEqual((room["joined"], room["error"]), (False, "conflict"))
        self.assertTrue(st["xmpp"]["online"])
        # The bridge keeps running, and says so on REST.
        status, _, body = b.rest("GET", "/colibri/stats")
        rest = json.loads(body)
        self.assertEqual((status, rest["mucs_configured"],
                          rest["mucs_joined"]), (200, 1, 0))
        self.assertEqual(st["state"], "RUNNING")

    def test_wrong_password_retries_with_backoff(self):
        bad = os.path.join(self.pwdir, "bad.password")
        fd = os.open(bad, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("not-the-password\n")
        b = self.add("i-0ddd", xmpp=self.xmpp(password_file=bad))
        st = b.wait_for(lambda s: s["xmpp"]["login_failures"] >= 2,
                        timeout=8, what="two failed logins")
        self.assertFalse(st["xmpp"]["online"])
        self.assertFalse(st["xmpp"]["rooms"][0]["joined"])
        self.assertIn("login", st["xmpp"]["last_error"])
        # Retries read the file again: once it is right, the bridge joins.
        with open(bad, "w") as f:
            f.write("jvb-secret\n")
        b.wait_joined(timeout=15)
        self.presence_from("i-0ddd", lambda e: stats_of(e), timeout=5)

    def test_kill_leaves_the_room(self):
        b = self.add("i-0eee")
        self.presence_from("i-0eee", lambda e: stats_of(e))
        b.kill("KILL")
        # No goodbye from the bridge; the server reports it gone.
        self.presence_from("i-0eee",
                           lambda e: e.get("type") == "unavailable")
        self.assertEqual(b.state()["exit_code"], 137)


class XmppTlsTest(unittest.TestCase):

    def test_tls_with_ca_file(self):
        prosody = Prosody(NET, tls=True).start()
        self.addCleanup(prosody.stop)
        prosody.register("jvb", "tls-secret")
        prosody.register("observer", "observer-secret")
        fb = FakeBridges()
        self.addCleanup(fb.stop)
        obs = prosody.client("observer")
        self.addCleanup(obs.close)
        obs.join(prosody.brewery, "observer")
        pwdir = tempfile.mkdtemp(prefix="fakebridge-pw-")
        pw = prosody.password_file("jvb", pwdir)
        self.addCleanup(os.rmdir, pwdir)
        self.addCleanup(os.unlink, pw)
        b = fb.add(NET.addr(200), nickname="i-0tls", xmpp={
            "port": prosody.port, "domain": prosody.domain,
            "username": "jvb", "password_file": pw,
            "muc_jids": prosody.brewery, "ca_file": prosody.ca_file})
        b.wait_joined(timeout=10)
        el = obs.next(lambda e: e.tag == PRESENCE and
                      e.get("from", "").endswith("/i-0tls") and
                      stats_of(e) is not None)
        self.assertIn("drain", stats_of(el))
        # Stopping the process says goodbye for every bridge.
        self.assertEqual(fb.stop(), 0)
        el = obs.next(lambda e: e.tag == PRESENCE and
                      e.get("from", "").endswith("/i-0tls") and
                      e.get("type") == "unavailable")
        self.assertIsNotNone(el)


if __name__ == "__main__":
    if not available():
        print("prosody is not installed: skipped", file=sys.stderr)
        sys.exit(77)
    unittest.main(verbosity=2)
