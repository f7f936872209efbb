/*
 * The admin HTTP endpoint ([daemon] admin, loopback by default), on the
 * daemon's loop through libevent's evhttp.  GET only:
 *   /metrics  Prometheus text (version 0.0.4), from metrics_render()
 *   /healthz  200 "ok", or 503 with the reasons: receiving from the queue
 *             or getting AWS credentials has failed for longer than
 *             [daemon] health_threshold, or the daemon is stopping
 *   /status   JSON: the daemon, its links, and every open action
 * Responses are small and bounded, and carry no secret.
 */
#ifndef JL_ADMIN_H
#define JL_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

struct ctx;
struct admin;
struct buf;

/* Listening on host:port; NULL (logged) when that cannot be bound. */
struct admin *admin_new(struct ctx *ctx, const char *host, unsigned port);
/* Closes the listener and any connection; NULL is fine. */
void admin_free(struct admin *a);

/*
 * The health verdict now: true when healthy.  Each reason is appended to
 * out as one line ending in "\n".
 */
bool admin_health(const struct admin *a, struct buf *out);

/* At most this many actions are listed in /status (the count is exact). */
#define ADMIN_MAX_STATUS_ACTIONS	1000

#endif
