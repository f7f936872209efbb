"""Scale-in protection as a steering wheel (issue: scale-in that chooses
well, 3 and 4).

With protection on, four bridges with 0, 3, 40 and 120 participants and a
scale-in by one: the group removes the empty bridge; after participants
move (the 120 one empties), protection follows within the rate limit; the
daemon never protects every instance of a group.  With protection off (the
default) the daemon calls no protection API at all."""

import time
import unittest

from e2e import Stack, wait_until


def protection_state(s):
    return s.emu.protection(s.group)


class Protection(unittest.TestCase):
    def check_never_all(self, s):
        st = protection_state(s)
        self.assertFalse(st and all(st.values()), "all protected: %s" % st)

    def test_steering(self):
        s = Stack(self, bridges=4, participants=[0, 3, 40, 120],
                  xmpp="plain")
        i0, i3, i40, i120 = s.instances
        d = s.start_daemon(config={"protection": {
            "enabled": "true", "groups": s.group, "interval": "5s",
            "max_calls_per_minute": "6"}})
        d.wait_log("brewery .*: joined", timeout=15)
        want = {i0: False, i3: True, i40: True, i120: True}
        wait_until(lambda: protection_state(s) == want, 30,
                   what="protection %s" % want)
        self.check_never_all(s)

        # each audit record follows AWS's answer, the state above its call
        def protection_recs():
            return [r for r in d.audit() if r["step"] == "protection"]
        wait_until(lambda: len(protection_recs()) >= 3, 10,
                   what="three protection audit records")
        recs = protection_recs()
        self.assertEqual({r["instance"] for r in recs}, {i3, i40, i120})
        for r in recs:
            self.assertTrue(r["protected"])
            self.assertIn("threshold", r["reason"])
        # the group's scale-in by one can only take the empty bridge
        a = s.emu.scale_in(s.group)
        self.assertEqual(a.instance_id, i0)
        done = s.emu.wait_action(a.token, timeout=30)
        self.assertEqual((done.result, done.result_source),
                         ("CONTINUE", "api"))
        # participants move: the 120 one empties; protection follows
        t = time.time()
        s.bridges[i120].leave()
        wait_until(lambda: protection_state(s).get(i120) is False, 25,
                   what="the emptied bridge unprotected")
        self.assertLess(time.time() - t, 25)
        self.check_never_all(s)
        wait_until(lambda: [r for r in protection_recs()
                            if r["instance"] == i120 and not r["protected"]],
                   10, what="the unprotection's audit record")
        un = [r for r in protection_recs() if r["instance"] == i120 and
              not r["protected"]]
        self.assertEqual(len(un), 1)
        self.assertIn("empty", un[0]["reason"])
        # everyone gets busy: one bridge stays unprotected all the same
        s.bridges[i120].join(200)
        wait_until(lambda: protection_state(s).get(i120) is True or
                   protection_state(s).get(i3) is False, 25,
                   what="protection adjusted")
        time.sleep(7)
        self.check_never_all(s)
        # the rate limit held
        calls = [c["time"] for c in s.emu.calls("SetInstanceProtection")]
        for i, t0 in enumerate(calls):
            self.assertLessEqual(len([c for c in calls[i:]
                                      if c - t0 < 60]), 6)

    def test_off_by_default_calls_nothing(self):
        s = Stack(self, bridges=2, participants=[0, 5])
        d = s.start_daemon()
        a = s.emu.scale_in(s.group, s.instances[0])
        s.emu.wait_action(a.token, timeout=30)
        d.wait_audit("completed", token=a.token)
        time.sleep(3)
        self.assertEqual(s.emu.calls("SetInstanceProtection"), [])
        self.assertEqual(s.emu.calls("DescribeAutoScalingGroups"), [])


if __name__ == "__main__":
    unittest.main()
