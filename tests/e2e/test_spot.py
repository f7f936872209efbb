"""Spot interruptions and rebalance recommendations (issue: scale-in that
chooses well, 1 and 2).

1. A spot interruption with 10 participants on the bridge: the bridge is
   SHUTTING_DOWN within 2 s of the warning arriving; the terminate action
   that follows is completed before the reclaim time; the audit tells how
   many participants were on the bridge and when it went away.
2. A rebalance recommendation puts the bridge in drain mode; with no
   termination within the configured time, drain mode is switched off
   again; a termination that follows keeps it on.
"""

import time
import unittest

from e2e import Stack, posts, wait_until


class Spot(unittest.TestCase):
    def test_spot_interruption_fast_path(self):
        s = Stack(self, bridges=2, participants=[10, 2],
                  bridge_options={"move_after_s": 4,
                                  "shutting_down_delay_s": 8})
        d = s.start_daemon()
        b = s.bridge(0)
        iid = s.instances[0]
        t0 = time.time()
        s.emu.spot_interruption(iid, reclaim_after=40, terminate_hook=True)
        st = b.wait_state("SHUTTING_DOWN", timeout=10)
        self.assertLessEqual(st["entered_ms"]["SHUTTING_DOWN"] / 1000 - t0,
                             2.0)
        # a forced shutdown, not a graceful one: at once
        shut = [body for p, body in posts(b) if p == "/colibri/shutdown"]
        self.assertIn("false", shut[0])
        a = wait_until(lambda: next((x for x in s.emu.actions()
                                     if x.instance_id == iid), None), 10,
                       what="the terminate action")
        done = s.emu.wait_action(a.token, timeout=40)
        self.assertEqual((done.result, done.result_source),
                         ("CONTINUE", "api"))
        self.assertLess(done.completed_at, t0 + 40,
                        "completed after the reclaim time")
        self.assertEqual(b.state().get("cut_off", 0), 0)
        warn = d.wait_audit("spot_warning", instance=iid)
        self.assertIn("reclaim_at", warn)
        self.assertIn("spot_fast_path", d.steps(instance=iid))
        gone = d.wait_audit("spot_gone", instance=iid, timeout=40)
        self.assertEqual(gone["participants_at_warning"], 10)
        self.assertEqual(gone["participants_when_gone"], 0)
        self.assertEqual(gone["left_before_gone"], 10)
        self.assertIn("gone_at", gone)
        self.assertEqual(s.bridge(1).requests(), [])

    def test_spot_warning_alone(self):
        """No lifecycle action follows (EC2 spot reclaims skip hooks)."""
        s = Stack(self, bridges=1, participants=[6],
                  bridge_options={"move_after_s": 3,
                                  "shutting_down_delay_s": 6})
        d = s.start_daemon()
        b = s.bridge(0)
        iid = s.instances[0]
        s.emu.spot_interruption(iid, reclaim_after=30)
        b.wait_state("SHUTTING_DOWN", timeout=10)
        drained = d.wait_audit("spot_drained", instance=iid, timeout=30)
        self.assertEqual(drained["participants_at_warning"], 6)
        gone = d.wait_audit("spot_gone", instance=iid, timeout=40)
        self.assertEqual(gone["left_before_gone"], 6)
        self.assertEqual(s.emu.calls("CompleteLifecycleAction"), [])


class Rebalance(unittest.TestCase):
    def test_rebalance_undone(self):
        s = Stack(self, bridges=1, participants=[4])
        d = s.start_daemon(config={"rebalance": {"undo_after": "10s"}})
        b = s.bridge(0)
        iid = s.instances[0]
        s.emu.rebalance_recommendation(iid)
        b.wait_for(lambda st: st["drain"], timeout=10, what="drain on")
        self.assertEqual(b.state()["state"], "RUNNING")
        d.wait_audit("rebalance_drain", instance=iid)
        b.wait_for(lambda st: not st["drain"], timeout=20, what="drain off")
        d.wait_audit("rebalance_undone", instance=iid)
        self.assertEqual([p for p, _ in posts(b)],
                         ["/colibri/drain/enable", "/colibri/drain/disable"])

    def test_rebalance_then_termination(self):
        s = Stack(self, bridges=1, participants=[2])
        d = s.start_daemon(config={"rebalance": {"undo_after": "10s"}})
        b = s.bridge(0)
        iid = s.instances[0]
        s.emu.rebalance_recommendation(iid)
        d.wait_audit("rebalance_drain", instance=iid)
        a = s.emu.scale_in(s.group, iid)
        d.wait_audit("rebalance_superseded", instance=iid)
        b.leave(2, over_s=2)
        s.emu.wait_action(a.token, timeout=30)
        time.sleep(11)
        self.assertNotIn("/colibri/drain/disable", [p for p, _ in posts(b)])
        self.assertNotIn("rebalance_undone", d.steps(instance=iid))


if __name__ == "__main__":
    unittest.main()
