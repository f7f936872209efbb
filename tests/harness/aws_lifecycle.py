"""The Auto Scaling side of lifecycle hooks, added to moto in-process.

moto 5.2.1 keeps lifecycle hooks as inert records: it has no
CompleteLifecycleAction / RecordLifecycleActionHeartbeat, sends no
notification, and keeps every instance InService.  LifecycleSimulator models
what AWS does (docs/aws-wire.md section 3):

- a lifecycle action per (instance, hook) with a fresh 36-character token,
  the instance in Terminating:Wait / Pending:Wait (moto's own InstanceState,
  so DescribeAutoScalingInstances shows it);
- the notification AWS would send, on the hook's queue, in the hook's form
  (direct, SNS-wrapped, SNS raw, EventBridge), and the TEST_NOTIFICATION when
  a hook with a target is put;
- the heartbeat timeout, which RecordLifecycleActionHeartbeat restarts, under
  the global timeout min(48 h, 100 x HeartbeatTimeout) counted from the start;
- the hook's DefaultResult applied when the deadline passes (a timer thread
  checks at least every 0.1 s);
- the outcome: a terminating instance is terminated in moto EC2 and leaves the
  group whatever the result; a launching one goes InService on CONTINUE and is
  terminated on ABANDON;
- ValidationError "No active Lifecycle Action found with token <t>" (or
  "with instance ID <i>") for an unknown, finished or mismatched action.

install_patches() puts CompleteLifecycleAction, RecordLifecycleActionHeartbeat
and a PutLifecycleHook / DeleteLifecycleHook / SetInstanceProtection that know
about the simulator on moto's AutoScalingResponse; they act on the simulator
made active with set_active().  Only one simulator is active per process
(moto's backends are process-wide anyway).

EC2's side of Spot instances and the group's scale-in choice:

- spot_interruption(): the "EC2 Spot Instance Interruption Warning" event on a
  queue, then, reclaim_after seconds later, EC2 takes the instance back
  without asking anyone: it is terminated (or stopped, for instance-action
  stop/hibernate), whatever lifecycle action is still waiting for it (those
  end in state "instance_gone", result None, result_source "reclaimed").
  With terminate_hook=True the group also starts a terminate lifecycle action
  for the instance terminate_hook_after seconds after the warning (what
  Capacity Rebalancing or the group's own health check does), so a consumer
  sees both.  Notices are Ec2Notice records (spot_notice(), reclaimed_at(),
  wait_reclaim()).
- rebalance_recommendation(): the "EC2 Instance Rebalance Recommendation"
  event; optionally the same delayed terminate action.
- scale_in() without an instance id chooses like the group's Default
  termination policy: never a protected instance; among the unprotected
  InService ones, the Availability Zone with the most instances first (ties:
  the zone name), then the oldest launch (ties: the order the group launched
  them).  AWS breaks the last ties by the next billing hour, then at random;
  the simulator stays deterministic.  All launches share one launch template
  version here, so the "oldest launch template" step never decides.
  When every InService instance is protected it raises ScaleInBlocked (AWS
  would lower the desired capacity and wait until protection is lifted; the
  simulator does not model that deferred scale-in).
- SetInstanceProtection over HTTP is moto's own (it sets the
  protected_from_scale_in that scale_in() reads), with AWS's validation added:
  an unknown group or an instance outside the group is a ValidationError
  ("The instance <id> is not part of Auto Scaling group <group>.") and
  changes nothing; more than 50 ids are refused.  protection(group) reads it.

Spot-driven terminations ignore scale-in protection (AWS: protection does not
guard against Spot interruptions; the rebalance case is modelled the same
way).  When a Spot-driven departure takes an instance out of the group, the
desired capacity is lowered by one, unless replace=True: then the group
launches a replacement at once (through the launching hooks, if any).

Simplifications, on purpose: ABANDON on a launch terminates the instance and
lowers the desired capacity instead of launching a replacement (call launch()
again to model the replacement); when several hooks share a transition, an
ABANDON on one cancels the others (state "cancelled").
"""

import dataclasses
import heapq
import itertools
import sys
import threading
import time
import traceback
import uuid

from moto.autoscaling.exceptions import ValidationError
from moto.autoscaling.models import autoscaling_backends
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.responses import EmptyResult
from moto.ec2.models import ec2_backends
from moto.sqs.models import sqs_backends

from . import aws_events as ev

GLOBAL_TIMEOUT_MAX = 172800  # 48 h
HEARTBEAT_MIN = 30
HEARTBEAT_MAX = 7200
HEARTBEAT_DEFAULT = 3600
TICK = 0.1  # upper bound of the timer's sleep, seconds

RESULTS = ("CONTINUE", "ABANDON")
END_STATES = ("completed", "timed_out", "cancelled", "instance_gone")
STATES = ("waiting",) + END_STATES
SPOT_WARNING_S = 120.0          # EC2's two-minute notice
MAX_PROTECTION_IDS = 50         # SetInstanceProtection, per call


class ScaleInBlocked(ValueError):
    """Every InService instance of the group is protected from scale in."""


def global_timeout_for(heartbeat_timeout):
    return min(GLOBAL_TIMEOUT_MAX, 100 * int(heartbeat_timeout))


@dataclasses.dataclass
class Action:
    """One lifecycle action.  Times are time.time() values.

    The simulator hands out copies: ask it again (emu.action(token)) to see
    later changes.
    """
    token: str
    instance_id: str
    group: str
    hook: str
    transition: str               # "terminating" | "launching"
    lifecycle_transition: str     # autoscaling:EC2_INSTANCE_...
    started_at: float
    heartbeat_timeout: int
    default_result: str
    heartbeat_deadline: float     # last heartbeat (or start) + timeout
    global_deadline: float        # start + global timeout
    state: str = "waiting"
    result: str | None = None
    # "api" | "default" | "hook-deleted" | "reclaimed"
    result_source: str | None = None
    heartbeats: list = dataclasses.field(default_factory=list)
    completed_at: float | None = None
    instance_ip: str | None = None
    envelope: str | None = None
    queue_name: str | None = None
    message_id: str | None = None
    body: str | None = None            # exactly what was put on the queue
    request_id: str | None = None

    @property
    def deadline(self):
        """When the default result applies if nothing happens before."""
        return min(self.heartbeat_deadline, self.global_deadline)

    def copy(self):
        return dataclasses.replace(self, heartbeats=list(self.heartbeats))


@dataclasses.dataclass
class Ec2Notice:
    """A Spot interruption warning or a rebalance recommendation, and what
    followed.  Times are time.time() values; copies, like Action."""
    kind: str                       # "spot" | "rebalance"
    instance_id: str
    group: str | None               # the group it was in, if any
    warned_at: float
    event_id: str
    body: str                       # exactly what went on the queue
    queue_name: str | None
    message_id: str | None
    instance_action: str | None = None  # spot: terminate | stop | hibernate
    reclaim_at: float | None = None     # spot: when EC2 takes it back
    # spot: "pending" until reclaim_at, then "reclaimed", or
    # "already_gone" when the instance was terminated before (its hook
    # completed in time, for instance); rebalance: None
    state: str | None = None
    reclaimed_at: float | None = None   # when EC2 took it, if it did
    ended_tokens: list = dataclasses.field(default_factory=list)
    terminate_hook_at: float | None = None  # when the group's action opens
    terminate_tokens: list = dataclasses.field(default_factory=list)
    terminate_hook_note: str | None = None  # why no action was opened
    replace: bool = False
    replacement_id: str | None = None
    capacity_handled: bool = False

    def copy(self):
        return dataclasses.replace(
            self, ended_tokens=list(self.ended_tokens),
            terminate_tokens=list(self.terminate_tokens))


def _validation(msg):
    return ValidationError(msg)


def _null(field):
    return _validation("1 validation error detected: Value null at '%s' "
                       "failed to satisfy constraint: Member must not be null"
                       % field)


class LifecycleSimulator:
    """AWS's side of lifecycle hooks over moto's backends.

    deliver(queue_name, body) -> message id puts a body on an SQS queue; the
    default sends it through moto's SQS backend in-process.
    """

    def __init__(self, account_id, region, clock=time.time, deliver=None):
        self.account_id = account_id
        self.region = region
        self.clock = clock
        self._deliver_fn = deliver or self._deliver_sqs
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._actions = {}          # token -> Action; owner: this object
        self._spot = {}             # instance id -> Ec2Notice; owner: this
        self._rebalance = []        # [Ec2Notice]; owner: this object
        self._timers = []           # heap of (when, seq, fn); owner: this
        self._seq = itertools.count()
        self._stopping = False
        self._thread = None
        self.deliveries = []        # (time, queue_name, body) for debugging
        self.timer_errors = []      # tracebacks of failed scheduled events

    # -- moto backends ------------------------------------------------------

    @property
    def asg(self):
        return autoscaling_backends[self.account_id][self.region]

    @property
    def ec2(self):
        return ec2_backends[self.account_id][self.region]

    @property
    def sqs(self):
        return sqs_backends[self.account_id][self.region]

    def group(self, name):
        g = self.asg.autoscaling_groups.get(name)
        if g is None:
            raise LookupError("no Auto Scaling group %r" % name)
        return g

    def _deliver_sqs(self, queue_name, body):
        return self.sqs.send_message(queue_name, body).id

    def deliver(self, queue_name, body):
        with self._lock:
            self.deliveries.append((self.clock(), queue_name, body))
        return self._deliver_fn(queue_name, body)

    # -- timer --------------------------------------------------------------

    def start(self):
        with self._lock:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name="lifecycle-timer")
            self._thread.start()

    def stop(self):
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            t, self._thread = self._thread, None
        if t is not None:
            t.join(timeout=5)

    def _run(self):
        with self._cond:
            while not self._stopping:
                now = self.clock()
                nxt = now + TICK
                while self._timers and self._timers[0][0] <= now:
                    _, _, fn = heapq.heappop(self._timers)
                    try:
                        fn()
                    except Exception:  # keep the timer alive; tests look
                        self.timer_errors.append(traceback.format_exc())
                        sys.stderr.write("lifecycle timer: %s"
                                         % self.timer_errors[-1])
                if self._timers:
                    nxt = min(nxt, self._timers[0][0])
                for a in list(self._actions.values()):
                    if a.state != "waiting":
                        continue
                    if now >= a.deadline:
                        self._finish(a, a.default_result, "default",
                                     "timed_out")
                    else:
                        nxt = min(nxt, a.deadline)
                self._cond.wait(max(0.005, nxt - now))

    def _schedule(self, when, fn):
        """Run fn() under the lock, on the timer thread, at `when`."""
        heapq.heappush(self._timers, (when, next(self._seq), fn))
        self._cond.notify_all()

    # -- hooks --------------------------------------------------------------

    def hooks_for(self, group, lifecycle_transition):
        return [h for h in self.asg.describe_lifecycle_hooks(group)
                if h.lifecycle_transition == lifecycle_transition]

    def hook(self, group, name):
        for h in self.asg.describe_lifecycle_hooks(group, [name]):
            return h
        return None

    def _derive_delivery(self, group, name, transition, target_arn):
        """(queue name, envelope) AWS would deliver this hook's notes to."""
        if target_arn:
            parts = target_arn.split(":")
            if len(parts) >= 6 and parts[2] == "sqs":
                return parts[5], "direct"
            if len(parts) >= 6 and parts[2] == "sns":
                from moto.sns.models import sns_backends
                try:
                    subs, _ = sns_backends[self.account_id][self.region] \
                        .list_subscriptions_by_topic(target_arn)
                except Exception:
                    return None, None
                for s in subs:
                    if s.protocol == "sqs":
                        raw = str(s.attributes.get("RawMessageDelivery",
                                                   "false")).lower() == "true"
                        return (s.endpoint.split(":")[-1],
                                "sns-raw" if raw else "sns")
            return None, None
        # No target: the event still reaches EventBridge; find a rule with
        # an SQS target that matches it.
        try:
            from moto.events.models import events_backends
            rules = events_backends[self.account_id][self.region].list_rules()
            if isinstance(rules, tuple):    # paginated: (rules, next token)
                rules = rules[0]
        except Exception:
            return None, None
        sample = ev.eventbridge_event(
            source="aws.autoscaling",
            detail_type=ev.EVENTBRIDGE_DETAIL_TYPE[transition],
            detail=ev.lifecycle_event_detail(
                group=group, hook=name, instance_id="i-00000000000000000",
                token=str(uuid.uuid4()), transition=transition),
            account_id=self.account_id, region=self.region, t=self.clock())
        for rule in rules:
            if rule.state != "ENABLED" or \
                    not rule.event_pattern.matches_event(sample):
                continue
            for target in rule.targets:
                arn = target.get("Arn", "").split(":")
                if len(arn) >= 6 and arn[2] == "sqs":
                    return arn[5], "eventbridge"
        return None, None

    def put_hook(self, *, group, name, lifecycle_transition,
                 heartbeat_timeout=None, default_result=None, target_arn=None,
                 role_arn=None, metadata=None, send_test=True):
        """PutLifecycleHook, as AWS does it.  Raises ValidationError."""
        if not group:
            raise _null("autoScalingGroupName")
        if not name:
            raise _null("lifecycleHookName")
        with self._lock:
            existing = self.hook(group, name)
            if lifecycle_transition is None and existing is not None:
                lifecycle_transition = existing.lifecycle_transition
            if lifecycle_transition not in (ev.TERMINATING, ev.LAUNCHING):
                raise _validation("Invalid Lifecycle Transition")
            if self.asg.autoscaling_groups.get(group) is None:
                raise _validation("Group %s not found" % group)
            if heartbeat_timeout is None:
                heartbeat_timeout = (existing.heartbeat_timeout if existing
                                     else HEARTBEAT_DEFAULT)
            heartbeat_timeout = int(heartbeat_timeout)
            if not HEARTBEAT_MIN <= heartbeat_timeout <= HEARTBEAT_MAX:
                raise _validation(
                    "1 validation error detected: Value '%d' at "
                    "'heartbeatTimeout' failed to satisfy constraint: Member "
                    "must have value between %d and %d"
                    % (heartbeat_timeout, HEARTBEAT_MIN, HEARTBEAT_MAX))
            if default_result is None:
                default_result = (existing.default_result if existing
                                  else "ABANDON")
            if default_result not in RESULTS:
                raise _validation("Valid values for DefaultResult are "
                                  "CONTINUE and ABANDON")
            if target_arn and not role_arn:
                role_arn = ("arn:aws:iam::%s:role/aws-service-role/"
                            "autoscaling.amazonaws.com/"
                            "AWSServiceRoleForAutoScaling" % self.account_id)
            queue, envelope = self._derive_delivery(
                group, name, lifecycle_transition, target_arn)
            h = self.asg.create_lifecycle_hook(
                name=name, as_name=group, transition=lifecycle_transition,
                timeout=heartbeat_timeout, result=default_result)
            # moto hard-codes these; DescribeLifecycleHooks serializes them.
            h.notification_target_arn = target_arn
            h.role_arn = role_arn
            h.notification_metadata = metadata
            h.global_timeout = global_timeout_for(heartbeat_timeout)
            h.emu_queue_name = queue
            h.emu_envelope = envelope
            h.emu_topic_arn = target_arn if envelope in ("sns", "sns-raw") \
                else None
            if send_test and target_arn and queue:
                self._send_test_notification(h)
            return h

    def delete_hook(self, group, name):
        """DeleteLifecycleHook: outstanding actions finish first (ABANDON for
        launching instances, CONTINUE for terminating ones)."""
        with self._lock:
            for a in list(self._actions.values()):
                if a.state == "waiting" and a.group == group and \
                        a.hook == name:
                    res = "ABANDON" if a.transition == "launching" \
                        else "CONTINUE"
                    self._finish(a, res, "hook-deleted", "completed")
            self.asg.delete_lifecycle_hook(group, name)

    def _send_test_notification(self, h):
        g = self.group(h.auto_scaling_group_name)
        now = self.clock()
        body = ev.hook_test_notification(
            account_id=self.account_id, group=g.name, group_arn=g.arn, t=now,
            request_id=ev.new_request_id())
        if h.emu_envelope == "sns":
            text = ev.serialize_sns(ev.sns_envelope(
                topic_arn=h.emu_topic_arn, message=ev.serialize_compact(body),
                subject=ev.test_subject(g.name), t=now, region=self.region))
        else:
            text = ev.serialize_compact(body)
        self.deliver(h.emu_queue_name, text)

    # -- actions ------------------------------------------------------------

    def _topic_for(self, h, queue):
        if getattr(h, "emu_topic_arn", None):
            return h.emu_topic_arn
        return "arn:aws:sns:%s:%s:%s" % (self.region, self.account_id,
                                        queue or h.name)

    def render(self, a, h, envelope, group_arn, t):
        """The body of action a's notification in the given envelope."""
        meta = getattr(h, "notification_metadata", None)
        if envelope == "eventbridge":
            detail = ev.lifecycle_event_detail(
                group=a.group, hook=a.hook, instance_id=a.instance_id,
                token=a.token, transition=a.lifecycle_transition,
                metadata=meta)
            return ev.serialize_compact(ev.eventbridge_event(
                source="aws.autoscaling",
                detail_type=ev.EVENTBRIDGE_DETAIL_TYPE[a.lifecycle_transition],
                detail=detail, account_id=self.account_id,
                region=self.region, t=t, resources=[group_arn]))
        flat = ev.serialize_compact(ev.lifecycle_body(
            account_id=self.account_id, group=a.group, hook=a.hook,
            instance_id=a.instance_id, token=a.token,
            transition=a.lifecycle_transition, t=t,
            request_id=a.request_id, metadata=meta))
        if envelope in ("direct", "sns-raw"):
            return flat
        if envelope == "sns":
            return ev.serialize_sns(ev.sns_envelope(
                topic_arn=self._topic_for(h, a.queue_name), message=flat,
                subject=ev.lifecycle_subject(a.lifecycle_transition,
                                             a.instance_id),
                t=t, region=self.region))
        raise ValueError("unknown envelope %r (want one of %s)"
                         % (envelope, ", ".join(ev.ENVELOPES)))

    def _open(self, g, st, h, lifecycle_transition, envelope, queue_name):
        now = self.clock()
        hb = int(h.heartbeat_timeout)
        a = Action(
            token=str(uuid.uuid4()), instance_id=st.instance.id, group=g.name,
            hook=h.name,
            transition=ev.SHORT_TRANSITION[lifecycle_transition],
            lifecycle_transition=lifecycle_transition, started_at=now,
            heartbeat_timeout=hb, default_result=h.default_result,
            heartbeat_deadline=now + hb,
            global_deadline=now + int(getattr(h, "global_timeout",
                                              global_timeout_for(hb))),
            instance_ip=getattr(st.instance, "private_ip", None),
            envelope=envelope or getattr(h, "emu_envelope", None),
            queue_name=queue_name or getattr(h, "emu_queue_name", None),
            request_id=ev.new_request_id())
        if a.queue_name and a.envelope:
            a.body = self.render(a, h, a.envelope, g.arn, now)
            a.message_id = self.deliver(a.queue_name, a.body)
        self._actions[a.token] = a
        self._cond.notify_all()
        return a

    # -- the group's choices ------------------------------------------------

    def _member(self, instance_id):
        """(group, InstanceState) holding the instance, or (None, None)."""
        for g in self.asg.autoscaling_groups.values():
            for st in g.instance_states:
                if st.instance.id == instance_id:
                    return g, st
        return None, None

    @staticmethod
    def _instance_zone(inst):
        p = getattr(inst, "placement", None)     # moto: InstancePlacement
        return str(getattr(p, "zone", p) or "")

    def _zone(self, st):
        return self._instance_zone(st.instance)

    def _scale_in_order(self, g):
        """The unprotected InService states, in the Default policy's order
        (see the module docstring); the first is the one scale-in takes."""
        cands = [s for s in g.instance_states
                 if s.lifecycle_state == "InService" and
                 not s.protected_from_scale_in]
        per_zone = {}
        for s in g.instance_states:
            if not s.lifecycle_state.startswith("Terminating"):
                z = self._zone(s)
                per_zone[z] = per_zone.get(z, 0) + 1
        launched = {id(s): i for i, s in enumerate(g.instance_states)}

        def key(s):
            t = getattr(s.instance, "launch_time", None)
            return (-per_zone.get(self._zone(s), 0), self._zone(s),
                    t.timestamp() if hasattr(t, "timestamp") else 0.0,
                    launched[id(s)])
        return sorted(cands, key=key)

    def scale_in_choice(self, group):
        """The instance the group's next scale-in would take, or None when
        every InService instance is protected (or there is none)."""
        with self._lock:
            order = self._scale_in_order(self.group(group))
            return order[0].instance.id if order else None

    def scale_in(self, group, instance_id=None, envelope=None,
                 queue_name=None):
        """The group loses one instance: it waits in Terminating:Wait.

        Without instance_id the group chooses (scale_in_choice()); raises
        ScaleInBlocked when every InService instance is protected."""
        with self._lock:
            g = self.group(group)
            hooks = self.hooks_for(group, ev.TERMINATING)
            if not hooks:
                raise LookupError("group %r has no terminating hook" % group)
            if instance_id is not None:
                st = next((s for s in g.instance_states
                           if s.instance.id == instance_id), None)
                if st is None or st.lifecycle_state != "InService":
                    raise ValueError("instance %r is not InService in %r"
                                     % (instance_id, group))
                if st.protected_from_scale_in:
                    raise ValueError("instance %r is protected from scale in"
                                     % instance_id)
            else:
                order = self._scale_in_order(g)
                if not order:
                    in_service = [s.instance.id for s in g.instance_states
                                  if s.lifecycle_state == "InService"]
                    if in_service:
                        raise ScaleInBlocked(
                            "group %r cannot scale in: all %d InService "
                            "instances are protected from scale in (%s)"
                            % (group, len(in_service),
                               ", ".join(in_service)))
                    raise ValueError("no InService instance in %r" % group)
                st = order[0]
            g.desired_capacity = max(0, (g.desired_capacity or 0) - 1)
            st.lifecycle_state = "Terminating:Wait"
            acts = [self._open(g, st, h, ev.TERMINATING, envelope, queue_name)
                    for h in hooks]
            return acts[0].copy()

    def _add_instance(self, g, envelope=None, queue_name=None):
        """One new instance in g (the caller handles the desired
        capacity): Pending:Wait with launch actions when the group has
        launching hooks, else InService at once.  (state, actions)"""
        hooks = self.hooks_for(g.name, ev.LAUNCHING)
        before = {s.instance.id for s in g.instance_states}
        g.replace_autoscaling_group_instances(1, g.get_propagated_tags())
        st = next(s for s in g.instance_states
                  if s.instance.id not in before)
        if not hooks:
            st.lifecycle_state = "InService"
            return st, []
        st.lifecycle_state = "Pending:Wait"
        return st, [self._open(g, st, h, ev.LAUNCHING, envelope, queue_name)
                    for h in hooks]

    def launch(self, group, envelope=None, queue_name=None):
        """The group gains one instance: it waits in Pending:Wait."""
        with self._lock:
            g = self.group(group)
            if not self.hooks_for(group, ev.LAUNCHING):
                raise LookupError("group %r has no launching hook" % group)
            if g.max_size is not None and \
                    (g.desired_capacity or 0) + 1 > g.max_size:
                raise ValueError("group %r is at its maximum size" % group)
            g.desired_capacity = (g.desired_capacity or 0) + 1
            _, acts = self._add_instance(g, envelope, queue_name)
            return acts[0].copy()

    # -- scale-in protection --------------------------------------------------

    def protection(self, group):
        """{instance id: protected from scale in} for the group's members."""
        with self._lock:
            return {s.instance.id: bool(s.protected_from_scale_in)
                    for s in self.group(group).instance_states}

    def set_protection(self, group, instance_ids, protect):
        """SetInstanceProtection as AWS validates it.  Raises
        ValidationError; on error nothing changes."""
        if not group:
            raise _null("autoScalingGroupName")
        if not instance_ids:
            raise _null("instanceIds")
        if protect is None:
            raise _null("protectedFromScaleIn")
        if len(instance_ids) > MAX_PROTECTION_IDS:
            raise _validation(
                "The number of instance IDs (%d) exceeds the limit of %d "
                "per call" % (len(instance_ids), MAX_PROTECTION_IDS))
        with self._lock:
            g = self.asg.autoscaling_groups.get(group)
            if g is None:
                raise _validation("Group %s not found" % group)
            members = {s.instance.id: s for s in g.instance_states}
            for i in instance_ids:
                if i not in members:
                    raise _validation("The instance %s is not part of Auto "
                                      "Scaling group %s." % (i, group))
            for i in instance_ids:
                members[i].protected_from_scale_in = bool(protect)

    # -- EC2 notices ----------------------------------------------------------

    def _instance(self, instance_id):
        try:
            return self.ec2.get_instance(instance_id)
        except Exception:
            raise LookupError("no EC2 instance %r" % instance_id) from None

    def _deliver_event(self, n, event, queue_name):
        n.body = ev.serialize_compact(event)
        n.queue_name = queue_name
        if queue_name:
            n.message_id = self.deliver(queue_name, n.body)

    def _depart(self, n, g):
        """The instance leaves g's capacity because of notice n: lower the
        desired capacity, or launch the replacement (replace=True)."""
        if n.capacity_handled or g is None:
            return
        n.capacity_handled = True
        if not n.replace:
            g.desired_capacity = max(0, (g.desired_capacity or 0) - 1)
            return
        st, _ = self._add_instance(g)
        n.replacement_id = st.instance.id

    def _open_notice_hook(self, n):
        """The group starts terminating the instance of notice n."""
        g, st = self._member(n.instance_id)
        if st is None:
            n.terminate_hook_note = "instance no longer in a group"
            return
        if st.lifecycle_state != "InService":
            n.terminate_hook_note = "instance is %s, not InService" \
                % st.lifecycle_state
            return
        hooks = self.hooks_for(g.name, ev.TERMINATING)
        if not hooks:
            n.terminate_hook_note = "group has no terminating hook"
            return
        self._depart(n, g)
        st.lifecycle_state = "Terminating:Wait"
        n.terminate_tokens = [
            self._open(g, st, h, ev.TERMINATING, None, None).token
            for h in hooks]

    def _notice(self, kind, instance_id, terminate_hook, terminate_hook_after,
                replace):
        inst = self._instance(instance_id)
        if inst.state == "terminated":
            raise ValueError("instance %r is already terminated"
                             % instance_id)
        g, _ = self._member(instance_id)
        if terminate_hook:
            if g is None:
                raise LookupError("instance %r is in no Auto Scaling group"
                                  % instance_id)
            if not self.hooks_for(g.name, ev.TERMINATING):
                raise LookupError("group %r has no terminating hook"
                                  % g.name)
        now = self.clock()
        n = Ec2Notice(kind=kind, instance_id=instance_id,
                      group=g.name if g is not None else None, warned_at=now,
                      event_id=str(uuid.uuid4()), body="", queue_name=None,
                      message_id=None, replace=bool(replace))
        if terminate_hook:
            n.terminate_hook_at = now + float(terminate_hook_after)
        return inst, n

    def spot_interruption(self, instance_id, queue_name,
                          reclaim_after=SPOT_WARNING_S, action="terminate",
                          terminate_hook=False, terminate_hook_after=1.0,
                          replace=False, state_events=False):
        """EC2 warns that it reclaims a Spot instance, and does.

        The warning goes on queue_name now; reclaim_after seconds later the
        instance is terminated (action "terminate") or stopped ("stop",
        "hibernate") without asking anyone.  With state_events the
        reclaim also puts EC2's state-change events on the queue
        (shutting-down and terminated, or stopping and stopped).
        Returns the Ec2Notice."""
        if action not in ev.SPOT_ACTIONS:
            raise ValueError("action must be one of %s"
                             % ", ".join(ev.SPOT_ACTIONS))
        if float(reclaim_after) < 0 or float(terminate_hook_after) < 0:
            raise ValueError("delays must be >= 0")
        with self._lock:
            old = self._spot.get(instance_id)
            if old is not None and old.state == "pending":
                raise ValueError("instance %r already has a pending Spot "
                                 "interruption" % instance_id)
            inst, n = self._notice("spot", instance_id, terminate_hook,
                                   terminate_hook_after, replace)
            n.instance_action = action
            n.state = "pending"
            n.reclaim_at = n.warned_at + float(reclaim_after)
            self._deliver_event(n, ev.spot_interruption_event(
                instance_id=instance_id, instance_action=action,
                availability_zone=self._instance_zone(inst) or
                self.region + "a", account_id=self.account_id,
                region=self.region, t=n.warned_at, event_id=n.event_id),
                queue_name)
            self._spot[instance_id] = n
            if terminate_hook:
                self._schedule(n.terminate_hook_at,
                               lambda: self._open_notice_hook(n))
            self._schedule(n.reclaim_at,
                           lambda: self._reclaim(n, state_events))
            return n.copy()

    def _reclaim(self, n, state_events):
        now = self.clock()
        inst = self._instance(n.instance_id)
        if inst.state == "terminated" or \
                (n.instance_action != "terminate" and inst.state == "stopped"):
            n.state = "already_gone"
            self._cond.notify_all()
            return
        g, st = self._member(n.instance_id)
        if n.instance_action == "terminate":
            for a in self._actions.values():
                if a.state == "waiting" and a.instance_id == n.instance_id:
                    a.state, a.result, a.result_source, a.completed_at = \
                        "instance_gone", None, "reclaimed", now
                    n.ended_tokens.append(a.token)
            if st is not None:
                if not st.lifecycle_state.startswith("Terminating"):
                    self._depart(n, g)
                g.instance_states = [s for s in g.instance_states
                                     if s is not st]
            self.ec2.terminate_instances([n.instance_id])
            states = ("shutting-down", "terminated")
        else:
            # A stopped instance fails the group's health check; the
            # group's replacement of it is not modelled.
            self.ec2.stop_instances([n.instance_id])
            if st is not None:
                st.health_status = "Unhealthy"
            states = ("stopping", "stopped")
        n.state, n.reclaimed_at = "reclaimed", now
        if state_events and n.queue_name:
            for state in states:
                self.deliver(n.queue_name, ev.serialize_compact(
                    ev.instance_state_event(
                        instance_id=n.instance_id, state=state,
                        account_id=self.account_id, region=self.region,
                        t=now)))
        self._cond.notify_all()

    def rebalance_recommendation(self, instance_id, queue_name,
                                 terminate_hook=False,
                                 terminate_hook_after=1.0, replace=False):
        """EC2 says the Spot instance is at elevated risk.  Nothing is
        reclaimed; with terminate_hook the group (Capacity Rebalancing)
        starts a terminate lifecycle action for it terminate_hook_after
        seconds later.  Returns the Ec2Notice."""
        if float(terminate_hook_after) < 0:
            raise ValueError("delays must be >= 0")
        with self._lock:
            _, n = self._notice("rebalance", instance_id, terminate_hook,
                                terminate_hook_after, replace)
            self._deliver_event(n, ev.rebalance_recommendation_event(
                instance_id=instance_id, account_id=self.account_id,
                region=self.region, t=n.warned_at, event_id=n.event_id),
                queue_name)
            self._rebalance.append(n)
            if terminate_hook:
                self._schedule(n.terminate_hook_at,
                               lambda: self._open_notice_hook(n))
            return n.copy()

    def instance_state_change(self, instance_id, state, queue_name):
        """Only the "EC2 Instance State-change Notification" event (the
        instance itself is not changed).  Returns (body, message id)."""
        with self._lock:
            self._instance(instance_id)
            body = ev.serialize_compact(ev.instance_state_event(
                instance_id=instance_id, state=state,
                account_id=self.account_id, region=self.region,
                t=self.clock()))
            return body, self.deliver(queue_name, body)

    def spot_notice(self, instance_id):
        """The latest Spot notice for the instance (a copy)."""
        with self._lock:
            n = self._spot.get(instance_id)
            if n is None:
                raise KeyError(instance_id)
            return n.copy()

    def spot_notices(self):
        with self._lock:
            return [n.copy() for n in self._spot.values()]

    def rebalance_notices(self):
        with self._lock:
            return [n.copy() for n in self._rebalance]

    def reclaimed_at(self, instance_id):
        """When EC2 reclaimed the instance, or None (not warned, not yet,
        or it was already gone at the reclaim time)."""
        with self._lock:
            n = self._spot.get(instance_id)
            return n.reclaimed_at if n is not None else None

    def wait_reclaim(self, instance_id, timeout=10.0):
        """Block until the instance's Spot notice is no longer pending;
        return it.  Raises TimeoutError after `timeout` seconds."""
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                n = self._spot.get(instance_id)
                if n is None:
                    raise KeyError(instance_id)
                if n.state != "pending":
                    return n.copy()
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError("instance %s not reclaimed after "
                                       "%.1fs" % (instance_id, timeout))
                self._cond.wait(min(left, TICK))

    def _find_active(self, group, hook, token, instance_id):
        if token:
            a = self._actions.get(token)
            if a is None or a.state != "waiting" or a.group != group or \
                    a.hook != hook or \
                    (instance_id and a.instance_id != instance_id):
                raise _validation("No active Lifecycle Action found with "
                                  "token %s" % token)
            return a
        if instance_id:
            for a in self._actions.values():
                if a.state == "waiting" and a.group == group and \
                        a.hook == hook and a.instance_id == instance_id:
                    return a
            raise _validation("No active Lifecycle Action found with "
                              "instance ID %s" % instance_id)
        raise _validation("Either LifecycleActionToken or InstanceId must be "
                          "specified")

    @staticmethod
    def _check_common(group, hook, token, instance_id):
        if not hook:
            raise _null("lifecycleHookName")
        if not group:
            raise _null("autoScalingGroupName")
        if token is not None and len(token) != 36:
            raise _validation(
                "1 validation error detected: Value '%s' at "
                "'lifecycleActionToken' failed to satisfy constraint: Member "
                "must have length less than or equal to 36 and greater than "
                "or equal to 36" % token)
        if instance_id is not None and not 1 <= len(instance_id) <= 19:
            raise _validation(
                "1 validation error detected: Value '%s' at 'instanceId' "
                "failed to satisfy constraint: Member must have length less "
                "than or equal to 19" % instance_id)

    def complete(self, group, hook, token=None, instance_id=None,
                 result=None):
        """CompleteLifecycleAction.  Raises ValidationError."""
        self._check_common(group, hook, token, instance_id)
        if result is None:
            raise _null("lifecycleActionResult")
        if result not in RESULTS:
            raise _validation("Invalid value for LifecycleActionResult: %s. "
                              "Valid values are CONTINUE and ABANDON"
                              % result)
        with self._lock:
            a = self._find_active(group, hook, token, instance_id)
            self._finish(a, result, "api", "completed")
            return a.copy()

    def heartbeat(self, group, hook, token=None, instance_id=None):
        """RecordLifecycleActionHeartbeat.  Raises ValidationError."""
        self._check_common(group, hook, token, instance_id)
        with self._lock:
            a = self._find_active(group, hook, token, instance_id)
            now = self.clock()
            h = self.hook(group, hook)
            if h is not None:
                a.heartbeat_timeout = int(h.heartbeat_timeout)
            a.heartbeats.append(now)
            a.heartbeat_deadline = now + a.heartbeat_timeout
            self._cond.notify_all()
            return a.copy()

    def _finish(self, a, result, source, state):
        now = self.clock()
        a.state, a.result, a.result_source, a.completed_at = \
            state, result, source, now
        siblings = [s for s in self._actions.values()
                    if s is not a and s.state == "waiting" and
                    s.instance_id == a.instance_id and
                    s.lifecycle_transition == a.lifecycle_transition]
        if result == "ABANDON":
            for s in siblings:
                s.state, s.completed_at = "cancelled", now
        elif siblings:
            return
        # All hooks of this transition are done: the instance moves on.
        self._proceed(a.group, a.instance_id, a.lifecycle_transition,
                      "ABANDON" if result == "ABANDON" else "CONTINUE")
        self._cond.notify_all()

    def _proceed(self, group, instance_id, lifecycle_transition, result):
        g = self.asg.autoscaling_groups.get(group)
        st = None
        if g is not None:
            st = next((s for s in g.instance_states
                       if s.instance.id == instance_id), None)
        if lifecycle_transition == ev.LAUNCHING and result == "CONTINUE":
            if st is not None:
                st.lifecycle_state = "InService"
            return
        if g is not None and st is not None:
            g.instance_states = [s for s in g.instance_states if s is not st]
            if lifecycle_transition == ev.LAUNCHING:
                g.desired_capacity = max(0, (g.desired_capacity or 0) - 1)
        try:
            self.ec2.terminate_instances([instance_id])
        except Exception:  # already gone from EC2: nothing to terminate
            pass

    # -- test knobs (not AWS behaviour; they stand in for waiting) -----------

    def set_deadline(self, token, seconds):
        """The heartbeat timer of a waiting action runs out in `seconds`
        (as if its heartbeat timeout were shorter, this once)."""
        with self._lock:
            a = self._waiting(token)
            a.heartbeat_deadline = self.clock() + float(seconds)
            self._cond.notify_all()
            return a.copy()

    def set_global_deadline(self, token, seconds):
        """The global timeout of a waiting action runs out in `seconds`."""
        with self._lock:
            a = self._waiting(token)
            a.global_deadline = self.clock() + float(seconds)
            self._cond.notify_all()
            return a.copy()

    def _waiting(self, token):
        a = self._actions.get(token)
        if a is None:
            raise KeyError(token)
        if a.state != "waiting":
            raise ValueError("action %s is %s" % (token, a.state))
        return a

    # -- queries ------------------------------------------------------------

    def action(self, token):
        with self._lock:
            return self._actions[token].copy()

    def actions(self):
        with self._lock:
            return [a.copy() for a in self._actions.values()]

    def wait_action(self, token, states=END_STATES, timeout=10.0):
        """Block until the action's state is in `states`; return it.
        Raises TimeoutError after `timeout` seconds."""
        if isinstance(states, str):
            states = (states,)
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                a = self._actions[token]
                if a.state in states:
                    return a.copy()
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError("action %s still %s after %.1fs"
                                       % (token, a.state, timeout))
                self._cond.wait(min(left, TICK))

    def reset(self):
        with self._lock:
            self._actions.clear()
            self._spot.clear()
            self._rebalance.clear()
            self._timers.clear()
            self.deliveries.clear()


# -- moto patches -------------------------------------------------------------

_active = None          # the LifecycleSimulator the HTTP handlers act on
_patched = False
_orig = {}


def set_active(sim):
    global _active
    _active = sim


def get_active():
    return _active


def _sim():
    if _active is None:
        raise _validation("lifecycle simulator not running")
    return _active


def _complete_lifecycle_action(self):
    _sim().complete(
        group=self._get_param("AutoScalingGroupName"),
        hook=self._get_param("LifecycleHookName"),
        token=self._get_param("LifecycleActionToken"),
        instance_id=self._get_param("InstanceId"),
        result=self._get_param("LifecycleActionResult"))
    return EmptyResult()


def _record_lifecycle_action_heartbeat(self):
    _sim().heartbeat(
        group=self._get_param("AutoScalingGroupName"),
        hook=self._get_param("LifecycleHookName"),
        token=self._get_param("LifecycleActionToken"),
        instance_id=self._get_param("InstanceId"))
    return EmptyResult()


def _put_lifecycle_hook(self):
    if _active is None:
        return _orig["put_lifecycle_hook"](self)
    hb = self._get_param("HeartbeatTimeout")
    _active.put_hook(
        group=self._get_param("AutoScalingGroupName"),
        name=self._get_param("LifecycleHookName"),
        lifecycle_transition=self._get_param("LifecycleTransition"),
        heartbeat_timeout=int(hb) if hb is not None else None,
        default_result=self._get_param("DefaultResult"),
        target_arn=self._get_param("NotificationTargetARN"),
        role_arn=self._get_param("RoleARN"),
        metadata=self._get_param("NotificationMetadata"))
    return EmptyResult()


def _delete_lifecycle_hook(self):
    if _active is None:
        return _orig["delete_lifecycle_hook"](self)
    _active.delete_hook(self._get_param("AutoScalingGroupName"),
                        self._get_param("LifecycleHookName"))
    return EmptyResult()


def _set_instance_protection(self):
    if _active is None:
        return _orig["set_instance_protection"](self)
    ids = self._get_param("InstanceIds") or []
    if isinstance(ids, str):
        ids = [ids]
    prot = self._get_param("ProtectedFromScaleIn")
    if isinstance(prot, str):
        prot = {"true": True, "false": False}.get(prot.lower(), prot)
    if prot is not None and not isinstance(prot, bool):
        raise _validation("Invalid value for ProtectedFromScaleIn: %s"
                          % prot)
    _active.set_protection(self._get_param("AutoScalingGroupName"),
                           list(ids), prot)
    return EmptyResult()


def install_patches():
    """Teach moto's AutoScalingResponse the lifecycle-action operations."""
    global _patched
    if _patched:
        return
    _orig["put_lifecycle_hook"] = AutoScalingResponse.put_lifecycle_hook
    _orig["delete_lifecycle_hook"] = AutoScalingResponse.delete_lifecycle_hook
    _orig["set_instance_protection"] = \
        AutoScalingResponse.set_instance_protection
    AutoScalingResponse.complete_lifecycle_action = _complete_lifecycle_action
    AutoScalingResponse.record_lifecycle_action_heartbeat = \
        _record_lifecycle_action_heartbeat
    AutoScalingResponse.put_lifecycle_hook = _put_lifecycle_hook
    AutoScalingResponse.delete_lifecycle_hook = _delete_lifecycle_hook
    AutoScalingResponse.set_instance_protection = _set_instance_protection
    _patched = True
