"""results.md from the runs bench/run collected (see run's docstring for
the shape of `results`).  Every figure is given as min / median / max over
the repeated runs; targets are checked on the worst run."""

import os
import statistics

HERE = os.path.dirname(os.path.abspath(__file__))
MIB = 1024.0

TARGETS = {
    "idle_rss_mib": 8.0,
    "idle_cpu_percent": 0.1,
    "peak_rss_mib_1000": 64.0,
    "presence_p99_s": 1.0,
    "poll_slack_s": 1.0,        # p99 under poll_interval + 1 s
    "receive_per_hour_floor": 180.0,
}


def _vals(runs, key, scale=1.0):
    out = []
    for r in runs:
        v = r
        for k in key.split("."):
            v = v.get(k) if isinstance(v, dict) else None
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(v * scale)
    return out


def _fmt(v, digits):
    if v is None:
        return "–"
    if digits == 0:
        return "{:,.0f}".format(v)
    return "{:,.{d}f}".format(v, d=digits)


def mmm(runs, key, digits=2, scale=1.0):
    """"min / median / max" of a figure over the runs ("x" for one run)."""
    v = _vals(runs, key, scale)
    if not v:
        return "–"
    if len(v) == 1:
        return _fmt(v[0], digits)
    return "%s / %s / %s" % (_fmt(min(v), digits),
                             _fmt(statistics.median(v), digits),
                             _fmt(max(v), digits))


def worst(runs, key, scale=1.0, best=False):
    v = _vals(runs, key, scale)
    if not v:
        return None
    return min(v) if best else max(v)


def _ok(flag):
    return "**met**" if flag else "**not met**"


def _table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def _per_bridge(runs, op, key="calls"):
    """An operation's calls per bridge, for each run."""
    out = []
    for r in runs:
        if "error" in r:
            continue
        n = r.get("n") or 1
        out.append({"v": (r.get(key) or {}).get(op, 0) / float(n)})
    return out


def render(results, notes=None):
    m = results["meta"]
    lines = []
    add = lines.append
    add("# jvb-lifecycled: benchmark results")
    add("")
    add("Written by `bench/run%s` — do not edit by hand (notes come from "
        "`bench/notes.md`)." % (" --quick" if m.get("quick") else ""))
    add("")
    add(_table(["", ""], [
        ["date", m.get("date")],
        ["commit", "`%s`%s %s" % (m.get("commit", "?")[:12],
                                  " (+ uncommitted changes)"
                                  if m.get("dirty") else "",
                                  m.get("subject", ""))],
        ["machine", "%s, %s cores, %s MiB RAM, Linux %s" % (
            m.get("cpu"), m.get("cores"), m.get("mem_mib"),
            m.get("kernel"))],
        ["shared machine", "load average %s at the start, %s at the end "
         "(other engineers' builds and tests run alongside)" % (
             m.get("load_start"), m.get("load_end"))],
        ["repeats", "every figure is min / median / max over %s runs "
         "(a single value: one run)" % m.get("repeats")],
        ["run time", "%.0f min" % (m.get("duration_s", 0) / 60.0)],
        ["tools", "moto %s (the AWS emulator, SigV4 checked), Prosody %s, "
         "perf %s" % (m.get("moto"), m.get("prosody"),
                      "used" if m.get("perf") else "not available")],
    ]))
    add("")
    add(_headline(results))
    if results.get("idle"):
        add(_idle(results["idle"], m))
    if results.get("scalein"):
        add(_scalein(results["scalein"], m))
    if results.get("calls"):
        add(_calls(results["calls"], m))
    if results.get("presence"):
        add(_presence(results["presence"], m))
    if notes:
        add(notes.rstrip() + "\n")
    return "\n".join(lines).rstrip() + "\n"


def headline_rows(results):
    """(target, figure, met) for the README and results.md."""
    rows = []
    idle = results.get("idle") or []
    if idle:
        rss = worst(idle, "rss_kb", 1 / MIB)
        floor = worst(idle, "floor.rss_kb", 1 / MIB)
        rows.append(["idle RSS < 8 MiB",
                     "%.1f MiB (PSS %.1f, private %.1f)%s" % (
                         rss, worst(idle, "pss_kb", 1 / MIB),
                         worst(idle, "private_kb", 1 / MIB),
                         "; the linked libraries alone: %.1f MiB" % floor
                         if floor else ""),
                     rss < TARGETS["idle_rss_mib"]])
        cpu = worst(idle, "cpu_percent")
        rows.append(["idle CPU < 0.1 % of a core", "%.4f %%" % cpu,
                     cpu < TARGETS["idle_cpu_percent"]])
        rph = worst(idle, "receive_per_hour", best=True)
        rows.append(["ReceiveMessage per idle hour (long-poll floor 180)",
                     "%.0f" % worst(idle, "receive_per_hour"),
                     rph >= TARGETS["receive_per_hour_floor"] - 5])
    sc = results.get("scalein") or {}
    big = sc.get("1000") or []
    if big:
        rss = worst(big, "peak_rss_kb", 1 / MIB)
        rows.append(["1,000 open drains: peak RSS < 64 MiB",
                     "%.1f MiB" % rss, rss < TARGETS["peak_rss_mib_1000"]])
    for n, runs in sorted(sc.items(), key=lambda kv: int(kv[0])):
        once = all(r.get("all_once") for r in runs)
        rows.append(["%s drains: every action completed exactly once" % n,
                     "%d/%d runs" % (sum(1 for r in runs if r.get("all_once")),
                                     len(runs)), once])
    for n, runs in sorted(sc.items(), key=lambda kv: int(kv[0])):
        p99 = worst(runs, "latency_p99")
        rows.append(["%s drains, polling: p99 emptied → completed < poll "
                     "interval (1 s) + 1 s" % n, "%.2f s" % p99,
                     p99 < 1.0 + TARGETS["poll_slack_s"]])
    pr = results.get("presence") or {}
    for n in sorted(pr, key=int):
        pres = pr[n].get("presence") or []
        if pres:
            p99 = worst(pres, "latency_p99")
            rows.append(["%s drains, presence: p99 emptied → completed "
                         "< 1 s" % n, "%.2f s" % p99,
                         p99 < TARGETS["presence_p99_s"]])
        narrow = pr[n].get("narrow") or []
        if narrow:
            p99 = worst(narrow, "latency_p99")
            rows.append(["%s drains, presence without bridge-to-bridge "
                         "fan-out: p99 emptied → completed < 1 s" % n,
                         "%.2f s" % p99, p99 < TARGETS["presence_p99_s"]])
    return rows


def _headline(results):
    rows = [[t, f, _ok(ok)] for t, f, ok in headline_rows(results)]
    out = ["## Targets (worst run)", "",
           _table(["target", "figure", ""], rows), ""]
    return "\n".join(out)


def _idle(runs, m):
    secs = runs[0].get("seconds", 0)
    rows = [
        ["RSS (MiB)", mmm(runs, "rss_kb", 1, 1 / MIB)],
        ["PSS (MiB)", mmm(runs, "pss_kb", 1, 1 / MIB)],
        ["private (MiB)", mmm(runs, "private_kb", 1, 1 / MIB)],
        ["anonymous (MiB)", mmm(runs, "anon_kb", 1, 1 / MIB)],
        ["CPU seconds", mmm(runs, "cpu_s", 3)],
        ["CPU (% of one core)", mmm(runs, "cpu_percent", 4)],
        ["wakeups per second (schedstat)", mmm(runs, "wakeups_per_s", 2)],
        ["wakeups per second (perf sched:sched_wakeup)",
         mmm(runs, "perf_wakeups_per_s", 2)],
        ["context switches per second", mmm(runs, "ctx_switches_per_s", 2)],
        ["ReceiveMessage per hour", mmm(runs, "receive_per_hour", 0)],
        ["threads", mmm(runs, "threads", 0)],
    ]
    if _vals(runs, "floor.rss_kb"):
        for r in runs:
            if r.get("floor"):
                r["own_rss_kb"] = r["rss_kb"] - r["floor"]["rss_kb"]
        rows[1:1] = [
            ["RSS of the libraries alone, `bench/rss_floor` (MiB)",
             mmm(runs, "floor.rss_kb", 1, 1 / MIB)],
            ["the daemon's own: RSS − the libraries' (MiB)",
             mmm(runs, "own_rss_kb", 1, 1 / MIB)],
        ]
    dur = "%.0f min" % (secs / 60.0) if secs >= 120 else "%.0f s" % secs
    out = ["## 1. Idle, empty queue (%s per run)" % dur, "",
           "The daemon alone with an empty queue and the default long poll "
           "(20 s), admin endpoint on; figures from `/proc/PID/status`, "
           "`smaps_rollup`, `schedstat` of every thread and `perf stat`.  "
           "The long-poll floor is 3600 / 20 = 180 ReceiveMessage an hour.",
           "", _table(["figure", "min / median / max"], rows), ""]
    other = {}
    for r in runs:
        for k, v in (r.get("other_calls") or {}).items():
            other[k] = other.get(k, 0) + v
    out.append("Other AWS calls while idle: %s." % (
        ", ".join("%s %d" % kv for kv in sorted(other.items()))
        if other else "none"))
    out.append("")
    return "\n".join(out)


def _scalein(sc, m):
    sizes = sorted(sc, key=int)
    hdr = ["figure"] + ["%s bridges" % n for n in sizes]

    def row(label, key, digits=2, scale=1.0):
        return [label] + [mmm(sc[n], key, digits, scale) for n in sizes]

    rows = [
        row("completed exactly once (runs)", "all_once", 0),
        row("peak RSS (MiB)", "peak_rss_kb", 1, 1 / MIB),
        row("RSS before the scale-in (MiB)", "baseline_rss_kb", 1, 1 / MIB),
        row("CPU seconds (scale-in to last completion)", "cpu_s", 2),
        row("bytes per open action (peak − before) / N", "bytes_per_action",
            0),
        row("CPU-ms per action", "cpu_ms_per_action", 1),
        row("emptied → completed p50 (s)", "latency_p50", 2),
        row("emptied → completed p99 (s)", "latency_p99", 2),
        row("emptied → completed max (s)", "latency_max", 2),
        row("emptied → daemon's decision p99 (s)", "decide_p99", 2),
        row("decision → emulator's completion p99 (s)", "api_p99", 2),
        row("scale-in to last completion (s)", "run_s", 0),
        row("emulator CPU seconds (not the daemon)", "emulator_cpu_s", 1),
        row("bridge swarm CPU seconds (not the daemon)", "swarm_cpu_s", 1),
    ]
    # "completed exactly once" as a count of runs, not min/median/max
    rows[0] = ["completed exactly once (runs)"] + [
        "%d/%d" % (sum(1 for r in sc[n] if r.get("all_once")), len(sc[n]))
        for n in sizes]
    out = ["## 2. Scale-in of 100, 300 and 1,000 bridges at once", "",
           "Every instance of the group goes to Terminating:Wait in the same "
           "second; each bridge has 2–10 participants who start leaving "
           "once its drain has begun, evenly over a seeded random 5–60 s.  "
           "Daemon defaults (poll 1 s, bridge stats every 5 s, visibility "
           "300 s, long poll 20 s), hook heartbeat timeout %s s, "
           "`max_in_flight` = N.  *Emptied* is when the bridge entered "
           "SHUTTING_DOWN (its graceful shutdown found it empty); "
           "*completed* is when the emulator processed "
           "CompleteLifecycleAction; the *decision* is the daemon's "
           "`completing` audit record, written just before the request "
           "leaves." % _first(sc[sizes[0]], "heartbeat_timeout_s"), "",
           _table(hdr, rows), ""]
    # growth with N, from the medians
    if len(sizes) >= 2:
        a, b = sizes[0], sizes[-1]
        ra = statistics.median(_vals(sc[a], "peak_rss_kb"))
        rb = statistics.median(_vals(sc[b], "peak_rss_kb"))
        ca = statistics.median(_vals(sc[a], "cpu_s"))
        cb = statistics.median(_vals(sc[b], "cpu_s"))
        na, nb = int(a), int(b)
        out.append(
            "Growth from %d to %d drains (medians): peak RSS +%.1f MiB, "
            "i.e. %.0f bytes per extra open action; CPU +%.1f s, i.e. "
            "%.1f CPU-ms per extra action." % (
                na, nb, (rb - ra) / MIB, (rb - ra) * 1024.0 / (nb - na),
                cb - ca, (cb - ca) * 1000.0 / (nb - na)))
        out.append("")
    bad = [(n, r) for n in sizes for r in sc[n] if not r.get("all_once")]
    for n, r in bad:
        out.append("Run with %s bridges: %s" % (n, r.get("error") or
                                                 "; ".join(r.get(
                                                     "problems") or ["?"])))
    if bad:
        out.append("")
    return "\n".join(out)


def _first(runs, key):
    for r in runs:
        if key in r:
            return r[key]
    return None


EXCESS = {
    "DescribeInstances":
        "one call per ReceiveMessage batch (up to 10 instances): the "
        "resolver batches what arrives within 50 ms, and messages arrive "
        "10 at a time",
    "RecordLifecycleActionHeartbeat":
        "the daemon beats at half the hook's timeout, so that a failed "
        "beat has half a timeout of retries before AWS gives up; the "
        "minimum assumes each beat lands just before the deadline",
    "ChangeMessageVisibility":
        "extended at half the visibility timeout, for the same reason",
    "CompleteLifecycleAction": "",
    "DeleteMessage": "",
}


def _calls(runs, m):
    import scenarios
    rows = []
    for op in scenarios.PER_BRIDGE_OPS:
        actual = _per_bridge(runs, op)
        minimum = _per_bridge(runs, op, key="calls_min")
        errs = _per_bridge(runs, op, key="call_errors")
        excess = worst(actual, "v") - worst(minimum, "v")
        rows.append([op, mmm(actual, "v", 3), mmm(minimum, "v", 3),
                     mmm(errs, "v", 3),
                     EXCESS.get(op, "") if excess > 0.0005 else "none"])
    fleet_rows = []
    for op in scenarios.FLEET_OPS:
        fleet_rows.append([op, mmm(runs, "calls." + op, 0)])
    hb = _first(runs, "heartbeat_timeout_s")
    out = ["## 3. AWS calls per drained bridge", "",
           "%s bridges scaled in at once as in 2, with short timeouts on "
           "purpose so that a one-minute drain needs heartbeats and "
           "visibility extensions: hook heartbeat timeout %s s, "
           "[daemon] visibility_timeout %s s.  Calls as the emulator "
           "recorded them, divided by the number of bridges.  The "
           "minimum for each bridge is what the protocol needs for its "
           "own drain: one CompleteLifecycleAction and one DeleteMessage; "
           "ceil(d / heartbeat timeout) − 1 heartbeats for an action that "
           "lasted d at AWS; ceil(t / visibility) − 1 extensions for a "
           "message held t; DescribeInstances batched 100 ids a call "
           "(unbatched: one per bridge)." % (
               _first(runs, "n"), hb, _first(runs, "visibility_s")), "",
           _table(["operation", "per bridge", "minimum per bridge",
                   "errors per bridge", "excess, and why"], rows), "",
           "For the whole fleet (not per bridge):", "",
           _table(["operation", "calls per run"], fleet_rows), ""]
    errs = {}
    for r in runs:
        for k, v in (r.get("call_errors") or {}).items():
            errs[k] = errs.get(k, 0) + v
    if errs:
        out.append("Errors answered: %s.  A heartbeat that crosses the "
                   "daemon's own completion is answered \"No active "
                   "Lifecycle Action\"; the completion settles the action "
                   "and the answer is ignored." % ", ".join(
                       "%s %d" % kv for kv in sorted(errs.items())))
        out.append("")
    return "\n".join(out)


MODE_LABEL = {
    "poll": "polling: poll_interval 1 s, no XMPP",
    "presence": "presence only: brewery, fallback poll 600 s",
    "narrow": "presence only, no bridge-to-bridge fan-out",
    "default": "presence + the default fallback poll (15 s)",
}


def _presence(pr, m):
    sizes = sorted(pr, key=int)
    cols = [(n, k) for n in sizes
            for k in ("poll", "presence", "narrow", "default")
            if pr[n].get(k)]

    def row(lbl, key, digits=2, scale=1.0):
        return [lbl] + [mmm(pr[n][k], key, digits, scale) for n, k in cols]

    rows = [
        ["completed exactly once (runs)"] + [
            "%d/%d" % (sum(1 for r in pr[n][k] if r.get("all_once")),
                       len(pr[n][k])) for n, k in cols],
        row("emptied → completed p50 (s)", "latency_p50"),
        row("emptied → completed p99 (s)", "latency_p99"),
        row("emptied → completed max (s)", "latency_max"),
        row("emptied → daemon's decision p99 (s)", "decide_p99"),
        row("decision → emulator's completion p99 (s)", "api_p99"),
        row("daemon CPU seconds", "cpu_s"),
        row("daemon peak RSS (MiB)", "peak_rss_kb", 1, 1 / MIB),
        row("REST requests to the bridges", "bridge_requests", 0),
        row("Prosody CPU seconds (not the daemon)", "prosody_cpu_s", 1),
        row("bridge swarm CPU seconds (not the daemon)", "swarm_cpu_s", 1),
        row("fleet set-up, brewery joins included (s)", "setup_s", 0),
    ]
    hdr = ["figure"] + ["%s bridges, %s" % (n, MODE_LABEL[k])
                        for n, k in cols]
    out = ["## 4. Polling against presence", "",
           "The scale-in of 2, with the default poll interval and no XMPP, "
           "against the daemon and every bridge in a Prosody brewery with "
           "the daemon's fallback polling slowed to 600 s, so that "
           "completion comes from presence alone (a bridge publishes its "
           "presence at once on every state change).  Also, at the "
           "largest size, presence with the default fallback poll.  Runs "
           "alternate between the modes.  In every mode of this scenario "
           "the bridges refresh their stats, and publish their periodic "
           "presence, every 60 s instead of 5 s: in a MUC every presence "
           "goes to every occupant, and one Prosody plus one swarm "
           "process on this machine cannot carry 300 bridges doing that "
           "every 5 s (joining alone did not finish in 2 minutes).", "",
           "Even so, at 300 bridges the start of the scale-in (every "
           "bridge publishing drain mode, then graceful shutdown, within "
           "a second) is 600 presences for Prosody to copy to 300 "
           "occupants each: 180,000 stanzas, which this machine's one "
           "Prosody and one swarm process take minutes to deliver, and "
           "every later presence queues behind them.  So at the largest "
           "size the presence-only run is also made with the bridges' "
           "shared account receiving no presence but its own "
           "(`bench/mod_bench_fanout.lua`, loaded on the MUC component for "
           "that run only), which is what docker-jitsi-meet's Prosody does "
           "to the brewery (its `jvb_muc_presence_filter`); the daemon "
           "still receives every bridge's presence.  That run shows the "
           "daemon's own latency; the first shows what one small XMPP "
           "server's backlog does to it.  The third run, presence with "
           "the default fallback poll, is the default configuration.", "",
           _table(hdr, rows), ""]
    return "\n".join(out)
