"""The command line: `run` starts, logs that it is ready and exits 0 on
SIGTERM within a second; SIGHUP reopens the audit trail; `check` accepts a
good configuration and lists every error of a bad one with a non-zero exit;
--version and --help."""
import os
import signal
import subprocess
import tempfile
import time
import unittest

DAEMON = os.environ.get("JL_DAEMON", "build/jvb-lifecycled")


class Cli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="jl-cli-")
        self.addCleanup(self.tmp.cleanup)
        self.dir = self.tmp.name
        self.audit = os.path.join(self.dir, "audit.jsonl")
        self.conf = os.path.join(self.dir, "ok.conf")
        with open(self.conf, "w") as f:
            f.write(f"""[aws]
region = us-east-1
queue_url = http://127.0.0.1:9/123456789012/q
[daemon]
state_dir = {self.dir}/state
audit_log = {self.audit}
admin = off
""")

    def start(self, *args):
        p = subprocess.Popen([DAEMON, *args], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        return p

    def wait_line(self, p, needle, timeout=10):
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            seen.append(line)
            if needle in line:
                return seen
        self.fail(f"no {needle!r} in output: {seen}")

    def test_run_ready_then_sigterm(self):
        p = self.start("run", "-c", self.conf)
        self.wait_line(p, "ready")
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=5)
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertEqual(rc, 0)
        self.assertTrue(os.path.isdir(os.path.join(self.dir, "state")))

    def test_sigint_stops_too(self):
        p = self.start("run", "-c", self.conf)
        self.wait_line(p, "ready")
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(timeout=5), 0)

    def test_sighup_reopens(self):
        p = self.start("run", "-c", self.conf)
        self.wait_line(p, "ready")
        os.rename(self.audit, self.audit + ".1")
        p.send_signal(signal.SIGHUP)
        self.wait_line(p, "reopened")
        self.assertTrue(os.path.exists(self.audit))
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=5), 0)

    def test_run_refuses_bad_config(self):
        bad = os.path.join(self.dir, "bad.conf")
        with open(bad, "w") as f:
            f.write("[aws]\nregion = eu-west-1\n")
        p = subprocess.run([DAEMON, "run", "-c", bad], capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"{bad}:1: [aws] queue_url: required key missing",
                      p.stderr)

    def test_check(self):
        p = subprocess.run([DAEMON, "check", "-c", self.conf],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "configuration OK\n")
        bad = os.path.join(self.dir, "bad.conf")
        with open(bad, "w") as f:
            f.write("[aws]\nregion = eu-west-1\nqueue_url = nope\n"
                    "[bridge]\nport = 0\nfoo = 1\n")
        p = subprocess.run([DAEMON, "check", "-c", bad], capture_output=True,
                           text=True, timeout=10)
        self.assertNotEqual(p.returncode, 0)
        self.assertNotIn("configuration OK", p.stdout)
        for want in (f"{bad}:3: [aws] queue_url", f"{bad}:5: [bridge] port",
                     f"{bad}:6: [bridge] foo: unknown key",
                     "[daemon] state_dir: required key missing",
                     "5 errors in the configuration"):
            self.assertIn(want, p.stderr)

    def test_version_help(self):
        p = subprocess.run([DAEMON, "--version"], capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"^jvb-lifecycled \d+\.\d+\.\d+\n$")
        p = subprocess.run([DAEMON, "--help"], capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertIn("run -c FILE", p.stdout)
        p = subprocess.run([DAEMON, "frobnicate"], capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown command", p.stderr)


if __name__ == "__main__":
    unittest.main()
