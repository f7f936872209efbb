/*
 * Colibri REST client.  The calls are thin: build the URL from a validated
 * address, start one bounded request, and turn what came back into a
 * bridge_result whose diagnosis tells an operator what to change.  The
 * interpretation (bridge_result_from_response) is pure, so tests and the
 * fuzzer can drive it with any status and body.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "handler/jsonutil.h"
#include "drain/bridge.h"
#include "handler/http.h"
#include "handler/log.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"

struct bridge_call {
	struct http_req	*req;	/* owned by the http context once started */
	enum bridge_op	 op;
	char		 host[BRIDGE_IP_MAX + 1];	/* as in the URL */
	unsigned	 port;
	bridge_done_cb	 cb;
	void		*arg;
};

struct bridge_endpoint {
	const char	*method;
	const char	*path;
	/* What turns it on, for a 404. */
	const char	*hint;
	size_t		 max_response;
};

#define HINT_COLIBRI	"the COLIBRI REST API is off (set " \
	"videobridge.apis.rest.enabled=true)"
#define HINT_DRAIN	"drain over REST is off (videobridge.rest.drain." \
	"enabled=true, the default) or the bridge predates /colibri/drain " \
	"(2022)"
#define HINT_SHUTDOWN	"shutdown over REST is off (set " \
	"videobridge.rest.shutdown.enabled=true and " \
	"videobridge.apis.rest.enabled=true)"

static const struct bridge_endpoint endpoints[] = {
	[BRIDGE_OP_STATS] = { "GET", "/colibri/stats", HINT_COLIBRI,
	    BRIDGE_MAX_RESPONSE },
	[BRIDGE_OP_DRAIN_GET] = { "GET", "/colibri/drain", HINT_DRAIN,
	    BRIDGE_MAX_RESPONSE },
	[BRIDGE_OP_DRAIN_ENABLE] = { "POST", "/colibri/drain/enable",
	    HINT_DRAIN, BRIDGE_MAX_RESPONSE },
	[BRIDGE_OP_DRAIN_DISABLE] = { "POST", "/colibri/drain/disable",
	    HINT_DRAIN, BRIDGE_MAX_RESPONSE },
	[BRIDGE_OP_SHUTDOWN_GRACEFUL] = { "POST", "/colibri/shutdown",
	    HINT_SHUTDOWN, BRIDGE_MAX_RESPONSE },
	[BRIDGE_OP_SHUTDOWN_FORCED] = { "POST", "/colibri/shutdown",
	    HINT_SHUTDOWN, BRIDGE_MAX_RESPONSE },
	[BRIDGE_OP_HEALTH] = { "GET", "/about/health", "health over REST is "
	    "off (videobridge.rest.health.enabled=true, the default)",
	    BRIDGE_MAX_RESPONSE },
	[BRIDGE_OP_VERSION] = { "GET", "/about/version", "version over REST "
	    "is off (videobridge.rest.version.enabled=true, the default)",
	    BRIDGE_MAX_RESPONSE },
	[BRIDGE_OP_DEBUG] = { "GET", "/debug", "debug over REST is off "
	    "(videobridge.rest.debug.enabled=true, the default)",
	    BRIDGE_MAX_DEBUG_RESPONSE },
};

#define NOPS	(sizeof(endpoints) / sizeof(endpoints[0]))

const char *
bridge_outcome_name(enum bridge_outcome o)
{
	switch (o) {
	case BRIDGE_OK:
		return "ok";
	case BRIDGE_NOT_FOUND:
		return "not-found";
	case BRIDGE_REFUSED:
		return "refused";
	case BRIDGE_TIMEOUT:
		return "timeout";
	case BRIDGE_BAD_JSON:
		return "bad-json";
	case BRIDGE_HTTP_ERROR:
		return "http-error";
	case BRIDGE_UNREACHABLE:
		return "unreachable";
	}
	return "unknown";
}

const char *
bridge_op_name(enum bridge_op op)
{
	switch (op) {
	case BRIDGE_OP_STATS:
		return "stats";
	case BRIDGE_OP_DRAIN_GET:
		return "drain-get";
	case BRIDGE_OP_DRAIN_ENABLE:
		return "drain-enable";
	case BRIDGE_OP_DRAIN_DISABLE:
		return "drain-disable";
	case BRIDGE_OP_SHUTDOWN_GRACEFUL:
		return "shutdown-graceful";
	case BRIDGE_OP_SHUTDOWN_FORCED:
		return "shutdown-forced";
	case BRIDGE_OP_HEALTH:
		return "health";
	case BRIDGE_OP_VERSION:
		return "version";
	case BRIDGE_OP_DEBUG:
		return "debug";
	}
	return "unknown";
}

const char *
bridge_state_name(enum bridge_shutdown_state s)
{
	switch (s) {
	case BRIDGE_STATE_UNKNOWN:
		return "UNKNOWN";
	case BRIDGE_STATE_RUNNING:
		return "RUNNING";
	case BRIDGE_STATE_GRACEFUL_SHUTDOWN:
		return "GRACEFUL_SHUTDOWN";
	case BRIDGE_STATE_SHUTTING_DOWN:
		return "SHUTTING_DOWN";
	}
	return "UNKNOWN";
}

/*
 * The URL form of ip ("[v6]" or the dotted quad) into host, or -EINVAL.
 * inet_pton() refuses names, zones, ports, spaces and leading zeros.
 */
static int
bridge_url_host(const char *ip, char *host, size_t hostlen)
{
	char inner[BRIDGE_IP_MAX + 1];
	unsigned char addr[16];
	size_t len;

	if (ip == NULL || (len = strlen(ip)) == 0 || len > BRIDGE_IP_MAX)
		return -EINVAL;
	if (ip[0] == '[') {
		if (len < 3 || ip[len - 1] != ']')
			return -EINVAL;
		memcpy(inner, ip + 1, len - 2);
		inner[len - 2] = '\0';
		if (inet_pton(AF_INET6, inner, addr) != 1)
			return -EINVAL;
		snprintf(host, hostlen, "%s", ip);
	} else if (strchr(ip, ':') != NULL) {
		if (len + 2 > BRIDGE_IP_MAX || inet_pton(AF_INET6, ip, addr) != 1)
			return -EINVAL;
		snprintf(host, hostlen, "[%s]", ip);
	} else {
		if (inet_pton(AF_INET, ip, addr) != 1)
			return -EINVAL;
		snprintf(host, hostlen, "%s", ip);
	}
	return 0;
}

bool
bridge_valid_ip(const char *ip)
{
	char host[BRIDGE_IP_MAX + 1];

	return bridge_url_host(ip, host, sizeof(host)) == 0;
}

/* Printable ASCII copy of untrusted bytes, "..." when cut. */
static void
sanitize(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t i, o = 0;

	for (i = 0; i < srclen && o + 4 < dstlen; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '\r' || c == '\n' || c == '\t')
			c = ' ';
		dst[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (i < srclen && o + 3 < dstlen) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

static void diag(struct bridge_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
diag(struct bridge_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->diagnosis, sizeof(res->diagnosis), fmt, ap);
	va_end(ap);
}


/*
 * Parse body as a JSON object, or set BAD_JSON and return NULL.  what
 * names the request in the diagnosis.
 */
static json_t *
load_object(struct bridge_result *res, const char *what, const char *body,
    size_t len)
{
	char text[JSON_ERROR_TEXT_LENGTH + 4];
	json_error_t err;
	json_t *root;

	if (len == 0) {
		res->outcome = BRIDGE_BAD_JSON;
		diag(res, "%s: empty body, a JSON object was expected", what);
		return NULL;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		sanitize(text, sizeof(text), err.text,
		    strnlen(err.text, sizeof(err.text)));
		res->outcome = BRIDGE_BAD_JSON;
		diag(res, "%s: not JSON: %s at offset %d", what, text,
		    err.position);
		return NULL;
	}
	if (!json_is_object(root)) {
		res->outcome = BRIDGE_BAD_JSON;
		diag(res, "%s: expected a JSON object, got %s", what,
		    jsonutil_type_name(root));
		json_decref(root);
		return NULL;
	}
	return root;
}

enum stat_type { ST_BOOL, ST_INT, ST_NUMBER, ST_STRING };

/* The stats we act on and the JSON type /colibri/stats gives them. */
static const struct {
	const char	*name;
	enum stat_type	 type;
} stat_types[] = {
	{ "drain", ST_BOOL },
	{ "graceful_shutdown", ST_BOOL },
	{ "shutting_down", ST_BOOL },
	{ "healthy", ST_BOOL },
	{ "local_endpoints", ST_INT },
	{ "participants", ST_INT },
	{ "endpoints", ST_INT },
	{ "conferences", ST_INT },
	{ "octo_endpoints", ST_INT },
	{ "stress_level", ST_NUMBER },
	{ "version", ST_STRING },
	{ "region", ST_STRING },
	{ "release", ST_STRING },
};

static const char *const stat_type_names[] = {
	[ST_BOOL] = "a boolean",
	[ST_INT] = "an integer",
	[ST_NUMBER] = "a number",
	[ST_STRING] = "a string",
};

static bool
type_ok(enum stat_type t, const json_t *v)
{
	switch (t) {
	case ST_BOOL:
		return json_is_boolean(v);
	case ST_INT:
		return json_is_integer(v);
	case ST_NUMBER:
		return json_is_number(v);
	case ST_STRING:
		return json_is_string(v);
	}
	return false;
}

/* The text form presence_stat_apply() takes, or -1 for non-scalars. */
static int
stat_text(const json_t *v, char *buf, size_t len, const char **ret)
{
	switch (json_typeof(v)) {
	case JSON_TRUE:
		*ret = "true";
		return 0;
	case JSON_FALSE:
		*ret = "false";
		return 0;
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		*ret = buf;
		return 0;
	case JSON_REAL:
		snprintf(buf, len, "%.17g", json_real_value(v));
		*ret = buf;
		return 0;
	case JSON_STRING:
		*ret = json_string_value(v);
		return 0;
	default:
		return -1;
	}
}

static void
parse_stats(struct bridge_result *res, const char *what, const char *body,
    size_t len)
{
	struct colibri_stats *st = &res->stats;
	const char *key, *text;
	char num[64], name[72];
	json_t *root, *v;
	size_t i;

	if ((root = load_object(res, what, body, len)) == NULL)
		return;
	json_object_foreach(root, key, v) {
		int known = -1, r;

		for (i = 0; i < sizeof(stat_types) / sizeof(stat_types[0]);
		    i++)
			if (strcmp(key, stat_types[i].name) == 0)
				known = (int)i;
		if (known >= 0 && !type_ok(stat_types[known].type, v)) {
			res->outcome = BRIDGE_BAD_JSON;
			diag(res, "%s: field '%s' is %s, expected %s", what,
			    key, jsonutil_type_name(v),
			    stat_type_names[stat_types[known].type]);
			goto out;
		}
		if (stat_text(v, num, sizeof(num), &text) != 0)
			continue;	/* objects and lists we do not read */
		st->nstats++;
		r = presence_stat_apply(st, key, text);
		if (r < 0 && known >= 0) {
			sanitize(num, sizeof(num), text, strlen(text));
			res->outcome = BRIDGE_BAD_JSON;
			diag(res, "%s: field '%s' has an invalid value '%s'",
			    what, key, num);
			goto out;
		}
		if (r < 0) {
			st->nbad++;
			sanitize(name, sizeof(name), key, strlen(key));
			log_debug("bridge: %s: ignored bad stat '%s'", what,
			    name);
		}
	}
	res->outcome = BRIDGE_OK;
	diag(res, "%s: local_endpoints=%d participants=%d conferences=%d "
	    "drain=%s graceful_shutdown=%s shutting_down=%s", what,
	    st->local_endpoints, st->participants, st->conferences,
	    !st->has_drain ? "absent" : st->drain ? "true" : "false",
	    st->graceful_shutdown ? "true" : "false",
	    st->shutting_down ? "true" : "false");
out:
	json_decref(root);
}

static void
parse_drain(struct bridge_result *res, const char *what, const char *body,
    size_t len)
{
	json_t *root, *v;

	if ((root = load_object(res, what, body, len)) == NULL)
		return;
	v = json_object_get(root, "drain");
	if (v == NULL) {
		res->outcome = BRIDGE_BAD_JSON;
		diag(res, "%s: field 'drain' is missing", what);
	} else if (!json_is_boolean(v)) {
		res->outcome = BRIDGE_BAD_JSON;
		diag(res, "%s: field 'drain' is %s, expected a boolean", what,
		    jsonutil_type_name(v));
	} else {
		res->outcome = BRIDGE_OK;
		res->drain = json_is_true(v);
		diag(res, "%s: drain=%s", what, res->drain ? "true" : "false");
	}
	json_decref(root);
}

/* A printable string field into dst; 0, or -1 with BAD_JSON set. */
static int
get_text(struct bridge_result *res, const char *what, const json_t *obj,
    const char *key, bool required, char *dst, size_t dstlen)
{
	const json_t *v = json_object_get(obj, key);
	const char *s;
	size_t i, n;

	dst[0] = '\0';
	if (v == NULL && !required)
		return 0;
	if (v == NULL || !json_is_string(v)) {
		res->outcome = BRIDGE_BAD_JSON;
		diag(res, "%s: field '%s' is %s, expected a string", what, key,
		    v == NULL ? "missing" : jsonutil_type_name(v));
		return -1;
	}
	s = json_string_value(v);
	n = json_string_length(v);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			break;
	if (i < n || n >= dstlen) {
		res->outcome = BRIDGE_BAD_JSON;
		diag(res, "%s: field '%s' is not 0 to %zu characters of "
		    "printable ASCII", what, key, dstlen - 1);
		return -1;
	}
	memcpy(dst, s, n + 1);
	return 0;
}

static void
parse_version(struct bridge_result *res, const char *what, const char *body,
    size_t len)
{
	struct bridge_version *ver = &res->version;
	json_t *root;

	if ((root = load_object(res, what, body, len)) == NULL)
		return;
	if (get_text(res, what, root, "name", true, ver->name,
	    sizeof(ver->name)) == 0 &&
	    get_text(res, what, root, "version", true, ver->version,
	    sizeof(ver->version)) == 0 &&
	    get_text(res, what, root, "os", false, ver->os,
	    sizeof(ver->os)) == 0) {
		res->outcome = BRIDGE_OK;
		diag(res, "%s: %s %s", what, ver->name, ver->version);
	}
	json_decref(root);
}

static void
parse_debug(struct bridge_result *res, const char *what, const char *body,
    size_t len)
{
	struct bridge_debug *dbg = &res->debug;
	const json_t *v, *ok = NULL;
	char state[32];
	json_t *root;

	dbg->conferences = -1;
	if ((root = load_object(res, what, body, len)) == NULL)
		return;
	if (get_text(res, what, root, "shutdown_state", false, state,
	    sizeof(state)) != 0)
		goto out;
	if (strcmp(state, "RUNNING") == 0)
		dbg->state = BRIDGE_STATE_RUNNING;
	else if (strcmp(state, "GRACEFUL_SHUTDOWN") == 0)
		dbg->state = BRIDGE_STATE_GRACEFUL_SHUTDOWN;
	else if (strcmp(state, "SHUTTING_DOWN") == 0)
		dbg->state = BRIDGE_STATE_SHUTTING_DOWN;
	else
		dbg->state = BRIDGE_STATE_UNKNOWN;
	if ((v = json_object_get(root, "drain")) != NULL) {
		if (!json_is_boolean(v)) {
			res->outcome = BRIDGE_BAD_JSON;
			diag(res, "%s: field 'drain' is %s, expected a boolean",
			    what, jsonutil_type_name(v));
			goto out;
		}
		dbg->has_drain = true;
		dbg->drain = json_is_true(v);
	}
	if ((v = json_object_get(root, "conferences")) != NULL) {
		if (!json_is_object(v)) {
			res->outcome = BRIDGE_BAD_JSON;
			diag(res, "%s: field 'conferences' is %s, expected an "
			    "object", what, jsonutil_type_name(v));
			goto out;
		}
		dbg->conferences = (int)json_object_size(v);
	}
	if ((v = json_object_get(root, "health")) != NULL) {
		if (!json_is_object(v) || ((ok = json_object_get(v,
		    "success")) != NULL && !json_is_boolean(ok))) {
			res->outcome = BRIDGE_BAD_JSON;
			diag(res, "%s: field 'health' is not an object with a "
			    "boolean 'success'", what);
			goto out;
		}
		if (ok != NULL) {
			dbg->health_known = true;
			dbg->healthy = json_is_true(ok);
		}
	}
	res->outcome = BRIDGE_OK;
	diag(res, "%s: shutdown_state=%s drain=%s conferences=%d", what,
	    bridge_state_name(dbg->state),
	    !dbg->has_drain ? "absent" : dbg->drain ? "true" : "false",
	    dbg->conferences);
out:
	json_decref(root);
}

static const char *
transport_text(int error)
{
	switch (error) {
	case -EHOSTUNREACH:
		return "no route to the host";
	case -ECONNRESET:
		return "the connection closed before a complete answer "
		    "(did the bridge just exit?)";
	case -EPROTO:
		return "HTTP protocol error (is this an HTTP server?)";
	case -ENOMEM:
		return "out of memory";
	default:
		return "transport error";
	}
}

void
bridge_result_from_response(struct bridge_result *res, enum bridge_op op,
    const char *ip, unsigned port, int error, long status, const char *body,
    size_t body_len)
{
	const struct bridge_endpoint *ep;
	char what[128], snippet[160];

	memset(res, 0, sizeof(*res));
	res->op = op;
	res->status = status;
	presence_stats_init(&res->stats);
	res->debug.conferences = -1;
	if ((size_t)op >= NOPS) {
		res->outcome = BRIDGE_UNREACHABLE;
		diag(res, "unknown bridge operation %d", (int)op);
		return;
	}
	ep = &endpoints[op];
	snprintf(what, sizeof(what), "%s %s on %s:%u", ep->method, ep->path,
	    ip, port);
	if (body == NULL)
		body_len = 0;

	switch (error) {
	case 0:
		break;
	case -ETIMEDOUT:
		res->outcome = BRIDGE_TIMEOUT;
		diag(res, "%s: no complete answer within the timeout (bridge "
		    "overloaded, or packets to it dropped)", what);
		return;
	case -ECONNREFUSED:
		res->outcome = BRIDGE_REFUSED;
		diag(res, "%s: connection refused, nothing listens there. The "
		    "bridge's REST API is on its private HTTP server "
		    "(videobridge.http-servers.private), bound to "
		    "127.0.0.1:8080 by default: bind it to this address "
		    "(host = 0.0.0.0 or %s) and check [bridge] port; or "
		    "the bridge has exited", what, ip);
		return;
	case -EMSGSIZE:
		res->outcome = BRIDGE_BAD_JSON;
		diag(res, "%s: response larger than %zu bytes, refused", what,
		    ep->max_response);
		return;
	default:
		res->outcome = BRIDGE_UNREACHABLE;
		diag(res, "%s: %s", what, transport_text(error));
		return;
	}

	if (status == 404) {
		res->outcome = BRIDGE_NOT_FOUND;
		diag(res, "%s: HTTP 404: %s; or this is not the bridge's "
		    "private HTTP server (videobridge.http-servers.private, "
		    "port 8080 by default, serves the REST API; port 9090 is "
		    "usually the public websocket server)", what, ep->hint);
		return;
	}
	if (op == BRIDGE_OP_HEALTH && (status == 500 || status == 503)) {
		/* The bridge's own verdict, with its reason as text. */
		sanitize(snippet, sizeof(snippet), body, body_len);
		res->outcome = BRIDGE_OK;
		res->healthy = false;
		diag(res, "%s: unhealthy (HTTP %ld): %s", what, status,
		    snippet[0] != '\0' ? snippet : "no reason given");
		return;
	}
	if (status < 200 || status > 299) {
		const char *why = "";

		sanitize(snippet, sizeof(snippet), body, body_len);
		if (status == 415)
			why = " (Content-Type refused)";
		else if (status == 400 && (op == BRIDGE_OP_SHUTDOWN_GRACEFUL ||
		    op == BRIDGE_OP_SHUTDOWN_FORCED))
			why = " (the bridge refused the shutdown body)";
		else if (status == 405)
			why = " (method not allowed: an older or different "
			    "server?)";
		else if (status >= 300 && status < 400)
			why = " (redirects are not followed)";
		res->outcome = BRIDGE_HTTP_ERROR;
		diag(res, "%s: HTTP %ld%s%s%s", what, status, why,
		    snippet[0] != '\0' ? ": " : "", snippet);
		return;
	}

	switch (op) {
	case BRIDGE_OP_STATS:
		parse_stats(res, what, body, body_len);
		break;
	case BRIDGE_OP_DRAIN_GET:
		parse_drain(res, what, body, body_len);
		break;
	case BRIDGE_OP_DRAIN_ENABLE:
	case BRIDGE_OP_DRAIN_DISABLE:
		res->outcome = BRIDGE_OK;
		res->drain = op == BRIDGE_OP_DRAIN_ENABLE;
		diag(res, "%s: HTTP %ld, drain %s", what, status,
		    res->drain ? "enabled" : "disabled");
		break;
	case BRIDGE_OP_SHUTDOWN_GRACEFUL:
	case BRIDGE_OP_SHUTDOWN_FORCED:
		res->outcome = BRIDGE_OK;
		diag(res, "%s: HTTP %ld, %s shutdown accepted", what, status,
		    op == BRIDGE_OP_SHUTDOWN_GRACEFUL ? "graceful" : "forced");
		break;
	case BRIDGE_OP_HEALTH:
		res->outcome = BRIDGE_OK;
		res->healthy = true;
		diag(res, "%s: healthy (HTTP %ld)", what, status);
		break;
	case BRIDGE_OP_VERSION:
		parse_version(res, what, body, body_len);
		break;
	case BRIDGE_OP_DEBUG:
		parse_debug(res, what, body, body_len);
		break;
	}
}

static void
bridge_done(const struct http_response *resp, void *arg)
{
	struct bridge_call *call = arg;
	struct bridge_result res;

	bridge_result_from_response(&res, call->op, call->host, call->port,
	    resp->error, resp->status, resp->body, resp->body_len);
	res.elapsed_s = resp->elapsed_s;
	if (call->op == BRIDGE_OP_STATS && res.outcome == BRIDGE_OK)
		res.stats.received_ms = timeutil_wall_ms();
	log_debug("bridge: %s -> %s (%.3f s)", res.diagnosis,
	    bridge_outcome_name(res.outcome), res.elapsed_s);
	call->req = NULL;	/* the http context frees it after we return */
	call->cb(&res, call->arg);
	free(call);
}

static struct bridge_call *
bridge_start(struct http *h, enum bridge_op op, const char *ip,
    unsigned port, unsigned timeout_ms, bridge_done_cb cb, void *arg)
{
	const struct bridge_endpoint *ep = &endpoints[op];
	struct bridge_call *call;
	char *url;

	if (h == NULL || cb == NULL || port == 0 || port > 65535) {
		errno = EINVAL;
		return NULL;
	}
	call = xcalloc(1, sizeof(*call));
	if (bridge_url_host(ip, call->host, sizeof(call->host)) != 0) {
		free(call);
		errno = EINVAL;
		return NULL;
	}
	if (timeout_ms == 0)
		timeout_ms = BRIDGE_DEFAULT_TIMEOUT_MS;
	call->op = op;
	call->port = port;
	call->cb = cb;
	call->arg = arg;
	url = xasprintf("http://%s:%u%s", call->host, port, ep->path);
	call->req = http_req_new(h, ep->method, url);
	free(url);
	http_req_timeout(call->req, timeout_ms, timeout_ms);
	http_req_max_response(call->req, ep->max_response);
	http_req_header(call->req, "Accept", "application/json");
	if (op == BRIDGE_OP_SHUTDOWN_GRACEFUL ||
	    op == BRIDGE_OP_SHUTDOWN_FORCED) {
		const char *body = op == BRIDGE_OP_SHUTDOWN_GRACEFUL ?
		    "{\"graceful-shutdown\":true}" :
		    "{\"graceful-shutdown\":false}";

		http_req_header(call->req, "Content-Type", "application/json");
		http_req_body(call->req, body, strlen(body));
	}
	log_debug("bridge: %s http://%s:%u%s", ep->method, call->host, port,
	    ep->path);
	http_req_start(call->req, bridge_done, call);
	return call;
}

struct bridge_call *
bridge_stats(struct http *h, const char *ip, unsigned port,
    unsigned timeout_ms, bridge_done_cb cb, void *arg)
{
	return bridge_start(h, BRIDGE_OP_STATS, ip, port, timeout_ms, cb, arg);
}

struct bridge_call *
bridge_drain_get(struct http *h, const char *ip, unsigned port,
    unsigned timeout_ms, bridge_done_cb cb, void *arg)
{
	return bridge_start(h, BRIDGE_OP_DRAIN_GET, ip, port, timeout_ms, cb,
	    arg);
}

struct bridge_call *
bridge_drain_set(struct http *h, const char *ip, unsigned port, bool on,
    unsigned timeout_ms, bridge_done_cb cb, void *arg)
{
	return bridge_start(h, on ? BRIDGE_OP_DRAIN_ENABLE :
	    BRIDGE_OP_DRAIN_DISABLE, ip, port, timeout_ms, cb, arg);
}

struct bridge_call *
bridge_shutdown(struct http *h, const char *ip, unsigned port, bool graceful,
    unsigned timeout_ms, bridge_done_cb cb, void *arg)
{
	return bridge_start(h, graceful ? BRIDGE_OP_SHUTDOWN_GRACEFUL :
	    BRIDGE_OP_SHUTDOWN_FORCED, ip, port, timeout_ms, cb, arg);
}

struct bridge_call *
bridge_health(struct http *h, const char *ip, unsigned port,
    unsigned timeout_ms, bridge_done_cb cb, void *arg)
{
	return bridge_start(h, BRIDGE_OP_HEALTH, ip, port, timeout_ms, cb,
	    arg);
}

struct bridge_call *
bridge_version(struct http *h, const char *ip, unsigned port,
    unsigned timeout_ms, bridge_done_cb cb, void *arg)
{
	return bridge_start(h, BRIDGE_OP_VERSION, ip, port, timeout_ms, cb,
	    arg);
}

struct bridge_call *
bridge_debug(struct http *h, const char *ip, unsigned port,
    unsigned timeout_ms, bridge_done_cb cb, void *arg)
{
	return bridge_start(h, BRIDGE_OP_DEBUG, ip, port, timeout_ms, cb, arg);
}

void
bridge_call_cancel(struct bridge_call *call)
{
	if (call == NULL)
		return;
	http_req_cancel(call->req);
	free(call);
}
