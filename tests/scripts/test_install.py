"""scripts/install into a temporary root, the systemd unit (systemd-analyze
verify), the logrotate snippet (a real rotation in a temporary directory)
and the sample config (`jvb-lifecycled check`).

JVB_LIFECYCLED names the built daemon (meson passes it).
"""

import grp
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
SCRIPTS = os.path.join(SRC, "scripts")
DAEMON = os.environ.get("JVB_LIFECYCLED")
NAME = "jvb-lifecycled"
sys.path.insert(0, HERE)
from runner import main  # noqa: E402

RUN_ARGS = " run -c /etc/jvb-lifecycled/jvb-lifecycled.conf"


def need_daemon(test):
    if not DAEMON or not os.access(DAEMON, os.X_OK):
        test.skipTest("missing: JVB_LIFECYCLED (run through meson test)")


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def fake_tools(testcase, names):
    """A directory, first on PATH, whose tools only log their argv to a
    file and succeed.  Returns (bin dir, log path)."""
    d = tempfile.mkdtemp()
    testcase.addCleanup(shutil.rmtree, d)
    log = os.path.join(d, "calls.log")
    for n in names:
        p = os.path.join(d, n)
        with open(p, "w") as f:
            f.write('#!/bin/sh\nprintf "%%s\\n" "%s $*" >> "%s"\n' % (n, log))
        os.chmod(p, 0o755)
    return d, log


def logged(log):
    if not os.path.exists(log):
        return []
    with open(log) as f:
        return f.read().splitlines()


class InstallTest(unittest.TestCase):
    def setUp(self):
        need_daemon(self)
        self.build = os.path.dirname(os.path.abspath(DAEMON))
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.root = os.path.join(tmp.name, "root")
        # Tools a live install would use: in a destdir none may run.
        self.bin, self.log = fake_tools(self, [
            "useradd", "groupadd", "usermod", "chown", "chgrp", "systemctl",
            "getent"])

    def install(self, *args):
        env = dict(os.environ, PATH=self.bin + ":" + os.environ["PATH"])
        p = subprocess.run(
            [os.path.join(SCRIPTS, "install"), "--destdir", self.root,
             "--build-dir", self.build] + list(args),
            capture_output=True, text=True, timeout=120, env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    def test_destdir_install(self):
        self.install()
        r = self.root
        binary = r + "/usr/local/bin/" + NAME
        self.assertEqual(read(binary), read(DAEMON))
        self.assertEqual(mode(binary), 0o755)

        unit = r + "/usr/local/lib/systemd/system/%s.service" % NAME
        self.assertEqual(mode(unit), 0o644)
        src_unit = read(os.path.join(SCRIPTS, NAME + ".service")).decode()
        self.assertEqual(read(unit).decode(), src_unit)   # default prefix
        self.assertIn("\nExecStart=/usr/local/bin/%s%s\n" % (NAME, RUN_ARGS),
                      src_unit)

        conf = r + "/etc/jvb-lifecycled/"
        self.assertEqual(mode(conf), 0o750)
        sample = read(os.path.join(SCRIPTS, NAME + ".conf.sample"))
        self.assertEqual(read(conf + NAME + ".conf.sample"), sample)
        self.assertEqual(read(conf + NAME + ".conf"), sample)
        self.assertEqual(mode(conf + NAME + ".conf"), 0o640)
        self.assertEqual(read(r + "/etc/logrotate.d/" + NAME),
                         read(os.path.join(SCRIPTS, NAME + ".logrotate")))
        for tool in ("jvb-bootstrap", "aws-setup"):
            p = r + "/usr/local/share/%s/%s" % (NAME, tool)
            self.assertEqual(read(p), read(os.path.join(SCRIPTS, tool)))
            self.assertEqual(mode(p), 0o755)
        self.assertTrue(os.path.isfile(
            r + "/usr/local/share/doc/%s/prosody-observer.md" % NAME))

        # Nothing outside the destdir, no user, no systemd.
        self.assertEqual(logged(self.log), [])
        files = sorted(os.path.relpath(os.path.join(d, f), r)
                       for d, _, fs in os.walk(r) for f in fs)
        self.assertEqual(files, sorted([
            "etc/jvb-lifecycled/jvb-lifecycled.conf",
            "etc/jvb-lifecycled/jvb-lifecycled.conf.sample",
            "etc/logrotate.d/jvb-lifecycled",
            "usr/local/bin/jvb-lifecycled",
            "usr/local/lib/systemd/system/jvb-lifecycled.service",
            "usr/local/share/doc/jvb-lifecycled/prosody-observer.md",
            "usr/local/share/jvb-lifecycled/aws-setup",
            "usr/local/share/jvb-lifecycled/jvb-bootstrap",
        ]))

        # Again, over an edited config: the config stays, the rest is fresh.
        with open(conf + NAME + ".conf", "a") as f:
            f.write("# edited by the operator\n")
        edited = read(conf + NAME + ".conf")
        with open(binary, "wb") as f:
            f.write(b"stale")
        p = self.install()
        self.assertIn("exists: kept", p.stdout)
        self.assertEqual(read(conf + NAME + ".conf"), edited)
        self.assertEqual(read(binary), read(DAEMON))

    def test_other_prefix(self):
        self.install("--prefix", "/opt/jl")
        unit = self.root + "/etc/systemd/system/%s.service" % NAME
        text = read(unit).decode()
        self.assertIn("\nExecStart=/opt/jl/bin/%s%s\n" % (NAME, RUN_ARGS),
                      text)
        self.assertNotIn("/usr/local", text)
        self.assertTrue(os.access(self.root + "/opt/jl/bin/" + NAME, os.X_OK))

    def test_bad_arguments(self):
        for args in (("--prefix", "relative"), ("--prefix", "/a b"),
                     ("--prefix", "/x|y"), ("--bogus",)):
            with self.subTest(args=args):
                p = subprocess.run(
                    [os.path.join(SCRIPTS, "install"), "--destdir", self.root,
                     "--build-dir", self.build] + list(args),
                    capture_output=True, text=True, timeout=60)
                self.assertEqual(p.returncode, 2)
        p = subprocess.run(
            [os.path.join(SCRIPTS, "install"), "--destdir", self.root,
             "--build-dir", self.root], capture_output=True, text=True,
            timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("build first", p.stderr)
        self.assertFalse(os.path.exists(self.root + "/etc"))

    def test_unit_verifies(self):
        if shutil.which("systemd-analyze") is None:
            self.skipTest("missing: systemd-analyze")
        self.install()
        unit = self.root + "/usr/local/lib/systemd/system/%s.service" % NAME
        # systemd-analyze checks that ExecStart exists: point it at the
        # staged binary, the one change made to the installed unit.
        text = read(unit).decode().replace(
            "ExecStart=/usr/local/bin/", "ExecStart=%s/usr/local/bin/"
            % self.root)
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        path = os.path.join(d, NAME + ".service")
        with open(path, "w") as f:
            f.write(text)
        p = subprocess.run(["systemd-analyze", "verify", path],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(p.stderr.strip(), "")
        # The hardening score: systemd rates exposure 0 (locked) to 10.
        p = subprocess.run(["systemd-analyze", "security", "--offline=true",
                            "--no-pager", path],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0 and "offline" in p.stderr:
            self.skipTest("missing: systemd-analyze security --offline")
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", p.stdout)
        self.assertIsNotNone(m, p.stdout + p.stderr)
        self.assertLessEqual(float(m.group(1)), 2.0, p.stdout)


class UnitTest(unittest.TestCase):
    """What the unit must say, key by key."""

    def setUp(self):
        self.keys = {}
        section = None
        with open(os.path.join(SCRIPTS, NAME + ".service")) as f:
            for line in f:
                line = line.strip()
                if not line or line[0] in "#;":
                    continue
                if line.startswith("["):
                    section = line
                    continue
                k, v = line.split("=", 1)
                self.keys.setdefault((section, k), []).append(v)

    def get(self, key, section="[Service]"):
        v = self.keys.get((section, key))
        self.assertIsNotNone(v, "%s %s missing" % (section, key))
        return v[-1]

    def test_service(self):
        self.assertEqual(self.get("Type"), "notify")
        self.assertEqual(self.get("WatchdogSec"), "30s")
        self.assertEqual(self.get("TimeoutStopSec"), "30s")
        self.assertEqual(self.get("ExecStart"),
                         "/usr/local/bin/%s%s" % (NAME, RUN_ARGS))
        self.assertEqual(self.get("ExecReload"), "/bin/kill -HUP $MAINPID")
        self.assertEqual(self.get("KillSignal"), "SIGTERM")
        self.assertEqual(self.get("User"), NAME)
        self.assertEqual(self.get("StateDirectory"), NAME)
        self.assertEqual(self.get("LogsDirectory"), NAME)
        self.assertEqual(self.get("Restart"), "on-failure")
        self.assertEqual(self.get("WantedBy", "[Install]"), "multi-user.target")

    def test_hardening(self):
        for k, v in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                     ("ProtectHome", "yes"), ("PrivateTmp", "yes"),
                     ("PrivateDevices", "yes"), ("CapabilityBoundingSet", ""),
                     ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
                     ("MemoryDenyWriteExecute", "yes"),
                     ("SystemCallArchitectures", "native")):
            with self.subTest(key=k):
                self.assertEqual(self.get(k), v)
        self.assertIn("@system-service", self.keys[("[Service]",
                                                    "SystemCallFilter")])


class LogrotateTest(unittest.TestCase):
    def test_rotation_reopens_through_systemd(self):
        if shutil.which("logrotate") is None:
            self.skipTest("missing: logrotate")
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        logs = os.path.join(d, "log")
        os.mkdir(logs, 0o750)
        user = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        # The snippet as shipped, but for its directory and its user (that
        # user does not exist on a test machine).
        text = read(os.path.join(SCRIPTS, NAME + ".logrotate")).decode()
        self.assertIn("/var/log/jvb-lifecycled/*.jsonl", text)
        text = text.replace("/var/log/jvb-lifecycled", logs)
        text = text.replace("jvb-lifecycled jvb-lifecycled",
                            "%s %s" % (user, group))
        conf = os.path.join(d, "logrotate.conf")
        with open(conf, "w") as f:
            f.write(text)
        audit = os.path.join(logs, "audit.jsonl")
        with open(audit, "w") as f:
            f.write('{"event":"received"}\n')
        fakebin, log = fake_tools(self, ["systemctl"])
        env = dict(os.environ, PATH=fakebin + ":" + os.environ["PATH"])
        p = subprocess.run(["logrotate", "-f", "-s",
                            os.path.join(d, "state"), conf],
                           capture_output=True, text=True, timeout=60,
                           env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        rotated = [f for f in os.listdir(logs) if f.startswith("audit.jsonl-")]
        self.assertEqual(len(rotated), 1, os.listdir(logs))
        self.assertEqual(read(os.path.join(logs, rotated[0])),
                         b'{"event":"received"}\n')
        self.assertEqual(read(audit), b"")
        self.assertEqual(mode(audit), 0o640)
        self.assertEqual(logged(log),
                         ["systemctl reload jvb-lifecycled.service"])


class SampleConfigTest(unittest.TestCase):
    def setUp(self):
        need_daemon(self)
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        self.dir = d
        pw = os.path.join(d, "xmpp-password")
        fd = os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, b"not-a-real-password")
        os.close(fd)
        with open(os.path.join(SCRIPTS, NAME + ".conf.sample")) as f:
            self.sample = f.read()
        self.pw = pw

    def check(self, text):
        path = os.path.join(self.dir, "test.conf")
        with open(path, "w") as f:
            f.write(text.replace("/etc/jvb-lifecycled/xmpp-password",
                                 self.pw))
        return subprocess.run([DAEMON, "check", "-c", path],
                              capture_output=True, text=True, timeout=60)

    def test_sample_passes_check(self):
        p = self.check(self.sample)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("configuration OK", p.stdout)

    def test_optional_keys_shown_are_valid(self):
        # Every ";key = value" line, uncommented, still passes.
        text, n = re.subn(r"(?m)^;([a-z_]+ = )", r"\1", self.sample)
        self.assertGreater(n, 10)
        p = self.check(text)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_check_catches_a_broken_sample(self):
        # The check above can fail: a wrong value is reported.
        p = self.check(self.sample.replace("on_timeout = continue",
                                           "on_timeout = maybe"))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("on_timeout", p.stderr + p.stdout)

    def test_every_key_documented(self):
        src = os.path.join(SRC, "handler", "config.c")
        if not os.path.exists(src):
            self.skipTest("missing: handler/config.c")
        with open(src) as f:
            keys = re.findall(r'\{ "([a-z]+)", "([a-z_]+)", T_', f.read())
        self.assertGreater(len(keys), 20)
        section = None
        documented = set()
        for line in self.sample.splitlines():
            m = re.match(r"^\[([a-z]+)\]$", line)
            if m:
                section = m.group(1)
                continue
            m = re.match(r"^;?([a-z_]+) = ", line)
            if m:
                documented.add((section, m.group(1)))
        self.assertEqual(set(keys) - documented, set())


class InstallLintTest(unittest.TestCase):
    def test_shellcheck(self):
        if shutil.which("shellcheck") is None:
            self.skipTest("missing: shellcheck")
        p = subprocess.run(["shellcheck", os.path.join(SCRIPTS, "install")],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    main()
