/*
 * One MUC presence stanza from the brewery, parsed and validated (pure: no
 * I/O, no clock, no logging above debug).  jvb-api.md §4.2 gives the shape:
 * a bridge's presence carries <stats xmlns="http://jitsi.org/protocol/colibri">
 * with <stat name=".." value=".."/> children; the MUC service adds
 * <x xmlns="http://jabber.org/protocol/muc#user"> with status codes.
 *
 * Everything is bounded: the children looked at, the stats counted, every
 * name and value length, every number's range.  Identity problems (not a
 * presence, bad "from", bad nickname, unknown type) reject the stanza; size
 * problems never do: they are flagged, and the parts over the limits are
 * left out, so an oversized presence cannot hide that its sender left.
 */
#ifndef JL_DRAIN_PRESENCE_H
#define JL_DRAIN_PRESENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <strophe.h>

#define PRESENCE_NS_COLIBRI	"http://jitsi.org/protocol/colibri"
#define PRESENCE_NS_MUC		"http://jabber.org/protocol/muc"
#define PRESENCE_NS_MUC_USER	"http://jabber.org/protocol/muc#user"
#define PRESENCE_NS_STANZAS	"urn:ietf:params:xml:ns:xmpp-stanzas"

/* Limits (a real bridge sends about 80 stats, 5 KB in all). */
#define PRESENCE_NICK_MAX	128	/* bytes, printable ASCII */
#define PRESENCE_ROOM_MAX	255	/* bare JID of the room */
#define PRESENCE_MAX_CHILDREN	256	/* children of <presence> looked at */
#define PRESENCE_MAX_STATS	256	/* more: the whole <stats> is rejected */
#define PRESENCE_STAT_NAME_MAX	64
#define PRESENCE_STAT_VALUE_MAX	256
#define PRESENCE_MAX_STATUS	16	/* muc#user <status/> looked at */
#define PRESENCE_TEXT_MAX	(256 * 1024)	/* raw entry point (Prosody's
						   default stanza limit) */
#define PRESENCE_TEXT_DEPTH_MAX	32	/* raw entry point, element nesting */
#define COLIBRI_STR_MAX		64	/* version, region, release (with NUL) */

/*
 * The colibri stats we act on.  Counters are -1 and stress_level is -1.0
 * when absent or invalid; graceful_shutdown and shutting_down are false
 * when absent (older bridges sent shutting_down only when true); drain has
 * its own has_drain because jicofo treats a missing drain as "draining".
 */
struct colibri_stats {
	bool	 has_drain, drain;
	bool	 graceful_shutdown, shutting_down;
	bool	 healthy_known, healthy;
	int	 local_endpoints, participants, endpoints, conferences;
	int	 octo_endpoints;
	double	 stress_level;
	char	 version[COLIBRI_STR_MAX];	/* "" when absent */
	char	 region[COLIBRI_STR_MAX];
	char	 release[COLIBRI_STR_MAX];
	/* current_timestamp: when the bridge took these counters (UTC,
	 * Unix ms); 0 when absent.  Counters are snapshots refreshed every
	 * stats interval while the flags are live (jvb-api.md §2.1). */
	int64_t	 snapshot_ms;
	unsigned nstats;	/* <stat> elements seen */
	unsigned nbad;		/* of which rejected (bad name, bad value) */
	int64_t	 received_ms;	/* wall clock; set by the receiver, not here */
};

enum presence_type {
	PRESENCE_AVAILABLE,
	PRESENCE_UNAVAILABLE,
	PRESENCE_ERROR,
};

/* muc#user status codes we act on (XEP-0045 §15.6). */
#define PRESENCE_ST_SELF	0x01	/* 110: this presence is about us */
#define PRESENCE_ST_CREATED	0x02	/* 201: the room was created */
#define PRESENCE_ST_NICKCHANGE	0x04	/* 303 */
#define PRESENCE_ST_REMOVED	0x08	/* 301, 307, 321, 322, 332: kicked,
					   banned, or the service went away */

struct presence {
	enum presence_type type;
	char	 room[PRESENCE_ROOM_MAX + 1];	/* bare JID of "from", lower
						   case (ASCII) */
	char	 nickname[PRESENCE_NICK_MAX + 1]; /* "" when from has none */
	bool	 muc_user;	/* had an <x xmlns=muc#user> */
	unsigned status;	/* PRESENCE_ST_* */
	int	 error_code;	/* type error: 409, 403, ... (0: unknown) */
	const char *error_condition; /* static string, or NULL */
	bool	 has_stats;	/* a valid <stats> element was present */
	bool	 stats_invalid;	/* a <stats> was present but rejected */
	bool	 truncated;	/* more children than PRESENCE_MAX_CHILDREN */
	struct colibri_stats stats;	/* defaults when !has_stats */
};

/* Every field absent. */
void presence_stats_init(struct colibri_stats *st);

/*
 * Apply one stat (also usable for /colibri/stats JSON with values turned
 * into their text form).  Returns 0 when applied, 1 when the name is not
 * one we keep, -EINVAL when the name or value is malformed or out of range
 * (the field is then left as it was).
 */
int presence_stat_apply(struct colibri_stats *st, const char *name,
    const char *value);

/*
 * Parse a presence stanza as libstrophe delivered it.  0 and *ret filled,
 * or -EPROTO (not a presence, from missing or malformed, nickname not
 * printable ASCII or too long, unknown type).
 */
int presence_parse(xmpp_stanza_t *stanza, struct presence *ret);

/*
 * The same from raw bytes (tests, fuzzing): at most PRESENCE_TEXT_MAX bytes
 * and PRESENCE_TEXT_DEPTH_MAX levels of nesting (-E2BIG), no NUL byte,
 * well-formed UTF-8 XML (-EPROTO).  ctx is only used to build the stanza.
 */
int presence_parse_text(xmpp_ctx_t *ctx, const char *data, size_t len,
    struct presence *ret);

/* "available", "unavailable", "error". */
const char *presence_type_name(enum presence_type type);

/* true when s is a nickname we accept (1..PRESENCE_NICK_MAX printable). */
bool presence_nick_valid(const char *s);

#endif
