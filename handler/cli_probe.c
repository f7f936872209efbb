/*
 * `jvb-lifecycled probe-bridge HOST`: is this bridge's REST API usable for
 * draining, and if not, what exactly to change.  Read-only by design: only
 * the GET calls of drain/bridge.h are made (never drain, never shutdown),
 * all at once, each bounded by the bridge timeout.  The shutdown switch
 * cannot be seen without using it, and the verdict says so.
 */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drain/bridge.h"
#include "handler/cli_cmd.h"
#include "handler/config.h"
#include "handler/http.h"
#include "handler/log.h"

enum {
	PROBE_VERSION,
	PROBE_HEALTH,
	PROBE_STATS,
	PROBE_DRAIN,
	PROBE_DEBUG,
	PROBE_N,
};

struct cli_probe_slot {
	const char		*method;
	const char		*path;
	bool			 done;
	struct bridge_result	 res;	/* a copy, taken in the callback */
};

struct cli_probe {
	struct cli_probe_slot	 slot[PROBE_N];
};

static void
cli_probe_usage(FILE *fp)
{
	fprintf(fp,
"usage: jvb-lifecycled probe-bridge HOST [--port N] [--timeout D] [-c FILE]\n"
"\n"
"Check a bridge's private REST API the way the daemon uses it: is it\n"
"reachable, which endpoints are on, its drain and shutdown state, its\n"
"stats; then a verdict with the exact bridge settings to change.  Only\n"
"reads: the bridge is never drained or shut down by a probe.\n"
"Exit 0 when the bridge is usable for draining, 1 otherwise.\n"
"\n"
"  HOST               the bridge's private address (or a name for it)\n"
"  --port N           its REST port (default: [bridge] port, else 8080)\n"
"  --timeout D        per call, e.g. 2s (default: [bridge] timeout, 5s)\n"
"  -c, --config FILE  read [bridge] from FILE (default %s, if present)\n",
	    CLI_DEFAULT_CONFIG);
}

static void
cli_probe_done(const struct bridge_result *res, void *arg)
{
	struct cli_probe_slot *s = arg;

	s->res = *res;
	s->done = true;
}

static const char *
cli_probe_state(enum bridge_shutdown_state st)
{
	switch (st) {
	case BRIDGE_STATE_RUNNING:
		return "running";
	case BRIDGE_STATE_GRACEFUL_SHUTDOWN:
		return "in graceful shutdown";
	case BRIDGE_STATE_SHUTTING_DOWN:
		return "shutting down";
	default:
		return "state unknown";
	}
}

/* A diagnosis without its "METHOD PATH on IP:PORT: " head. */
static const char *
cli_probe_tail(const struct cli_probe_slot *s)
{
	const char *d = s->res.diagnosis, *colon;
	size_t ml = strlen(s->method), pl = strlen(s->path);

	if (strncmp(d, s->method, ml) == 0 && d[ml] == ' ' &&
	    strncmp(d + ml + 1, s->path, pl) == 0 &&
	    strncmp(d + ml + 1 + pl, " on ", 4) == 0 &&
	    (colon = strstr(d + ml + 1 + pl, ": ")) != NULL)
		return colon + 2;
	return d;
}

/* What an OK answer says, in a few words. */
static void
cli_probe_summary(const struct cli_probe_slot *s, char *out, size_t len)
{
	const struct bridge_result *r = &s->res;
	const struct colibri_stats *st = &r->stats;
	char v[80], o[40], n[40];

	switch (r->op) {
	case BRIDGE_OP_VERSION:
		cli_sanitize(v, sizeof(v), r->version.version);
		cli_sanitize(n, sizeof(n), r->version.name);
		cli_sanitize(o, sizeof(o), r->version.os);
		snprintf(out, len, "%s %s%s%s%s", n, v, o[0] ? " (" : "", o,
		    o[0] ? ")" : "");
		break;
	case BRIDGE_OP_HEALTH:
		if (r->healthy)
			snprintf(out, len, "healthy");
		else
			cli_sanitize(out, len, cli_probe_tail(s));
		break;
	case BRIDGE_OP_STATS:
		if (st->local_endpoints >= 0)
			snprintf(n, sizeof(n), "%d local endpoint%s",
			    st->local_endpoints,
			    st->local_endpoints == 1 ? "" : "s");
		else if (st->participants >= 0)
			snprintf(n, sizeof(n), "%d participant%s",
			    st->participants, st->participants == 1 ? "" : "s");
		else
			snprintf(n, sizeof(n), "participants unknown");
		snprintf(out, len, "%s, %d conference%s, drain %s, %s", n,
		    st->conferences, st->conferences == 1 ? "" : "s",
		    !st->has_drain ? "unknown" : st->drain ? "on" : "off",
		    st->shutting_down ? "shutting down" :
		    st->graceful_shutdown ? "in graceful shutdown" :
		    "running");
		break;
	case BRIDGE_OP_DRAIN_GET:
		snprintf(out, len, "drain %s", r->drain ? "on" : "off");
		break;
	case BRIDGE_OP_DEBUG:
		snprintf(out, len, "%s, %d conference%s%s",
		    cli_probe_state(r->debug.state), r->debug.conferences,
		    r->debug.conferences == 1 ? "" : "s",
		    r->debug.has_drain ? (r->debug.drain ? ", drain on" :
		    ", drain off") : "");
		break;
	default:
		cli_sanitize(out, len, r->diagnosis);
		break;
	}
}

static const char *
cli_probe_outcome(const struct bridge_result *r)
{
	switch (r->outcome) {
	case BRIDGE_OK:
		return r->op == BRIDGE_OP_HEALTH && !r->healthy ? "UNHEALTHY" :
		    "ok";
	case BRIDGE_NOT_FOUND:
		return "NOT FOUND";
	case BRIDGE_REFUSED:
		return "REFUSED";
	case BRIDGE_TIMEOUT:
		return "TIMEOUT";
	case BRIDGE_BAD_JSON:
		return "BAD ANSWER";
	case BRIDGE_HTTP_ERROR:
		return "HTTP ERROR";
	case BRIDGE_UNREACHABLE:
		return "UNREACHABLE";
	}
	return "?";
}

static bool
cli_probe_all(const struct cli_probe *p, enum bridge_outcome o)
{
	size_t i;

	for (i = 0; i < PROBE_N; i++)
		if (p->slot[i].res.outcome != o)
			return false;
	return true;
}

static bool
cli_probe_none_ok(const struct cli_probe *p)
{
	size_t i;

	for (i = 0; i < PROBE_N; i++)
		if (p->slot[i].res.outcome == BRIDGE_OK)
			return false;
	return true;
}

#define FIX_BIND \
	"on the bridge, bind its private HTTP server (the REST API) to an " \
	"address this host reaches: in jvb.conf videobridge.http-servers." \
	"private.host = 0.0.0.0 (or its private address), port 8080 " \
	"(videobridge.http-servers.private.port); scripts/jvb-bootstrap " \
	"does this"
#define FIX_COLIBRI \
	"in jvb.conf set videobridge.apis.rest.enabled = true and " \
	"videobridge.rest.shutdown.enabled = true, then restart the bridge " \
	"(Docker: COLIBRI_REST_ENABLED=true and SHUTDOWN_REST_ENABLED=true)"

/* Prints the verdict; true when the bridge can be drained. */
static bool
cli_probe_verdict(const struct cli_probe *p, const char *ip, unsigned port,
    unsigned timeout_ms)
{
	const struct bridge_result *stats = &p->slot[PROBE_STATS].res;
	const struct bridge_result *health = &p->slot[PROBE_HEALTH].res;
	const struct bridge_result *drain = &p->slot[PROBE_DRAIN].res;
	const struct bridge_result *dbg = &p->slot[PROBE_DEBUG].res;
	char diag[600], d[32];

	printf("\n");
	if (cli_probe_all(p, BRIDGE_REFUSED)) {
		printf("verdict: NOT USABLE: nothing listens on %s:%u "
		    "(connection refused).\n", ip, port);
		printf("fix: %s.  Here, [bridge] port must be that port (now "
		    "%u).  Or the bridge is not running.\n", FIX_BIND, port);
		return false;
	}
	if (cli_probe_all(p, BRIDGE_TIMEOUT)) {
		printf("verdict: NOT USABLE: no answer from %s:%u within %s.\n",
		    ip, port, cli_duration(timeout_ms, d, sizeof(d)));
		printf("fix: a firewall or security group drops TCP port %u "
		    "from this host (allow it from the control host), or "
		    "the bridge is overloaded or hung.\n", port);
		return false;
	}
	if (cli_probe_none_ok(p) && stats->outcome == BRIDGE_NOT_FOUND) {
		printf("verdict: NOT USABLE: %s:%u answers 404 for every "
		    "bridge endpoint: it is not the bridge's private HTTP "
		    "server.\n", ip, port);
		printf("fix: %sthe REST API (/colibri/*, /about/health) is "
		    "on the private server, port 8080 by default; port 9090 "
		    "is usually the public websocket server "
		    "(videobridge.http-servers.public), which answers 404.  "
		    "Set [bridge] port = 8080 here; and %s.\n",
		    port == 9090 ? "this is port 9090: " : "", FIX_BIND);
		return false;
	}
	if (cli_probe_none_ok(p)) {
		cli_sanitize(diag, sizeof(diag), stats->diagnosis);
		printf("verdict: NOT USABLE: no endpoint answered usably; "
		    "the first problem: %s\n", diag);
		return false;
	}
	if (stats->outcome == BRIDGE_NOT_FOUND) {
		printf("verdict: NOT USABLE: the bridge answers, but its "
		    "COLIBRI REST API is off: no /colibri/stats, and no "
		    "/colibri/shutdown (it needs COLIBRI too), so it cannot "
		    "be shut down gracefully over REST%s.\n",
		    drain->outcome == BRIDGE_OK ? "; drain mode alone never "
		    "empties a bridge" : "");
		printf("fix: %s.\n", FIX_COLIBRI);
		return false;
	}
	if (stats->outcome != BRIDGE_OK) {
		cli_sanitize(diag, sizeof(diag), stats->diagnosis);
		printf("verdict: NOT USABLE: the bridge answers, but "
		    "GET /colibri/stats failed: %s\n", diag);
		return false;
	}
	printf("verdict: USABLE for draining: the REST API answers on "
	    "%s:%u.\n", ip, port);
	if (stats->stats.shutting_down ||
	    dbg->debug.state == BRIDGE_STATE_SHUTTING_DOWN)
		printf("note: the bridge is already shutting down; it exits "
		    "by itself after its shutting-down delay.\n");
	else if (stats->stats.graceful_shutdown ||
	    dbg->debug.state == BRIDGE_STATE_GRACEFUL_SHUTDOWN)
		printf("note: the bridge is already in graceful shutdown.\n");
	if (drain->outcome == BRIDGE_NOT_FOUND)
		printf("note: GET /colibri/drain answers 404 (videobridge.rest."
		    "drain.enabled = false, or a bridge older than 2022-01): "
		    "the drain goes on with the graceful shutdown alone.\n");
	if (health->outcome == BRIDGE_OK && !health->healthy)
		printf("note: the bridge reports itself unhealthy; that does "
		    "not stop a drain.\n");
	printf("note: shutdown over REST also needs videobridge.rest."
	    "shutdown.enabled = true (off by default); a probe cannot see "
	    "it without shutting the bridge down, so check jvb.conf.\n");
	return true;
}

/*
 * A failure's diagnosis without its head (the columns say it), and "as
 * above" when it repeats the previous one.
 */
static void
cli_probe_failure(const struct cli_probe_slot *s, char *prev, size_t plen,
    char *out, size_t len)
{
	char text[600];

	cli_sanitize(text, sizeof(text), cli_probe_tail(s));
	if (strcmp(text, prev) == 0) {
		snprintf(out, len, "(as above)");
		return;
	}
	snprintf(prev, plen, "%s", text);
	snprintf(out, len, "%s", text);
}

static void
cli_probe_print(const struct cli_probe *p)
{
	char text[600], prev[600] = "";
	size_t i;

	for (i = 0; i < PROBE_N; i++) {
		const struct cli_probe_slot *s = &p->slot[i];

		if (s->res.outcome == BRIDGE_OK)
			cli_probe_summary(s, text, sizeof(text));
		else
			cli_probe_failure(s, prev, sizeof(prev), text,
			    sizeof(text));
		printf("  %-4s %-18s %-11s %s\n", s->method, s->path,
		    cli_probe_outcome(&s->res), text);
	}
	printf("  %-4s %-18s %-11s %s\n", "POST", "/colibri/drain/*",
	    "not tried", p->slot[PROBE_DRAIN].res.outcome == BRIDGE_OK ?
	    "it would change the bridge; on, since GET /colibri/drain "
	    "answers" : "it would change the bridge");
	printf("  %-4s %-18s %-11s %s\n", "POST", "/colibri/shutdown",
	    "not tried", "it would shut the bridge down; needs "
	    "videobridge.rest.shutdown.enabled = true and the COLIBRI API");
}

int
cli_probe_main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "port", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *port_arg = NULL, *tmo_arg = NULL;
	struct cli_probe p;
	struct config cfg;
	struct event_base *base;
	struct http *h;
	struct bridge_call *calls[PROBE_N];
	char ip[BRIDGE_IP_MAX + 1], host[256];
	unsigned port = BRIDGE_DEFAULT_PORT, timeout_ms =
	    BRIDGE_DEFAULT_TIMEOUT_MS;
	uint64_t ms;
	unsigned long ul;
	char *end;
	int ch, r;
	size_t i;
	bool ok;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'p':
			port_arg = optarg;
			break;
		case 't':
			tmo_arg = optarg;
			break;
		case 'h':
			cli_probe_usage(stdout);
			return 0;
		default:
			cli_probe_usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		cli_probe_usage(stderr);
		return 2;
	}
	log_init(LOG_LEVEL_WARNING);
	if ((r = cli_load_config(config, &cfg)) == 0) {
		port = cfg.bridge.port;
		timeout_ms = (unsigned)cfg.bridge.timeout_ms;
		config_free(&cfg);
	} else if (r != -ENOENT) {
		return 1;
	}
	if (port_arg != NULL) {
		errno = 0;
		ul = strtoul(port_arg, &end, 10);
		if (*port_arg < '0' || *port_arg > '9' || *end != '\0' ||
		    errno != 0 || ul < 1 || ul > 65535) {
			fprintf(stderr, "jvb-lifecycled probe-bridge: --port: "
			    "expected 1-65535\n");
			return 2;
		}
		port = (unsigned)ul;
	}
	if (tmo_arg != NULL) {
		if (config_parse_duration(tmo_arg, &ms) != 0 || ms < 100 ||
		    ms > 120000) {
			fprintf(stderr, "jvb-lifecycled probe-bridge: "
			    "--timeout: expected a duration from 100ms to "
			    "2m\n");
			return 2;
		}
		timeout_ms = (unsigned)ms;
	}
	cli_sanitize(host, sizeof(host), argv[optind]);
	if (cli_host_to_ip(argv[optind], ip, sizeof(ip)) != 0 ||
	    !bridge_valid_ip(ip)) {
		fprintf(stderr, "jvb-lifecycled probe-bridge: %s: not an "
		    "address, and no name that resolves to one\n", host);
		return 1;
	}
	if (strcmp(host, ip) != 0)
		printf("%s is %s\n", host, ip);
	printf("probing the bridge REST API on %s:%u (read-only: nothing "
	    "is changed)\n\n", ip, port);

	memset(&p, 0, sizeof(p));
	p.slot[PROBE_VERSION] = (struct cli_probe_slot){ "GET",
	    "/about/version", false, { .op = BRIDGE_OP_VERSION } };
	p.slot[PROBE_HEALTH] = (struct cli_probe_slot){ "GET",
	    "/about/health", false, { .op = BRIDGE_OP_HEALTH } };
	p.slot[PROBE_STATS] = (struct cli_probe_slot){ "GET",
	    "/colibri/stats", false, { .op = BRIDGE_OP_STATS } };
	p.slot[PROBE_DRAIN] = (struct cli_probe_slot){ "GET",
	    "/colibri/drain", false, { .op = BRIDGE_OP_DRAIN_GET } };
	p.slot[PROBE_DEBUG] = (struct cli_probe_slot){ "GET", "/debug",
	    false, { .op = BRIDGE_OP_DEBUG } };
	if ((base = event_base_new()) == NULL)
		return 1;
	h = http_new(base);
	calls[PROBE_VERSION] = bridge_version(h, ip, port, timeout_ms,
	    cli_probe_done, &p.slot[PROBE_VERSION]);
	calls[PROBE_HEALTH] = bridge_health(h, ip, port, timeout_ms,
	    cli_probe_done, &p.slot[PROBE_HEALTH]);
	calls[PROBE_STATS] = bridge_stats(h, ip, port, timeout_ms,
	    cli_probe_done, &p.slot[PROBE_STATS]);
	calls[PROBE_DRAIN] = bridge_drain_get(h, ip, port, timeout_ms,
	    cli_probe_done, &p.slot[PROBE_DRAIN]);
	calls[PROBE_DEBUG] = bridge_debug(h, ip, port, timeout_ms,
	    cli_probe_done, &p.slot[PROBE_DEBUG]);
	for (i = 0; i < PROBE_N; i++)
		if (calls[i] == NULL)
			fatalx("probe-bridge: a call did not start");
	/* each call's own timeout bounds this loop */
	for (;;) {
		for (i = 0; i < PROBE_N && p.slot[i].done; i++)
			;
		if (i == PROBE_N || event_base_loop(base, EVLOOP_ONCE) != 0)
			break;
	}
	http_free(h);
	event_base_free(base);
	for (i = 0; i < PROBE_N; i++)
		if (!p.slot[i].done)
			fatalx("probe-bridge: the loop ended early");
	cli_probe_print(&p);
	ok = cli_probe_verdict(&p, ip, port, timeout_ms);
	return ok ? 0 : 1;
}
