/*
 * libstrophe on the libevent loop, for every bridge of the process: one
 * xmpp_ctx_t; a read watch on each connection's socket (found through
 * xmpp_conn_set_sockopt_callback) and a periodic tick, both of which call
 * xmpp_run_once(ctx, 0); never xmpp_run(), never a thread.
 *
 * xmpp_run_once() select()s on the sockets, so a socket numbered
 * FD_SETSIZE or above cannot be watched.  While an xloop exists it keeps
 * every free descriptor below FD_SETSIZE occupied by a placeholder and
 * hands one back just before libstrophe creates a socket, so the other
 * sockets of the process (HTTP listeners and accepted connections) land
 * above FD_SETSIZE and up to ~1000 XMPP connections fit.
 */
#ifndef FB_XLOOP_H
#define FB_XLOOP_H

#include <stdbool.h>
#include <sys/queue.h>
#include <strophe.h>

struct event;
struct event_base;
struct xloop;

/*
 * Logins are let through a few at a time, as a fleet's bridges do not all
 * boot in the same second: hundreds of simultaneous logins overflow the
 * server's listen backlog and time out its binds.
 */
#define XLOOP_MAX_CONNECTING	16

struct xloop_waiter {
	TAILQ_ENTRY(xloop_waiter) entry;
	struct event	*ev;		/* not owned; activated when granted */
	bool		 queued;
	bool		 granted;
};

/* One per process (the sockopt callback has no user data). */
struct xloop *xloop_new(struct event_base *base, bool debug);
/* Connections must all have been released. */
void xloop_free(struct xloop *x);
xmpp_ctx_t *xloop_ctx(struct xloop *x);
/* Set up conn to be watched; call before xmpp_connect_client(). */
void xloop_prepare(struct xloop *x, xmpp_conn_t *conn);
/* Bracket xmpp_connect_client() with these two. */
void xloop_before_connect(struct xloop *x);
void xloop_after_connect(struct xloop *x);
/* Stop watching conn's socket (after it closed, or before release). */
void xloop_unwatch(struct xloop *x, xmpp_conn_t *conn);
/* Cut conn's TCP connection without a stream close (a SIGKILL). */
void xloop_cut(struct xloop *x, xmpp_conn_t *conn);
/* Run libstrophe soon (something was queued). */
void xloop_kick(struct xloop *x);

/*
 * A login may start now (true); or w is queued and w->ev activated once
 * one may (call again then).  Each true is paired with xloop_slot_give().
 */
bool xloop_slot_take(struct xloop *x, struct xloop_waiter *w);
void xloop_slot_give(struct xloop *x);
/* Leave the queue (and give back a slot granted but not used). */
void xloop_slot_cancel(struct xloop *x, struct xloop_waiter *w);

#endif
