"""Tests of the AWS emulator and its lifecycle simulator (unittest).

Everything runs against the emulator on 127.0.0.1 with boto3 signing like a
client would; nothing leaves loopback.  Time is shortened only through the
simulator's explicit knobs (set_deadline / set_global_deadline): the hooks
keep AWS's real 30 s minimum heartbeat timeout.
"""

import base64
import datetime
import json
import os
import re
import select
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import boto3  # noqa: E402
import botocore.config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from harness.awsemu import AwsEmulator  # noqa: E402
from harness.net import allocate  # noqa: E402

NO_RETRY = botocore.config.Config(retries={"total_max_attempts": 1})
TIME_MS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TIME_S_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                     r"[0-9a-f]{12}$")

LIFECYCLE_KEYS = {"Origin", "Destination", "LifecycleHookName", "AccountId",
                  "RequestId", "LifecycleTransition", "AutoScalingGroupName",
                  "Service", "Time", "EC2InstanceId", "LifecycleActionToken"}
TEST_KEYS = {"AccountId", "RequestId", "AutoScalingGroupARN",
             "AutoScalingGroupName", "Service", "Event", "Time"}
SNS_KEYS = {"Type", "MessageId", "TopicArn", "Subject", "Message",
            "Timestamp", "SignatureVersion", "Signature", "SigningCertURL",
            "UnsubscribeURL"}
EVENT_KEYS = {"version", "id", "detail-type", "source", "account", "time",
              "region", "resources", "detail"}
DETAIL_KEYS = {"LifecycleActionToken", "AutoScalingGroupName",
               "LifecycleHookName", "EC2InstanceId", "LifecycleTransition",
               "Origin", "Destination"}
TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"
LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"


def _uniq(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


class EmuCase(unittest.TestCase):
    """One emulator per test class; each test makes its own queue/group."""

    @classmethod
    def setUpClass(cls):
        cls.net = allocate()
        cls.addClassCleanup(cls.net.release)
        cls.emu = AwsEmulator(cls.net)
        cls.addClassCleanup(cls.emu.stop)
        cls.emu.start()

    def client(self, service, **kw):
        kw.setdefault("config", NO_RETRY)
        return self.emu.client(service, **kw)

    def raw_client(self, service, akid, secret, token=None):
        return boto3.session.Session(
            aws_access_key_id=akid, aws_secret_access_key=secret,
            aws_session_token=token, region_name=self.emu.region,
        ).client(service, endpoint_url=self.emu.endpoint, config=NO_RETRY)

    def fresh_queue(self):
        return self.emu.create_queue(_uniq("q"))

    def fresh_group(self, size=2):
        name = _uniq("jvb")
        ids = self.emu.create_group(name, size)
        return name, ids

    def receive(self, url, n=1, timeout=10.0):
        """Exactly n bodies from the queue (deleted), within timeout."""
        sqs = self.client("sqs")
        bodies = []
        end = time.monotonic() + timeout
        while len(bodies) < n and time.monotonic() < end:
            r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                    WaitTimeSeconds=1)
            for m in r.get("Messages", []):
                bodies.append(m["Body"])
                sqs.delete_message(QueueUrl=url,
                                   ReceiptHandle=m["ReceiptHandle"])
        self.assertEqual(len(bodies), n, bodies)
        return bodies

    def assert_empty(self, url):
        c = self.emu.queue_messages(url)
        self.assertEqual((c["visible"], c["in_flight"]), (0, 0), c)

    def lifecycle_states(self, group):
        r = self.client("autoscaling").describe_auto_scaling_instances()
        return {i["InstanceId"]: i["LifecycleState"]
                for i in r["AutoScalingInstances"]
                if i["AutoScalingGroupName"] == group}

    def ec2_state(self, instance_id):
        r = self.client("ec2").describe_instances(InstanceIds=[instance_id])
        return r["Reservations"][0]["Instances"][0]["State"]["Name"]

    def assert_validation(self, ctx, text):
        err = ctx.exception.response["Error"]
        self.assertEqual(err["Code"], "ValidationError")
        self.assertIn(text, err["Message"])
        self.assertEqual(
            ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)


class AuthTest(EmuCase):

    def test_good_key_accepted_and_recorded(self):
        self.emu.clear_calls()
        self.client("sqs").list_queues()
        calls = self.emu.calls("ListQueues")
        self.assertEqual(len(calls), 1)
        self.assertEqual(calls[0]["status"], 200)
        self.assertEqual(calls[0]["service"], "sqs")
        self.assertEqual(calls[0]["access_key"], self.emu.access_key)
        self.assertFalse(calls[0]["session_token"])

    def test_wrong_secret_rejected(self):
        url = self.fresh_queue()
        self.emu.send_raw("keep me", url)
        bad = self.emu.secret_key[:-1] + (
            "A" if self.emu.secret_key[-1] != "A" else "B")
        self.emu.clear_calls()
        sqs = self.raw_client("sqs", self.emu.access_key, bad)
        with self.assertRaises(ClientError) as ctx:
            sqs.receive_message(QueueUrl=url)
        self.assertEqual(
            ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        self.assertIn("SignatureDoesNotMatch", str(ctx.exception))
        asg = self.raw_client("autoscaling", self.emu.access_key, bad)
        with self.assertRaises(ClientError) as ctx:
            asg.describe_auto_scaling_groups()
        self.assertEqual(ctx.exception.response["Error"]["Code"],
                         "SignatureDoesNotMatch")
        ec2 = self.raw_client("ec2", self.emu.access_key, bad)
        with self.assertRaises(ClientError) as ctx:
            ec2.describe_instances()
        self.assertEqual(ctx.exception.response["Error"]["Code"],
                         "AuthFailure")
        got = [(c["operation"], c["error_code"]) for c in self.emu.calls()]
        self.assertEqual(got, [
            ("ReceiveMessage", "SignatureDoesNotMatch"),
            ("DescribeAutoScalingGroups", "SignatureDoesNotMatch"),
            ("DescribeInstances", "AuthFailure")])
        # The rejected receive did not take the message.
        self.assertEqual(self.emu.queue_messages(url)["visible"], 1)

    def test_unknown_key_rejected(self):
        sqs = self.raw_client("sqs", "AKIAIOSFODNN7EXAMPLE", "x" * 40)
        with self.assertRaises(ClientError) as ctx:
            sqs.list_queues()
        self.assertEqual(
            ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        self.assertEqual(self.emu.calls("ListQueues")[-1]["error_code"],
                         "InvalidClientTokenId")

    def _post(self, headers, body):
        req = urllib.request.Request(self.emu.endpoint + "/", data=body,
                                     headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def test_unsigned_request_rejected(self):
        url = self.fresh_queue()
        self.emu.send_raw("keep me", url)
        status, headers, body = self._post({
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "AmazonSQS.ReceiveMessage",
        }, json.dumps({"QueueUrl": url}).encode())
        self.assertEqual(status, 403)
        self.assertEqual(json.loads(body)["__type"].rsplit("#", 1)[-1],
                         "MissingAuthenticationToken")
        self.assertEqual(self.emu.queue_messages(url)["visible"], 1)
        status, _, body = self._post({
            "Content-Type": "application/x-www-form-urlencoded",
        }, b"Action=DescribeAutoScalingGroups&Version=2011-01-01")
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>MissingAuthenticationToken</Code>", body)
        last = self.emu.calls()[-2:]
        self.assertEqual([(c["service"], c["operation"], c["error_code"])
                          for c in last],
                         [("sqs", "ReceiveMessage",
                           "MissingAuthenticationToken"),
                          ("autoscaling", "DescribeAutoScalingGroups",
                           "MissingAuthenticationToken")])

    def test_moto_control_api_closed(self):
        req = urllib.request.Request(self.emu.endpoint +
                                     "/moto-api/reset-auth", data=b"1000",
                                     method="POST")
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(ctx.exception.code, 403)
        ctx.exception.close()
        sqs = self.raw_client("sqs", self.emu.access_key, "wrong" * 8)
        with self.assertRaises(ClientError):
            sqs.list_queues()

    def test_session_credentials(self):
        akid, secret, token = self.emu.session_credentials()
        self.assertNotEqual(akid, self.emu.access_key)
        url = self.fresh_queue()
        self.emu.send_raw("hello", url)
        sqs = self.raw_client("sqs", akid, secret, token)
        r = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
        self.assertEqual(r["Messages"][0]["Body"], "hello")
        call = self.emu.calls("ReceiveMessage")[-1]
        self.assertEqual((call["status"], call["access_key"],
                          call["session_token"]), (200, akid, True))
        asg = self.raw_client("autoscaling", akid, secret, token)
        asg.describe_auto_scaling_groups()
        # A session key is worth nothing without its own token.
        for tok in (token[:-4] + "AAAA", None):
            bad = self.raw_client("autoscaling", akid, secret, tok)
            with self.assertRaises(ClientError) as ctx:
                bad.describe_auto_scaling_groups()
            self.assertEqual(ctx.exception.response["Error"]["Code"],
                             "InvalidClientTokenId")


class NotificationTest(EmuCase):

    def test_direct_test_notification_and_body(self):
        url = self.fresh_queue()
        group, ids = self.fresh_group()
        hook = self.emu.put_hook(group, "drain", queue_url=url)
        self.assertEqual(hook["target_arn"], self.emu.queue_arn(url))
        (body,) = self.receive(url)
        t = json.loads(body)
        self.assertEqual(set(t), TEST_KEYS)
        self.assertEqual(t["Event"], "autoscaling:TEST_NOTIFICATION")
        self.assertEqual(t["AutoScalingGroupName"], group)
        arn = self.client("autoscaling").describe_auto_scaling_groups(
            AutoScalingGroupNames=[group])["AutoScalingGroups"][0][
            "AutoScalingGroupARN"]
        self.assertEqual(t["AutoScalingGroupARN"], arn)
        self.assertRegex(t["Time"], TIME_MS_RE)

        a = self.emu.scale_in(group, ids[1])
        (body,) = self.receive(url)
        self.assertEqual(body, a.body)
        m = json.loads(body)
        self.assertEqual(set(m), LIFECYCLE_KEYS)
        self.assertEqual(m["Service"], "AWS Auto Scaling")
        self.assertEqual(m["AccountId"], self.emu.account_id)
        self.assertRegex(m["AccountId"], r"^\d{12}$")
        self.assertEqual(m["AutoScalingGroupName"], group)
        self.assertEqual(m["LifecycleHookName"], "drain")
        self.assertEqual(m["EC2InstanceId"], ids[1])
        self.assertEqual(m["LifecycleTransition"], TERMINATING)
        self.assertEqual(m["LifecycleActionToken"], a.token)
        self.assertRegex(a.token, UUID_RE)
        self.assertRegex(m["RequestId"], UUID_RE)
        self.assertRegex(m["Time"], TIME_MS_RE)
        self.assertEqual((m["Origin"], m["Destination"]),
                         ("AutoScalingGroup", "EC2"))
        self.assertEqual(self.lifecycle_states(group)[ids[1]],
                         "Terminating:Wait")
        self.assertEqual(a.instance_ip, self.emu.instance_ip(ids[1]))
        self.assertTrue(self.net.contains(a.instance_ip), a.instance_ip)

    def test_sns_wrapped(self):
        url = self.fresh_queue()
        group, ids = self.fresh_group()
        hook = self.emu.put_hook(group, "drain", queue_url=url,
                                 envelope="sns")
        self.assertIn(":sns:", hook["target_arn"])
        (body,) = self.receive(url)
        env = json.loads(body)
        self.assertEqual(set(env), SNS_KEYS)
        self.assertEqual(env["Subject"],
                         'Auto Scaling: test notification for group "%s"'
                         % group)
        self.assertEqual(json.loads(env["Message"])["Event"],
                         "autoscaling:TEST_NOTIFICATION")

        a = self.emu.scale_in(group)
        (body,) = self.receive(url)
        env = json.loads(body)
        self.assertEqual(set(env), SNS_KEYS)
        self.assertEqual(env["Type"], "Notification")
        self.assertEqual(env["TopicArn"], hook["target_arn"])
        self.assertEqual(env["SignatureVersion"], "1")
        self.assertEqual(len(base64.b64decode(env["Signature"])), 256)
        self.assertRegex(env["Timestamp"], TIME_MS_RE)
        self.assertRegex(env["MessageId"], UUID_RE)
        self.assertTrue(env["SigningCertURL"].startswith("https://sns."))
        self.assertTrue(env["UnsubscribeURL"].startswith("https://sns."))
        self.assertEqual(env["Subject"],
                         "Auto Scaling:  Lifecycle action 'TERMINATING' for "
                         "instance %s in progress." % a.instance_id)
        self.assertIsInstance(env["Message"], str)
        m = json.loads(env["Message"])
        self.assertEqual(set(m), LIFECYCLE_KEYS)
        self.assertEqual(m["LifecycleActionToken"], a.token)
        self.assertEqual(m["EC2InstanceId"], a.instance_id)

    def test_sns_raw(self):
        url = self.fresh_queue()
        group, ids = self.fresh_group()
        self.emu.put_hook(group, "drain", queue_url=url, envelope="sns-raw")
        (body,) = self.receive(url)
        self.assertEqual(set(json.loads(body)), TEST_KEYS)
        a = self.emu.scale_in(group)
        (body,) = self.receive(url)
        m = json.loads(body)
        self.assertEqual(set(m), LIFECYCLE_KEYS)
        self.assertEqual(m["LifecycleActionToken"], a.token)

    def test_eventbridge(self):
        url = self.fresh_queue()
        group, ids = self.fresh_group()
        hook = self.emu.put_hook(group, "drain", queue_url=url,
                                 envelope="eventbridge")
        self.assertIsNone(hook["target_arn"])
        # No target, so no test notification.
        self.assert_empty(url)
        a = self.emu.scale_in(group)
        (body,) = self.receive(url)
        e = json.loads(body)
        self.assertEqual(set(e), EVENT_KEYS)
        self.assertEqual(e["source"], "aws.autoscaling")
        self.assertEqual(e["detail-type"],
                         "EC2 Instance-terminate Lifecycle Action")
        self.assertEqual(e["version"], "0")
        self.assertEqual(e["account"], self.emu.account_id)
        self.assertEqual(e["region"], self.emu.region)
        self.assertRegex(e["time"], TIME_S_RE)
        arn = self.client("autoscaling").describe_auto_scaling_groups(
            AutoScalingGroupNames=[group])["AutoScalingGroups"][0][
            "AutoScalingGroupARN"]
        self.assertEqual(e["resources"], [arn])
        d = e["detail"]
        self.assertEqual(set(d), DETAIL_KEYS)
        self.assertEqual(d["LifecycleActionToken"], a.token)
        self.assertEqual(d["EC2InstanceId"], a.instance_id)
        self.assertEqual(d["LifecycleTransition"], TERMINATING)
        self.assertEqual(d["LifecycleHookName"], "drain")
        # The rule the harness made is visible through the EventBridge API.
        rules = self.client("events").list_rules()["Rules"]
        self.assertTrue(any(group in r["Name"] for r in rules))

    def test_envelope_override_and_metadata(self):
        url = self.fresh_queue()
        group, ids = self.fresh_group()
        self.emu.put_hook(group, "drain", queue_url=url, metadata="jvb=eu",
                          test_notification=False)
        self.assert_empty(url)
        a = self.emu.scale_in(group, envelope="eventbridge")
        (body,) = self.receive(url)
        d = json.loads(body)["detail"]
        self.assertEqual(d["LifecycleActionToken"], a.token)
        self.assertEqual(d["NotificationMetadata"], "jvb=eu")
        b = self.emu.scale_in(group)
        (body,) = self.receive(url)
        m = json.loads(body)
        self.assertEqual(m["NotificationMetadata"], "jvb=eu")
        self.assertEqual(set(m) - {"NotificationMetadata"}, LIFECYCLE_KEYS)
        self.assertEqual(m["LifecycleActionToken"], b.token)

    def test_launch(self):
        url = self.fresh_queue()
        group, ids = self.fresh_group(1)
        self.emu.put_hook(group, "admit", transition="launching",
                          queue_url=url, test_notification=False)
        a = self.emu.launch(group)
        self.assertNotIn(a.instance_id, ids)
        self.assertTrue(self.net.contains(a.instance_ip), a.instance_ip)
        self.assertEqual(a.instance_ip, self.emu.instance_ip(a.instance_id))
        (body,) = self.receive(url)
        m = json.loads(body)
        self.assertEqual(set(m), LIFECYCLE_KEYS)
        self.assertEqual(m["LifecycleTransition"], LAUNCHING)
        self.assertEqual((m["Origin"], m["Destination"]),
                         ("EC2", "AutoScalingGroup"))
        self.assertEqual(self.lifecycle_states(group)[a.instance_id],
                         "Pending:Wait")
        asg = self.client("autoscaling")
        asg.complete_lifecycle_action(
            AutoScalingGroupName=group, LifecycleHookName="admit",
            InstanceId=a.instance_id, LifecycleActionResult="CONTINUE")
        self.assertEqual(self.lifecycle_states(group)[a.instance_id],
                         "InService")
        g = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[group])[
            "AutoScalingGroups"][0]
        self.assertEqual(g["DesiredCapacity"], 2)
        self.assertEqual(self.ec2_state(a.instance_id), "running")

    def test_put_hook_over_the_api(self):
        url = self.fresh_queue()
        group, ids = self.fresh_group()
        asg = self.client("autoscaling")
        asg.put_lifecycle_hook(
            AutoScalingGroupName=group, LifecycleHookName="api-hook",
            LifecycleTransition=TERMINATING, HeartbeatTimeout=60,
            DefaultResult="CONTINUE",
            NotificationTargetARN=self.emu.queue_arn(url),
            RoleARN="arn:aws:iam::%s:role/hooks" % self.emu.account_id)
        (body,) = self.receive(url)
        self.assertEqual(json.loads(body)["Event"],
                         "autoscaling:TEST_NOTIFICATION")
        (h,) = asg.describe_lifecycle_hooks(
            AutoScalingGroupName=group)["LifecycleHooks"]
        self.assertEqual(h["HeartbeatTimeout"], 60)
        self.assertEqual(h["GlobalTimeout"], 6000)
        self.assertEqual(h["DefaultResult"], "CONTINUE")
        self.assertEqual(h["NotificationTargetARN"], self.emu.queue_arn(url))
        a = self.emu.scale_in(group)
        (body,) = self.receive(url)
        self.assertEqual(json.loads(body)["LifecycleActionToken"], a.token)
        with self.assertRaises(ClientError) as ctx:
            asg.put_lifecycle_hook(
                AutoScalingGroupName=group, LifecycleHookName="short",
                LifecycleTransition=TERMINATING, HeartbeatTimeout=29)
        self.assert_validation(ctx, "heartbeatTimeout")


class SimulatorTest(EmuCase):

    def setUp(self):
        self.url = self.fresh_queue()
        self.group, self.ids = self.fresh_group(3)
        self.emu.put_hook(self.group, "drain", queue_url=self.url,
                          heartbeat_timeout=30, default_result="ABANDON",
                          test_notification=False)
        self.asg = self.client("autoscaling")

    def complete(self, result="CONTINUE", **kw):
        return self.asg.complete_lifecycle_action(
            AutoScalingGroupName=self.group, LifecycleHookName="drain",
            LifecycleActionResult=result, **kw)

    def heartbeat(self, **kw):
        return self.asg.record_lifecycle_action_heartbeat(
            AutoScalingGroupName=self.group, LifecycleHookName="drain", **kw)

    def test_deadlines_at_start(self):
        a = self.emu.scale_in(self.group)
        self.assertEqual(a.state, "waiting")
        self.assertAlmostEqual(a.heartbeat_deadline - a.started_at, 30,
                               places=3)
        self.assertAlmostEqual(a.global_deadline - a.started_at, 3000,
                               places=3)
        self.assertEqual(a.deadline, a.heartbeat_deadline)
        self.assertEqual(a.heartbeats, [])

    def test_heartbeat_extends_deadline(self):
        a = self.emu.scale_in(self.group)
        time.sleep(0.3)
        self.heartbeat(LifecycleActionToken=a.token)
        b = self.emu.action(a.token)
        self.assertEqual(len(b.heartbeats), 1)
        self.assertGreater(b.heartbeats[0], a.started_at)
        self.assertAlmostEqual(b.deadline, b.heartbeats[0] + 30, places=3)
        self.assertGreater(b.deadline, a.deadline)
        # By instance id alone, like AWS allows.
        self.heartbeat(InstanceId=a.instance_id)
        self.assertEqual(len(self.emu.action(a.token).heartbeats), 2)

    def test_heartbeat_rescues_a_running_out_action(self):
        a = self.emu.scale_in(self.group)
        short = self.emu.set_deadline(a.token, 3.0).deadline
        self.heartbeat(LifecycleActionToken=a.token)
        # Past the shortened deadline, by a margin the 0.1 s timer honours.
        time.sleep(max(0.0, short + 0.5 - time.time()))
        b = self.emu.action(a.token)
        self.assertEqual(b.state, "waiting")
        self.assertGreater(b.deadline, time.time() + 20)

    def test_heartbeat_capped_by_global_timeout(self):
        a = self.emu.scale_in(self.group)
        g = self.emu.set_global_deadline(a.token, 10).global_deadline
        self.heartbeat(LifecycleActionToken=a.token)
        b = self.emu.action(a.token)
        self.assertEqual(b.deadline, g)
        self.assertLess(b.deadline, b.heartbeats[-1] + 30)

    def test_missing_heartbeat_applies_default_result(self):
        a = self.emu.scale_in(self.group)
        d = self.emu.set_deadline(a.token, 0.5).deadline
        b = self.emu.wait_action(a.token, timeout=10)
        self.assertEqual(b.state, "timed_out")
        self.assertEqual(b.result, "ABANDON")
        self.assertEqual(b.result_source, "default")
        self.assertGreaterEqual(b.completed_at, d)
        # Terminate + ABANDON still terminates, and the instance leaves.
        self.assertEqual(self.ec2_state(a.instance_id), "terminated")
        self.assertNotIn(a.instance_id, self.lifecycle_states(self.group))
        with self.assertRaises(ClientError) as ctx:
            self.complete(LifecycleActionToken=a.token)
        self.assert_validation(ctx, "No active Lifecycle Action found with "
                               "token %s" % a.token)
        with self.assertRaises(ClientError) as ctx:
            self.heartbeat(LifecycleActionToken=a.token)
        self.assert_validation(ctx, "No active Lifecycle Action found")

    def test_global_timeout_applies_default_result(self):
        a = self.emu.scale_in(self.group)
        self.emu.set_global_deadline(a.token, 0.3)
        b = self.emu.wait_action(a.token, timeout=10)
        self.assertEqual((b.state, b.result, b.result_source),
                         ("timed_out", "ABANDON", "default"))

    def test_complete_twice(self):
        a = self.emu.scale_in(self.group)
        self.assertEqual(self.lifecycle_states(self.group)[a.instance_id],
                         "Terminating:Wait")
        self.complete(LifecycleActionToken=a.token)
        b = self.emu.action(a.token)
        self.assertEqual((b.state, b.result, b.result_source),
                         ("completed", "CONTINUE", "api"))
        self.assertEqual(self.ec2_state(a.instance_id), "terminated")
        self.assertNotIn(a.instance_id, self.lifecycle_states(self.group))
        with self.assertRaises(ClientError) as ctx:
            self.complete(LifecycleActionToken=a.token)
        self.assert_validation(ctx, "No active Lifecycle Action found with "
                               "token %s" % a.token)
        with self.assertRaises(ClientError) as ctx:
            self.complete(InstanceId=a.instance_id)
        self.assert_validation(ctx, "No active Lifecycle Action found with "
                               "instance ID %s" % a.instance_id)
        self.assertEqual(self.emu.action(a.token).completed_at,
                         b.completed_at)

    def test_complete_by_instance_id(self):
        a = self.emu.scale_in(self.group)
        self.complete(result="ABANDON", InstanceId=a.instance_id)
        b = self.emu.action(a.token)
        self.assertEqual((b.state, b.result), ("completed", "ABANDON"))
        self.assertEqual(self.ec2_state(a.instance_id), "terminated")

    def test_unknown_or_mismatched_actions(self):
        a = self.emu.scale_in(self.group)
        other = str(uuid.uuid4())
        with self.assertRaises(ClientError) as ctx:
            self.complete(LifecycleActionToken=other)
        self.assert_validation(ctx, "No active Lifecycle Action found with "
                               "token %s" % other)
        with self.assertRaises(ClientError) as ctx:
            self.asg.complete_lifecycle_action(
                AutoScalingGroupName=self.group, LifecycleHookName="other",
                LifecycleActionToken=a.token, LifecycleActionResult="ABANDON")
        self.assert_validation(ctx, "No active Lifecycle Action found")
        waiting = [i for i in self.ids if i != a.instance_id]
        with self.assertRaises(ClientError) as ctx:
            self.complete(LifecycleActionToken=a.token,
                          InstanceId=waiting[0])
        self.assert_validation(ctx, "No active Lifecycle Action found")
        with self.assertRaises(ClientError) as ctx:
            self.heartbeat(InstanceId=waiting[0])
        self.assert_validation(ctx, "No active Lifecycle Action found with "
                               "instance ID %s" % waiting[0])
        lax = self.client("autoscaling", config=botocore.config.Config(
            parameter_validation=False, retries={"total_max_attempts": 1}))
        with self.assertRaises(ClientError) as ctx:
            lax.record_lifecycle_action_heartbeat(
                AutoScalingGroupName=self.group, LifecycleHookName="drain",
                LifecycleActionToken="short-token")
        self.assert_validation(ctx, "lifecycleActionToken")
        # None of that touched the real action.
        b = self.emu.action(a.token)
        self.assertEqual((b.state, b.heartbeats), ("waiting", []))

    def test_launch_default_continue_and_abandon(self):
        self.emu.put_hook(self.group, "admit", transition="launching",
                          queue_url=self.url, default_result="CONTINUE",
                          test_notification=False)
        a = self.emu.launch(self.group)
        self.emu.set_deadline(a.token, 0.3)
        b = self.emu.wait_action(a.token, timeout=10)
        self.assertEqual((b.state, b.result, b.result_source),
                         ("timed_out", "CONTINUE", "default"))
        self.assertEqual(self.lifecycle_states(self.group)[a.instance_id],
                         "InService")
        c = self.emu.launch(self.group)
        self.asg.complete_lifecycle_action(
            AutoScalingGroupName=self.group, LifecycleHookName="admit",
            LifecycleActionToken=c.token, LifecycleActionResult="ABANDON")
        self.assertEqual(self.ec2_state(c.instance_id), "terminated")
        self.assertNotIn(c.instance_id, self.lifecycle_states(self.group))

    def test_scale_in_protection(self):
        self.asg.set_instance_protection(
            AutoScalingGroupName=self.group, InstanceIds=[self.ids[0]],
            ProtectedFromScaleIn=True)
        with self.assertRaises(ValueError):
            self.emu.scale_in(self.group, self.ids[0])
        a = self.emu.scale_in(self.group)
        self.assertNotEqual(a.instance_id, self.ids[0])


class ProtectionTest(EmuCase):
    """Scale-in protection: SetInstanceProtection over HTTP steers the
    group's scale-in choice, as AWS's does."""

    def setUp(self):
        self.url = self.fresh_queue()
        self.group, self.ids = self.fresh_group(3)
        self.emu.put_hook(self.group, "drain", queue_url=self.url,
                          test_notification=False)
        self.asg = self.client("autoscaling")

    def protect(self, ids, on=True, group=None):
        return self.asg.set_instance_protection(
            AutoScalingGroupName=group or self.group, InstanceIds=ids,
            ProtectedFromScaleIn=on)

    def described(self):
        r = self.asg.describe_auto_scaling_instances(InstanceIds=self.ids)
        return {i["InstanceId"]: i["ProtectedFromScaleIn"]
                for i in r["AutoScalingInstances"]}

    def test_http_protection_steers_scale_in(self):
        self.emu.clear_calls()
        self.assertEqual(self.emu.calls("SetInstanceProtection"), [])
        self.protect(self.ids[:2])
        want = {self.ids[0]: True, self.ids[1]: True, self.ids[2]: False}
        self.assertEqual(self.emu.protection(self.group), want)
        self.assertEqual(self.described(), want)
        (call,) = self.emu.calls("SetInstanceProtection")
        self.assertEqual((call["service"], call["status"]),
                         ("autoscaling", 200))
        self.assertEqual(call["params"]["ProtectedFromScaleIn"], "true")
        self.assertEqual(call["params"]["AutoScalingGroupName"], self.group)
        self.assertEqual(sorted(v for k, v in call["params"].items()
                                if k.startswith("InstanceIds.member.")),
                         sorted(self.ids[:2]))
        # The group may take only the unprotected one, whatever its rank.
        self.assertEqual(self.emu.scale_in_choice(self.group), self.ids[2])
        a = self.emu.scale_in(self.group)
        self.assertEqual(a.instance_id, self.ids[2])
        # Unprotecting over HTTP opens the others again.
        self.protect([self.ids[1]], on=False)
        self.assertEqual(self.emu.calls("SetInstanceProtection")[-1]
                         ["params"]["ProtectedFromScaleIn"], "false")
        self.assertFalse(self.emu.protection(self.group)[self.ids[1]])
        self.assertEqual(self.emu.scale_in(self.group).instance_id,
                         self.ids[1])

    def test_every_instance_protected_blocks_scale_in(self):
        from harness.awsemu import ScaleInBlocked
        self.protect(self.ids)
        desired = self.emu.sim.group(self.group).desired_capacity
        self.assertIsNone(self.emu.scale_in_choice(self.group))
        with self.assertRaises(ScaleInBlocked) as ctx:
            self.emu.scale_in(self.group)
        self.assertIn("protected from scale in", str(ctx.exception))
        self.assertIsInstance(ctx.exception, ValueError)
        # Nothing happened: no action, no message, same capacity.
        self.assertEqual([a for a in self.emu.actions()
                          if a.group == self.group], [])
        self.assert_empty(self.url)
        self.assertEqual(self.emu.sim.group(self.group).desired_capacity,
                         desired)
        self.assertEqual(set(self.lifecycle_states(self.group).values()),
                         {"InService"})

    def test_default_policy_order(self):
        g = self.emu.sim.group(self.group)
        st = {s.instance.id: s for s in g.instance_states}
        # White box: two zones, the busier one loses an instance first
        # even though the other zone holds the oldest launch.
        st[self.ids[0]].instance._placement.zone = "us-east-1a"
        st[self.ids[1]].instance._placement.zone = "us-east-1b"
        st[self.ids[2]].instance._placement.zone = "us-east-1b"
        t0 = st[self.ids[0]].instance.launch_time
        st[self.ids[1]].instance.launch_time = t0 + datetime.timedelta(
            seconds=20)
        st[self.ids[2]].instance.launch_time = t0 + datetime.timedelta(
            seconds=10)
        # ids[2] is the oldest of the busier zone.
        self.assertEqual(self.emu.scale_in(self.group).instance_id,
                         self.ids[2])
        # Zones now hold one each: the oldest launch goes next.
        self.assertEqual(self.emu.scale_in_choice(self.group), self.ids[0])
        self.protect([self.ids[0]])
        self.assertEqual(self.emu.scale_in(self.group).instance_id,
                         self.ids[1])

    def test_validation_changes_nothing(self):
        other_group, other_ids = self.fresh_group(1)
        cases = [
            ("nope-" + self.group, [self.ids[0]], "not found"),
            (self.group, [self.ids[0], other_ids[0]],
             "The instance %s is not part of Auto Scaling group %s."
             % (other_ids[0], self.group)),
            (self.group, [self.ids[0], "i-0123456789abcdef0"],
             "is not part of Auto Scaling group"),
            (self.group, [self.ids[0]] * 51, "limit of 50"),
        ]
        for group, ids, text in cases:
            with self.assertRaises(ClientError) as ctx:
                self.protect(ids, group=group)
            self.assert_validation(ctx, text)
        self.assertEqual(set(self.emu.protection(self.group).values()),
                         {False})
        self.assertEqual(set(self.emu.protection(other_group).values()),
                         {False})
        self.assertEqual([c["status"] for c in
                          self.emu.calls("SetInstanceProtection")[-4:]],
                         [400] * 4)

    def test_emulator_knob_is_not_a_call(self):
        self.emu.clear_calls()
        self.emu.set_protection(self.group, [self.ids[1]])
        self.assertTrue(self.emu.protection(self.group)[self.ids[1]])
        self.assertEqual(self.emu.calls("SetInstanceProtection"), [])
        self.assertEqual(self.described()[self.ids[1]], True)


class Ec2NoticeTest(EmuCase):
    """Spot interruption warnings (EC2 reclaims the instance on its own)
    and rebalance recommendations."""

    def setUp(self):
        self.url = self.fresh_queue()
        self.group, self.ids = self.fresh_group(3)
        self.emu.put_hook(self.group, "drain", queue_url=self.url,
                          test_notification=False)
        self.asg = self.client("autoscaling")

    def zone(self, instance_id):
        r = self.client("ec2").describe_instances(InstanceIds=[instance_id])
        return r["Reservations"][0]["Instances"][0]["Placement"][
            "AvailabilityZone"]

    def check_event(self, e, detail_type, instance_id):
        self.assertEqual(set(e), EVENT_KEYS)
        self.assertEqual(e["version"], "0")
        self.assertRegex(e["id"], UUID_RE)
        self.assertEqual(e["source"], "aws.ec2")
        self.assertEqual(e["detail-type"], detail_type)
        self.assertEqual(e["account"], self.emu.account_id)
        self.assertEqual(e["region"], self.emu.region)
        self.assertRegex(e["time"], TIME_S_RE)
        self.assertEqual(e["detail"]["instance-id"], instance_id)

    def test_spot_warning_body(self):
        victim = self.ids[1]
        n = self.emu.spot_interruption(victim, queue_url=self.url)
        (body,) = self.receive(self.url)
        self.assertEqual(body, n.body)
        e = json.loads(body)
        self.check_event(e, "EC2 Spot Instance Interruption Warning", victim)
        self.assertEqual(e["detail"], {"instance-id": victim,
                                       "instance-action": "terminate"})
        self.assertEqual(e["id"], n.event_id)
        # EC2's own ARN form for this event: zone, no account.
        self.assertEqual(e["resources"], ["arn:aws:ec2:%s:instance/%s"
                                          % (self.zone(victim), victim)])
        self.assertEqual((n.kind, n.state, n.group, n.instance_action),
                         ("spot", "pending", self.group, "terminate"))
        self.assertAlmostEqual(n.reclaim_at - n.warned_at, 120.0, places=3)
        self.assertIsNone(self.emu.reclaimed_at(victim))
        self.assertEqual(self.ec2_state(victim), "running")
        # One warning at a time.
        with self.assertRaises(ValueError):
            self.emu.spot_interruption(victim, queue_url=self.url)

    def test_reclaim_without_asking_anyone(self):
        victim = self.ids[0]
        desired = self.emu.sim.group(self.group).desired_capacity
        self.emu.clear_calls()
        n = self.emu.spot_interruption(victim, reclaim_after=0.5,
                                       queue_url=self.url)
        self.assertEqual(self.emu.spot_notice(victim).state, "pending")
        m = self.emu.wait_reclaim(victim, timeout=10)
        # Nobody was asked: no API call, no lifecycle action.
        self.assertEqual(self.emu.calls(), [])
        self.assertEqual([a for a in self.emu.actions()
                          if a.instance_id == victim], [])
        self.assertEqual(m.state, "reclaimed")
        self.assertGreaterEqual(m.reclaimed_at, n.reclaim_at)
        self.assertEqual(self.emu.reclaimed_at(victim), m.reclaimed_at)
        self.assertEqual(m.ended_tokens, [])
        self.assertEqual(self.ec2_state(victim), "terminated")
        self.assertNotIn(victim, self.lifecycle_states(self.group))
        self.assertEqual(self.emu.sim.group(self.group).desired_capacity,
                         desired - 1)
        self.assertEqual(len(self.receive(self.url)), 1)  # the warning

    def test_reclaim_ends_a_waiting_action(self):
        victim = self.ids[2]
        a = self.emu.scale_in(self.group, victim)
        desired = self.emu.sim.group(self.group).desired_capacity
        self.emu.spot_interruption(victim, reclaim_after=0.3,
                                   queue_url=self.url)
        m = self.emu.wait_reclaim(victim, timeout=10)
        self.assertEqual(m.ended_tokens, [a.token])
        b = self.emu.wait_action(a.token, timeout=5)
        self.assertEqual((b.state, b.result, b.result_source),
                         ("instance_gone", None, "reclaimed"))
        self.assertEqual(b.completed_at, m.reclaimed_at)
        self.assertEqual(self.ec2_state(victim), "terminated")
        self.assertNotIn(victim, self.lifecycle_states(self.group))
        # The scale-in already lowered the capacity; the reclaim does not.
        self.assertEqual(self.emu.sim.group(self.group).desired_capacity,
                         desired)
        with self.assertRaises(ClientError) as ctx:
            self.asg.complete_lifecycle_action(
                AutoScalingGroupName=self.group, LifecycleHookName="drain",
                LifecycleActionToken=a.token, LifecycleActionResult="CONTINUE")
        self.assert_validation(ctx, "No active Lifecycle Action found")
        with self.assertRaises(ClientError):
            self.asg.record_lifecycle_action_heartbeat(
                AutoScalingGroupName=self.group, LifecycleHookName="drain",
                InstanceId=victim)

    def test_terminate_hook_follows_the_warning(self):
        victim = self.ids[0]
        # Protection does not hold off a Spot interruption.
        self.emu.set_protection(self.group, [victim])
        n = self.emu.spot_interruption(
            victim, reclaim_after=3.0, terminate_hook=True,
            terminate_hook_after=0.2, queue_url=self.url)
        self.assertAlmostEqual(n.terminate_hook_at - n.warned_at, 0.2,
                               places=3)
        bodies = [json.loads(b) for b in self.receive(self.url, 2)]
        warning = [b for b in bodies if b.get("source") == "aws.ec2"]
        life = [b for b in bodies if "LifecycleTransition" in b]
        self.assertEqual(len(warning), 1)
        self.assertEqual(len(life), 1)
        self.assertEqual(life[0]["EC2InstanceId"], victim)
        self.assertEqual(life[0]["LifecycleTransition"], TERMINATING)
        (token,) = self.emu.spot_notice(victim).terminate_tokens
        self.assertEqual(life[0]["LifecycleActionToken"], token)
        a = self.emu.action(token)
        self.assertGreaterEqual(a.started_at, n.terminate_hook_at)
        self.assertEqual(self.lifecycle_states(self.group)[victim],
                         "Terminating:Wait")
        # The consumer finishes in time: EC2 then finds nothing to reclaim.
        self.asg.complete_lifecycle_action(
            AutoScalingGroupName=self.group, LifecycleHookName="drain",
            LifecycleActionToken=token, LifecycleActionResult="CONTINUE")
        b = self.emu.action(token)
        self.assertEqual((b.state, b.result), ("completed", "CONTINUE"))
        self.assertLess(b.completed_at, n.reclaim_at)
        m = self.emu.wait_reclaim(victim, timeout=10)
        self.assertEqual((m.state, m.reclaimed_at, m.ended_tokens),
                         ("already_gone", None, []))
        self.assertIsNone(self.emu.reclaimed_at(victim))
        self.assertEqual(self.ec2_state(victim), "terminated")

    def test_terminate_hook_too_late_is_skipped(self):
        victim = self.ids[1]
        self.emu.spot_interruption(victim, reclaim_after=0.2,
                                   terminate_hook=True,
                                   terminate_hook_after=0.5,
                                   queue_url=self.url)
        self.emu.wait_reclaim(victim, timeout=10)
        end = time.monotonic() + 10
        while self.emu.spot_notice(victim).terminate_hook_note is None:
            self.assertLess(time.monotonic(), end)
            time.sleep(0.05)
        m = self.emu.spot_notice(victim)
        self.assertEqual(m.terminate_tokens, [])
        self.assertIn("no longer in a group", m.terminate_hook_note)
        self.assertEqual(self.emu.sim.timer_errors, [])

    def test_replacement_and_state_events(self):
        self.emu.put_hook(self.group, "admit", transition="launching",
                          queue_url=self.url, test_notification=False)
        victim = self.ids[0]
        desired = self.emu.sim.group(self.group).desired_capacity
        self.emu.spot_interruption(victim, reclaim_after=0.3, replace=True,
                                   state_events=True, queue_url=self.url)
        m = self.emu.wait_reclaim(victim, timeout=10)
        self.assertIsNotNone(m.replacement_id)
        self.assertEqual(self.emu.sim.group(self.group).desired_capacity,
                         desired)
        self.assertEqual(self.lifecycle_states(self.group)[m.replacement_id],
                         "Pending:Wait")
        bodies = [json.loads(b) for b in self.receive(self.url, 4)]
        kinds = [b.get("detail-type") or b.get("LifecycleTransition")
                 for b in bodies]
        self.assertEqual(sorted(kinds), sorted([
            "EC2 Spot Instance Interruption Warning", LAUNCHING,
            "EC2 Instance State-change Notification",
            "EC2 Instance State-change Notification"]))
        states = [b["detail"]["state"] for b in bodies
                  if b.get("detail-type") ==
                  "EC2 Instance State-change Notification"]
        self.assertEqual(states, ["shutting-down", "terminated"])
        for b in bodies:
            if b.get("detail-type") == \
                    "EC2 Instance State-change Notification":
                self.check_event(b, b["detail-type"], victim)
                self.assertEqual(b["resources"], [
                    "arn:aws:ec2:%s:%s:instance/%s" % (
                        self.emu.region, self.emu.account_id, victim)])

    def test_stop_action(self):
        victim = self.ids[2]
        self.emu.spot_interruption(victim, reclaim_after=0.2, action="stop",
                                   queue_url=self.url)
        (body,) = self.receive(self.url)
        self.assertEqual(json.loads(body)["detail"]["instance-action"],
                         "stop")
        self.assertEqual(self.emu.wait_reclaim(victim, 10).state,
                         "reclaimed")
        self.assertEqual(self.ec2_state(victim), "stopped")
        r = self.asg.describe_auto_scaling_instances(InstanceIds=[victim])
        (inst,) = r["AutoScalingInstances"]
        self.assertEqual(inst["HealthStatus"], "Unhealthy")

    def test_rebalance_recommendation(self):
        victim = self.ids[1]
        n = self.emu.rebalance_recommendation(victim, queue_url=self.url)
        (body,) = self.receive(self.url)
        self.assertEqual(body, n.body)
        e = json.loads(body)
        self.check_event(e, "EC2 Instance Rebalance Recommendation", victim)
        self.assertEqual(e["detail"], {"instance-id": victim})
        self.assertEqual(e["resources"], ["arn:aws:ec2:%s:%s:instance/%s" % (
            self.emu.region, self.emu.account_id, victim)])
        self.assertEqual(n.kind, "rebalance")
        self.assertIsNone(n.reclaim_at)
        # Only advice: nothing is taken.
        self.assertEqual(self.ec2_state(victim), "running")
        self.assertEqual(self.lifecycle_states(self.group)[victim],
                         "InService")
        # With Capacity Rebalancing the group starts terminating it.
        desired = self.emu.sim.group(self.group).desired_capacity
        n = self.emu.rebalance_recommendation(
            victim, terminate_hook=True, terminate_hook_after=0.1,
            queue_url=self.url)
        bodies = [json.loads(b) for b in self.receive(self.url, 2)]
        (life,) = [b for b in bodies if "LifecycleTransition" in b]
        self.assertEqual(life["EC2InstanceId"], victim)
        (m,) = [x for x in self.emu.sim.rebalance_notices()
                if x.event_id == n.event_id]
        self.assertEqual(m.terminate_tokens, [life["LifecycleActionToken"]])
        self.assertEqual(self.emu.sim.group(self.group).desired_capacity,
                         desired - 1)

    def test_refusals(self):
        with self.assertRaises(LookupError):
            self.emu.spot_interruption("i-0123456789abcdef0",
                                       queue_url=self.url)
        with self.assertRaises(ValueError):
            self.emu.spot_interruption(self.ids[0], action="reboot",
                                       queue_url=self.url)
        bare, bare_ids = self.fresh_group(1)
        with self.assertRaises(LookupError):    # no terminating hook
            self.emu.spot_interruption(bare_ids[0], terminate_hook=True,
                                       queue_url=self.url)
        with self.assertRaises(LookupError):
            self.emu.rebalance_recommendation(bare_ids[0],
                                              terminate_hook=True,
                                              queue_url=self.url)
        self.assert_empty(self.url)


class FaultTest(EmuCase):

    def status(self, ctx):
        r = ctx.exception.response
        return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]

    def test_sqs_throttle_then_success(self):
        url = self.fresh_queue()
        self.emu.send_raw("m", url)
        sqs = self.client("sqs")
        self.emu.inject_fault("ReceiveMessage", 2, "throttle")
        for _ in range(2):
            with self.assertRaises(ClientError) as ctx:
                sqs.receive_message(QueueUrl=url)
            self.assertEqual(self.status(ctx), ("RequestThrottled", 400))
        # Nothing was received while throttled.
        self.assertEqual(self.emu.queue_messages(url)["visible"], 1)
        r = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
        self.assertEqual(r["Messages"][0]["Body"], "m")
        self.assertEqual(
            [(c["status"], c["error_code"])
             for c in self.emu.calls("ReceiveMessage")[-3:]],
            [(400, "RequestThrottled"), (400, "RequestThrottled"),
             (200, None)])
        self.assertEqual(self.emu.faults_pending(), 0)

    def test_autoscaling_and_ec2_faults(self):
        group, ids = self.fresh_group()
        self.emu.put_hook(group, "drain", test_notification=False)
        a = self.emu.scale_in(group)
        asg = self.client("autoscaling")
        ec2 = self.client("ec2")
        self.emu.inject_fault("RecordLifecycleActionHeartbeat", 1, "500")
        self.emu.inject_fault("CompleteLifecycleAction", 1, "throttle")
        self.emu.inject_fault("DescribeInstances", 1, "throttle")
        self.emu.inject_fault("DescribeInstances", 1, "500")
        with self.assertRaises(ClientError) as ctx:
            asg.record_lifecycle_action_heartbeat(
                AutoScalingGroupName=group, LifecycleHookName="drain",
                LifecycleActionToken=a.token)
        self.assertEqual(self.status(ctx), ("InternalFailure", 500))
        with self.assertRaises(ClientError) as ctx:
            asg.complete_lifecycle_action(
                AutoScalingGroupName=group, LifecycleHookName="drain",
                LifecycleActionToken=a.token, LifecycleActionResult="CONTINUE")
        self.assertEqual(self.status(ctx), ("Throttling", 400))
        # The faults had no effect on the action.
        b = self.emu.action(a.token)
        self.assertEqual((b.state, b.heartbeats), ("waiting", []))
        with self.assertRaises(ClientError) as ctx:
            ec2.describe_instances(InstanceIds=[a.instance_id])
        self.assertEqual(self.status(ctx), ("RequestLimitExceeded", 503))
        with self.assertRaises(ClientError) as ctx:
            ec2.describe_instances(InstanceIds=[a.instance_id])
        self.assertEqual(self.status(ctx), ("InternalFailure", 500))
        ec2.describe_instances(InstanceIds=[a.instance_id])
        asg.complete_lifecycle_action(
            AutoScalingGroupName=group, LifecycleHookName="drain",
            LifecycleActionToken=a.token, LifecycleActionResult="CONTINUE")
        self.assertEqual(self.emu.action(a.token).state, "completed")

    def test_sqs_500_shape(self):
        url = self.fresh_queue()
        self.emu.inject_fault("DeleteMessage", 1, "500")
        req = urllib.request.Request(self.emu.endpoint + "/", method="POST")
        # Sign by hand through botocore so the raw response is visible.
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        body = json.dumps({"QueueUrl": url, "ReceiptHandle": "x"})
        areq = AWSRequest(method="POST", url=self.emu.endpoint + "/",
                          data=body, headers={
                              "Content-Type": "application/x-amz-json-1.0",
                              "X-Amz-Target": "AmazonSQS.DeleteMessage"})
        SigV4Auth(Credentials(self.emu.access_key, self.emu.secret_key),
                  "sqs", self.emu.region).add_auth(areq)
        req = urllib.request.Request(self.emu.endpoint + "/",
                                     data=body.encode(),
                                     headers=dict(areq.headers.items()),
                                     method="POST")
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            urllib.request.urlopen(req, timeout=10)
        e = ctx.exception
        self.addCleanup(e.close)
        self.assertEqual(e.code, 500)
        self.assertTrue(e.headers["Content-Type"].startswith(
            "application/x-amz-json-1.0"))
        self.assertEqual(e.headers["x-amzn-query-error"],
                         "InternalFailure;Receiver")
        doc = json.loads(e.read())
        self.assertEqual(doc["__type"].rsplit("#", 1)[-1], "InternalFailure")
        self.assertIn("message", doc)

    def test_fault_waits_for_a_signed_request(self):
        self.emu.inject_fault("ListQueues", 1, "throttle")
        bad = boto3.session.Session(
            aws_access_key_id=self.emu.access_key,
            aws_secret_access_key="wrong" * 8, region_name=self.emu.region,
        ).client("sqs", endpoint_url=self.emu.endpoint, config=NO_RETRY)
        with self.assertRaises(ClientError) as ctx:
            bad.list_queues()
        self.assertIn("SignatureDoesNotMatch", str(ctx.exception))
        self.assertEqual(self.emu.faults_pending("ListQueues"), 1)
        with self.assertRaises(ClientError) as ctx:
            self.client("sqs").list_queues()
        self.assertEqual(self.status(ctx), ("RequestThrottled", 400))
        self.client("sqs").list_queues()

    def test_bad_fault_kind(self):
        with self.assertRaises(ValueError):
            self.emu.inject_fault("ReceiveMessage", 1, "teapot")


_CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from harness.net import allocate
from harness.awsemu import AwsEmulator
net = allocate()
emu = AwsEmulator(net).start()
ids = emu.create_group("jvb", 1)
print(json.dumps({"n": net.n, "ip": emu.instance_ip(ids[0])}), flush=True)
sys.stdin.read()
emu.stop()
"""


class ParallelTest(unittest.TestCase):

    def test_parallel_emulators_get_different_subnets(self):
        procs = []
        for _ in range(2):
            p = subprocess.Popen(
                [sys.executable, "-c", _CHILD, os.path.dirname(HERE)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            procs.append(p)
            self.addCleanup(self._reap, p)
        got = []
        for p in procs:
            ready, _, _ = select.select([p.stdout], [], [], 60)
            self.assertTrue(ready, "child emulator did not start in 60 s")
            got.append(json.loads(p.stdout.readline()))
        # Both run at once: neither has exited yet.
        self.assertTrue(all(p.poll() is None for p in procs))
        self.assertNotEqual(got[0]["n"], got[1]["n"])
        for g in got:
            self.assertTrue(g["ip"].startswith("127.0.%d." % g["n"]), g)
        for p in procs:
            p.stdin.close()
        for p in procs:
            self.assertEqual(p.wait(timeout=30), 0)

    @staticmethod
    def _reap(p):
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)
        for f in (p.stdin, p.stdout):
            if f and not f.closed:
                f.close()


class ServeTest(unittest.TestCase):

    def test_serve_mode(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        state = os.path.join(tmp.name, "aws.json")
        p = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "awsemu.py"), "serve",
             "--state-file", state, "--size", "2", "--group", "jvb-demo"],
            stdin=subprocess.DEVNULL)
        self.addCleanup(self._reap, p)
        end = time.monotonic() + 60
        while not os.path.exists(state):
            self.assertIsNone(p.poll(), "serve exited early")
            self.assertLess(time.monotonic(), end, "no state file in 60 s")
            time.sleep(0.1)
        self.assertEqual(stat.S_IMODE(os.stat(state).st_mode), 0o600)
        with open(state) as f:
            st = json.load(f)
        self.assertEqual(len(st["instances"]), 2)
        for i in st["instances"]:
            self.assertTrue(i["ip"].startswith("127.0.%d." % st["net"]))
        sess = boto3.session.Session(
            aws_access_key_id=st["access_key_id"],
            aws_secret_access_key=st["secret_access_key"],
            region_name=st["region"])
        sqs = sess.client("sqs", endpoint_url=st["endpoint"], config=NO_RETRY)

        def drain(n):
            out = []
            end = time.monotonic() + 10
            while len(out) < n and time.monotonic() < end:
                r = sqs.receive_message(QueueUrl=st["queue_url"],
                                        MaxNumberOfMessages=10,
                                        WaitTimeSeconds=1)
                for m in r.get("Messages", []):
                    out.append(json.loads(m["Body"]))
                    sqs.delete_message(QueueUrl=st["queue_url"],
                                       ReceiptHandle=m["ReceiptHandle"])
            return out

        tests = drain(2)
        self.assertEqual([t["Event"] for t in tests],
                         ["autoscaling:TEST_NOTIFICATION"] * 2)

        def ctl(method, path, body=None):
            data = json.dumps(body).encode() if body is not None else None
            req = urllib.request.Request(st["control_url"] + path, data=data,
                                         method=method)
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read())

        a = ctl("POST", "/scale-in", {})
        self.assertEqual(a["state"], "waiting")
        (m,) = drain(1)
        self.assertEqual(m["LifecycleActionToken"], a["token"])
        ctl("POST", "/fault", {"operation": "ReceiveMessage", "count": 1})
        with self.assertRaises(ClientError) as ctx:
            sqs.receive_message(QueueUrl=st["queue_url"])
        self.assertEqual(ctx.exception.response["Error"]["Code"],
                         "RequestThrottled")
        calls = ctl("GET", "/calls?operation=ReceiveMessage")
        self.assertEqual(calls[-1]["error_code"], "RequestThrottled")
        ctl("POST", "/set-deadline", {"token": a["token"], "seconds": 0.2})
        end = time.monotonic() + 10
        while ctl("GET", "/actions/" + a["token"])["state"] == "waiting":
            self.assertLess(time.monotonic(), end)
            time.sleep(0.1)
        self.assertEqual(ctl("GET", "/actions/" + a["token"])["result"],
                         "ABANDON")

        # Protection set over the API blocks the scale-in: 409.
        (left,) = [i["id"] for i in st["instances"] if i["id"] != a[
            "instance_id"]]
        self.assertEqual(ctl("GET", "/protection"), {left: False})
        self.assertEqual(ctl("GET", "/scale-in-choice"),
                         {"instance_id": left})
        sess.client("autoscaling", endpoint_url=st["endpoint"],
                    config=NO_RETRY).set_instance_protection(
            AutoScalingGroupName=st["group"], InstanceIds=[left],
            ProtectedFromScaleIn=True)
        self.assertEqual(ctl("GET", "/protection"), {left: True})
        self.assertEqual(ctl("GET", "/scale-in-choice"),
                         {"instance_id": None})
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            ctl("POST", "/scale-in", {})
        self.assertEqual(ctx.exception.code, 409)
        self.assertIn("ScaleInBlocked", ctx.exception.read().decode())
        ctx.exception.close()

        r = ctl("POST", "/rebalance-recommendation", {"instance_id": left})
        self.assertEqual((r["kind"], r["instance_id"]), ("rebalance", left))
        (w,) = drain(1)
        self.assertEqual(w["detail-type"],
                         "EC2 Instance Rebalance Recommendation")

        # A Spot interruption, reclaimed in 0.3 s.
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            ctl("POST", "/spot-interruption", {"instance_id": left,
                                               "replace": "yes"})
        self.assertEqual(ctx.exception.code, 400)
        ctx.exception.close()
        n = ctl("POST", "/spot-interruption", {"instance_id": left,
                                               "reclaim_after": 0.3})
        self.assertEqual((n["state"], n["instance_action"]),
                         ("pending", "terminate"))
        (w,) = drain(1)
        self.assertEqual(w["detail-type"],
                         "EC2 Spot Instance Interruption Warning")
        end = time.monotonic() + 10
        while ctl("GET", "/spot/" + left)["state"] == "pending":
            self.assertLess(time.monotonic(), end)
            time.sleep(0.1)
        self.assertEqual(ctl("GET", "/spot/" + left)["state"], "reclaimed")
        # Nothing to advise about an instance that is gone.
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            ctl("POST", "/rebalance-recommendation", {"instance_id": left})
        self.assertEqual(ctx.exception.code, 400)
        ctx.exception.close()
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=30), 0)
        self.assertFalse(os.path.exists(state))

    @staticmethod
    def _reap(p):
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)


if __name__ == "__main__":
    unittest.main()
