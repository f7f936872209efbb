"""AWS throttling and 500s (issue: scale-in, 7): injected on ReceiveMessage,
DescribeInstances, RecordLifecycleActionHeartbeat and
CompleteLifecycleAction, the action still completes correctly, once."""

import unittest

from e2e import Stack, wait_until


class Faults(unittest.TestCase):
    def test_throttles_and_500s(self):
        s = Stack(self, bridges=1, participants=[4], heartbeat_timeout=30)
        s.emu.inject_fault("ReceiveMessage", 2, kind="throttle")
        s.emu.inject_fault("ReceiveMessage", 1, kind="500")
        s.emu.inject_fault("DescribeInstances", 1, kind="throttle")
        s.emu.inject_fault("DescribeInstances", 1, kind="500")
        s.emu.inject_fault("RecordLifecycleActionHeartbeat", 1,
                           kind="throttle")
        s.emu.inject_fault("RecordLifecycleActionHeartbeat", 1, kind="500")
        s.emu.inject_fault("CompleteLifecycleAction", 1, kind="500")
        s.emu.inject_fault("CompleteLifecycleAction", 1, kind="throttle")
        d = s.start_daemon(config={"aws": {"max_attempts": "6"}})
        a = s.emu.scale_in(s.group, s.instances[0])
        b = s.bridge(0)
        b.wait_state("GRACEFUL_SHUTDOWN", timeout=40)
        # long enough for two heartbeats (every 15 s)
        b.leave(4, over_s=33)
        done = s.emu.wait_action(a.token, timeout=90)
        self.assertEqual((done.result, done.result_source),
                         ("CONTINUE", "api"))
        self.assertEqual(s.emu.faults_pending(), 0)
        calls = s.emu.calls("CompleteLifecycleAction")
        self.assertEqual([c["status"] for c in calls][-1], 200)
        self.assertEqual(len([c for c in calls if c["status"] == 200]), 1)
        hb = s.emu.calls("RecordLifecycleActionHeartbeat")
        self.assertGreaterEqual(len([c for c in hb if c["status"] == 200]),
                                1)
        c = d.wait_audit("completed", token=a.token)
        self.assertEqual(c["result"], "CONTINUE")
        wait_until(lambda: s.emu.queue_messages() ==
                   {"visible": 0, "in_flight": 0, "delayed": 0}, 10,
                   what="message deleted")


if __name__ == "__main__":
    unittest.main()
