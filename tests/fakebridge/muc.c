/*
 * The bridge's MUC client; see muc.h.  One xmpp_conn_t per connection
 * attempt: a failed or lost connection is released from the retry timer
 * (never from inside libstrophe's own callbacks) and a new one is made.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "handler/backoff.h"
#include "handler/log.h"
#include "handler/secret.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"
#include "tests/fakebridge/bridge.h"
#include "tests/fakebridge/muc.h"
#include "tests/fakebridge/presence.h"
#include "tests/fakebridge/xloop.h"

#define MUC_RETRY_BASE_MS	500
#define MUC_RETRY_CAP_MS	10000

enum muc_phase {
	MUC_IDLE,		/* waiting for the retry timer */
	MUC_CONNECTING,		/* TCP, TLS, SASL, bind */
	MUC_ONLINE,
	MUC_LEAVING,		/* goodbye sent, waiting for the close */
	MUC_GONE,
};

struct muc_room {
	char		*jid;		/* owned; room@muc-domain */
	char		*occupant;	/* owned; room@muc-domain/nickname */
	bool		 joined;
	bool		 configured;	/* we created it and configured it */
	char		 error[48];	/* why the last join failed, or "" */
	unsigned	 joins;		/* join presences sent */
};

struct muc {
	struct bridge	*bridge;	/* not owned */
	struct xloop	*xloop;		/* not owned */
	xmpp_conn_t	*conn;		/* owned; NULL between attempts */
	char		*jid;		/* owned; username@domain */
	char		*host;		/* owned */
	uint16_t	 port;
	char		*password_file;	/* owned */
	char		*ca_file;	/* owned; NULL */
	long		 flags;
	char		*nick;		/* owned */
	struct muc_room	 rooms[OPTIONS_MAX_ROOMS];
	size_t		 nrooms;
	enum muc_phase	 phase;
	bool		 online;	/* logged in (stream established) */
	bool		 exiting;	/* no reconnect */
	bool		 freeing;	/* ignore the release's callback */
	struct event	*retry;		/* owned */
	struct xloop_waiter waiter;	/* in line for a login slot */
	bool		 has_slot;
	unsigned	 failures;	/* in a row, for the backoff */
	unsigned long	 connects;
	unsigned long	 login_failures;
	unsigned long	 presences_sent;
	unsigned long	 healthchecks;
	unsigned	 iq_seq;
	int64_t		 last_presence_ms;	/* wall; -1: never */
	char		 last_error[160];
};

static const char *
muc_phase_name(enum muc_phase p)
{
	switch (p) {
	case MUC_IDLE: return "idle";
	case MUC_CONNECTING: return "connecting";
	case MUC_ONLINE: return "online";
	case MUC_LEAVING: return "leaving";
	case MUC_GONE: return "gone";
	}
	return "?";
}

static void
muc_schedule(struct muc *m, unsigned delay_ms)
{
	struct timeval tv;

	tv.tv_sec = delay_ms / 1000;
	tv.tv_usec = (delay_ms % 1000) * 1000;
	evtimer_add(m->retry, &tv);
}

static void
muc_give_slot(struct muc *m)
{
	if (m->has_slot) {
		m->has_slot = false;
		xloop_slot_give(m->xloop);
	}
}

static void
muc_release(struct muc *m)
{
	if (m->conn == NULL)
		return;
	xloop_unwatch(m->xloop, m->conn);
	m->freeing = true;
	xmpp_conn_release(m->conn);
	m->freeing = false;
	m->conn = NULL;
}

static void
muc_send(struct muc *m, xmpp_stanza_t *st)
{
	xmpp_send(m->conn, st);
	xmpp_stanza_release(st);
	xloop_kick(m->xloop);
}

static void
muc_send_presence(struct muc *m, struct muc_room *room, bool join)
{
	struct stats st;

	bridge_stats(m->bridge, &st);
	muc_send(m, presence_stats(xloop_ctx(m->xloop), room->occupant, &st,
	    join));
	if (join)
		room->joins++;
	m->presences_sent++;
	m->last_presence_ms = timeutil_wall_ms();
}

/* "room@muc/nick" from the room: the bare part compares without case. */
static bool
muc_is_occupant(const struct muc_room *room, const char *from)
{
	const char *slash = strchr(from, '/');
	size_t bare = strlen(room->jid);

	return slash != NULL && (size_t)(slash - from) == bare &&
	    strncasecmp(from, room->jid, bare) == 0 &&
	    strcmp(slash + 1, strchr(room->occupant, '/') + 1) == 0;
}

static int
muc_presence_cb(xmpp_conn_t *conn, xmpp_stanza_t *st, void *arg)
{
	struct muc *m = arg;
	struct muc_room *room;
	struct presence_muc pm;
	const char *from = xmpp_stanza_get_from(st);
	char id[32];
	size_t i;

	if (from == NULL)
		return 1;
	for (i = 0; i < m->nrooms; i++) {
		room = &m->rooms[i];
		if (!muc_is_occupant(room, from))
			continue;
		presence_parse_muc(st, &pm);
		if (pm.error[0] != '\0') {
			room->joined = false;
			snprintf(room->error, sizeof(room->error), "%s",
			    pm.error);
			log_warnx("bridge %s: could not join %s as %s: %s",
			    m->bridge->id, room->jid, m->nick, pm.error);
		} else if (pm.unavailable) {
			if (room->joined)
				log_info("bridge %s: no longer in %s",
				    m->bridge->id, room->jid);
			room->joined = false;
		} else if (!room->joined) {
			room->joined = true;
			room->error[0] = '\0';
			log_info("bridge %s: joined %s as %s", m->bridge->id,
			    room->jid, m->nick);
			if (pm.created && !room->configured) {
				room->configured = true;
				snprintf(id, sizeof(id), "cfg%u", ++m->iq_seq);
				muc_send(m, presence_room_config(
				    xloop_ctx(m->xloop), room->jid, id));
			}
		}
		bridge_kick(m->bridge);
	}
	return 1;
}

static int
muc_iq_cb(xmpp_conn_t *conn, xmpp_stanza_t *st, void *arg)
{
	struct muc *m = arg;
	xmpp_stanza_t *reply;
	const char *type = xmpp_stanza_get_type(st);

	/* Results and errors need no answer. */
	if (xmpp_stanza_get_from(st) == NULL || type == NULL ||
	    (strcmp(type, "get") != 0 && strcmp(type, "set") != 0))
		return 1;
	if (xmpp_stanza_get_child_by_name_and_ns(st, "healthcheck",
	    PRESENCE_NS_HEALTH) != NULL && strcmp(type, "get") == 0) {
		m->healthchecks++;
		if (m->bridge->opts.healthy) {
			reply = xmpp_stanza_reply(st);
			if (reply != NULL)
				xmpp_stanza_set_type(reply, "result");
		} else
			reply = xmpp_stanza_reply_error(st, "cancel",
			    "internal-server-error", "injected");
	} else
		reply = xmpp_stanza_reply_error(st, "cancel",
		    "service-unavailable", NULL);
	if (reply != NULL)
		muc_send(m, reply);
	return 1;
}

static void
muc_conn_cb(xmpp_conn_t *conn, xmpp_conn_event_t ev, int error,
    xmpp_stream_error_t *se, void *arg)
{
	struct muc *m = arg;
	bool was_online = m->online;
	unsigned delay;
	size_t i;

	if (m->freeing)
		return;
	muc_give_slot(m);
	if (ev == XMPP_CONN_CONNECT) {
		m->online = true;
		m->phase = MUC_ONLINE;
		m->failures = 0;
		m->last_error[0] = '\0';
		xmpp_handler_add(conn, muc_presence_cb, NULL, "presence", NULL,
		    m);
		xmpp_handler_add(conn, muc_iq_cb, NULL, "iq", NULL, m);
		log_info("bridge %s: XMPP logged in as %s", m->bridge->id,
		    xmpp_conn_get_bound_jid(conn) != NULL ?
		    xmpp_conn_get_bound_jid(conn) : m->jid);
		if (m->exiting) {
			m->phase = MUC_LEAVING;
			xmpp_disconnect(conn);
			xloop_kick(m->xloop);
			return;
		}
		for (i = 0; i < m->nrooms; i++)
			muc_send_presence(m, &m->rooms[i], true);
		bridge_kick(m->bridge);
		return;
	}

	/* Disconnected: the socket is closed already. */
	xloop_unwatch(m->xloop, conn);
	m->online = false;
	for (i = 0; i < m->nrooms; i++)
		m->rooms[i].joined = false;
	if (was_online)
		snprintf(m->last_error, sizeof(m->last_error),
		    "disconnected%s%s", error != 0 ? ": " : "",
		    error != 0 ? strerror(error) : "");
	else if (se != NULL)
		snprintf(m->last_error, sizeof(m->last_error),
		    "stream error %d%s%s", (int)se->type,
		    se->text != NULL ? ": " : "", se->text != NULL ?
		    se->text : "");
	else if (error != 0)
		snprintf(m->last_error, sizeof(m->last_error),
		    "connect to %s:%u: %s", m->host, (unsigned)m->port,
		    strerror(error));
	else {
		/* libstrophe closes by itself when SASL fails (and when
		 * the server does not answer the bind). */
		m->login_failures++;
		snprintf(m->last_error, sizeof(m->last_error),
		    "login as %s failed (refused or timed out)", m->jid);
	}
	if (m->exiting) {
		m->phase = MUC_GONE;
		log_info("bridge %s: XMPP disconnected", m->bridge->id);
		bridge_kick(m->bridge);
		return;
	}
	m->phase = MUC_IDLE;
	delay = backoff_full_jitter(m->failures++, MUC_RETRY_BASE_MS,
	    MUC_RETRY_CAP_MS);
	if (delay < MUC_RETRY_BASE_MS / 2)
		delay = MUC_RETRY_BASE_MS / 2;
	log_warnx("bridge %s: XMPP %s; retrying in %u ms", m->bridge->id,
	    m->last_error, delay);
	muc_schedule(m, delay);
	bridge_kick(m->bridge);
}

static void
muc_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct muc *m = arg;
	char *password = NULL;
	unsigned delay;
	int r;

	muc_release(m);
	if (m->exiting) {
		xloop_slot_cancel(m->xloop, &m->waiter);
		m->phase = MUC_GONE;
		bridge_kick(m->bridge);
		return;
	}
	if (!xloop_slot_take(m->xloop, &m->waiter))
		return;		/* the retry event runs again when it may */
	m->has_slot = true;
	if ((r = secret_read_file(m->password_file, &password)) < 0) {
		snprintf(m->last_error, sizeof(m->last_error),
		    "password_file: %s", strerror(-r));
		goto retry;
	}
	if ((m->conn = xmpp_conn_new(xloop_ctx(m->xloop))) == NULL)
		fatalx("xmpp_conn_new");
	xmpp_conn_set_flags(m->conn, m->flags);
	if (m->ca_file != NULL)
		xmpp_conn_set_cafile(m->conn, m->ca_file);
	xmpp_conn_set_jid(m->conn, m->jid);
	xmpp_conn_set_pass(m->conn, password);
	secret_free(password);
	xloop_prepare(m->xloop, m->conn);
	m->connects++;
	m->phase = MUC_CONNECTING;
	xloop_before_connect(m->xloop);
	r = xmpp_connect_client(m->conn, m->host, m->port, muc_conn_cb, m);
	xloop_after_connect(m->xloop);
	if (r == XMPP_EOK)
		return;
	xloop_unwatch(m->xloop, m->conn);
	snprintf(m->last_error, sizeof(m->last_error),
	    "connect to %s:%u failed (%d)", m->host, (unsigned)m->port, r);
retry:
	muc_give_slot(m);
	m->phase = MUC_IDLE;
	delay = backoff_full_jitter(m->failures++, MUC_RETRY_BASE_MS,
	    MUC_RETRY_CAP_MS);
	if (delay < MUC_RETRY_BASE_MS / 2)
		delay = MUC_RETRY_BASE_MS / 2;
	log_warnx("bridge %s: XMPP %s; retrying in %u ms", m->bridge->id,
	    m->last_error, delay);
	muc_schedule(m, delay);
}

struct muc *
muc_new(struct bridge *b, struct xloop *x, const struct options_xmpp *o,
    const char *nickname, char *err, size_t errlen)
{
	struct muc *m;
	size_t i;
	bool tls;

	if (o->nrooms == 0 || o->domain == NULL || o->username == NULL ||
	    o->password_file == NULL) {
		snprintf(err, errlen, "xmpp: incomplete options");
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->bridge = b;
	m->xloop = x;
	m->jid = xasprintf("%s@%s", o->username, o->domain);
	m->host = xstrdup(o->host);
	m->port = o->port;
	m->password_file = xstrdup(o->password_file);
	m->ca_file = o->ca_file != NULL ? xstrdup(o->ca_file) : NULL;
	m->nick = xstrdup(nickname);
	m->last_presence_ms = -1;
	/* Stream resumption would hide reconnects from the MUC. */
	m->flags = XMPP_CONN_FLAG_DISABLE_SM;
	tls = o->tls_given ? o->tls != OPTIONS_TLS_OFF : o->ca_file != NULL;
	if (!tls)
		m->flags |= XMPP_CONN_FLAG_DISABLE_TLS;
	else {
		m->flags |= XMPP_CONN_FLAG_MANDATORY_TLS;
		if (o->tls_given && o->tls == OPTIONS_TLS_TRUST)
			m->flags |= XMPP_CONN_FLAG_TRUST_TLS;
	}
	m->nrooms = o->nrooms;
	for (i = 0; i < o->nrooms; i++) {
		m->rooms[i].jid = xstrdup(o->rooms[i]);
		m->rooms[i].occupant = xasprintf("%s/%s", o->rooms[i],
		    nickname);
	}
	if ((m->retry = evtimer_new(b->set->base, muc_retry_cb, m)) == NULL)
		fatalx("evtimer_new");
	m->waiter.ev = m->retry;
	muc_schedule(m, 0);
	return m;
}

void
muc_free(struct muc *m)
{
	size_t i;

	if (m == NULL)
		return;
	muc_release(m);
	muc_give_slot(m);
	xloop_slot_cancel(m->xloop, &m->waiter);
	event_free(m->retry);
	for (i = 0; i < m->nrooms; i++) {
		free(m->rooms[i].jid);
		free(m->rooms[i].occupant);
	}
	free(m->jid);
	free(m->host);
	free(m->password_file);
	free(m->ca_file);
	free(m->nick);
	free(m);
}

void
muc_publish(struct muc *m)
{
	size_t i;

	if (m->phase != MUC_ONLINE)
		return;
	for (i = 0; i < m->nrooms; i++)
		if (m->rooms[i].joined)
			muc_send_presence(m, &m->rooms[i], false);
}

void
muc_exit(struct muc *m, bool abrupt)
{
	xmpp_ctx_t *ctx = xloop_ctx(m->xloop);
	size_t i;

	if (m->exiting)
		return;
	m->exiting = true;
	evtimer_del(m->retry);
	switch (m->phase) {
	case MUC_IDLE:
		xloop_slot_cancel(m->xloop, &m->waiter);
		m->phase = MUC_GONE;
		return;
	case MUC_CONNECTING:
	case MUC_ONLINE:
		if (abrupt && xmpp_conn_is_connected(m->conn)) {
			xloop_cut(m->xloop, m->conn);
		} else {
			for (i = 0; i < m->nrooms && m->phase == MUC_ONLINE;
			    i++)
				if (m->rooms[i].joined)
					muc_send(m, presence_unavailable(ctx,
					    m->rooms[i].occupant));
			xmpp_disconnect(m->conn);
		}
		m->phase = MUC_LEAVING;
		xloop_kick(m->xloop);
		return;
	case MUC_LEAVING:
	case MUC_GONE:
		return;
	}
}

bool
muc_gone(const struct muc *m)
{
	return m->phase == MUC_GONE;
}

void
muc_counts(const struct muc *m, struct muc_counts *c)
{
	size_t i;

	c->clients_configured = 1;
	c->clients_connected = m->online ? 1 : 0;
	c->mucs_configured = (unsigned)m->nrooms;
	c->mucs_joined = 0;
	for (i = 0; i < m->nrooms; i++)
		if (m->rooms[i].joined)
			c->mucs_joined++;
}

json_t *
muc_json(const struct muc *m)
{
	json_t *j, *rooms;
	size_t i;

	rooms = json_array();
	for (i = 0; i < m->nrooms; i++)
		json_array_append_new(rooms, json_pack("{ss ss sb ss? si}",
		    "jid", m->rooms[i].jid, "occupant", m->rooms[i].occupant,
		    "joined", m->rooms[i].joined, "error",
		    m->rooms[i].error[0] != '\0' ? m->rooms[i].error : NULL,
		    "joins", (int)m->rooms[i].joins));
	j = json_pack("{ss ss ss sb so sI sI sI sI ss?}", "jid", m->jid,
	    "nickname", m->nick, "phase", muc_phase_name(m->phase), "online",
	    m->online, "rooms", rooms, "connects", (json_int_t)m->connects,
	    "login_failures", (json_int_t)m->login_failures,
	    "presences_sent", (json_int_t)m->presences_sent,
	    "healthchecks_answered", (json_int_t)m->healthchecks,
	    "last_error", m->last_error[0] != '\0' ? m->last_error : NULL);
	json_object_set_new(j, "last_presence_ms", m->last_presence_ms < 0 ?
	    json_null() : json_integer(m->last_presence_ms));
	return j;
}
