/*
 * The admin endpoint.  Everything it serves is computed on the loop at
 * request time from what the daemon already keeps (metrics, ctx, the
 * open actions), so a scrape costs nothing between scrapes.  It reads;
 * it never changes the daemon.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/aws.h"
#include "drain/brewery.h"
#include "drain/xconn.h"
#include "handler/action.h"
#include "handler/admin.h"
#include "handler/buf.h"
#include "handler/config.h"
#include "handler/ctx.h"
#include "handler/log.h"
#include "handler/metrics.h"
#include "handler/receiver.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"

/* Requests are tiny GETs: anything bigger is not for us. */
#define ADMIN_MAX_HEADERS	8192
#define ADMIN_MAX_BODY		1024
#define ADMIN_TIMEOUT_S		10

#define ADMIN_CT_TEXT		"text/plain; charset=utf-8"
#define ADMIN_CT_METRICS	"text/plain; version=0.0.4"
#define ADMIN_CT_JSON		"application/json"

struct admin {
	struct ctx	*ctx;
	struct evhttp	*http;		/* owned */
	int64_t		 started_mono;
	int64_t		 started_wall;
};

static void
admin_reply(struct evhttp_request *req, int code, const char *reason,
    const char *ctype, const char *body, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *out;

	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	if ((out = evbuffer_new()) == NULL)
		fatalx("admin: evbuffer_new");
	if (len > 0 && evbuffer_add(out, body, len) != 0)
		fatalx("admin: evbuffer_add");
	evhttp_send_reply(req, code, reason, out);
	evbuffer_free(out);
}

static void
admin_reply_text(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	admin_reply(req, code, reason, ADMIN_CT_TEXT, text, strlen(text));
}

static long long
admin_secs(int64_t ms)
{
	return (long long)(ms / 1000);
}

bool
admin_health(const struct admin *a, struct buf *out)
{
	const struct ctx *ctx = a->ctx;
	int64_t now = timeutil_mono_ms();
	int64_t thr = (int64_t)ctx->cfg->daemon.health_threshold_ms;
	int64_t since, last;
	bool healthy = true;

	if (ctx->stopping) {
		healthy = false;
		buf_puts(out, "stopping: open lifecycle actions are being "
		    "handed back\n");
	}
	/*
	 * Failures only: a quiet long poll is no failure, so the time since
	 * the last successful receive alone never makes it unhealthy.
	 */
	since = ctx->receiver != NULL ? receiver_failing_since(ctx->receiver) :
	    0;
	if (since != 0 && now - since > thr) {
		healthy = false;
		last = metrics_last_receive(ctx->metrics);
		buf_printf(out, "receiving from the queue (SQS ReceiveMessage) "
		    "has failed for %llds, more than health_threshold (%llds); ",
		    admin_secs(now - since), admin_secs(thr));
		if (last > 0)
			buf_printf(out, "last success %llds ago\n",
			    admin_secs(now - last));
		else
			buf_printf(out, "no success since the start %llds "
			    "ago\n", admin_secs(now - a->started_mono));
	}
	since = ctx->aws != NULL ? aws_creds_failing_since(ctx->aws) : 0;
	if (since != 0 && now - since > thr) {
		const char *src = aws_creds_source(ctx->aws);

		healthy = false;
		buf_printf(out, "AWS credentials have failed for %llds, more "
		    "than health_threshold (%llds)%s%s: %s\n",
		    admin_secs(now - since), admin_secs(thr),
		    src != NULL ? "; source " : "", src != NULL ? src : "",
		    aws_creds_ok(ctx->aws) ? "the current ones still work "
		    "until they expire" : "no usable credentials");
	}
	return healthy;
}

static void
admin_healthz(struct admin *a, struct evhttp_request *req)
{
	struct buf b;

	buf_init(&b);
	if (admin_health(a, &b)) {
		admin_reply_text(req, HTTP_OK, "OK", "ok\n");
	} else {
		char *why = buf_steal(&b), *text;

		text = xasprintf("unhealthy\n%s", why);
		admin_reply_text(req, 503, "Service Unavailable", text);
		free(text);
		free(why);
	}
	buf_finish(&b);
}

static void
admin_metrics(struct admin *a, struct evhttp_request *req)
{
	struct buf b;

	buf_init(&b);
	metrics_render(a->ctx->metrics, a->ctx, &b);
	admin_reply(req, HTTP_OK, "OK", ADMIN_CT_METRICS, b.data != NULL ?
	    b.data : "", b.len);
	buf_finish(&b);
}

struct admin_collect {
	json_t		*list;
	unsigned	 n;
};

static void
admin_collect_action(const struct action *act, void *arg)
{
	struct admin_collect *c = arg;
	json_t *o;

	if (c->n++ >= ADMIN_MAX_STATUS_ACTIONS)
		return;
	if ((o = action_status_json(act)) != NULL)
		json_array_append_new(c->list, o);
}

static json_t *
admin_xmpp_json(const struct ctx *ctx)
{
	const struct config *cfg = ctx->cfg;

	if (ctx->brewery == NULL)
		return json_null();
	return json_pack("{s:s,s:b,s:s,s:b,s:I}",
	    "server", cfg->xmpp.server,
	    "connected", xconn_is_up(brewery_xconn(ctx->brewery)),
	    "brewery", cfg->xmpp.brewery,
	    "joined", brewery_joined(ctx->brewery),
	    "occupants", (json_int_t)brewery_count(ctx->brewery));
}

static json_t *
admin_age(int64_t now, int64_t since)
{
	return since != 0 ? json_integer((now - since) / 1000) : json_null();
}

static json_t *
admin_status_json(struct admin *a)
{
	const struct ctx *ctx = a->ctx;
	const struct config *cfg = ctx->cfg;
	struct admin_collect c = { json_array(), 0 };
	unsigned launching, terminating;
	int64_t now = timeutil_mono_ms(), rf, last, cf;
	json_t *root, *groups, *reasons;
	char started[40], *line, *save = NULL, *text;
	const char *src;
	struct buf b;
	bool healthy;
	size_t i;

	action_count_open(ctx, &launching, &terminating);
	action_foreach(ctx, admin_collect_action, &c);
	timeutil_rfc3339(a->started_wall, started, sizeof(started));
	groups = json_null();
	if (cfg->daemon.groups != NULL) {
		groups = json_array();
		for (i = 0; i < cfg->daemon.ngroups; i++)
			json_array_append_new(groups,
			    json_string(cfg->daemon.groups[i]));
	}
	buf_init(&b);
	healthy = admin_health(a, &b);
	reasons = json_array();
	if ((text = buf_steal(&b)) != NULL)
		for (line = strtok_r(text, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			json_array_append_new(reasons, json_string(line));
	free(text);
	buf_finish(&b);
	rf = ctx->receiver != NULL ? receiver_failing_since(ctx->receiver) : 0;
	last = metrics_last_receive(ctx->metrics);
	cf = aws_creds_failing_since(ctx->aws);
	src = aws_creds_source(ctx->aws);
	root = json_pack("{s:s,s:i,s:s,s:I,s:b,s:b,s:s,s:s,s:o,s:i,"
	    "s:i,s:i,s:i,s:{s:b,s:o,s:o},s:{s:b,s:s?,s:o},s:o,"
	    "s:{s:b,s:o,s:I},s:o,s:b}",
	    "version", JL_VERSION,
	    "pid", (int)getpid(),
	    "started", started,
	    "uptime_s", (json_int_t)((now - a->started_mono) / 1000),
	    "dry_run", cfg->daemon.dry_run,
	    "stopping", ctx->stopping,
	    "queue", cfg->aws.queue_url,
	    "region", cfg->aws.region,
	    "groups", groups,
	    "max_in_flight", (int)cfg->daemon.max_in_flight,
	    "open_actions", (int)(launching + terminating),
	    "terminating", (int)terminating,
	    "launching", (int)launching,
	    "receive",
	    "ok", rf == 0,
	    "failing_s", admin_age(now, rf),
	    "last_ok_s", admin_age(now, last),
	    "credentials",
	    "ok", aws_creds_ok(ctx->aws),
	    "source", src,
	    "failing_s", admin_age(now, cf),
	    "xmpp", admin_xmpp_json(ctx),
	    "health",
	    "healthy", healthy,
	    "reasons", reasons,
	    "threshold_s", (json_int_t)(cfg->daemon.health_threshold_ms / 1000),
	    "actions", c.list,
	    "actions_truncated", c.n > ADMIN_MAX_STATUS_ACTIONS);
	return root;	/* NULL if a value was unusable */
}

static void
admin_status(struct admin *a, struct evhttp_request *req)
{
	json_t *root = admin_status_json(a);
	char *text = NULL;

	/* a status that cannot be told is no reason to stop the daemon */
	if (root == NULL || (text = json_dumps(root, JSON_COMPACT)) == NULL) {
		log_warnx("admin: cannot build the /status answer");
		json_decref(root);
		admin_reply_text(req, HTTP_INTERNAL, "Internal Server Error",
		    "cannot build the status\n");
		return;
	}
	json_decref(root);
	admin_reply(req, HTTP_OK, "OK", ADMIN_CT_JSON, text, strlen(text));
	free(text);
}

static const char *
admin_method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return "?";
}

static void
admin_request(struct evhttp_request *req, void *arg)
{
	struct admin *a = arg;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;

	log_debug("admin: %s %.120s", admin_method_name(method),
	    path != NULL ? path : "(unparsable)");
	if (path == NULL || *path == '\0') {
		admin_reply_text(req, HTTP_BADREQUEST, "Bad Request",
		    "bad request\n");
		return;
	}
	if (method != EVHTTP_REQ_GET) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET");
		admin_reply_text(req, 405, "Method Not Allowed",
		    "method not allowed: GET only\n");
		return;
	}
	if (strcmp(path, "/metrics") == 0)
		admin_metrics(a, req);
	else if (strcmp(path, "/healthz") == 0)
		admin_healthz(a, req);
	else if (strcmp(path, "/status") == 0)
		admin_status(a, req);
	else if (strcmp(path, "/") == 0)
		admin_reply_text(req, HTTP_OK, "OK", "jvb-lifecycled " JL_VERSION
		    ": /metrics /healthz /status\n");
	else
		admin_reply_text(req, HTTP_NOTFOUND, "Not Found",
		    "not found: /metrics, /healthz or /status\n");
}

static bool
admin_is_loopback(const char *host)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (inet_pton(AF_INET, host, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &v6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&v6);
	return strcmp(host, "localhost") == 0;
}

struct admin *
admin_new(struct ctx *ctx, const char *host, unsigned port)
{
	struct admin *a;

	if (host == NULL || port == 0 || port > 65535) {
		log_warnx("admin endpoint: invalid address");
		return NULL;
	}
	a = xcalloc(1, sizeof(*a));
	a->ctx = ctx;
	a->started_mono = timeutil_mono_ms();
	a->started_wall = timeutil_wall_ms();
	if ((a->http = evhttp_new(ctx->base)) == NULL)
		fatalx("admin: evhttp_new");
	/* every method reaches us, so the answer is a 405, not a 501 */
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(a->http, ADMIN_MAX_HEADERS);
	evhttp_set_max_body_size(a->http, ADMIN_MAX_BODY);
	evhttp_set_timeout(a->http, ADMIN_TIMEOUT_S);
	evhttp_set_gencb(a->http, admin_request, a);
	errno = 0;
	if (evhttp_bind_socket_with_handle(a->http, host, (ev_uint16_t)port) ==
	    NULL) {
		log_warnx("admin endpoint: cannot listen on %s:%u: %s", host,
		    port, errno != 0 ? strerror(errno) :
		    "address not usable");
		admin_free(a);
		return NULL;
	}
	if (!admin_is_loopback(host))
		log_warnx("admin endpoint on %s:%u, not a loopback address: "
		    "whoever reaches it reads instance ids and bridge "
		    "addresses", host, port);
	log_info("admin endpoint on %s:%u (/metrics, /healthz, /status)",
	    host, port);
	return a;
}

void
admin_free(struct admin *a)
{
	if (a == NULL)
		return;
	if (a->http != NULL)
		evhttp_free(a->http);
	free(a);
}
