"""The demo's stack and narration (run through scripts/demo).

Starts the AWS emulator, a group of three fake bridges with participants,
and jvb-lifecycled; scales one bridge in; prints the drain as it happens
from the daemon's audit trail and the bridge's own state; stops
everything; exits 0 if the lifecycle action was completed with CONTINUE
after the bridge emptied, and 1 otherwise.
"""

import json
import os
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))

from harness.awsemu import AwsEmulator  # noqa: E402
from harness.daemon import Daemon  # noqa: E402
from harness.fakebridge import FakeBridges  # noqa: E402
from harness.net import allocate, free_port  # noqa: E402

GROUP = "jvb-demo"
PARTICIPANTS = [9, 5, 3]
LEAVE_OVER_S = 15
T0 = time.monotonic()


def say(msg):
    print("[%5.1fs] %s" % (time.monotonic() - T0, msg), flush=True)


def describe(rec):
    step = rec["step"]
    if step == "received":
        return "lifecycle action %s received (%s, via %s)" % (
            rec["action"][:8], rec["transition"], rec.get("envelope"))
    if step == "resolved":
        return "instance %s is bridge %s" % (rec["instance"], rec["bridge"])
    if step == "drain_started":
        return "drain mode on: jicofo sends no new conferences there"
    if step == "shutdown_requested":
        return "graceful shutdown requested: the bridge ends once empty"
    if step == "participants":
        return "participants on the bridge: %d" % rec["participants"]
    if step == "heartbeat":
        return "heartbeat %d sent: the hook stays open" % rec["n"]
    if step == "completing":
        return "completing with %s: %s" % (rec["result"], rec["reason"])
    if step == "completed":
        return "completed: %s after %.1fs" % (rec["result"],
                                             rec["duration_ms"] / 1000)
    return "%s %s" % (step, json.dumps({k: v for k, v in rec.items()
                                        if k not in ("time", "action",
                                                     "instance", "group",
                                                     "hook", "transition",
                                                     "step")}))


def main():
    out = tempfile.mkdtemp(prefix="jvb-lifecycled-demo-")
    emu = fb = daemon = None
    ok = False
    try:
        say("starting the AWS emulator (moto with SigV4 checks and the "
            "lifecycle simulator)")
        net = allocate()
        emu = AwsEmulator(net).start()
        instances = emu.create_group(GROUP, len(PARTICIPANTS))
        emu.put_hook(GROUP, "jvb-drain", transition="terminating",
                     heartbeat_timeout=30, default_result="ABANDON")
        port = free_port()
        fb = FakeBridges()
        bridges = []
        for iid, n in zip(instances, PARTICIPANTS):
            bridges.append(fb.add(emu.instance_ip(iid), port=port,
                                  nickname=iid, participants=n,
                                  stats_interval_s=1,
                                  shutting_down_delay_s=3))
            say("bridge %s at %s:%d with %d participants" % (
                iid, emu.instance_ip(iid), port, n))
        daemon = Daemon(emu, out, name="jvb-lifecycled", bridge_port=port,
                        config={"daemon": {"log_level": "info"},
                                "bridge": {"shutting_down_delay": "3s"}})
        daemon.start()
        say("jvb-lifecycled is running (config %s)" % daemon.conf_path)

        victim = bridges[0]
        say("the Auto Scaling group removes %s (scale-in)" % instances[0])
        action = emu.scale_in(GROUP, instances[0])
        seen = 0
        left = False
        last_state = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            recs = daemon.audit_for(token=action.token)
            for rec in recs[seen:]:
                say("jvb-lifecycled: " + describe(rec))
            seen = len(recs)
            st = victim.state()
            if st["state"] != last_state:
                say("bridge: %s" % st["state"])
                last_state = st["state"]
            if not left and st["state"] == "GRACEFUL_SHUTDOWN":
                say("the conferences end: %d participants leave over %ds"
                    % (st["participants"], LEAVE_OVER_S))
                victim.leave(over_s=LEAVE_OVER_S)
                left = True
            if recs and recs[-1]["step"] == "completed":
                break
            time.sleep(0.2)
        done = emu.action(action.token)
        say("AWS: the lifecycle action is %s with %s (%s)" % (
            done.state, done.result, "sent by jvb-lifecycled" if
            done.result_source == "api" else done.result_source))
        st = victim.state()
        cut = st.get("cut_off", 0)
        say("participants cut off: %d; other bridges untouched: %s" % (
            cut, all(not b.requests() for b in bridges[1:])))
        ok = (done.state == "completed" and done.result == "CONTINUE" and
              done.result_source == "api" and cut == 0)
    finally:
        if daemon is not None:
            rc = daemon.stop()
            say("jvb-lifecycled stopped (exit status %s)" % rc)
            ok = ok and rc == 0
        if fb is not None:
            fb.stop()
        if emu is not None:
            emu.stop()
    print()
    print("audit trail: %s" % daemon.audit_path if daemon else "")
    print("daemon log:  %s" % daemon.log_path if daemon else "")
    print("demo %s" % ("passed: the bridge was drained, nobody was cut off"
                       if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
