/*
 * The colibri REST client: one bridge's private HTTP server (jvb-api.md
 * sections 1-2), over the loop's HTTP adapter (handler/http.h).
 *
 * Every call is asynchronous and bounded by its timeout.  A call returns a
 * handle, and then exactly one of two things happens: its callback runs
 * once, on the loop (never from inside the starting function), after which
 * the handle is gone; or bridge_call_cancel() frees it and the callback
 * never runs.  A call that cannot start (invalid address or port) returns
 * NULL with errno = EINVAL and no callback.
 *
 * Failures are told apart and named in result.diagnosis, which says what to
 * change on the bridge where that is the likely fix (a 404 names the
 * switch that turns the endpoint on and the private/public port mix-up; a
 * refused connection names the private server's bind address).  Every byte
 * from the bridge that reaches diagnosis is sanitized to printable ASCII.
 * This file logs nothing above debug: the caller decides and logs.
 */
#ifndef JL_DRAIN_BRIDGE_H
#define JL_DRAIN_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "drain/presence.h"

struct http;
struct bridge_call;

#define BRIDGE_DEFAULT_PORT		8080
#define BRIDGE_DEFAULT_TIMEOUT_MS	5000
/* Responses larger than this are refused (BRIDGE_BAD_JSON). */
#define BRIDGE_MAX_RESPONSE		(256 * 1024)
/* /debug lists every conference: it gets more room. */
#define BRIDGE_MAX_DEBUG_RESPONSE	(1024 * 1024)
#define BRIDGE_IP_MAX			47	/* "[" IPv6 "]" */

enum bridge_op {
	BRIDGE_OP_STATS,		/* GET /colibri/stats */
	BRIDGE_OP_DRAIN_GET,		/* GET /colibri/drain */
	BRIDGE_OP_DRAIN_ENABLE,		/* POST /colibri/drain/enable */
	BRIDGE_OP_DRAIN_DISABLE,	/* POST /colibri/drain/disable */
	BRIDGE_OP_SHUTDOWN_GRACEFUL,	/* POST /colibri/shutdown, true */
	BRIDGE_OP_SHUTDOWN_FORCED,	/* POST /colibri/shutdown, false */
	BRIDGE_OP_HEALTH,		/* GET /about/health */
	BRIDGE_OP_VERSION,		/* GET /about/version */
	BRIDGE_OP_DEBUG,		/* GET /debug */
};

enum bridge_outcome {
	BRIDGE_OK,		/* the bridge answered, and the answer is
				   usable (an unhealthy /about/health too) */
	BRIDGE_NOT_FOUND,	/* 404: endpoint switched off, old bridge, or
				   the public (websocket) port */
	BRIDGE_REFUSED,		/* connection refused: nothing listens there
				   (private server bound to 127.0.0.1, wrong
				   port, or the bridge has exited) */
	BRIDGE_TIMEOUT,		/* no complete answer within the timeout */
	BRIDGE_BAD_JSON,	/* 2xx whose body is not what the API
				   promises (not JSON, wrong types, too big) */
	BRIDGE_HTTP_ERROR,	/* any other status (400, 405, 415, 500...) */
	BRIDGE_UNREACHABLE,	/* no route, reset, TLS/protocol failure */
};

enum bridge_shutdown_state {
	BRIDGE_STATE_UNKNOWN,
	BRIDGE_STATE_RUNNING,
	BRIDGE_STATE_GRACEFUL_SHUTDOWN,
	BRIDGE_STATE_SHUTTING_DOWN,
};

struct bridge_version {
	char	 name[32];	/* "JVB" */
	char	 version[64];	/* "2.3.215-gbee626bf"; printable ASCII */
	char	 os[32];
};

struct bridge_debug {
	enum bridge_shutdown_state state;	/* shutdown_state */
	bool	 has_drain, drain;
	int	 conferences;		/* entries of "conferences", or -1 */
	bool	 health_known, healthy;	/* health.success */
};

struct bridge_result {
	enum bridge_op		 op;
	enum bridge_outcome	 outcome;
	long			 status;	/* HTTP status, 0 if none */
	double			 elapsed_s;
	/* Always set: "" is never left; for OK a short summary. */
	char			 diagnosis[512];
	/* OP_STATS and OK: counters as presence.h defines them. */
	struct colibri_stats	 stats;
	/* OP_DRAIN_GET and OK: the bridge's drain flag.  For enable and
	 * disable with OK: the state asked for (the bridge sends no body). */
	bool			 drain;
	/* OP_HEALTH and OK: 200 -> true; 500 or 503 (the bridge's own
	 * verdict, its message in diagnosis) -> false. */
	bool			 healthy;
	struct bridge_version	 version;	/* OP_VERSION and OK */
	struct bridge_debug	 debug;		/* OP_DEBUG and OK */
};

typedef void (*bridge_done_cb)(const struct bridge_result *res, void *arg);

/*
 * ip: a dotted quad ("10.0.3.17") or an IPv6 address, bare or in brackets
 * ("[fd00::5]"); nothing else (no names, zones, ports or spaces).
 * port: 1..65535.  timeout_ms: the whole call, connect included (0: the
 * default).  The result passed to cb is valid only during the callback.
 */
struct bridge_call *bridge_stats(struct http *h, const char *ip,
    unsigned port, unsigned timeout_ms, bridge_done_cb cb, void *arg);
struct bridge_call *bridge_drain_get(struct http *h, const char *ip,
    unsigned port, unsigned timeout_ms, bridge_done_cb cb, void *arg);
struct bridge_call *bridge_drain_set(struct http *h, const char *ip,
    unsigned port, bool on, unsigned timeout_ms, bridge_done_cb cb,
    void *arg);
struct bridge_call *bridge_shutdown(struct http *h, const char *ip,
    unsigned port, bool graceful, unsigned timeout_ms, bridge_done_cb cb,
    void *arg);
struct bridge_call *bridge_health(struct http *h, const char *ip,
    unsigned port, unsigned timeout_ms, bridge_done_cb cb, void *arg);
struct bridge_call *bridge_version(struct http *h, const char *ip,
    unsigned port, unsigned timeout_ms, bridge_done_cb cb, void *arg);
struct bridge_call *bridge_debug(struct http *h, const char *ip,
    unsigned port, unsigned timeout_ms, bridge_done_cb cb, void *arg);

/* Forget a call whose callback has not run yet; NULL is fine. */
void bridge_call_cancel(struct bridge_call *call);

/* True for an address the calls accept (see above). */
bool bridge_valid_ip(const char *ip);

/*
 * The pure halves, for tests and fuzzing: fill res (op, outcome, status and
 * body as the HTTP layer reported them; error is 0 or its negative errno).
 */
void bridge_result_from_response(struct bridge_result *res,
    enum bridge_op op, const char *ip, unsigned port, int error,
    long status, const char *body, size_t body_len);

const char *bridge_outcome_name(enum bridge_outcome o);
const char *bridge_op_name(enum bridge_op op);
const char *bridge_state_name(enum bridge_shutdown_state s);

#endif
