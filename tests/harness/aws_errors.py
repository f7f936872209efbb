"""Error responses in each AWS protocol's own shape (pure, no I/O).

error_response(service, protocol, code, message, status, sender) returns
(status, headers, body bytes) as the service would answer:

- "json"  (SQS over AWS JSON 1.0): {"__type": "com.amazonaws.<svc>#<Code>",
           "message": ...} plus x-amzn-query-error "<Code>;Sender|Receiver"
           (SQS is query-compatible)
- "query" (Auto Scaling, STS, IAM, SQS over Query): <ErrorResponse><Error>
           <Type/><Code/><Message/></Error><RequestId/></ErrorResponse>
- "ec2":   <Response><Errors><Error><Code/><Message/></Error></Errors>
           <RequestID/></Response>

fault_response(service, protocol, kind) gives the throttling ("throttle") or
internal-failure ("500") answer of that service.  parse_error_code() reads the
code back from any of those shapes (and from moto's own auth errors).
"""

import functools
import json
import re
import uuid
from xml.sax.saxutils import escape

_XML_NS_FALLBACK = {
    "autoscaling": "http://autoscaling.amazonaws.com/doc/2011-01-01/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sqs": "http://queue.amazonaws.com/doc/2012-11-05/",
}

# Throttling as each service spells it (botocore _retry.json and the
# services' error models): code, HTTP status, message.
THROTTLE = {
    "sqs": ("RequestThrottled", 400, "Request is throttled."),
    "ec2": ("RequestLimitExceeded", 503, "Request limit exceeded."),
}
THROTTLE_DEFAULT = ("Throttling", 400, "Rate exceeded")

INTERNAL = ("InternalFailure", 500,
            "The request processing has failed because of an unknown error, "
            "exception or failure.")

MISSING_AUTH = ("MissingAuthenticationToken", 403,
                "Request is missing Authentication Token")

FAULT_KINDS = ("throttle", "500")


@functools.lru_cache(maxsize=None)
def _xml_namespace(service):
    try:
        import botocore.session
        model = botocore.session.get_session().get_service_model(service)
        ns = model.metadata.get("xmlNamespace")
        if ns:
            return ns
    except Exception:  # unknown service: fall back to the table
        pass
    return _XML_NS_FALLBACK.get(service, "")


def protocol_of(service, content_type):
    """Which error shape a request of this service and content type gets."""
    if (content_type or "").startswith("application/x-amz-json"):
        return "json"
    if service == "ec2":
        return "ec2"
    return "query"


def error_response(service, protocol, code, message, status, sender=True):
    request_id = str(uuid.uuid4())
    fault = "Sender" if sender else "Receiver"
    headers = [("x-amzn-RequestId", request_id)]
    if protocol == "json":
        body = json.dumps({
            "__type": "com.amazonaws.%s#%s" % (service or "unknown", code),
            "message": message,
        }).encode()
        headers.append(("Content-Type", "application/x-amz-json-1.0"))
        if service == "sqs":
            headers.append(("x-amzn-query-error", "%s;%s" % (code, fault)))
    elif protocol == "ec2":
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                "<Response><Errors><Error><Code>%s</Code><Message>%s</Message>"
                "</Error></Errors><RequestID>%s</RequestID></Response>"
                % (escape(code), escape(message), request_id)).encode()
        headers.append(("Content-Type", "text/xml;charset=UTF-8"))
    else:
        ns = _xml_namespace(service) if service else ""
        xmlns = ' xmlns="%s"' % ns if ns else ""
        body = ("<ErrorResponse%s>\n  <Error>\n    <Type>%s</Type>\n"
                "    <Code>%s</Code>\n    <Message>%s</Message>\n  </Error>\n"
                "  <RequestId>%s</RequestId>\n</ErrorResponse>\n"
                % (xmlns, fault, escape(code), escape(message),
                   request_id)).encode()
        headers.append(("Content-Type", "text/xml"))
    headers.append(("Content-Length", str(len(body))))
    return status, headers, body


def fault_response(service, protocol, kind):
    if kind == "throttle":
        code, status, message = THROTTLE.get(service, THROTTLE_DEFAULT)
        return error_response(service, protocol, code, message, status, True)
    if kind == "500":
        code, status, message = INTERNAL
        return error_response(service, protocol, code, message, status, False)
    raise ValueError("unknown fault kind %r (want one of %s)"
                     % (kind, ", ".join(FAULT_KINDS)))


def missing_auth_response(service, protocol):
    code, status, message = MISSING_AUTH
    return error_response(service, protocol, code, message, status, True)


_CODE_RE = re.compile(rb"<Code>([^<]*)</Code>")


def parse_error_code(headers, body):
    """The error code of a response, whatever its shape; None if none."""
    if body[:1] == b"{":
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            t = doc.get("__type") or doc.get("code") or doc.get("Code")
            if isinstance(t, str) and t:
                return t.split(":")[0].rsplit("#", 1)[-1]
    m = _CODE_RE.search(body)
    if m:
        return m.group(1).decode("utf-8", "replace")
    for name, value in headers:
        if name.lower() == "x-amzn-query-error":
            return value.split(";")[0]
    return None
