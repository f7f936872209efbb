"""Every way a notification can arrive (issue: scale-in, 5 and 6).

Direct, SNS-wrapped (raw delivery off and on) and EventBridge notifications
all lead to a drain and a completion; the test notification and malformed
messages are audited whole with why, removed, and the daemon keeps
working; the same notification delivered twice gives one drain and one
successful completion."""

import json
import unittest

from e2e import Stack, posts, wait_until


class Envelopes(unittest.TestCase):
    def test_every_envelope(self):
        s = Stack(self, bridges=4, participants=0)
        d = s.start_daemon()
        forms = ["direct", "sns", "sns-raw", "eventbridge"]
        acts = [s.emu.scale_in(s.group, iid, envelope=f)
                for iid, f in zip(s.instances, forms)]
        for a, form in zip(acts, forms):
            done = s.emu.wait_action(a.token, timeout=30)
            self.assertEqual((done.result, done.result_source),
                             ("CONTINUE", "api"), form)
            rec = d.wait_audit("received", token=a.token)
            self.assertEqual(rec["envelope"], {"direct": "direct",
                                               "sns": "sns",
                                               "sns-raw": "direct",
                                               "eventbridge": "eventbridge"}
                             [form])
        # the hook's test notification was removed, and said so
        t = [r for r in d.audit() if r["step"] == "test_notification"]
        self.assertGreaterEqual(len(t), 1)
        self.assertEqual(t[0]["group"], s.group)
        wait_until(lambda: s.emu.queue_messages()["in_flight"] == 0 and
                   s.emu.queue_messages()["visible"] == 0, 10,
                   what="queue empty")

    def test_malformed_then_keeps_working(self):
        s = Stack(self, bridges=1, participants=0)
        d = s.start_daemon()
        good = json.loads(s.emu.scale_in(s.group, s.instances[0]).body)
        s.emu.wait_action(good["LifecycleActionToken"], timeout=30)
        bad = {
            "not json": "hello {",
            "array": "[1, 2, 3]",
            "bad token": json.dumps(dict(good, LifecycleActionToken="x")),
            "bad instance": json.dumps(dict(good, EC2InstanceId="i-zz")),
            "unknown transition": json.dumps(dict(
                good, LifecycleTransition="autoscaling:EC2_INSTANCE_NAP")),
            "not utf-8": b"\xff\xfe{\"a\": 1}",
            "huge": "x" * (200 * 1024),
        }
        for body in bad.values():
            s.emu.send_raw(body if isinstance(body, str) else
                           body.decode("latin-1"))
        wait_until(lambda: len([r for r in d.audit()
                                if r["step"] == "rejected"]) >= len(bad),
                   20, what="every bad message rejected")
        rej = [r for r in d.audit() if r["step"] == "rejected"]
        self.assertEqual(len(rej), len(bad))
        for r in rej:
            self.assertTrue(r["reason"])
            self.assertIn("body", r)
        huge = [r for r in rej if len(r["body"]) >= 200 * 1024]
        self.assertEqual(len(huge), 1, "recorded whole")
        reasons = " | ".join(r["reason"] for r in rej)
        self.assertIn("LifecycleActionToken", reasons)
        self.assertIn("EC2InstanceId", reasons)
        wait_until(lambda: s.emu.queue_messages() ==
                   {"visible": 0, "in_flight": 0, "delayed": 0}, 10,
                   what="bad messages removed")
        # and it still works
        s2 = s.emu.launch(s.group) if False else None  # noqa: F841
        new_iid = s.emu.create_group("jvb2", 1)[0]
        s.emu.put_hook("jvb2", "jvb2-drain", heartbeat_timeout=30)
        s.add_bridge(new_iid, participants=0)
        a = s.emu.scale_in("jvb2", new_iid)
        self.assertEqual(s.emu.wait_action(a.token, timeout=30).result,
                         "CONTINUE")

    def test_delivered_twice_while_draining(self):
        s = Stack(self, bridges=1, participants=[3])
        d = s.start_daemon()
        b = s.bridge(0)
        a = s.emu.scale_in(s.group, s.instances[0])
        d.wait_audit("shutdown_requested", token=a.token)
        # a second copy of the notification: removed, the drain goes on
        s.emu.send_raw(a.body)
        d.wait_audit("duplicate", token=a.token, timeout=15)
        b.leave(3, over_s=2)
        done = s.emu.wait_action(a.token, timeout=30)
        self.assertEqual(done.result_source, "api")
        self.assertEqual(len(s.emu.calls("CompleteLifecycleAction")), 1)
        self.assertEqual(len([p for p, _ in posts(b)
                              if p == "/colibri/drain/enable"]), 1)
        self.assertEqual(d.steps(token=a.token).count("received"), 1)
        wait_until(lambda: s.emu.queue_messages() ==
                   {"visible": 0, "in_flight": 0, "delayed": 0}, 10,
                   what="both copies removed")

    def test_delivered_twice_after_completion(self):
        s = Stack(self, bridges=1, participants=[0])
        d = s.start_daemon()
        a = s.emu.scale_in(s.group, s.instances[0])
        d.wait_audit("completed", token=a.token)
        s.emu.send_raw(a.body)
        d.wait_audit("duplicate", token=a.token, timeout=15)
        ok = [c for c in s.emu.calls("CompleteLifecycleAction")
              if c["status"] == 200]
        self.assertEqual(len(ok), 1)
        wait_until(lambda: s.emu.queue_messages() ==
                   {"visible": 0, "in_flight": 0, "delayed": 0}, 10,
                   what="duplicate removed")


if __name__ == "__main__":
    unittest.main()
