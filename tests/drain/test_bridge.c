/*
 * drain/bridge: the colibri REST client.  First the pure half
 * (bridge_result_from_response) over statuses, bodies and transport errors;
 * then the calls on a real loop against an evhttp server on 127.0.0.1 that
 * answers like a bridge, a switched-off bridge, a hung one, a broken one,
 * and a port nobody listens on.  The full bridge (tests/fakebridge) is
 * driven by test_bridge_fake.py.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "drain/bridge.h"
#include "handler/http.h"
#include "handler/log.h"
#include "tests/test.h"

#define has(hay, needle)	(strstr((hay), (needle)) != NULL)

static void
from(struct bridge_result *r, enum bridge_op op, int error, long status,
    const char *body)
{
	bridge_result_from_response(r, op, "10.0.3.17", 8080, error, status,
	    body, body != NULL ? strlen(body) : 0);
	fprintf(stderr, "   %s %ld -> %s: %s\n", bridge_op_name(op), status,
	    bridge_outcome_name(r->outcome), r->diagnosis);
	test_assert(r->op == op);
	test_assert(r->diagnosis[0] != '\0');
}

static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static const char stats_body[] =
    "{\"incoming_loss\":0.0,\"conferences\":2,\"participants\":7,"
    "\"endpoints\":7,\"local_endpoints\":5,\"octo_endpoints\":2,"
    "\"largest_conference\":4,\"stress_level\":0.125,"
    "\"graceful_shutdown\":false,\"shutting_down\":false,\"drain\":true,"
    "\"healthy\":true,\"version\":\"2.3.215-gbee626bf\","
    "\"region\":\"eu-central-1\",\"mucs_joined\":1,"
    "\"current_timestamp\":\"2025-06-14 21:07:09.512\","
    "\"conference_sizes\":[0,1,1],\"threads\":91}";

static void
test_pure_stats(void)
{
	struct bridge_result r;

	from(&r, BRIDGE_OP_STATS, 0, 200, stats_body);
	test_assert_int(r.outcome, BRIDGE_OK);
	test_assert_int(r.stats.local_endpoints, 5);
	test_assert_int(r.stats.participants, 7);
	test_assert_int(r.stats.endpoints, 7);
	test_assert_int(r.stats.octo_endpoints, 2);
	test_assert_int(r.stats.conferences, 2);
	test_assert(r.stats.stress_level > 0.124 && r.stats.stress_level < 0.126);
	test_assert(r.stats.has_drain && r.stats.drain);
	test_assert(!r.stats.graceful_shutdown && !r.stats.shutting_down);
	test_assert_str(r.stats.version, "2.3.215-gbee626bf");
	test_assert_str(r.stats.region, "eu-central-1");
	test_assert(has(r.diagnosis, "local_endpoints=5"));

	/* Older bridges: shutting_down only when true, no drain at all. */
	from(&r, BRIDGE_OP_STATS, 0, 200,
	    "{\"local_endpoints\":0,\"graceful_shutdown\":true}");
	test_assert_int(r.outcome, BRIDGE_OK);
	test_assert(!r.stats.has_drain);
	test_assert(r.stats.graceful_shutdown && !r.stats.shutting_down);
	test_assert_int(r.stats.participants, -1);
	test_assert(has(r.diagnosis, "drain=absent"));

	/* Wrong types and values are named. */
	from(&r, BRIDGE_OP_STATS, 0, 200, "{\"local_endpoints\":\"3\"}");
	test_assert_int(r.outcome, BRIDGE_BAD_JSON);
	test_assert(has(r.diagnosis, "field 'local_endpoints' is a string, "
	    "expected an integer"));
	from(&r, BRIDGE_OP_STATS, 0, 200, "{\"drain\":\"true\"}");
	test_assert_int(r.outcome, BRIDGE_BAD_JSON);
	test_assert(has(r.diagnosis, "field 'drain' is a string, expected a "
	    "boolean"));
	from(&r, BRIDGE_OP_STATS, 0, 200, "{\"shutting_down\":null}");
	test_assert_int(r.outcome, BRIDGE_BAD_JSON);
	test_assert(has(r.diagnosis, "'shutting_down' is null"));
	from(&r, BRIDGE_OP_STATS, 0, 200, "{\"local_endpoints\":-4}");
	test_assert_int(r.outcome, BRIDGE_BAD_JSON);
	test_assert(has(r.diagnosis, "'local_endpoints' has an invalid value "
	    "'-4'"));
	from(&r, BRIDGE_OP_STATS, 0, 200, "[1,2]");
	test_assert_int(r.outcome, BRIDGE_BAD_JSON);
	test_assert(has(r.diagnosis, "expected a JSON object, got an array"));
	from(&r, BRIDGE_OP_STATS, 0, 200, "<html>oops</html>");
	test_assert_int(r.outcome, BRIDGE_BAD_JSON);
	test_assert(has(r.diagnosis, "GET /colibri/stats on 10.0.3.17:8080: "
	    "not JSON"));
	from(&r, BRIDGE_OP_STATS, 0, 200, "");
	test_assert_int(r.outcome, BRIDGE_BAD_JSON);
	test_assert(has(r.diagnosis, "empty body"));
	from(&r, BRIDGE_OP_STATS, 0, 200,
	    "{\"drain\":true,\"drain\":false}");
	test_assert_int(r.outcome, BRIDGE_BAD_JSON);
	/* Bytes from the bridge come back sanitized. */
	from(&r, BRIDGE_OP_STATS, 0, 200, "{\"x\":\x01\x1b[31m}");
	test_assert_int(r.outcome, BRIDGE_BAD_JSON);
	test_assert(printable(r.diagnosis));
}

static void
test_pure_statuses(void)
{
	struct bridge_result r;

	/* 404: the switch to flip, and the port mix-up. */
	from(&r, BRIDGE_OP_STATS, 0, 404, "");
	test_assert_int(r.outcome, BRIDGE_NOT_FOUND);
	test_assert_int(r.status, 404);
	test_assert(has(r.diagnosis, "videobridge.apis.rest.enabled=true"));
	test_assert(has(r.diagnosis, "9090"));
	test_assert(has(r.diagnosis, "10.0.3.17:8080"));
	from(&r, BRIDGE_OP_SHUTDOWN_GRACEFUL, 0, 404, "");
	test_assert_int(r.outcome, BRIDGE_NOT_FOUND);
	test_assert(has(r.diagnosis, "videobridge.rest.shutdown.enabled=true"));
	test_assert(has(r.diagnosis, "POST /colibri/shutdown"));
	from(&r, BRIDGE_OP_DRAIN_ENABLE, 0, 404, "");
	test_assert_int(r.outcome, BRIDGE_NOT_FOUND);
	test_assert(has(r.diagnosis, "videobridge.rest.drain.enabled"));
	from(&r, BRIDGE_OP_HEALTH, 0, 404, "");
	test_assert(has(r.diagnosis, "videobridge.rest.health.enabled"));

	/* Transport failures. */
	from(&r, BRIDGE_OP_STATS, -ECONNREFUSED, 0, NULL);
	test_assert_int(r.outcome, BRIDGE_REFUSED);
	test_assert(has(r.diagnosis, "videobridge.http-servers.private"));
	test_assert(has(r.diagnosis, "127.0.0.1:8080"));
	from(&r, BRIDGE_OP_STATS, -ETIMEDOUT, 0, NULL);
	test_assert_int(r.outcome, BRIDGE_TIMEOUT);
	from(&r, BRIDGE_OP_STATS, -EHOSTUNREACH, 0, NULL);
	test_assert_int(r.outcome, BRIDGE_UNREACHABLE);
	from(&r, BRIDGE_OP_STATS, -ECONNRESET, 0, NULL);
	test_assert_int(r.outcome, BRIDGE_UNREACHABLE);
	test_assert(has(r.diagnosis, "closed before a complete answer"));
	from(&r, BRIDGE_OP_DEBUG, -EMSGSIZE, 0, NULL);
	test_assert_int(r.outcome, BRIDGE_BAD_JSON);
	test_assert(has(r.diagnosis, "larger than 1048576 bytes"));

	/* Other statuses, body quoted but sanitized. */
	from(&r, BRIDGE_OP_SHUTDOWN_GRACEFUL, 0, 415, "Unsupported\n\x7f");
	test_assert_int(r.outcome, BRIDGE_HTTP_ERROR);
	test_assert(has(r.diagnosis, "HTTP 415 (Content-Type refused): "
	    "Unsupported ?"));
	from(&r, BRIDGE_OP_SHUTDOWN_FORCED, 0, 400, "");
	test_assert_int(r.outcome, BRIDGE_HTTP_ERROR);
	test_assert(has(r.diagnosis, "refused the shutdown body"));
	from(&r, BRIDGE_OP_DRAIN_ENABLE, 0, 500, "boom");
	test_assert_int(r.outcome, BRIDGE_HTTP_ERROR);
	test_assert(has(r.diagnosis, "HTTP 500: boom"));
	from(&r, BRIDGE_OP_STATS, 0, 301, "");
	test_assert_int(r.outcome, BRIDGE_HTTP_ERROR);

	/* Health: 200 healthy, 500/503 the bridge's verdict. */
	from(&r, BRIDGE_OP_HEALTH, 0, 200, "");
	test_assert_int(r.outcome, BRIDGE_OK);
	test_assert(r.healthy);
	from(&r, BRIDGE_OP_HEALTH, 0, 500, "Address discovery failed");
	test_assert_int(r.outcome, BRIDGE_OK);
	test_assert(!r.healthy);
	test_assert(has(r.diagnosis, "unhealthy (HTTP 500): Address "
	    "discovery failed"));
	from(&r, BRIDGE_OP_HEALTH, 0, 502, "");
	test_assert_int(r.outcome, BRIDGE_HTTP_ERROR);

	/* Drain. */
	from(&r, BRIDGE_OP_DRAIN_GET, 0, 200, "{\"drain\":true}");
	test_assert_int(r.outcome, BRIDGE_OK);
	test_assert(r.drain);
	from(&r, BRIDGE_OP_DRAIN_GET, 0, 200, "{\"drain\":false}");
	test_assert_int(r.outcome, BRIDGE_OK);
	test_assert(!r.drain);
	from(&r, BRIDGE_OP_DRAIN_GET, 0, 200, "{\"drain\":1}");
	test_assert_int(r.outcome, BRIDGE_BAD_JSON);
	test_assert(has(r.diagnosis, "'drain' is an integer"));
	from(&r, BRIDGE_OP_DRAIN_GET, 0, 200, "{}");
	test_assert_int(r.outcome, BRIDGE_BAD_JSON);
	test_assert(has(r.diagnosis, "'drain' is missing"));
	from(&r, BRIDGE_OP_DRAIN_ENABLE, 0, 200, "");
	test_assert_int(r.outcome, BRIDGE_OK);
	test_assert(r.drain);
	from(&r, BRIDGE_OP_DRAIN_DISABLE, 0, 200, "");
	test_assert_int(r.outcome, BRIDGE_OK);
	test_assert(!r.drain);
	from(&r, BRIDGE_OP_SHUTDOWN_FORCED, 0, 200, "");
	test_assert_int(r.outcome, BRIDGE_OK);
	test_assert(has(r.diagnosis, "forced shutdown accepted"));

	/* Version and debug. */
	from(&r, BRIDGE_OP_VERSION, 0, 200,
	    "{\"name\":\"JVB\",\"version\":\"2.3.215-gbee626bf\","
	    "\"os\":\"Linux\"}");
	test_assert_int(r.outcome, BRIDGE_OK);
	test_assert_str(r.version.name, "JVB");
	test_assert_str(r.version.version, "2.3.215-gbee626bf");
	test_assert_str(r.version.os, "Linux");
	from(&r, BRIDGE_OP_VERSION, 0, 200, "{\"name\":\"JVB\"}");
	test_assert_int(r.outcome, BRIDGE_BAD_JSON);
	test_assert(has(r.diagnosis, "'version' is missing"));
	from(&r, BRIDGE_OP_VERSION, 0, 200,
	    "{\"name\":\"JVB\",\"version\":\"2.3\\n\"}");
	test_assert_int(r.outcome, BRIDGE_BAD_JSON);
	from(&r, BRIDGE_OP_DEBUG, 0, 200,
	    "{\"shutdown_state\":\"GRACEFUL_SHUTDOWN\",\"drain\":true,"
	    "\"time\":1718399229512,\"conferences\":{\"a1\":{},\"b2\":{}},"
	    "\"health\":{\"success\":true,\"hardFailure\":false}}");
	test_assert_int(r.outcome, BRIDGE_OK);
	test_assert_int(r.debug.state, BRIDGE_STATE_GRACEFUL_SHUTDOWN);
	test_assert(r.debug.has_drain && r.debug.drain);
	test_assert_int(r.debug.conferences, 2);
	test_assert(r.debug.health_known && r.debug.healthy);
	from(&r, BRIDGE_OP_DEBUG, 0, 200, "{\"shutdown_state\":\"NAPPING\"}");
	test_assert_int(r.outcome, BRIDGE_OK);
	test_assert_int(r.debug.state, BRIDGE_STATE_UNKNOWN);
	test_assert_int(r.debug.conferences, -1);
	from(&r, BRIDGE_OP_DEBUG, 0, 200, "{\"conferences\":[]}");
	test_assert_int(r.outcome, BRIDGE_BAD_JSON);
}

static void
test_ip(void)
{
	test_assert(bridge_valid_ip("10.0.3.17"));
	test_assert(bridge_valid_ip("127.0.5.9"));
	test_assert(bridge_valid_ip("fd00::5"));
	test_assert(bridge_valid_ip("[fd00::5]"));
	test_assert(bridge_valid_ip("::1"));
	test_assert(!bridge_valid_ip(""));
	test_assert(!bridge_valid_ip(NULL));
	test_assert(!bridge_valid_ip("localhost"));
	test_assert(!bridge_valid_ip("10.0.3.17:8080"));
	test_assert(!bridge_valid_ip("10.0.3.17/x"));
	test_assert(!bridge_valid_ip("10.0.3"));
	test_assert(!bridge_valid_ip("10.0.3.256"));
	test_assert(!bridge_valid_ip(" 10.0.3.17"));
	test_assert(!bridge_valid_ip("10.0.3.17 "));
	test_assert(!bridge_valid_ip("010.0.3.17"));
	test_assert(!bridge_valid_ip("[fd00::5"));
	test_assert(!bridge_valid_ip("[]"));
	test_assert(!bridge_valid_ip("fe80::1%eth0"));
	test_assert(!bridge_valid_ip("[10.0.3.17]"));
	test_assert(!bridge_valid_ip("10.0.3.17@evil"));
}

/* --- calls on a loop, against an evhttp server ---------------------- */

static struct event_base *base;
static struct http *client;
static struct evhttp *server;
static unsigned server_port, dead_port;
static int hung;

/* What the server saw of the last shutdown request. */
static char last_ctype[64], last_body[128], last_method[8];

static void
srv_cb(struct evhttp_request *r, void *arg)
{
	const char *uri = evhttp_request_get_uri(r);
	struct evbuffer *b = evbuffer_new();
	struct evbuffer *in = evhttp_request_get_input_buffer(r);
	const char *ct;
	size_t n;

	(void)arg;
	if (strcmp(uri, "/colibri/stats") == 0) {
		evbuffer_add(b, stats_body, strlen(stats_body));
		evhttp_send_reply(r, 200, "OK", b);
	} else if (strcmp(uri, "/colibri/shutdown") == 0 ||
	    strcmp(uri, "/colibri/drain/enable") == 0) {
		ct = evhttp_find_header(evhttp_request_get_input_headers(r),
		    "Content-Type");
		snprintf(last_ctype, sizeof(last_ctype), "%s",
		    ct != NULL ? ct : "");
		snprintf(last_method, sizeof(last_method), "%s",
		    evhttp_request_get_command(r) == EVHTTP_REQ_POST ?
		    "POST" : "other");
		n = evbuffer_get_length(in);
		if (n >= sizeof(last_body))
			n = sizeof(last_body) - 1;
		evbuffer_remove(in, last_body, n);
		last_body[n] = '\0';
		evhttp_send_reply(r, 200, "OK", b);
	} else if (strcmp(uri, "/colibri/drain") == 0) {
		/* a bridge hung in the middle of an answer */
		hung++;
	} else if (strcmp(uri, "/about/version") == 0) {
		/* over the 256 KiB cap */
		static char big[300 * 1024];

		memset(big, ' ', sizeof(big));
		big[0] = '{';
		big[sizeof(big) - 1] = '}';
		evbuffer_add(b, big, sizeof(big));
		evhttp_send_reply(r, 200, "OK", b);
	} else if (strcmp(uri, "/about/health") == 0) {
		evbuffer_add_printf(b, "not healthy: no STUN");
		evhttp_send_reply(r, 500, "Server Error", b);
	} else {
		evhttp_send_reply(r, 404, "Not Found", b);
	}
	evbuffer_free(b);
}

struct outcome {
	int			 calls;
	struct bridge_result	 res;
};

static void
done_cb(const struct bridge_result *res, void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->res = *res;
	fprintf(stderr, "   -> %s: %s\n", bridge_outcome_name(res->outcome),
	    res->diagnosis);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(bool *)arg = true;
	event_base_loopbreak(base);
}

/* Run the loop until o->calls, failing after 10 s. */
static void
wait_for(struct outcome *o)
{
	struct timeval tv = { 10, 0 }, tick = { 0, 20000 };
	bool expired = false;
	struct event *deadline;

	deadline = evtimer_new(base, deadline_cb, &expired);
	evtimer_add(deadline, &tv);
	while (o->calls == 0 && !expired) {
		event_base_loopexit(base, &tick);
		event_base_dispatch(base);
	}
	event_free(deadline);
	test_assert(!expired);
	test_assert_int(o->calls, 1);
}

/* A port where nothing listens: bound, then closed. */
static unsigned
closed_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	test_assert(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	test_assert(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	test_assert(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static void
setup_loop(void)
{
	struct evhttp_bound_socket *bs;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	base = event_base_new();
	test_assert(base != NULL);
	client = http_new(base);
	test_assert(client != NULL);
	server = evhttp_new(base);
	test_assert(server != NULL);
	evhttp_set_allowed_methods(server, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_gencb(server, srv_cb, NULL);
	bs = evhttp_bind_socket_with_handle(server, "127.0.0.1", 0);
	test_assert(bs != NULL);
	test_assert(getsockname(evhttp_bound_socket_get_fd(bs),
	    (struct sockaddr *)&sin, &len) == 0);
	server_port = ntohs(sin.sin_port);
	dead_port = closed_port();
}

static void
teardown_loop(void)
{
	http_free(client);
	evhttp_free(server);
	event_base_free(base);
}

static void
test_calls(void)
{
	struct outcome o;
	struct bridge_call *c;

	setup_loop();

	memset(&o, 0, sizeof(o));
	c = bridge_stats(client, "127.0.0.1", server_port, 3000, done_cb, &o);
	test_assert(c != NULL);
	test_assert_int(o.calls, 0);	/* never from inside the call */
	wait_for(&o);
	test_assert_int(o.res.outcome, BRIDGE_OK);
	test_assert_int(o.res.status, 200);
	test_assert_int(o.res.stats.local_endpoints, 5);
	test_assert(o.res.stats.received_ms > 0);

	memset(&o, 0, sizeof(o));
	test_assert(bridge_shutdown(client, "127.0.0.1", server_port, true,
	    3000, done_cb, &o) != NULL);
	wait_for(&o);
	test_assert_int(o.res.outcome, BRIDGE_OK);
	test_assert_int(o.res.op, BRIDGE_OP_SHUTDOWN_GRACEFUL);
	test_assert_str(last_method, "POST");
	test_assert_str(last_ctype, "application/json");
	test_assert_str(last_body, "{\"graceful-shutdown\":true}");

	memset(&o, 0, sizeof(o));
	test_assert(bridge_shutdown(client, "127.0.0.1", server_port, false,
	    3000, done_cb, &o) != NULL);
	wait_for(&o);
	test_assert_str(last_body, "{\"graceful-shutdown\":false}");

	memset(&o, 0, sizeof(o));
	last_body[0] = 'x';
	test_assert(bridge_drain_set(client, "127.0.0.1", server_port, true,
	    3000, done_cb, &o) != NULL);
	wait_for(&o);
	test_assert_int(o.res.outcome, BRIDGE_OK);
	test_assert(o.res.drain);
	test_assert_str(last_method, "POST");
	test_assert_str(last_body, "");

	/* The switched-off endpoint. */
	memset(&o, 0, sizeof(o));
	test_assert(bridge_drain_set(client, "127.0.0.1", server_port, false,
	    3000, done_cb, &o) != NULL);
	wait_for(&o);
	test_assert_int(o.res.outcome, BRIDGE_NOT_FOUND);
	test_assert(has(o.res.diagnosis, "POST /colibri/drain/disable"));

	memset(&o, 0, sizeof(o));
	test_assert(bridge_debug(client, "127.0.0.1", server_port, 3000,
	    done_cb, &o) != NULL);
	wait_for(&o);
	test_assert_int(o.res.outcome, BRIDGE_NOT_FOUND);
	test_assert(has(o.res.diagnosis, "videobridge.rest.debug.enabled"));

	memset(&o, 0, sizeof(o));
	test_assert(bridge_health(client, "127.0.0.1", server_port, 3000,
	    done_cb, &o) != NULL);
	wait_for(&o);
	test_assert_int(o.res.outcome, BRIDGE_OK);
	test_assert(!o.res.healthy);
	test_assert(has(o.res.diagnosis, "not healthy: no STUN"));

	/* Over the response cap. */
	memset(&o, 0, sizeof(o));
	test_assert(bridge_version(client, "127.0.0.1", server_port, 3000,
	    done_cb, &o) != NULL);
	wait_for(&o);
	test_assert_int(o.res.outcome, BRIDGE_BAD_JSON);
	test_assert(has(o.res.diagnosis, "larger than 262144 bytes"));

	/* A bridge that never answers: the timeout ends the call. */
	memset(&o, 0, sizeof(o));
	test_assert(bridge_drain_get(client, "127.0.0.1", server_port, 400,
	    done_cb, &o) != NULL);
	wait_for(&o);
	test_assert_int(o.res.outcome, BRIDGE_TIMEOUT);
	test_assert(hung >= 1);

	/* Nothing listens. */
	memset(&o, 0, sizeof(o));
	test_assert(bridge_stats(client, "127.0.0.1", dead_port, 3000,
	    done_cb, &o) != NULL);
	wait_for(&o);
	test_assert_int(o.res.outcome, BRIDGE_REFUSED);
	test_assert(has(o.res.diagnosis, "videobridge.http-servers.private"));

	/* Bad addresses never start. */
	errno = 0;
	test_assert(bridge_stats(client, "localhost", server_port, 3000,
	    done_cb, &o) == NULL);
	test_assert_int(errno, EINVAL);
	test_assert(bridge_stats(client, "127.0.0.1/colibri", server_port,
	    3000, done_cb, &o) == NULL);
	test_assert(bridge_stats(client, "127.0.0.1", 0, 3000, done_cb,
	    &o) == NULL);
	test_assert(bridge_stats(client, "127.0.0.1", 70000, 3000, done_cb,
	    &o) == NULL);
	test_assert_int(http_pending(client), 0);

	teardown_loop();
}

static void
test_cancel(void)
{
	struct timeval tv = { 0, 600000 };
	struct outcome o1, o2;
	struct bridge_call *c1, *c2;

	setup_loop();
	memset(&o1, 0, sizeof(o1));
	memset(&o2, 0, sizeof(o2));
	/* One cancelled at once, one while the server holds it. */
	c1 = bridge_stats(client, "127.0.0.1", server_port, 300, done_cb, &o1);
	c2 = bridge_drain_get(client, "127.0.0.1", server_port, 300, done_cb,
	    &o2);
	test_assert(c1 != NULL && c2 != NULL);
	bridge_call_cancel(c1);
	event_base_loopexit(base, &(struct timeval){ 0, 100000 });
	event_base_dispatch(base);
	bridge_call_cancel(c2);
	test_assert_int(http_pending(client), 0);
	/* Past both timeouts: still no callback. */
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	test_assert_int(o1.calls, 0);
	test_assert_int(o2.calls, 0);
	bridge_call_cancel(NULL);
	teardown_loop();
}

int
main(void)
{
	log_init(LOG_LEVEL_WARNING);
	test_run(test_ip);
	test_run(test_pure_stats);
	test_run(test_pure_statuses);
	test_run(test_calls);
	test_run(test_cancel);
	return 0;
}
