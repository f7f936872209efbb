/*
 * The XMPP client connection, driven by the daemon's libevent loop: no
 * xmpp_run(), no thread, no periodic polling once the session is up.
 *
 * How libstrophe (0.12) is run here (style-models.md §4, checked against
 * its src/event.c, conn.c, sock.c, tls_openssl.c):
 * - the socket is learned through the sockopt callback and watched with
 *   EV_READ|EV_PERSIST (plus EV_WRITE while TCP connects, or while our send
 *   queue is not empty); each wake-up calls xmpp_run_once(ctx, 0) again
 *   until a call does no work, because one call reads at most 4 KiB and
 *   bytes already decrypted inside OpenSSL do not make the fd readable;
 * - xconn_send() queues and activates a "kick" event that flushes on the
 *   next loop pass;
 * - keepalive is ours (XEP-0199 ping on a libevent timer; no answer within
 *   ping_timeout_s drops the link), so is the deadline for establishing a
 *   session, and reconnection uses capped exponential backoff with full
 *   jitter (handler/backoff.h);
 * - a one-second tick runs only while a session is being set up or torn
 *   down, for libstrophe's own timers;
 * - write interest follows libstrophe's send queue, counted from its own
 *   (never logged) "Q_ADD:"/"Q_SENT:" debug lines, because its public
 *   queue length hides a partly written item (TLS writes 16 KiB a call).
 *
 * Caveats that come from libstrophe:
 * - it resolves `server` with a synchronous getaddrinfo(): give an IP
 *   address or a name from /etc/hosts, never one that needs DNS (a warning
 *   is logged otherwise).  SRV records are never used.
 * - its TLS handshake is a blocking loop (SSL_connect + select, no
 *   deadline).  xconn bounds it: while a TLS session is being negotiated,
 *   each xmpp_run_once() runs under a POSIX timer (signal SIGRTMIN+5, owned
 *   by this file) that shuts the socket down after XCONN_TLS_GUARD_MS, so a
 *   server that stalls mid-handshake blocks the loop for at most that long.
 * - it writes with send(…, 0): the process must ignore SIGPIPE (xconn_new
 *   sets SIG_IGN if the disposition is still the default).
 * - with tls, the server certificate must be valid for `domain` (the XMPP
 *   domain, not `server`), signed by ca_file's CA or a system CA.
 * - the password is handed to libstrophe, which keeps copies; every block
 *   libstrophe frees is wiped first (our allocator hooks), as is ours.
 */
#ifndef JL_DRAIN_XCONN_H
#define JL_DRAIN_XCONN_H

#include <stdbool.h>
#include <stdint.h>
#include <strophe.h>

struct event_base;

#define XCONN_TLS_GUARD_MS	5000

struct xconn_config {
	const char *server;	/* host to connect to: IP or hosts-file name */
	unsigned    port;	/* 0: 5222 */
	const char *domain;	/* XMPP domain (JID domain, TLS name) */
	const char *username;	/* JID localpart */
	const char *password;	/* copied (and wiped on free) */
	bool	    tls;	/* true: STARTTLS required and verified */
	const char *ca_file;	/* NULL: system CAs only */
	unsigned    ping_interval_s;	/* 0: 30 */
	unsigned    ping_timeout_s;	/* 0: 10 */
	unsigned    connect_timeout_s;	/* TCP to session up; 0: 20 */
	unsigned    reconnect_min_ms;	/* 0: 500 */
	unsigned    reconnect_max_ms;	/* 0: 30000 */
};

struct xconn;

/*
 * Called from inside the loop, possibly from inside libstrophe: they may
 * call xconn_send/xconn_stop/xconn_free (free is deferred until libstrophe
 * has returned; no handler is called after xconn_free).
 */
struct xconn_handlers {
	/* Session established (after every reconnect). */
	void (*up)(void *arg);
	/* An established session was lost (not after xconn_stop); a
	 * reconnection is already scheduled.  error is a negative errno. */
	void (*down)(int error, const char *why, void *arg);
	/* Every presence and message, and iq results and errors that are not
	 * ours; iq get/set are answered here (ping, else service-unavailable). */
	void (*stanza)(xmpp_stanza_t *stanza, void *arg);
};

struct xconn_counters {
	uint64_t wakeups;	/* libevent callbacks run */
	uint64_t run_once;	/* xmpp_run_once() calls */
	uint64_t attempts;	/* connection attempts */
	uint64_t sessions;	/* sessions established */
	uint64_t pings;		/* keepalive pings sent */
	uint64_t pongs;		/* answered */
};

/* NULL when the configuration is unusable (logged). */
struct xconn *xconn_new(struct event_base *base,
    const struct xconn_config *cfg, const struct xconn_handlers *handlers,
    void *arg);
/* Connect now, and keep reconnecting until xconn_stop. */
void xconn_start(struct xconn *xc);
/* Close the stream cleanly (bounded: a few seconds), no reconnection. */
void xconn_stop(struct xconn *xc);
/* NULL is fine.  Drops the link at once if still connected. */
void xconn_free(struct xconn *xc);

bool xconn_is_up(const struct xconn *xc);
/* Monotonic ms since the link is down (or since xconn_start); 0 when up. */
int64_t xconn_down_since(const struct xconn *xc);
/* Queue a stanza (not consumed: the caller still releases it) and flush
 * it soon.  -ENOTCONN when no session is up. */
int xconn_send(struct xconn *xc, xmpp_stanza_t *stanza);
/* The context to build stanzas with. */
xmpp_ctx_t *xconn_ctx(struct xconn *xc);
/* The full JID of the session, or NULL. */
const char *xconn_bound_jid(const struct xconn *xc);
/* Why the last attempt or session ended ("" if none). */
const char *xconn_last_error(const struct xconn *xc);
void xconn_get_counters(const struct xconn *xc, struct xconn_counters *ret);

#endif
