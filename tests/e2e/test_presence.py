"""Presence speeds up scale-in (issue: launch verification, 5): with the
bridge's brewery presence the daemon completes within 1 s of the bridge
reporting zero local endpoints or leaving the room, although polling is
slowed to 20 s; with our XMPP link down it still completes by polling."""

import json
import os
import time
import unittest

from e2e import Stack

HERE = os.path.dirname(os.path.abspath(__file__))


SLOW = {"drain": {"poll_interval": "20s", "presence_poll_interval": "20s"}}


class Presence(unittest.TestCase):
    def test_presence_completes_within_1s(self):
        s = Stack(self, bridges=2, participants=[4, 1], xmpp="plain")
        d = s.start_daemon(config=SLOW)
        d.wait_log("brewery .*: joined", timeout=15)
        b = s.bridge(0)
        b.wait_joined(timeout=15)
        a = s.emu.scale_in(s.group, s.instances[0])
        b.wait_state("GRACEFUL_SHUTDOWN", timeout=10)
        time.sleep(1.5)         # past the first poll after the request
        b.leave(4, over_s=3)
        st = b.wait_state("SHUTTING_DOWN", timeout=15)
        done = s.emu.wait_action(a.token, timeout=10)
        lag = done.completed_at - st["entered_ms"]["SHUTTING_DOWN"] / 1000
        self.assertEqual((done.result, done.result_source),
                         ("CONTINUE", "api"))
        self.assertGreaterEqual(lag, 0)
        self.assertLessEqual(lag, 1.0, "completed %.2fs after it emptied" %
                             lag)
        # the last stats poll was long before: presence did it
        polls = [r for r in b.requests() if r["path"] == "/colibri/stats"]
        self.assertLessEqual(len(polls), 3)

    def test_leaving_the_room_completes_within_1s(self):
        s = Stack(self, bridges=1, participants=[3], xmpp="plain")
        d = s.start_daemon(config=SLOW)
        d.wait_log("brewery .*: joined", timeout=15)
        b = s.bridge(0)
        b.wait_joined(timeout=15)
        a = s.emu.scale_in(s.group, s.instances[0])
        d.wait_audit("shutdown_requested", token=a.token)
        time.sleep(1.5)
        # the bridge's process goes away (leaving the MUC first, as JVB)
        t = time.time()
        b.kill("TERM")
        done = s.emu.wait_action(a.token, timeout=10)
        self.assertEqual(done.result_source, "api")
        self.assertLessEqual(done.completed_at - t, 1.0)
        c = d.wait_audit("completed", token=a.token)
        self.assertIn("exited", c["reason"])

    def test_late_presence_does_not_slow_polling(self):
        """An XMPP server with a backlog: presence arrives, but 4 s late.
        The daemon must not trust it and slow its polling to
        presence_poll_interval; it completes by polling, within the poll
        interval (1 s) + 1 s of the bridge emptying."""
        lag_s = 4
        s = Stack(self, bridges=1, participants=[3], xmpp="plain",
                  prosody_options={
                      "extra_config": "plugin_paths = { %s }" %
                      json.dumps(HERE),
                      "muc_config": '    modules_enabled = { '
                      '"test_presence_lag" }\n    test_presence_lag = %d'
                      % lag_s})
        d = s.start_daemon(config={"drain": {
            "poll_interval": "1s", "presence_poll_interval": "20s"}})
        d.wait_log("brewery .*: joined", timeout=30)
        b = s.bridge(0)
        b.wait_joined(timeout=15)
        a = s.emu.scale_in(s.group, s.instances[0])
        b.wait_state("GRACEFUL_SHUTDOWN", timeout=10)
        d.wait_log("presence lags, polling stays at poll_interval",
                   timeout=lag_s + 10)
        b.leave(3, over_s=2)
        st = b.wait_state("SHUTTING_DOWN", timeout=15)
        done = s.emu.wait_action(a.token, timeout=15)
        lag = done.completed_at - st["entered_ms"]["SHUTTING_DOWN"] / 1000
        self.assertEqual((done.result, done.result_source),
                         ("CONTINUE", "api"))
        self.assertLessEqual(lag, 1.0 + 1.0,
                             "completed %.2fs after it emptied" % lag)
        self.assertNotIn("polling slows to presence_poll_interval",
                         d.log_text())

    def test_xmpp_down_completes_by_polling(self):
        s = Stack(self, bridges=1, participants=[3], xmpp="plain")
        d = s.start_daemon(config={"drain": {"poll_interval": "2s"}})
        d.wait_log("brewery .*: joined", timeout=15)
        b = s.bridge(0)
        b.wait_joined(timeout=15)
        s.prosody.kill()
        d.wait_log("brewery .*: not in the room", timeout=30)
        a = s.emu.scale_in(s.group, s.instances[0])
        b.wait_state("GRACEFUL_SHUTDOWN", timeout=10)
        b.leave(3, over_s=3)
        st = b.wait_state("SHUTTING_DOWN", timeout=15)
        done = s.emu.wait_action(a.token, timeout=15)
        lag = done.completed_at - st["entered_ms"]["SHUTTING_DOWN"] / 1000
        self.assertEqual((done.result, done.result_source),
                         ("CONTINUE", "api"))
        self.assertLessEqual(lag, 2.0 + 1.0)


if __name__ == "__main__":
    unittest.main()
