"""A whole fleet for benchmarks: the AWS emulator (moto with the lifecycle
simulator, in this process), one Auto Scaling group of N instances whose
private addresses are loopback addresses, one fakebridge process playing
the N bridges on those addresses (the bridge swarm), optionally Prosody with
the brewery, and jvb-lifecycled.

    f = Fleet(n=300, workdir=d, cidr="127.64.0.0/22").start()
    try:
        f.scale_in_all()                # every instance at once
        ...
    finally:
        f.stop()

It reuses the test harness (tests/harness): AwsEmulator, FakeBridges,
Daemon, Prosody.  Addresses: small fleets take a 127.0.N.0/24 from
harness.net like any test; bigger ones a block of their own outside
127.0.0.0/16 (see bench_block()), held with a lock file so two benchmark
runs never share it.
"""

import fcntl
import ipaddress
import json
import os
import random
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))

from harness.awsemu import AwsEmulator  # noqa: E402
from harness.daemon import Daemon  # noqa: E402
from harness.fakebridge import FakeBridges  # noqa: E402
from harness.net import LOCK_DIR, allocate, free_port  # noqa: E402
from harness.prosody import Prosody  # noqa: E402

GROUP = "jvb"
PROSODY_DOMAIN = "auth.jitsi.test"
HOOK = "jvb-drain"

# What the benchmark changes from the daemon's compiled-in defaults, and
# why; everything else is the default (None removes a harness setting).
BENCH_DAEMON_CONFIG = {
    "aws": {"call_budget": None},
    "bridge": {
        "timeout": None,                # 5 s
        "unreachable_timeout": None,    # 120 s
        "stats_interval": None,         # 5 s, as the bridges below
        "shutting_down_delay": None,    # 60 s, as the bridges below
    },
    "drain": {"max_duration": None, "poll_interval": None},  # 2 h, 1 s
    "daemon": {
        "log_level": "info",            # the default; the harness says debug
        "visibility_timeout": None,     # 300 s
        "receive_wait": None,           # 20 s
    },
}

# The bridges: the real JVB's defaults (stats every 5 s, 60 s shutting-down
# delay, nobody moved by jicofo) and a short request log (memory).
BENCH_BRIDGE_DEFAULTS = {
    "stats_interval_s": 5,
    "shutting_down_delay_s": 60,
    "request_log_max": 16,
}


def speed_up_moto():
    """moto's SQS reads the clock through datetime arithmetic for every
    message at every look (visible? delayed?): a ReceiveMessage costs
    ~0.6 s of CPU with 1,000 messages in flight, which made the emulator,
    not the daemon, the bottleneck of the 1,000-bridge run.  Give it the
    same value (ms since the epoch, for "now") from time.time().  Only
    the emulator's speed changes; nothing the daemon sees does.
    JL_BENCH_MOTO_AS_IS=1 leaves moto as it is (to reproduce a slow AWS)."""
    if os.environ.get("JL_BENCH_MOTO_AS_IS") == "1":
        return
    import moto.sqs.models as sqs_models
    orig = getattr(sqs_models, "unix_time_millis", None)
    if orig is None or getattr(orig, "_bench_fast", False):
        return

    def fast(dt=None):
        return time.time() * 1000.0 if dt is None else orig(dt)

    fast._bench_fast = True
    sqs_models.unix_time_millis = fast


def _merge(base, extra):
    out = {k: dict(v) for k, v in base.items()}
    for section, keys in (extra or {}).items():
        out.setdefault(section, {}).update(keys)
    return out


class Block:
    """A block of loopback addresses held by this process."""

    def __init__(self, cidr, release):
        self.cidr = cidr
        self._release = release

    def release(self):
        if self._release is not None:
            self._release()
            self._release = None


def bench_block(n):
    """A block big enough for n instances (moto hands out addresses from
    .4 on): 127.64.0.0/prefix, one benchmark at a time."""
    prefix = 24
    while (1 << (32 - prefix)) - 8 < n:
        prefix -= 1
    if prefix < 16:
        raise ValueError("at most ~65000 bridges")
    os.makedirs(LOCK_DIR, mode=0o1777, exist_ok=True)
    fd = os.open(os.path.join(LOCK_DIR, "bench-127.64.lock"),
                 os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise RuntimeError("another benchmark holds 127.64.0.0/16 "
                           "(%s/bench-127.64.lock)" % LOCK_DIR)
    return Block("127.64.0.0/%d" % prefix, lambda: os.close(fd))


class Fleet:
    def __init__(self, n, workdir, participants=(2, 10), heartbeat_timeout=60,
                 daemon_config=None, bridge_defaults=None, xmpp=False,
                 seed=1, big_block=None, name="daemon", daemon_env=None,
                 fanout=True):
        """n bridges with a seeded random number of participants each in
        [participants[0], participants[1]].  xmpp: start Prosody; the
        bridges (one shared account, as JVBs) and the daemon (its observer
        account) join its brewery, and the bridges publish presence.
        fanout=False: the bridges get no presence from each other
        (mod_bench_fanout), the daemon still gets everyone's."""
        self.n = n
        self.workdir = workdir
        self.rng = random.Random(seed)
        self.participants_range = participants
        self.heartbeat_timeout = heartbeat_timeout
        self.daemon_config = _merge(BENCH_DAEMON_CONFIG, daemon_config)
        self.daemon_config.setdefault("daemon", {})["max_in_flight"] = \
            str(max(500, n))
        self.bridge_defaults = dict(BENCH_BRIDGE_DEFAULTS,
                                    **(bridge_defaults or {}))
        self.xmpp = xmpp
        self.fanout = fanout
        self.prosody = None
        self.name = name
        self.daemon_env = daemon_env
        self.big_block = big_block if big_block is not None else n > 200
        self.block = None
        self.net = None
        self.emu = None
        self.fb = None
        self.daemon = None
        self.instances = []
        self.ips = {}
        self.bridges = {}           # instance id -> harness Bridge
        self.participants = {}      # instance id -> count at start
        self.port = None
        self.actions = {}           # token -> Action at scale-in
        self.scaled_at = None

    # -- setting up ---------------------------------------------------------

    def start(self, daemon=True):
        try:
            self._start(daemon)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, daemon):
        speed_up_moto()
        self.net = allocate()
        if self.big_block:
            self.block = bench_block(self.n)
            cidr = self.block.cidr
        else:
            cidr = self.net.cidr
        self.emu = AwsEmulator(self.net).start()
        self.instances = self.emu.create_group(GROUP, self.n, subnet=cidr)
        self.emu.put_hook(GROUP, HOOK, transition="terminating",
                          heartbeat_timeout=self.heartbeat_timeout,
                          default_result="ABANDON")
        self.ips = {i: self.emu.instance_ip(i) for i in self.instances}
        net = ipaddress.ip_network(cidr)
        for i, ip in self.ips.items():
            if ipaddress.ip_address(ip) not in net:
                raise RuntimeError("moto gave %s the address %s outside %s"
                                   % (i, ip, cidr))
        if self.xmpp:
            muc = ""
            if not self.fanout:
                muc = ('    modules_enabled = { "bench_fanout" }\n'
                       '    bench_bridge_account = "jvb@%s"' % PROSODY_DOMAIN)
            self.prosody = Prosody(
                self.net, tls=False, domain=PROSODY_DOMAIN, muc_config=muc,
                extra_config="plugin_paths = { %s }" % json.dumps(HERE)
                if not self.fanout else "").start()
            self.prosody.register("jvb", "jvb-secret")
            self.prosody.register("lifecycled", "observer-secret")
        self.port = free_port("127.0.0.1")
        lo, hi = self.participants_range
        specs = []
        for iid in self.instances:
            p = self.rng.randint(lo, hi)
            self.participants[iid] = p
            spec = {"address": self.ips[iid], "port": self.port,
                    "nickname": iid, "participants": p}
            specs.append(spec)
        defaults = dict(self.bridge_defaults)
        if self.prosody is not None:
            defaults["xmpp"] = self.bridge_xmpp()
        # Bridges started in the same instant refresh their stats, and
        # publish presence, in the same instant every interval: storms no
        # real fleet makes.  Start them in ten batches over one interval.
        self.fb = FakeBridges(config={"defaults": defaults, "bridges": []},
                              start_timeout=120.0,
                              log_path=os.path.join(self.workdir,
                                                    "fakebridge.log"))
        batches = 10 if self.n >= 10 else 1
        step = float(self.bridge_defaults.get("stats_interval_s", 5)) / \
            batches
        for k in range(batches):
            t = time.monotonic()
            self.fb.add_many(specs[k::batches], defaults=defaults)
            if k + 1 < batches:
                time.sleep(max(0.0, step - (time.monotonic() - t)))
        for s in self.fb.bridges():
            self.bridges[s["nickname"]] = self.fb.bridge(s["id"])
        if len(self.bridges) != self.n:
            raise RuntimeError("the swarm plays %d bridges, not %d"
                               % (len(self.bridges), self.n))
        if daemon:
            self.start_daemon()

    def bridge_xmpp(self):
        """The bridges' xmpp option: the shared account, plain c2s."""
        p = self.prosody
        return {"host": p.host, "port": p.port, "domain": p.domain,
                "username": "jvb",
                "password_file": p.password_file("jvb", self.workdir),
                "muc_jids": [p.brewery], "tls": "off"}

    def daemon_xmpp(self):
        """The daemon's [xmpp] section: its own observer account."""
        p = self.prosody
        return {"server": p.host, "port": str(p.port), "domain": p.domain,
                "username": "lifecycled", "password": "observer-secret",
                "brewery": p.brewery, "tls": "off",
                "nickname": "jvb-lifecycled-bench"}

    def start_daemon(self):
        xmpp = self.daemon_xmpp() if self.prosody else None
        # the admin endpoint is on by default: keep it, on a port of ours
        self.daemon_config["daemon"].setdefault(
            "admin", "127.0.0.1:%d" % free_port("127.0.0.1"))
        self.daemon = Daemon(self.emu, self.workdir, name=self.name,
                             bridge_port=self.port,
                             config=self.daemon_config, xmpp=xmpp,
                             env=self.daemon_env)
        self.daemon.start(timeout=60)
        return self.daemon

    @property
    def pid(self):
        return self.daemon.proc.pid

    def stop(self):
        """Everything down, the daemon first; its exit status (None if it
        never ran)."""
        rc = None
        try:
            if self.daemon is not None:
                rc = self.daemon.stop(timeout=30)
        finally:
            if self.fb is not None:
                self.fb.stop(timeout=15)
                self.fb = None
            if self.prosody is not None:
                self.prosody.stop()
                self.prosody = None
            if self.emu is not None:
                self.emu.stop()
                self.emu = None
            if self.block is not None:
                self.block.release()
                self.block = None
            if self.net is not None:
                self.net.release()
                self.net = None
        return rc

    # -- driving ------------------------------------------------------------

    def scale_in_all(self):
        """Every instance goes to Terminating:Wait at once."""
        self.scaled_at = time.time()
        for iid in self.instances:
            a = self.emu.scale_in(GROUP, iid)
            self.actions[a.token] = a
        return list(self.actions.values())

    def summaries(self):
        return self.fb.bridges()

    def leave(self, iid, over_s):
        return self.bridges[iid].leave(None, over_s=over_s)

    def open_actions(self):
        return [a for a in self.emu.actions()
                if a.token in self.actions and a.state == "waiting"]

    def wait_all_done(self, timeout, on_tick=None, interval=0.5):
        """Until every scaled-in action has ended at the simulator, or
        timeout; the number still open."""
        deadline = time.monotonic() + timeout
        while True:
            if on_tick is not None:
                on_tick()
            left = len(self.open_actions())
            if left == 0 or time.monotonic() >= deadline:
                return left
            time.sleep(interval)

    def bridge_states(self):
        """Full state of every bridge (entered_ms, cut_off, ...), by
        instance id; one control call each, so only after a run."""
        out = {}
        for iid, b in self.bridges.items():
            out[iid] = b.state()
        return out

    def queue_empty(self):
        return self.emu.queue_messages() == {"visible": 0, "in_flight": 0,
                                             "delayed": 0}


def occupants_seen(f):
    """The brewery occupants the daemon counts (its /metrics), or -1."""
    url = "http://%s/metrics" % f.daemon_config["daemon"]["admin"]
    try:
        with urllib.request.urlopen(url, timeout=5.0) as r:
            for line in r.read().decode().splitlines():
                if line.startswith("jvb_lifecycled_brewery_occupants "):
                    return int(float(line.split()[1]))
    except (OSError, ValueError):
        pass
    return -1


def http_json(url, timeout=5.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())
