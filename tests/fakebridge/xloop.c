/*
 * libstrophe driven by libevent; see xloop.h.  libstrophe gives no way to
 * get a connection's socket except the sockopt callback, which runs for
 * every socket it creates, before connect(), with the connection but no
 * user data: hence the one-per-process pointer.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handler/log.h"
#include "handler/xmalloc.h"
#include "tests/fakebridge/xloop.h"

/* How often libstrophe runs without socket activity: its timed handlers,
 * connects completing, TLS bytes buffered inside OpenSSL. */
#define XLOOP_TICK_MS		50

struct xloop_watch {
	LIST_ENTRY(xloop_watch) entry;
	xmpp_conn_t	*conn;		/* not owned */
	int		 fd;		/* libstrophe's */
	struct event	*ev;		/* owned */
};

struct xloop {
	struct event_base *base;	/* not owned */
	xmpp_ctx_t	*ctx;		/* owned */
	xmpp_log_t	 log;
	bool		 debug;		/* pass libstrophe's debug lines */
	struct event	*tick;		/* owned */
	struct event	*run;		/* owned; "run soon" */
	LIST_HEAD(, xloop_watch) watches;
	TAILQ_HEAD(, xloop_waiter) waiters;
	unsigned	 connecting;	/* slots taken */
	int		 devnull;	/* -1: no reserve */
	bool		 reserved[FD_SETSIZE];	/* placeholder fds */
};

static struct xloop *xloop_one;

static void
xloop_log(void *userdata, xmpp_log_level_t level, const char *area,
    const char *msg)
{
	struct xloop *x = userdata;

	/* libstrophe's debug lines show every stanza, the SASL exchange
	 * included: only when asked for (FAKEBRIDGE_XMPP_DEBUG). */
	switch (level) {
	case XMPP_LEVEL_ERROR:
		log_warnx("xmpp %s: %s", area, msg);
		break;
	case XMPP_LEVEL_WARN:
		log_info("xmpp %s: %s", area, msg);
		break;
	default:
		if (x->debug)
			log_debug("xmpp %s: %s", area, msg);
		break;
	}
}

/* Take every free descriptor below FD_SETSIZE. */
static void
xloop_refill(struct xloop *x)
{
	int fd;

	if (x->devnull < 0)
		return;
	for (;;) {
		fd = fcntl(x->devnull, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return;
		if (fd >= FD_SETSIZE) {
			close(fd);
			return;
		}
		x->reserved[fd] = true;
	}
}

static void
xloop_run_now(struct xloop *x)
{
	xmpp_run_once(x->ctx, 0);
	xloop_refill(x);
}

static void
xloop_run_cb(evutil_socket_t fd, short what, void *arg)
{
	xloop_run_now(arg);
}

static void
xloop_watch_cb(evutil_socket_t fd, short what, void *arg)
{
	/* Many readable sockets in one loop pass give one run. */
	xloop_kick(arg);
}

void
xloop_kick(struct xloop *x)
{
	event_active(x->run, EV_TIMEOUT, 0);
}

static struct xloop_watch *
xloop_find(struct xloop *x, xmpp_conn_t *conn)
{
	struct xloop_watch *w;

	LIST_FOREACH(w, &x->watches, entry)
		if (w->conn == conn)
			return w;
	return NULL;
}

static int
xloop_sockopt(xmpp_conn_t *conn, void *sockp)
{
	struct xloop *x = xloop_one;
	struct xloop_watch *w;
	int fd = *(int *)sockp;

	if (x == NULL)
		return -1;
	if (fd >= FD_SETSIZE) {
		/* select() in xmpp_run_once() would write out of bounds. */
		log_warnx("xmpp: socket %d is above FD_SETSIZE; "
		    "too many XMPP connections in one process", fd);
		return -1;
	}
	if ((w = xloop_find(x, conn)) == NULL) {
		w = xcalloc(1, sizeof(*w));
		w->conn = conn;
		LIST_INSERT_HEAD(&x->watches, w, entry);
	} else if (w->ev != NULL) {
		event_free(w->ev);
		w->ev = NULL;
	}
	w->fd = fd;
	w->ev = event_new(x->base, fd, EV_READ | EV_PERSIST, xloop_watch_cb,
	    x);
	if (w->ev == NULL || event_add(w->ev, NULL) == -1)
		return -1;
	return 0;
}

struct xloop *
xloop_new(struct event_base *base, bool debug)
{
	struct timeval tv = { 0, XLOOP_TICK_MS * 1000 };
	struct rlimit rl;
	struct xloop *x;

	if (xloop_one != NULL)
		fatalx("xloop_new: one per process");
	x = xcalloc(1, sizeof(*x));
	x->base = base;
	LIST_INIT(&x->watches);
	TAILQ_INIT(&x->waiters);
	xmpp_initialize();
	x->debug = debug;
	x->log.handler = xloop_log;
	x->log.userdata = x;
	if ((x->ctx = xmpp_ctx_new(NULL, &x->log)) == NULL)
		fatalx("xmpp_ctx_new");
	xmpp_ctx_set_timeout(x->ctx, 0);
	x->tick = event_new(base, -1, EV_PERSIST, xloop_run_cb, x);
	x->run = event_new(base, -1, 0, xloop_run_cb, x);
	if (x->tick == NULL || x->run == NULL)
		fatalx("event_new");
	event_add(x->tick, &tv);
	/* Reserve the low descriptors only when the others can go high. */
	x->devnull = -1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur > FD_SETSIZE + 256) {
		x->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		xloop_refill(x);
	}
	xloop_one = x;
	return x;
}

void
xloop_free(struct xloop *x)
{
	struct xloop_watch *w;
	int fd;

	if (x == NULL)
		return;
	while ((w = LIST_FIRST(&x->watches)) != NULL) {
		LIST_REMOVE(w, entry);
		if (w->ev != NULL)
			event_free(w->ev);
		free(w);
	}
	event_free(x->tick);
	event_free(x->run);
	xmpp_ctx_free(x->ctx);
	xmpp_shutdown();
	for (fd = 0; fd < FD_SETSIZE; fd++)
		if (x->reserved[fd])
			close(fd);
	if (x->devnull >= 0)
		close(x->devnull);
	xloop_one = NULL;
	free(x);
}

xmpp_ctx_t *
xloop_ctx(struct xloop *x)
{
	return x->ctx;
}

void
xloop_prepare(struct xloop *x, xmpp_conn_t *conn)
{
	xmpp_conn_set_sockopt_callback(conn, xloop_sockopt);
}

void
xloop_before_connect(struct xloop *x)
{
	int fd;

	/* socket() takes the lowest free number: make it one of ours. */
	for (fd = 0; fd < FD_SETSIZE; fd++) {
		if (x->reserved[fd]) {
			close(fd);
			x->reserved[fd] = false;
			return;
		}
	}
}

void
xloop_after_connect(struct xloop *x)
{
	xloop_refill(x);
	xloop_kick(x);
}

void
xloop_unwatch(struct xloop *x, xmpp_conn_t *conn)
{
	struct xloop_watch *w = xloop_find(x, conn);

	if (w == NULL)
		return;
	LIST_REMOVE(w, entry);
	if (w->ev != NULL)
		event_free(w->ev);
	free(w);
}

void
xloop_cut(struct xloop *x, xmpp_conn_t *conn)
{
	struct xloop_watch *w = xloop_find(x, conn);

	/* libstrophe then reads EOF and disconnects by itself. */
	if (w != NULL && xmpp_conn_is_connected(conn))
		shutdown(w->fd, SHUT_RDWR);
	xloop_kick(x);
}

bool
xloop_slot_take(struct xloop *x, struct xloop_waiter *w)
{
	if (w->granted) {
		w->granted = false;
		return true;
	}
	if (w->queued)
		return false;
	if (x->connecting < XLOOP_MAX_CONNECTING) {
		x->connecting++;
		return true;
	}
	w->queued = true;
	TAILQ_INSERT_TAIL(&x->waiters, w, entry);
	return false;
}

void
xloop_slot_give(struct xloop *x)
{
	struct xloop_waiter *w;

	/* The slot goes straight to the first in line. */
	if ((w = TAILQ_FIRST(&x->waiters)) != NULL) {
		TAILQ_REMOVE(&x->waiters, w, entry);
		w->queued = false;
		w->granted = true;
		event_active(w->ev, EV_TIMEOUT, 0);
		return;
	}
	if (x->connecting > 0)
		x->connecting--;
}

void
xloop_slot_cancel(struct xloop *x, struct xloop_waiter *w)
{
	if (w->queued) {
		TAILQ_REMOVE(&x->waiters, w, entry);
		w->queued = false;
	}
	if (w->granted) {
		w->granted = false;
		xloop_slot_give(x);
	}
}
