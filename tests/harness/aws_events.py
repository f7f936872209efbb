"""Bodies AWS puts on an SQS queue, built the way AWS builds them.

Pure functions, no I/O: the lifecycle simulator (aws_lifecycle.py) picks the
body and delivers it.  Shapes follow docs/aws-wire.md section 1:

- lifecycle_body():     the flat Auto Scaling notification (hook target = SQS,
                        or SNS with raw message delivery)
- hook_test_notification(): autoscaling:TEST_NOTIFICATION, sent when a hook with a
                        target is created
- sns_envelope():       an SNS "Notification" wrapping a message (raw delivery
                        off, the default)
- eventbridge_event():  an EventBridge event as an SQS rule target receives it
- lifecycle_event_detail(): the "detail" of the Auto Scaling lifecycle event

EC2's own events, as an EventBridge rule with an SQS target delivers them:

- spot_interruption_event(): "EC2 Spot Instance Interruption Warning"
- rebalance_recommendation_event(): "EC2 Instance Rebalance Recommendation"
- instance_state_event(): "EC2 Instance State-change Notification"

Their resources differ on purpose: the Spot warning names the instance as
arn:aws:ec2:<availability zone>:instance/<id> (no account, a zone where the
region goes), which is what EC2 really sends (the EC2 user guide calls it
out); the others use the ordinary instance ARN.
"""

import base64
import datetime
import json
import os
import uuid

TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"
LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"
TEST_NOTIFICATION = "autoscaling:TEST_NOTIFICATION"

TRANSITIONS = {"terminating": TERMINATING, "launching": LAUNCHING}
SHORT_TRANSITION = {TERMINATING: "terminating", LAUNCHING: "launching"}

ENVELOPES = ("direct", "sns", "sns-raw", "eventbridge")

EVENTBRIDGE_DETAIL_TYPE = {
    LAUNCHING: "EC2 Instance-launch Lifecycle Action",
    TERMINATING: "EC2 Instance-terminate Lifecycle Action",
}

# Where the instance comes from and goes to (Origin / Destination).
_ORIGIN_DESTINATION = {
    LAUNCHING: ("EC2", "AutoScalingGroup"),
    TERMINATING: ("AutoScalingGroup", "EC2"),
}

_COMPACT = (",", ":")


def iso_ms(t):
    """2024-03-23T03:26:43.904Z, the form of Time and Timestamp."""
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (d.microsecond // 1000)


def iso_s(t):
    """2024-03-23T03:26:43Z, the form of an EventBridge event's time."""
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def new_request_id():
    return str(uuid.uuid4())


def lifecycle_body(*, account_id, group, hook, instance_id, token, transition,
                   t, request_id, metadata=None, with_origin=True):
    """The flat lifecycle notification as a dict (json.dumps it compact)."""
    body = {}
    if with_origin:
        origin, destination = _ORIGIN_DESTINATION[transition]
        body["Origin"] = origin
        body["Destination"] = destination
    body.update({
        "LifecycleHookName": hook,
        "AccountId": account_id,
        "RequestId": request_id,
        "LifecycleTransition": transition,
        "AutoScalingGroupName": group,
        "Service": "AWS Auto Scaling",
        "Time": iso_ms(t),
        "EC2InstanceId": instance_id,
        "LifecycleActionToken": token,
    })
    if metadata is not None:
        body["NotificationMetadata"] = metadata
    return body


def hook_test_notification(*, account_id, group, group_arn, t, request_id):
    return {
        "AccountId": account_id,
        "RequestId": request_id,
        "AutoScalingGroupARN": group_arn,
        "AutoScalingGroupName": group,
        "Service": "AWS Auto Scaling",
        "Event": TEST_NOTIFICATION,
        "Time": iso_ms(t),
    }


def lifecycle_subject(transition, instance_id):
    word = "TERMINATING" if transition == TERMINATING else "LAUNCHING"
    # Two spaces after the colon, as in real captures.
    return "Auto Scaling:  Lifecycle action '%s' for instance %s in progress." \
        % (word, instance_id)


def test_subject(group):
    return 'Auto Scaling: test notification for group "%s"' % group


def sns_envelope(*, topic_arn, message, subject, t, region, message_id=None):
    """An SNS notification as SQS receives it (raw delivery off).

    message is the already serialized inner string.  The signature is random
    bytes of an RSA-2048 signature's size: nothing here can verify it, and a
    consumer must not rely on it.
    """
    sub_arn = "%s:%s" % (topic_arn, uuid.uuid4())
    env = {
        "Type": "Notification",
        "MessageId": message_id or str(uuid.uuid4()),
        "TopicArn": topic_arn,
    }
    if subject is not None:
        env["Subject"] = subject
    env.update({
        "Message": message,
        "Timestamp": iso_ms(t),
        "SignatureVersion": "1",
        "Signature": base64.b64encode(os.urandom(256)).decode(),
        "SigningCertURL": "https://sns.%s.amazonaws.com/"
                          "SimpleNotificationService-%s.pem"
                          % (region, uuid.uuid4().hex),
        "UnsubscribeURL": "https://sns.%s.amazonaws.com/?Action=Unsubscribe"
                          "&SubscriptionArn=%s" % (region, sub_arn),
    })
    return env


def lifecycle_event_detail(*, group, hook, instance_id, token, transition,
                           metadata=None):
    origin, destination = _ORIGIN_DESTINATION[transition]
    detail = {
        "LifecycleActionToken": token,
        "AutoScalingGroupName": group,
        "LifecycleHookName": hook,
        "EC2InstanceId": instance_id,
        "LifecycleTransition": transition,
        "Origin": origin,
        "Destination": destination,
    }
    if metadata is not None:
        detail["NotificationMetadata"] = metadata
    return detail


def eventbridge_event(*, source, detail_type, detail, account_id, region, t,
                      resources=(), event_id=None):
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account_id,
        "time": iso_s(t),
        "region": region,
        "resources": list(resources),
        "detail": detail,
    }


EC2_SOURCE = "aws.ec2"
SPOT_INTERRUPTION_DETAIL_TYPE = "EC2 Spot Instance Interruption Warning"
REBALANCE_DETAIL_TYPE = "EC2 Instance Rebalance Recommendation"
STATE_CHANGE_DETAIL_TYPE = "EC2 Instance State-change Notification"
SPOT_ACTIONS = ("terminate", "stop", "hibernate")
EC2_STATES = ("pending", "running", "stopping", "stopped", "shutting-down",
              "terminated")


def instance_arn(*, region, account_id, instance_id):
    return "arn:aws:ec2:%s:%s:instance/%s" % (region, account_id,
                                              instance_id)


def spot_instance_arn(*, availability_zone, instance_id):
    """The Spot warning's own form: zone instead of region, no account."""
    return "arn:aws:ec2:%s:instance/%s" % (availability_zone, instance_id)


def spot_interruption_event(*, instance_id, instance_action,
                            availability_zone, account_id, region, t,
                            event_id=None):
    if instance_action not in SPOT_ACTIONS:
        raise ValueError("instance-action must be one of %s"
                         % ", ".join(SPOT_ACTIONS))
    return eventbridge_event(
        source=EC2_SOURCE, detail_type=SPOT_INTERRUPTION_DETAIL_TYPE,
        detail={"instance-id": instance_id,
                "instance-action": instance_action},
        account_id=account_id, region=region, t=t, event_id=event_id,
        resources=[spot_instance_arn(availability_zone=availability_zone,
                                     instance_id=instance_id)])


def rebalance_recommendation_event(*, instance_id, account_id, region, t,
                                   event_id=None):
    return eventbridge_event(
        source=EC2_SOURCE, detail_type=REBALANCE_DETAIL_TYPE,
        detail={"instance-id": instance_id},
        account_id=account_id, region=region, t=t, event_id=event_id,
        resources=[instance_arn(region=region, account_id=account_id,
                                instance_id=instance_id)])


def instance_state_event(*, instance_id, state, account_id, region, t,
                         event_id=None):
    if state not in EC2_STATES:
        raise ValueError("state must be one of %s" % ", ".join(EC2_STATES))
    return eventbridge_event(
        source=EC2_SOURCE, detail_type=STATE_CHANGE_DETAIL_TYPE,
        detail={"instance-id": instance_id, "state": state},
        account_id=account_id, region=region, t=t, event_id=event_id,
        resources=[instance_arn(region=region, account_id=account_id,
                                instance_id=instance_id)])


def serialize_compact(obj):
    return json.dumps(obj, separators=_COMPACT)


def serialize_sns(obj):
    # SNS pretty-prints its envelope ("Type" : "Notification", two-space
    # indent); consumers must not depend on either form.
    return json.dumps(obj, indent=2, separators=(",", " : "))
