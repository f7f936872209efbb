/*
 * The stanzas a bridge exchanges with the brewery MUC (jvb-api.md §4):
 * building the colibri stats presence, the goodbye, the instant-room
 * configuration, and reading what the MUC service answers to a join.
 */
#ifndef FB_PRESENCE_H
#define FB_PRESENCE_H

#include <stdbool.h>
#include <strophe.h>

#include "tests/fakebridge/stats.h"

#define PRESENCE_NS_COLIBRI	"http://jitsi.org/protocol/colibri"
#define PRESENCE_NS_MUC		"http://jabber.org/protocol/muc"
#define PRESENCE_NS_MUC_USER	"http://jabber.org/protocol/muc#user"
#define PRESENCE_NS_MUC_OWNER	"http://jabber.org/protocol/muc#owner"
#define PRESENCE_NS_HEALTH	"http://jitsi.org/protocol/healthcheck"

/* <presence to=occupant>[<x muc/>]<stats><stat name value/>...</stats> */
xmpp_stanza_t *presence_stats(xmpp_ctx_t *ctx, const char *to,
    const struct stats *st, bool join);
xmpp_stanza_t *presence_unavailable(xmpp_ctx_t *ctx, const char *to);
/* Accept a new room as is, but let everyone see real JIDs (Smack's
 * createOrJoin does this with muc#roomconfig_whois = anyone). */
xmpp_stanza_t *presence_room_config(xmpp_ctx_t *ctx, const char *room,
    const char *id);

/* What a presence from the room about our occupant says. */
struct presence_muc {
	bool		 unavailable;
	bool		 self;		/* status 110 */
	bool		 created;	/* status 201: we created the room */
	char		 error[48];	/* "conflict", ...; "" if none */
};

void presence_parse_muc(xmpp_stanza_t *st, struct presence_muc *out);

#endif
