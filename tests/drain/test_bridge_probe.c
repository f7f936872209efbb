/*
 * One bridge_* call on a real loop, result printed as one JSON line: the
 * C half of test_bridge_fake.py, which runs it against the fake bridge.
 *
 *   test_bridge_probe <ip> <port> <op> [timeout_ms]
 *
 * op: stats, drain-get, drain-enable, drain-disable, shutdown-graceful,
 * shutdown-forced, health, version, debug.  Exit 0 when the callback ran
 * (whatever the outcome), 2 on usage, 3 when the call did not start.
 */
#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drain/bridge.h"
#include "handler/http.h"
#include "handler/log.h"

static struct event_base *base;
static int done;

static void
probe_done(const struct bridge_result *r, void *arg)
{
	const struct colibri_stats *st = &r->stats;
	json_t *o;
	char *s;

	(void)arg;
	o = json_pack("{s:s, s:s, s:i, s:s, s:b, s:b}",
	    "op", bridge_op_name(r->op),
	    "outcome", bridge_outcome_name(r->outcome),
	    "status", (int)r->status,
	    "diagnosis", r->diagnosis,
	    "drain", r->drain,
	    "healthy", r->healthy);
	if (r->op == BRIDGE_OP_STATS && r->outcome == BRIDGE_OK)
		json_object_set_new(o, "stats", json_pack(
		    "{s:i, s:i, s:i, s:i, s:b, s:b, s:b, s:b, s:s}",
		    "local_endpoints", st->local_endpoints,
		    "participants", st->participants,
		    "conferences", st->conferences,
		    "octo_endpoints", st->octo_endpoints,
		    "has_drain", st->has_drain,
		    "drain", st->drain,
		    "graceful_shutdown", st->graceful_shutdown,
		    "shutting_down", st->shutting_down,
		    "version", st->version));
	if (r->op == BRIDGE_OP_VERSION && r->outcome == BRIDGE_OK)
		json_object_set_new(o, "version", json_pack("{s:s, s:s}",
		    "name", r->version.name, "version", r->version.version));
	if (r->op == BRIDGE_OP_DEBUG && r->outcome == BRIDGE_OK)
		json_object_set_new(o, "debug", json_pack("{s:s, s:b, s:i}",
		    "shutdown_state", bridge_state_name(r->debug.state),
		    "drain", r->debug.drain,
		    "conferences", r->debug.conferences));
	s = json_dumps(o, JSON_COMPACT);
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(o);
	done = 1;
	event_base_loopbreak(base);
}

int
main(int argc, char *argv[])
{
	static const char *const ops[] = {
		[BRIDGE_OP_STATS] = "stats",
		[BRIDGE_OP_DRAIN_GET] = "drain-get",
		[BRIDGE_OP_DRAIN_ENABLE] = "drain-enable",
		[BRIDGE_OP_DRAIN_DISABLE] = "drain-disable",
		[BRIDGE_OP_SHUTDOWN_GRACEFUL] = "shutdown-graceful",
		[BRIDGE_OP_SHUTDOWN_FORCED] = "shutdown-forced",
		[BRIDGE_OP_HEALTH] = "health",
		[BRIDGE_OP_VERSION] = "version",
		[BRIDGE_OP_DEBUG] = "debug",
	};
	struct bridge_call *c = NULL;
	unsigned port, timeout_ms = 3000;
	struct http *h;
	size_t op;

	if (argc < 4 || argc > 5)
		goto usage;
	port = (unsigned)strtoul(argv[2], NULL, 10);
	if (argc == 5)
		timeout_ms = (unsigned)strtoul(argv[4], NULL, 10);
	for (op = 0; op < sizeof(ops) / sizeof(ops[0]); op++)
		if (strcmp(argv[3], ops[op]) == 0)
			break;
	if (op == sizeof(ops) / sizeof(ops[0]))
		goto usage;
	log_init(LOG_LEVEL_WARNING);
	base = event_base_new();
	h = http_new(base);
	switch ((enum bridge_op)op) {
	case BRIDGE_OP_STATS:
		c = bridge_stats(h, argv[1], port, timeout_ms, probe_done, NULL);
		break;
	case BRIDGE_OP_DRAIN_GET:
		c = bridge_drain_get(h, argv[1], port, timeout_ms, probe_done,
		    NULL);
		break;
	case BRIDGE_OP_DRAIN_ENABLE:
	case BRIDGE_OP_DRAIN_DISABLE:
		c = bridge_drain_set(h, argv[1], port,
		    op == BRIDGE_OP_DRAIN_ENABLE, timeout_ms, probe_done, NULL);
		break;
	case BRIDGE_OP_SHUTDOWN_GRACEFUL:
	case BRIDGE_OP_SHUTDOWN_FORCED:
		c = bridge_shutdown(h, argv[1], port,
		    op == BRIDGE_OP_SHUTDOWN_GRACEFUL, timeout_ms, probe_done,
		    NULL);
		break;
	case BRIDGE_OP_HEALTH:
		c = bridge_health(h, argv[1], port, timeout_ms, probe_done,
		    NULL);
		break;
	case BRIDGE_OP_VERSION:
		c = bridge_version(h, argv[1], port, timeout_ms, probe_done,
		    NULL);
		break;
	case BRIDGE_OP_DEBUG:
		c = bridge_debug(h, argv[1], port, timeout_ms, probe_done, NULL);
		break;
	}
	if (c == NULL) {
		fprintf(stderr, "call did not start: %s\n", strerror(errno));
		http_free(h);
		event_base_free(base);
		return 3;
	}
	/* The call's own timeout bounds this. */
	event_base_dispatch(base);
	http_free(h);
	event_base_free(base);
	return done ? 0 : 1;
usage:
	fprintf(stderr, "usage: test_bridge_probe <ip> <port> <op> "
	    "[timeout_ms]\n");
	return 2;
}
