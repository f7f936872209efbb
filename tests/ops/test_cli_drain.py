"""`jvb-lifecycled drain`: the drain policy by hand against the fake
bridge.  By address: drain mode, graceful shutdown, the participants
followed down to empty, exit 0.  --dry-run: only GETs, the bridge stays
as it was, and it ends at --max-duration (or at once when the bridge is
empty).  By instance id: the address comes from EC2 DescribeInstances at
the AWS emulator, and no lifecycle action, hook or message is touched.
SIGINT stops it without undoing anything."""

import os
import signal
import subprocess
import tempfile
import unittest

from ops import (MINIMAL_CONFIG, Daemon, FakeBridges, Stack, allocate,
                 daemon_binary, free_port, main, run_cli, wait_until)

BRIDGE_SETTINGS = """[bridge]
port = %d
timeout = 2s
stats_interval = 1s
shutting_down_delay = 2s
unreachable_timeout = 10s
[drain]
poll_interval = 500ms
max_duration = 1m
"""


def posts(b):
    return [r["path"] for r in b.requests() if r["method"] != "GET"]


class DrainByAddress(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.net = allocate()
        cls.fb = FakeBridges()
        cls.port = free_port()
        cls.tmp = tempfile.TemporaryDirectory(prefix="jl-drain-")
        cls.conf = os.path.join(cls.tmp.name, "c.conf")
        with open(cls.conf, "w") as f:
            f.write(MINIMAL_CONFIG % (cls.tmp.name, cls.tmp.name) +
                    BRIDGE_SETTINGS % cls.port)

    @classmethod
    def tearDownClass(cls):
        cls.fb.stop()
        cls.net.release()
        cls.tmp.cleanup()

    def bridge(self, i, participants):
        b = self.fb.add(self.net.addr(i), port=self.port,
                        nickname="i-%08x" % i, participants=participants,
                        stats_interval_s=1, shutting_down_delay_s=2)
        self.addCleanup(b.remove)
        return b

    def start(self, *args):
        p = subprocess.Popen([daemon_binary(), "drain"] + list(args) +
                             ["-c", self.conf], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             stdin=subprocess.DEVNULL)
        self.addCleanup(self._reap, p)
        return p

    def _reap(self, p):
        if p.poll() is None:
            p.kill()
        p.communicate(timeout=10)

    def test_drain(self):
        b = self.bridge(1, 3)
        p = self.start(b.address)
        b.wait_state("GRACEFUL_SHUTDOWN", timeout=10)
        b.leave(3, over_s=2)
        out, err = p.communicate(timeout=40)
        self.assertEqual(p.returncode, 0, out + err)
        self.assertEqual(err, "")
        self.assertEqual(posts(b), ["/colibri/drain/enable",
                                    "/colibri/shutdown"])
        self.assertEqual(b.state().get("cut_off", 0), 0)
        lines = out.splitlines()
        self.assertEqual(lines[0], "drain %s (bridge at %s:%d), at most 1m00s;"
                         " no lifecycle action is touched"
                         % (b.address, b.address, self.port))
        text = "\n".join(lines)
        for want in ("] enabling drain mode (POST /colibri/drain/enable)",
                     "] requesting a graceful shutdown (POST "
                     "/colibri/shutdown)",
                     "] 3 participants (local endpoints)",
                     "] bridge: GRACEFUL_SHUTDOWN, drain on",
                     # the counters are 1 s snapshots: the state says it
                     "] bridge: SHUTTING_DOWN, drain on"):
            self.assertIn(want, text)
        self.assertRegex(lines[-2], r"^\[\+[\d.]+s\] done: the bridge "
                         r"(emptied|is empty|'s process has exited)")
        self.assertRegex(lines[-1], r"^result: drained in [\d.]+s: the "
                         r"instance can be terminated without cutting "
                         r"anyone off$")

    def test_dry_run_changes_nothing(self):
        b = self.bridge(2, 2)
        p = run_cli(["drain", b.address, "--dry-run", "--max-duration",
                     "3s", "-c", self.conf])
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertEqual(posts(b), [])
        self.assertGreaterEqual(len(b.requests()), 2)
        st = b.state()
        self.assertEqual(st["state"], "RUNNING")
        self.assertFalse(st["drain"])
        self.assertEqual(st["participants"], 2)
        self.assertIn("DRY RUN (the bridge is only read)", p.stdout)
        self.assertIn("] dry run: would enable drain mode and request a "
                      "graceful shutdown; only watching", p.stdout)
        self.assertIn("] 2 participants (local endpoints)", p.stdout)
        self.assertIn("done: max_duration (3s) reached with 2 participants "
                      "still on it", p.stdout)
        self.assertIn("result: NOT drained (max_duration reached)",
                      p.stdout)
        self.assertNotIn("enabling drain mode", p.stdout)

    def test_dry_run_empty_bridge(self):
        b = self.bridge(3, 0)
        p = run_cli(["drain", b.address, "--dry-run", "-c", self.conf])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(posts(b), [])
        self.assertEqual(b.state()["state"], "RUNNING")
        self.assertIn("result: the bridge is empty; as a dry run nothing "
                      "was asked of it", p.stdout)

    def test_interrupt(self):
        b = self.bridge(4, 2)
        p = self.start(b.address)
        b.wait_state("GRACEFUL_SHUTDOWN", timeout=10)
        wait_until(lambda: len(b.requests()) >= 3, 10, what="a stats poll")
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
        self.assertEqual(p.returncode, 130, out + err)
        self.assertIn("interrupted (SIGINT) in phase draining; nothing is "
                      "undone: the bridge stays as it was asked to be", out)
        self.assertEqual(b.state()["state"], "GRACEFUL_SHUTDOWN")

    def test_usage(self):
        self.assertEqual(run_cli(["drain"]).returncode, 2)
        p = run_cli(["drain", "nowhere!", "-c", self.conf])
        self.assertEqual(p.returncode, 1)
        self.assertIn("neither an instance id", p.stderr)
        p = run_cli(["drain", "127.0.0.1", "--max-duration", "soon", "-c",
                     self.conf])
        self.assertEqual(p.returncode, 2)


class DrainByInstance(unittest.TestCase):
    def test_by_instance_id(self):
        s = Stack(self, bridges=2, participants=[1, 1])
        # the daemon's configuration, but no daemon: only the CLI runs
        d = Daemon(s.emu, s.dir, name="cli", bridge_port=s.port,
                   config={"drain": {"poll_interval": "500ms"}})
        d.write_config()
        victim = s.bridge(0)
        s.emu.clear_calls()
        p = subprocess.Popen([daemon_binary(), "drain", s.instances[0],
                              "-c", d.conf_path], env=d.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, stdin=subprocess.DEVNULL)
        try:
            victim.wait_state("GRACEFUL_SHUTDOWN", timeout=20)
            victim.leave()
            out, err = p.communicate(timeout=40)
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        self.assertEqual(p.returncode, 0, out + err)
        self.assertIn("] looking up %s (EC2 DescribeInstances)"
                      % s.instances[0], out)
        self.assertIn("] %s is running, its bridge at %s:%d"
                      % (s.instances[0], victim.address, s.port), out)
        self.assertIn("result: drained in", out)
        self.assertEqual(posts(victim), ["/colibri/drain/enable",
                                         "/colibri/shutdown"])
        self.assertEqual(s.bridge(1).requests(), [])
        # AWS was asked where the instance is, and nothing else
        ops = sorted(set(c["operation"] for c in s.emu.calls()))
        self.assertEqual(ops, ["DescribeInstances"])
        self.assertEqual(s.emu.queue_messages()["in_flight"], 0)
        self.assertEqual([a.state for a in s.emu.actions()], [])

        # an instance EC2 does not know: a final answer, exit 1
        p = run_cli(["drain", "i-0123456789abcdef0", "-c", d.conf_path],
                    env=d.env)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("EC2 does not know instance i-0123456789abcdef0",
                      p.stdout)
        self.assertIn("result: NOT drained", p.stdout)


if __name__ == "__main__":
    main()
