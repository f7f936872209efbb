"""dry_run (issue: scale-in, 8): the bridge and the simulator see no change;
the audit trail says what would have happened."""

import unittest

from e2e import Stack


class DryRun(unittest.TestCase):
    def test_dry_run_changes_nothing(self):
        s = Stack(self, bridges=2, participants=[3, 2])
        d = s.start_daemon(config={"daemon": {"dry_run": "true"}})
        b = s.bridge(0)
        a = s.emu.scale_in(s.group, s.instances[0])
        d.wait_audit("would_drain", token=a.token, timeout=20)
        b.leave(3, over_s=2)
        d.wait_audit("would_complete", token=a.token, timeout=30)
        d.wait_audit("would_delete", token=a.token, timeout=10)
        # the bridge was only looked at
        methods = {r["method"] for r in b.requests()}
        self.assertEqual(methods, {"GET"})
        st = b.state()
        self.assertEqual(st["state"], "RUNNING")
        self.assertFalse(st["drain"])
        self.assertEqual(s.bridge(1).requests(), [])
        # AWS saw no heartbeat, completion, visibility change or delete
        for op in ("RecordLifecycleActionHeartbeat",
                   "CompleteLifecycleAction", "ChangeMessageVisibility",
                   "DeleteMessage"):
            self.assertEqual(s.emu.calls(op), [], op)
        self.assertEqual(s.emu.action(a.token).state, "waiting")
        c = d.wait_audit("would_complete", token=a.token)
        self.assertEqual(c["result"], "CONTINUE")
        self.assertIn("dry run", c["reason"])
        self.assertNotIn("completed", d.steps(token=a.token))


if __name__ == "__main__":
    unittest.main()
