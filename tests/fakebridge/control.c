/*
 * The control API.  Bodies and answers are JSON; errors are
 * {"error": "..."} with 400 (bad request), 404 (no such bridge) or 409
 * (conflict: id or address taken, bridge exited).
 *
 *   GET    /                          {"pid", "bridges"}
 *   GET    /bridges                   [summary, ...]
 *   POST   /bridges                   create (see control_add_bridges)
 *   GET    /bridges/ID                full state
 *   DELETE /bridges/ID                remove (exits as on SIGTERM)
 *   GET    /bridges/ID/stats          the stats /colibri/stats would give
 *   GET    /bridges/ID/requests?since=SEQ   REST request log
 *   DELETE /bridges/ID/requests       clear the log
 *   POST   /bridges/ID/join           {"n": N}
 *   POST   /bridges/ID/leave          {"n": N or "all", "over_s": T}
 *   POST   /bridges/ID/participants   {"n": N}   (set the count)
 *   POST   /bridges/ID/set            {option: value, ...} (runtime ones)
 *   POST   /bridges/ID/fault          {"path", "status": 500, "count": -1}
 *   DELETE /bridges/ID/fault          clear every fault
 *   POST   /bridges/ID/kill           {"signal": "TERM" or "KILL"}
 *   POST   /bridges/ID/shutdown       {"graceful": bool}  (bypasses REST)
 *   POST   /bridges/ID/drain          {"drain": bool}     (bypasses REST)
 */
#include <sys/types.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handler/log.h"
#include "handler/xmalloc.h"
#include "tests/fakebridge/bridge.h"
#include "tests/fakebridge/control.h"

#define CONTROL_MAX_BODY	(16 * 1024 * 1024)

struct control {
	struct event_base *base;	/* not owned */
	struct bridge_set *set;		/* not owned */
	struct evhttp	*http;		/* owned */
	uint16_t	 port;
	json_t		*defaults;	/* owned; an object */
};

static void control_handle(struct evhttp_request *req, void *arg);

struct control *
control_new(struct event_base *base, struct bridge_set *set,
    const char *address, uint16_t port, char *err, size_t errlen)
{
	struct evhttp_bound_socket *bound;
	struct control *c = xcalloc(1, sizeof(*c));
	struct sockaddr_storage ss;
	ev_socklen_t slen = sizeof(ss);

	c->base = base;
	c->set = set;
	c->defaults = json_object();
	if ((c->http = evhttp_new(base)) == NULL)
		fatalx("evhttp_new");
	evhttp_set_allowed_methods(c->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_DELETE);
	evhttp_set_max_body_size(c->http, CONTROL_MAX_BODY);
	evhttp_set_gencb(c->http, control_handle, c);
	bound = evhttp_bind_socket_with_handle(c->http, address, port);
	if (bound == NULL) {
		snprintf(err, errlen, "cannot listen on %s:%u", address,
		    (unsigned)port);
		control_free(c);
		return NULL;
	}
	if (getsockname(evhttp_bound_socket_get_fd(bound),
	    (struct sockaddr *)&ss, &slen) == -1)
		fatal("getsockname");
	c->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return c;
}

void
control_free(struct control *c)
{
	if (c == NULL)
		return;
	if (c->http != NULL)
		evhttp_free(c->http);
	json_decref(c->defaults);
	free(c);
}

uint16_t
control_port(const struct control *c)
{
	return c->port;
}

int
control_set_defaults(struct control *c, json_t *defaults, char *err,
    size_t errlen)
{
	struct options o;
	int r;

	if (!json_is_object(defaults)) {
		snprintf(err, errlen, "defaults: expected an object");
		return -EINVAL;
	}
	/* Refuse bad defaults now rather than on every bridge. */
	options_default(&o);
	r = options_apply_json(&o, defaults, false, err, errlen);
	options_finish(&o);
	if (r < 0)
		return r;
	json_decref(c->defaults);
	c->defaults = json_incref(defaults);
	return 0;
}

static int
control_add_one(struct control *c, json_t *spec, json_t *defaults,
    struct bridge **ret, char *err, size_t errlen)
{
	struct options o;
	int r;

	options_default(&o);
	if ((r = options_apply_json(&o, c->defaults, false, err,
	    errlen)) == 0 && (defaults == NULL ||
	    (r = options_apply_json(&o, defaults, false, err, errlen)) == 0) &&
	    (r = options_apply_json(&o, spec, false, err, errlen)) == 0)
		r = bridge_new(c->set, &o, ret, err, errlen);
	options_finish(&o);
	return r;
}

int
control_add_bridges(struct control *c, json_t *spec, json_t **ret_ids,
    char *err, size_t errlen)
{
	json_t *list = spec, *defaults = NULL, *ids, *item;
	struct bridge *b;
	char why[256];
	size_t i;
	int r;

	if (json_is_object(spec) && json_object_get(spec, "bridges") != NULL) {
		list = json_object_get(spec, "bridges");
		defaults = json_object_get(spec, "defaults");
		if (json_object_size(spec) != (defaults != NULL ? 2u : 1u)) {
			snprintf(err, errlen, "expected only \"defaults\" and "
			    "\"bridges\"");
			return -EINVAL;
		}
		if (defaults != NULL && !json_is_object(defaults)) {
			snprintf(err, errlen, "defaults: expected an object");
			return -EINVAL;
		}
	}
	ids = json_array();
	if (json_is_object(list)) {
		if ((r = control_add_one(c, list, defaults, &b, err,
		    errlen)) < 0) {
			json_decref(ids);
			return r;
		}
		json_array_append_new(ids, json_string(b->id));
	} else if (json_is_array(list)) {
		json_array_foreach(list, i, item) {
			if ((r = control_add_one(c, item, defaults, &b, why,
			    sizeof(why))) < 0) {
				snprintf(err, errlen, "bridge #%zu: %s "
				    "(%zu created before it)", i, why, i);
				json_decref(ids);
				return r;
			}
			json_array_append_new(ids, json_string(b->id));
		}
	} else {
		snprintf(err, errlen, "expected a bridge object or an array");
		json_decref(ids);
		return -EINVAL;
	}
	if (ret_ids != NULL)
		*ret_ids = ids;
	else
		json_decref(ids);
	return 0;
}

/* Answering. */

static void
control_reply(struct evhttp_request *req, int status, json_t *j)
{
	struct evbuffer *buf;
	char *s;

	s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(j);
	if (s == NULL || (buf = evbuffer_new()) == NULL)
		fatalx("control_reply");
	evbuffer_add(buf, s, strlen(s));
	evbuffer_add(buf, "\n", 1);
	free(s);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply(req, status, status < 300 ? "OK" : "Error", buf);
	evbuffer_free(buf);
}

static void
control_error(struct evhttp_request *req, int status, const char *msg)
{
	control_reply(req, status, json_pack("{ss}", "error", msg));
}

static void
control_ok(struct evhttp_request *req)
{
	control_reply(req, 200, json_pack("{sb}", "ok", true));
}

/* The body as JSON; NULL (and an answer sent) if unusable. */
static json_t *
control_body(struct evhttp_request *req, bool empty_ok)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	json_error_t jerr;
	json_t *j;
	char msg[256];

	if (len == 0) {
		if (empty_ok)
			return json_object();
		control_error(req, 400, "a JSON body is required");
		return NULL;
	}
	j = json_loadb((const char *)evbuffer_pullup(in, -1), len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL) {
		snprintf(msg, sizeof(msg), "bad JSON: %s", jerr.text);
		control_error(req, 400, msg);
	}
	return j;
}

/* Every key of obj must be in allowed (NULL-terminated). */
static bool
control_keys(struct evhttp_request *req, json_t *obj,
    const char *const *allowed)
{
	const char *key;
	json_t *v;
	size_t i;
	char msg[160];

	if (!json_is_object(obj)) {
		control_error(req, 400, "expected a JSON object");
		return false;
	}
	json_object_foreach(obj, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			snprintf(msg, sizeof(msg), "unknown key %.64s",
			    options_valid_token(key, 64, "_-") ? key : "?");
			control_error(req, 400, msg);
			return false;
		}
	}
	return true;
}

/* Model actions report -ESRCH once the bridge exited. */
static void
control_model_result(struct evhttp_request *req, struct bridge *b, int r)
{
	char msg[160];

	if (r == 0) {
		bridge_settle(b);
		control_reply(req, 200, bridge_summary_json(b));
		return;
	}
	if (r == -ESRCH)
		snprintf(msg, sizeof(msg), "bridge %s has exited", b->id);
	else
		snprintf(msg, sizeof(msg), "%s", strerror(-r));
	control_error(req, r == -ESRCH ? 409 : 400, msg);
}

static bool
control_get_uint(struct evhttp_request *req, json_t *body, const char *key,
    bool all_ok, struct bridge *b, unsigned *out)
{
	json_t *v = json_object_get(body, key);
	char msg[96];

	if (v == NULL && all_ok) {
		*out = b->model.participants;
		return true;
	}
	if (all_ok && json_is_string(v) &&
	    strcmp(json_string_value(v), "all") == 0) {
		*out = b->model.participants;
		return true;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > MODEL_MAX_PARTICIPANTS) {
		snprintf(msg, sizeof(msg), "%s: expected an integer in [0, %u]",
		    key, MODEL_MAX_PARTICIPANTS);
		control_error(req, 400, msg);
		return false;
	}
	*out = (unsigned)json_integer_value(v);
	return true;
}

static void
control_participants(struct evhttp_request *req, struct bridge *b,
    const char *action)
{
	static const char *const join_keys[] = { "n", NULL };
	static const char *const leave_keys[] = { "n", "over_s", NULL };
	json_t *body, *over;
	unsigned n;
	double over_s = 0;
	int64_t now = bridge_now();
	int r;

	if ((body = control_body(req, strcmp(action, "leave") == 0)) == NULL)
		return;
	if (!control_keys(req, body, strcmp(action, "leave") == 0 ?
	    leave_keys : join_keys))
		goto out;
	/* "all" means the count at the time of the request. */
	model_advance(&b->model, now);
	if (!control_get_uint(req, body, "n", strcmp(action, "leave") == 0,
	    b, &n))
		goto out;
	if (strcmp(action, "join") == 0)
		r = model_join(&b->model, n, now);
	else if (strcmp(action, "participants") == 0)
		r = model_set_participants(&b->model, n, now);
	else {
		if ((over = json_object_get(body, "over_s")) != NULL) {
			if (!json_is_number(over) ||
			    !(json_number_value(over) >= 0 &&
			    json_number_value(over) <= 1e9)) {
				control_error(req, 400,
				    "over_s: expected seconds >= 0");
				goto out;
			}
			over_s = json_number_value(over);
		}
		r = model_leave(&b->model, n, (int64_t)(over_s * 1000.0 + 0.5),
		    now);
	}
	control_model_result(req, b, r);
out:
	json_decref(body);
}

static void
control_set(struct evhttp_request *req, struct bridge *b)
{
	struct options o;
	json_t *body;
	char err[256];

	if ((body = control_body(req, false)) == NULL)
		return;
	options_copy(&o, &b->opts);
	if (options_apply_json(&o, body, true, err, sizeof(err)) < 0)
		control_error(req, 400, err);
	else if (bridge_set_options(b, &o, err, sizeof(err)) < 0)
		control_error(req, 409, err);
	else
		control_reply(req, 200, bridge_summary_json(b));
	options_finish(&o);
	json_decref(body);
}

static void
control_fault(struct evhttp_request *req, struct bridge *b)
{
	static const char *const keys[] = { "path", "status", "count", NULL };
	json_t *body, *v;
	const char *path;
	json_int_t status = 500, count = -1;
	int r;

	if (evhttp_request_get_command(req) == EVHTTP_REQ_DELETE) {
		bridge_clear_faults(b);
		control_ok(req);
		return;
	}
	if ((body = control_body(req, false)) == NULL)
		return;
	if (!control_keys(req, body, keys))
		goto out;
	path = json_string_value(json_object_get(body, "path"));
	if ((v = json_object_get(body, "status")) != NULL)
		status = json_is_integer(v) ? json_integer_value(v) : -1;
	if ((v = json_object_get(body, "count")) != NULL)
		count = json_is_integer(v) ? json_integer_value(v) : -2;
	if (path == NULL || status < 0 || status > 999 || count < -1 ||
	    count > 1000000000) {
		control_error(req, 400, "expected {\"path\": endpoint or "
		    "\"*\", \"status\": 4xx/5xx, \"count\": n or -1}");
		goto out;
	}
	r = bridge_add_fault(b, path, (int)status, (long)count);
	if (r == -ENOSPC)
		control_error(req, 409, "too many faults");
	else if (r < 0)
		control_error(req, 400, "unknown endpoint, or status not "
		    "in 400..599");
	else
		control_ok(req);
out:
	json_decref(body);
}

static void
control_kill(struct evhttp_request *req, struct bridge *b)
{
	static const char *const keys[] = { "signal", NULL };
	json_t *body;
	const char *sig;
	enum model_cause how;

	if ((body = control_body(req, true)) == NULL)
		return;
	if (!control_keys(req, body, keys))
		goto out;
	sig = json_string_value(json_object_get(body, "signal"));
	if (sig == NULL || strcmp(sig, "TERM") == 0)
		how = MODEL_CAUSE_SIGTERM;
	else if (strcmp(sig, "KILL") == 0)
		how = MODEL_CAUSE_SIGKILL;
	else {
		control_error(req, 400,
		    "signal: expected \"TERM\" or \"KILL\"");
		goto out;
	}
	control_model_result(req, b, model_kill(&b->model, how, bridge_now()));
out:
	json_decref(body);
}

static void
control_flag(struct evhttp_request *req, struct bridge *b, const char *key)
{
	const char *const keys[] = { key, NULL };
	json_t *body, *v;
	int r;

	if ((body = control_body(req, false)) == NULL)
		return;
	if (!control_keys(req, body, keys))
		goto out;
	if (!json_is_boolean(v = json_object_get(body, key))) {
		control_error(req, 400, "expected a boolean");
		goto out;
	}
	if (strcmp(key, "drain") == 0)
		r = model_set_drain(&b->model, json_is_true(v), bridge_now());
	else
		r = model_shutdown(&b->model, json_is_true(v), bridge_now());
	control_model_result(req, b, r);
out:
	json_decref(body);
}

static void
control_requests(struct evhttp_request *req, struct bridge *b)
{
	struct evkeyvalq q;
	const char *query, *since_s;
	unsigned long long since = 0;
	char *end;

	if (evhttp_request_get_command(req) == EVHTTP_REQ_DELETE) {
		reqlog_clear(&b->log);
		control_ok(req);
		return;
	}
	TAILQ_INIT(&q);
	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	if (query != NULL && evhttp_parse_query_str(query, &q) == 0 &&
	    (since_s = evhttp_find_header(&q, "since")) != NULL) {
		since = strtoull(since_s, &end, 10);
		if (*since_s == '\0' || *end != '\0') {
			evhttp_clear_headers(&q);
			control_error(req, 400, "since: expected a number");
			return;
		}
	}
	evhttp_clear_headers(&q);
	control_reply(req, 200, reqlog_json(&b->log, since));
}

static void
control_bridge(struct evhttp_request *req, struct bridge *b,
    const char *action)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	struct stats st;

	/* What is due has happened, side effects included: a bridge read
	 * as EXITED is no longer listening. */
	bridge_settle(b);
	if (action == NULL) {
		if (m == EVHTTP_REQ_GET)
			control_reply(req, 200, bridge_state_json(b));
		else if (m == EVHTTP_REQ_DELETE) {
			bridge_remove(b);
			bridge_settle(b);	/* may free b */
			control_ok(req);
		} else
			control_error(req, 405, "GET or DELETE");
		return;
	}
	if (strcmp(action, "stats") == 0 && m == EVHTTP_REQ_GET) {
		bridge_stats(b, &st);
		control_reply(req, 200, stats_json(&st));
	} else if (strcmp(action, "requests") == 0 &&
	    (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_DELETE))
		control_requests(req, b);
	else if (strcmp(action, "fault") == 0 &&
	    (m == EVHTTP_REQ_POST || m == EVHTTP_REQ_DELETE))
		control_fault(req, b);
	else if (m != EVHTTP_REQ_POST)
		control_error(req, 405, "method not allowed here");
	else if (strcmp(action, "join") == 0 ||
	    strcmp(action, "leave") == 0 ||
	    strcmp(action, "participants") == 0)
		control_participants(req, b, action);
	else if (strcmp(action, "set") == 0)
		control_set(req, b);
	else if (strcmp(action, "kill") == 0)
		control_kill(req, b);
	else if (strcmp(action, "shutdown") == 0)
		control_flag(req, b, "graceful");
	else if (strcmp(action, "drain") == 0)
		control_flag(req, b, "drain");
	else
		control_error(req, 404, "no such action");
}

static void
control_bridges(struct evhttp_request *req, struct control *c)
{
	json_t *body, *ids, *list;
	struct bridge *b;
	char err[512];
	size_t i;
	int r;

	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
		list = json_array();
		TAILQ_FOREACH(b, &c->set->bridges, entry) {
			bridge_settle(b);
			json_array_append_new(list, bridge_summary_json(b));
		}
		control_reply(req, 200, list);
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		control_error(req, 405, "GET or POST");
		return;
	}
	if ((body = control_body(req, false)) == NULL)
		return;
	if ((r = control_add_bridges(c, body, &ids, err, sizeof(err))) < 0) {
		/* Bad options are the caller's; a taken id or address is a
		 * conflict with what runs. */
		control_error(req, r == -EINVAL ? 400 : 409, err);
		json_decref(body);
		return;
	}
	if (json_is_object(body) && json_object_get(body, "bridges") == NULL) {
		b = bridge_set_find(c->set,
		    json_string_value(json_array_get(ids, 0)));
		control_reply(req, 201, bridge_state_json(b));
	} else {
		list = json_array();
		for (i = 0; i < json_array_size(ids); i++)
			json_array_append_new(list, bridge_summary_json(
			    bridge_set_find(c->set,
			    json_string_value(json_array_get(ids, i)))));
		control_reply(req, 201, list);
	}
	json_decref(ids);
	json_decref(body);
}

static void
control_handle(struct evhttp_request *req, void *arg)
{
	struct control *c = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	char *copy, *id, *action, *slash, *decoded;
	struct bridge *b;

	if (path == NULL || strcmp(path, "/") == 0) {
		control_reply(req, 200, json_pack("{si si}", "pid",
		    (int)getpid(), "bridges", (int)c->set->count));
		return;
	}
	if (strcmp(path, "/bridges") == 0 || strcmp(path, "/bridges/") == 0) {
		control_bridges(req, c);
		return;
	}
	if (strncmp(path, "/bridges/", 9) != 0) {
		control_error(req, 404, "no such endpoint");
		return;
	}
	copy = xstrdup(path + 9);
	id = copy;
	action = NULL;
	if ((slash = strchr(copy, '/')) != NULL) {
		*slash = '\0';
		action = slash + 1;
		if (strchr(action, '/') != NULL || *action == '\0') {
			free(copy);
			control_error(req, 404, "no such endpoint");
			return;
		}
	}
	decoded = evhttp_uridecode(id, 0, NULL);
	b = decoded != NULL ? bridge_set_find(c->set, decoded) : NULL;
	free(decoded);
	if (b == NULL)
		control_error(req, 404, "no such bridge");
	else
		control_bridge(req, b, action);
	free(copy);
}
