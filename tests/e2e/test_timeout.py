"""Participants who never leave (issue: scale-in, 3): at max_duration the
configured result is sent, with the reason in the audit trail.  With
force_on_timeout the bridge is shut down by force first and the action is
completed only once jicofo has moved everybody away (nobody cut off);
without it the result is sent at once."""

import unittest

from e2e import Stack, posts


class Timeout(unittest.TestCase):
    def test_timeout_without_force(self):
        s = Stack(self, bridges=1, participants=[5])
        d = s.start_daemon(config={"drain": {
            "max_duration": "15s", "on_timeout": "abandon",
            "force_on_timeout": "false"}})
        action = s.emu.scale_in(s.group, s.instances[0])
        done = s.emu.wait_action(action.token, timeout=40)
        self.assertEqual(done.result, "ABANDON")
        self.assertEqual(done.result_source, "api")
        took = done.completed_at - done.started_at
        self.assertGreaterEqual(took, 15)
        self.assertLess(took, 22)
        t = d.wait_audit("timeout", token=action.token)
        self.assertIn("max_duration (15s) reached with 5 participants",
                      t["reason"])
        c = d.wait_audit("completed", token=action.token)
        self.assertEqual(c["result"], "ABANDON")
        self.assertIn("max_duration (15s) reached with 5 participants "
                      "still on it", c["reason"])
        # no forced shutdown was asked
        bodies = [b for p, b in posts(s.bridge(0)) if p == "/colibri/shutdown"]
        self.assertEqual(len(bodies), 1)

    def test_timeout_forces_then_waits_for_empty(self):
        s = Stack(self, bridges=1, participants=[5],
                  bridge_options={"move_after_s": 3,
                                  "shutting_down_delay_s": 10})
        d = s.start_daemon(config={
            "drain": {"max_duration": "15s", "on_timeout": "continue",
                      "force_on_timeout": "true"},
            "bridge": {"shutting_down_delay": "10s"}})
        b = s.bridge(0)
        action = s.emu.scale_in(s.group, s.instances[0])
        done = s.emu.wait_action(action.token, timeout=60)
        self.assertEqual(done.result, "CONTINUE")
        st = b.state()
        # forced at 15 s, jicofo moved everyone within 3 s, then CONTINUE
        shutdowns = [b_ for p, b_ in posts(b) if p == "/colibri/shutdown"]
        self.assertEqual(len(shutdowns), 2)
        self.assertIn("false", shutdowns[1])
        self.assertEqual(st.get("cut_off", 0), 0)
        self.assertEqual(st["participants"], 0)
        self.assertGreater(done.completed_at - done.started_at, 15)
        steps = d.steps(token=action.token)
        self.assertIn("timeout", steps)
        self.assertEqual(steps.count("shutdown_requested"), 2)
        c = d.wait_audit("completed", token=action.token)
        self.assertIn("forced shutdown", c["reason"])


if __name__ == "__main__":
    unittest.main()
