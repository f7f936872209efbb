"""The admin endpoint through a scale-in scenario: /status during the drain
(and `jvb-lifecycled status` reading it), /metrics parsed strictly with
counters that match what happened (one action received and completed with
CONTINUE, the heartbeats the audit trail shows, a throttled
DescribeInstances counted as an error, a throttle and a retry), the audit
story told by `jvb-lifecycled audit`, GET-only and 404 answers, and no
secret in any answer."""

import json
import os
import re
import socket
import tempfile
import unittest

from ops import (MINIMAL_CONFIG, Stack, free_port, http_request, main,
                 parse_prometheus, run_cli, sample, series, wait_until)


class AdminScenario(unittest.TestCase):
    def scrape(self):
        status, headers, body = http_request(self.port, "/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/plain; version=0.0.4")
        self.bodies.append(body)
        return parse_prometheus(body)[0]

    def status(self):
        status, headers, body = http_request(self.port, "/status")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/json")
        self.bodies.append(body)
        return json.loads(body)

    def test_scale_in(self):
        self.bodies = []
        s = Stack(self, bridges=2, participants=[3, 1])
        self.port = free_port()
        d = s.start_daemon(config={"daemon": {
            "admin": "127.0.0.1:%d" % self.port}})
        victim, other = s.bridge(0), s.bridge(1)

        # before anything happened
        m = self.scrape()
        for t in ("launching", "terminating"):
            self.assertEqual(sample(m, "jvb_lifecycled_actions_received_total",
                                    transition=t), 0)
            self.assertEqual(sample(m, "jvb_lifecycled_actions_open",
                                    transition=t), 0)
        self.assertEqual(sample(m, "jvb_lifecycled_up"), 1)
        st = self.status()
        self.assertEqual(st["actions"], [])
        self.assertEqual(st["open_actions"], 0)
        self.assertFalse(st["dry_run"])
        self.assertEqual(st["queue"], s.emu.queue_url)
        self.assertIsNone(st["xmpp"])
        self.assertTrue(st["health"]["healthy"])
        self.assertTrue(st["credentials"]["ok"])
        self.assertEqual(st["credentials"]["source"], "env")

        # the first DescribeInstances is throttled once, then retried
        s.emu.inject_fault("DescribeInstances", 1, kind="throttle")
        action = s.emu.scale_in(s.group, s.instances[0])
        victim.wait_state("GRACEFUL_SHUTDOWN", timeout=20)

        # /status during the drain
        def draining():
            st = self.status()
            acts = [a for a in st["actions"] if a["action"] == action.token]
            if acts and acts[0]["phase"] == "draining" and \
                    acts[0]["participants"] == 3:
                return st, acts[0]
            return None
        st, a = wait_until(draining, 15, what="draining with 3 in /status")
        self.assertEqual(st["open_actions"], 1)
        self.assertEqual(st["terminating"], 1)
        self.assertEqual(a["instance"], s.instances[0])
        self.assertEqual(a["transition"], "terminating")
        self.assertEqual(a["bridge"], victim.address)
        self.assertEqual(a["group"], s.group)
        self.assertEqual(a["hook"], "jvb-drain")
        for k in ("started", "deadline", "next_heartbeat"):
            self.assertRegex(a[k], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"
                             r"\.\d{3}Z$", k)
        self.assertGreaterEqual(a["age_s"], 0)
        m = self.scrape()
        self.assertEqual(sample(m, "jvb_lifecycled_actions_open",
                                transition="terminating"), 1)
        self.assertEqual(sample(m, "jvb_lifecycled_actions_received_total",
                                transition="terminating"), 1)

        # the operator's view of the same
        p = run_cli(["status", "--admin", "127.0.0.1:%d" % self.port])
        self.assertEqual(p.returncode, 0, p.stderr)
        row = [l for l in p.stdout.splitlines()
               if l.startswith(s.instances[0])]
        self.assertEqual(len(row), 1, p.stdout)
        self.assertRegex(row[0], r"terminating\s+draining\s+%s\s+3\s" %
                         re.escape(victim.address))
        self.assertIn("health:       ok", p.stdout)
        self.assertIn("open actions: 1 (1 terminating, 0 launching)",
                      p.stdout)

        # a heartbeat comes half a heartbeat timeout (30 s) after the start
        d.wait_audit("heartbeat", token=action.token, timeout=30)
        victim.leave()
        done = s.emu.wait_action(action.token, timeout=20)
        self.assertEqual(done.result, "CONTINUE")
        wait_until(lambda: s.emu.queue_messages()["in_flight"] == 0, 15,
                   what="message deleted")

        def finished():
            m = self.scrape()
            ok = sample(m, "jvb_lifecycled_actions_completed_total",
                        transition="terminating", result="continue") == 1 \
                and sample(m, "jvb_lifecycled_actions_open",
                           transition="terminating") == 0
            return m if ok else None
        m = wait_until(finished, 15, what="completion in /metrics")
        audit = d.audit_for(token=action.token)
        beats = [r for r in audit if r["step"] == "heartbeat"]
        completed = [r for r in audit if r["step"] == "completed"][0]

        self.assertEqual(sample(m, "jvb_lifecycled_actions_received_total",
                                transition="terminating"), 1)
        self.assertEqual(sample(m, "jvb_lifecycled_actions_received_total",
                                transition="launching"), 0)
        for t in ("launching", "terminating"):
            for r in ("continue", "abandon", "over"):
                want = 1 if (t, r) == ("terminating", "continue") else 0
                self.assertEqual(sample(
                    m, "jvb_lifecycled_actions_completed_total",
                    transition=t, result=r), want, (t, r))
        self.assertGreaterEqual(len(beats), 1)
        self.assertEqual(sample(m, "jvb_lifecycled_heartbeats_total",
                                outcome="ok"), len(beats))
        self.assertEqual(sample(m, "jvb_lifecycled_heartbeats_total",
                                outcome="error"), 0)
        self.assertEqual(sample(
            m, "jvb_lifecycled_drain_duration_seconds_count"), 1)
        self.assertAlmostEqual(
            sample(m, "jvb_lifecycled_drain_duration_seconds_sum"),
            completed["duration_ms"] / 1000.0, delta=1.0)
        self.assertEqual(sample(
            m, "jvb_lifecycled_launch_duration_seconds_count"), 0)
        # drain enable, shutdown, and the polls: all answered
        self.assertGreaterEqual(sample(
            m, "jvb_lifecycled_bridge_requests_total", outcome="ok"), 3)
        self.assertEqual(sample(
            m, "jvb_lifecycled_bridge_requests_total", outcome="error"), 0)
        # the injected throttle, exactly once, and its retry
        errors = series(m, "jvb_lifecycled_aws_errors_total")
        self.assertIn(({"operation": "DescribeInstances",
                        "code": "RequestLimitExceeded"}, 1.0), errors)
        self.assertEqual(sum(v for _, v in errors), 1, errors)
        self.assertGreaterEqual(sample(m, "jvb_lifecycled_aws_throttles_total"),
                                1)
        self.assertGreaterEqual(sample(m, "jvb_lifecycled_aws_retries_total"),
                                1)
        # every AWS request the emulator saw, give or take the long poll
        # in flight (counted by the daemon only when it ends)
        seen = len(s.emu.calls())
        counted = sample(m, "jvb_lifecycled_aws_requests_total")
        self.assertLessEqual(counted, seen)
        self.assertGreaterEqual(counted, seen - 2)
        self.assertEqual(sample(m, "jvb_lifecycled_xmpp_connected"), 0)
        self.assertEqual(sample(m, "jvb_lifecycled_brewery_occupants"), 0)
        self.assertLess(sample(
            m, "jvb_lifecycled_seconds_since_last_successful_receive"), 10)
        self.assertEqual(sample(m, "jvb_lifecycled_aws_credentials_ok"), 1)
        self.assertEqual(sample(m, "jvb_lifecycled_build_info",
                                version=st["version"]), 1)
        self.assertEqual(self.status()["actions"], [])
        self.assertEqual(other.requests(), [])

        # the audit trail, told by the CLI: the story in order
        p = run_cli(["audit", d.audit_path, "--action", action.token[:8]])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        lines = p.stdout.splitlines()
        self.assertTrue(lines[0].startswith("=== %s terminating (group "
                                            "jvb, hook jvb-drain)"
                                            % s.instances[0]), lines[0])
        steps = [l.split()[1] for l in lines if re.match(r"\s+\+\d", l)]
        story = ["received", "resolved", "drain_started",
                 "shutdown_requested", "heartbeat", "completing",
                 "completed"]
        it = iter(steps)
        self.assertTrue(all(x in it for x in story), steps)
        self.assertEqual(len(steps), len(audit))
        self.assertRegex(p.stdout, r"\n  => CONTINUE after \d")
        self.assertIn("participants=3", p.stdout)
        self.assertIn("bridge=%s" % victim.address, p.stdout)
        self.assertIn("1 action, %d records" % len(audit), p.stdout)

        # GET only; unknown paths; nothing secret anywhere
        for method in ("POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"):
            code, headers, _ = http_request(self.port, "/metrics",
                                            method=method)
            self.assertEqual(code, 405, method)
            self.assertEqual(headers.get("allow"), "GET", method)
        code, _, body = http_request(self.port, "/nope")
        self.assertEqual(code, 404)
        code, _, body = http_request(self.port, "/healthz")
        self.assertEqual((code, body), (200, "ok\n"))
        self.bodies.append(body)
        for b in self.bodies:
            self.assertNotIn(s.emu.secret_key, b)
            self.assertNotIn(s.emu.access_key, b)


class AdminBind(unittest.TestCase):
    def test_refuses_to_run_blind(self):
        """An admin address that cannot be bound stops the start, with
        the reason, rather than running without the endpoint asked for."""
        with tempfile.TemporaryDirectory(prefix="jl-admin-") as tmp, \
                socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            conf = os.path.join(tmp, "c.conf")
            with open(conf, "w") as f:
                f.write(MINIMAL_CONFIG % (tmp, tmp) +
                        "admin = 127.0.0.1:%d\n" % port)
            env = {k: v for k, v in os.environ.items()
                   if not k.startswith("AWS_")}
            env["AWS_EC2_METADATA_DISABLED"] = "true"
            p = run_cli(["run", "-c", conf], timeout=30, env=env)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("admin endpoint: cannot listen on 127.0.0.1:%d: "
                      "Address already in use" % port, p.stderr)


if __name__ == "__main__":
    main()
