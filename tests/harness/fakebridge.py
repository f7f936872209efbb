"""Driver for the fake Jitsi Videobridge (tests/fakebridge/, jvb-api.md §8).

One `fakebridge` process plays any number of bridges; each listens on its
own loopback address (take them from harness.net) and port, serves the JVB
private REST API there, and optionally joins the brewery MUC over XMPP.

    from harness.fakebridge import FakeBridges
    from harness.net import allocate

    net = allocate()
    fb = FakeBridges()                  # starts it, waits for its ready file
    self.addCleanup(fb.stop)
    b = fb.add(net.addr(1), nickname="i-0abc", participants=3,
               stats_interval_s=1, shutting_down_delay_s=2)
    b.url                               # "http://127.0.N.1:8080"
    b.join(2); b.leave(5, over_s=3); b.leave()   # leave(): all, at once
    b.set(min_participants=1, rest_enabled=False)
    b.set_mode("hang")                  # "normal", "404", "hang", "down"
    b.fault("/colibri/shutdown", status=500, count=1)
    b.state()["state"]                  # "RUNNING" ... "EXITED"
    b.requests()                        # [{"method", "path", "status", ...}]
    b.wait_state("EXITED", timeout=10)
    b.kill()                            # like SIGTERM on the JVB
    fb.stop()

Options of add() and set() (seconds may be fractional):
    port (8080; 0 picks one), id (default: nickname, else "addr:port"),
    nickname, participants, initial_drain, request_log_max,
    rest_enabled, shutdown_enabled, drain_enabled, health_enabled,
    version_enabled, debug_enabled (defaults: a correctly set-up bridge,
    all True), legacy_shutting_down, legacy_no_drain, healthy, mode,
    version, release, region, relay_id, max_duration_s (86400),
    min_participants (0), shutting_down_delay_s (60), stats_interval_s (5),
    move_after_s (-1: jicofo moves nobody), conference_size (5),
    octo_endpoints (0), stress_per_endpoint (0.01),
    xmpp = {"host", "port", "domain", "username", "password_file",
            "muc_jids", "tls": "off"|"on"|"trust", "ca_file"} or False.
set() takes only the live ones (not port, id, nickname, participants,
initial_drain, request_log_max, xmpp).

The binary is `binary`, else $JL_FAKEBRIDGE (set by meson), else
<repo>/build/tests/fakebridge/fakebridge.
"""

import atexit
import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse

__all__ = ["FakeBridges", "Bridge", "FakeBridgeError", "rest_call"]

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


class FakeBridgeError(RuntimeError):
    """The control API refused a request (status and message)."""

    def __init__(self, status, message):
        super().__init__("fakebridge control API: %d %s" % (status, message))
        self.status = status
        self.message = message


def rest_call(host, port, method, path, body=None, headers=None,
              timeout=5.0):
    """One HTTP request like the daemon would make; (status, headers, body).

    body may be bytes, str, or an object (sent as JSON with
    Content-Type: application/json unless headers say otherwise).
    Transport errors (refused, timeout) are raised as they come.
    """
    hdrs = dict(headers or {})
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        hdrs.setdefault("Content-Type", "application/json")
    if isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, \
            data
    finally:
        conn.close()


def _default_binary():
    env = os.environ.get("JL_FAKEBRIDGE")
    if env:
        return env
    return os.path.join(REPO, "build", "tests", "fakebridge", "fakebridge")


class FakeBridges:
    """The fakebridge process and its control API."""

    def __init__(self, binary=None, config=None, verbose=False,
                 log_path=None, start_timeout=10.0, env=None):
        """Start the process and wait until its control API listens.

        config: {"defaults": {...}, "bridges": [...]} or a list of bridge
        dicts (written to a file for --config), or the path of such a file.
        The process log (stderr) goes to log_path, or to a temporary file
        read by log_text() and removed by stop() (kept if $JL_KEEP_LOGS).
        """
        self.binary = binary or _default_binary()
        if not os.access(self.binary, os.X_OK):
            raise FileNotFoundError("fakebridge binary not found: %s "
                                    "(set JL_FAKEBRIDGE)" % self.binary)
        self._tmp = tempfile.mkdtemp(prefix="fakebridge-")
        self.log_path = log_path or os.path.join(self._tmp, "fakebridge.log")
        self.proc = None
        self.control_port = None
        self.pid = None
        ready = os.path.join(self._tmp, "ready.json")
        argv = [self.binary, "--control-port", "0", "--ready-file", ready]
        if isinstance(config, str):
            argv += ["--config", config]
        elif config is not None:
            cfg = os.path.join(self._tmp, "config.json")
            with open(cfg, "w") as f:
                json.dump(config, f)
            argv += ["--config", cfg]
        if verbose:
            argv.append("-v")
        self._log = open(self.log_path, "ab")
        atexit.register(self.stop)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log,
                                     env=env, close_fds=True)
        try:
            self._wait_ready(ready, start_timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, path, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("fakebridge exited with %s before it was "
                                   "ready:\n%s" % (self.proc.returncode,
                                                   self.log_text()[-2000:]))
            try:
                with open(path) as f:
                    info = json.load(f)
                self.control_port = int(info["control_port"])
                self.pid = int(info["pid"])
                return
            except (OSError, ValueError, KeyError):
                time.sleep(0.02)
        raise TimeoutError("fakebridge not ready after %.1f s:\n%s"
                           % (timeout, self.log_text()[-2000:]))

    # -- process --------------------------------------------------------

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, timeout=5.0):
        """SIGTERM (bridges leave their MUCs), then SIGKILL if need be.

        Safe to call more than once; returns the exit code.
        """
        rc = None
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    self.proc.send_signal(signal.SIGTERM)
                    rc = self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    rc = self.proc.wait(timeout=timeout)
            else:
                rc = self.proc.returncode
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None
        if getattr(self, "_tmp", None) is not None:
            keep = self.log_path.startswith(self._tmp) and \
                os.environ.get("JL_KEEP_LOGS")
            if not keep:
                shutil.rmtree(self._tmp, ignore_errors=True)
                self._tmp = None
        return rc

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- control API ----------------------------------------------------

    def call(self, method, path, body=None, timeout=10.0):
        """A control API request; the decoded JSON answer.

        Raises FakeBridgeError for an answer of 400 and above.
        """
        status, _, data = rest_call("127.0.0.1", self.control_port, method,
                                    path, body=body, timeout=timeout)
        doc = json.loads(data) if data.strip() else None
        if status >= 400:
            msg = doc.get("error") if isinstance(doc, dict) else data
            raise FakeBridgeError(status, msg)
        return doc

    def add(self, address, port=8080, nickname=None, participants=0,
            **options):
        """Start a bridge; returns its Bridge handle."""
        spec = dict(options, address=address, port=port,
                    participants=participants)
        if nickname is not None:
            spec["nickname"] = nickname
        state = self.call("POST", "/bridges", spec)
        return Bridge(self, state)

    def add_many(self, specs, defaults=None):
        """Start many bridges in one request (dicts as for add())."""
        body = {"bridges": list(specs)}
        if defaults:
            body["defaults"] = defaults
        summaries = self.call("POST", "/bridges", body, timeout=60.0)
        return [Bridge(self, s) for s in summaries]

    def bridges(self):
        """Summaries of every bridge (removed ones excluded)."""
        return self.call("GET", "/bridges")

    def bridge(self, bridge_id):
        """A handle on an existing bridge."""
        return Bridge(self, self.call("GET", "/bridges/" +
                                      urllib.parse.quote(bridge_id, "")))


class Bridge:
    """One fake bridge, driven through the control API."""

    def __init__(self, owner, state):
        self.owner = owner
        self.id = state["id"]
        self.address = state["address"]
        self.port = state["port"]
        self.nickname = state["nickname"]
        self.url = "http://%s:%d" % (self.address, self.port)
        self._path = "/bridges/" + urllib.parse.quote(self.id, "")

    def __repr__(self):
        return "Bridge(%s at %s)" % (self.id, self.url)

    def _call(self, method, action=None, body=None):
        path = self._path if action is None else self._path + "/" + action
        return self.owner.call(method, path, body)

    # -- reading ---------------------------------------------------------

    def state(self):
        """Everything: state, drain, participants (the true count),
        entered_ms {state: wall ms or None}, exited_ms, shutdown_cause,
        exit_cause, exit_code, cut_off, stats, options, xmpp, ..."""
        return self._call("GET")

    def stats(self):
        """What /colibri/stats answers now (whatever the switches)."""
        return self._call("GET", "stats")

    def requests(self, since=0):
        """The REST requests received: [{"seq", "time_ms", "method",
        "path", "status" (0: unanswered), "content_type", "body"}]."""
        return self._call("GET", "requests?since=%d" % since)

    def clear_requests(self):
        self._call("DELETE", "requests")

    def rest(self, method, path, body=None, headers=None, timeout=5.0):
        """Call the bridge's own REST API: (status, headers, body)."""
        return rest_call(self.address, self.port, method, path, body=body,
                         headers=headers, timeout=timeout)

    # -- acting ----------------------------------------------------------

    def join(self, n):
        return self._call("POST", "join", {"n": n})

    def leave(self, n=None, over_s=0):
        """n participants (None: all there are now) leave, evenly over
        over_s seconds (0: at once)."""
        body = {"n": "all" if n is None else n, "over_s": over_s}
        return self._call("POST", "leave", body)

    def set_participants(self, n):
        return self._call("POST", "participants", {"n": n})

    def set(self, **options):
        return self._call("POST", "set", options)

    def set_mode(self, mode):
        return self.set(mode=mode)

    def fault(self, path, status=500, count=-1):
        """Answer `status` to the next `count` requests of endpoint `path`
        ("*" for all; count -1: until cleared, 0: clear this one)."""
        return self._call("POST", "fault",
                          {"path": path, "status": status, "count": count})

    def clear_faults(self):
        return self._call("DELETE", "fault")

    def shutdown(self, graceful=True):
        """The shutdown request without going through REST."""
        return self._call("POST", "shutdown", {"graceful": graceful})

    def drain(self, on=True):
        return self._call("POST", "drain", {"drain": on})

    def kill(self, sig="TERM"):
        """The bridge process dies: "TERM" leaves the MUC first (as the JVB
        on SIGTERM, exit code 143), "KILL" just drops the connection."""
        return self._call("POST", "kill", {"signal": sig})

    def remove(self):
        """Take the bridge away for good (exits as on SIGTERM first)."""
        return self._call("DELETE")

    # -- waiting ---------------------------------------------------------

    def wait_for(self, predicate, timeout=10.0, interval=0.05, what=None):
        """Poll state() until predicate(state) is true; returns the state.

        Raises AssertionError with the last state after timeout seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            st = self.state()
            if predicate(st):
                return st
            if time.monotonic() >= deadline:
                raise AssertionError("%s: %s not reached in %.1f s; last "
                                     "state: %s" % (self.id, what or
                                                    "condition", timeout,
                                                    json.dumps(st)[:1500]))
            time.sleep(interval)

    def wait_state(self, name, timeout=10.0):
        return self.wait_for(lambda s: s["state"] == name, timeout,
                             what="state " + name)

    def wait_joined(self, timeout=10.0):
        """Until every configured MUC room is joined (XMPP bridges)."""
        def joined(s):
            x = s.get("xmpp")
            return bool(x) and all(r["joined"] for r in x["rooms"])
        return self.wait_for(joined, timeout, what="MUC joined")
