"""scripts/aws-setup (AWS CLI) against the AWS emulator (moto on loopback).

Checks what it creates (queues and their attributes, dead-letter redrive,
the hooks' role, the hooks as DescribeLifecycleHooks shows them, the
EventBridge variant), that a scale-in then really lands in its queue, that
re-running is safe, and that --dry-run changes nothing.
"""

import json
import tempfile
import re
import os
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from harness.awsemu import AwsEmulator  # noqa: E402
from harness.net import allocate  # noqa: E402

sys.path.insert(0, HERE)
from runner import main  # noqa: E402

SCRIPT = os.environ.get("JVB_AWS_SETUP",
                        os.path.join(HERE, "..", "..", "scripts", "aws-setup"))
GROUP = "jvb-setup-test"
QUEUE = "jvb-setup-q"
ROLE = "jvb-lifecycled-hooks"
TERM = "jvb-lifecycled-terminate"
LAUNCH = "jvb-lifecycled-launch"
DAEMON_ACTIONS = {
    "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes", "autoscaling:CompleteLifecycleAction",
    "autoscaling:RecordLifecycleActionHeartbeat",
    "autoscaling:DescribeLifecycleHooks",
    "autoscaling:DescribeAutoScalingInstances", "ec2:DescribeInstances",
}
READ_ONLY = {"GetCallerIdentity", "DescribeAutoScalingGroups", "GetRole",
             "GetQueueUrl", "GetQueueAttributes", "DescribeLifecycleHooks"}


class AwsSetupTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if shutil.which("aws") is None:
            raise unittest.SkipTest("missing: the AWS CLI (aws)")
        cls.net = allocate()

    @classmethod
    def tearDownClass(cls):
        cls.net.release()

    def setUp(self):
        self.emu = AwsEmulator(self.net).start()
        self.addCleanup(self.emu.stop)
        self.instances = self.emu.create_group(GROUP, 2)
        self.sqs = self.emu.client("sqs")
        self.asg = self.emu.client("autoscaling")
        self.iam = self.emu.client("iam")
        self.events = self.emu.client("events")
        self.qarn = "arn:aws:sqs:%s:%s:%s" % (self.emu.region,
                                             self.emu.account_id, QUEUE)
        self.dlq_arn = self.qarn + "-dlq"

    # helpers ---------------------------------------------------------------

    def run_setup(self, *args, group=GROUP, check=True):
        # Credentials by environment only, and nothing from this machine's
        # own AWS configuration.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AWS_")}
        env.update({
            "AWS_ACCESS_KEY_ID": self.emu.access_key,
            "AWS_SECRET_ACCESS_KEY": self.emu.secret_key,
            "AWS_DEFAULT_REGION": self.emu.region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        argv = [SCRIPT, "--endpoint-url", self.emu.endpoint,
                "--queue-name", QUEUE]
        if group:
            argv += ["--group", group]
        argv += list(args)
        p = subprocess.run(argv, env=env, capture_output=True, text=True,
                           timeout=300)
        self.assertNotIn(self.emu.secret_key, p.stdout + p.stderr)
        self.assertNotIn(self.emu.secret_key, " ".join(argv))
        if check:
            self.assertEqual(p.returncode, 0, "stdout:\n%s\nstderr:\n%s"
                             % (p.stdout, p.stderr))
        return p

    def queue_url(self, name):
        return self.sqs.get_queue_url(QueueName=name)["QueueUrl"]

    def attrs(self, name):
        return self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url(name), AttributeNames=["All"])["Attributes"]

    def queue_names(self):
        urls = self.sqs.list_queues().get("QueueUrls", [])
        return sorted(u.rsplit("/", 1)[-1] for u in urls)

    def hooks(self):
        hs = self.asg.describe_lifecycle_hooks(
            AutoScalingGroupName=GROUP)["LifecycleHooks"]
        return {h["LifecycleHookName"]: h for h in hs}

    def receive_all(self, name, want, timeout=20):
        """Bodies (parsed) from the queue until `want` arrived."""
        url = self.queue_url(name)
        out = []
        for _ in range(max(1, timeout // 2)):
            r = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                         WaitTimeSeconds=2)
            for m in r.get("Messages", []):
                out.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=url,
                                        ReceiptHandle=m["ReceiptHandle"])
            if len(out) >= want:
                break
        return out

    def writes(self):
        return [c["operation"] for c in self.emu.calls()
                if c["operation"] not in READ_ONLY]

    def check_policy(self, text, extra=()):
        pol = json.loads(text)
        actions, resources = set(), {}
        for st in pol["Statement"]:
            self.assertEqual(st["Effect"], "Allow")
            acts = st["Action"] if isinstance(st["Action"], list) \
                else [st["Action"]]
            for a in acts:
                actions.add(a)
                resources[a] = st["Resource"]
        self.assertEqual(actions, DAEMON_ACTIONS | set(extra))
        for a in ("sqs:ReceiveMessage", "sqs:DeleteMessage",
                  "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"):
            self.assertEqual(resources[a], self.qarn)
        self.assertEqual(resources["autoscaling:CompleteLifecycleAction"], [
            "arn:aws:autoscaling:%s:%s:autoScalingGroup:*:"
            "autoScalingGroupName/%s" % (self.emu.region, self.emu.account_id,
                                         GROUP)])

    # tests -----------------------------------------------------------------

    def test_sqs_target_created_idempotent_and_wired(self):
        # --dry-run first: says what it would do, does none of it.
        self.emu.clear_calls()
        p = self.run_setup("--dry-run", "--heartbeat-timeout", "600")
        self.assertEqual(self.writes(), [])
        self.assertIn("would run: aws sqs create-queue", p.stderr)
        self.assertIn("would run: aws autoscaling put-lifecycle-hook", p.stderr)
        self.assertNotIn(QUEUE, self.queue_names())
        self.assertEqual(self.hooks(), {})

        p = self.run_setup("--heartbeat-timeout", "600")
        self.check_policy(p.stdout)
        self.assertIn("queue_url = %s" % self.queue_url(QUEUE), p.stderr)
        self.assertTrue(all(c["access_key"] == self.emu.access_key
                            for c in self.emu.calls()))

        # The queue, its dead-letter queue and the redrive between them.
        a = self.attrs(QUEUE)
        self.assertEqual(a["VisibilityTimeout"], "300")
        self.assertEqual(a["MessageRetentionPeriod"], "345600")
        self.assertEqual(a["ReceiveMessageWaitTimeSeconds"], "20")
        self.assertEqual(a["SqsManagedSseEnabled"], "true")
        self.assertEqual(json.loads(a["RedrivePolicy"]), {
            "deadLetterTargetArn": self.dlq_arn, "maxReceiveCount": 10})
        self.assertEqual(self.attrs(QUEUE + "-dlq")["MessageRetentionPeriod"],
                         "1209600")
        policy = json.loads(a["Policy"])
        allow = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
        role_arn = "arn:aws:iam::%s:role/%s" % (self.emu.account_id, ROLE)
        ec2_rule = "jvb-lifecycled-ec2-" + QUEUE
        ec2_rule_arn = "arn:aws:events:%s:%s:rule/%s" % (
            self.emu.region, self.emu.account_id, ec2_rule)
        self.assertEqual(allow, [{
            "Sid": "HooksPublish", "Effect": "Allow",
            "Principal": {"AWS": role_arn}, "Action": "sqs:SendMessage",
            "Resource": self.qarn}, {
            "Sid": "EventBridgePublish", "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": self.qarn,
            "Condition": {"ArnEquals": {"aws:SourceArn": [ec2_rule_arn]}}}])
        # EC2's spot warnings and rebalance recommendations reach the queue
        # too (spot reclaims skip lifecycle hooks)
        r = self.events.describe_rule(Name=ec2_rule)
        self.assertEqual(json.loads(r["EventPattern"]), {
            "source": ["aws.ec2"], "detail-type": [
                "EC2 Spot Instance Interruption Warning",
                "EC2 Instance Rebalance Recommendation"]})
        targets = self.events.list_targets_by_rule(Rule=ec2_rule)["Targets"]
        self.assertEqual([t["Arn"] for t in targets], [self.qarn])

        # The role Auto Scaling assumes, allowed to publish to that queue.
        role = self.iam.get_role(RoleName=ROLE)["Role"]
        self.assertEqual(role["Arn"], role_arn)
        trust = role["AssumeRolePolicyDocument"]
        if isinstance(trust, str):
            trust = json.loads(trust)
        self.assertEqual(trust["Statement"][0]["Principal"],
                         {"Service": "autoscaling.amazonaws.com"})
        rp = self.iam.get_role_policy(RoleName=ROLE,
                                      PolicyName="jvb-lifecycled-publish")
        doc = rp["PolicyDocument"]
        if isinstance(doc, str):
            doc = json.loads(doc)
        self.assertEqual(doc["Statement"][0]["Resource"], self.qarn)
        self.assertIn("sqs:SendMessage", doc["Statement"][0]["Action"])

        # The hooks, as the daemon will see them.
        hooks = self.hooks()
        self.assertEqual(set(hooks), {TERM, LAUNCH})
        t, la = hooks[TERM], hooks[LAUNCH]
        self.assertEqual(t["LifecycleTransition"],
                         "autoscaling:EC2_INSTANCE_TERMINATING")
        self.assertEqual(la["LifecycleTransition"],
                         "autoscaling:EC2_INSTANCE_LAUNCHING")
        self.assertEqual((t["HeartbeatTimeout"], la["HeartbeatTimeout"]),
                         (600, 900))
        self.assertEqual((t["DefaultResult"], la["DefaultResult"]),
                         ("CONTINUE", "CONTINUE"))
        for h in (t, la):
            self.assertEqual(h["NotificationTargetARN"], self.qarn)
            self.assertEqual(h["RoleARN"], role_arn)

        # Wired: the test notifications, then a real scale-in, arrive.
        bodies = self.receive_all(QUEUE, 2)
        self.assertEqual([b.get("Event") for b in bodies],
                         ["autoscaling:TEST_NOTIFICATION"] * 2)
        action = self.emu.scale_in(GROUP)
        (body,) = self.receive_all(QUEUE, 1)
        self.assertEqual(body["LifecycleHookName"], TERM)
        self.assertEqual(body["EC2InstanceId"], action.instance_id)
        self.assertEqual(body["LifecycleActionToken"], action.token)

        # Again: same result, nothing created twice.
        before = {n: self.attrs(n) for n in (QUEUE, QUEUE + "-dlq")}
        self.emu.clear_calls()
        p2 = self.run_setup("--heartbeat-timeout", "600")
        self.assertEqual(p2.stdout, p.stdout)
        ops = self.writes()
        for op in ("CreateQueue", "CreateRole"):
            self.assertNotIn(op, ops)
        self.assertIn("SetQueueAttributes", ops)
        after = {n: self.attrs(n) for n in (QUEUE, QUEUE + "-dlq")}
        for n in before:
            for k in ("VisibilityTimeout", "MessageRetentionPeriod",
                      "ReceiveMessageWaitTimeSeconds", "RedrivePolicy",
                      "Policy", "QueueArn"):
                self.assertEqual(before[n].get(k), after[n].get(k), (n, k))
        self.assertEqual(self.hooks(), hooks)
        self.assertEqual(self.queue_names().count(QUEUE), 1)

        # --no-launch-hook takes ours away and leaves the terminate hook.
        self.run_setup("--heartbeat-timeout", "600", "--no-launch-hook")
        self.assertEqual(set(self.hooks()), {TERM})

        # Hooks with a queue target cannot silently become EventBridge ones.
        self.emu.clear_calls()
        p = self.run_setup("--target", "eventbridge", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("delete them", p.stderr)
        self.assertEqual(self.writes(), [])

    def test_policy_with_protection(self):
        p = self.run_setup("--print-policy", "--protection")
        self.check_policy(p.stdout, extra=(
            "autoscaling:SetInstanceProtection",
            "autoscaling:DescribeAutoScalingGroups"))
        pol = json.loads(p.stdout)
        st = [x for x in pol["Statement"]
              if x["Sid"] == "ScaleInProtection"][0]
        self.assertEqual(st["Resource"], [
            "arn:aws:autoscaling:%s:%s:autoScalingGroup:*:"
            "autoScalingGroupName/%s" % (self.emu.region, self.emu.account_id,
                                         GROUP)])

    def test_eventbridge_target(self):
        p = self.run_setup("--target", "eventbridge")
        self.check_policy(p.stdout)
        rule = "jvb-lifecycled-" + GROUP
        r = self.events.describe_rule(Name=rule)
        pattern = json.loads(r["EventPattern"])
        self.assertEqual(pattern["source"], ["aws.autoscaling"])
        self.assertEqual(sorted(pattern["detail-type"]), [
            "EC2 Instance-launch Lifecycle Action",
            "EC2 Instance-terminate Lifecycle Action"])
        self.assertEqual(pattern["detail"]["AutoScalingGroupName"], [GROUP])
        targets = self.events.list_targets_by_rule(Rule=rule)["Targets"]
        self.assertEqual([t["Arn"] for t in targets], [self.qarn])

        policy = json.loads(self.attrs(QUEUE)["Policy"])
        allow = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
        self.assertEqual(len(allow), 1)
        self.assertEqual(allow[0]["Principal"],
                         {"Service": "events.amazonaws.com"})
        ec2 = self.events.describe_rule(Name="jvb-lifecycled-ec2-" + QUEUE)
        self.assertEqual(allow[0]["Condition"]["ArnEquals"]["aws:SourceArn"],
                         [r["Arn"], ec2["Arn"]])

        # --no-ec2-events takes that rule away again
        self.run_setup("--target", "eventbridge", "--no-ec2-events")
        with self.assertRaises(self.events.exceptions.ResourceNotFoundException):
            self.events.describe_rule(Name="jvb-lifecycled-ec2-" + QUEUE)

        hooks = self.hooks()
        self.assertEqual(set(hooks), {TERM, LAUNCH})
        for h in hooks.values():
            self.assertIsNone(h.get("NotificationTargetARN"))
        with self.assertRaises(self.iam.exceptions.NoSuchEntityException):
            self.iam.get_role(RoleName=ROLE)

        action = self.emu.scale_in(GROUP)
        (event,) = self.receive_all(QUEUE, 1)
        self.assertEqual(event["detail-type"],
                         "EC2 Instance-terminate Lifecycle Action")
        self.assertEqual(event["detail"]["EC2InstanceId"], action.instance_id)
        self.assertEqual(event["detail"]["LifecycleHookName"], TERM)

    def test_print_policy_only(self):
        self.emu.clear_calls()
        p = self.run_setup("--print-policy")
        self.check_policy(p.stdout)
        self.assertEqual(self.writes(), [])

    def test_missing_group_changes_nothing(self):
        self.emu.clear_calls()
        p = self.run_setup(group="no-such-group", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no-such-group", p.stderr)
        self.assertEqual(self.writes(), [])
        self.assertNotIn(QUEUE, self.queue_names())

    def test_bad_usage(self):
        for args in (("--heartbeat-timeout", "10"),
                     ("--heartbeat-timeout", "7201"),
                     ("--target", "sns"), ("--queue-name", "a b"),
                     ("--group", 'x"y'), ("--max-receive-count", "0"),
                     ("--endpoint-url", "ftp://x"), ("--bogus",)):
            with self.subTest(args=args):
                p = self.run_setup(*args, check=False)
                self.assertEqual(p.returncode, 2)
        p = self.run_setup(group=None, check=False)
        self.assertEqual(p.returncode, 2)

    def test_daemon_drains_with_this_queue(self):
        """The queue and hook aws-setup made carry a real scale-in: the
        daemon, given that queue, drains the bridge and completes."""
        from harness.daemon import Daemon
        from harness.fakebridge import FakeBridges
        from harness.net import free_port

        p = self.run_setup()
        m = re.search(r"queue_url = (\S+)", p.stderr)
        self.assertIsNotNone(m, p.stderr)
        queue_url = m.group(1)
        self.assertEqual(queue_url, self.queue_url(QUEUE))
        port = free_port()
        fb = FakeBridges()
        self.addCleanup(fb.stop)
        victim = self.instances[0]
        b = fb.add(self.emu.instance_ip(victim), port=port, nickname=victim,
                   participants=2, stats_interval_s=1,
                   shutting_down_delay_s=2)
        tmp = tempfile.mkdtemp(prefix="jl-aws-setup-")
        self.addCleanup(shutil.rmtree, tmp, True)
        d = Daemon(self.emu, tmp, bridge_port=port,
                   config={"aws": {"queue_url": queue_url}})
        d.start()
        try:
            a = self.emu.scale_in(GROUP, victim)
            self.assertEqual(a.queue_name, QUEUE)
            d.wait_audit("shutdown_requested", token=a.token)
            b.leave(2, over_s=2)
            done = self.emu.wait_action(a.token, timeout=30)
            self.assertEqual((done.result, done.result_source),
                             ("CONTINUE", "api"))
            d.wait_audit("completed", token=a.token)
            # the hook's test notification went the same way
            self.assertIn("test_notification",
                          [r["step"] for r in d.audit()])
        finally:
            self.assertEqual(d.stop(), 0, d.log_text()[-3000:])
        left = self.attrs(QUEUE)
        self.assertEqual(left["ApproximateNumberOfMessages"], "0")
        self.assertEqual(left["ApproximateNumberOfMessagesNotVisible"], "0")


class AwsSetupLintTest(unittest.TestCase):
    def test_shellcheck(self):
        if shutil.which("shellcheck") is None:
            self.skipTest("missing: shellcheck")
        p = subprocess.run(["shellcheck", SCRIPT], capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    main()
