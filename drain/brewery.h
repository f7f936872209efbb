/*
 * The brewery watcher: joins the jicofo brewery MUC over its own xconn
 * with a nickname of its own (our presence has no colibri stats, so jicofo
 * ignores us), rejoins after every reconnect, and keeps a table of the
 * occupants with their last colibri stats (jvb-api.md §4).
 *
 * - Joining: <presence to="room/nick"><x xmlns=muc><history
 *   maxstanzas="0"/></x></presence>; the self-presence (status 110) means
 *   joined.  The room lists its occupants before our self-presence, so on
 *   every (re)join an occupant that was present and is not listed again is
 *   reported as left.  Nickname conflict (409): the nickname gets a suffix
 *   ("-2", "-3", ...).  If we create the room (status 201) we submit its
 *   configuration at once (muc#roomconfig_whois=anyone, as a bridge does),
 *   so a locked room never keeps bridges out.
 * - Bounds: at most BREWERY_MAX_OCCUPANTS present occupants (more are
 *   ignored, with a rate-limited warning) and BREWERY_MAX_GONE remembered
 *   departed ones (the oldest are forgotten first).
 * - Names: the room JID is compared without regard to ASCII case (jicofo
 *   writes "JvbBrewery@", bridges "jvbbrewery@").  Nicknames are compared
 *   exactly, as XMPP resourceparts; brewery_find falls back to an ASCII
 *   case-insensitive match when no exact one exists.
 *
 * Occupant pointers handed out stay valid until control returns to the
 * loop.  Handlers may call brewery_stop/brewery_free.
 */
#ifndef JL_DRAIN_BREWERY_H
#define JL_DRAIN_BREWERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drain/presence.h"
#include "drain/xconn.h"

#define BREWERY_MAX_OCCUPANTS	10000
#define BREWERY_MAX_GONE	1024
#define BREWERY_JOIN_TIMEOUT_MS	15000
#define BREWERY_NICK_TRIES	10

struct event_base;

enum brewery_change {
	BREWERY_JOINED,		/* first presence (or first after leaving) */
	BREWERY_UPDATED,	/* another presence of a present occupant */
	BREWERY_LEFT,		/* unavailable, or missing after our rejoin */
};

struct brewery_occupant {
	const char *nickname;
	int64_t	 joined_ms;	/* wall clock */
	int64_t	 left_ms;	/* wall clock; 0 while present */
	int64_t	 last_ms;	/* wall clock of the last presence */
	bool	 present;
	bool	 has_stats;	/* stats holds the last valid colibri stats */
	struct colibri_stats stats;
	/* The state before the presence being reported, for handlers. */
	bool	 had_stats;
	struct colibri_stats prev_stats;
	unsigned presences;	/* presences received */
	unsigned bad_stats;	/* presences whose <stats> was rejected */
};

struct brewery_handlers {
	void (*occupant)(const struct brewery_occupant *occ,
	    enum brewery_change change, void *arg);
	/* In the room (true) or not any more (false): link lost, kicked. */
	void (*link)(bool up, void *arg);
};

struct brewery;

/*
 * NULL when room_jid ("name@muc.domain", no resource) or nickname
 * (printable ASCII, at most PRESENCE_NICK_MAX - 4 bytes) is malformed or
 * the connection settings are unusable.
 */
struct brewery *brewery_new(struct event_base *base,
    const struct xconn_config *xcfg, const char *room_jid,
    const char *nickname, const struct brewery_handlers *handlers,
    void *arg);
void brewery_start(struct brewery *b);
/* Leave the room and close the connection; no handler is called. */
void brewery_stop(struct brewery *b);
void brewery_free(struct brewery *b);

/* In the room now. */
bool brewery_joined(const struct brewery *b);
/* Monotonic ms since we are not in the room (or since start); 0 when in. */
int64_t brewery_down_since(const struct brewery *b);
/* A present or remembered occupant, or NULL. */
const struct brewery_occupant *brewery_find(const struct brewery *b,
    const char *nickname);
/* Occupants present now, us excluded. */
size_t brewery_count(const struct brewery *b);
/* Calls fn for every present occupant (and departed ones if with_gone). */
void brewery_foreach(const struct brewery *b, bool with_gone,
    void (*fn)(const struct brewery_occupant *occ, void *arg), void *arg);
/* The nickname we joined (or try to join) with. */
const char *brewery_nickname(const struct brewery *b);
struct xconn *brewery_xconn(struct brewery *b);

/*
 * What the xconn handlers call; public for table tests that run without a
 * server (the brewery need not be started).
 */
void brewery_feed_link(struct brewery *b, bool up);
void brewery_feed_stanza(struct brewery *b, xmpp_stanza_t *stanza);

#endif
