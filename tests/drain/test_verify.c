/* Launch verification, driven through scenarios without I/O. */
#include <string.h>

#include "drain/verify.h"
#include "tests/test.h"

#define S 1000

static struct verify_config
cfg_default(void)
{
	struct verify_config c = {
		.timeout_ms = 60 * S,
		.poll_interval_ms = 2 * S,
		.stats_interval_ms = 5 * S,
		.need_brewery = true,
		.on_timeout = POLICY_ABANDON,
	};

	return c;
}

static enum verify_step_kind
next(struct verify *v, int64_t now)
{
	return verify_next(v, now).kind;
}

/* Resolve, then answer health and stats polls until `until`. */
static void
poll_until(struct verify *v, int64_t from, int64_t until, int64_t snap0)
{
	int64_t t;

	for (t = from; t < until; t += 500) {
		switch (next(v, t)) {
		case VERIFY_RESOLVE:
			verify_resolved(v, true, NULL, t);
			break;
		case VERIFY_POLL_HEALTH:
			verify_health(v, true, NULL, t);
			break;
		case VERIFY_POLL_STATS:
			/* the bridge takes a snapshot every 5 s */
			verify_rest_stats(v, true, false, snap0 + t / 5000 *
			    5000, t);
			break;
		default:
			break;
		}
	}
}

/* An impostor refreshing every second, always newer than the REST side
 * when we look: its snapshots fall between two consecutive ones of ours. */
static void
test_taken_nickname_between(void)
{
	struct verify_config c = cfg_default();
	struct verify v;
	int64_t t, base = 1700000000000;

	verify_init(&v, &c, true, false, 0);
	verify_resolved(&v, true, NULL, 0);
	for (t = 0; t < 4 * S; t += S) {
		verify_occupant(&v, true, true, base + t + 100, t);
		verify_rest_stats(&v, true, false, base + t / 5000 * 5000, t);
	}
	/* one REST snapshot so far: nothing to bracket, nothing known */
	test_assert(!v.mismatch);
	for (; t < 11 * S; t += S) {
		verify_occupant(&v, true, true, base + t + 100, t);
		verify_rest_stats(&v, true, false, base + t / 5000 * 5000, t);
	}
	test_assert(!v.identified);
	test_assert(v.mismatch);

	/* the same bridge: presence and REST from one series never trip it */
	verify_init(&v, &c, true, false, 0);
	verify_resolved(&v, true, NULL, 0);
	verify_rest_stats(&v, true, false, base, 0);
	verify_rest_stats(&v, true, false, base + 5 * S, 5 * S);
	verify_occupant(&v, true, true, base + 10 * S, 10 * S);
	test_assert(!v.mismatch);
	verify_rest_stats(&v, true, false, base + 10 * S, 10 * S);
	test_assert(v.identified);
	test_assert(!v.mismatch);
}

static void
test_joins_and_healthy(void)
{
	struct verify_config c = cfg_default();
	struct verify v;

	verify_init(&v, &c, true, false, 10 * S);
	test_assert_int(next(&v, 10 * S), VERIFY_RESOLVE);
	verify_resolved(&v, true, NULL, 10 * S);
	test_assert_int(next(&v, 10 * S), VERIFY_POLL_HEALTH);
	verify_health(&v, true, NULL, 10 * S);
	/* healthy; its stats are read to learn its snapshot times */
	test_assert_int(next(&v, 10 * S), VERIFY_POLL_STATS);
	verify_rest_stats(&v, true, false, 1700000010000, 10 * S);
	test_assert_int(next(&v, 11 * S), VERIFY_WAIT);
	/* in the room, but no stats yet: jicofo would not see it */
	verify_occupant(&v, true, false, 0, 11 * S);
	test_assert_int(next(&v, 11 * S), VERIFY_WAIT);
	/* a stats presence from the snapshot the REST side showed */
	verify_occupant(&v, true, true, 1700000010000, 11500);
	test_assert_int(next(&v, 11500), VERIFY_COMPLETE);
	test_assert_int(v.result, POLICY_CONTINUE);
	test_assert(strstr(v.reason, "brewery") != NULL);
}

/* A presence of a snapshot the REST side has not shown yet: look now. */
static void
test_presence_first(void)
{
	struct verify_config c = cfg_default();
	struct verify v;

	verify_init(&v, &c, true, false, 0);
	poll_until(&v, 0, 3 * S, 1700000000000);
	verify_occupant(&v, true, true, 1700000005000, 5100);
	test_assert(!v.identified);
	test_assert_int(next(&v, 5100), VERIFY_POLL_STATS);
	verify_rest_stats(&v, true, false, 1700000005000, 5200);
	test_assert(v.identified);
	test_assert_int(next(&v, 5200), VERIFY_COMPLETE);
}

static void
test_never_joins(void)
{
	struct verify_config c = cfg_default();
	struct verify v;

	verify_init(&v, &c, true, false, 0);
	poll_until(&v, 0, 60 * S, 1700000000000);
	test_assert_int(next(&v, 60 * S), VERIFY_COMPLETE);
	test_assert_int(v.result, POLICY_ABANDON);
	test_assert(strstr(v.reason, "never joined the brewery") != NULL);
}

/* Another bridge holds the nickname: its snapshots never match ours. */
static void
test_taken_nickname(void)
{
	struct verify_config c = cfg_default();
	struct verify v;
	int64_t t;

	verify_init(&v, &c, true, false, 0);
	for (t = 0; t < 60 * S; t += 500) {
		if (t % (5 * S) == 0)
			verify_occupant(&v, true, true, 1600000000000 + t, t);
		switch (next(&v, t)) {
		case VERIFY_RESOLVE:
			verify_resolved(&v, true, NULL, t);
			break;
		case VERIFY_POLL_HEALTH:
			verify_health(&v, true, NULL, t);
			break;
		case VERIFY_POLL_STATS:
			verify_rest_stats(&v, true, false, 1700000000000 +
			    t / 5000 * 5000, t);
			break;
		default:
			break;
		}
		test_assert(!v.identified);
	}
	test_assert(v.mismatch);
	test_assert_int(next(&v, 60 * S), VERIFY_COMPLETE);
	test_assert_int(v.result, POLICY_ABANDON);
	test_assert(strstr(v.reason, "nickname is taken") != NULL);
	test_assert(strstr(v.reason, "never matched") != NULL);
}

/* No timestamps to compare: an occupant that was there before the
 * launch began is somebody else; one that arrives later counts. */
static void
test_no_timestamps(void)
{
	struct verify_config c = cfg_default();
	struct verify v;

	verify_init(&v, &c, true, true, 0);
	verify_occupant(&v, true, true, 0, 0);
	verify_resolved(&v, true, NULL, 0);
	verify_health(&v, true, NULL, 0);
	verify_rest_stats(&v, true, true, 0, 0);	/* COLIBRI off: 404 */
	test_assert(!v.identified);
	test_assert_int(next(&v, 60 * S), VERIFY_COMPLETE);
	test_assert(strstr(v.reason, "before this launch began") != NULL);

	verify_init(&v, &c, true, false, 0);
	verify_resolved(&v, true, NULL, 0);
	verify_health(&v, true, NULL, 0);
	verify_rest_stats(&v, true, false, 0, 0);	/* no current_timestamp */
	verify_occupant(&v, true, true, 0, 3 * S);
	test_assert(v.identified);
	test_assert_int(next(&v, 3 * S), VERIFY_COMPLETE);
	test_assert_int(v.result, POLICY_CONTINUE);
}

static void
test_link_down(void)
{
	struct verify_config c = cfg_default();
	struct verify v;

	/* down for a while, back before the deadline: verdict still right */
	verify_init(&v, &c, true, false, 0);
	poll_until(&v, 0, 5 * S, 1700000000000);
	verify_link(&v, false, 5 * S);
	poll_until(&v, 5 * S, 30 * S, 1700000000000);
	verify_link(&v, true, 30 * S);
	verify_occupant(&v, true, true, 1700000025000, 30 * S);
	test_assert_int(next(&v, 30 * S), VERIFY_COMPLETE);
	test_assert_int(v.result, POLICY_CONTINUE);

	/* still down at the deadline: the reason says so plainly */
	verify_init(&v, &c, true, false, 0);
	verify_link(&v, false, 10 * S);
	test_assert_int(next(&v, 60 * S), VERIFY_COMPLETE);
	test_assert_int(v.result, POLICY_ABANDON);
	test_assert(strstr(v.reason, "our own XMPP link") != NULL);
	test_assert(strstr(v.reason, "not the bridge's fault") != NULL);
}

static void
test_health_only(void)
{
	struct verify_config c = cfg_default();
	struct verify v;

	c.need_brewery = false;
	verify_init(&v, &c, false, false, 0);
	verify_resolved(&v, false, "no private address yet", 0);
	test_assert_int(next(&v, 1 * S), VERIFY_WAIT);
	test_assert_int(next(&v, 2 * S), VERIFY_RESOLVE);
	verify_resolved(&v, true, NULL, 2 * S);
	test_assert_int(next(&v, 2 * S), VERIFY_POLL_HEALTH);
	verify_health(&v, false, "HTTP 500: unhealthy", 2 * S);
	test_assert_int(next(&v, 3 * S), VERIFY_WAIT);
	test_assert_int(next(&v, 4 * S), VERIFY_POLL_HEALTH);
	verify_health(&v, true, NULL, 4 * S);
	test_assert_int(next(&v, 4 * S), VERIFY_COMPLETE);
	test_assert_int(v.result, POLICY_CONTINUE);

	/* unhealthy to the end: the bridge's own message is in the reason */
	verify_init(&v, &c, false, false, 0);
	verify_resolved(&v, true, NULL, 0);
	verify_health(&v, false, "HTTP 500: no valid address", 0);
	test_assert_int(next(&v, 60 * S), VERIFY_COMPLETE);
	test_assert(strstr(v.reason, "no valid address") != NULL);
}

static void
test_leaves_again(void)
{
	struct verify_config c = cfg_default();
	struct verify v;

	verify_init(&v, &c, true, false, 0);
	verify_resolved(&v, true, NULL, 0);
	verify_rest_stats(&v, true, false, 1700000000000, 0);
	verify_occupant(&v, true, true, 1700000000000, 1 * S);
	test_assert(v.identified);
	/* joined, then left before health answered: not in service */
	verify_occupant(&v, false, false, 0, 2 * S);
	verify_health(&v, true, NULL, 3 * S);
	test_assert(next(&v, 3 * S) != VERIFY_COMPLETE);
}

int
main(void)
{
	test_run(test_joins_and_healthy);
	test_run(test_presence_first);
	test_run(test_never_joins);
	test_run(test_taken_nickname);
	test_run(test_taken_nickname_between);
	test_run(test_no_timestamps);
	test_run(test_link_down);
	test_run(test_health_only);
	test_run(test_leaves_again);
	return 0;
}
