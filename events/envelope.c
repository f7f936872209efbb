/*
 * SQS message body -> lifecycle event, test notification, EC2 hint or a
 * rejection with its reason (aws-wire.md section 1f, refined).
 *
 * The reasons end up in logs and in the audit trail, so they are built
 * only from our own text plus bytes passed through envelope_sanitize().
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "handler/jsonutil.h"
#include "events/envelope.h"
#include "handler/timeutil.h"

/* How much of a peer's value a reason quotes. */
#define QUOTE_MAX	64

#define EB_LAUNCH	"EC2 Instance-launch Lifecycle Action"
#define EB_TERMINATE	"EC2 Instance-terminate Lifecycle Action"
#define EB_SPOT		"EC2 Spot Instance Interruption Warning"
#define EB_REBALANCE	"EC2 Instance Rebalance Recommendation"
#define EB_STATE	"EC2 Instance State-change Notification"
#define AS_TEST		"autoscaling:TEST_NOTIFICATION"

struct parse {
	struct envelope_result	*res;
	bool			 via_sns;
	/* Where we are, for reasons: "", "SNS Message: " */
	const char		*where;
};

static void reject(struct parse *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
reject(struct parse *p, const char *fmt, ...)
{
	char text[ENVELOPE_REASON_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	p->res->kind = ENVELOPE_KIND_REJECT;
	snprintf(p->res->reason, sizeof(p->res->reason), "%s%s", p->where,
	    text);
	/* A reject carries its reason and, if known, its group: nothing
	 * half-parsed that a caller could mistake for validated data. */
	memset(&p->res->event, 0, sizeof(p->res->event));
	p->res->instance_id[0] = '\0';
	p->res->instance_action[0] = '\0';
	p->res->state[0] = '\0';
	p->res->request_id[0] = '\0';
	p->res->time_ms = 0;
}

void
envelope_sanitize(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t i, room;

	if (dstlen == 0)
		return;
	room = dstlen - 1;
	if (srclen > room && room >= 3)
		room -= 3;
	else if (srclen > room)
		room = 0;
	for (i = 0; i < srclen && i < room; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (i < srclen && dstlen - 1 - i >= 3) {
		memcpy(dst + i, "...", 3);
		i += 3;
	}
	dst[i] = '\0';
}


/* Reject a json_loadb failure with a precise, sanitized reason. */
static void
reject_json(struct parse *p, const json_error_t *err)
{
	char text[sizeof(err->text) + 4];

	envelope_sanitize(text, sizeof(text), err->text,
	    strnlen(err->text, sizeof(err->text) - 1));
	switch (json_error_code(err)) {
	case json_error_duplicate_key:
		reject(p, "duplicate key, refused (%s) at offset %d", text,
		    err->position);
		break;
	case json_error_null_character:
	case json_error_null_byte_in_key:
		reject(p, "not JSON we accept: NUL character (\\u0000) in a "
		    "string at offset %d", err->position);
		break;
	case json_error_stack_overflow:
		reject(p, "not JSON we accept: nested too deep at offset %d",
		    err->position);
		break;
	default:
		reject(p, "not JSON: %s at offset %d", text, err->position);
		break;
	}
}

/*
 * The string member key of obj.  Absent: *ret = NULL, 0 when optional,
 * rejected when required.  Present with another type: rejected.  Returns 0
 * or -1 (reason set).
 */
static int
get_string(struct parse *p, const json_t *obj, const char *pfx,
    const char *key, bool required, const char **ret)
{
	const json_t *v = json_object_get(obj, key);

	*ret = NULL;
	if (v == NULL) {
		if (!required)
			return 0;
		reject(p, "%s%s: missing", pfx, key);
		return -1;
	}
	if (!json_is_string(v)) {
		reject(p, "%s%s: expected a string, got %s", pfx, key,
		    jsonutil_type_name(v));
		return -1;
	}
	/* Cannot happen without JSON_ALLOW_NUL; a cut string would lie. */
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		reject(p, "%s%s: contains a NUL character", pfx, key);
		return -1;
	}
	*ret = json_string_value(v);
	return 0;
}

static void
quote(char *dst, size_t dstlen, const char *s)
{
	envelope_sanitize(dst, dstlen, s, strlen(s));
}

/* Checked copy: the validators bound every length. */
static void
copy(char *dst, size_t dstlen, const char *s)
{
	size_t n = strlen(s);

	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* "YYYY-MM-DDTHH:MM:SS[.fff](Z|+00:00)" as Unix ms, or 0. */
static int64_t
parse_time(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	int64_t ms;
	size_t i;

	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') :
		    s[i] != shape[i])
			return 0;
	}
	if (timeutil_parse_iso8601(s, &ms) != 0 || ms <= 0)
		return 0;
	return ms;
}

static int
get_time(struct parse *p, const json_t *obj, const char *pfx,
    const char *key, int64_t *ret_ms)
{
	const char *s;

	if (get_string(p, obj, pfx, key, false, &s) != 0)
		return -1;
	*ret_ms = s != NULL ? parse_time(s) : 0;
	return 0;
}

static int
get_request_id(struct parse *p, const json_t *obj, const char *pfx,
    const char *key, char *dst, size_t dstlen)
{
	char q[QUOTE_MAX];
	const char *s;

	if (get_string(p, obj, pfx, key, false, &s) != 0)
		return -1;
	if (s == NULL)
		return 0;
	if (!lifecycle_valid_request_id(s)) {
		quote(q, sizeof(q), s);
		reject(p, "%s%s: not 1 to %d characters of [A-Za-z0-9_.:-] "
		    "('%s')", pfx, key, LIFECYCLE_REQUEST_ID_MAX, q);
		return -1;
	}
	copy(dst, dstlen, s);
	return 0;
}

static int
get_instance_id(struct parse *p, const json_t *obj, const char *pfx,
    const char *key, char *dst, size_t dstlen)
{
	char q[QUOTE_MAX];
	const char *s;

	if (get_string(p, obj, pfx, key, true, &s) != 0)
		return -1;
	if (!lifecycle_valid_instance_id(s)) {
		quote(q, sizeof(q), s);
		reject(p, "%s%s: not an instance id (i- and 8 or 17 lower-case "
		    "hex digits) ('%s')", pfx, key, q);
		return -1;
	}
	copy(dst, dstlen, s);
	return 0;
}

/* One of the values of a NULL-terminated list, copied to dst. */
static int
get_enum(struct parse *p, const json_t *obj, const char *pfx,
    const char *key, bool required, const char *const *values, char *dst,
    size_t dstlen)
{
	char q[QUOTE_MAX];
	const char *s;
	size_t i;

	if (get_string(p, obj, pfx, key, required, &s) != 0)
		return -1;
	if (s == NULL)
		return 0;
	for (i = 0; values[i] != NULL; i++) {
		if (strcmp(s, values[i]) == 0) {
			copy(dst, dstlen, s);
			return 0;
		}
	}
	quote(q, sizeof(q), s);
	reject(p, "%s%s: unknown value '%s'", pfx, key, q);
	return -1;
}

static int
parse_transition(const char *s, enum lifecycle_transition *ret)
{
	if (strcmp(s, lifecycle_transition_aws(LIFECYCLE_LAUNCHING)) == 0)
		*ret = LIFECYCLE_LAUNCHING;
	else if (strcmp(s, lifecycle_transition_aws(LIFECYCLE_TERMINATING)) ==
	    0)
		*ret = LIFECYCLE_TERMINATING;
	else
		return -1;
	return 0;
}

/* AutoScalingGroupName into res->group (kept even if we reject later). */
static int
get_group(struct parse *p, const json_t *obj, const char *pfx, bool required)
{
	char q[QUOTE_MAX];
	const char *s;

	if (get_string(p, obj, pfx, "AutoScalingGroupName", required, &s) != 0)
		return -1;
	if (s == NULL)
		return 0;
	if (!lifecycle_valid_group(s)) {
		quote(q, sizeof(q), s);
		reject(p, "%sAutoScalingGroupName: not 1 to %d bytes of UTF-8 "
		    "without control characters ('%s')", pfx,
		    LIFECYCLE_GROUP_MAX, q);
		return -1;
	}
	copy(p->res->group, sizeof(p->res->group), s);
	return 0;
}

/*
 * The group of a message we will not act on, if it has a valid one: only
 * informative (allow-list filtering, audit), so a bad one is ignored.
 */
static void
peek_group(struct parse *p, const json_t *obj)
{
	const char *s = json_string_value(json_object_get(obj,
	    "AutoScalingGroupName"));

	if (s != NULL && lifecycle_valid_group(s))
		copy(p->res->group, sizeof(p->res->group), s);
}

/* A test notification's id and time, for the audit, if they are valid. */
static void
peek_test(struct parse *p, const json_t *obj)
{
	const char *id = json_string_value(json_object_get(obj, "RequestId"));
	const char *t = json_string_value(json_object_get(obj, "Time"));

	if (id != NULL && lifecycle_valid_request_id(id))
		copy(p->res->request_id, sizeof(p->res->request_id), id);
	if (t != NULL)
		p->res->time_ms = parse_time(t);
}

/*
 * The lifecycle action fields of obj (the flat object, or an EventBridge
 * detail).  expect is the transition the EventBridge detail-type implies,
 * or -1; the object's LifecycleTransition is then optional but must agree.
 */
static void
parse_action(struct parse *p, const json_t *obj, const char *pfx, int expect,
    enum lifecycle_envelope envelope)
{
	static const char *const places[] = {
		"EC2", "AutoScalingGroup", "WarmPool", NULL
	};
	struct lifecycle_event ev;
	enum lifecycle_transition t;
	char q[QUOTE_MAX];
	const char *s;

	memset(&ev, 0, sizeof(ev));
	ev.envelope = envelope;
	ev.via_sns = p->via_sns;

	/* First, so that a reject still names the group it is about. */
	if (get_group(p, obj, pfx, true) != 0)
		return;
	copy(ev.group, sizeof(ev.group), p->res->group);

	if (get_string(p, obj, pfx, "LifecycleTransition", expect < 0, &s) != 0)
		return;
	if (s != NULL) {
		if (parse_transition(s, &t) != 0) {
			quote(q, sizeof(q), s);
			reject(p, "%sLifecycleTransition: unknown transition "
			    "'%s'", pfx, q);
			return;
		}
		if (expect >= 0 && (int)t != expect) {
			reject(p, "%sLifecycleTransition: %s disagrees with "
			    "detail-type (%s)", pfx,
			    lifecycle_transition_aws(t),
			    lifecycle_transition_name(
			    (enum lifecycle_transition)expect));
			return;
		}
		ev.transition = t;
	} else
		ev.transition = (enum lifecycle_transition)expect;

	if (get_instance_id(p, obj, pfx, "EC2InstanceId", ev.instance_id,
	    sizeof(ev.instance_id)) != 0)
		return;

	if (get_string(p, obj, pfx, "LifecycleActionToken", true, &s) != 0)
		return;
	if (!lifecycle_valid_token(s)) {
		quote(q, sizeof(q), s);
		reject(p, "%sLifecycleActionToken: not a 36-character UUID "
		    "('%s')", pfx, q);
		return;
	}
	copy(ev.token, sizeof(ev.token), s);

	if (get_string(p, obj, pfx, "LifecycleHookName", true, &s) != 0)
		return;
	if (!lifecycle_valid_hook(s)) {
		quote(q, sizeof(q), s);
		reject(p, "%sLifecycleHookName: not 1 to %d characters of "
		    "[A-Za-z0-9_/-] ('%s')", pfx, LIFECYCLE_HOOK_MAX, q);
		return;
	}
	copy(ev.hook, sizeof(ev.hook), s);

	if (get_string(p, obj, pfx, "NotificationMetadata", false, &s) != 0)
		return;
	/* AWS omits it when unset; "" is the same thing. */
	if (s != NULL && s[0] != '\0') {
		if (!lifecycle_valid_metadata(s)) {
			reject(p, "%sNotificationMetadata: not 1 to %d "
			    "characters of printable ASCII, tab, CR or LF",
			    pfx, LIFECYCLE_METADATA_MAX);
			return;
		}
		copy(ev.notification_metadata,
		    sizeof(ev.notification_metadata), s);
	}

	if (get_enum(p, obj, pfx, "Origin", false, places, ev.origin,
	    sizeof(ev.origin)) != 0 ||
	    get_enum(p, obj, pfx, "Destination", false, places,
	    ev.destination, sizeof(ev.destination)) != 0)
		return;
	ev.warm_pool = strcmp(ev.origin, "WarmPool") == 0 ||
	    strcmp(ev.destination, "WarmPool") == 0;

	/* EventBridge has these at the top level; the caller filled them. */
	if (envelope != ENVELOPE_EVENTBRIDGE) {
		if (get_request_id(p, obj, pfx, "RequestId", ev.request_id,
		    sizeof(ev.request_id)) != 0)
			return;
		if (get_time(p, obj, pfx, "Time", &ev.time_ms) != 0)
			return;
	} else {
		copy(ev.request_id, sizeof(ev.request_id), p->res->request_id);
		ev.time_ms = p->res->time_ms;
	}

	p->res->kind = ENVELOPE_KIND_LIFECYCLE;
	p->res->event = ev;
	copy(p->res->instance_id, sizeof(p->res->instance_id), ev.instance_id);
	copy(p->res->request_id, sizeof(p->res->request_id), ev.request_id);
	p->res->time_ms = ev.time_ms;
}

/* The flat hook notification (direct, SNS raw, or SNS Message). */
static void
parse_flat(struct parse *p, const json_t *obj)
{
	const char *event, *transition;
	char q[QUOTE_MAX];

	peek_group(p, obj);
	if (get_string(p, obj, "", "Event", false, &event) != 0 ||
	    get_string(p, obj, "", "LifecycleTransition", false,
	    &transition) != 0)
		return;
	if ((event != NULL && strcmp(event, AS_TEST) == 0) ||
	    (transition != NULL && strcmp(transition, AS_TEST) == 0)) {
		peek_test(p, obj);
		p->res->kind = ENVELOPE_KIND_TEST;
		return;
	}
	if (transition == NULL && event != NULL) {
		quote(q, sizeof(q), event);
		reject(p, "Auto Scaling notification '%s' is not a lifecycle "
		    "action", q);
		return;
	}
	if (transition == NULL &&
	    json_object_get(obj, "LifecycleActionToken") == NULL &&
	    json_object_get(obj, "EC2InstanceId") == NULL &&
	    json_object_get(obj, "LifecycleHookName") == NULL) {
		reject(p, "not a lifecycle message (no LifecycleTransition, "
		    "Event, detail-type or SNS Message)");
		return;
	}
	parse_action(p, obj, "", -1,
	    p->via_sns ? ENVELOPE_SNS : ENVELOPE_DIRECT);
}

static void
parse_ec2(struct parse *p, const json_t *detail, const char *dtype)
{
	static const char *const actions[] = {
		"terminate", "stop", "hibernate", NULL
	};
	static const char *const states[] = {
		"pending", "running", "stopping", "stopped", "shutting-down",
		"terminated", NULL
	};
	struct envelope_result *r = p->res;
	char q[QUOTE_MAX];

	if (strcmp(dtype, EB_SPOT) == 0) {
		if (get_instance_id(p, detail, "detail.", "instance-id",
		    r->instance_id, sizeof(r->instance_id)) != 0 ||
		    get_enum(p, detail, "detail.", "instance-action", true,
		    actions, r->instance_action,
		    sizeof(r->instance_action)) != 0)
			return;
		r->kind = ENVELOPE_KIND_SPOT_WARNING;
	} else if (strcmp(dtype, EB_REBALANCE) == 0) {
		if (get_instance_id(p, detail, "detail.", "instance-id",
		    r->instance_id, sizeof(r->instance_id)) != 0)
			return;
		r->kind = ENVELOPE_KIND_REBALANCE;
	} else if (strcmp(dtype, EB_STATE) == 0) {
		if (get_instance_id(p, detail, "detail.", "instance-id",
		    r->instance_id, sizeof(r->instance_id)) != 0 ||
		    get_enum(p, detail, "detail.", "state", true, states,
		    r->state, sizeof(r->state)) != 0)
			return;
		r->kind = ENVELOPE_KIND_STATE_CHANGE;
	} else {
		quote(q, sizeof(q), dtype);
		reject(p, "unsupported EventBridge detail-type '%s' from "
		    "aws.ec2", q);
	}
}

static void
parse_eventbridge(struct parse *p, const json_t *obj)
{
	const char *source, *dtype;
	const json_t *detail;
	char q[QUOTE_MAX];

	detail = json_object_get(obj, "detail");
	if (json_is_object(detail))
		peek_group(p, detail);
	if (get_string(p, obj, "", "detail-type", true, &dtype) != 0 ||
	    get_string(p, obj, "", "source", true, &source) != 0 ||
	    get_request_id(p, obj, "", "id", p->res->request_id,
	    sizeof(p->res->request_id)) != 0 ||
	    get_time(p, obj, "", "time", &p->res->time_ms) != 0)
		return;
	if (detail == NULL) {
		reject(p, "detail: missing");
		return;
	}
	if (!json_is_object(detail)) {
		reject(p, "detail: expected an object, got %s",
		    jsonutil_type_name(detail));
		return;
	}
	if (strcmp(source, "aws.autoscaling") == 0) {
		int expect;

		if (strcmp(dtype, EB_LAUNCH) == 0)
			expect = LIFECYCLE_LAUNCHING;
		else if (strcmp(dtype, EB_TERMINATE) == 0)
			expect = LIFECYCLE_TERMINATING;
		else {
			quote(q, sizeof(q), dtype);
			reject(p, "unsupported EventBridge detail-type '%s' "
			    "from aws.autoscaling", q);
			return;
		}
		parse_action(p, detail, "detail.", expect,
		    ENVELOPE_EVENTBRIDGE);
	} else if (strcmp(source, "aws.ec2") == 0) {
		p->res->group[0] = '\0';	/* EC2 events name no group */
		parse_ec2(p, detail, dtype);
	} else {
		p->res->group[0] = '\0';
		quote(q, sizeof(q), source);
		reject(p, "unsupported EventBridge source '%s'", q);
	}
}

static void
parse_object(struct parse *p, const json_t *obj)
{
	if (json_object_get(obj, "detail-type") != NULL)
		parse_eventbridge(p, obj);
	else
		parse_flat(p, obj);
}

/* SNS "Notification": the payload is a JSON document in a string. */
static void
parse_sns(struct parse *p, const json_t *obj)
{
	const json_t *msg;
	const char *type;
	char q[QUOTE_MAX];
	json_error_t err;
	json_t *inner;

	if (get_string(p, obj, "SNS ", "Type", true, &type) != 0)
		return;
	if (strcmp(type, "Notification") != 0) {
		quote(q, sizeof(q), type);
		reject(p, "SNS Type '%s' is not a Notification", q);
		return;
	}
	msg = json_object_get(obj, "Message");
	if (!json_is_string(msg)) {
		reject(p, "SNS Message: not a JSON string (got %s)",
		    jsonutil_type_name(msg));
		return;
	}
	p->via_sns = true;
	p->where = "SNS Message: ";
	inner = json_loadb(json_string_value(msg), json_string_length(msg),
	    JSON_REJECT_DUPLICATES, &err);
	if (inner == NULL) {
		reject_json(p, &err);
		return;
	}
	if (!json_is_object(inner))
		reject(p, "not a JSON object but %s", jsonutil_type_name(inner));
	else if (json_object_get(inner, "Message") != NULL)
		reject(p, "an SNS envelope inside an SNS envelope");
	else
		parse_object(p, inner);
	json_decref(inner);
}

int
envelope_parse(const char *body, size_t len, struct envelope_result *ret)
{
	struct parse p;
	json_error_t err;
	json_t *root;

	if (ret == NULL || (body == NULL && len > 0))
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	memset(&p, 0, sizeof(p));
	p.res = ret;
	p.where = "";
	if (len > ENVELOPE_MAX_BODY) {
		reject(&p, "body too large: %zu bytes, over the SQS limit of "
		    "%d", len, ENVELOPE_MAX_BODY);
		return 0;
	}
	if (len == 0) {
		reject(&p, "empty body");
		return 0;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		reject_json(&p, &err);
		return 0;
	}
	if (!json_is_object(root))
		reject(&p, "not a JSON object but %s", jsonutil_type_name(root));
	else if (json_object_get(root, "Message") != NULL)
		parse_sns(&p, root);
	else
		parse_object(&p, root);
	json_decref(root);
	return 0;
}

bool
envelope_group_allowed(const char *group, const char *const *allow, size_t n)
{
	size_t i;

	if (n == 0)
		return true;
	if (group == NULL || group[0] == '\0' || allow == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (allow[i] != NULL && strcmp(group, allow[i]) == 0)
			return true;
	return false;
}

const char *
envelope_kind_name(enum envelope_kind k)
{
	switch (k) {
	case ENVELOPE_KIND_LIFECYCLE:
		return "lifecycle";
	case ENVELOPE_KIND_TEST:
		return "test";
	case ENVELOPE_KIND_SPOT_WARNING:
		return "spot-warning";
	case ENVELOPE_KIND_REBALANCE:
		return "rebalance";
	case ENVELOPE_KIND_STATE_CHANGE:
		return "state-change";
	case ENVELOPE_KIND_REJECT:
		return "reject";
	}
	return "unknown";
}
