"""Bridges that cannot be drained (issue: scale-in, 4): down from the start,
answering 404 (REST disabled or the wrong port), never answering.  Each is
completed within a bounded time with a precise reason; the 404 reason names
the bridge settings to change.  Nothing is left to time out at AWS."""

import time
import unittest

from e2e import Stack


class Unreachable(unittest.TestCase):
    def test_down_404_hang(self):
        s = Stack(self, bridges=3, participants=[2, 2, 2])
        down, nf, hang = s.bridge(0), s.bridge(1), s.bridge(2)
        down.set_mode("down")
        nf.set_mode("404")
        hang.set_mode("hang")
        d = s.start_daemon(config={
            "bridge": {"unreachable_timeout": "10s", "timeout": "2s"},
            "drain": {"on_unreachable": "continue"}})
        t0 = time.time()
        acts = [s.emu.scale_in(s.group, iid) for iid in s.instances]
        done = [s.emu.wait_action(a.token, timeout=40) for a in acts]
        for a in done:
            self.assertEqual(a.state, "completed")
            self.assertEqual(a.result_source, "api")
            self.assertEqual(a.result, "CONTINUE")
            # unreachable_timeout (10 s) plus a last try, not AWS's 30 s
            self.assertLess(a.completed_at - t0, 20)
        reasons = [d.wait_audit("completed", token=a.token)["reason"]
                   for a in acts]
        self.assertIn("could not be reached for 10s", reasons[0])
        self.assertIn("refused", reasons[0])
        self.assertIn("videobridge.http-servers.private", reasons[0])
        self.assertIn("could not be reached", reasons[1])
        self.assertIn("404", reasons[1])
        self.assertIn("videobridge.apis.rest.enabled", reasons[1])
        self.assertIn("9090", reasons[1])
        self.assertIn("could not be reached", reasons[2])
        self.assertRegex(reasons[2], "no (complete )?answer|timed out|"
                         "timeout")
        # each problem is in the audit trail once, not once per retry
        for a in acts:
            errs = [r for r in d.audit_for(token=a.token)
                    if r["step"] == "bridge_error"]
            self.assertGreaterEqual(len(errs), 1)
            self.assertLessEqual(len(errs), 3)

    def test_instance_gone(self):
        s = Stack(self, bridges=1, participants=[0])
        # the instance vanished before the daemon could look at it
        action = s.emu.scale_in(s.group, s.instances[0])
        s.emu.client("ec2").terminate_instances(InstanceIds=[s.instances[0]])
        d = s.start_daemon()
        done = s.emu.wait_action(action.token, timeout=20)
        self.assertEqual(done.result_source, "api")
        c = d.wait_audit("completed", token=action.token)
        self.assertRegex(c["reason"], "terminated|shutting-down")


if __name__ == "__main__":
    unittest.main()
