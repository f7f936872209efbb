"""`jvb-lifecycled audit` on a hand-made trail: actions grouped and told in
file order with times relative to each action's start, how each ended,
the filters, the default file from the configuration, and malformed lines
reported (with their line numbers) and skipped, never fatal.  Values from
the file reach the terminal sanitized and cut."""

import json
import os
import re
import tempfile
import unittest

from ops import MINIMAL_CONFIG, main, run_cli

A = "6f0c1a52-0000-4000-8000-00000000000a"
B = "6f0c1a52-0000-4000-8000-00000000000b"


def rec(t, step, token=None, instance=None, **fields):
    r = {"time": t, "action": token, "instance": instance,
         "group": "jvb" if token else None,
         "hook": "jvb-drain" if token else None,
         "transition": "terminating" if token else None, "step": step}
    r.update(fields)
    return json.dumps(r)


LINES = [
    rec("2026-05-01T10:00:00.000Z", "test_notification",
        message_id="m-0"),
    rec("2026-05-01T10:00:01.000Z", "received", A, "i-0aaaaaaaaaaaaaaaa",
        envelope="direct", receive_count=1),
    rec("2026-05-01T10:00:01.200Z", "resolved", A, "i-0aaaaaaaaaaaaaaaa",
        bridge="10.0.0.5", state="running", public_ip=None),
    "this is not json",
    rec("2026-05-01T10:00:02.000Z", "received", B, "i-0bbbbbbbbbbbbbbbb",
        envelope="sns", receive_count=2),
    "",
    "[1, 2, 3]",
    json.dumps({"time": "2026-05-01T10:00:03.000Z", "action": A}),
    rec("2026-05-01T10:00:02.500Z", "participants", A, "i-0aaaaaaaaaaaaaaaa",
        participants=6, previous=-1),
    rec("2026-05-01T10:01:06.000Z", "bridge_error", B, "i-0bbbbbbbbbbbbbbbb",
        operation="stats", error="evil \x1b[31mred\x1b[0m " + "x" * 500),
    rec("2026-05-01T10:01:06.000Z", "completed", A, "i-0aaaaaaaaaaaaaaaa",
        result="CONTINUE", reason="the bridge is empty", duration_ms=65000,
        participants=0, heartbeats=2),
    '{"time": "2026-05-01T10:02:00.000Z", "step": "x", "step": "y"}',
]


class AuditCli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="jl-audit-")
        self.addCleanup(self.tmp.cleanup)
        self.path = os.path.join(self.tmp.name, "audit.jsonl")
        with open(self.path, "w") as f:
            f.write("\n".join(LINES) + "\n")

    def test_timeline(self):
        p = run_cli(["audit", self.path])
        self.assertEqual(p.returncode, 0, p.stderr)
        err = p.stderr.splitlines()
        self.assertEqual(len(err), 4, p.stderr)
        self.assertRegex(err[0], r"audit.jsonl:4: skipped: not JSON")
        self.assertRegex(err[1], r"audit.jsonl:7: skipped: not an audit "
                         r"record")
        self.assertRegex(err[2], r"audit.jsonl:8: skipped: not an audit "
                         r"record")
        self.assertRegex(err[3], r"audit.jsonl:12: skipped: not JSON "
                         r"\(duplicate object key")
        out = p.stdout
        self.assertNotIn("\x1b", out)
        blocks = out.split("\n\n")
        a, b, loose, summary = blocks[0], blocks[1], blocks[2], blocks[3]
        self.assertEqual(a.splitlines()[:2], [
            "=== i-0aaaaaaaaaaaaaaaa terminating (group jvb, hook "
            "jvb-drain)",
            "    action %s, from 2026-05-01T10:00:01.000Z" % A])
        steps = [l.split()[:2] for l in a.splitlines()[2:-1]]
        self.assertEqual(steps, [["+0.0s", "received"],
                                 ["+0.2s", "resolved"],
                                 ["+1.5s", "participants"],
                                 ["+1m05s", "completed"]])
        self.assertIn("bridge=10.0.0.5 state=running", a)
        self.assertNotIn("public_ip", a)
        self.assertIn("participants=6 previous=-1", a)
        self.assertIn('reason="the bridge is empty" duration_ms=65000', a)
        self.assertEqual(a.splitlines()[-1],
                         "  => CONTINUE after 1m05s: the bridge is empty")
        self.assertTrue(b.startswith("=== i-0bbbbbbbbbbbbbbbb terminating"))
        self.assertIn("+1m04s  bridge_error", b)
        self.assertIn('error="evil ?[31mred?[0m xxx', b)
        self.assertRegex(b, r'x\.\.\."')   # cut, not 500 characters
        self.assertEqual(b.splitlines()[-1], "  => not finished in this "
                         "file (last step: bridge_error)")
        self.assertTrue(loose.startswith("=== records about no lifecycle "
                                         "action (1)"))
        self.assertIn("2026-05-01T10:00:00.000Z  test_notification", loose)
        self.assertEqual(summary.strip(), "2 actions, 7 records; 4 "
                         "malformed lines skipped")

    def test_filters(self):
        p = run_cli(["audit", self.path, "--instance", "i-0bbbbbbbbbbbbbbbb"])
        self.assertEqual(p.returncode, 0)
        self.assertEqual(re.findall(r"^=== (\S+)", p.stdout, re.M),
                         ["i-0bbbbbbbbbbbbbbbb"])
        self.assertIn("1 action, 2 records", p.stdout)
        p = run_cli(["audit", self.path, "--action", A])
        self.assertEqual(re.findall(r"^=== (\S+)", p.stdout, re.M),
                         ["i-0aaaaaaaaaaaaaaaa"])
        self.assertIn("1 action, 4 records", p.stdout)
        # a prefix is enough; this one is shared by both tokens
        p = run_cli(["audit", self.path, "--action", A[:30]])
        self.assertIn("2 actions, 6 records", p.stdout)
        p = run_cli(["audit", self.path, "--action", "nope"])
        self.assertEqual(p.returncode, 1)
        self.assertIn("no record matches", p.stderr)

    def test_default_file_and_errors(self):
        conf = os.path.join(self.tmp.name, "c.conf")
        with open(conf, "w") as f:
            f.write(MINIMAL_CONFIG % (self.tmp.name, self.tmp.name))
        p = run_cli(["audit", "-c", conf, "--instance",
                     "i-0aaaaaaaaaaaaaaaa"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("1 action, 4 records", p.stdout)
        p = run_cli(["audit", os.path.join(self.tmp.name, "missing")])
        self.assertEqual(p.returncode, 1)
        self.assertIn("No such file or directory", p.stderr)
        self.assertEqual(run_cli(["audit", "a", "b"]).returncode, 2)


if __name__ == "__main__":
    main()
