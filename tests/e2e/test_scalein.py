"""Scale-in, the main path (issue: scale-in without cutting a conference).

Three bridges; the one scaled in has participants leaving over ~12 s.
Drain and a graceful shutdown are requested, CONTINUE comes after the last
participant left and within 2 s of it, the message is deleted, the other
bridges are untouched, and the audit trail tells the story in order.
"""

import json
import unittest

from e2e import Stack, posts, wait_until


class ScaleIn(unittest.TestCase):
    def test_drain_then_continue(self):
        s = Stack(self, bridges=3, participants=[6, 4, 3])
        d = s.start_daemon()
        victim, others = s.bridge(0), [s.bridge(1), s.bridge(2)]
        action = s.emu.scale_in(s.group, s.instances[0])
        # the daemon asks for drain and a graceful shutdown at once
        wait_until(lambda: len(posts(victim)) >= 2, 10, what="drain+shutdown")
        p = posts(victim)
        self.assertEqual(p[0][0], "/colibri/drain/enable")
        self.assertEqual(p[1][0], "/colibri/shutdown")
        self.assertTrue(json.loads(p[1][1])["graceful-shutdown"] in
                        (True, "true"))
        victim.wait_state("GRACEFUL_SHUTDOWN", timeout=5)
        # participants leave over ~12 s; nobody is cut off
        victim.leave(6, over_s=12)
        st = victim.wait_state("SHUTTING_DOWN", timeout=20)
        emptied_ms = st["entered_ms"]["SHUTTING_DOWN"]
        done = s.emu.wait_action(action.token, timeout=10)
        self.assertEqual(done.state, "completed")
        self.assertEqual(done.result, "CONTINUE")
        self.assertEqual(done.result_source, "api")
        lag = done.completed_at - emptied_ms / 1000.0
        self.assertGreaterEqual(lag, 0.0)
        self.assertLessEqual(lag, 2.0, "CONTINUE %.2fs after emptying" % lag)
        self.assertEqual(victim.state()["participants"], 0)
        self.assertEqual(victim.state().get("cut_off", 0), 0)
        # the message is gone for good
        wait_until(lambda: s.emu.queue_messages() ==
                   {"visible": 0, "in_flight": 0, "delayed": 0}, 10,
                   what="queue empty")
        # the other bridges saw no request at all
        for b in others:
            self.assertEqual(b.requests(), [])
            self.assertEqual(b.state()["state"], "RUNNING")
        self.assertEqual(len(s.emu.calls("CompleteLifecycleAction")), 1)
        # the audit trail tells the story, in order
        steps = d.steps(token=action.token)
        story = ["received", "resolved", "drain_started",
                 "shutdown_requested", "completing", "completed"]
        it = iter(steps)
        self.assertTrue(all(step in it for step in story),
                        "steps out of order: %s" % steps)
        parts = [r["participants"] for r in d.audit_for(token=action.token)
                 if r["step"] == "participants"]
        self.assertEqual(parts[0], 6)
        self.assertEqual(parts[-1], 0)
        self.assertEqual(parts, sorted(parts, reverse=True))
        rec = d.audit_for(token=action.token)[-1]
        self.assertEqual(rec["step"], "completed")
        self.assertEqual(rec["result"], "CONTINUE")
        self.assertGreater(rec["duration_ms"], 10000)
        for r in d.audit_for(token=action.token):
            self.assertEqual(r["instance"], s.instances[0])
            self.assertEqual(r["group"], s.group)
            self.assertEqual(r["hook"], "jvb-drain")
            self.assertEqual(r["transition"], "terminating")


if __name__ == "__main__":
    unittest.main()
