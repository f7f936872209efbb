/*
 * drain/presence.c: a table of brewery presences (the captured bridge shape
 * of jvb-api.md §4.2, missing fields, bad numbers, huge and deep inputs,
 * bad encodings) and what each must parse to, or why it is rejected.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strophe.h>

#include "drain/presence.h"
#include "handler/buf.h"
#include "tests/test.h"

static xmpp_ctx_t *ctx;

#define ROOM	"jvbbrewery@internal.auth.jitsi.test"
#define FROM	"from=\"" ROOM "/i-0123456789abcdef0\""
#define NS_COLIBRI "xmlns=\"http://jitsi.org/protocol/colibri\""
#define NS_MUC_USER "xmlns=\"http://jabber.org/protocol/muc#user\""

/* The shape jicofo logged for a real bridge (docker-jitsi-meet #1965). */
static const char captured[] =
    "<presence from=\"JvbBrewery@Internal.Auth.Jitsi.Test/"
    "i-0123456789abcdef0\" to=\"observer@auth.jitsi.test/x1\">"
    "<priority>0</priority>"
    "<stats " NS_COLIBRI ">"
    "<stat name=\"incoming_loss\" value=\"0.0\"/>"
    "<stat name=\"bit_rate_upload\" value=\"0\"/>"
    "<stat name=\"total_ice_succeeded_relayed\" value=\"0\"/>"
    "<stat name=\"average_participant_stress\" value=\"0.01\"/>"
    "<stat name=\"largest_conference\" value=\"3\"/>"
    "<stat name=\"graceful_shutdown\" value=\"false\"/>"
    "<stat name=\"shutting_down\" value=\"false\"/>"
    "<stat name=\"drain\" value=\"false\"/>"
    "<stat name=\"local_endpoints\" value=\"4\"/>"
    "<stat name=\"participants\" value=\"5\"/>"
    "<stat name=\"endpoints\" value=\"5\"/>"
    "<stat name=\"octo_endpoints\" value=\"1\"/>"
    "<stat name=\"conferences\" value=\"2\"/>"
    "<stat name=\"stress_level\" value=\"1.0E-4\"/>"
    "<stat name=\"healthy\" value=\"true\"/>"
    "<stat name=\"mucs_joined\" value=\"0\"/>"
    "<stat name=\"region\" value=\"eu-west-1\"/>"
    "<stat name=\"current_timestamp\" value=\"2026-11-24 06:35:37.123\"/>"
    "<stat name=\"version\" value=\"2.3.215-gbee626bf\"/>"
    "</stats>"
    "<c xmlns=\"http://jabber.org/protocol/caps\" hash=\"sha-1\" "
    "node=\"https://igniterealtime.org/projects/smack\" ver=\"k+Q=\"/>"
    "<occupant-id xmlns=\"urn:xmpp:occupant-id:0\" id=\"abc=\"/>"
    "<x " NS_MUC_USER "><item affiliation=\"owner\" "
    "jid=\"jvb@auth.jitsi.test/r1\" role=\"moderator\"/></x>"
    "</presence>";

static int
parse(const char *xml, struct presence *p)
{
	return presence_parse_text(ctx, xml, strlen(xml), p);
}

static void
test_captured(void)
{
	struct presence p;

	test_assert_int(parse(captured, &p), 0);
	test_assert_int(p.type, PRESENCE_AVAILABLE);
	test_assert_str(p.room, ROOM);
	test_assert_str(p.nickname, "i-0123456789abcdef0");
	test_assert(p.muc_user);
	test_assert_int(p.status, 0);
	test_assert(p.has_stats);
	test_assert(!p.stats_invalid);
	test_assert(!p.truncated);
	test_assert(p.stats.has_drain);
	test_assert(!p.stats.drain);
	test_assert(!p.stats.graceful_shutdown);
	test_assert(!p.stats.shutting_down);
	test_assert(p.stats.healthy_known && p.stats.healthy);
	test_assert_int(p.stats.local_endpoints, 4);
	test_assert_int(p.stats.participants, 5);
	test_assert_int(p.stats.endpoints, 5);
	test_assert_int(p.stats.octo_endpoints, 1);
	test_assert_int(p.stats.conferences, 2);
	test_assert(fabs(p.stats.stress_level - 1.0e-4) < 1e-12);
	test_assert_str(p.stats.version, "2.3.215-gbee626bf");
	test_assert_str(p.stats.region, "eu-west-1");
	test_assert_str(p.stats.release, "");
	test_assert_int(p.stats.nstats, 19);
	test_assert_int(p.stats.nbad, 0);
}

/* A presence without <stats> (jicofo, our observer) and one with few. */
static void
test_missing_fields(void)
{
	struct presence p;

	test_assert_int(parse("<presence " FROM "><x " NS_MUC_USER "/>"
	    "</presence>", &p), 0);
	test_assert(!p.has_stats);
	test_assert(!p.stats_invalid);
	test_assert_int(p.stats.local_endpoints, -1);

	test_assert_int(parse("<presence " FROM "><stats " NS_COLIBRI ">"
	    "<stat name=\"graceful_shutdown\" value=\"true\"/>"
	    "</stats></presence>", &p), 0);
	test_assert(p.has_stats);
	test_assert(p.stats.graceful_shutdown);
	/* Older bridges: shutting_down only when true; absent is false. */
	test_assert(!p.stats.shutting_down);
	/* jicofo reads a missing drain as "draining": keep it distinct. */
	test_assert(!p.stats.has_drain);
	test_assert(!p.stats.healthy_known);
	test_assert_int(p.stats.local_endpoints, -1);
	test_assert_int(p.stats.participants, -1);
	test_assert_int(p.stats.endpoints, -1);
	test_assert_int(p.stats.conferences, -1);
	test_assert(p.stats.stress_level == -1.0);
	test_assert_str(p.stats.version, "");

	/* An empty <stats/> is a valid stats element with nothing in it. */
	test_assert_int(parse("<presence " FROM "><stats " NS_COLIBRI "/>"
	    "</presence>", &p), 0);
	test_assert(p.has_stats);
	test_assert_int(p.stats.nstats, 0);

	/* A <stats> in another namespace is not colibri's. */
	test_assert_int(parse("<presence " FROM "><stats xmlns=\"urn:x\">"
	    "<stat name=\"drain\" value=\"true\"/></stats></presence>", &p),
	    0);
	test_assert(!p.has_stats);
}

static void
test_types_and_status(void)
{
	struct presence p;

	test_assert_int(parse("<presence " FROM " type=\"unavailable\">"
	    "<x " NS_MUC_USER "><item role=\"none\"/></x></presence>", &p), 0);
	test_assert_int(p.type, PRESENCE_UNAVAILABLE);

	test_assert_int(parse("<presence " FROM "><x " NS_MUC_USER ">"
	    "<status code=\"110\"/><status code=\"201\"/><status code=\"x\"/>"
	    "</x></presence>", &p), 0);
	test_assert_int(p.status, PRESENCE_ST_SELF | PRESENCE_ST_CREATED);

	test_assert_int(parse("<presence " FROM " type=\"unavailable\"><x "
	    NS_MUC_USER "><status code=\"307\"/><status code=\"110\"/></x>"
	    "</presence>", &p), 0);
	test_assert_int(p.status, PRESENCE_ST_SELF | PRESENCE_ST_REMOVED);

	/* Nickname conflict, as Prosody sends it (no legacy code). */
	test_assert_int(parse("<presence " FROM " type=\"error\"><error "
	    "type=\"cancel\"><conflict xmlns=\"urn:ietf:params:xml:ns:"
	    "xmpp-stanzas\"/></error></presence>", &p), 0);
	test_assert_int(p.type, PRESENCE_ERROR);
	test_assert_int(p.error_code, 409);
	test_assert_str(p.error_condition, "conflict");

	/* The legacy code wins when present. */
	test_assert_int(parse("<presence " FROM " type=\"error\"><error "
	    "code=\"407\" type=\"auth\"><registration-required xmlns=\""
	    "urn:ietf:params:xml:ns:xmpp-stanzas\"/></error></presence>", &p),
	    0);
	test_assert_int(p.error_code, 407);

	/* Unknown condition, bogus code: no code. */
	test_assert_int(parse("<presence " FROM " type=\"error\"><error "
	    "code=\"9999\"><weird xmlns=\"urn:x\"/></error></presence>", &p),
	    0);
	test_assert_int(p.error_code, 0);
	test_assert(p.error_condition == NULL);

	/* Presence from the room itself: no nickname. */
	test_assert_int(parse("<presence from=\"" ROOM "\"/>", &p), 0);
	test_assert_str(p.nickname, "");
}

static const struct {
	const char *what;
	const char *xml;
	int rc;
} rejects[] = {
	{ "not a presence", "<message " FROM "/>", -EPROTO },
	{ "no from", "<presence/>", -EPROTO },
	{ "from without localpart", "<presence from=\"muc.example/n\"/>",
	    -EPROTO },
	{ "from with two @", "<presence from=\"a@b@c/n\"/>", -EPROTO },
	{ "empty nickname", "<presence from=\"" ROOM "/\"/>", -EPROTO },
	{ "nickname with a tab", "<presence from=\"" ROOM "/a&#9;b\"/>",
	    -EPROTO },
	{ "nickname with a newline", "<presence from=\"" ROOM "/a&#10;b\"/>",
	    -EPROTO },
	{ "non-ASCII nickname", "<presence from=\"" ROOM "/\xc3\xa9t\xc3\xa9\"/>",
	    -EPROTO },
	{ "subscription type", "<presence " FROM " type=\"subscribe\"/>",
	    -EPROTO },
	{ "probe type", "<presence " FROM " type=\"probe\"/>", -EPROTO },
	{ "not well-formed", "<presence " FROM "><stats>", -EPROTO },
	{ "invalid UTF-8", "<presence " FROM "><status>\xff\xfe</status>"
	    "</presence>", -EPROTO },
	{ "truncated UTF-8", "<presence from=\"" ROOM "/ab\xc3\"/>", -EPROTO },
	{ "empty input", "", -EPROTO },
	{ "text only", "hello", -EPROTO },
};

static void
test_rejects(void)
{
	struct presence p;
	size_t i;

	for (i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		int rc = parse(rejects[i].xml, &p);

		if (rc != rejects[i].rc) {
			fprintf(stderr, "case \"%s\": rc %d, expected %d\n",
			    rejects[i].what, rc, rejects[i].rc);
			abort();
		}
	}
	/* A NUL byte in the middle. */
	test_assert_int(presence_parse_text(ctx, "<presence " FROM "/>\0x",
	    sizeof("<presence " FROM "/>\0x") - 1, &p), -EPROTO);
}

static void
test_nickname_limits(void)
{
	struct presence p;
	struct buf b;
	int i;

	buf_init(&b);
	buf_puts(&b, "<presence from=\"" ROOM "/");
	for (i = 0; i < PRESENCE_NICK_MAX; i++)
		buf_puts(&b, "n");
	buf_puts(&b, "\"/>");
	test_assert_int(presence_parse_text(ctx, b.data, b.len, &p), 0);
	test_assert_int(strlen(p.nickname), PRESENCE_NICK_MAX);
	buf_reset(&b);
	buf_puts(&b, "<presence from=\"" ROOM "/");
	for (i = 0; i < PRESENCE_NICK_MAX + 1; i++)
		buf_puts(&b, "n");
	buf_puts(&b, "\"/>");
	test_assert_int(presence_parse_text(ctx, b.data, b.len, &p), -EPROTO);
	/* Spaces and punctuation are printable: kept as they are. */
	test_assert_int(parse("<presence from=\"" ROOM "/jvb 1 (eu)\"/>", &p),
	    0);
	test_assert_str(p.nickname, "jvb 1 (eu)");
	test_assert(presence_nick_valid("i-0123456789abcdef0"));
	test_assert(!presence_nick_valid(""));
	test_assert(!presence_nick_valid(NULL));
	buf_finish(&b);
}

/* Each value goes through presence_stat_apply. */
static const struct {
	const char *name, *value;
	int rc;
} stat_cases[] = {
	{ "local_endpoints", "0", 0 },
	{ "local_endpoints", "000007", 0 },
	{ "local_endpoints", "999999999", 0 },
	{ "local_endpoints", "1000000000", -EINVAL },
	{ "local_endpoints", "99999999999999999999999", -EINVAL },
	{ "local_endpoints", "-1", -EINVAL },
	{ "local_endpoints", "+3", -EINVAL },
	{ "local_endpoints", " 3", -EINVAL },
	{ "local_endpoints", "3 ", -EINVAL },
	{ "local_endpoints", "3.0", -EINVAL },
	{ "local_endpoints", "0x10", -EINVAL },
	{ "local_endpoints", "abc", -EINVAL },
	{ "local_endpoints", "", -EINVAL },
	{ "participants", "12", 0 },
	{ "stress_level", "0", 0 },
	{ "stress_level", "0.05", 0 },
	{ "stress_level", "1.0E-4", 0 },
	{ "stress_level", "2.5e+2", 0 },
	{ "stress_level", "1000000", 0 },
	{ "stress_level", "1000001", -EINVAL },
	{ "stress_level", "1e999", -EINVAL },
	{ "stress_level", "1e99", -EINVAL },
	{ "stress_level", "NaN", -EINVAL },
	{ "stress_level", "Infinity", -EINVAL },
	{ "stress_level", "inf", -EINVAL },
	{ "stress_level", "-0.5", -EINVAL },
	{ "stress_level", ".5", -EINVAL },
	{ "stress_level", "5.", -EINVAL },
	{ "stress_level", "0x1p3", -EINVAL },
	{ "stress_level", "1e", -EINVAL },
	{ "stress_level", "", -EINVAL },
	{ "drain", "true", 0 },
	{ "drain", "FALSE", 0 },
	{ "drain", "1", -EINVAL },
	{ "drain", "yes", -EINVAL },
	{ "drain", "", -EINVAL },
	{ "shutting_down", "True", 0 },
	{ "healthy", "maybe", -EINVAL },
	{ "version", "2.3.215-gbee626bf", 0 },
	{ "version", "", -EINVAL },
	{ "version", "a\tb", -EINVAL },
	{ "version", "\xc3\xa9", -EINVAL },
	{ "version", "0123456789012345678901234567890123456789012345678901234"
	    "5678901234", -EINVAL },
	{ "region", "eu-west-1", 0 },
	{ "release", "r42", 0 },
	{ "bit_rate_download", "12345", 1 },
	{ "colibri2", "true", 1 },
	{ "", "1", -EINVAL },
	{ "name\twith tab", "1", -EINVAL },
};

static void
test_stat_values(void)
{
	struct colibri_stats st;
	size_t i;

	for (i = 0; i < sizeof(stat_cases) / sizeof(stat_cases[0]); i++) {
		int rc;

		presence_stats_init(&st);
		rc = presence_stat_apply(&st, stat_cases[i].name,
		    stat_cases[i].value);
		if (rc != stat_cases[i].rc) {
			fprintf(stderr, "stat %s=\"%s\": rc %d, expected %d\n",
			    stat_cases[i].name, stat_cases[i].value, rc,
			    stat_cases[i].rc);
			abort();
		}
	}
	presence_stats_init(&st);
	test_assert_int(presence_stat_apply(&st, NULL, "1"), -EINVAL);
	test_assert_int(presence_stat_apply(&st, "drain", NULL), -EINVAL);
	/* A bad value leaves the field as it was. */
	test_assert_int(presence_stat_apply(&st, "participants", "7"), 0);
	test_assert_int(presence_stat_apply(&st, "participants", "x"),
	    -EINVAL);
	test_assert_int(st.participants, 7);
	test_assert_int(presence_stat_apply(&st, "stress_level", "0.25"), 0);
	test_assert(st.stress_level == 0.25);
	test_assert_int(presence_stat_apply(&st, "drain", "TRUE"), 0);
	test_assert(st.has_drain && st.drain);
}

/* Bad stats inside a presence are counted and skipped, not fatal. */
static void
test_bad_stats_in_presence(void)
{
	struct presence p;

	test_assert_int(parse("<presence " FROM "><stats " NS_COLIBRI ">"
	    "<stat name=\"participants\" value=\"-4\"/>"
	    "<stat name=\"local_endpoints\" value=\"2\"/>"
	    "<stat value=\"3\"/>"
	    "<stat name=\"conferences\"/>"
	    "<stat name=\"stress_level\" value=\"NaN\"/>"
	    "<stat name=\"drain\" value=\"true\"/>"
	    "<stat name=\"drain\" value=\"bogus\"/>"
	    "<other name=\"conferences\" value=\"9\"/>"
	    "some text"
	    "</stats></presence>", &p), 0);
	test_assert(p.has_stats);
	test_assert_int(p.stats.nstats, 7);
	test_assert_int(p.stats.nbad, 5);
	test_assert_int(p.stats.participants, -1);
	test_assert_int(p.stats.local_endpoints, 2);
	test_assert_int(p.stats.conferences, -1);
	test_assert(p.stats.stress_level == -1.0);
	test_assert(p.stats.has_drain && p.stats.drain);
}

static void
test_huge_values(void)
{
	struct presence p;
	struct buf b;
	int i;

	/* A 100 KB value: rejected, the rest of the stats kept. */
	buf_init(&b);
	buf_puts(&b, "<presence " FROM "><stats " NS_COLIBRI "><stat "
	    "name=\"version\" value=\"");
	for (i = 0; i < 100000; i++)
		buf_puts(&b, "v");
	buf_puts(&b, "\"/><stat name=\"participants\" value=\"3\"/></stats>"
	    "</presence>");
	test_assert_int(presence_parse_text(ctx, b.data, b.len, &p), 0);
	test_assert(p.has_stats);
	test_assert_int(p.stats.nbad, 1);
	test_assert_str(p.stats.version, "");
	test_assert_int(p.stats.participants, 3);

	/* Over the raw entry point's size limit. */
	buf_reset(&b);
	buf_puts(&b, "<presence " FROM "><status>");
	for (i = 0; i < PRESENCE_TEXT_MAX; i++)
		buf_puts(&b, "x");
	buf_puts(&b, "</status></presence>");
	test_assert_int(presence_parse_text(ctx, b.data, b.len, &p), -E2BIG);
	buf_finish(&b);
}

/* 10,000 stats: the <stats> element is rejected as a whole. */
static void
test_ten_thousand_stats(void)
{
	xmpp_stanza_t *pres, *stats, *st;
	struct presence p;
	struct buf b;
	int i;

	pres = xmpp_presence_new(ctx);
	xmpp_stanza_set_from(pres, ROOM "/flood");
	stats = xmpp_stanza_new(ctx);
	xmpp_stanza_set_name(stats, "stats");
	xmpp_stanza_set_ns(stats, PRESENCE_NS_COLIBRI);
	for (i = 0; i < 10000; i++) {
		char name[32];

		snprintf(name, sizeof(name), "s%d", i);
		st = xmpp_stanza_new(ctx);
		xmpp_stanza_set_name(st, "stat");
		xmpp_stanza_set_attribute(st, "name", name);
		xmpp_stanza_set_attribute(st, "value", "1");
		xmpp_stanza_add_child(stats, st);
		xmpp_stanza_release(st);
	}
	xmpp_stanza_add_child(pres, stats);
	xmpp_stanza_release(stats);
	xmpp_stanza_set_type(pres, "unavailable");
	test_assert_int(presence_parse(pres, &p), 0);
	/* Still usable for what matters: who, and that it left. */
	test_assert_int(p.type, PRESENCE_UNAVAILABLE);
	test_assert_str(p.nickname, "flood");
	test_assert(!p.has_stats);
	test_assert(p.stats_invalid);
	xmpp_stanza_release(pres);

	/* Exactly at the limit is fine. */
	buf_init(&b);
	buf_puts(&b, "<presence " FROM "><stats " NS_COLIBRI ">");
	for (i = 0; i < PRESENCE_MAX_STATS - 1; i++)
		buf_printf(&b, "<stat name=\"s%d\" value=\"1\"/>", i);
	buf_puts(&b, "<stat name=\"participants\" value=\"8\"/></stats>"
	    "</presence>");
	test_assert_int(presence_parse_text(ctx, b.data, b.len, &p), 0);
	test_assert(p.has_stats);
	test_assert_int(p.stats.nstats, PRESENCE_MAX_STATS);
	test_assert_int(p.stats.participants, 8);
	buf_finish(&b);
}

/* More children of <presence> than we look at: flagged, not fatal. */
static void
test_many_children(void)
{
	struct presence p;
	struct buf b;
	int i;

	buf_init(&b);
	buf_puts(&b, "<presence " FROM " type=\"unavailable\">");
	for (i = 0; i < PRESENCE_MAX_CHILDREN + 10; i++)
		buf_puts(&b, "<junk/>");
	buf_puts(&b, "<stats " NS_COLIBRI "/></presence>");
	test_assert_int(presence_parse_text(ctx, b.data, b.len, &p), 0);
	test_assert(p.truncated);
	test_assert(!p.has_stats);
	test_assert_int(p.type, PRESENCE_UNAVAILABLE);
	buf_finish(&b);
}

static void
test_deep_nesting(void)
{
	xmpp_stanza_t *pres, *cur, *child;
	struct presence p;
	struct buf b;
	int i;

	/* Raw: refused before any parser runs. */
	buf_init(&b);
	buf_puts(&b, "<presence " FROM ">");
	for (i = 0; i < 100000; i++)
		buf_puts(&b, "<a>");
	test_assert_int(presence_parse_text(ctx, b.data, b.len, &p), -E2BIG);
	buf_reset(&b);
	/* Within the raw bound, nested inside <stats>: ignored. */
	buf_puts(&b, "<presence " FROM "><stats " NS_COLIBRI "><stat "
	    "name=\"participants\" value=\"1\"><a><b><c><d/></c></b></a>"
	    "</stat></stats></presence>");
	test_assert_int(presence_parse_text(ctx, b.data, b.len, &p), 0);
	test_assert_int(p.stats.participants, 1);
	buf_finish(&b);

	/* A stanza (as libstrophe delivers it) 5,000 levels deep: we only
	 * walk three levels, iteratively. */
	pres = xmpp_presence_new(ctx);
	xmpp_stanza_set_from(pres, ROOM "/deep");
	cur = pres;
	for (i = 0; i < 5000; i++) {
		child = xmpp_stanza_new(ctx);
		xmpp_stanza_set_name(child, i == 0 ? "stats" : "stat");
		if (i == 0)
			xmpp_stanza_set_ns(child, PRESENCE_NS_COLIBRI);
		xmpp_stanza_add_child(cur, child);
		xmpp_stanza_release(child);
		cur = child;
	}
	test_assert_int(presence_parse(pres, &p), 0);
	test_assert(p.has_stats);
	test_assert_int(p.stats.nstats, 1);
	test_assert_int(p.stats.nbad, 1);
	xmpp_stanza_release(pres);
}

static void
test_room_case(void)
{
	struct presence p;

	test_assert_int(parse("<presence from=\"JVBBREWERY@INTERNAL.AUTH.JITSI"
	    ".TEST/I-ABC\"/>", &p), 0);
	test_assert_str(p.room, ROOM);
	/* The nickname is a resourcepart: its case is kept. */
	test_assert_str(p.nickname, "I-ABC");
	test_assert_str(presence_type_name(PRESENCE_ERROR), "error");
}

int
main(void)
{
	ctx = xmpp_ctx_new(NULL, NULL);
	test_assert(ctx != NULL);
	test_run(test_captured);
	test_run(test_missing_fields);
	test_run(test_types_and_status);
	test_run(test_rejects);
	test_run(test_nickname_limits);
	test_run(test_stat_values);
	test_run(test_bad_stats_in_presence);
	test_run(test_huge_values);
	test_run(test_ten_thousand_stats);
	test_run(test_many_children);
	test_run(test_deep_nesting);
	test_run(test_room_case);
	xmpp_ctx_free(ctx);
	return 0;
}
