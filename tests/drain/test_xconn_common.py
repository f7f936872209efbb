"""Shared helpers of the XMPP integration tests: drive test_xconn_probe (the
C program built against drain_dep) and read its JSON-lines events.

Not a test by itself.  The probe's path comes from $JL_XCONN_PROBE.
"""

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from harness.prosody import Prosody, available  # noqa: E402

try:
    from harness.net import allocate
except ImportError:  # pragma: no cover
    def allocate():
        return None

PROBE = os.environ.get("JL_XCONN_PROBE")


def skip_unless_ready(test):
    """Exit 77 (meson: skipped) when an external input is absent."""
    if not available():
        print("prosody is not installed", file=sys.stderr)
        sys.exit(77)
    if PROBE is None or not os.access(PROBE, os.X_OK):
        print("JL_XCONN_PROBE does not name the probe", file=sys.stderr)
        sys.exit(77)
    return test


class Probe:
    """One test_xconn_probe process.  Every wait is bounded."""

    def __init__(self, prosody, user, room=None, nick=None, tls=None,
                 ca_file=None, extra=(), port=None, server=None):
        self.dir = tempfile.mkdtemp(prefix="jl-probe-")
        pwfile = prosody.password_file(user, self.dir)
        args = [PROBE, "--server", server or prosody.host,
                "--port", str(port or prosody.port),
                "--domain", prosody.domain, "--user", user,
                "--password-file", pwfile]
        if tls if tls is not None else prosody.tls:
            args.append("--tls")
            ca = prosody.ca_file if ca_file is None else ca_file
            if ca:
                args += ["--ca-file", ca]
        if room:
            args += ["--room", room, "--nick", nick or "observer"]
        args += list(extra)
        self.stderr_path = os.path.join(self.dir, "stderr.txt")
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._stderr, text=True, bufsize=1)
        self.events = []
        self.cursor = 0
        self._q = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait(lambda e: e["ev"] == "ready", 10)

    def _read(self):
        for line in self.proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                self._q.put(json.loads(line))
            except ValueError:
                self._q.put({"ev": "garbage", "line": line})
        self._q.put({"ev": "eof"})

    def _pull(self, timeout):
        try:
            ev = self._q.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return False
        self.events.append(ev)
        return True

    def cmd(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def mark(self):
        """Where the next wait() starts looking."""
        while self._pull(0):
            pass
        self.cursor = len(self.events)
        return self.cursor

    def wait(self, pred, timeout, what=None):
        """The first event from the cursor on for which pred is true; the
        cursor moves past it.  AssertionError after timeout seconds."""
        deadline = time.monotonic() + timeout
        i = self.cursor
        while True:
            while i < len(self.events):
                ev = self.events[i]
                i += 1
                if pred(ev):
                    self.cursor = i
                    return ev
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    "timed out after %.1f s waiting for %s; events since "
                    "cursor: %s\nprobe stderr (tail):\n%s" % (
                        timeout, what or "an event",
                        self.events[self.cursor:][-15:],
                        self.stderr_text()[-4000:]))
            self._pull(min(left, 0.5))

    def status(self, timeout=10):
        self.mark()
        self.cmd("status")
        return self.wait(lambda e: e["ev"] == "status", timeout, "status")

    def wait_status(self, pred, timeout, what=None):
        """Poll status until pred(status) holds."""
        deadline = time.monotonic() + timeout
        while True:
            st = self.status()
            if pred(st):
                return st
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for %s; last "
                                     "status %s\nprobe stderr (tail):\n%s"
                                     % (what, st,
                                        self.stderr_text()[-4000:]))
            time.sleep(0.25)

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def close(self):
        """quit, and the exit status (killed after 15 s)."""
        if self.proc.poll() is None:
            try:
                self.cmd("quit")
            except (BrokenPipeError, ValueError):
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._stderr.close()
        # The process is gone: the reader sees EOF and ends by itself.
        self._reader.join(5)
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except (OSError, ValueError):
                pass
        return self.proc.returncode


class ProsodyTestCase(unittest.TestCase):
    """A Prosody per test (plain or TLS), stopped whatever happens."""

    tls = False

    def start_prosody(self, tls=None, **kw):
        p = Prosody(allocate(), tls=self.tls if tls is None else tls, **kw)
        self.addCleanup(p.stop)
        p.start()
        return p

    def probe(self, prosody, user, **kw):
        pr = Probe(prosody, user, **kw)
        self.addCleanup(self._close_probe, pr)
        return pr

    def _close_probe(self, pr):
        rc = pr.close()
        # A clean exit: no crash, no sanitizer report.
        self.assertEqual(rc, 0, "probe exit status %s; stderr:\n%s"
                         % (rc, pr.stderr_text()[-4000:]))
        self.assertNotIn("ERROR: AddressSanitizer", pr.stderr_text())
        self.assertNotIn("runtime error:", pr.stderr_text())
