"""drain/brewery.c against a real Prosody: joining the brewery, another
occupant's colibri stats presences, updates and leaving, Prosody killed and
restarted (reconnect and rejoin), a taken nickname, a Python occupant
without stats (as jicofo), large presences over TLS (bytes buffered inside
OpenSSL must not stall), and oversized stats."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_xconn_common import ProsodyTestCase, skip_unless_ready  # noqa


def link(up):
    return lambda e: e["ev"] == "link" and e["up"] is up


def occ(change, nick, pred=None):
    return lambda e: (e["ev"] == "occupant" and e["change"] == change
                      and e["nick"] == nick and (pred is None or pred(e)))


def pub(pid, state):
    return lambda e: (e["ev"] == "pub" and e["id"] == pid
                      and e["state"] == state)


class BreweryBase(ProsodyTestCase):

    def setup_room(self, **kw):
        p = self.start_prosody(**kw)
        p.register("observer", "obs-pw")
        p.register("jvb", "jvb-pw")
        p.register("focus", "focus-pw")
        self.jvb_pw = p.password_file("jvb")
        return p

    def watcher(self, p, nick="observer", extra=()):
        return self.probe(p, "observer", room=p.brewery, nick=nick,
                          extra=["--reconnect-min", "200",
                                 "--reconnect-max", "2000"] + list(extra))


@skip_unless_ready
class BreweryTest(BreweryBase):

    def test_join_stats_update_leave(self):
        p = self.setup_room()
        w = self.watcher(p)
        w.cmd("start")
        ev = w.wait(link(True), 15, "joined the brewery")
        self.assertEqual(ev["nick"], "observer")
        self.assertEqual(ev["count"], 0)

        # A bridge joins with a stats presence.
        w.cmd("pub 1 jvb %s i-0123456789abcdef0" % self.jvb_pw)
        w.cmd("stats 1 participants=3 local_endpoints=2 drain=false "
              "graceful_shutdown=false stress_level=0.05 "
              "version=2.3.215-gbee626bf")
        ev = w.wait(occ("joined", "i-0123456789abcdef0"), 15,
                    "the bridge joining")
        # The join presence may carry the stats already, or they follow.
        if not ev["has_stats"]:
            ev = w.wait(occ("updated", "i-0123456789abcdef0",
                            lambda e: e["has_stats"]), 10, "its stats")
        self.assertEqual(ev["participants"], 3)
        self.assertEqual(ev["local_endpoints"], 2)
        self.assertTrue(ev["has_drain"])
        self.assertFalse(ev["drain"])
        self.assertAlmostEqual(ev["stress_level"], 0.05)
        self.assertEqual(ev["version"], "2.3.215-gbee626bf")

        # Its state changes: the update shows old and new.
        w.mark()
        w.cmd("stats 1 participants=1 local_endpoints=1 drain=true "
              "graceful_shutdown=true")
        ev = w.wait(occ("updated", "i-0123456789abcdef0",
                        lambda e: e["drain"]), 10, "the drain update")
        self.assertTrue(ev["graceful_shutdown"])
        self.assertFalse(ev["shutting_down"])  # absent: false
        self.assertEqual(ev["participants"], 1)
        self.assertTrue(ev["had_stats"])
        self.assertEqual(ev["prev_participants"], 3)

        # A jicofo-like occupant without stats.
        focus = p.client("focus")
        self.addCleanup(focus.close)
        focus.join(p.brewery, "focus")
        ev = w.wait(occ("joined", "focus"), 10, "focus joining")
        self.assertFalse(ev["has_stats"])
        w.mark()
        w.cmd("status")
        st = w.wait(lambda e: e["ev"] == "status", 10)
        self.assertEqual(st["count"], 2)
        self.assertTrue(st["joined"])

        # Leaving.
        w.cmd("unpub 1")
        ev = w.wait(occ("left", "i-0123456789abcdef0"), 10, "it leaving")
        self.assertFalse(ev["present"])
        self.assertGreater(ev["left_ms"], 0)
        focus.leave(p.brewery, "focus")
        w.wait(occ("left", "focus"), 10, "focus leaving")
        self.assertEqual(w.status()["count"], 0)

    def test_prosody_killed_and_restarted(self):
        p = self.setup_room()
        w = self.watcher(p)
        w.cmd("start")
        w.wait(link(True), 15, "joined")
        w.cmd("pub 1 jvb %s i-0aaa" % self.jvb_pw)
        w.cmd("stats 1 participants=7 drain=false")
        w.wait(occ("joined", "i-0aaa"), 15, "the bridge joining")

        p.kill()
        w.wait(link(False), 10, "link down after SIGKILL")
        st = w.status()
        self.assertFalse(st["joined"])
        # Until we are back, the table still lists what we last knew.
        self.assertEqual(st["count"], 1)

        m = w.mark()
        p.restart()
        w.wait(link(True), 30, "rejoined after restart")
        w.cursor = m  # in either order
        w.wait(pub(1, "joined"), 30, "the bridge rejoined")
        # Present again, with its stats (possibly after a "left" if we
        # rejoined before it did).
        deadline = time.monotonic() + 15
        while True:
            w.mark()
            w.cmd("dump")
            rows = []
            while True:
                e = w.wait(lambda e: e["ev"] in ("occupant", "dump_end"),
                           10)
                if e["ev"] == "dump_end":
                    break
                rows.append(e)
            mine = [r for r in rows if r["nick"] == "i-0aaa"]
            if mine and mine[0]["present"] and mine[0]["has_stats"]:
                break
            self.assertLess(time.monotonic(), deadline, rows)
            time.sleep(0.3)
        self.assertEqual(mine[0]["participants"], 7)
        self.assertEqual(w.status()["sessions"], 2)

    def test_stale_occupant_swept_on_rejoin(self):
        p = self.setup_room()
        w = self.watcher(p)
        w.cmd("start")
        w.wait(link(True), 15, "joined")
        c = p.client("focus")
        self.addCleanup(c.close)
        c.join(p.brewery, "i-0stale", stats={"drain": "false"})
        w.wait(occ("joined", "i-0stale"), 10, "the occupant joining")
        # Prosody dies and comes back: the occupant does not return.
        c.close()
        p.kill()
        w.wait(link(False), 10, "link down")
        w.mark()
        p.restart()
        w.wait(link(True), 30, "rejoined")
        ev = [e for e in w.events if e["ev"] == "occupant"
              and e["nick"] == "i-0stale" and e["change"] == "left"]
        self.assertEqual(len(ev), 1, w.events[-10:])
        self.assertEqual(w.status()["count"], 0)

    def test_nickname_taken(self):
        p = self.setup_room()
        squatter = p.client("focus")
        self.addCleanup(squatter.close)
        squatter.join(p.brewery, "observer")
        w = self.watcher(p)
        w.cmd("start")
        ev = w.wait(link(True), 15, "joined under another nickname")
        self.assertEqual(ev["nick"], "observer-2")
        self.assertEqual(ev["count"], 1)
        w.cmd("dump")
        row = w.wait(lambda e: e["ev"] == "occupant", 10)
        self.assertEqual(row["nick"], "observer")
        self.assertTrue(row["present"])

    def test_kicked_then_rejoins(self):
        p = self.setup_room()
        # focus creates the room, so it owns it and may kick.
        focus = p.client("focus")
        self.addCleanup(focus.close)
        focus.join(p.brewery, "focus")
        w = self.watcher(p)
        m = w.mark()
        w.cmd("start")
        w.wait(link(True), 15, "joined")
        w.cursor = m  # the room lists focus before our self-presence
        w.wait(occ("joined", "focus"), 10, "focus listed")
        focus.kick(p.brewery, "observer")
        w.wait(link(False), 10, "out of the room after the kick")
        self.assertFalse(w.status()["joined"])
        # The session stays up; the watcher joins again by itself.
        ev = w.wait(link(True), 15, "rejoined after the kick")
        self.assertEqual(ev["nick"], "observer")
        st = w.status()
        self.assertTrue(st["joined"])
        self.assertEqual(st["sessions"], 1)
        self.assertEqual(st["count"], 1)

    def test_stop_and_free_leave_cleanly(self):
        p = self.setup_room(debug_log=True)
        focus = p.client("focus")
        self.addCleanup(focus.close)
        focus.join(p.brewery, "focus")
        w = self.watcher(p)
        w.cmd("start")
        w.wait(link(True), 15, "joined")
        focus.next(lambda e: e.get("from", "").endswith("/observer"))
        # Stop and free at once, as the daemon does on SIGTERM: what was
        # queued (our unavailable presence, </stream:stream>) still goes.
        w.cmd("stop")
        w.cmd("quit")
        w.wait(lambda e: e["ev"] == "bye", 10, "the probe exiting")
        gone = focus.next(lambda e: e.get("from", "").endswith("/observer")
                          and e.get("type") == "unavailable", timeout=10)
        self.assertIsNotNone(gone)
        # Prosody got our own unavailable presence and stream close (not
        # only a closed connection it would turn into "unavailable").
        def received(text):
            ours = [ln for ln in text.splitlines()
                    if "Received[c2s]: <presence" in ln
                    and "type='unavailable'" in ln
                    and "to='%s/observer'" % p.brewery in ln]
            return ours and "Received </stream:stream>" in text

        deadline = time.monotonic() + 5
        while not received(p.log_text()):
            self.assertLess(time.monotonic(), deadline,
                            p.log_text()[-3000:])
            time.sleep(0.1)

    def test_oversized_stats(self):
        p = self.setup_room()
        w = self.watcher(p)
        w.cmd("start")
        w.wait(link(True), 15, "joined")
        w.cmd("pub 1 jvb %s i-0big" % self.jvb_pw)
        w.cmd("stats 1 participants=2 drain=false")
        w.wait(occ("joined", "i-0big", lambda e: e["has_stats"]), 15,
               "the bridge with stats")
        # 300 padding stats (> PRESENCE_MAX_STATS): the <stats> element
        # is rejected, the last good stats are kept.
        w.mark()
        w.cmd("bigstats 1 69000")
        ev = w.wait(occ("updated", "i-0big", lambda e: e["bad_stats"] > 0),
                    15, "an update with rejected stats")
        self.assertTrue(ev["has_stats"])
        self.assertEqual(ev["participants"], 2)
        self.assertTrue(w.status()["up"])


@skip_unless_ready
class BreweryTlsTest(BreweryBase):
    tls = True

    def test_large_presences_over_tls_do_not_stall(self):
        p = self.setup_room()
        # A long ping interval: no keepalive traffic to hide a stall.
        w = self.watcher(p, extra=["--ping-interval", "300"])
        w.cmd("start")
        w.wait(link(True), 20, "joined over TLS")
        w.cmd("pub 1 jvb %s i-0tls" % self.jvb_pw)
        # About 50 KB per presence (220 stats): several TLS records each.
        w.cmd("bigstats 1 50000")
        w.cmd("stats 1 participants=0 drain=false")
        w.wait(occ("joined", "i-0tls"), 20, "the bridge joining")
        for n in range(1, 8):
            w.mark()
            t0 = time.monotonic()
            w.cmd("stats 1 participants=%d drain=false" % n)
            ev = w.wait(occ("updated", "i-0tls",
                            lambda e, n=n: e["participants"] == n), 5,
                        "update %d" % n)
            self.assertLess(time.monotonic() - t0, 5.0)
            self.assertGreater(ev["nstats"], 200)
            self.assertEqual(ev["bad_stats"], 0)

    def test_long_attribute_over_tls_does_not_stall(self):
        # One 40 KB attribute value: OpenSSL holds decrypted bytes that
        # libstrophe's parser swallows without building anything.
        p = self.setup_room()
        w = self.watcher(p, extra=["--ping-interval", "300"])
        w.cmd("start")
        w.wait(link(True), 20, "joined over TLS")
        w.cmd("pub 1 jvb %s i-0long" % self.jvb_pw)
        w.cmd("bigvalue 1 40000")
        w.cmd("stats 1 participants=0 drain=false")
        w.wait(occ("joined", "i-0long"), 20, "the bridge joining")
        for n in range(1, 8):
            w.mark()
            w.cmd("stats 1 participants=%d drain=false" % n)
            ev = w.wait(occ("updated", "i-0long",
                            lambda e, n=n: e["participants"] == n), 5,
                        "update %d" % n)
            self.assertEqual(ev["bad_stats"], 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
