/*
 * sd_notify(3) for the daemon.  The watchdog timer lives on the daemon's
 * own loop, never in a thread: if the loop stops turning, the pings stop
 * and systemd (WatchdogSec=) restarts the service.  STATUS= is re-sent
 * only when its text changes, at most every NOTIFY_STATUS_INTERVAL_MS.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drain/brewery.h"
#include "handler/action.h"
#include "handler/config.h"
#include "handler/ctx.h"
#include "handler/log.h"
#include "handler/notify.h"
#include "handler/receiver.h"
#include "handler/sdnotify.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"

#define NOTIFY_STATUS_INTERVAL_MS	5000

struct notify {
	struct ctx	*ctx;
	bool		 enabled;	/* NOTIFY_SOCKET names a unix socket */
	uint64_t	 interval_ms;	/* watchdog pings; 0: none */
	struct event	*watchdog;	/* owned; NULL without a watchdog */
	struct event	*status;	/* owned; NULL when not enabled */
	bool		 warned;	/* a send failed (said once) */
	char		 last[256];	/* the STATUS= text last sent */
};

static void
notify_send(struct notify *n, const char *msg)
{
	int r;

	if (!n->enabled)
		return;
	if ((r = sdnotify_send(msg)) < 0 && !n->warned) {
		n->warned = true;
		log_warnx("systemd notify: cannot send to NOTIFY_SOCKET: %s",
		    strerror(-r));
	}
}

void
notify_status_text(const struct ctx *ctx, char *out, size_t len)
{
	unsigned launching = 0, terminating = 0, open;
	int64_t since = 0;
	char receiving[48] = "ok";
	const char *brewery = "";

	action_count_open(ctx, &launching, &terminating);
	open = launching + terminating;
	if (ctx->receiver != NULL &&
	    (since = receiver_failing_since(ctx->receiver)) != 0)
		snprintf(receiving, sizeof(receiving), "failing for %llds",
		    (long long)((timeutil_mono_ms() - since) / 1000));
	if (ctx->brewery != NULL)
		brewery = brewery_joined(ctx->brewery) ? "; brewery joined" :
		    "; brewery not joined";
	snprintf(out, len, "%s%u open action%s (%u terminating, %u "
	    "launching); receiving %s%s%s", ctx->stopping ? "stopping: " : "",
	    open, open == 1 ? "" : "s", terminating, launching, receiving,
	    brewery, ctx->cfg != NULL && ctx->cfg->daemon.dry_run ?
	    "; dry run" : "");
}

static void
notify_status_now(struct notify *n, bool force)
{
	char text[sizeof(n->last)], msg[sizeof(n->last) + 16];

	notify_status_text(n->ctx, text, sizeof(text));
	if (!force && strcmp(text, n->last) == 0)
		return;
	memcpy(n->last, text, sizeof(n->last));
	snprintf(msg, sizeof(msg), "STATUS=%s", text);
	notify_send(n, msg);
}

static void
notify_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	notify_send(arg, "WATCHDOG=1");
}

static void
notify_status_cb(evutil_socket_t fd, short what, void *arg)
{
	notify_status_now(arg, false);
}

static struct event *
notify_timer(struct notify *n, uint64_t ms, event_callback_fn cb)
{
	struct timeval tv = { (time_t)(ms / 1000),
	    (suseconds_t)(ms % 1000 * 1000) };
	struct event *ev;

	if ((ev = event_new(n->ctx->base, -1, EV_PERSIST, cb, n)) == NULL)
		fatalx("notify: event_new");
	if (event_add(ev, &tv) != 0)
		fatalx("notify: event_add");
	return ev;
}

struct notify *
notify_new(struct ctx *ctx)
{
	struct notify *n = xcalloc(1, sizeof(*n));
	uint64_t usec;

	n->ctx = ctx;
	n->enabled = sdnotify_enabled();
	if (n->enabled && (usec = sdnotify_watchdog_usec()) > 0) {
		/* half the timeout: one lost ping is survivable */
		n->interval_ms = usec / 2000;
		if (n->interval_ms == 0)
			n->interval_ms = 1;
	}
	if (!n->enabled)
		return n;
	if (n->interval_ms > 0) {
		n->watchdog = notify_timer(n, n->interval_ms,
		    notify_watchdog_cb);
		log_info("systemd watchdog: a ping every %llu ms",
		    (unsigned long long)n->interval_ms);
	}
	n->status = notify_timer(n, NOTIFY_STATUS_INTERVAL_MS,
	    notify_status_cb);
	return n;
}

void
notify_free(struct notify *n)
{
	if (n == NULL)
		return;
	if (n->watchdog != NULL)
		event_free(n->watchdog);
	if (n->status != NULL)
		event_free(n->status);
	free(n);
}

void
notify_ready(struct notify *n)
{
	char text[sizeof(n->last)], msg[sizeof(n->last) + 32];

	if (n == NULL || !n->enabled)
		return;
	notify_status_text(n->ctx, text, sizeof(text));
	memcpy(n->last, text, sizeof(n->last));
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", text);
	notify_send(n, msg);
	/* a ping right away: the first timer tick is half a period off */
	if (n->watchdog != NULL)
		notify_send(n, "WATCHDOG=1");
}

void
notify_stopping(struct notify *n)
{
	if (n == NULL || !n->enabled)
		return;
	notify_send(n, "STOPPING=1");
	notify_status_now(n, true);
}

uint64_t
notify_watchdog_interval_ms(const struct notify *n)
{
	return n != NULL ? n->interval_ms : 0;
}
