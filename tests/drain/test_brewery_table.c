/*
 * drain/brewery.c without a server: presences are fed as libstrophe would
 * deliver them, and the occupant table, the join logic (self-presence,
 * nickname conflict, sweep of stale occupants after a rejoin, removal) and
 * the caps are checked.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strophe.h>

#include "drain/brewery.h"
#include "handler/log.h"
#include "tests/test.h"

#define ROOM	"jvbbrewery@internal.auth.jitsi.test"
#define NS_COLIBRI "xmlns=\"http://jitsi.org/protocol/colibri\""
#define NS_MUC_USER "xmlns=\"http://jabber.org/protocol/muc#user\""

static xmpp_ctx_t *ctx;
static struct event_base *base;

struct seen {
	unsigned joined, updated, left, link_up, link_down;
	char last_nick[160];
	enum brewery_change last_change;
	bool last_had_stats;
	int last_prev_participants, last_participants;
	struct brewery **free_on_left;	/* free the brewery from the handler */
};

static void
on_occupant(const struct brewery_occupant *occ, enum brewery_change change,
    void *arg)
{
	struct seen *s = arg;

	snprintf(s->last_nick, sizeof(s->last_nick), "%s", occ->nickname);
	s->last_change = change;
	s->last_had_stats = occ->had_stats;
	s->last_prev_participants = occ->prev_stats.participants;
	s->last_participants = occ->stats.participants;
	switch (change) {
	case BREWERY_JOINED:
		s->joined++;
		break;
	case BREWERY_UPDATED:
		s->updated++;
		break;
	case BREWERY_LEFT:
		s->left++;
		if (s->free_on_left != NULL && *s->free_on_left != NULL) {
			brewery_free(*s->free_on_left);
			*s->free_on_left = NULL;
		}
		break;
	}
}

static void
on_link(bool up, void *arg)
{
	struct seen *s = arg;

	if (up)
		s->link_up++;
	else
		s->link_down++;
}

static const struct brewery_handlers handlers = {
	.occupant = on_occupant,
	.link = on_link,
};

static struct brewery *
make(struct seen *s)
{
	struct xconn_config xcfg = {
		.server = "127.0.0.1",
		.port = 1,
		.domain = "auth.jitsi.test",
		.username = "observer",
		.password = "not-used",
	};

	memset(s, 0, sizeof(*s));
	/* The room JID as jicofo spells it. */
	return brewery_new(base, &xcfg, "JvbBrewery@Internal.Auth.Jitsi.Test",
	    "observer", &handlers, s);
}

static void
feed(struct brewery *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
feed(struct brewery *b, const char *fmt, ...)
{
	static char xml[65536];
	xmpp_stanza_t *st;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(xml, sizeof(xml), fmt, ap);
	va_end(ap);
	st = xmpp_stanza_new_from_string(ctx, xml);
	test_assert(st != NULL);
	brewery_feed_stanza(b, st);
	xmpp_stanza_release(st);
}

static void
bridge(struct brewery *b, const char *nick, int participants)
{
	feed(b, "<presence from=\"" ROOM "/%s\"><stats " NS_COLIBRI ">"
	    "<stat name=\"participants\" value=\"%d\"/>"
	    "<stat name=\"drain\" value=\"false\"/></stats>"
	    "<x " NS_MUC_USER "><item role=\"participant\"/></x></presence>",
	    nick, participants);
}

static void
plain(struct brewery *b, const char *nick)
{
	feed(b, "<presence from=\"" ROOM "/%s\"><x " NS_MUC_USER "/>"
	    "</presence>", nick);
}

static void
leave(struct brewery *b, const char *nick)
{
	feed(b, "<presence type=\"unavailable\" from=\"" ROOM "/%s\"><x "
	    NS_MUC_USER "/></presence>", nick);
}

static void
self(struct brewery *b, const char *extra_status)
{
	feed(b, "<presence from=\"" ROOM "/%s\"><x " NS_MUC_USER ">"
	    "<status code=\"110\"/>%s</x></presence>", brewery_nickname(b),
	    extra_status);
}

static void
test_join_and_occupants(void)
{
	struct seen s;
	struct brewery *b = make(&s);
	const struct brewery_occupant *o;

	test_assert(b != NULL);
	test_assert(!brewery_joined(b));
	brewery_feed_link(b, true);
	test_assert(!brewery_joined(b));

	/* The room lists its occupants, then our self-presence. */
	bridge(b, "i-0aaa", 3);
	plain(b, "focus");
	plain(b, "i-0bbb");
	test_assert_int(s.joined, 3);
	test_assert_int(brewery_count(b), 3);
	test_assert_int(s.link_up, 0);
	self(b, "<status code=\"100\"/>");
	test_assert(brewery_joined(b));
	test_assert_int(brewery_down_since(b), 0);
	test_assert_int(s.link_up, 1);
	test_assert_int(s.left, 0);

	o = brewery_find(b, "i-0aaa");
	test_assert(o != NULL && o->present && o->has_stats);
	test_assert_int(o->stats.participants, 3);
	test_assert(o->stats.received_ms > 0);
	test_assert(o->joined_ms > 0 && o->left_ms == 0);
	test_assert(brewery_find(b, "focus") != NULL);
	test_assert(!brewery_find(b, "focus")->has_stats);
	test_assert(brewery_find(b, "observer") == NULL);
	test_assert(brewery_find(b, "nobody") == NULL);

	/* A new stats presence: an update, old and new visible. */
	bridge(b, "i-0aaa", 5);
	test_assert_int(s.updated, 1);
	test_assert_str(s.last_nick, "i-0aaa");
	test_assert(s.last_had_stats);
	test_assert_int(s.last_prev_participants, 3);
	test_assert_int(s.last_participants, 5);
	test_assert_int(brewery_find(b, "i-0aaa")->presences, 2);

	/* The stats of a presence over the limits are ignored, the old
	 * ones kept. */
	{
		char xml[16384];
		size_t off;
		int i;

		off = (size_t)snprintf(xml, sizeof(xml), "<presence from=\""
		    ROOM "/i-0aaa\"><stats " NS_COLIBRI ">");
		for (i = 0; i < PRESENCE_MAX_STATS + 1; i++)
			off += (size_t)snprintf(xml + off, sizeof(xml) - off,
			    "<stat name=\"p\" value=\"1\"/>");
		snprintf(xml + off, sizeof(xml) - off, "</stats></presence>");
		feed(b, "%s", xml);
	}
	o = brewery_find(b, "i-0aaa");
	test_assert_int(o->bad_stats, 1);
	test_assert(o->has_stats);
	test_assert_int(o->stats.participants, 5);

	/* Leaving. */
	leave(b, "i-0bbb");
	test_assert_int(s.left, 1);
	test_assert_str(s.last_nick, "i-0bbb");
	test_assert_int(brewery_count(b), 2);
	o = brewery_find(b, "i-0bbb");
	test_assert(o != NULL && !o->present && o->left_ms > 0);
	/* A second unavailable changes nothing. */
	leave(b, "i-0bbb");
	test_assert_int(s.left, 1);
	/* Coming back is a join again, with fresh stats. */
	bridge(b, "i-0bbb", 1);
	test_assert_int(s.joined, 4);
	test_assert(!s.last_had_stats);
	test_assert(brewery_find(b, "i-0bbb")->present);
	test_assert_int(brewery_count(b), 3);

	/* Ignored: another room, malformed, errors about others, messages,
	 * a presence of ours without 110 (another session of ours). */
	feed(b, "<presence from=\"other@internal.auth.jitsi.test/i-0ccc\"/>");
	feed(b, "<presence from=\"" ROOM "/bad&#10;nick\"/>");
	feed(b, "<presence type=\"error\" from=\"" ROOM "/i-0aaa\"><error "
	    "type=\"cancel\"><conflict xmlns=\"urn:ietf:params:xml:ns:"
	    "xmpp-stanzas\"/></error></presence>");
	feed(b, "<message from=\"" ROOM "/i-0aaa\"><body>hi</body></message>");
	feed(b, "<presence from=\"" ROOM "/observer\"/>");
	test_assert_int(brewery_count(b), 3);
	test_assert(brewery_find(b, "i-0ccc") == NULL);
	test_assert(brewery_joined(b));
	brewery_free(b);
}

static void
test_case_rules(void)
{
	struct seen s;
	struct brewery *b = make(&s);
	const struct brewery_occupant *o;

	brewery_feed_link(b, true);
	plain(b, "i-0abc");
	/* The room JID's case does not matter. */
	feed(b, "<presence from=\"JVBBREWERY@internal.AUTH.jitsi.test/"
	    "Jvb-Two\"/>");
	self(b, "");
	test_assert_int(brewery_count(b), 2);
	o = brewery_find(b, "I-0ABC");
	test_assert(o != NULL);
	test_assert_str(o->nickname, "i-0abc");
	/* Exact matches win over case-folded ones. */
	plain(b, "I-0ABC");
	test_assert_int(brewery_count(b), 3);
	test_assert_str(brewery_find(b, "I-0ABC")->nickname, "I-0ABC");
	test_assert_str(brewery_find(b, "i-0abc")->nickname, "i-0abc");
	test_assert_str(brewery_find(b, "jvb-two")->nickname, "Jvb-Two");
	brewery_free(b);
}

static void
test_rejoin_sweeps_stale(void)
{
	struct seen s;
	struct brewery *b = make(&s);

	brewery_feed_link(b, true);
	bridge(b, "i-01", 1);
	bridge(b, "i-02", 2);
	plain(b, "focus");
	self(b, "");
	test_assert_int(brewery_count(b), 3);

	/* The link drops: we are out, occupants kept until we know. */
	brewery_feed_link(b, false);
	test_assert(!brewery_joined(b));
	test_assert(brewery_down_since(b) > 0);
	test_assert_int(s.link_down, 1);
	test_assert_int(brewery_count(b), 3);
	/* A second "down" is not reported twice. */
	brewery_feed_link(b, false);
	test_assert_int(s.link_down, 1);

	/* Rejoin: only i-02 is listed again. */
	brewery_feed_link(b, true);
	bridge(b, "i-02", 4);
	test_assert_int(s.updated, 1);
	test_assert_int(s.left, 0);
	self(b, "");
	test_assert_int(s.link_up, 2);
	test_assert_int(s.left, 2);
	test_assert_int(brewery_count(b), 1);
	test_assert(!brewery_find(b, "i-01")->present);
	test_assert(!brewery_find(b, "focus")->present);
	test_assert(brewery_find(b, "i-01")->had_stats);
	test_assert(brewery_find(b, "i-02")->present);
	brewery_free(b);
}

static void
test_nick_conflict(void)
{
	struct seen s;
	struct brewery *b = make(&s);
	int i;

	brewery_feed_link(b, true);
	test_assert_str(brewery_nickname(b), "observer");
	feed(b, "<presence type=\"error\" from=\"" ROOM "/observer\"><error "
	    "type=\"cancel\"><conflict xmlns=\"urn:ietf:params:xml:ns:"
	    "xmpp-stanzas\"/></error></presence>");
	test_assert_str(brewery_nickname(b), "observer-2");
	test_assert(!brewery_joined(b));
	/* Whoever holds "observer" is an ordinary occupant to us. */
	plain(b, "observer");
	self(b, "");
	test_assert(brewery_joined(b));
	test_assert(brewery_find(b, "observer") != NULL);
	test_assert(brewery_find(b, "observer-2") == NULL);

	/* After a reconnect the plain nickname is tried first again. */
	brewery_feed_link(b, false);
	brewery_feed_link(b, true);
	test_assert_str(brewery_nickname(b), "observer");

	/* Conflicts up to the limit, then a pause (backoff). */
	for (i = 0; i < BREWERY_NICK_TRIES; i++)
		feed(b, "<presence type=\"error\" from=\"" ROOM "/%s\"><error "
		    "code=\"409\" type=\"cancel\"/></presence>",
		    brewery_nickname(b));
	test_assert(!brewery_joined(b));
	test_assert_str(brewery_nickname(b), "observer-10");
	brewery_free(b);
}

static void
test_removed(void)
{
	struct seen s;
	struct brewery *b = make(&s);

	brewery_feed_link(b, true);
	self(b, "<status code=\"201\"/>");
	test_assert(brewery_joined(b));
	feed(b, "<presence type=\"unavailable\" from=\"" ROOM "/observer\">"
	    "<x " NS_MUC_USER "><status code=\"307\"/><status code=\"110\"/>"
	    "</x></presence>");
	test_assert(!brewery_joined(b));
	test_assert_int(s.link_down, 1);
	test_assert(brewery_down_since(b) > 0);
	brewery_free(b);
}

static void
count_cb(const struct brewery_occupant *occ, void *arg)
{
	size_t *n = arg;

	(void)occ;
	(*n)++;
}

static void
test_caps(void)
{
	struct seen s;
	struct brewery *b = make(&s);
	char nick[32];
	size_t n;
	int i;

	brewery_feed_link(b, true);
	self(b, "");
	for (i = 0; i < BREWERY_MAX_OCCUPANTS + 50; i++) {
		snprintf(nick, sizeof(nick), "n%d", i);
		plain(b, nick);
	}
	test_assert_int(brewery_count(b), BREWERY_MAX_OCCUPANTS);
	test_assert(brewery_find(b, "n10049") == NULL);
	for (i = 0; i < 5000; i++) {
		snprintf(nick, sizeof(nick), "n%d", i);
		leave(b, nick);
	}
	test_assert_int(brewery_count(b), BREWERY_MAX_OCCUPANTS - 5000);
	n = 0;
	brewery_foreach(b, true, count_cb, &n);
	test_assert_int(n, BREWERY_MAX_OCCUPANTS - 5000 + BREWERY_MAX_GONE);
	/* The oldest departures are forgotten first. */
	test_assert(brewery_find(b, "n0") == NULL);
	test_assert(brewery_find(b, "n4999") != NULL);
	n = 0;
	brewery_foreach(b, false, count_cb, &n);
	test_assert_int(n, BREWERY_MAX_OCCUPANTS - 5000);
	/* Room again for newcomers. */
	plain(b, "late");
	test_assert(brewery_find(b, "late") != NULL);
	brewery_free(b);
}

/* A handler may free the brewery, even in the middle of a sweep. */
static void
test_free_from_handler(void)
{
	struct seen s;
	struct brewery *b = make(&s);

	brewery_feed_link(b, true);
	plain(b, "a");
	plain(b, "b");
	plain(b, "c");
	self(b, "");
	brewery_feed_link(b, false);
	brewery_feed_link(b, true);
	s.free_on_left = &b;
	self(b, "");	/* sweeps a, b, c: the first LEFT frees */
	test_assert(b == NULL);
	test_assert_int(s.left, 1);
}

static void
test_bad_arguments(void)
{
	struct xconn_config xcfg = {
		.server = "127.0.0.1", .domain = "auth.jitsi.test",
		.username = "observer", .password = "x",
	};
	struct seen s;

	test_assert(brewery_new(base, &xcfg, "noroom", "n", &handlers, &s) ==
	    NULL);
	test_assert(brewery_new(base, &xcfg, ROOM "/res", "n", &handlers,
	    &s) == NULL);
	test_assert(brewery_new(base, &xcfg, ROOM, "", &handlers, &s) ==
	    NULL);
	test_assert(brewery_new(base, &xcfg, ROOM, "bad\nnick", &handlers,
	    &s) == NULL);
	xcfg.password = "";
	test_assert(brewery_new(base, &xcfg, ROOM, "n", &handlers, &s) ==
	    NULL);
	xcfg.password = "x";
	xcfg.username = "a@b";
	test_assert(brewery_new(base, &xcfg, ROOM, "n", &handlers, &s) ==
	    NULL);
}

int
main(void)
{
	log_init(LOG_LEVEL_WARNING);
	ctx = xmpp_ctx_new(NULL, NULL);
	base = event_base_new();
	test_assert(ctx != NULL && base != NULL);
	test_run(test_join_and_occupants);
	test_run(test_case_rules);
	test_run(test_rejoin_sweeps_stale);
	test_run(test_nick_conflict);
	test_run(test_removed);
	test_run(test_caps);
	test_run(test_free_from_handler);
	test_run(test_bad_arguments);
	event_base_free(base);
	xmpp_ctx_free(ctx);
	return 0;
}
