"""aws/ against moto with signature checking on (tests/harness/awsemu.py).

Each test starts its own emulator (faults and queue state never leak from
one test to the next), runs tests/aws/test_aws_moto.c for one scenario with
the credentials in its environment, and checks what moto recorded and the
lifecycle actions' states.  Credential sources that need a server (IMDSv2,
the container endpoint) get a small one here, on 127.0.0.1, that hands out
moto's STS session credentials.  Every run's output is searched for
secrets.
"""

import http.server
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TESTS_DIR)

try:
    from harness.awsemu import AwsEmulator
    from harness.net import allocate
except ImportError as e:  # moto is the one external input
    print("skip: the AWS emulator cannot be imported: %s" % e)
    sys.exit(77)

BINARY = os.environ.get("TEST_AWS_MOTO")
GROUP = "jvb"
HOOK = "jvb-drain"
RUN_TIMEOUT = 90


class CredServer:
    """IMDSv2 and a container credentials endpoint on 127.0.0.1.

    Hands out the next set of `sets` on each credentials GET (the last
    one repeats); expiration `expires_in` seconds ahead."""

    IMDS_TOKEN = "imds-session-token-0123456789"
    CONTAINER_AUTH = "container-auth-token-0123456789"

    def __init__(self, sets, expires_in=3600):
        self.sets = list(sets)
        self.expires_in = expires_in
        self.served = []            # access key ids, in order
        self.token_puts = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, code, body, ctype="text/plain"):
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self):
                if self.path != "/latest/api/token" or not self.headers.get(
                        "x-aws-ec2-metadata-token-ttl-seconds"):
                    return self._send(400, "")
                with outer.lock:
                    outer.token_puts += 1
                self._send(200, outer.IMDS_TOKEN)

            def do_GET(self):
                base = "/latest/meta-data/iam/security-credentials/"
                if self.path.startswith(base):
                    if self.headers.get("x-aws-ec2-metadata-token") != \
                            outer.IMDS_TOKEN:
                        return self._send(401, "")
                    if self.path == base:
                        return self._send(200, "jvb-role")
                    if self.path != base + "jvb-role":
                        return self._send(404, "")
                    return self._send(200, outer.next_creds(True),
                                      "application/json")
                if self.path == "/container/creds":
                    if self.headers.get("Authorization") != \
                            outer.CONTAINER_AUTH:
                        return self._send(401, "{}")
                    return self._send(200, outer.next_creds(False),
                                      "application/json")
                self._send(404, "")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    def next_creds(self, imds):
        with self.lock:
            akid, secret, token = self.sets[min(len(self.served),
                                                len(self.sets) - 1)]
            self.served.append(akid)
        exp = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                            time.gmtime(time.time() + self.expires_in))
        body = {"AccessKeyId": akid, "SecretAccessKey": secret,
                "Token": token, "Expiration": exp}
        if imds:
            body.update({"Code": "Success", "Type": "AWS-HMAC",
                         "LastUpdated": exp})
        return json.dumps(body)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


class MotoTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # built by meson with this test: its absence is a bug, not a skip
        assert BINARY and os.access(BINARY, os.X_OK), \
            "TEST_AWS_MOTO must name the built test-aws-moto"

    def setUp(self):
        self.emu = AwsEmulator(allocate()).start()
        self.addCleanup(self.emu.stop)
        self.ids = self.emu.create_group(GROUP, 2)
        self.emu.put_hook(GROUP, HOOK, transition="terminating",
                          heartbeat_timeout=60)
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.secrets = [self.emu.secret_key, CredServer.IMDS_TOKEN,
                        CredServer.CONTAINER_AUTH]

    # -- running the C side --------------------------------------------------

    def base_env(self):
        env = {k: v for k, v in os.environ.items()
               if k.startswith(("ASAN_", "UBSAN_", "LSAN_", "MALLOC_"))}
        env.update({
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.tmp.name,
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
            "AWS_CONFIG_FILE": "/nonexistent/config",
            "AWS_EC2_METADATA_DISABLED": "true",
            "JL_TEST_ENDPOINT": self.emu.endpoint,
            "JL_TEST_REGION": self.emu.region,
            "JL_TEST_QUEUE_URL": self.emu.queue_url,
            "JL_TEST_GROUP": GROUP,
            "JL_TEST_HOOK": HOOK,
        })
        return env

    def user_env(self, **extra):
        env = self.base_env()
        env["AWS_ACCESS_KEY_ID"] = self.emu.access_key
        env["AWS_SECRET_ACCESS_KEY"] = self.emu.secret_key
        env.update(extra)
        return env

    def session_env(self, **extra):
        akid, secret, token = self.emu.session_credentials()
        self.secrets += [secret, token]
        env = self.base_env()
        env["AWS_ACCESS_KEY_ID"] = akid
        env["AWS_SECRET_ACCESS_KEY"] = secret
        env["AWS_SESSION_TOKEN"] = token
        env.update(extra)
        return env, akid

    def run_c(self, scenario, env):
        p = subprocess.run([BINARY, scenario], env=env, capture_output=True,
                           text=True, timeout=RUN_TIMEOUT)
        out, err = p.stdout, p.stderr
        self.assertEqual(p.returncode, 0, "%s failed:\n%s\n%s" %
                         (scenario, out, err[-4000:]))
        self.assert_no_secret(out + err)
        return out.splitlines(), err

    def assert_no_secret(self, text):
        for s in self.secrets:
            self.assertNotIn(s, text, "a secret appears in the output")
        self.assertNotIn("Signature=", text)
        self.assertIsNone(re.search(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])",
                                    text), "a signature-like hex string "
                          "appears in the output")

    @staticmethod
    def lines(out, prefix):
        return [ln for ln in out if ln.startswith(prefix)]

    @staticmethod
    def fields(line):
        return dict(kv.split("=", 1) for kv in line.split()[1:]
                    if "=" in kv)

    def one_error(self, out):
        errs = self.lines(out, "error ")
        self.assertEqual(len(errs), 1, out)
        return self.fields(errs[0])

    # -- SQS -------------------------------------------------------------------

    def check_receive_and_delete(self, env, akid, session):
        action = self.emu.scale_in(GROUP)
        env["JL_TEST_DELETE"] = "1"
        env["JL_TEST_WAIT"] = "2"
        out, _ = self.run_c("receive", env)
        msgs = [self.fields(ln) for ln in self.lines(out, "message ")]
        # the hook's test notification and the lifecycle action
        self.assertEqual(len(msgs), 2, out)
        bodies = [ln.split(" body=", 1)[1] for ln in out
                  if ln.startswith("message ")]
        life = [json.loads(b) for b in bodies
                if "EC2_INSTANCE_TERMINATING" in b]
        self.assertEqual(len(life), 1)
        self.assertEqual(life[0]["LifecycleActionToken"], action.token)
        self.assertEqual(life[0]["EC2InstanceId"], action.instance_id)
        now_ms = time.time() * 1000
        for m, body in zip(msgs, bodies):
            self.assertEqual(m["count"], "1")
            self.assertLess(abs(int(m["sent"]) - now_ms), 120000)
            self.assertEqual(int(m["body_len"]), len(body.encode()))
        self.assertEqual(len(self.lines(out, "ok op=DeleteMessage")), 2)
        q = self.emu.queue_messages()
        self.assertEqual((q["visible"], q["in_flight"]), (0, 0))
        calls = self.emu.calls(service="sqs")
        self.assertEqual([c["operation"] for c in calls],
                         ["ReceiveMessage", "DeleteMessage",
                          "DeleteMessage"])
        for c in calls:
            self.assertEqual(c["status"], 200, c)
            self.assertEqual(c["access_key"], akid)
            self.assertEqual(c["session_token"], session)
        rcv = calls[0]["params"]
        self.assertEqual(rcv["MaxNumberOfMessages"], 10)
        self.assertEqual(rcv["WaitTimeSeconds"], 2)

    def test_sqs_receive_delete_user_key(self):
        self.check_receive_and_delete(self.user_env(), self.emu.access_key,
                                      False)

    def test_sqs_receive_delete_session_token(self):
        env, akid = self.session_env()
        self.check_receive_and_delete(env, akid, True)

    def test_sqs_long_poll_waits(self):
        q = self.emu.create_queue("empty")
        out, _ = self.run_c("receive", self.user_env(JL_TEST_WAIT="2",
                                                     JL_TEST_QUEUE_URL=q))
        self.assertEqual(self.lines(out, "messages "), ["messages n=0"])
        elapsed = int(self.lines(out, "elapsed_ms=")[0].split("=")[1])
        self.assertGreaterEqual(elapsed, 1900)

    def test_sqs_change_visibility(self):
        q = self.emu.create_queue("cmv")
        env, _ = self.session_env(JL_TEST_QUEUE_URL=q)
        self.emu.send_raw('{"hello": "world"}', queue_url=q)
        env.update(JL_TEST_RECEIVE_VISIBILITY="300", JL_TEST_VISIBILITY="0")
        out, _ = self.run_c("visibility", env)
        self.assertIn("messages n=1", out)
        self.assertIn("ok op=ChangeMessageVisibility", out)
        # visible again at once, not after 300 s
        self.assertEqual(self.emu.queue_messages(q)["visible"], 1)
        cmv = self.emu.calls("ChangeMessageVisibility")
        self.assertEqual(len(cmv), 1)
        self.assertEqual(cmv[0]["params"]["VisibilityTimeout"], 0)
        self.assertEqual(self.emu.calls("ReceiveMessage")[0]["params"]
                         ["VisibilityTimeout"], 300)

    def test_sqs_receipt_invalid(self):
        for scenario in ("delete", "change-visibility"):
            out, _ = self.run_c(scenario, self.user_env(
                JL_TEST_RECEIPT="not-a-real-receipt-handle"))
            e = self.one_error(out)
            self.assertEqual(e["class"], "receipt-invalid", out)
            self.assertEqual(e["code"], "ReceiptHandleIsInvalid")
            self.assertEqual(e["attempts"], "1")

    def test_sqs_queue_attributes(self):
        env, _ = self.session_env()
        out, _ = self.run_c("attributes", env)
        a = self.fields(self.lines(out, "attributes ")[0])
        self.assertEqual(a["visibility"], "30")
        self.assertEqual(a["arn"], self.emu.queue_arn())

    # -- Auto Scaling -------------------------------------------------------

    def test_asg_heartbeat_and_complete(self):
        env, akid = self.session_env()
        action = self.emu.scale_in(GROUP)
        env["JL_TEST_TOKEN"] = action.token
        env["JL_TEST_INSTANCE"] = action.instance_id
        out, _ = self.run_c("heartbeat", env)
        self.assertIn("ok op=RecordLifecycleActionHeartbeat", out)
        self.assertEqual(len(self.emu.action(action.token).heartbeats), 1)

        env["JL_TEST_RESULT"] = "CONTINUE"
        out, _ = self.run_c("complete", env)
        self.assertIn("ok op=CompleteLifecycleAction", out)
        a = self.emu.action(action.token)
        self.assertEqual((a.state, a.result), ("completed", "CONTINUE"))

        # again: the action is gone, and that is told apart, not retried
        out, _ = self.run_c("complete", env)
        e = self.one_error(out)
        self.assertEqual(e["class"], "no-active-action")
        self.assertEqual(e["code"], "ValidationError")
        self.assertEqual(e["attempts"], "1")
        calls = self.emu.calls("CompleteLifecycleAction")
        self.assertEqual([c["status"] for c in calls], [200, 400])
        self.assertTrue(all(c["access_key"] == akid and c["session_token"]
                            for c in calls))
        self.assertEqual(calls[0]["params"]["LifecycleActionToken"],
                         action.token)

    def test_asg_complete_by_instance_abandon(self):
        action = self.emu.scale_in(GROUP)
        out, _ = self.run_c("complete", self.user_env(
            JL_TEST_INSTANCE=action.instance_id, JL_TEST_RESULT="ABANDON"))
        self.assertIn("ok op=CompleteLifecycleAction", out)
        a = self.emu.action(action.token)
        self.assertEqual((a.state, a.result), ("completed", "ABANDON"))
        params = self.emu.calls("CompleteLifecycleAction")[0]["params"]
        self.assertNotIn("LifecycleActionToken", params)

    def test_asg_describe_hooks_and_instances(self):
        out, _ = self.run_c("hooks", self.user_env())
        h = self.fields(self.lines(out, "hook ")[0])
        self.assertEqual(h, {"name": HOOK, "transition":
                             "autoscaling:EC2_INSTANCE_TERMINATING",
                             "heartbeat": "60", "global": "6000",
                             "default": "ABANDON"})
        env, _ = self.session_env(JL_TEST_IDS=",".join(self.ids))
        out, _ = self.run_c("asg-instances", env)
        got = {self.fields(ln)["id"]: self.fields(ln)
               for ln in self.lines(out, "asg_instance ")}
        self.assertEqual(set(got), set(self.ids))
        for i in self.ids:
            self.assertEqual(got[i]["group"], GROUP)
            self.assertEqual(got[i]["state"], "InService")
            self.assertEqual(got[i]["health"], "Healthy")
            self.assertEqual(got[i]["protected"], "0")

    def test_asg_set_protection(self):
        env, akid = self.session_env(JL_TEST_IDS=self.ids[0])
        out, _ = self.run_c("protect", env)
        self.assertIn("ok op=SetInstanceProtection", out)
        self.assertEqual(self.emu.protection(GROUP),
                         {self.ids[0]: True, self.ids[1]: False})
        (call,) = self.emu.calls("SetInstanceProtection")
        self.assertEqual((call["status"], call["access_key"],
                          call["session_token"]), (200, akid, True))
        self.assertEqual(call["params"], {
            "Action": "SetInstanceProtection", "Version": "2011-01-01",
            "AutoScalingGroupName": GROUP,
            "InstanceIds.member.1": self.ids[0],
            "ProtectedFromScaleIn": "true"})
        # what the daemon set steers the group's next scale-in
        self.assertEqual(self.emu.scale_in_choice(GROUP), self.ids[1])

        env.update(JL_TEST_IDS=",".join(self.ids), JL_TEST_PROTECT="0")
        self.emu.inject_fault("SetInstanceProtection", 1, kind="throttle")
        out, _ = self.run_c("protect", env)
        self.assertEqual(self.attempts(out, "SetInstanceProtection"),
                         ["Throttling", "none"])
        self.assertEqual(self.emu.protection(GROUP),
                         {self.ids[0]: False, self.ids[1]: False})
        params = self.emu.calls("SetInstanceProtection")[-1]["params"]
        self.assertEqual(params["ProtectedFromScaleIn"], "false")
        self.assertEqual([params["InstanceIds.member.1"],
                          params["InstanceIds.member.2"]], self.ids)

    def test_asg_set_protection_refusals(self):
        # an instance that left the group: told apart, not retried
        action = self.emu.scale_in(GROUP, self.ids[1])
        self.emu.sim.complete(GROUP, HOOK, token=action.token,
                              result="CONTINUE")
        out, _ = self.run_c("protect", self.user_env(
            JL_TEST_IDS=",".join(self.ids)))
        e = self.one_error(out)
        self.assertEqual((e["class"], e["code"], e["attempts"]),
                         ("unknown-instance", "ValidationError", "1"))
        self.assertEqual(self.emu.protection(GROUP), {self.ids[0]: False})
        # refused before sending: no id, a malformed id, more than 50
        self.emu.clear_calls()
        for ids in ("", "i-nothex", ",".join([self.ids[0]] * 51)):
            out, _ = self.run_c("protect", self.user_env(JL_TEST_IDS=ids))
            e = self.one_error(out)
            self.assertEqual((e["kind"], e["attempts"]), ("invalid", "0"),
                             ids)
        out, _ = self.run_c("protect", self.user_env(
            JL_TEST_IDS=self.ids[0], JL_TEST_GROUP="bad\x01group"))
        self.assertEqual(self.one_error(out)["kind"], "invalid")
        self.assertEqual(self.emu.calls("SetInstanceProtection"), [])

    def test_asg_describe_group(self):
        self.emu.set_protection(GROUP, [self.ids[1]])
        action = self.emu.scale_in(GROUP, self.ids[0])
        env, _ = self.session_env()
        out, _ = self.run_c("group", env)
        g = self.fields(self.lines(out, "group ")[0])
        self.assertEqual(g, {"name": GROUP, "min": "0", "max": "12",
                             "desired": "1", "new_protected": "0",
                             "rebalance": "0", "n": "2"})
        got = {self.fields(ln)["id"]: self.fields(ln)
               for ln in self.lines(out, "member ")}
        self.assertEqual(set(got), set(self.ids))
        zones = {i: self.emu.sim.ec2.get_instance(i).placement.zone
                 for i in self.ids}
        for i in self.ids:
            self.assertEqual(got[i]["group"], GROUP)
            self.assertEqual(got[i]["health"], "Healthy")
            self.assertEqual(got[i]["zone"], zones[i])
        self.assertEqual((got[self.ids[0]]["state"],
                          got[self.ids[0]]["protected"]),
                         ("Terminating:Wait", "0"))
        self.assertEqual((got[self.ids[1]]["state"],
                          got[self.ids[1]]["protected"]),
                         ("InService", "1"))
        self.assertEqual(action.instance_id, self.ids[0])
        (call,) = self.emu.calls("DescribeAutoScalingGroups")
        self.assertEqual(call["params"]["AutoScalingGroupNames.member.1"],
                         GROUP)
        # an unknown group is an answer, not an error
        out, _ = self.run_c("group", self.user_env(JL_TEST_GROUP="nope"))
        self.assertEqual(self.lines(out, "group "), ["group none"])
        self.assertEqual(self.lines(out, "error "), [])
        # retried like the others
        self.emu.inject_fault("DescribeAutoScalingGroups", 1, kind="500")
        out, _ = self.run_c("group", self.user_env())
        self.assertEqual(self.attempts(out, "DescribeAutoScalingGroups"),
                         ["InternalFailure", "none"])
        self.assertEqual(len(self.lines(out, "member ")), 2)

    # -- EC2 ------------------------------------------------------------------

    def test_ec2_describe_instances(self):
        env, _ = self.session_env(JL_TEST_IDS=",".join(self.ids))
        out, _ = self.run_c("ec2", env)
        got = {self.fields(ln)["id"]: ln
               for ln in self.lines(out, "ec2_instance ")}
        self.assertEqual(set(got), set(self.ids))
        for i in self.ids:
            f = self.fields(got[i])
            self.assertEqual(f["state"], "running")
            self.assertEqual(f["private"], self.emu.instance_ip(i))
            self.assertIn(" tag:aws:autoscaling:groupName=%s" % GROUP,
                          got[i])
        params = self.emu.calls("DescribeInstances")[0]["params"]
        self.assertEqual(sorted(v for k, v in params.items()
                                if k.startswith("InstanceId.")),
                         sorted(self.ids))

    def test_ec2_unknown_and_malformed_instance(self):
        out, _ = self.run_c("ec2", self.user_env(
            JL_TEST_IDS="i-0123456789abcdef0"))
        e = self.one_error(out)
        self.assertEqual(e["class"], "unknown-instance")
        self.assertEqual(e["code"], "InvalidInstanceID.NotFound")
        self.assertEqual(e["attempts"], "1")
        # refused before sending, with the class EC2 itself would give
        self.emu.clear_calls()
        out, _ = self.run_c("ec2", self.user_env(JL_TEST_IDS="i-nothex"))
        e = self.one_error(out)
        self.assertEqual(e["class"], "unknown-instance")
        self.assertEqual(e["attempts"], "0")
        self.assertEqual(self.emu.calls("DescribeInstances"), [])

    # -- signatures -------------------------------------------------------------

    def test_wrong_secret_rejected_not_retried(self):
        env = self.user_env(AWS_SECRET_ACCESS_KEY="wrong" + "x" * 35,
                            JL_TEST_IDS=self.ids[0])
        want = {"attributes": ("SignatureDoesNotMatch", "GetQueueAttributes"),
                "hooks": ("SignatureDoesNotMatch", "DescribeLifecycleHooks"),
                "ec2": ("AuthFailure", "DescribeInstances")}
        for scenario, (code, op) in want.items():
            out, _ = self.run_c(scenario, env)
            e = self.one_error(out)
            self.assertEqual((e["class"], e["code"], e["attempts"]),
                             ("signature", code, "1"), out)
            calls = self.emu.calls(op)
            self.assertEqual(len(calls), 1)
            self.assertIn(calls[0]["status"], (401, 403))

    def test_unknown_key_static_creds_terminal(self):
        env = self.user_env(AWS_ACCESS_KEY_ID="AKIAUNKNOWNKEY000000")
        out, _ = self.run_c("attributes", env)
        e = self.one_error(out)
        self.assertEqual(e["class"], "expired-credentials")
        self.assertEqual(e["code"], "InvalidClientTokenId")
        self.assertEqual(e["attempts"], "1")

    # -- retries ----------------------------------------------------------------

    def attempts(self, out, op):
        return [self.fields(ln)["err"] for ln in
                self.lines(out, "attempt op=%s " % op)]

    def test_retry_throttle_and_500(self):
        env = self.user_env(JL_TEST_WAIT="0", JL_TEST_IDS=self.ids[0])
        self.emu.inject_fault("ReceiveMessage", 2, kind="throttle")
        out, _ = self.run_c("receive", env)
        self.assertEqual(self.attempts(out, "ReceiveMessage"),
                         ["RequestThrottled", "RequestThrottled", "none"])
        self.assertIn("messages n=1", out)      # the test notification
        self.assertEqual([c["status"] for c in
                          self.emu.calls("ReceiveMessage")], [400, 400, 200])

        self.emu.inject_fault("DescribeLifecycleHooks", 2, kind="500")
        out, _ = self.run_c("hooks", env)
        self.assertEqual(self.attempts(out, "DescribeLifecycleHooks"),
                         ["InternalFailure", "InternalFailure", "none"])
        self.assertEqual(len(self.lines(out, "hook ")), 1)

        self.emu.inject_fault("DescribeInstances", 1, kind="throttle")
        out, _ = self.run_c("ec2", env)
        self.assertEqual(self.attempts(out, "DescribeInstances"),
                         ["RequestLimitExceeded", "none"])

        action = self.emu.scale_in(GROUP)
        self.emu.inject_fault("CompleteLifecycleAction", 1, kind="throttle")
        out, _ = self.run_c("complete", self.user_env(
            JL_TEST_TOKEN=action.token, JL_TEST_RESULT="CONTINUE"))
        self.assertEqual(self.attempts(out, "CompleteLifecycleAction"),
                         ["Throttling", "none"])
        self.assertEqual(self.emu.action(action.token).state, "completed")
        self.assertEqual(self.emu.faults_pending(), 0)

    def test_retry_stops_at_max_attempts(self):
        self.emu.inject_fault("GetQueueAttributes", 10, kind="500")
        out, _ = self.run_c("attributes", self.user_env(
            JL_TEST_MAX_ATTEMPTS="3"))
        e = self.one_error(out)
        self.assertEqual((e["class"], e["attempts"]), ("transient", "3"))
        self.assertEqual(self.emu.faults_pending("GetQueueAttributes"), 7)

    def test_retry_within_budget(self):
        self.emu.inject_fault("GetQueueAttributes", 50, kind="throttle")
        out, _ = self.run_c("attributes", self.user_env(
            JL_TEST_MAX_ATTEMPTS="50", JL_TEST_BUDGET_MS="3000"))
        e = self.one_error(out)
        self.assertEqual(e["class"], "throttled")
        attempts = int(e["attempts"])
        self.assertGreaterEqual(attempts, 2)
        self.assertLess(attempts, 50)
        self.assertEqual(attempts, len(self.emu.calls("GetQueueAttributes")))
        elapsed = int(self.lines(out, "elapsed_ms=")[0].split("=")[1])
        self.assertLessEqual(elapsed, 3000 + 1500)

    # -- credential sources -------------------------------------------------

    def cred_server(self, sets, **kw):
        srv = CredServer(sets, **kw)
        self.addCleanup(srv.stop)
        for _, secret, token in sets:
            self.secrets += [secret, token]
        return srv

    def imds_env(self, srv, **extra):
        env = self.base_env()
        del env["AWS_EC2_METADATA_DISABLED"]
        env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = srv.url
        env.update(extra)
        return env

    def test_creds_profile_file(self):
        path = os.path.join(self.tmp.name, "credentials")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("[default]\naws_access_key_id = AKIAWRONG00000000000\n"
                    "aws_secret_access_key = wrong\n\n[jvb]\n"
                    "aws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (self.emu.access_key, self.emu.secret_key))
        env = self.base_env()
        env.update(AWS_SHARED_CREDENTIALS_FILE=path, AWS_PROFILE="jvb")
        out, _ = self.run_c("attributes", env)
        self.assertTrue(self.lines(out, "attributes "), out)
        self.assertIn("creds source=profile", out)

    def test_creds_container_endpoint(self):
        sets = [self.emu.session_credentials()]
        srv = self.cred_server(sets)
        env = self.base_env()
        env.update(AWS_CONTAINER_CREDENTIALS_FULL_URI=srv.url +
                   "/container/creds",
                   AWS_CONTAINER_AUTHORIZATION_TOKEN=srv.CONTAINER_AUTH)
        out, _ = self.run_c("attributes", env)
        self.assertTrue(self.lines(out, "attributes "), out)
        self.assertIn("creds source=container", out)
        call = self.emu.calls("GetQueueAttributes")[0]
        self.assertEqual(call["access_key"], sets[0][0])
        self.assertTrue(call["session_token"])

    def test_creds_imds(self):
        sets = [self.emu.session_credentials()]
        srv = self.cred_server(sets)
        out, err = self.run_c("attributes", self.imds_env(srv))
        self.assertTrue(self.lines(out, "attributes "), out)
        self.assertIn("creds source=imds", out)
        self.assertEqual(srv.token_puts, 1)
        self.assertEqual(self.emu.calls("GetQueueAttributes")[0]
                         ["access_key"], sets[0][0])
        # the key id appears in logs by its last four characters only
        self.assertNotIn(sets[0][0], err)
        self.assertIn("..." + sets[0][0][-4:], err)

    def test_creds_imds_refresh_while_calls_in_flight(self):
        sets = [self.emu.session_credentials() for _ in range(3)]
        srv = self.cred_server(sets)
        # refresh due ~2 s after each set arrives; 3 streams of 1 s long
        # polls keep calls in flight across the refreshes
        env = self.imds_env(srv, JL_TEST_REFRESH_MARGIN_MS=str(
            3600 * 1000 - 2000), JL_TEST_DURATION_MS="5500")
        out, err = self.run_c("stream", env)
        for ln in self.lines(out, "stream "):
            f = self.fields(ln)
            self.assertEqual(f["failed"], "0", out)
            self.assertGreaterEqual(int(f["ok"]), 2)
        self.assertEqual(self.lines(out, "error "), [])
        self.assertGreaterEqual(len(srv.served), 2)
        self.assertIn("credentials refreshed from imds", err)
        calls = self.emu.calls("ReceiveMessage")
        self.assertTrue(all(c["status"] == 200 for c in calls))
        used = [c["access_key"] for c in calls]
        self.assertGreaterEqual(len(set(used)), 2, used)
        self.assertTrue(set(used) <= set(s[0] for s in sets))

    def test_creds_refused_token_forces_refresh(self):
        # IMDS first hands out a key moto does not know (as after a
        # revocation), then a good one: one refresh, one retry, success
        bogus = ("ASIABOGUSBOGUS000000", "bogus-secret-0123456789",
                 "bogus-token-0123456789")
        good = self.emu.session_credentials()
        srv = self.cred_server([bogus, good])
        out, err = self.run_c("attributes", self.imds_env(srv))
        self.assertEqual(self.attempts(out, "GetQueueAttributes"),
                         ["InvalidClientTokenId", "none"])
        self.assertTrue(self.lines(out, "attributes "), out)
        self.assertEqual(srv.served, [bogus[0], good[0]])
        calls = self.emu.calls("GetQueueAttributes")
        self.assertEqual([(c["access_key"], c["status"]) for c in calls],
                         [(bogus[0], 403), (good[0], 200)])


if __name__ == "__main__":
    unittest.main(verbosity=2)
