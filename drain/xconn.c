/*
 * libstrophe on the libevent loop (see xconn.h for the design and the
 * caveats).  Rule of this file: libstrophe objects are only released from
 * libevent callbacks, never from inside xmpp_run_once(), because libstrophe
 * keeps using its connection after calling our handlers.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <strophe.h>

#include "drain/xconn.h"
#include "handler/backoff.h"
#include "handler/log.h"
#include "handler/secret.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"

#define XCONN_NS_PING		"urn:xmpp:ping"
#define XCONN_PUMP_MAX		64	/* run_once calls per wake-up */
#define XCONN_TLS_IDLE_RUNS	4	/* 16 KiB TLS record / 4 KiB reads */
#define XCONN_TICK_MS		1000
#define XCONN_STOP_MS		3000
#define XCONN_RETRY_FLOOR_MS	100
#define XCONN_GUARD_SIGNAL	(SIGRTMIN + 5)
#define XCONN_WRITE_SPINS_MAX	10000
#define XCONN_PING_SLACK_MS	100

enum xconn_state {
	XCONN_IDLE,
	XCONN_CONNECTING,	/* TCP, TLS, SASL, bind */
	XCONN_UP,
	XCONN_WAITING,		/* backoff before the next attempt */
	XCONN_STOPPING,		/* </stream:stream> sent */
	XCONN_STOPPED,
};

static const char *const xconn_state_names[] = {
	[XCONN_IDLE] = "idle",
	[XCONN_CONNECTING] = "connecting",
	[XCONN_UP] = "up",
	[XCONN_WAITING] = "waiting",
	[XCONN_STOPPING] = "stopping",
	[XCONN_STOPPED] = "stopped",
};

struct xconn {
	struct event_base *base;	/* borrowed */
	struct xconn_handlers handlers;
	void		*arg;		/* borrowed */

	char		*server;	/* owned */
	char		*domain;	/* owned */
	char		*jid;		/* owned: username@domain */
	char		*password;	/* owned, secret */
	char		*ca_file;	/* owned, may be NULL */
	bool		 tls;
	unsigned	 port;
	unsigned	 ping_interval_ms, ping_timeout_ms, connect_timeout_ms;
	unsigned	 reconnect_min_ms, reconnect_max_ms;

	/* libstrophe keeps pointers to these two: they live as long as ctx. */
	xmpp_mem_t	 mem;
	xmpp_log_t	 log;
	xmpp_ctx_t	*ctx;		/* owned */
	xmpp_conn_t	*conn;		/* owned; NULL between attempts */

	int		 fd;		/* libstrophe's socket, or -1 */
	short		 fd_mask;
	struct event	*fd_ev;		/* owned, NULL when fd is -1 */
	struct event	*kick;		/* owned: flush / pump again */
	struct event	*tick;		/* owned: only while (dis)connecting */
	struct event	*deadline;	/* owned: session setup, or stop */
	struct event	*retry;		/* owned: backoff */
	struct event	*ping_timer;	/* owned */
	struct event	*ping_deadline;	/* owned */

	enum xconn_state state;
	unsigned	 attempt;	/* consecutive failures */
	int64_t		 down_since;	/* mono ms; 0 when up */
	int64_t		 last_rx;	/* mono ms of the last readable event */
	bool		 secured;	/* the current session runs TLS */
	unsigned	 ping_seq;
	bool		 ping_outstanding;
	char		 ping_id[32];
	uint64_t	 mem_ops;	/* libstrophe allocator calls: progress */
	unsigned	 outq;		/* items queued in libstrophe, not sent */
	unsigned	 write_spins;	/* write wake-ups without an item sent */
	bool		 in_pump;	/* inside xmpp_run_once */
	unsigned	 busy;		/* inside a handler called from a timer */
	bool		 dropping;	/* releasing conn ourselves */
	bool		 free_pending;
	bool		 cert_rejected;
	char		 lib_error[160]; /* libstrophe's last error, this attempt */
	char		 last_error[200];
	struct xconn_counters counters;
	struct xconn	*next;		/* xconn_list */
};

/*
 * The sockopt and certfail callbacks get no userdata: they find their
 * xconn through these (sanctioned module state, see style-models §4).
 */
static struct xconn *xconn_list;
static struct xconn *xconn_running;	/* inside xmpp_run_once */

static timer_t xconn_guard_timer;
static bool xconn_guard_ready;
static volatile sig_atomic_t xconn_guard_fd = -1;
static volatile sig_atomic_t xconn_guard_fired;

static void xconn_pump(struct xconn *xc);
static void xconn_schedule_retry(struct xconn *xc);
static void xconn_destroy(struct xconn *xc);

static void
xconn_set_state(struct xconn *xc, enum xconn_state state)
{
	if (xc->state == state)
		return;
	log_debug("xmpp: %s -> %s", xconn_state_names[xc->state],
	    xconn_state_names[state]);
	xc->state = state;
}

static void
xconn_timer_ms(struct event *ev, uint32_t ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

/* ---- allocator and logger hooks ---- */

static void *
xconn_mem_alloc(size_t size, void *ud)
{
	struct xconn *xc = ud;

	xc->mem_ops++;
	return malloc(size);
}

/* Everything libstrophe frees is wiped: it copies the password around. */
static void
xconn_mem_free(void *p, void *ud)
{
	struct xconn *xc = ud;

	if (p == NULL)
		return;
	xc->mem_ops++;
	secret_wipe(p, malloc_usable_size(p));
	free(p);
}

static void *
xconn_mem_realloc(void *p, size_t size, void *ud)
{
	struct xconn *xc = ud;
	size_t old;
	void *n;

	if (p == NULL)
		return xconn_mem_alloc(size, ud);
	xc->mem_ops++;
	if ((n = malloc(size > 0 ? size : 1)) == NULL)
		return NULL;
	old = malloc_usable_size(p);
	memcpy(n, p, old < size ? old : size);
	secret_wipe(p, old);
	free(p);
	return n;
}

/*
 * libstrophe logs every stanza sent and received at debug ("SENT:",
 * "RECV:"), SASL exchanges included: those never reach our log.  Errors
 * are kept as the reason of the current attempt.
 */
static void
xconn_log_cb(void *ud, xmpp_log_level_t level, const char *area,
    const char *msg)
{
	struct xconn *xc = ud;

	if (area == NULL || msg == NULL)
		return;
	/* Send queue accounting (see xconn_update_watch). */
	if (strncmp(msg, "Q_ADD:", 6) == 0) {
		xc->outq++;
		return;
	}
	if (strncmp(msg, "Q_SENT:", 7) == 0) {
		if (xc->outq > 0)
			xc->outq--;
		xc->write_spins = 0;
		return;
	}
	if (strncmp(msg, "SENT:", 5) == 0 || strncmp(msg, "RECV:", 5) == 0 ||
	    strncmp(msg, "Q_", 2) == 0 || strstr(msg, "DROPPED:") != NULL ||
	    strstr(msg, "Stanza received was") != NULL ||
	    strncmp(msg, "parse error [", 13) == 0 ||
	    strcasecmp(area, "sasl") == 0 || strcasecmp(area, "scram") == 0 ||
	    (strcmp(area, "auth") == 0 && level == XMPP_LEVEL_DEBUG))
		return;
	if (level >= XMPP_LEVEL_WARN) {
		if (!xc->cert_rejected)
			snprintf(xc->lib_error, sizeof(xc->lib_error),
			    "%.150s", msg);
		log_info("xmpp: libstrophe %s: %.300s", area, msg);
		return;
	}
	/* TLS failures are only told at debug level: keep them as well. */
	if (!xc->cert_rejected && strcmp(area, "tls") == 0 &&
	    strncmp(msg, "error:", 6) == 0)
		snprintf(xc->lib_error, sizeof(xc->lib_error), "TLS %.140s",
		    msg);
	else if (!xc->cert_rejected && xc->lib_error[0] == '\0' &&
	    strncmp(msg, "Couldn't start TLS", 18) == 0)
		snprintf(xc->lib_error, sizeof(xc->lib_error),
		    "TLS negotiation failed");
	log_debug("xmpp: libstrophe %s: %.300s", area, msg);
}

/* ---- the TLS handshake guard (see xconn.h) ---- */

static void
xconn_guard_handler(int sig)
{
	int fd = xconn_guard_fd;

	(void)sig;
	if (fd >= 0) {
		shutdown(fd, SHUT_RDWR);
		xconn_guard_fired = 1;
	}
}

static void
xconn_guard_init(void)
{
	struct sigaction sa;
	struct sigevent sev;

	if (xconn_guard_ready)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = xconn_guard_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(XCONN_GUARD_SIGNAL, &sa, NULL) == -1) {
		log_warn("xmpp: sigaction for the TLS guard");
		return;
	}
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = XCONN_GUARD_SIGNAL;
	if (timer_create(CLOCK_MONOTONIC, &sev, &xconn_guard_timer) == -1) {
		log_warn("xmpp: timer_create for the TLS guard");
		return;
	}
	xconn_guard_ready = true;
}

static void
xconn_guard_arm(int fd)
{
	struct itimerspec its;

	if (!xconn_guard_ready || fd < 0)
		return;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = XCONN_TLS_GUARD_MS / 1000;
	its.it_value.tv_nsec = (long)(XCONN_TLS_GUARD_MS % 1000) * 1000000L;
	xconn_guard_fd = fd;
	timer_settime(xconn_guard_timer, 0, &its, NULL);
}

static void
xconn_guard_disarm(void)
{
	struct itimerspec its;

	if (!xconn_guard_ready || xconn_guard_fd < 0)
		return;
	memset(&its, 0, sizeof(its));
	timer_settime(xconn_guard_timer, 0, &its, NULL);
	xconn_guard_fd = -1;
}

/* ---- the socket ---- */

static void
xconn_unwatch(struct xconn *xc)
{
	if (xc->fd_ev != NULL)
		event_free(xc->fd_ev);
	xc->fd_ev = NULL;
	xc->fd = -1;
	xc->fd_mask = 0;
}

static void
xconn_fd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xconn *xc = arg;

	(void)fd;
	xc->counters.wakeups++;
	if (what & EV_READ)
		xc->last_rx = timeutil_mono_ms();
	else if (xc->outq > 0 && ++xc->write_spins > XCONN_WRITE_SPINS_MAX) {
		/* The count went wrong, or the peer never takes our bytes:
		 * never spin on a writable socket. */
		log_warnx("xmpp: send queue not moving; dropping write "
		    "interest");
		xc->outq = 0;
		xc->write_spins = 0;
	}
	xconn_pump(xc);
}

static void
xconn_watch(struct xconn *xc, int fd, short mask)
{
	xconn_unwatch(xc);
	xc->fd = fd;
	xc->fd_mask = mask;
	xc->fd_ev = event_new(xc->base, fd, mask | EV_PERSIST, xconn_fd_cb, xc);
	if (xc->fd_ev == NULL)
		fatalx("xmpp: event_new");
	event_add(xc->fd_ev, NULL);
}

/*
 * Write interest only while TCP connects or libstrophe's send queue holds
 * something.  Its public queue length leaves out a partly written item
 * (and TLS writes one 16 KiB record per xmpp_run_once), so the queue is
 * counted from libstrophe's own log lines instead (verbosity 1): "Q_ADD:"
 * for each item added, "Q_SENT:" for each item written in full.
 */
static void
xconn_update_watch(struct xconn *xc)
{
	short want;

	if (xc->fd < 0)
		return;
	if (xc->conn == NULL || xmpp_conn_is_disconnected(xc->conn)) {
		xconn_unwatch(xc);
		return;
	}
	want = EV_READ;
	if (xmpp_conn_is_connecting(xc->conn) || xc->outq > 0)
		want |= EV_WRITE;
	if (want != xc->fd_mask)
		xconn_watch(xc, xc->fd, want);
}

static struct xconn *
xconn_lookup(const xmpp_conn_t *conn)
{
	struct xconn *xc;

	for (xc = xconn_list; xc != NULL; xc = xc->next)
		if (xc->conn == conn)
			return xc;
	return NULL;
}

/*
 * Called for every socket libstrophe creates, before connect(); sock
 * points at the descriptor.  If connect() then fails at once, libstrophe
 * closes it and tries the next address or gives up: xconn_attempt drops
 * the watch in that case.
 */
static int
xconn_sockopt_cb(xmpp_conn_t *conn, void *sock)
{
	struct xconn *xc = xconn_lookup(conn);
	int fd = *(int *)sock, on = 1, idle, intvl = 5, cnt = 3;

	if (xc == NULL)
		return 0;
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	/* Dead peers are found by our pings; TCP keepalive also covers a
	 * host that vanishes during libstrophe's blocking TLS handshake. */
	idle = (int)(xc->ping_interval_ms / 1000);
	if (idle < 10)
		idle = 10;
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
	    sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	xconn_watch(xc, fd, EV_READ | EV_WRITE);
	return 0;
}

static int
xconn_certfail_cb(const xmpp_tlscert_t *cert, const char *errormsg)
{
	struct xconn *xc = xconn_running;
	const char *subject = NULL;

	if (cert != NULL)
		subject = xmpp_tlscert_get_string(cert, XMPP_CERT_SUBJECT);
	if (xc != NULL) {
		xc->cert_rejected = true;
		snprintf(xc->lib_error, sizeof(xc->lib_error),
		    "TLS certificate rejected: %.60s (subject %.60s)",
		    errormsg != NULL ? errormsg : "?",
		    subject != NULL ? subject : "?");
	}
	return 0;
}

/* ---- running libstrophe ---- */

static void
xconn_run_once(struct xconn *xc)
{
	bool guard = xc->tls && xc->state == XCONN_CONNECTING;

	xconn_running = xc;
	if (guard)
		xconn_guard_arm(xc->fd);
	xmpp_run_once(xc->ctx, 0);
	if (guard)
		xconn_guard_disarm();
	xconn_running = NULL;
	xc->counters.run_once++;
	if (xconn_guard_fired) {
		xconn_guard_fired = 0;
		snprintf(xc->lib_error, sizeof(xc->lib_error),
		    "TLS negotiation stalled for %u ms", XCONN_TLS_GUARD_MS);
		log_warnx("xmpp: %s with %s:%u; socket shut down", xc->lib_error,
		    xc->server, xc->port);
	}
}

/* Bytes waiting in the kernel for us, or -1. */
static int
xconn_inq(const struct xconn *xc)
{
	int n;

	if (xc->fd < 0 || ioctl(xc->fd, FIONREAD, &n) == -1)
		return -1;
	return n;
}

/*
 * Run libstrophe until it does no more work.  A call did some when it
 * touched libstrophe's allocator (parsed, queued, finished a write) or,
 * with TLS, took bytes from the socket.  With TLS, decrypted bytes may wait
 * inside OpenSSL where no fd event will announce them: one call reads
 * 4 KiB, a record holds up to 16 KiB, and OpenSSL (no read-ahead) takes
 * one record at a time from the socket; so after the last call that read
 * the socket, XCONN_TLS_IDLE_RUNS calls without progress have drained it.
 */
static void
xconn_pump(struct xconn *xc)
{
	unsigned i, idle = 0, need;
	int inq = -1, inq_after;

	if (xc->in_pump || xc->conn == NULL)
		return;
	xc->in_pump = true;
	for (i = 0; i < XCONN_PUMP_MAX; i++) {
		uint64_t before = xc->mem_ops;

		if (xc->secured && inq == -1)
			inq = xconn_inq(xc);
		xconn_run_once(xc);
		if (xc->free_pending)
			break;
		if (xmpp_conn_is_connected(xc->conn) &&
		    xmpp_conn_is_secured(xc->conn))
			xc->secured = true;
		need = xc->secured ? XCONN_TLS_IDLE_RUNS : 1;
		inq_after = xc->secured ? xconn_inq(xc) : -1;
		if (xc->mem_ops != before || inq_after != inq)
			idle = 0;
		else if (++idle >= need)
			break;
		inq = inq_after;
	}
	xc->in_pump = false;
	if (xc->free_pending) {
		if (xc->busy == 0)
			xconn_destroy(xc);
		return;
	}
	if (i == XCONN_PUMP_MAX)
		event_active(xc->kick, EV_TIMEOUT, 0);
	xconn_update_watch(xc);
}

static void
xconn_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xconn *xc = arg;

	(void)fd;
	(void)what;
	xc->counters.wakeups++;
	xconn_pump(xc);
}

/* ---- teardown and retries ---- */

/* Never from inside xmpp_run_once. */
static void
xconn_release_conn(struct xconn *xc)
{
	if (xc->conn == NULL)
		return;
	if (xc->in_pump)
		fatalx("xmpp: connection released inside libstrophe");
	/*
	 * Half-close first: the peer gets what was written, then FIN, and a
	 * TLS close_notify towards a peer that does not answer fails at once
	 * instead of waiting.  Bytes already received are read away, so that
	 * closing does not turn into a reset that could drop our last words.
	 */
	if (xc->fd >= 0 && !xmpp_conn_is_disconnected(xc->conn)) {
		char junk[4096];
		int i;

		shutdown(xc->fd, SHUT_WR);
		for (i = 0; i < 64; i++)
			if (recv(xc->fd, junk, sizeof(junk), MSG_DONTWAIT) <= 0)
				break;
	}
	xc->dropping = true;
	xmpp_conn_release(xc->conn);
	xc->dropping = false;
	xc->conn = NULL;
	xconn_unwatch(xc);
}

static void
xconn_cancel_timers(struct xconn *xc)
{
	evtimer_del(xc->tick);
	evtimer_del(xc->deadline);
	evtimer_del(xc->retry);
	evtimer_del(xc->ping_timer);
	evtimer_del(xc->ping_deadline);
	xc->ping_outstanding = false;
}

/* Call the down handler last: it may free xc.  false when it did. */
static bool
xconn_notify_down(struct xconn *xc, int error, const char *why)
{
	if (xc->free_pending || xc->handlers.down == NULL)
		return true;
	xc->busy++;
	xc->handlers.down(error, why, xc->arg);
	xc->busy--;
	if (xc->free_pending && xc->busy == 0 && !xc->in_pump) {
		xconn_destroy(xc);
		return false;
	}
	return true;
}

static void
xconn_schedule_retry(struct xconn *xc)
{
	uint32_t ms;

	xconn_cancel_timers(xc);
	if (xc->free_pending || xc->state == XCONN_STOPPING ||
	    xc->state == XCONN_STOPPED) {
		xconn_set_state(xc, XCONN_STOPPED);
		return;
	}
	if (xc->down_since == 0)
		xc->down_since = timeutil_mono_ms();
	ms = backoff_full_jitter(xc->attempt, xc->reconnect_min_ms,
	    xc->reconnect_max_ms);
	if (ms < XCONN_RETRY_FLOOR_MS)
		ms = XCONN_RETRY_FLOOR_MS;
	if (xc->attempt < 32)
		xc->attempt++;
	xconn_set_state(xc, XCONN_WAITING);
	log_debug("xmpp: next attempt in %u ms", (unsigned)ms);
	xconn_timer_ms(xc->retry, ms);
}

static const char *
xconn_stream_error_name(xmpp_error_type_t type)
{
	static const char *const names[] = {
		[XMPP_SE_BAD_FORMAT] = "bad-format",
		[XMPP_SE_BAD_NS_PREFIX] = "bad-namespace-prefix",
		[XMPP_SE_CONFLICT] = "conflict",
		[XMPP_SE_CONN_TIMEOUT] = "connection-timeout",
		[XMPP_SE_HOST_GONE] = "host-gone",
		[XMPP_SE_HOST_UNKNOWN] = "host-unknown",
		[XMPP_SE_IMPROPER_ADDR] = "improper-addressing",
		[XMPP_SE_INTERNAL_SERVER_ERROR] = "internal-server-error",
		[XMPP_SE_INVALID_FROM] = "invalid-from",
		[XMPP_SE_INVALID_ID] = "invalid-id",
		[XMPP_SE_INVALID_NS] = "invalid-namespace",
		[XMPP_SE_INVALID_XML] = "invalid-xml",
		[XMPP_SE_NOT_AUTHORIZED] = "not-authorized",
		[XMPP_SE_POLICY_VIOLATION] = "policy-violation",
		[XMPP_SE_REMOTE_CONN_FAILED] = "remote-connection-failed",
		[XMPP_SE_RESOURCE_CONSTRAINT] = "resource-constraint",
		[XMPP_SE_RESTRICTED_XML] = "restricted-xml",
		[XMPP_SE_SEE_OTHER_HOST] = "see-other-host",
		[XMPP_SE_SYSTEM_SHUTDOWN] = "system-shutdown",
		[XMPP_SE_UNDEFINED_CONDITION] = "undefined-condition",
		[XMPP_SE_UNSUPPORTED_ENCODING] = "unsupported-encoding",
		[XMPP_SE_UNSUPPORTED_STANZA_TYPE] = "unsupported-stanza-type",
		[XMPP_SE_UNSUPPORTED_VERSION] = "unsupported-version",
		[XMPP_SE_XML_NOT_WELL_FORMED] = "not-well-formed",
	};

	if ((unsigned)type < sizeof(names) / sizeof(names[0]) &&
	    names[type] != NULL)
		return names[type];
	return "unknown";
}

/* Copy network text for a log line: printable ASCII, bounded. */
static void
xconn_clean_text(char *dst, size_t dstlen, const char *src)
{
	size_t o = 0;

	for (; src != NULL && *src != '\0' && o + 1 < dstlen; src++)
		dst[o++] = ((unsigned char)*src >= 0x20 &&
		    (unsigned char)*src < 0x7f) ? *src : '?';
	dst[o] = '\0';
}

/* Turn what libstrophe tells about a lost connection into errno + text. */
static int
xconn_explain(struct xconn *xc, int error, const xmpp_stream_error_t *se,
    char *why, size_t whylen)
{
	char text[80];

	if (xc->cert_rejected) {
		snprintf(why, whylen, "%s", xc->lib_error);
		return -EPERM;
	}
	if (se != NULL) {
		xconn_clean_text(text, sizeof(text), se->text);
		snprintf(why, whylen, "stream error %s%s%s",
		    xconn_stream_error_name(se->type), text[0] ? ": " : "",
		    text);
		switch (se->type) {
		case XMPP_SE_CONFLICT:
			return -EEXIST;
		case XMPP_SE_SYSTEM_SHUTDOWN:
			return -ESHUTDOWN;
		case XMPP_SE_NOT_AUTHORIZED:
			return -EACCES;
		default:
			return -EPROTO;
		}
	}
	if (xc->lib_error[0] != '\0') {
		snprintf(why, whylen, "%s", xc->lib_error);
		if (strstr(xc->lib_error, "uthenticat") != NULL)
			return -EACCES;
		if (strstr(xc->lib_error, "TLS") != NULL)
			return -EPROTO;
	}
	if (error > 0 && !xc->secured) {
		if (xc->lib_error[0] == '\0')
			snprintf(why, whylen, "%s", strerror(error));
		return -error;
	}
	if (error > 0) {
		if (xc->lib_error[0] == '\0')
			snprintf(why, whylen, "TLS error %d", error);
		return -ECONNRESET;
	}
	if (xc->lib_error[0] == '\0')
		snprintf(why, whylen, "connection closed");
	return -ECONNRESET;
}

static void
xconn_lost(struct xconn *xc, int error, const xmpp_stream_error_t *se)
{
	enum xconn_state was = xc->state;
	char why[sizeof(xc->last_error)];
	int err;

	err = xconn_explain(xc, error, se, why, sizeof(why));
	if (was == XCONN_WAITING) {
		/* A connection xconn_start replaced: a new one is scheduled. */
		log_debug("xmpp: previous connection closed: %s", why);
		return;
	}
	if (was == XCONN_STOPPING || was == XCONN_STOPPED) {
		xconn_cancel_timers(xc);
		xconn_set_state(xc, XCONN_STOPPED);
		log_info("xmpp: session closed");
		return;
	}
	snprintf(xc->last_error, sizeof(xc->last_error), "%s", why);
	if (was == XCONN_UP)
		log_warnx("xmpp: session with %s:%u lost: %s", xc->server,
		    xc->port, why);
	else
		log_warnx("xmpp: attempt %u to %s:%u failed: %s",
		    xc->attempt + 1, xc->server, xc->port, why);
	xconn_schedule_retry(xc);
	if (was == XCONN_UP)
		(void)xconn_notify_down(xc, err, why);
}

static void
xconn_session_up(struct xconn *xc)
{
	const char *jid = xmpp_conn_get_bound_jid(xc->conn);

	xconn_cancel_timers(xc);
	xconn_set_state(xc, XCONN_UP);
	xc->attempt = 0;
	xc->down_since = 0;
	xc->last_rx = timeutil_mono_ms();
	xc->secured = xmpp_conn_is_secured(xc->conn);
	xc->counters.sessions++;
	xc->last_error[0] = '\0';
	xc->lib_error[0] = '\0';
	xconn_timer_ms(xc->ping_timer, xc->ping_interval_ms);
	log_info("xmpp: session up with %s:%u as %s (%s)", xc->server,
	    xc->port, jid != NULL ? jid : "?", xc->secured ? "TLS" : "no TLS");
	if (xc->handlers.up != NULL && !xc->free_pending)
		xc->handlers.up(xc->arg);
}

static void
xconn_conn_cb(xmpp_conn_t *conn, xmpp_conn_event_t event, int error,
    xmpp_stream_error_t *se, void *ud)
{
	struct xconn *xc = ud;

	(void)conn;
	switch (event) {
	case XMPP_CONN_CONNECT:
		if (!xc->free_pending)
			xconn_session_up(xc);
		break;
	case XMPP_CONN_RAW_CONNECT:
		break;
	case XMPP_CONN_DISCONNECT:
	case XMPP_CONN_FAIL:
		/* libstrophe has closed the socket already. */
		xconn_unwatch(xc);
		xc->outq = 0;
		if (!xc->dropping && !xc->free_pending)
			xconn_lost(xc, error, se);
		break;
	}
}

/* Forced teardown from a timer: ping timeout, setup deadline. */
static void
xconn_drop(struct xconn *xc, int error, const char *why)
{
	bool was_up = xc->state == XCONN_UP;

	xconn_release_conn(xc);
	snprintf(xc->last_error, sizeof(xc->last_error), "%s", why);
	if (was_up)
		log_warnx("xmpp: dropping the session with %s:%u: %s",
		    xc->server, xc->port, why);
	else
		log_warnx("xmpp: attempt %u to %s:%u failed: %s",
		    xc->attempt + 1, xc->server, xc->port, why);
	xconn_schedule_retry(xc);
	if (was_up)
		(void)xconn_notify_down(xc, error, why);
}

/* ---- stanzas ---- */

/* Answer XEP-0199 pings; every other get or set is not for us. */
static void
xconn_answer_iq(struct xconn *xc, xmpp_stanza_t *iq, bool get)
{
	const char *id = xmpp_stanza_get_id(iq);
	const char *from = xmpp_stanza_get_from(iq);
	xmpp_stanza_t *reply, *err, *cond;
	bool ping;

	if (id == NULL)
		return;
	ping = get && xmpp_stanza_get_child_by_name_and_ns(iq, "ping",
	    XCONN_NS_PING) != NULL;
	if ((reply = xmpp_iq_new(xc->ctx, ping ? "result" : "error", id)) ==
	    NULL)
		fatalx("xmpp: out of memory");
	if (from != NULL)
		xmpp_stanza_set_to(reply, from);
	if (!ping) {
		err = xmpp_stanza_new(xc->ctx);
		cond = xmpp_stanza_new(xc->ctx);
		if (err == NULL || cond == NULL)
			fatalx("xmpp: out of memory");
		xmpp_stanza_set_name(err, "error");
		xmpp_stanza_set_type(err, "cancel");
		xmpp_stanza_set_name(cond, "service-unavailable");
		xmpp_stanza_set_ns(cond, "urn:ietf:params:xml:ns:xmpp-stanzas");
		xmpp_stanza_add_child(err, cond);
		xmpp_stanza_add_child(reply, err);
		xmpp_stanza_release(cond);
		xmpp_stanza_release(err);
	}
	xmpp_send(xc->conn, reply);
	xmpp_stanza_release(reply);
}

static int
xconn_stanza_cb(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *ud)
{
	struct xconn *xc = ud;
	const char *name = xmpp_stanza_get_name(stanza);
	const char *type = xmpp_stanza_get_type(stanza);
	const char *id = xmpp_stanza_get_id(stanza);

	(void)conn;
	if (xc->free_pending || xc->state != XCONN_UP || name == NULL)
		return 1;
	if (strcmp(name, "iq") == 0) {
		if (type == NULL)
			return 1;
		if (strcmp(type, "get") == 0 || strcmp(type, "set") == 0) {
			xconn_answer_iq(xc, stanza, strcmp(type, "get") == 0);
			return 1;
		}
		if (xc->ping_outstanding && id != NULL &&
		    strcmp(id, xc->ping_id) == 0) {
			/* An error answer proves the link as well. */
			xc->ping_outstanding = false;
			evtimer_del(xc->ping_deadline);
			xc->counters.pongs++;
			xconn_timer_ms(xc->ping_timer, xc->ping_interval_ms);
			return 1;
		}
	}
	if (xc->handlers.stanza != NULL)
		xc->handlers.stanza(stanza, xc->arg);
	return 1;
}

static void
xconn_ping_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xconn *xc = arg;
	xmpp_stanza_t *iq, *ping;
	int64_t since;

	(void)fd;
	(void)what;
	xc->counters.wakeups++;
	if (xc->state != XCONN_UP || xc->ping_outstanding)
		return;
	/* A ping after every ping_interval of silence: traffic that arrived
	 * meanwhile proves the link, so wait for the rest of the interval. */
	since = timeutil_mono_ms() - xc->last_rx;
	if (since >= 0 && since + XCONN_PING_SLACK_MS <
	    (int64_t)xc->ping_interval_ms) {
		xconn_timer_ms(xc->ping_timer,
		    (uint32_t)(xc->ping_interval_ms - since));
		return;
	}
	snprintf(xc->ping_id, sizeof(xc->ping_id), "xconn-ping-%u",
	    ++xc->ping_seq);
	iq = xmpp_iq_new(xc->ctx, "get", xc->ping_id);
	ping = xmpp_stanza_new(xc->ctx);
	if (iq == NULL || ping == NULL)
		fatalx("xmpp: out of memory");
	xmpp_stanza_set_name(ping, "ping");
	xmpp_stanza_set_ns(ping, XCONN_NS_PING);
	xmpp_stanza_add_child(iq, ping);
	xmpp_stanza_release(ping);
	xmpp_stanza_set_to(iq, xc->domain);
	xmpp_send(xc->conn, iq);
	xmpp_stanza_release(iq);
	xc->ping_outstanding = true;
	xc->counters.pings++;
	xconn_timer_ms(xc->ping_deadline, xc->ping_timeout_ms);
	xconn_pump(xc);
}

static void
xconn_ping_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xconn *xc = arg;
	char why[64];

	(void)fd;
	(void)what;
	xc->counters.wakeups++;
	if (xc->state != XCONN_UP || !xc->ping_outstanding)
		return;
	snprintf(why, sizeof(why), "no answer to a ping within %u ms",
	    xc->ping_timeout_ms);
	xconn_drop(xc, -ETIMEDOUT, why);
}

/* ---- attempts ---- */

static void
xconn_attempt(struct xconn *xc)
{
	xmpp_conn_t *conn;
	long flags;
	int rc, saved;
	char why[128];

	xconn_release_conn(xc);
	xconn_cancel_timers(xc);
	xc->counters.attempts++;
	xc->outq = 0;
	xc->write_spins = 0;
	xc->lib_error[0] = '\0';
	xc->cert_rejected = false;
	xc->secured = false;
	if ((conn = xmpp_conn_new(xc->ctx)) == NULL)
		fatalx("xmpp: out of memory");
	flags = XMPP_CONN_FLAG_DISABLE_SM | (xc->tls ?
	    XMPP_CONN_FLAG_MANDATORY_TLS : XMPP_CONN_FLAG_DISABLE_TLS);
	if (xmpp_conn_set_flags(conn, flags) != 0)
		fatalx("xmpp: cannot set connection flags");
	xmpp_conn_set_jid(conn, xc->jid);
	xmpp_conn_set_pass(conn, xc->password);
	if (xc->tls) {
		if (xc->ca_file != NULL)
			xmpp_conn_set_cafile(conn, xc->ca_file);
		xmpp_conn_set_certfail_handler(conn, xconn_certfail_cb);
	}
	xmpp_handler_add(conn, xconn_stanza_cb, NULL, NULL, NULL, xc);
	xc->conn = conn;
	xmpp_conn_set_sockopt_callback(conn, xconn_sockopt_cb);
	xconn_set_state(xc, XCONN_CONNECTING);
	if (xc->down_since == 0)
		xc->down_since = timeutil_mono_ms();
	log_debug("xmpp: connecting to %s:%u as %s", xc->server, xc->port,
	    xc->jid);
	errno = 0;
	rc = xmpp_connect_client(conn, xc->server, (unsigned short)xc->port,
	    xconn_conn_cb, xc);
	saved = errno;
	if (rc != 0) {
		/* The socket the sockopt callback saw is closed already. */
		xconn_unwatch(xc);
		snprintf(why, sizeof(why), "cannot connect: %s",
		    saved != 0 ? strerror(saved) : "address or socket error");
		xconn_drop(xc, saved != 0 ? -saved : -EHOSTUNREACH, why);
		return;
	}
	xconn_timer_ms(xc->deadline, xc->connect_timeout_ms);
	xconn_timer_ms(xc->tick, XCONN_TICK_MS);
}

static void
xconn_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xconn *xc = arg;

	(void)fd;
	(void)what;
	xc->counters.wakeups++;
	if (xc->state == XCONN_WAITING)
		xconn_attempt(xc);
}

static void
xconn_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xconn *xc = arg;

	(void)fd;
	(void)what;
	xc->counters.wakeups++;
	if (xc->state != XCONN_CONNECTING && xc->state != XCONN_STOPPING) {
		evtimer_del(xc->tick);
		return;
	}
	xconn_pump(xc);
}

static void
xconn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xconn *xc = arg;
	char why[128];

	(void)fd;
	(void)what;
	xc->counters.wakeups++;
	if (xc->state == XCONN_CONNECTING) {
		snprintf(why, sizeof(why), "no session after %u ms%s%.60s",
		    xc->connect_timeout_ms, xc->lib_error[0] ? ": " : "",
		    xc->lib_error);
		xconn_drop(xc, -ETIMEDOUT, why);
	} else if (xc->state == XCONN_STOPPING) {
		xconn_release_conn(xc);
		xconn_cancel_timers(xc);
		xconn_set_state(xc, XCONN_STOPPED);
		log_info("xmpp: session closed (server did not answer)");
	}
}

/* ---- public API ---- */

static bool
xconn_token_valid(const char *s, const char *forbidden)
{
	size_t n;

	if (s == NULL || *s == '\0')
		return false;
	for (n = 0; s[n] != '\0'; n++) {
		if (n >= 255 || (unsigned char)s[n] <= 0x20 ||
		    (unsigned char)s[n] >= 0x7f || strchr(forbidden, s[n]))
			return false;
	}
	return true;
}

static bool
xconn_is_numeric_host(const char *host)
{
	struct addrinfo hints, *res;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return false;
	freeaddrinfo(res);
	return true;
}

struct xconn *
xconn_new(struct event_base *base, const struct xconn_config *cfg,
    const struct xconn_handlers *handlers, void *arg)
{
	static bool initialized;
	struct sigaction sa;
	struct xconn *xc;

	if (!xconn_token_valid(cfg->server, "/@\"'<>&") ||
	    !xconn_token_valid(cfg->domain, "/@\"'<>&:") ||
	    !xconn_token_valid(cfg->username, "/@\"'<>&:") ||
	    cfg->password == NULL || cfg->password[0] == '\0' ||
	    cfg->port > 65535) {
		log_warnx("xmpp: invalid connection settings (server, domain, "
		    "username, password or port)");
		return NULL;
	}
	if (cfg->tls && cfg->ca_file != NULL &&
	    access(cfg->ca_file, R_OK) == -1) {
		log_warn("xmpp: ca_file %s", cfg->ca_file);
		return NULL;
	}
	if (!initialized) {
		xmpp_initialize();
		initialized = true;
	}
	/* libstrophe (and OpenSSL) write without MSG_NOSIGNAL. */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	if (cfg->tls)
		xconn_guard_init();
	if (!xconn_is_numeric_host(cfg->server) &&
	    strcmp(cfg->server, "localhost") != 0)
		log_notice("xmpp: server %s is not an IP address; it is "
		    "resolved synchronously, so it should be in /etc/hosts",
		    cfg->server);

	xc = xcalloc(1, sizeof(*xc));
	xc->base = base;
	if (handlers != NULL)
		xc->handlers = *handlers;
	xc->arg = arg;
	xc->server = xstrdup(cfg->server);
	xc->domain = xstrdup(cfg->domain);
	xc->jid = xasprintf("%s@%s", cfg->username, cfg->domain);
	xc->password = xstrdup(cfg->password);
	xc->ca_file = cfg->ca_file != NULL ? xstrdup(cfg->ca_file) : NULL;
	xc->tls = cfg->tls;
	xc->port = cfg->port != 0 ? cfg->port : 5222;
	xc->ping_interval_ms = 1000 * (cfg->ping_interval_s != 0 ?
	    cfg->ping_interval_s : 30);
	xc->ping_timeout_ms = 1000 * (cfg->ping_timeout_s != 0 ?
	    cfg->ping_timeout_s : 10);
	xc->connect_timeout_ms = 1000 * (cfg->connect_timeout_s != 0 ?
	    cfg->connect_timeout_s : 20);
	xc->reconnect_min_ms = cfg->reconnect_min_ms != 0 ?
	    cfg->reconnect_min_ms : 500;
	xc->reconnect_max_ms = cfg->reconnect_max_ms != 0 ?
	    cfg->reconnect_max_ms : 30000;
	if (xc->reconnect_max_ms < xc->reconnect_min_ms)
		xc->reconnect_max_ms = xc->reconnect_min_ms;
	xc->fd = -1;
	xc->state = XCONN_IDLE;

	xc->mem.alloc = xconn_mem_alloc;
	xc->mem.free = xconn_mem_free;
	xc->mem.realloc = xconn_mem_realloc;
	xc->mem.userdata = xc;
	xc->log.handler = xconn_log_cb;
	xc->log.userdata = xc;
	if ((xc->ctx = xmpp_ctx_new(&xc->mem, &xc->log)) == NULL)
		fatalx("xmpp: cannot create a libstrophe context");
	/* For the "Q_ADD:"/"Q_SENT:" lines (see xconn_update_watch). */
	xmpp_ctx_set_verbosity(xc->ctx, 1);

	xc->kick = event_new(base, -1, 0, xconn_kick_cb, xc);
	xc->tick = event_new(base, -1, EV_PERSIST, xconn_tick_cb, xc);
	xc->deadline = evtimer_new(base, xconn_deadline_cb, xc);
	xc->retry = evtimer_new(base, xconn_retry_cb, xc);
	xc->ping_timer = evtimer_new(base, xconn_ping_cb, xc);
	xc->ping_deadline = evtimer_new(base, xconn_ping_deadline_cb, xc);
	if (xc->kick == NULL || xc->tick == NULL || xc->deadline == NULL ||
	    xc->retry == NULL || xc->ping_timer == NULL ||
	    xc->ping_deadline == NULL)
		fatalx("xmpp: event_new");

	xc->next = xconn_list;
	xconn_list = xc;
	return xc;
}

void
xconn_start(struct xconn *xc)
{
	if (xc->state != XCONN_IDLE && xc->state != XCONN_STOPPED &&
	    xc->state != XCONN_STOPPING)
		return;
	/* A stream still closing is dropped by the next attempt. */
	xconn_cancel_timers(xc);
	xc->attempt = 0;
	xc->down_since = timeutil_mono_ms();
	xconn_set_state(xc, XCONN_WAITING);
	/* From the loop, never from the caller's stack. */
	xconn_timer_ms(xc->retry, 0);
}

void
xconn_stop(struct xconn *xc)
{
	switch (xc->state) {
	case XCONN_IDLE:
	case XCONN_STOPPED:
	case XCONN_STOPPING:
		xconn_set_state(xc, xc->state == XCONN_STOPPING ?
		    XCONN_STOPPING : XCONN_STOPPED);
		return;
	case XCONN_WAITING:
		xconn_cancel_timers(xc);
		xconn_set_state(xc, XCONN_STOPPED);
		return;
	case XCONN_CONNECTING:
		/* Not inside libstrophe: no handler of ours runs then. */
		xconn_cancel_timers(xc);
		xconn_set_state(xc, XCONN_STOPPED);
		xconn_release_conn(xc);
		return;
	case XCONN_UP:
		xconn_cancel_timers(xc);
		xconn_set_state(xc, XCONN_STOPPING);
		xmpp_disconnect(xc->conn);
		event_active(xc->kick, EV_TIMEOUT, 0);
		xconn_timer_ms(xc->deadline, XCONN_STOP_MS);
		xconn_timer_ms(xc->tick, XCONN_TICK_MS);
		return;
	}
}

static void
xconn_destroy(struct xconn *xc)
{
	struct xconn **pp;

	for (pp = &xconn_list; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == xc) {
			*pp = xc->next;
			break;
		}
	}
	xconn_cancel_timers(xc);
	/* Hand what is queued (our last presence, </stream:stream> after
	 * xconn_stop) to the kernel before the socket goes: one
	 * non-blocking pass, with no handler called any more. */
	if (xc->conn != NULL && xmpp_conn_is_connected(xc->conn)) {
		xc->free_pending = true;
		xc->in_pump = true;
		xconn_run_once(xc);
		xc->in_pump = false;
	}
	xconn_release_conn(xc);
	xconn_unwatch(xc);
	event_free(xc->kick);
	event_free(xc->tick);
	event_free(xc->deadline);
	event_free(xc->retry);
	event_free(xc->ping_timer);
	event_free(xc->ping_deadline);
	xmpp_ctx_free(xc->ctx);
	secret_free(xc->password);
	free(xc->server);
	free(xc->domain);
	free(xc->jid);
	free(xc->ca_file);
	free(xc);
}

void
xconn_free(struct xconn *xc)
{
	if (xc == NULL)
		return;
	if (xc->in_pump || xc->busy > 0) {
		/* Inside one of our handlers: finish when it returns. */
		xc->free_pending = true;
		xconn_cancel_timers(xc);
		return;
	}
	xconn_destroy(xc);
}

bool
xconn_is_up(const struct xconn *xc)
{
	return xc->state == XCONN_UP;
}

int64_t
xconn_down_since(const struct xconn *xc)
{
	return xc->state == XCONN_UP ? 0 : xc->down_since;
}

int
xconn_send(struct xconn *xc, xmpp_stanza_t *stanza)
{
	if (xc->state != XCONN_UP || xc->conn == NULL || xc->free_pending)
		return -ENOTCONN;
	xmpp_send(xc->conn, stanza);
	event_active(xc->kick, EV_TIMEOUT, 0);
	return 0;
}

xmpp_ctx_t *
xconn_ctx(struct xconn *xc)
{
	return xc->ctx;
}

const char *
xconn_bound_jid(const struct xconn *xc)
{
	if (xc->state != XCONN_UP || xc->conn == NULL)
		return NULL;
	return xmpp_conn_get_bound_jid(xc->conn);
}

const char *
xconn_last_error(const struct xconn *xc)
{
	return xc->last_error;
}

void
xconn_get_counters(const struct xconn *xc, struct xconn_counters *ret)
{
	*ret = xc->counters;
}
