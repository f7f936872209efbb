"""The whole local stack for end-to-end tests: the AWS emulator with its
lifecycle simulator, an Auto Scaling group whose instances are fake bridges
on their 127.0.N.x addresses, optionally Prosody, and jvb-lifecycled.

    class T(unittest.TestCase):
        def test_x(self):
            s = Stack(self, bridges=3, participants=[6, 2, 2])
            s.start_daemon(config={"drain": {"max_duration": "2m"}})
            b = s.bridge(0)                      # Bridge handle (fakebridge)
            action = s.emu.scale_in(s.group, s.instances[0])
            s.daemon.wait_audit("completed", token=action.token)

Everything is stopped by the test's cleanups, the daemon first (its exit
status must be 0: a leak or a sanitizer report under ASan fails the test).
"""

import os
import tempfile
import time

from harness.awsemu import AwsEmulator
from harness.daemon import Daemon
from harness.fakebridge import FakeBridges
from harness.net import allocate, free_port
from harness.prosody import Prosody

GROUP = "jvb"
HOOK_TERMINATE = "jvb-drain"
HOOK_LAUNCH = "jvb-launch"


def wait_until(predicate, timeout, interval=0.1, what="condition"):
    """predicate()'s first true value, polled until timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("%s not reached in %.1fs" % (what, timeout))
        time.sleep(interval)


class Stack:
    def __init__(self, test, bridges=3, participants=0, heartbeat_timeout=30,
                 envelope="direct", launch_hook=False, xmpp=None,
                 bridge_options=None, default_result="ABANDON",
                 prosody_options=None):
        self.test = test
        if os.environ.get("JL_KEEP_TMP"):
            # debugging: keep logs, configs and audit trails
            self.dir = tempfile.mkdtemp(prefix="jl-e2e-")
            print("stack files kept in", self.dir)
        else:
            self.tmp = tempfile.TemporaryDirectory(prefix="jl-e2e-")
            test.addCleanup(self.tmp.cleanup)
            self.dir = self.tmp.name
        self.net = allocate()
        self.emu = AwsEmulator(self.net).start()
        test.addCleanup(self.emu.stop)
        self.prosody = None
        if xmpp:
            # xmpp: "plain" or "tls" (STARTTLS, verified with the test CA)
            self.prosody = Prosody(self.net, tls=(xmpp == "tls"),
                                   **(prosody_options or {})).start()
            test.addCleanup(self.prosody.stop)
            self.prosody.register("jvb", "jvb-secret")
            self.prosody.register("lifecycled", "observer-secret")
        self.port = free_port("127.0.0.1")
        self.group = GROUP
        self.instances = self.emu.create_group(GROUP, bridges)
        self.emu.put_hook(GROUP, HOOK_TERMINATE, transition="terminating",
                          heartbeat_timeout=heartbeat_timeout,
                          default_result=default_result, envelope=envelope)
        if launch_hook:
            self.emu.put_hook(GROUP, HOOK_LAUNCH, transition="launching",
                              heartbeat_timeout=heartbeat_timeout,
                              default_result="ABANDON", envelope=envelope)
        self.fb = FakeBridges()
        test.addCleanup(self.fb.stop)
        if not isinstance(participants, (list, tuple)):
            participants = [participants] * bridges
        self.bridges = {}
        for i, iid in enumerate(self.instances):
            self.bridges[iid] = self.add_bridge(
                iid, participants[i] if i < len(participants) else 0,
                **(bridge_options or {}))
        self.daemon = None
        self.daemons = []

    def bridge_xmpp(self, username="jvb"):
        """The fake bridge's xmpp option: the bridges' shared account."""
        p = self.prosody
        if p is None:
            return False
        x = {"host": p.host, "port": p.port, "domain": p.domain,
             "username": username,
             "password_file": p.password_file(username, self.dir),
             "muc_jids": [p.brewery],
             "tls": "on" if p.tls else "off"}
        if p.tls:
            x["ca_file"] = p.ca_file
        return x

    def add_bridge(self, instance_id, participants=0, **options):
        opts = {"stats_interval_s": 1, "shutting_down_delay_s": 2,
                "move_after_s": 1}
        opts.update(options)
        if "xmpp" not in opts and self.prosody is not None:
            opts["xmpp"] = self.bridge_xmpp()
        b = self.fb.add(self.emu.instance_ip(instance_id), port=self.port,
                        nickname=instance_id, participants=participants,
                        **opts)
        return b

    def bridge(self, i):
        return self.bridges[self.instances[i]]

    def daemon_xmpp(self):
        """The daemon's [xmpp] section (its own observer account)."""
        p = self.prosody
        if p is None:
            return None
        x = {"server": p.host, "port": str(p.port), "domain": p.domain,
             "username": "lifecycled", "password": "observer-secret",
             "brewery": p.brewery, "tls": "required" if p.tls else "off",
             "nickname": "jvb-lifecycled-test", "ping_interval": "10s"}
        if p.tls:
            x["ca_file"] = p.ca_file
        return x

    def start_daemon(self, config=None, name="daemon", wait_ready=True,
                     env=None):
        d = Daemon(self.emu, self.dir, name=name, bridge_port=self.port,
                   config=config, env=env, xmpp=self.daemon_xmpp())
        d.start(wait_ready=wait_ready)
        self.test.addCleanup(self._stop_daemon, d)
        self.daemons.append(d)
        if self.daemon is None:
            self.daemon = d
        return d

    def _stop_daemon(self, d):
        if d.proc is None or getattr(d, "killed", False):
            return
        rc = d.stop()
        self.test.assertEqual(rc, 0, "%s exit status %s; log tail:\n%s" % (
            d.name, rc, d.log_text()[-3000:]))
