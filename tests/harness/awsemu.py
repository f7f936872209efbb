"""AWS for the tests: moto on loopback, SigV4 enforced, lifecycle hooks alive.

AwsEmulator runs moto's server in this process on 127.0.0.1 (a free port),
behind a small WSGI front that records every call and injects faults, with
the lifecycle simulator of aws_lifecycle.py patched into moto's Auto Scaling.
One URL serves SQS (JSON protocol), Auto Scaling, EC2, STS, IAM, SNS and
EventBridge.  After start() every request must carry a valid SigV4 signature
by a key moto's IAM knows (the emulator's IAM user, or session credentials
from session_credentials()); a wrong secret gets SignatureDoesNotMatch (EC2:
AuthFailure), an unknown key InvalidClientTokenId, an unsigned request
MissingAuthenticationToken.  One emulator per process at a time (moto's state
is process-wide); the subnet comes from harness.net so parallel test
processes never share instance addresses.

    import sys; sys.path.insert(0, "<repo>/tests")
    from harness.net import allocate
    from harness.awsemu import AwsEmulator

    net = allocate()
    emu = AwsEmulator(net, region="us-east-1").start()  # net=None: take one
    self.addCleanup(emu.stop)                 # stop() is idempotent
    emu.endpoint            # "http://127.0.0.1:PORT"
    emu.region, emu.account_id
    emu.access_key, emu.secret_key            # IAM user, allow-all policy
    emu.session_credentials(duration=900)     # (akid, secret, token) via STS
                                              # AssumeRole on an allow-all role
    emu.queue_url                             # default queue "jvb-lifecycle"
    emu.create_queue(name) -> queue_url
    emu.create_group(name, size, subnet=net.cidr) -> [instance ids]
        # EC2 instances in a VPC subnet with that CIDR (private IPs
        # 127.0.N.4, .5, ...), in an Auto Scaling group of that name
    emu.put_hook(group, name, transition="terminating" | "launching",
                 heartbeat_timeout=30, default_result="ABANDON",
                 queue_url=None, envelope="direct", metadata=None,
                 test_notification=True) -> dict
        # envelope: "direct" (target = the queue), "sns" (target = an SNS
        # topic with an SQS subscription, raw delivery off), "sns-raw" (raw
        # delivery on), "eventbridge" (no target; an EventBridge rule sends
        # the lifecycle events to the queue).  Sends TEST_NOTIFICATION like
        # AWS unless there is no target or test_notification=False.
        # heartbeat_timeout must be 30..7200 like AWS.
    emu.instance_ip(instance_id) -> "127.0.N.x"
    emu.group_instances(group) -> [{"id", "ip", "lifecycle_state",
                                    "protected"}]
    emu.scale_in(group, instance_id=None, envelope=None) -> Action
        # without instance_id the group chooses like its Default
        # termination policy (aws_lifecycle.py): never a protected
        # instance; raises ScaleInBlocked (a ValueError) when every
        # InService instance is protected
    emu.scale_in_choice(group) -> instance id | None   # what it would take
    emu.launch(group, envelope=None) -> Action
        # envelope overrides the hook's form for this one notification;
        # the body goes to the hook's queue
    emu.protection(group) -> {instance_id: bool}
    emu.set_protection(group, instance_ids, protect=True)  # as the API
        # would, but not recorded as a call (SetInstanceProtection over
        # HTTP, the daemon's, is recorded and changes the same state)
    emu.spot_interruption(instance_id, reclaim_after=120.0,
                          action="terminate", terminate_hook=False,
                          terminate_hook_after=1.0, replace=False,
                          state_events=False, queue_url=None) -> Ec2Notice
        # the "EC2 Spot Instance Interruption Warning" event on the queue
        # now (the default queue unless queue_url); reclaim_after seconds
        # later EC2 terminates the instance without asking anyone: its
        # waiting lifecycle actions end in state "instance_gone"
        # (result None, result_source "reclaimed").  action "stop" or
        # "hibernate" stops it instead (its actions are left alone).
        # terminate_hook=True: the group also opens a terminate lifecycle
        # action (its hooks' notifications) terminate_hook_after seconds
        # after the warning, protection or not.  Leaving the group lowers
        # its desired capacity, or with replace=True launches a replacement.
        # state_events=True: the reclaim also sends EC2 state-change events.
    emu.spot_notice(instance_id) -> Ec2Notice   # state "pending" |
        # "reclaimed" | "already_gone"; reclaim_at, reclaimed_at,
        # ended_tokens, terminate_tokens, terminate_hook_note, body, ...
    emu.reclaimed_at(instance_id) -> float | None
    emu.wait_reclaim(instance_id, timeout=10) -> Ec2Notice
    emu.rebalance_recommendation(instance_id, terminate_hook=False,
                                 terminate_hook_after=1.0, replace=False,
                                 queue_url=None) -> Ec2Notice
    emu.instance_state_change(instance_id, state, queue_url=None)
        -> (body, message id)     # the event only
    emu.action(token) -> Action      # a snapshot: ask again to see changes
    emu.actions() -> [Action]
    emu.wait_action(token, states=("completed", "timed_out", "cancelled"),
                    timeout=10) -> Action
    emu.set_deadline(token, seconds)          # test knob: the heartbeat timer
        # of this action runs out in `seconds` (a later heartbeat restarts
        # it with the hook's full timeout, as usual)
    emu.set_global_deadline(token, seconds)   # test knob for the global cap
    emu.calls(operation=None, service=None) -> [dict]
        # every HTTP call moto received after setup, oldest first:
        # {time, service, operation, params, status, error_code, access_key,
        #  session_token (bool), path}; rejected ones included
    emu.clear_calls()
    emu.inject_fault(operation, count=1, kind="throttle" | "500")
        # the next `count` authenticated calls of that operation answer the
        # service's throttling error (SQS RequestThrottled 400 in JSON, Auto
        # Scaling/STS/IAM Throttling 400 in Query XML, EC2
        # RequestLimitExceeded 503) or 500 InternalFailure in the protocol's
        # shape, without reaching moto
    emu.faults_pending(operation=None) -> int
    emu.send_raw(body, queue_url=None) -> message id
    emu.queue_messages(queue_url=None) -> {"visible", "in_flight", "delayed"}
    emu.client(service, session=False, **kw)  # boto3 client signed with
        # the user's key (or session credentials); its calls are recorded
    emu.daemon_env() -> dict      # AWS_* variables for a daemon under test
    emu.stop()

Action fields: token, instance_id, group, hook, transition ("terminating" |
"launching"), lifecycle_transition, state ("waiting" | "completed" |
"timed_out" | "cancelled" | "instance_gone"), result ("CONTINUE" | "ABANDON"
| None), result_source ("api" | "default" | "hook-deleted" | "reclaimed" |
None), heartbeats (list
of time.time() values), started_at, completed_at, deadline (property:
min(heartbeat_deadline, global_deadline)), heartbeat_deadline,
global_deadline, heartbeat_timeout, default_result, instance_ip, envelope,
queue_name, message_id, body (exactly what went on the queue), request_id.

Standalone, for shell scripts and the demo (credentials never on argv):

    python3 tests/harness/awsemu.py serve --net N --state-file FILE \
        [--group jvb --size 3 --heartbeat-timeout 30 --default-result ABANDON
         --envelope direct --region us-east-1]

writes FILE (0600, JSON: endpoint, region, account_id, queue_url,
access_key_id, secret_access_key, group, hooks, instances [{id, ip}], net,
cidr, control_url, pid) once everything is up, then serves a JSON control API
on another loopback port until SIGTERM/SIGINT (and removes FILE on exit):
    POST /scale-in    {"group"?, "instance_id"?, "envelope"?}   -> action
    POST /launch      {"group"?, "envelope"?}                   -> action
    GET  /actions     GET /actions/<token>
    GET  /calls[?operation=Op]
    POST /fault       {"operation", "count"?, "kind"?}
    POST /send-raw    {"body", "queue_url"?}                    -> {message_id}
    POST /set-deadline {"token", "seconds"}                     -> action
    GET  /queue       GET /instances
    POST /spot-interruption {"instance_id", "reclaim_after"?, "action"?,
                       "terminate_hook"?, "terminate_hook_after"?,
                       "replace"?, "state_events"?}             -> notice
    GET  /spot/<instance id>                                    -> notice
    POST /rebalance-recommendation {"instance_id", "terminate_hook"?,
                       "terminate_hook_after"?, "replace"?}     -> notice
    GET  /protection[?group=G]              -> {instance id: bool}
    GET  /scale-in-choice[?group=G]         -> {"instance_id": id | null}
A scale-in the group cannot make (every instance protected) answers 409.
"""

import os
import sys

# moto reads this at import; keep auth off until the IAM user exists.
os.environ.setdefault("INITIAL_NO_AUTH_ACTION_COUNT", "inf")

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))

import argparse  # noqa: E402
import atexit  # noqa: E402
import dataclasses  # noqa: E402
import http  # noqa: E402
import http.server  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402

import boto3  # noqa: E402
import botocore.config  # noqa: E402
from moto import settings as moto_settings  # noqa: E402
from moto.core.authorization import ActionAuthenticatorMixin  # noqa: E402
from moto.moto_server.threaded_moto_server import \
    ThreadedMotoServer  # noqa: E402
from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication, create_backend_app)
from werkzeug.exceptions import HTTPException  # noqa: E402
from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

from harness import aws_errors  # noqa: E402
from harness import aws_events as ev  # noqa: E402
from harness import aws_lifecycle  # noqa: E402
from harness.aws_lifecycle import (  # noqa: E402
    Action, Ec2Notice, LifecycleSimulator, ScaleInBlocked)

__all__ = ["AwsEmulator", "Action", "Ec2Notice", "ScaleInBlocked"]

INTERNAL_HEADER = "X-Jvbemu-Internal"
_VERSION_SERVICE = {
    "2011-01-01": "autoscaling",
    "2016-11-15": "ec2",
    "2011-06-15": "sts",
    "2010-05-08": "iam",
    "2012-11-05": "sqs",
    "2010-03-31": "sns",
}
_TARGET_SERVICE = {"AmazonSQS": "sqs", "AWSEvents": "events"}
_CRED_RE = re.compile(
    r"Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request")

_tls = threading.local()
_running = None                 # the started AwsEmulator of this process
_running_lock = threading.Lock()
_auth_patched = False


class _FaultAbort(HTTPException):
    """Stops moto after authentication; the front answers the fault."""
    code = 500
    description = ""


def _install_fault_hook():
    """Faults are decided after moto authenticated the request, so a bad
    signature is still reported as such and a fault has no side effect."""
    global _auth_patched
    if _auth_patched:
        return
    orig = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action

    def authenticate_then_fault(self, resource="*"):
        orig(self, resource)
        emu = _running
        if emu is None or getattr(_tls, "internal", True):
            return
        kind = emu._take_fault(self._get_action())
        if kind is not None:
            _tls.fault = kind
            raise _FaultAbort()

    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = \
        authenticate_then_fault
    _auth_patched = True


def _read_body(environ):
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        try:
            return stream.read(int(length))
        except ValueError:
            return b""
    if environ.get("wsgi.input_terminated"):
        return stream.read()
    return b""


def _classify(environ, headers, body):
    """(service, operation, params, access key, protocol) of a request."""
    auth = headers.get("authorization", "")
    m = _CRED_RE.search(auth)
    access_key = m.group(1) if m else None
    service = m.group(4) if m else None
    ctype = headers.get("content-type", "")
    target = headers.get("x-amz-target")
    op = None
    if ctype.startswith("application/x-amz-json"):
        try:
            params = json.loads(body.decode("utf-8") or "{}")
        except ValueError:
            params = {"_raw": body.decode("utf-8", "replace")}
        if target:
            prefix, _, op = target.rpartition(".")
            service = service or _TARGET_SERVICE.get(prefix.split("_")[0])
    else:
        pairs = urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""),
                                       keep_blank_values=True)
        if ctype.startswith("application/x-www-form-urlencoded"):
            pairs += urllib.parse.parse_qsl(
                body.decode("utf-8", "replace"), keep_blank_values=True)
        params = dict(pairs)
        op = params.get("Action")
        service = service or _VERSION_SERVICE.get(params.get("Version"))
        if op is None and target:
            op = target.rpartition(".")[2]
    return service, op, params, access_key, aws_errors.protocol_of(service,
                                                                   ctype)


def _status_line(code):
    try:
        phrase = http.HTTPStatus(code).phrase
    except ValueError:
        phrase = "Unknown"
    return "%d %s" % (code, phrase)


class _Front:
    """WSGI in front of moto: records calls, rejects unsigned requests,
    answers injected faults, hides moto's control API once sealed."""

    def __init__(self, emu, app):
        self.emu = emu
        self.app = app

    def __call__(self, environ, start_response):
        t = time.time()
        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        headers = {}
        for k, v in environ.items():
            if k.startswith("HTTP_"):
                headers[k[5:].replace("_", "-").lower()] = v
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        internal = headers.get(INTERNAL_HEADER.lower()) == "1"
        path = environ.get("PATH_INFO", "")
        emu = self.emu

        if path.startswith("/moto-api"):
            if emu._sealed and not internal:
                return self._reply(start_response, 403, [
                    ("Content-Type", "text/plain")],
                    b"moto's control API is closed once the emulator runs\n")
            return self.app(environ, start_response)

        service, op, params, akid, protocol = _classify(environ, headers,
                                                        body)
        if emu._sealed and not internal and "authorization" not in headers \
                and "X-Amz-Signature" not in environ.get("QUERY_STRING", ""):
            status, hdrs, out = aws_errors.missing_auth_response(service,
                                                                 protocol)
        else:
            _tls.internal = internal
            _tls.fault = None
            try:
                status, hdrs, out = self._run(environ)
                if _tls.fault is not None:
                    status, hdrs, out = aws_errors.fault_response(
                        service or "unknown", protocol, _tls.fault)
            finally:
                _tls.internal = True
                _tls.fault = None
        if emu._recording and not internal:
            emu._record({
                "time": t,
                "service": service,
                "operation": op,
                "params": params,
                "status": status,
                "error_code": aws_errors.parse_error_code(hdrs, out)
                if status >= 400 else None,
                "access_key": akid,
                "session_token": "x-amz-security-token" in headers,
                "path": path,
            })
        return self._reply(start_response, status, hdrs, out)

    def _run(self, environ):
        captured = {}
        chunks = []

        def start_response(status, headers, exc_info=None):
            captured["status"] = int(status.split(None, 1)[0])
            captured["headers"] = list(headers)
            return chunks.append

        it = self.app(environ, start_response)
        try:
            for c in it:
                chunks.append(c)
        finally:
            if hasattr(it, "close"):
                it.close()
        out = b"".join(c if isinstance(c, bytes) else c.encode()
                       for c in chunks)
        return captured.get("status", 500), captured.get("headers", []), out

    @staticmethod
    def _reply(start_response, status, headers, out):
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(out))))
        start_response(_status_line(status), headers)
        return [out]


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class _Server(ThreadedMotoServer):
    """moto's ThreadedMotoServer with our front and without access logs."""

    def __init__(self, emu, host):
        super().__init__(ip_address=host, port=0, verbose=False)
        self._emu = emu
        self._error = None

    def _server_entry(self):
        try:
            app = _Front(self._emu,
                         DomainDispatcherApplication(create_backend_app))
            self._server = make_server(self._ip_address, self._port, app,
                                       threaded=True,
                                       request_handler=_QuietHandler)
        except BaseException as e:  # reported by start()
            self._error = e
            self._server_ready_event.set()
            return
        self._server_ready_event.set()
        self._server.serve_forever(poll_interval=0.2)

    def start(self):
        super().start()
        if self._error is not None:
            raise self._error

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)


def _allow_all():
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def _safe_name(s):
    return re.sub(r"[^A-Za-z0-9_-]", "-", s)[:200]


class AwsEmulator:
    """See the module docstring."""

    DEFAULT_QUEUE = "jvb-lifecycle"
    USER = "jvb-lifecycled"
    ROLE = "jvb-lifecycled-role"
    AMI = "ami-0b5eea76982371e91"

    def __init__(self, net=None, region="us-east-1"):
        # Without a net, take one and give it back in stop().
        self._own_net = net is None
        self.net = net
        self.region = region
        self.account_id = os.environ.get("MOTO_ACCOUNT_ID", "123456789012")
        self.endpoint = None
        self.access_key = None
        self.secret_key = None
        self.queue_url = None
        self.sim = None
        self._server = None
        self._sealed = False
        self._recording = False
        self._lock = threading.Lock()
        self._calls = []            # owner: this object
        self._faults = {}           # operation -> [kind, ...]
        self._subnets = {}          # cidr -> subnet id
        self._clients = {}
        self._started = False

    # -- lifecycle ----------------------------------------------------------

    def start(self):
        global _running
        if self._started:
            return self
        with _running_lock:
            if _running is not None:
                raise RuntimeError("an AwsEmulator already runs in this "
                                   "process; stop it first")
            _running = self
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self):
        from moto.moto_api._internal.models import moto_api_backend
        self._started = True
        if self.net is None:
            from harness.net import allocate
            self.net = allocate()
        aws_lifecycle.install_patches()
        _install_fault_hook()
        moto_api_backend.reset()        # a clean slate for each emulator
        self._set_auth(float("inf"))
        self._server = _Server(self, "127.0.0.1")
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = "http://%s:%d" % (host, port)
        self.sim = LifecycleSimulator(self.account_id, self.region)
        aws_lifecycle.set_active(self.sim)
        self.sim.start()

        # Bootstrap with auth off: the only unsigned requests ever served.
        boot = self._make_client("iam", "AKIDBOOTSTRAP0000000", "bootstrap",
                                 None)
        user_arn = boot.create_user(UserName=self.USER)["User"]["Arn"]
        boot.put_user_policy(UserName=self.USER, PolicyName="allow-all",
                             PolicyDocument=_allow_all())
        key = boot.create_access_key(UserName=self.USER)["AccessKey"]
        self.access_key = key["AccessKeyId"]
        self.secret_key = key["SecretAccessKey"]
        role = boot.create_role(
            RoleName=self.ROLE, AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Action": "sts:AssumeRole",
                    "Principal": {"AWS": user_arn}}]}))
        self.role_arn = role["Role"]["Arn"]
        boot.put_role_policy(RoleName=self.ROLE, PolicyName="allow-all",
                             PolicyDocument=_allow_all())

        # From here on every request must be signed by a known key.
        self._set_auth(0)
        self._sealed = True
        self._recording = True
        self.queue_url = self.create_queue(self.DEFAULT_QUEUE)
        atexit.register(self.stop)

    @staticmethod
    def _set_auth(count):
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = count
        ActionAuthenticatorMixin.request_count = 0

    def stop(self):
        global _running
        if not self._started:
            with _running_lock:
                if _running is self:
                    _running = None
            return
        self._started = False
        self._recording = False
        if self.sim is not None:
            self.sim.stop()
            if aws_lifecycle.get_active() is self.sim:
                aws_lifecycle.set_active(None)
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._clients.clear()
        if self._own_net and self.net is not None:
            self.net.release()
            self.net = None
        try:
            from moto.moto_api._internal.models import moto_api_backend
            moto_api_backend.reset()
        finally:
            self._set_auth(float("inf"))
            with _running_lock:
                if _running is self:
                    _running = None
            try:
                atexit.unregister(self.stop)
            except Exception:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- clients ------------------------------------------------------------

    def _make_client(self, service, akid, secret, token, internal=True,
                     **kw):
        cfg = kw.pop("config", None) or botocore.config.Config(
            retries={"total_max_attempts": 1})
        sess = boto3.session.Session(
            aws_access_key_id=akid, aws_secret_access_key=secret,
            aws_session_token=token, region_name=self.region)
        c = sess.client(service, endpoint_url=self.endpoint, config=cfg, **kw)
        if internal:
            def mark(request, **_):
                request.headers[INTERNAL_HEADER] = "1"
            c.meta.events.register("before-send", mark)
        return c

    def _internal(self, service):
        c = self._clients.get(service)
        if c is None:
            c = self._make_client(service, self.access_key, self.secret_key,
                                  None)
            self._clients[service] = c
        return c

    def client(self, service, session=False, **kw):
        """A boto3 client for tests, signed like a daemon would sign: its
        calls are recorded and subject to faults.  No retries unless a
        config says otherwise."""
        if session:
            akid, secret, token = self.session_credentials()
        else:
            akid, secret, token = self.access_key, self.secret_key, None
        return self._make_client(service, akid, secret, token,
                                 internal=False, **kw)

    def session_credentials(self, duration=900):
        r = self._internal("sts").assume_role(
            RoleArn=self.role_arn, RoleSessionName="jvb-lifecycled",
            DurationSeconds=int(duration))["Credentials"]
        return r["AccessKeyId"], r["SecretAccessKey"], r["SessionToken"]

    def daemon_env(self):
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint,
        }

    # -- resources ----------------------------------------------------------

    def create_queue(self, name, attributes=None):
        return self._internal("sqs").create_queue(
            QueueName=name, Attributes=attributes or {})["QueueUrl"]

    def _queue_name(self, queue_url):
        return (queue_url or self.queue_url).rstrip("/").rsplit("/", 1)[-1]

    def queue_arn(self, queue_url=None):
        return "arn:aws:sqs:%s:%s:%s" % (self.region, self.account_id,
                                         self._queue_name(queue_url))

    def _subnet_for(self, cidr):
        sid = self._subnets.get(cidr)
        if sid is None:
            ec2 = self._internal("ec2")
            vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
            sid = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr)["Subnet"][
                "SubnetId"]
            self._subnets[cidr] = sid
        return sid

    def create_group(self, name, size, subnet=None):
        subnet_id = self._subnet_for(subnet or self.net.cidr)
        lt = "lt-" + _safe_name(name)
        self._internal("ec2").create_launch_template(
            LaunchTemplateName=lt, LaunchTemplateData={
                "ImageId": self.AMI, "InstanceType": "c5.xlarge"})
        self._internal("autoscaling").create_auto_scaling_group(
            AutoScalingGroupName=name,
            LaunchTemplate={"LaunchTemplateName": lt, "Version": "$Latest"},
            MinSize=0, MaxSize=int(size) + max(10, int(size)),
            DesiredCapacity=int(size), VPCZoneIdentifier=subnet_id)
        return [s.instance.id for s in self.sim.group(name).instance_states]

    def put_hook(self, group, name, transition="terminating",
                 heartbeat_timeout=30, default_result="ABANDON",
                 queue_url=None, envelope="direct", metadata=None,
                 test_notification=True):
        if transition not in ev.TRANSITIONS:
            raise ValueError("transition must be 'terminating' or "
                             "'launching'")
        if envelope not in ev.ENVELOPES:
            raise ValueError("envelope must be one of %s"
                             % ", ".join(ev.ENVELOPES))
        lt = ev.TRANSITIONS[transition]
        queue_url = queue_url or self.queue_url
        qarn = self.queue_arn(queue_url)
        target = None
        if envelope == "direct":
            target = qarn
        elif envelope in ("sns", "sns-raw"):
            sns = self._internal("sns")
            target = sns.create_topic(
                Name=_safe_name("%s-%s" % (group, name)))["TopicArn"]
            attrs = {"RawMessageDelivery": "true"} \
                if envelope == "sns-raw" else {}
            sns.subscribe(TopicArn=target, Protocol="sqs", Endpoint=qarn,
                          Attributes=attrs)
        else:
            events = self._internal("events")
            rule = _safe_name("%s-%s" % (group, name))[:64]
            events.put_rule(Name=rule, EventPattern=json.dumps({
                "source": ["aws.autoscaling"],
                "detail-type": [ev.EVENTBRIDGE_DETAIL_TYPE[lt]],
                "detail": {"AutoScalingGroupName": [group],
                           "LifecycleHookName": [name]}}))
            events.put_targets(Rule=rule, Targets=[{"Id": "queue",
                                                    "Arn": qarn}])
        h = self.sim.put_hook(
            group=group, name=name, lifecycle_transition=lt,
            heartbeat_timeout=heartbeat_timeout,
            default_result=default_result, target_arn=target,
            metadata=metadata, send_test=test_notification)
        return {
            "group": group, "name": name, "transition": transition,
            "lifecycle_transition": lt,
            "heartbeat_timeout": h.heartbeat_timeout,
            "global_timeout": h.global_timeout,
            "default_result": h.default_result,
            "target_arn": target, "queue_url": queue_url,
            "envelope": h.emu_envelope,
        }

    def instance_ip(self, instance_id):
        return self.sim.ec2.get_instance(instance_id).private_ip

    def group_instances(self, group):
        return [{"id": s.instance.id, "ip": s.instance.private_ip,
                 "lifecycle_state": s.lifecycle_state,
                 "protected": bool(s.protected_from_scale_in)}
                for s in self.sim.group(group).instance_states]

    # -- lifecycle actions --------------------------------------------------

    def scale_in(self, group, instance_id=None, envelope=None):
        return self.sim.scale_in(group, instance_id=instance_id,
                                 envelope=envelope)

    def scale_in_choice(self, group):
        return self.sim.scale_in_choice(group)

    def launch(self, group, envelope=None):
        return self.sim.launch(group, envelope=envelope)

    # -- scale-in protection and EC2 notices ----------------------------------

    def protection(self, group):
        return self.sim.protection(group)

    def set_protection(self, group, instance_ids, protect=True):
        if isinstance(instance_ids, str):
            instance_ids = [instance_ids]
        self.sim.set_protection(group, list(instance_ids), bool(protect))

    def spot_interruption(self, instance_id, reclaim_after=120.0,
                          action="terminate", terminate_hook=False,
                          terminate_hook_after=1.0, replace=False,
                          state_events=False, queue_url=None):
        return self.sim.spot_interruption(
            instance_id, self._queue_name(queue_url),
            reclaim_after=reclaim_after, action=action,
            terminate_hook=terminate_hook,
            terminate_hook_after=terminate_hook_after, replace=replace,
            state_events=state_events)

    def spot_notice(self, instance_id):
        return self.sim.spot_notice(instance_id)

    def reclaimed_at(self, instance_id):
        return self.sim.reclaimed_at(instance_id)

    def wait_reclaim(self, instance_id, timeout=10.0):
        return self.sim.wait_reclaim(instance_id, timeout)

    def rebalance_recommendation(self, instance_id, terminate_hook=False,
                                 terminate_hook_after=1.0, replace=False,
                                 queue_url=None):
        return self.sim.rebalance_recommendation(
            instance_id, self._queue_name(queue_url),
            terminate_hook=terminate_hook,
            terminate_hook_after=terminate_hook_after, replace=replace)

    def instance_state_change(self, instance_id, state, queue_url=None):
        return self.sim.instance_state_change(instance_id, state,
                                              self._queue_name(queue_url))

    def action(self, token):
        return self.sim.action(token)

    def actions(self):
        return self.sim.actions()

    def wait_action(self, token, states=aws_lifecycle.END_STATES,
                    timeout=10.0):
        return self.sim.wait_action(token, states, timeout)

    def set_deadline(self, token, seconds):
        return self.sim.set_deadline(token, seconds)

    def set_global_deadline(self, token, seconds):
        return self.sim.set_global_deadline(token, seconds)

    # -- calls and faults ---------------------------------------------------

    def _record(self, call):
        with self._lock:
            self._calls.append(call)

    def calls(self, operation=None, service=None):
        with self._lock:
            out = [dict(c) for c in self._calls
                   if (operation is None or c["operation"] == operation) and
                   (service is None or c["service"] == service)]
        return out

    def clear_calls(self):
        with self._lock:
            self._calls.clear()

    def inject_fault(self, operation, count=1, kind="throttle"):
        if kind not in aws_errors.FAULT_KINDS:
            raise ValueError("kind must be one of %s"
                             % ", ".join(aws_errors.FAULT_KINDS))
        if int(count) < 0:
            raise ValueError("count must be >= 0")
        with self._lock:
            self._faults.setdefault(operation, []).extend([kind] * int(count))

    def clear_faults(self, operation=None):
        """Drop the pending injected faults (of one operation, or all)."""
        with self._lock:
            if operation is None:
                self._faults.clear()
            else:
                self._faults.pop(operation, None)

    def faults_pending(self, operation=None):
        with self._lock:
            if operation is not None:
                return len(self._faults.get(operation, ()))
            return sum(len(v) for v in self._faults.values())

    def _take_fault(self, operation):
        with self._lock:
            q = self._faults.get(operation)
            if q:
                return q.pop(0)
        return None

    # -- queues -------------------------------------------------------------

    def send_raw(self, body, queue_url=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        return self.sim.deliver(self._queue_name(queue_url), body)

    def queue_messages(self, queue_url=None):
        q = self.sim.sqs.get_queue(self._queue_name(queue_url))
        return {"visible": q.approximate_number_of_messages,
                "in_flight": q.approximate_number_of_messages_not_visible,
                "delayed": q.approximate_number_of_messages_delayed}


# -- standalone mode ----------------------------------------------------------

def _action_json(a):
    d = dataclasses.asdict(a)
    d["deadline"] = a.deadline
    return d


def _notice_json(n):
    return dataclasses.asdict(n)


def _flag(body, key):
    v = body.get(key, False)
    if not isinstance(v, bool):
        raise ValueError("%s must be true or false" % key)
    return v


class _ControlHandler(http.server.BaseHTTPRequestHandler):
    server_version = "awsemu-control"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _send(self, code, obj):
        out = (json.dumps(obj, indent=1) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n == 0:
            return {}
        doc = json.loads(self.rfile.read(n))
        if not isinstance(doc, dict):
            raise ValueError("body must be a JSON object")
        return doc

    def _dispatch(self, method):
        emu, ctx = self.server.emu, self.server.ctx
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, urllib.parse.parse_qs(url.query)
        try:
            if method == "GET" and path == "/actions":
                return self._send(200, [_action_json(a)
                                        for a in emu.actions()])
            if method == "GET" and path.startswith("/actions/"):
                return self._send(200, _action_json(
                    emu.action(path[len("/actions/"):])))
            if method == "GET" and path == "/calls":
                op = query.get("operation", [None])[0]
                return self._send(200, emu.calls(operation=op))
            if method == "GET" and path == "/queue":
                return self._send(200, emu.queue_messages())
            if method == "GET" and path == "/instances":
                return self._send(200, emu.group_instances(
                    query.get("group", [ctx["group"]])[0]))
            if method == "GET" and path == "/protection":
                return self._send(200, emu.protection(
                    query.get("group", [ctx["group"]])[0]))
            if method == "GET" and path == "/scale-in-choice":
                return self._send(200, {"instance_id": emu.scale_in_choice(
                    query.get("group", [ctx["group"]])[0])})
            if method == "GET" and path.startswith("/spot/"):
                return self._send(200, _notice_json(
                    emu.spot_notice(path[len("/spot/"):])))
            if method != "POST":
                return self._send(404, {"error": "no such endpoint"})
            body = self._body()
            if path == "/scale-in":
                return self._send(200, _action_json(emu.scale_in(
                    body.get("group", ctx["group"]),
                    instance_id=body.get("instance_id"),
                    envelope=body.get("envelope"))))
            if path == "/launch":
                return self._send(200, _action_json(emu.launch(
                    body.get("group", ctx["group"]),
                    envelope=body.get("envelope"))))
            if path == "/fault":
                emu.inject_fault(body["operation"], int(body.get("count", 1)),
                                 body.get("kind", "throttle"))
                return self._send(200, {"pending": emu.faults_pending(
                    body["operation"])})
            if path == "/send-raw":
                mid = emu.send_raw(body["body"], body.get("queue_url"))
                return self._send(200, {"message_id": mid})
            if path == "/spot-interruption":
                return self._send(200, _notice_json(emu.spot_interruption(
                    body["instance_id"],
                    reclaim_after=float(body.get("reclaim_after", 120.0)),
                    action=body.get("action", "terminate"),
                    terminate_hook=_flag(body, "terminate_hook"),
                    terminate_hook_after=float(
                        body.get("terminate_hook_after", 1.0)),
                    replace=_flag(body, "replace"),
                    state_events=_flag(body, "state_events"))))
            if path == "/rebalance-recommendation":
                return self._send(200, _notice_json(
                    emu.rebalance_recommendation(
                        body["instance_id"],
                        terminate_hook=_flag(body, "terminate_hook"),
                        terminate_hook_after=float(
                            body.get("terminate_hook_after", 1.0)),
                        replace=_flag(body, "replace"))))
            if path == "/set-deadline":
                return self._send(200, _action_json(emu.set_deadline(
                    body["token"], float(body["seconds"]))))
            return self._send(404, {"error": "no such endpoint"})
        except ScaleInBlocked as e:
            return self._send(409, {"error": "ScaleInBlocked: %s" % e})
        except (KeyError, ValueError, LookupError, TypeError) as e:
            return self._send(400, {"error": "%s: %s"
                                    % (type(e).__name__, e)})

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")


def _write_state(path, state):
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (json.dumps(state, indent=1) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, path)


def _serve(args):
    from harness.net import allocate
    net = allocate(args.net)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    emu = AwsEmulator(net, region=args.region)
    ctl = None
    try:
        emu.start()
        ids = emu.create_group(args.group, args.size)
        hooks = [
            emu.put_hook(args.group, args.terminate_hook, "terminating",
                         heartbeat_timeout=args.heartbeat_timeout,
                         default_result=args.default_result,
                         envelope=args.envelope),
            emu.put_hook(args.group, args.launch_hook, "launching",
                         heartbeat_timeout=args.heartbeat_timeout,
                         default_result=args.default_result,
                         envelope=args.envelope),
        ]
        ctl = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                              _ControlHandler)
        ctl.daemon_threads = True
        ctl.emu = emu
        ctl.ctx = {"group": args.group}
        threading.Thread(target=ctl.serve_forever, kwargs={
            "poll_interval": 0.2}, daemon=True).start()
        _write_state(args.state_file, {
            "endpoint": emu.endpoint,
            "region": emu.region,
            "account_id": emu.account_id,
            "queue_url": emu.queue_url,
            "access_key_id": emu.access_key,
            "secret_access_key": emu.secret_key,
            "group": args.group,
            "hooks": hooks,
            "instances": [{"id": i, "ip": emu.instance_ip(i)} for i in ids],
            "net": net.n,
            "cidr": net.cidr,
            "control_url": "http://127.0.0.1:%d" % ctl.server_address[1],
            "pid": os.getpid(),
        })
        while not stop.wait(0.5):
            pass
    finally:
        if ctl is not None:
            ctl.shutdown()
            ctl.server_close()
        emu.stop()
        for p in (args.state_file, args.state_file + ".tmp"):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="awsemu.py", description=(
        "AWS emulator (moto + lifecycle simulator) for scripts and the "
        "demo."))
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="run until SIGTERM/SIGINT")
    s.add_argument("--net", type=int, default=None,
                   help="N of 127.0.N.0/24 (default: any free one)")
    s.add_argument("--state-file", required=True)
    s.add_argument("--region", default="us-east-1")
    s.add_argument("--group", default="jvb")
    s.add_argument("--size", type=int, default=3)
    s.add_argument("--heartbeat-timeout", type=int, default=30)
    s.add_argument("--default-result", default="ABANDON",
                   choices=("CONTINUE", "ABANDON"))
    s.add_argument("--envelope", default="direct", choices=ev.ENVELOPES)
    s.add_argument("--terminate-hook", default="jvb-drain")
    s.add_argument("--launch-hook", default="jvb-launch")
    args = p.parse_args(argv)
    if args.cmd == "serve":
        return _serve(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
