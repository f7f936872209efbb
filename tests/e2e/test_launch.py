"""Scale-out you can trust (issue: launch verification), against a real
Prosody on loopback.

1. A bridge that joins the brewery 5 s after launch gets CONTINUE within
   2 s of its first stats presence.
2. A bridge that never joins (wrong password) gets ABANDON at the launch
   timeout.
3. Prosody killed and restarted while a launch is pending: the daemon
   reconnects, rejoins, and the verdict is still right.
4. A bridge whose nickname is taken by another occupant does not count as
   joined.
"""

import time
import unittest

from e2e import Stack, wait_until


def launch_stack(test, xmpp="plain", **kw):
    s = Stack(test, bridges=1, participants=[2], launch_hook=True,
              xmpp=xmpp, **kw)
    return s


class Launch(unittest.TestCase):
    def joined_at(self, bridge, timeout=15):
        """No later than the fake bridge's first stats presence (s): the
        time of the last look at it that found it not yet in the room."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = time.time()
            x = bridge.state().get("xmpp") or {}
            rooms = x.get("rooms") or [{}]
            if rooms[0].get("joined"):
                return before_not_joined
            before_not_joined = before
            time.sleep(0.02)
        self.fail("the bridge never joined the brewery")

    def test_joins_late_gets_continue(self):
        # over STARTTLS, verified with the test CA ([xmpp] ca_file)
        s = launch_stack(self, xmpp="tls")
        d = s.start_daemon(config={"launch": {"timeout": "60s"}})
        d.wait_log("brewery .*: joined", timeout=15)
        a = s.emu.launch(s.group)
        d.wait_audit("received", token=a.token)
        time.sleep(5)
        b = s.add_bridge(a.instance_id, participants=0)
        joined = self.joined_at(b)
        done = s.emu.wait_action(a.token, timeout=20)
        self.assertEqual((done.result, done.result_source),
                         ("CONTINUE", "api"))
        lag = done.completed_at - joined
        self.assertLessEqual(lag, 2.0, "CONTINUE %.2fs after joining" % lag)
        self.assertGreaterEqual(done.completed_at - done.started_at, 5)
        c = d.wait_audit("completed", token=a.token)
        self.assertIn("brewery", c["reason"])

    def test_wrong_password_gets_abandon(self):
        s = launch_stack(self)
        # longer than the hook's 30 s heartbeat timeout: heartbeats keep
        # the launch open until the daemon's own verdict
        d = s.start_daemon(config={"launch": {"timeout": "40s"}})
        d.wait_log("brewery .*: joined", timeout=15)
        a = s.emu.launch(s.group)
        xmpp = s.bridge_xmpp()
        bad = s.dir + "/wrong-password"
        with open(bad, "w") as f:
            f.write("not-the-password\n")
        xmpp["password_file"] = bad
        b = s.add_bridge(a.instance_id, participants=0, xmpp=xmpp)
        done = s.emu.wait_action(a.token, timeout=60)
        self.assertEqual((done.result, done.result_source),
                         ("ABANDON", "api"))
        took = done.completed_at - done.started_at
        self.assertGreaterEqual(took, 40)
        self.assertLess(took, 50)
        self.assertGreaterEqual(len(done.heartbeats), 2)
        c = d.wait_audit("completed", token=a.token)
        self.assertIn("never joined the brewery", c["reason"])
        self.assertFalse(b.state()["xmpp"]["rooms"][0]["joined"])

    def test_prosody_restart_while_pending(self):
        s = launch_stack(self)
        d = s.start_daemon(config={"launch": {"timeout": "90s"}})
        d.wait_log("brewery .*: joined", timeout=15)
        a = s.emu.launch(s.group)
        d.wait_audit("received", token=a.token)
        s.prosody.kill()
        d.wait_audit("xmpp_down", token=a.token, timeout=30)
        time.sleep(2)
        s.prosody.restart()
        d.wait_audit("xmpp_up", token=a.token, timeout=60)
        b = s.add_bridge(a.instance_id, participants=0)
        b.wait_joined(timeout=20)
        done = s.emu.wait_action(a.token, timeout=30)
        self.assertEqual((done.result, done.result_source),
                         ("CONTINUE", "api"))

    def test_taken_nickname_does_not_count(self):
        s = launch_stack(self)
        d = s.start_daemon(config={"launch": {"timeout": "20s"}})
        d.wait_log("brewery .*: joined", timeout=15)
        a = s.emu.launch(s.group)
        # another bridge (another address, another account: Prosody would
        # merge two sessions of one account into one occupant) already
        # uses that nickname
        s.prosody.register("jvb-other", "other-secret")
        impostor = s.fb.add(s.net.addr(200), port=s.port,
                            id="impostor", nickname=a.instance_id,
                            participants=0, stats_interval_s=1,
                            xmpp=s.bridge_xmpp("jvb-other"))
        impostor.wait_joined(timeout=15)
        b = s.add_bridge(a.instance_id, participants=0)
        # the real one cannot join: its nickname is taken
        time.sleep(3)
        self.assertFalse(b.state()["xmpp"]["rooms"][0]["joined"])
        done = s.emu.wait_action(a.token, timeout=40)
        self.assertEqual((done.result, done.result_source),
                         ("ABANDON", "api"))
        c = d.wait_audit("completed", token=a.token)
        self.assertIn("nickname is taken", c["reason"])


if __name__ == "__main__":
    unittest.main()
