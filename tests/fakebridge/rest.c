/*
 * The REST endpoints of the JVB private server, answered from the model
 * with the status codes, content types and bodies of jvb-api.md §2.  The
 * listening socket is moved above FD_SETSIZE so that the low descriptors
 * stay free for libstrophe's select() (see xloop.c).
 */
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "handler/log.h"
#include "handler/xmalloc.h"
#include "tests/fakebridge/bridge.h"
#include "tests/fakebridge/rest.h"

#define REST_GRACE_MS		200
#define REST_MAX_BODY		65536
#define REST_MAX_DEBUG_CONFS	1000

struct rest {
	struct bridge	*bridge;	/* not owned; NULL once stopping */
	struct evhttp	*http;		/* owned */
	struct evhttp_bound_socket *bound;	/* owned by http */
	struct event	*reaper;	/* owned; the grace timer */
	LIST_ENTRY(rest) dying;
};

static LIST_HEAD(, rest) rest_dying = LIST_HEAD_INITIALIZER(rest_dying);

static void
rest_free(struct rest *r)
{
	if (r->reaper != NULL) {
		LIST_REMOVE(r, dying);
		event_free(r->reaper);
	}
	if (r->http != NULL)
		evhttp_free(r->http);
	free(r);
}

static int
rest_listen(const char *address, uint16_t port, int *ret_fd,
    uint16_t *ret_port)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int fd, high, one = 1, r;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (inet_pton(AF_INET, address, &sin.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 1024) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &slen) == -1) {
		r = -errno;
		close(fd);
		return r;
	}
	/* Best effort: below the rlimit this just keeps the low fd. */
	if ((high = fcntl(fd, F_DUPFD_CLOEXEC, FD_SETSIZE)) != -1) {
		close(fd);
		fd = high;
	}
	*ret_fd = fd;
	*ret_port = ntohs(sin.sin_port);
	return 0;
}

static void rest_handle(struct evhttp_request *req, void *arg);

int
rest_start(struct bridge *b, struct rest **ret, uint16_t *ret_port)
{
	struct rest *r;
	uint16_t port = 0;
	int fd = -1, rc;

	if ((rc = rest_listen(b->opts.address, b->port, &fd, &port)) < 0)
		return rc;
	r = xcalloc(1, sizeof(*r));
	r->bridge = b;
	if ((r->http = evhttp_new(b->set->base)) == NULL) {
		close(fd);
		free(r);
		return -ENOMEM;
	}
	/* Every method reaches us, so that we answer 405 like Jetty. */
	evhttp_set_allowed_methods(r->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_max_body_size(r->http, REST_MAX_BODY);
	evhttp_set_max_headers_size(r->http, 16384);
	evhttp_set_timeout(r->http, 60);
	/* A reply without a body has no Content-Type, as from Jersey. */
	evhttp_set_default_content_type(r->http, NULL);
	evhttp_set_gencb(r->http, rest_handle, r);
	if ((r->bound = evhttp_accept_socket_with_handle(r->http, fd)) ==
	    NULL) {
		close(fd);
		evhttp_free(r->http);
		free(r);
		return -ENOMEM;
	}
	*ret = r;
	*ret_port = port;
	return 0;
}

static void
rest_reap(evutil_socket_t fd, short what, void *arg)
{
	rest_free(arg);
}

void
rest_stop(struct rest *r, bool grace)
{
	struct timeval tv = { 0, REST_GRACE_MS * 1000 };
	struct event_base *base;

	if (r == NULL)
		return;
	if (!grace || r->bridge == NULL) {
		rest_free(r);
		return;
	}
	base = r->bridge->set->base;
	r->bridge = NULL;
	/* The listener goes now: from here on, connection refused. */
	evhttp_del_accept_socket(r->http, r->bound);
	r->bound = NULL;
	r->reaper = evtimer_new(base, rest_reap, r);
	if (r->reaper == NULL) {
		rest_free(r);
		return;
	}
	LIST_INSERT_HEAD(&rest_dying, r, dying);
	evtimer_add(r->reaper, &tv);
}

void
rest_reap_all(void)
{
	while (!LIST_EMPTY(&rest_dying))
		rest_free(LIST_FIRST(&rest_dying));
}

/* One request being answered. */
struct rest_call {
	struct rest	*rest;
	struct bridge	*bridge;
	struct evhttp_request *req;
	enum evhttp_cmd_type method;
	const char	*path;
	const char	*body;		/* NUL-terminated copy, or NULL */
	size_t		 body_len;
	uint64_t	 seq;
};

static void
rest_reply(struct rest_call *c, int status, const char *content_type,
    const char *body, size_t len)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(c->req);
	struct evbuffer *buf = NULL;
	const char *reason;

	if (content_type != NULL)
		evhttp_add_header(out, "Content-Type", content_type);
	if (body != NULL && len > 0) {
		if ((buf = evbuffer_new()) == NULL)
			fatalx("evbuffer_new");
		evbuffer_add(buf, body, len);
	}
	switch (status) {
	case 200: reason = "OK"; break;
	case 301: reason = "Moved Permanently"; break;
	case 400: reason = "Bad Request"; break;
	case 404: reason = "Not Found"; break;
	case 405: reason = "Method Not Allowed"; break;
	case 415: reason = "Unsupported Media Type"; break;
	case 500: reason = "Internal Server Error"; break;
	case 503: reason = "Service Unavailable"; break;
	default: reason = "Status"; break;
	}
	evhttp_send_reply(c->req, status, reason, buf);
	if (buf != NULL)
		evbuffer_free(buf);
	reqlog_set_status(&c->bridge->log, c->seq, status);
}

/* Jetty's error pages are HTML; nobody should parse them. */
static void
rest_error(struct rest_call *c, int status, const char *message)
{
	char page[512];
	int n;

	n = snprintf(page, sizeof(page), "<html>\n<head>\n<title>Error %d "
	    "%s</title>\n</head>\n<body><h2>HTTP ERROR %d %s</h2>\n</body>\n"
	    "</html>\n", status, message, status, message);
	rest_reply(c, status, "text/html;charset=iso-8859-1", page,
	    (size_t)n);
}

static void
rest_json(struct rest_call *c, int status, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));

	json_decref(j);
	if (s == NULL)
		fatalx("json_dumps");
	rest_reply(c, status, "application/json", s, strlen(s));
	free(s);
}

static bool
rest_is_get(const struct rest_call *c)
{
	return c->method == EVHTTP_REQ_GET || c->method == EVHTTP_REQ_HEAD;
}

/* An injected fault answers instead of the endpoint; true if it did. */
static bool
rest_fault(struct rest_call *c, const char *endpoint)
{
	int status = bridge_take_fault(c->bridge, endpoint);

	if (status == 0)
		return false;
	if (status >= 500)
		rest_reply(c, status, "text/plain", "injected fault\n", 15);
	else
		rest_error(c, status, "Injected");
	return true;
}

static void
rest_stats(struct rest_call *c)
{
	struct stats st;

	if (!rest_is_get(c)) {
		rest_error(c, 405, "Method Not Allowed");
		return;
	}
	if (rest_fault(c, "/colibri/stats"))
		return;
	bridge_stats(c->bridge, &st);
	rest_json(c, 200, stats_json(&st));
}

static void
rest_drain(struct rest_call *c, int op)
{
	struct bridge *b = c->bridge;

	if (op == 0 ? !rest_is_get(c) : c->method != EVHTTP_REQ_POST) {
		rest_error(c, 405, "Method Not Allowed");
		return;
	}
	if (rest_fault(c, c->path))
		return;
	if (op == 0) {
		bridge_sync(b);
		rest_json(c, 200, json_pack("{sb}", "drain", b->model.drain));
		return;
	}
	if (model_set_drain(&b->model, op > 0, bridge_now()) < 0) {
		rest_reply(c, 500, "text/plain", "not running\n", 12);
		return;
	}
	log_info("bridge %s: drain %s", b->id, op > 0 ? "enabled" :
	    "disabled");
	bridge_kick(b);
	rest_reply(c, 200, NULL, NULL, 0);
}

/* "application/json", maybe with parameters, any case. */
static bool
rest_is_json_type(const char *ct)
{
	size_t n;

	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	n = strcspn(ct, "; \t");
	return n == strlen("application/json") &&
	    strncasecmp(ct, "application/json", n) == 0;
}

/*
 * The ShutdownDTO as Jackson reads it: one required property, boolean or
 * the strings "true"/"false"; anything else is a 400.
 */
static int
rest_parse_shutdown(const char *body, size_t len, bool *graceful)
{
	json_t *root, *v;
	const char *s;
	int r = -EINVAL;

	if (body == NULL || len == 0)
		return -EINVAL;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (root == NULL)
		return -EINVAL;
	if (!json_is_object(root) || json_object_size(root) != 1 ||
	    (v = json_object_get(root, "graceful-shutdown")) == NULL)
		goto out;
	if (json_is_boolean(v)) {
		*graceful = json_is_true(v);
		r = 0;
	} else if ((s = json_string_value(v)) != NULL) {
		if (strcasecmp(s, "true") == 0) {
			*graceful = true;
			r = 0;
		} else if (strcasecmp(s, "false") == 0) {
			*graceful = false;
			r = 0;
		}
	}
out:
	json_decref(root);
	return r;
}

static void
rest_shutdown(struct rest_call *c)
{
	struct bridge *b = c->bridge;
	struct evkeyvalq *in = evhttp_request_get_input_headers(c->req);
	enum model_state before;
	bool graceful = false;

	if (c->method != EVHTTP_REQ_POST) {
		rest_error(c, 405, "Method Not Allowed");
		return;
	}
	if (!rest_is_json_type(evhttp_find_header(in, "Content-Type"))) {
		rest_error(c, 415, "Unsupported Media Type");
		return;
	}
	if (rest_parse_shutdown(c->body, c->body_len, &graceful) < 0) {
		rest_error(c, 400, "Bad Request");
		return;
	}
	if (rest_fault(c, "/colibri/shutdown"))
		return;
	bridge_sync(b);
	before = b->model.state;
	if (model_shutdown(&b->model, graceful, bridge_now()) < 0) {
		rest_reply(c, 500, "text/plain", "not running\n", 12);
		return;
	}
	log_info("bridge %s: %s shutdown requested%s", b->id,
	    graceful ? "graceful" : "forced", b->model.state == before ?
	    " (already initiated)" : "");
	bridge_kick(b);
	rest_reply(c, 200, NULL, NULL, 0);
}

static void
rest_health(struct rest_call *c)
{
	if (!rest_is_get(c)) {
		rest_error(c, 405, "Method Not Allowed");
		return;
	}
	if (rest_fault(c, "/about/health"))
		return;
	if (c->bridge->opts.healthy)
		rest_reply(c, 200, "application/json", NULL, 0);
	else
		rest_reply(c, 500, "text/plain",
		    "Health check failed (injected)\n", 31);
}

static void
rest_version(struct rest_call *c)
{
	if (!rest_is_get(c)) {
		rest_error(c, 405, "Method Not Allowed");
		return;
	}
	if (rest_fault(c, "/about/version"))
		return;
	rest_json(c, 200, json_pack("{ss ss ss}", "name", "JVB", "version",
	    c->bridge->opts.version, "os", "Linux"));
}

static void
rest_debug(struct rest_call *c)
{
	struct bridge *b = c->bridge;
	const struct model *m = &b->model;
	unsigned size = m->cfg.conference_size, left, i, n;
	json_t *confs, *health;
	char id[32];

	if (!rest_is_get(c)) {
		rest_error(c, 405, "Method Not Allowed");
		return;
	}
	if (rest_fault(c, "/debug"))
		return;
	bridge_sync(b);
	confs = json_object();
	left = m->participants;
	for (i = 0; left > 0 && i < REST_MAX_DEBUG_CONFS; i++) {
		n = left < size ? left : size;
		snprintf(id, sizeof(id), "%08x", i + 1);
		json_object_set_new(confs, id, json_pack("{ss si}", "id", id,
		    "endpoints", (int)n));
		left -= n;
	}
	health = json_pack("{sb sb so? so?}", "success", b->opts.healthy,
	    "hardFailure", !b->opts.healthy, "responseCode",
	    b->opts.healthy ? NULL : json_integer(500), "message",
	    b->opts.healthy ? NULL : json_string("injected"));
	rest_json(c, 200, json_pack("{ss sb sI s{ss sf} so so}",
	    "shutdown_state", model_state_name(m->state), "drain", m->drain,
	    "time", (json_int_t)bridge_wall(bridge_now()), "load_management",
	    "state", "NOT_OVERLOADED", "stress", m->snap.stress_level,
	    "conferences", confs, "health", health));
}

static void
rest_route(struct rest_call *c)
{
	const struct options *o = &c->bridge->opts;
	const char *p = c->path;
	bool drain_on = o->drain_enabled && !o->legacy_no_drain;
	char *loc;

	if (o->mode == OPTIONS_MODE_404) {
		rest_error(c, 404, "Not Found");
		return;
	}
	if (c->method == EVHTTP_REQ_TRACE) {
		rest_error(c, 405, "Method Not Allowed");
		return;
	}
	if (strcmp(p, "/colibri/stats") == 0 && o->rest_enabled)
		rest_stats(c);
	else if (strcmp(p, "/colibri/drain") == 0 && drain_on)
		rest_drain(c, 0);
	else if (strcmp(p, "/colibri/drain/enable") == 0 && drain_on)
		rest_drain(c, 1);
	else if (strcmp(p, "/colibri/drain/disable") == 0 && drain_on)
		rest_drain(c, -1);
	else if (strcmp(p, "/colibri/shutdown") == 0 && o->rest_enabled &&
	    o->shutdown_enabled)
		rest_shutdown(c);
	else if (strcmp(p, "/about/health") == 0 && o->health_enabled)
		rest_health(c);
	else if (strcmp(p, "/about/version") == 0 && o->version_enabled)
		rest_version(c);
	else if ((strcmp(p, "/debug") == 0 || strcmp(p, "/debug/") == 0) &&
	    o->debug_enabled)
		rest_debug(c);
	else if ((strcmp(p, "/colibri/debug") == 0 ||
	    strncmp(p, "/colibri/debug/", 15) == 0) && o->rest_enabled) {
		if (!rest_is_get(c)) {
			rest_error(c, 405, "Method Not Allowed");
			return;
		}
		loc = xasprintf("/debug%s", p + 14);
		evhttp_add_header(evhttp_request_get_output_headers(c->req),
		    "Location", loc);
		free(loc);
		rest_reply(c, 301, NULL, NULL, 0);
	} else
		rest_error(c, 404, "Not Found");
}

static const char *
rest_method_name(enum evhttp_cmd_type m)
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
rest_handle(struct evhttp_request *req, void *arg)
{
	struct rest *r = arg;
	struct rest_call c;
	struct evbuffer *in;
	const struct evhttp_uri *uri;
	const char *path;
	char *body = NULL;
	size_t len;

	if (r->bridge == NULL)
		return;		/* exiting: the connection closes unanswered */
	memset(&c, 0, sizeof(c));
	c.rest = r;
	c.bridge = r->bridge;
	c.req = req;
	c.method = evhttp_request_get_command(req);
	uri = evhttp_request_get_evhttp_uri(req);
	path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	c.path = path != NULL && *path != '\0' ? path : "/";
	in = evhttp_request_get_input_buffer(req);
	if ((len = evbuffer_get_length(in)) > 0) {
		body = xmalloc(len + 1);
		evbuffer_copyout(in, body, len);
		body[len] = '\0';
		c.body = body;
		c.body_len = len;
	}
	c.seq = reqlog_add(&c.bridge->log, bridge_wall(bridge_now()),
	    rest_method_name(c.method), evhttp_request_get_uri(req),
	    evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Type"), body, body != NULL ? len : 0);
	/* In hang mode the request stays open until the connection dies. */
	if (c.bridge->opts.mode != OPTIONS_MODE_HANG)
		rest_route(&c);
	free(body);
}
