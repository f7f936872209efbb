"""Driver for jvb-lifecycled itself in end-to-end tests.

    d = Daemon(emu, workdir, bridge_port=p, config={"drain": {...}})
    d.start()                       # waits for "ready" in its log
    d.audit()                       # the audit trail, parsed
    d.wait_audit("completed", token=t, timeout=30)
    d.stop()                        # SIGTERM; returns the exit status
    d.kill()                        # SIGKILL (crash tests)

The binary is $JL_DAEMON (set by meson), else <repo>/build/jvb-lifecycled.
Credentials reach it through the environment (emu.daemon_env()), never the
command line.  Its log goes to <workdir>/<name>.log; the config is written
to <workdir>/<name>.conf with the password in a 0600 file.  Under
AddressSanitizer a leak or error makes the exit status non-zero, which is
why tests assert stop() == 0.
"""

import json
import os
import re
import signal
import subprocess
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def daemon_binary():
    return os.environ.get("JL_DAEMON") or os.path.join(
        REPO, "build", "jvb-lifecycled")


class Daemon:
    def __init__(self, emu, workdir, name="daemon", bridge_port=8080,
                 config=None, env=None, xmpp=None):
        self.emu = emu
        self.workdir = workdir
        self.name = name
        self.conf_path = os.path.join(workdir, name + ".conf")
        self.log_path = os.path.join(workdir, name + ".log")
        self.audit_path = os.path.join(workdir, name + ".audit.jsonl")
        self.state_dir = os.path.join(workdir, name + ".state")
        self.proc = None
        self.sections = {
            "aws": {
                "region": emu.region,
                "queue_url": emu.queue_url,
                "endpoint_url": emu.endpoint,
                "max_attempts": "5",
                "call_budget": "30s",
            },
            "bridge": {
                "port": str(bridge_port),
                "timeout": "2s",
                "unreachable_timeout": "10s",
                "stats_interval": "1s",
                "shutting_down_delay": "2s",
            },
            "drain": {
                "max_duration": "10m",
                "poll_interval": "1s",
            },
            "launch": {"timeout": "60s"},
            "daemon": {
                "state_dir": self.state_dir,
                "audit_log": self.audit_path,
                "log_level": "debug",
                "admin": "off",
                "visibility_timeout": "60s",
                "receive_wait": "2s",
            },
        }
        if xmpp is not None:
            pw = os.path.join(workdir, name + ".xmpp-password")
            with open(os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                              0o600), "w") as f:
                f.write(xmpp.pop("password") + "\n")
            xmpp["password_file"] = pw
            self.sections["xmpp"] = xmpp
        for section, keys in (config or {}).items():
            self.sections.setdefault(section, {})
            for k, v in keys.items():
                if v is None:
                    self.sections[section].pop(k, None)
                else:
                    self.sections[section][k] = str(v)
        self.env = dict(os.environ)
        # nothing from the developer's own AWS setup may leak in
        for k in list(self.env):
            if k.startswith("AWS_"):
                del self.env[k]
        self.env["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(
            workdir, "no-credentials")
        self.env["AWS_CONFIG_FILE"] = os.path.join(workdir, "no-config")
        self.env["AWS_EC2_METADATA_DISABLED"] = "true"
        self.env.update(emu.daemon_env())
        self.env.update(env or {})
        self._log_offset = 0

    def write_config(self):
        lines = []
        for section, keys in self.sections.items():
            lines.append("[%s]" % section)
            lines.extend("%s = %s" % kv for kv in keys.items())
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, wait_ready=True, timeout=20):
        self.write_config()
        self._log = open(self.log_path, "ab")
        self._log_offset = os.path.getsize(self.log_path)
        self.proc = subprocess.Popen(
            [daemon_binary(), "run", "-c", self.conf_path],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
            env=self.env)
        if wait_ready:
            self.wait_log(r"ready: queue", timeout=timeout)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=20, since_start=True):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_text()
            if since_start:
                text = text[self._log_offset:]
            m = rx.search(text)
            if m:
                return m
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError("%s exited (%s) before %r; log:\n%s" % (
                    self.name, self.proc.returncode, pattern, text[-4000:]))
            if time.monotonic() >= deadline:
                raise AssertionError("%s: no %r in %ss; log:\n%s" % (
                    self.name, pattern, timeout, text[-4000:]))
            time.sleep(0.05)

    def audit(self):
        try:
            with open(self.audit_path) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def audit_for(self, token=None, instance=None):
        return [r for r in self.audit()
                if (token is None or r.get("action") == token) and
                (instance is None or r.get("instance") == instance)]

    def steps(self, token=None, instance=None):
        return [r["step"] for r in self.audit_for(token, instance)]

    def wait_audit(self, step, token=None, instance=None, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            for r in self.audit_for(token, instance):
                if r["step"] == step:
                    return r
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError("%s exited (%s) before audit step %r;"
                                     " log:\n%s" % (
                                         self.name, self.proc.returncode,
                                         step, self.log_text()[-4000:]))
            if time.monotonic() >= deadline:
                raise AssertionError("%s: no audit step %r for %s in %ss; "
                                     "steps: %s; log:\n%s" % (
                                         self.name, step, token or instance,
                                         timeout,
                                         self.steps(token, instance),
                                         self.log_text()[-4000:]))
            time.sleep(0.05)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=15):
        """SIGTERM and wait: the exit status (None if never started)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._log.close()
                raise AssertionError("%s did not stop within %ss" % (
                    self.name, timeout))
        self._log.close()
        return self.proc.returncode

    def kill(self):
        self.killed = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc is not None:
            self._log.close()
