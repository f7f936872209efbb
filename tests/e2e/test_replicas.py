"""Several replicas on one queue (issue: production operations, 2).

Three daemons, thirty scale-ins at once: every action completed exactly
once, and no bridge drained by two daemons at the same time.  Then one
daemon is killed mid-drain: its actions reappear when their visibility
times out and the others finish them."""

import time
import unittest

from e2e import Stack, wait_until


class Replicas(unittest.TestCase):
    def owners(self, daemons, token):
        return [d.name for d in daemons
                if "received" in d.steps(token=token)]

    def test_three_daemons(self):
        s = Stack(self, bridges=30, participants=2, heartbeat_timeout=30)
        cfg = {"daemon": {"visibility_timeout": "30s"}}
        ds = [s.start_daemon(config=cfg, name="d%d" % i) for i in range(3)]
        acts = [s.emu.scale_in(s.group, iid) for iid in s.instances]
        for iid in s.instances:
            s.bridges[iid].leave(2, over_s=10)
        done = [s.emu.wait_action(a.token, timeout=90) for a in acts]
        for a in done:
            self.assertEqual((a.result, a.result_source),
                             ("CONTINUE", "api"), a.instance_id)
        oks = [c for c in s.emu.calls("CompleteLifecycleAction")
               if c["status"] == 200]
        self.assertEqual(len(oks), 30)
        self.assertEqual(len({c["params"]["LifecycleActionToken"]
                              for c in oks}), 30)
        for a in acts:
            self.assertEqual(len(self.owners(ds, a.token)), 1,
                             "%s drained by %s" % (
                                 a.instance_id, self.owners(ds, a.token)))
            b = s.bridges[a.instance_id]
            self.assertEqual(len([r for r in b.requests()
                                  if r["path"] == "/colibri/drain/enable"]),
                             1)
        # the work was shared
        wait_until(lambda: sum(1 for d in ds if any(
            r["step"] == "completed" for r in d.audit())) >= 2, 10,
            what="completions by at least two daemons")

        # round two: one daemon dies mid-drain
        more = s.emu.create_group("jvb-b", 6)
        # a replica takes over once the message's visibility (30 s) runs
        # out: the hook must wait longer than that without heartbeats
        s.emu.put_hook("jvb-b", "jvb-b-drain", heartbeat_timeout=60)
        for iid in more:
            s.bridges[iid] = s.add_bridge(iid, participants=2)
        acts = [s.emu.scale_in("jvb-b", iid) for iid in more]
        for iid in more:
            s.bridges[iid].leave(2, over_s=45)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if all(self.owners(ds, a.token) for a in acts):
                break
            time.sleep(0.2)
        victim = max(ds, key=lambda d: sum(1 for a in acts if d.name in
                                           self.owners(ds, a.token)))
        orphans = [a for a in acts if self.owners(ds, a.token) ==
                   [victim.name]]
        self.assertTrue(orphans)
        victim.kill()
        done = [s.emu.wait_action(a.token, timeout=120) for a in acts]
        for a in done:
            self.assertEqual((a.result, a.result_source),
                             ("CONTINUE", "api"), a.instance_id)
        for a in orphans:
            # the audit record follows AWS's answer: wait for it
            rest = wait_until(lambda: [
                d for d in ds if d is not victim and
                "completed" in d.steps(token=a.token)], 10,
                what="%s completed by a replica" % a.instance_id)
            self.assertEqual(len(rest), 1, a.instance_id)
            rec = rest[0].wait_audit("received", token=a.token)
            self.assertGreaterEqual(rec["receive_count"], 2)
        oks = [c for c in s.emu.calls("CompleteLifecycleAction")
               if c["status"] == 200]
        self.assertEqual(len(oks), 36)
        for a in acts:
            self.assertEqual(s.bridges[a.instance_id].state().get(
                "cut_off", 0), 0)


if __name__ == "__main__":
    unittest.main()
