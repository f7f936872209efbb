"""A drain longer than the hook's heartbeat timeout (issue: scale-in, 2).

Heartbeat timeout 30 s, a drain of about 75 s: heartbeats keep the action
alive (the simulator never applies the default result) and the message,
whose visibility is only 30 s, is kept hidden and never reappears.
"""

import unittest

from e2e import Stack, wait_until


class Heartbeat(unittest.TestCase):
    def test_long_drain_stays_alive(self):
        s = Stack(self, bridges=2, participants=[8, 1], heartbeat_timeout=30)
        d = s.start_daemon(config={"daemon": {"visibility_timeout": "30s"}})
        victim = s.bridge(0)
        action = s.emu.scale_in(s.group, s.instances[0])
        victim.wait_state("GRACEFUL_SHUTDOWN", timeout=10)
        victim.leave(8, over_s=75)
        done = s.emu.wait_action(action.token, timeout=110)
        self.assertEqual(done.state, "completed")
        self.assertEqual(done.result, "CONTINUE")
        self.assertEqual(done.result_source, "api",
                         "AWS applied the default result: heartbeats "
                         "lapsed")
        self.assertGreaterEqual(done.completed_at - done.started_at, 74)
        # at least one beat per 30 s window, with room to spare
        beats = [done.started_at] + sorted(done.heartbeats)
        gaps = [b - a for a, b in zip(beats, beats[1:])]
        self.assertGreaterEqual(len(done.heartbeats), 4)
        self.assertLess(max(gaps + [done.completed_at - beats[-1]]), 25,
                        "heartbeat gaps %s" % gaps)
        # the message stayed hidden: extended, never delivered again
        cmv = s.emu.calls("ChangeMessageVisibility")
        self.assertGreaterEqual(len(cmv), 4)
        self.assertTrue(all(c["status"] == 200 for c in cmv))
        steps = d.steps(token=action.token)
        self.assertEqual(steps.count("received"), 1)
        self.assertNotIn("redelivered", steps)
        self.assertGreaterEqual(steps.count("heartbeat"), 4)
        wait_until(lambda: s.emu.queue_messages() ==
                   {"visible": 0, "in_flight": 0, "delayed": 0}, 10,
                   what="message deleted")


if __name__ == "__main__":
    unittest.main()
