"""The benchmark scenarios.  Each run returns a plain dict (JSON-able) of
figures and checks; bench/run repeats them and bench/report.py turns the
runs into results.md.

    idle(workdir, seconds)                     scenario 1
    scalein(workdir, n, ...)                   scenarios 2 and 3 (and 4
                                               with prosody / poll knobs)

Only the daemon process is measured (its /proc figures); the emulator
runs in this process and the bridge swarm in its own.
"""

import collections
import datetime
import json
import math
import os
import random
import re
import subprocess
import threading
import time

import procstat
import fleet
from fleet import Fleet

# The operations the protocol needs for a drained bridge (scenario 3).
PER_BRIDGE_OPS = ("DescribeInstances", "RecordLifecycleActionHeartbeat",
                  "ChangeMessageVisibility", "CompleteLifecycleAction",
                  "DeleteMessage")
FLEET_OPS = ("ReceiveMessage", "DescribeLifecycleHooks")
EC2_BATCH = 100         # ids per DescribeInstances the daemon sends


def _pct(values, p):
    """The p-th percentile (nearest rank) of a list; None when empty."""
    if not values:
        return None
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(math.ceil(p / 100.0 * len(v))) - 1))
    return v[k]


def _iso(s):
    return datetime.datetime.strptime(
        s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()


def _smaps_rollup(pid):
    out = {}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if v.strip().endswith("kB"):
                    out[k.strip()] = int(v.split()[0])
    except OSError:
        return {}
    return {"pss_kb": out.get("Pss"),
            "anon_kb": out.get("Anonymous"),
            "private_kb": (out.get("Private_Clean", 0) +
                           out.get("Private_Dirty", 0))}


# -- scenario 1 ----------------------------------------------------------------

def _start_floor():
    """bench/rss_floor ($JL_RSS_FLOOR), the libraries' own resident set;
    None when it is not built."""
    path = os.environ.get("JL_RSS_FLOOR")
    if not path or not os.access(path, os.X_OK):
        return None
    p = subprocess.Popen([path], stdout=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    if p.stdout.readline().strip() != b"ready":
        p.kill()
        p.wait()
        return None
    return p


def _stop_floor(p):
    if p is None:
        return None
    try:
        s = procstat.ProcSample.read(p.pid)
        mem = _smaps_rollup(p.pid)
        return {"rss_kb": s.rss_kb, "pss_kb": mem.get("pss_kb"),
                "private_kb": mem.get("private_kb"),
                "anon_kb": mem.get("anon_kb")}
    except (OSError, ValueError, KeyError):
        return None
    finally:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def idle(workdir, seconds, settle=5.0, use_perf=True):
    """The daemon with an empty queue for `seconds`: memory, CPU, wakeups
    and ReceiveMessage calls; and the libraries' floor (rss_floor) for
    comparison."""
    f = Fleet(1, workdir, participants=(0, 0))
    floor = None
    f.start()
    rc = None
    try:
        floor = _start_floor()
        time.sleep(settle)
        pid = f.pid
        f.emu.clear_calls()
        a = procstat.ProcSample.read(pid)
        t0 = time.time()
        perf = None
        if use_perf:
            perf = procstat.perf_stat(pid, seconds)
        # perf may return early if it failed: top the wait up
        left = seconds - (time.time() - t0)
        if left > 0:
            time.sleep(left)
        b = procstat.ProcSample.read(pid)
        elapsed = time.time() - t0
        d = b.minus(a)
        mem = _smaps_rollup(pid)
        calls = collections.Counter(c["operation"] for c in f.emu.calls())
        floor_mem = _stop_floor(floor)
        floor = None
    finally:
        _stop_floor(floor)
        rc = f.stop()
    res = {
        "seconds": elapsed,
        "rss_kb": b.rss_kb,
        "hwm_kb": b.hwm_kb,
        "pss_kb": mem.get("pss_kb"),
        "anon_kb": mem.get("anon_kb"),
        "private_kb": mem.get("private_kb"),
        "cpu_s": d.run_ns / 1e9,
        "cpu_percent": d.cpu_percent,
        "wakeups_per_s": d.wakeups_per_s,
        "ctx_switches_per_s": (d.vcs + d.nvcs) / d.seconds,
        "threads": b.threads,
        "receive_calls": calls.get("ReceiveMessage", 0),
        "receive_per_hour": calls.get("ReceiveMessage", 0) * 3600.0 /
        elapsed,
        "other_calls": {k: v for k, v in calls.items()
                        if k != "ReceiveMessage"},
        "exit_status": rc,
        "floor": floor_mem,
    }
    if perf is not None:
        res["perf_wakeups_per_s"] = perf["sched:sched_wakeup"] / seconds
        res["perf_task_clock_ms"] = perf["task-clock_ms"]
        res["perf_ctx_switches_per_s"] = perf["context-switches"] / seconds
    return res


# -- scenarios 2, 3, 4 ----------------------------------------------------------

class _Leaver(threading.Thread):
    """Once a bridge is draining (GRACEFUL_SHUTDOWN), its participants
    start leaving, evenly over a seeded random time in [lo, hi] s."""

    def __init__(self, fleet, lo, hi, seed, interval=0.5):
        super().__init__(daemon=True, name="leaver")
        self.fleet = fleet
        self.lo, self.hi = lo, hi
        self.rng = random.Random(seed)
        self.interval = interval
        self.started = {}       # instance -> (time.time(), over_s)
        self.errors = []
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            try:
                self._tick()
            except Exception as e:  # noqa: BLE001 - reported by the run
                self.errors.append(repr(e))
            if len(self.started) == self.fleet.n:
                return
            self._halt.wait(self.interval)

    def _tick(self):
        for s in self.fleet.summaries():
            iid = s["nickname"]
            if iid in self.started or s["state"] != "GRACEFUL_SHUTDOWN":
                continue
            over = self.rng.uniform(self.lo, self.hi)
            self.fleet.leave(iid, over)
            self.started[iid] = (time.time(), over)

    def stop(self):
        self._halt.set()
        if self.is_alive():
            self.join(timeout=10)


def scalein(workdir, n, leave=(5.0, 60.0), heartbeat_timeout=60,
            daemon_config=None, xmpp=False, seed=1, timeout=None,
            sample_interval=1.0, bridge_defaults=None, fanout=True):
    """n bridges scaled in at once; participants leave over up to
    leave[1] s once each drain has begun.  Returns figures and checks."""
    f = Fleet(n, workdir, heartbeat_timeout=heartbeat_timeout,
              daemon_config=daemon_config, xmpp=xmpp, seed=seed,
              bridge_defaults=bridge_defaults, fanout=fanout)
    t_setup = time.time()
    f.start()
    setup_s = time.time() - t_setup
    rc = None
    leaver = None
    sampler = None
    try:
        if xmpp:
            _wait_brewery(f, timeout=60 + n * 0.2)
        time.sleep(2.0)
        pid = f.pid
        before = procstat.ProcSample.read(pid)
        swarm_before = procstat.ProcSample.read(f.fb.pid)
        xmpp_before = procstat.ProcSample.read(f.prosody.proc.pid) \
            if f.prosody else None
        emu_before = _self_cpu()
        f.emu.clear_calls()
        sampler = procstat.Sampler(pid, sample_interval).start()
        t0 = time.time()
        f.scale_in_all()
        scale_s = time.time() - t0
        leaver = _Leaver(f, leave[0], leave[1], seed)
        leaver.start()
        if timeout is None:
            timeout = 120 + leave[1] + n * 0.3
        left = f.wait_all_done(timeout)
        t_done = time.time()
        # the deletions follow the completions: wait for them too
        deadline = time.monotonic() + 60
        while not f.queue_empty() and time.monotonic() < deadline:
            time.sleep(0.2)
        queue_empty = f.queue_empty()
        time.sleep(1.0)
        swarm_cpu = procstat.ProcSample.read(f.fb.pid).minus(
            swarm_before).run_ns / 1e9
        emu_cpu = _self_cpu() - emu_before
        xmpp_cpu = procstat.ProcSample.read(f.prosody.proc.pid).minus(
            xmpp_before).run_ns / 1e9 if xmpp_before else None
        after = sampler.stop()
        if after is None:
            raise RuntimeError("cannot read /proc/%d: %s" % (pid,
                                                             sampler.error))
        sampler_peak = sampler.peak_rss_kb
        leaver.stop()
        mem = _smaps_rollup(pid)
        calls = f.emu.calls()
        actions = {a.token: a for a in f.emu.actions()
                   if a.token in f.actions}
        states = f.bridge_states()
        audit = f.daemon.audit()
        log_tail = f.daemon.log_text()[-3000:]
    finally:
        if leaver is not None:
            leaver.stop()
        if sampler is not None:
            sampler.stop()
        rc = f.stop()
    d = after.minus(before)
    res = {
        "n": n,
        "setup_s": setup_s,
        "scale_in_s": scale_s,
        "run_s": t_done - t0,
        "left_open": left,
        "queue_empty": queue_empty,
        "exit_status": rc,
        "leaver_errors": leaver.errors[:5],
        "baseline_rss_kb": before.rss_kb,
        "peak_rss_kb": max(sampler_peak, after.hwm_kb),
        "pss_kb_end": mem.get("pss_kb"),
        "cpu_s": d.run_ns / 1e9,
        "cpu_ticks_s": d.cpu_s,
        "wakeups": d.slices,
        "heartbeat_timeout_s": heartbeat_timeout,
        "swarm_cpu_s": swarm_cpu,
        "prosody_cpu_s": xmpp_cpu,
        "emulator_cpu_s": emu_cpu,
        "visibility_s": _visibility_s(f),
        "xmpp": bool(xmpp),
        "fanout": bool(xmpp) and fanout,
        "bridge_stats_s": f.bridge_defaults.get("stats_interval_s"),
        "bridge_requests": sum(s.get("requests_total", 0)
                               for s in states.values()),
    }
    res["bytes_per_action"] = (res["peak_rss_kb"] - before.rss_kb) * \
        1024.0 / n
    res["cpu_ms_per_action"] = res["cpu_s"] * 1000.0 / n
    res.update(_check_once(f, actions, calls, audit, states))
    res.update(_latencies(actions, states, audit))
    res.update(_aws_calls(n, actions, calls, audit, heartbeat_timeout,
                          _visibility_s(f)))
    if not res["all_once"]:
        res["log_tail"] = log_tail
    return res


def _self_cpu():
    """CPU seconds of this process: the emulator, mostly."""
    import resource
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _visibility_s(f):
    v = f.daemon_config.get("daemon", {}).get("visibility_timeout")
    if v is None:
        return 300
    v = str(v)
    return int(v[:-1]) if v.endswith("s") else int(v)


def _wait_brewery(f, timeout):
    """Every bridge and the daemon are in the brewery before the clock
    starts."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        joined = 0
        for b in f.bridges.values():
            x = b.state().get("xmpp") or {}
            if x and all(r.get("joined") for r in x.get("rooms", [])):
                joined += 1
        # the daemon counts every bridge (and not itself)
        if joined == f.n and re.search(r"brewery .*: joined",
                                       f.daemon.log_text()) and \
                fleet.occupants_seen(f) >= f.n:
            return
        time.sleep(1.0)
    raise AssertionError("not every bridge joined the brewery in %ss"
                         % timeout)


def _check_once(f, actions, calls, audit, states):
    """Every action completed exactly once, with CONTINUE, by the daemon,
    and nobody was cut off."""
    ok_completes = collections.Counter()
    bad_completes = collections.Counter()
    for c in calls:
        if c["operation"] != "CompleteLifecycleAction":
            continue
        tok = c["params"].get("LifecycleActionToken")
        if c["status"] == 200:
            ok_completes[tok] += 1
        else:
            bad_completes[tok] += 1
    audited = collections.Counter(r.get("action") for r in audit
                                  if r.get("step") == "completed")
    problems = []
    for tok, a in actions.items():
        if a.state != "completed" or a.result != "CONTINUE" or \
                a.result_source != "api":
            problems.append("%s: %s %s %s" % (a.instance_id, a.state,
                                              a.result, a.result_source))
        if ok_completes.get(tok, 0) != 1:
            problems.append("%s: %d successful CompleteLifecycleAction"
                            % (a.instance_id, ok_completes.get(tok, 0)))
        if audited.get(tok, 0) != 1:
            problems.append("%s: %d \"completed\" audit records"
                            % (a.instance_id, audited.get(tok, 0)))
    cut = sum(s.get("cut_off", 0) for s in states.values())
    if cut:
        problems.append("%d participants cut off" % cut)
    if len(actions) != f.n:
        problems.append("%d actions for %d bridges" % (len(actions), f.n))
    return {
        "all_once": not problems,
        "problems": problems[:20],
        "completed": sum(1 for a in actions.values()
                         if a.state == "completed"),
        "failed_completes": sum(bad_completes.values()),
        "cut_off": cut,
    }


def _audit_times(audit, step):
    out = {}
    for r in audit:
        if r.get("step") == step and r.get("action"):
            out.setdefault(r["action"], _iso(r["time"]))
    return out


def _latencies(actions, states, audit):
    """From a bridge's SHUTTING_DOWN (it emptied by itself) to the
    simulator's completion; split at the daemon's decision."""
    deciding = _audit_times(audit, "completing")
    total, decide, api = [], [], []
    for tok, a in actions.items():
        st = states.get(a.instance_id) or {}
        sd = (st.get("entered_ms") or {}).get("SHUTTING_DOWN")
        if sd is None or a.completed_at is None:
            continue
        total.append(a.completed_at - sd / 1000.0)
        if tok in deciding:
            decide.append(deciding[tok] - sd / 1000.0)
            api.append(a.completed_at - deciding[tok])
    out = {"latency_n": len(total)}
    for name, v in (("latency", total), ("decide", decide), ("api", api)):
        out[name + "_p50"] = _pct(v, 50)
        out[name + "_p99"] = _pct(v, 99)
        out[name + "_max"] = max(v) if v else None
        out[name + "_min"] = min(v) if v else None
    return out


def _aws_calls(n, actions, calls, audit, hb_timeout, vis_timeout):
    """Calls by operation against the protocol's minimum for these drains."""
    by_op = collections.Counter(c["operation"] for c in calls)
    errors = collections.Counter(c["operation"] for c in calls
                                 if c["status"] >= 400)
    received = _audit_times(audit, "received")
    completed = _audit_times(audit, "completed")
    min_hb = 0
    min_vis = 0
    for tok, a in actions.items():
        if a.completed_at is not None:
            # AWS's clock starts at the action: each beat buys hb_timeout
            min_hb += max(0, int(math.ceil(
                (a.completed_at - a.started_at) / hb_timeout)) - 1)
        if tok in received and tok in completed:
            # ReceiveMessage hides it for vis_timeout; DeleteMessage ends it
            min_vis += max(0, int(math.ceil(
                (completed[tok] - received[tok]) / vis_timeout)) - 1)
    minimum = {
        "DescribeInstances": int(math.ceil(n / float(EC2_BATCH))),
        "RecordLifecycleActionHeartbeat": min_hb,
        "ChangeMessageVisibility": min_vis,
        "CompleteLifecycleAction": n,
        "DeleteMessage": n,
    }
    return {
        "calls": dict(by_op),
        "call_errors": dict(errors),
        "calls_min": minimum,
        "unbatched_min": {"DescribeInstances": n},
    }
