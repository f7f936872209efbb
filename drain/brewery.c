/*
 * The brewery watcher (see brewery.h).  Occupants live in a hash table
 * keyed by nickname (ASCII case folded, so the case-insensitive fallback of
 * brewery_find costs nothing); departed ones also sit on a list in order
 * of departure, so the oldest is forgotten first.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <strophe.h>

#include "drain/brewery.h"
#include "handler/backoff.h"
#include "handler/log.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"

#define BREWERY_BUCKETS		1024	/* power of two */
#define BREWERY_WARN_EVERY_MS	60000
#define BREWERY_REJOIN_MIN_MS	1000
#define BREWERY_REJOIN_MAX_MS	60000
#define BREWERY_NS_MUC_OWNER	"http://jabber.org/protocol/muc#owner"

enum brewery_state {
	BREWERY_S_IDLE,
	BREWERY_S_OFFLINE,	/* waiting for the XMPP session */
	BREWERY_S_JOINING,	/* join sent, no self-presence yet */
	BREWERY_S_JOINED,
	BREWERY_S_BACKOFF,	/* join failed or kicked: wait, then rejoin */
	BREWERY_S_STOPPED,
};

static const char *const brewery_state_names[] = {
	[BREWERY_S_IDLE] = "idle",
	[BREWERY_S_OFFLINE] = "offline",
	[BREWERY_S_JOINING] = "joining",
	[BREWERY_S_JOINED] = "joined",
	[BREWERY_S_BACKOFF] = "backoff",
	[BREWERY_S_STOPPED] = "stopped",
};

struct brewery_occ {
	struct brewery_occupant pub;	/* pub.nickname points at nick */
	char		*nick;		/* owned */
	uint32_t	 hash;
	unsigned	 gen;		/* join generation last seen in */
	struct brewery_occ *hnext;	/* bucket chain */
	TAILQ_ENTRY(brewery_occ) gone_entry; /* on b->gone while !present */
};

TAILQ_HEAD(brewery_gone_list, brewery_occ);

struct brewery {
	struct event_base *base;	/* borrowed */
	struct xconn	*xc;		/* owned */
	struct brewery_handlers handlers;
	void		*arg;		/* borrowed */
	char		*room;		/* owned, lower case */
	char		*nick_base;	/* owned */
	char		 nick[PRESENCE_NICK_MAX + 1];
	unsigned	 nick_try;	/* 0: nick_base; n: nick_base-(n+1) */
	enum brewery_state state;
	unsigned	 gen;
	unsigned	 rejoin_attempt;
	int64_t		 down_since;	/* mono ms; 0 when joined */
	bool		 link_reported;	/* last link(up) value handed out */
	struct event	*timer;		/* owned: join timeout or backoff */

	struct brewery_occ *buckets[BREWERY_BUCKETS]; /* own the occupants */
	size_t		 npresent, ngone;
	struct brewery_gone_list gone;

	unsigned	 depth;		/* inside one of our entry points */
	bool		 free_pending;
	int64_t		 warn_ms;	/* rate limit of peer-caused warnings */
	unsigned	 warn_suppressed;
};

static void brewery_destroy(struct brewery *b);

static void
brewery_set_state(struct brewery *b, enum brewery_state state)
{
	if (b->state == state)
		return;
	log_info("brewery %s: %s -> %s", b->room,
	    brewery_state_names[b->state], brewery_state_names[state]);
	b->state = state;
}

/* Warnings a peer can cause: one a minute, the rest at debug. */
static void __attribute__((format(printf, 2, 3)))
brewery_warn_peer(struct brewery *b, const char *fmt, ...)
{
	int64_t now = timeutil_mono_ms();
	va_list ap;

	va_start(ap, fmt);
	if (b->warn_ms == 0 || now - b->warn_ms >= BREWERY_WARN_EVERY_MS) {
		if (b->warn_suppressed > 0)
			log_warnx("brewery %s: %u similar warnings suppressed",
			    b->room, b->warn_suppressed);
		b->warn_ms = now;
		b->warn_suppressed = 0;
		log_vmsg(LOG_LEVEL_WARNING, fmt, ap);
	} else {
		b->warn_suppressed++;
		log_vmsg(LOG_LEVEL_DEBUG, fmt, ap);
	}
	va_end(ap);
}

/* ---- the occupant table ---- */

static uint32_t
brewery_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 'A' && c <= 'Z')
			c += 32;
		h = (h ^ c) * 16777619u;
	}
	return h;
}

static struct brewery_occ *
brewery_lookup(const struct brewery *b, const char *nick, bool fold)
{
	uint32_t h = brewery_hash(nick);
	struct brewery_occ *o, *folded = NULL;

	for (o = b->buckets[h & (BREWERY_BUCKETS - 1)]; o != NULL;
	    o = o->hnext) {
		if (o->hash != h)
			continue;
		if (strcmp(o->nick, nick) == 0)
			return o;
		if (fold && folded == NULL && strcasecmp(o->nick, nick) == 0)
			folded = o;
	}
	return folded;
}

static void
brewery_occ_remove(struct brewery *b, struct brewery_occ *o)
{
	struct brewery_occ **pp;

	for (pp = &b->buckets[o->hash & (BREWERY_BUCKETS - 1)]; *pp != NULL;
	    pp = &(*pp)->hnext) {
		if (*pp == o) {
			*pp = o->hnext;
			break;
		}
	}
	if (o->pub.present) {
		b->npresent--;
	} else {
		TAILQ_REMOVE(&b->gone, o, gone_entry);
		b->ngone--;
	}
	free(o->nick);
	free(o);
}

static struct brewery_occ *
brewery_occ_add(struct brewery *b, const char *nick)
{
	struct brewery_occ *o = xcalloc(1, sizeof(*o));

	o->nick = xstrdup(nick);
	o->pub.nickname = o->nick;
	o->hash = brewery_hash(nick);
	o->hnext = b->buckets[o->hash & (BREWERY_BUCKETS - 1)];
	b->buckets[o->hash & (BREWERY_BUCKETS - 1)] = o;
	o->pub.present = true;
	presence_stats_init(&o->pub.stats);
	presence_stats_init(&o->pub.prev_stats);
	b->npresent++;
	return o;
}

/* An occupant comes back (or appears): off the departed list. */
static void
brewery_occ_arrive(struct brewery *b, struct brewery_occ *o, int64_t now)
{
	if (!o->pub.present) {
		TAILQ_REMOVE(&b->gone, o, gone_entry);
		b->ngone--;
		b->npresent++;
		o->pub.present = true;
	}
	o->pub.joined_ms = now;
	o->pub.left_ms = 0;
	o->pub.has_stats = false;
	presence_stats_init(&o->pub.stats);
}

static void
brewery_occ_depart(struct brewery *b, struct brewery_occ *o, int64_t now)
{
	struct brewery_occ *old;

	if (!o->pub.present)
		return;
	o->pub.present = false;
	o->pub.left_ms = now;
	b->npresent--;
	TAILQ_INSERT_TAIL(&b->gone, o, gone_entry);
	b->ngone++;
	while (b->ngone > BREWERY_MAX_GONE &&
	    (old = TAILQ_FIRST(&b->gone)) != NULL && old != o)
		brewery_occ_remove(b, old);
}

/* false when a handler freed the brewery: stop at once. */
static bool
brewery_emit(struct brewery *b, struct brewery_occ *o,
    enum brewery_change change)
{
	if (b->free_pending)
		return false;
	if (b->handlers.occupant != NULL)
		b->handlers.occupant(&o->pub, change, b->arg);
	return !b->free_pending;
}

static bool
brewery_emit_link(struct brewery *b, bool up)
{
	if (b->free_pending)
		return false;
	if (b->link_reported == up)
		return true;
	b->link_reported = up;
	if (b->handlers.link != NULL)
		b->handlers.link(up, b->arg);
	return !b->free_pending;
}

/* After a rejoin: whoever the room did not list again has left. */
static void
brewery_sweep(struct brewery *b)
{
	struct brewery_occ *o, **stale = NULL;
	int64_t now = timeutil_wall_ms();
	size_t i, n = 0;

	/* Collect first: handlers may use the table while we report. */
	for (i = 0; i < BREWERY_BUCKETS; i++) {
		for (o = b->buckets[i]; o != NULL; o = o->hnext) {
			if (!o->pub.present || o->gen == b->gen)
				continue;
			stale = xreallocarray(stale, n + 1, sizeof(*stale));
			stale[n++] = o;
		}
	}
	/* Still present until departed here, so none is evicted early. */
	for (i = 0; i < n; i++) {
		o = stale[i];
		o->pub.had_stats = o->pub.has_stats;
		o->pub.prev_stats = o->pub.stats;
		brewery_occ_depart(b, o, now);
		log_info("brewery %s: %s left (not listed after rejoin)",
		    b->room, o->nick);
		if (!brewery_emit(b, o, BREWERY_LEFT))
			break;
	}
	free(stale);
}

/* ---- joining ---- */

static void
brewery_timer_set(struct brewery *b, uint32_t ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(b->timer, &tv);
}

static void
brewery_send_join(struct brewery *b)
{
	xmpp_ctx_t *ctx = xconn_ctx(b->xc);
	xmpp_stanza_t *pres, *x, *hist;
	char to[PRESENCE_ROOM_MAX + PRESENCE_NICK_MAX + 2];
	int r;

	/* Every attempt starts a generation: whoever the room lists before
	 * our self-presence is tagged with it (see brewery_sweep). */
	b->gen++;
	if (b->nick_try == 0)
		snprintf(b->nick, sizeof(b->nick), "%s", b->nick_base);
	else
		snprintf(b->nick, sizeof(b->nick), "%s-%u", b->nick_base,
		    b->nick_try + 1);
	snprintf(to, sizeof(to), "%s/%s", b->room, b->nick);
	pres = xmpp_presence_new(ctx);
	x = xmpp_stanza_new(ctx);
	hist = xmpp_stanza_new(ctx);
	if (pres == NULL || x == NULL || hist == NULL)
		fatalx("brewery: out of memory");
	xmpp_stanza_set_to(pres, to);
	xmpp_stanza_set_name(x, "x");
	xmpp_stanza_set_ns(x, PRESENCE_NS_MUC);
	xmpp_stanza_set_name(hist, "history");
	xmpp_stanza_set_attribute(hist, "maxstanzas", "0");
	xmpp_stanza_add_child(x, hist);
	xmpp_stanza_add_child(pres, x);
	xmpp_stanza_release(hist);
	xmpp_stanza_release(x);
	r = xconn_send(b->xc, pres);
	xmpp_stanza_release(pres);
	if (r != 0)
		log_debug("brewery %s: join not sent: %s", b->room,
		    strerror(-r));
	brewery_set_state(b, BREWERY_S_JOINING);
	brewery_timer_set(b, BREWERY_JOIN_TIMEOUT_MS);
}

/* Accept the default configuration of a room we created, whois anyone. */
static void
brewery_configure_room(struct brewery *b)
{
	xmpp_ctx_t *ctx = xconn_ctx(b->xc);
	xmpp_stanza_t *iq, *query, *form, *field, *value, *text;
	static const char *const fields[][2] = {
		{ "FORM_TYPE", "http://jabber.org/protocol/muc#roomconfig" },
		{ "muc#roomconfig_whois", "anyone" },
	};
	size_t i;

	iq = xmpp_iq_new(ctx, "set", "brewery-config");
	query = xmpp_stanza_new(ctx);
	form = xmpp_stanza_new(ctx);
	if (iq == NULL || query == NULL || form == NULL)
		fatalx("brewery: out of memory");
	xmpp_stanza_set_to(iq, b->room);
	xmpp_stanza_set_name(query, "query");
	xmpp_stanza_set_ns(query, BREWERY_NS_MUC_OWNER);
	xmpp_stanza_set_name(form, "x");
	xmpp_stanza_set_ns(form, "jabber:x:data");
	xmpp_stanza_set_type(form, "submit");
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		field = xmpp_stanza_new(ctx);
		value = xmpp_stanza_new(ctx);
		text = xmpp_stanza_new(ctx);
		if (field == NULL || value == NULL || text == NULL)
			fatalx("brewery: out of memory");
		xmpp_stanza_set_name(field, "field");
		xmpp_stanza_set_attribute(field, "var", fields[i][0]);
		xmpp_stanza_set_name(value, "value");
		xmpp_stanza_set_text(text, fields[i][1]);
		xmpp_stanza_add_child(value, text);
		xmpp_stanza_add_child(field, value);
		xmpp_stanza_add_child(form, field);
		xmpp_stanza_release(text);
		xmpp_stanza_release(value);
		xmpp_stanza_release(field);
	}
	xmpp_stanza_add_child(query, form);
	xmpp_stanza_add_child(iq, query);
	xmpp_stanza_release(form);
	xmpp_stanza_release(query);
	(void)xconn_send(b->xc, iq);
	xmpp_stanza_release(iq);
	log_info("brewery %s: created the room; configuration submitted",
	    b->room);
}

/* Not in the room, the session still up: try again after a while. */
static void
brewery_backoff(struct brewery *b)
{
	uint32_t ms = backoff_full_jitter(b->rejoin_attempt,
	    BREWERY_REJOIN_MIN_MS, BREWERY_REJOIN_MAX_MS);

	if (ms < BREWERY_REJOIN_MIN_MS / 2)
		ms = BREWERY_REJOIN_MIN_MS / 2;
	if (b->rejoin_attempt < 32)
		b->rejoin_attempt++;
	b->nick_try = 0;
	brewery_set_state(b, BREWERY_S_BACKOFF);
	brewery_timer_set(b, ms);
}

static void
brewery_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct brewery *b = arg;

	(void)fd;
	(void)what;
	b->depth++;
	if (b->state == BREWERY_S_JOINING) {
		log_warnx("brewery %s: no answer to our join as %s within "
		    "%u ms", b->room, b->nick, BREWERY_JOIN_TIMEOUT_MS);
		brewery_backoff(b);
	} else if (b->state == BREWERY_S_BACKOFF) {
		if (xconn_is_up(b->xc))
			brewery_send_join(b);
		else
			brewery_set_state(b, BREWERY_S_OFFLINE);
	}
	b->depth--;
	if (b->free_pending && b->depth == 0)
		brewery_destroy(b);
}

/* ---- presences ---- */

static void
brewery_self_presence(struct brewery *b, const struct presence *p)
{
	if (p->type == PRESENCE_ERROR) {
		if (b->state != BREWERY_S_JOINING)
			return;
		evtimer_del(b->timer);
		if (p->error_code == 409 &&
		    b->nick_try + 1 < BREWERY_NICK_TRIES) {
			log_warnx("brewery %s: nickname %s is taken; trying "
			    "another", b->room, b->nick);
			b->nick_try++;
			brewery_send_join(b);
			return;
		}
		log_warnx("brewery %s: cannot join as %s: error %d%s%s",
		    b->room, b->nick, p->error_code,
		    p->error_condition != NULL ? " " : "",
		    p->error_condition != NULL ? p->error_condition : "");
		brewery_backoff(b);
		return;
	}
	if (p->type == PRESENCE_UNAVAILABLE) {
		if (b->state != BREWERY_S_JOINED &&
		    b->state != BREWERY_S_JOINING)
			return;
		log_warnx("brewery %s: we are out of the room%s", b->room,
		    (p->status & PRESENCE_ST_REMOVED) ? " (removed by the "
		    "service)" : "");
		b->down_since = timeutil_mono_ms();
		brewery_backoff(b);
		(void)brewery_emit_link(b, false);
		return;
	}
	if (!(p->status & PRESENCE_ST_SELF) || b->state != BREWERY_S_JOINING)
		return;	/* an update of our own presence */
	evtimer_del(b->timer);
	b->rejoin_attempt = 0;
	b->down_since = 0;
	brewery_set_state(b, BREWERY_S_JOINED);
	log_info("brewery %s: joined as %s, %zu occupants", b->room, b->nick,
	    b->npresent);
	if (p->status & PRESENCE_ST_CREATED)
		brewery_configure_room(b);
	brewery_sweep(b);
	if (b->free_pending)
		return;
	(void)brewery_emit_link(b, true);
}

static void
brewery_presence(struct brewery *b, const struct presence *p)
{
	struct brewery_occ *o;
	int64_t now = timeutil_wall_ms();
	enum brewery_change change;

	if (p->type == PRESENCE_ERROR)
		return;		/* about someone else: not ours to handle */
	o = brewery_lookup(b, p->nickname, false);
	if (p->type == PRESENCE_UNAVAILABLE) {
		if (o == NULL || !o->pub.present)
			return;
		o->pub.had_stats = o->pub.has_stats;
		o->pub.prev_stats = o->pub.stats;
		o->pub.last_ms = now;
		o->pub.presences++;
		brewery_occ_depart(b, o, now);
		log_info("brewery %s: %s left", b->room, o->nick);
		(void)brewery_emit(b, o, BREWERY_LEFT);
		return;
	}
	if (o == NULL || !o->pub.present) {
		if (b->npresent >= BREWERY_MAX_OCCUPANTS) {
			brewery_warn_peer(b, "brewery %s: %d occupants "
			    "already; ignoring %s", b->room,
			    BREWERY_MAX_OCCUPANTS, p->nickname);
			return;
		}
		if (o == NULL) {
			o = brewery_occ_add(b, p->nickname);
			o->pub.joined_ms = now;
		} else {
			brewery_occ_arrive(b, o, now);
		}
		o->pub.had_stats = false;
		presence_stats_init(&o->pub.prev_stats);
		change = BREWERY_JOINED;
	} else {
		o->pub.had_stats = o->pub.has_stats;
		o->pub.prev_stats = o->pub.stats;
		change = BREWERY_UPDATED;
	}
	o->gen = b->gen;
	o->pub.last_ms = now;
	o->pub.presences++;
	if (p->has_stats) {
		o->pub.has_stats = true;
		o->pub.stats = p->stats;
		o->pub.stats.received_ms = now;
	} else if (p->stats_invalid) {
		o->pub.bad_stats++;
		brewery_warn_peer(b, "brewery %s: %s sent colibri stats over "
		    "the limits; ignored", b->room, o->nick);
	}
	if (change == BREWERY_JOINED)
		log_info("brewery %s: %s joined (%s)", b->room, o->nick,
		    o->pub.has_stats ? "with colibri stats" : "no stats");
	else
		log_debug("brewery %s: presence of %s", b->room, o->nick);
	(void)brewery_emit(b, o, change);
}

void
brewery_feed_stanza(struct brewery *b, xmpp_stanza_t *stanza)
{
	struct presence *p;
	const char *name = xmpp_stanza_get_name(stanza);
	int r;

	if (name == NULL || strcmp(name, "presence") != 0 ||
	    b->state == BREWERY_S_STOPPED || b->free_pending)
		return;
	p = xmalloc(sizeof(*p));
	if ((r = presence_parse(stanza, p)) != 0) {
		brewery_warn_peer(b, "brewery %s: malformed presence "
		    "ignored (%s)", b->room, strerror(-r));
		free(p);
		return;
	}
	if (strcmp(p->room, b->room) != 0 || p->nickname[0] == '\0') {
		log_debug("brewery %s: presence from elsewhere ignored",
		    b->room);
		free(p);
		return;
	}
	b->depth++;
	if (strcmp(p->nickname, b->nick) == 0)
		brewery_self_presence(b, p);
	else
		brewery_presence(b, p);
	b->depth--;
	free(p);
	if (b->free_pending && b->depth == 0)
		brewery_destroy(b);
}

void
brewery_feed_link(struct brewery *b, bool up)
{
	if (b->state == BREWERY_S_STOPPED || b->free_pending)
		return;
	b->depth++;
	evtimer_del(b->timer);
	if (up) {
		/* A new session: join again, from the plain nickname. */
		b->nick_try = 0;
		b->rejoin_attempt = 0;
		brewery_send_join(b);
	} else {
		if (b->down_since == 0)
			b->down_since = timeutil_mono_ms();
		brewery_set_state(b, BREWERY_S_OFFLINE);
		(void)brewery_emit_link(b, false);
	}
	b->depth--;
	if (b->free_pending && b->depth == 0)
		brewery_destroy(b);
}

static void
brewery_xconn_up(void *arg)
{
	brewery_feed_link(arg, true);
}

static void
brewery_xconn_down(int error, const char *why, void *arg)
{
	(void)error;
	(void)why;
	brewery_feed_link(arg, false);
}

static void
brewery_xconn_stanza(xmpp_stanza_t *stanza, void *arg)
{
	brewery_feed_stanza(arg, stanza);
}

/* ---- public API ---- */

static char *
brewery_room_normalize(const char *jid)
{
	const char *at;
	char *room;
	size_t i, len;

	if (jid == NULL || (len = strlen(jid)) < 3 || len > PRESENCE_ROOM_MAX)
		return NULL;
	at = strchr(jid, '@');
	if (at == NULL || at == jid || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL)
		return NULL;
	room = xstrdup(jid);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)room[i];

		if (c <= 0x20 || c >= 0x7f || c == '/' || c == '"' ||
		    c == '\'' || c == '<' || c == '>' || c == '&') {
			free(room);
			return NULL;
		}
		if (c >= 'A' && c <= 'Z')
			room[i] = (char)(c + 32);
	}
	return room;
}

struct brewery *
brewery_new(struct event_base *base, const struct xconn_config *xcfg,
    const char *room_jid, const char *nickname,
    const struct brewery_handlers *handlers, void *arg)
{
	static const struct xconn_handlers xh = {
		.up = brewery_xconn_up,
		.down = brewery_xconn_down,
		.stanza = brewery_xconn_stanza,
	};
	struct brewery *b;
	char *room;

	if ((room = brewery_room_normalize(room_jid)) == NULL) {
		log_warnx("brewery: malformed room JID");
		return NULL;
	}
	if (!presence_nick_valid(nickname) ||
	    strlen(nickname) > PRESENCE_NICK_MAX - 4) {
		log_warnx("brewery: malformed nickname");
		free(room);
		return NULL;
	}
	b = xcalloc(1, sizeof(*b));
	b->base = base;
	b->room = room;
	b->nick_base = xstrdup(nickname);
	snprintf(b->nick, sizeof(b->nick), "%s", nickname);
	if (handlers != NULL)
		b->handlers = *handlers;
	b->arg = arg;
	TAILQ_INIT(&b->gone);
	b->state = BREWERY_S_IDLE;
	if ((b->xc = xconn_new(base, xcfg, &xh, b)) == NULL) {
		free(b->room);
		free(b->nick_base);
		free(b);
		return NULL;
	}
	if ((b->timer = evtimer_new(base, brewery_timer_cb, b)) == NULL)
		fatalx("brewery: evtimer_new");
	return b;
}

void
brewery_start(struct brewery *b)
{
	if (b->state != BREWERY_S_IDLE && b->state != BREWERY_S_STOPPED)
		return;
	b->down_since = timeutil_mono_ms();
	brewery_set_state(b, BREWERY_S_OFFLINE);
	xconn_start(b->xc);
}

void
brewery_stop(struct brewery *b)
{
	xmpp_stanza_t *pres;
	char to[PRESENCE_ROOM_MAX + PRESENCE_NICK_MAX + 2];

	if (b->state == BREWERY_S_STOPPED)
		return;
	evtimer_del(b->timer);
	if (b->state == BREWERY_S_JOINED || b->state == BREWERY_S_JOINING) {
		pres = xmpp_presence_new(xconn_ctx(b->xc));
		if (pres == NULL)
			fatalx("brewery: out of memory");
		snprintf(to, sizeof(to), "%s/%s", b->room, b->nick);
		xmpp_stanza_set_to(pres, to);
		xmpp_stanza_set_type(pres, "unavailable");
		(void)xconn_send(b->xc, pres);
		xmpp_stanza_release(pres);
	}
	brewery_set_state(b, BREWERY_S_STOPPED);
	if (b->down_since == 0)
		b->down_since = timeutil_mono_ms();
	b->link_reported = false;
	xconn_stop(b->xc);
}

static void
brewery_destroy(struct brewery *b)
{
	struct brewery_occ *o, *next;
	size_t i;

	for (i = 0; i < BREWERY_BUCKETS; i++) {
		for (o = b->buckets[i]; o != NULL; o = next) {
			next = o->hnext;
			free(o->nick);
			free(o);
		}
	}
	event_free(b->timer);
	xconn_free(b->xc);
	free(b->room);
	free(b->nick_base);
	free(b);
}

void
brewery_free(struct brewery *b)
{
	if (b == NULL)
		return;
	if (b->depth > 0) {
		b->free_pending = true;
		evtimer_del(b->timer);
		return;
	}
	brewery_destroy(b);
}

bool
brewery_joined(const struct brewery *b)
{
	return b->state == BREWERY_S_JOINED;
}

int64_t
brewery_down_since(const struct brewery *b)
{
	return b->state == BREWERY_S_JOINED ? 0 : b->down_since;
}

const struct brewery_occupant *
brewery_find(const struct brewery *b, const char *nickname)
{
	struct brewery_occ *o;

	if (nickname == NULL)
		return NULL;
	o = brewery_lookup(b, nickname, true);
	return o != NULL ? &o->pub : NULL;
}

size_t
brewery_count(const struct brewery *b)
{
	return b->npresent;
}

void
brewery_foreach(const struct brewery *b, bool with_gone,
    void (*fn)(const struct brewery_occupant *occ, void *arg), void *arg)
{
	struct brewery_occ *o;
	size_t i;

	for (i = 0; i < BREWERY_BUCKETS; i++)
		for (o = b->buckets[i]; o != NULL; o = o->hnext)
			if (o->pub.present || with_gone)
				fn(&o->pub, arg);
}

const char *
brewery_nickname(const struct brewery *b)
{
	return b->nick;
}

struct xconn *
brewery_xconn(struct brewery *b)
{
	return b->xc;
}
