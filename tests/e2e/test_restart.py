"""Restarts (issue: production operations, 1 and 3).

kill -9 mid-drain, then a restart: the action is resumed from the journal
and completed exactly once, not before the bridge is empty, and the
heartbeats never lapse long enough for AWS's default result.  SIGTERM
mid-drain: the daemon exits promptly without completing, and a second
daemon finishes the action."""

import time
import unittest

from e2e import Stack, wait_until


class Restart(unittest.TestCase):
    def test_kill9_then_resume(self):
        s = Stack(self, bridges=1, participants=[5], heartbeat_timeout=30)
        cfg = {"daemon": {"visibility_timeout": "30s"}}
        d = s.start_daemon(config=cfg)
        b = s.bridge(0)
        a = s.emu.scale_in(s.group, s.instances[0])
        d.wait_audit("shutdown_requested", token=a.token)
        b.leave(5, over_s=40)
        time.sleep(4)
        d.kill()
        time.sleep(3)
        d2 = s.start_daemon(config=cfg, name="daemon")
        d2.wait_audit("resumed", token=a.token, timeout=10)
        st = b.wait_state("SHUTTING_DOWN", timeout=60)
        done = s.emu.wait_action(a.token, timeout=20)
        self.assertEqual((done.result, done.result_source),
                         ("CONTINUE", "api"))
        # not before the bridge was empty, and exactly once
        self.assertGreaterEqual(done.completed_at,
                                st["entered_ms"]["SHUTTING_DOWN"] / 1000)
        ok = [c for c in s.emu.calls("CompleteLifecycleAction")
              if c["status"] == 200]
        self.assertEqual(len(ok), 1)
        self.assertEqual(b.state().get("cut_off", 0), 0)
        # the hook never came near its deadline
        beats = [done.started_at] + sorted(done.heartbeats)
        gaps = [y - x for x, y in zip(beats, beats[1:])]
        self.assertLess(max(gaps + [done.completed_at - beats[-1]]), 28,
                        "heartbeat gaps %s" % gaps)
        wait_until(lambda: s.emu.queue_messages() ==
                   {"visible": 0, "in_flight": 0, "delayed": 0}, 40,
                   what="message deleted")

    def test_sigterm_hands_back_to_a_replica(self):
        s = Stack(self, bridges=1, participants=[4], heartbeat_timeout=30)
        cfg = {"daemon": {"visibility_timeout": "60s"}}
        d1 = s.start_daemon(config=cfg, name="d1")
        b = s.bridge(0)
        a = s.emu.scale_in(s.group, s.instances[0])
        d1.wait_audit("shutdown_requested", token=a.token)
        d2 = s.start_daemon(config=cfg, name="d2")
        t = time.monotonic()
        rc = d1.stop()
        self.assertLess(time.monotonic() - t, 3.0, "slow stop")
        self.assertEqual(rc, 0)
        self.assertEqual(s.emu.calls("CompleteLifecycleAction"), [])
        self.assertIn("handed_back", d1.steps(token=a.token))
        # the replica takes it at once (visibility 0), long before 60 s
        d2.wait_audit("received", token=a.token, timeout=10)
        b.leave(4, over_s=3)
        done = s.emu.wait_action(a.token, timeout=30)
        self.assertEqual((done.result, done.result_source),
                         ("CONTINUE", "api"))
        d2.wait_audit("completed", token=a.token, timeout=10)
        self.assertNotIn("completed", d1.steps(token=a.token))
        self.assertEqual(b.state().get("cut_off", 0), 0)


if __name__ == "__main__":
    unittest.main()
