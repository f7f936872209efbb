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

static void
test_joins_and_healthy(void)
{
	struct verify_config c = cfg_default();
	struct verify v;

	verify_init(&v, &c, true, 10 * S);
	test_assert_int(next(&v, 10 * S), VERIFY_RESOLVE);
	verify_resolved(&v, true, NULL, 10 * S);
	test_assert_int(next(&v, 10 * S), VERIFY_POLL_HEALTH);
	verify_health(&v, true, NULL, 10 * S);
	/* healthy but not in the brewery yet: wait */
	test_assert_int(next(&v, 11 * S), VERIFY_WAIT);
	/* in the room, but no stats yet: jicofo would not see it */
	verify_occupant(&v, true, 11 * S, false, 11 * S);
	test_assert_int(next(&v, 11 * S), VERIFY_WAIT);
	verify_occupant(&v, true, 11 * S, true, 11500);
	test_assert_int(next(&v, 11500), VERIFY_COMPLETE);
	test_assert_int(v.result, POLICY_CONTINUE);
	test_assert(strstr(v.reason, "brewery") != NULL);
}

static void
test_never_joins(void)
{
	struct verify_config c = cfg_default();
	struct verify v;

	verify_init(&v, &c, true, 0);
	verify_resolved(&v, true, NULL, 0);
	verify_health(&v, true, NULL, 0);
	test_assert_int(next(&v, 59 * S), VERIFY_POLL_HEALTH);
	verify_health(&v, true, NULL, 59 * S);
	test_assert_int(next(&v, 60 * S), VERIFY_COMPLETE);
	test_assert_int(v.result, POLICY_ABANDON);
	test_assert(strstr(v.reason, "never joined the brewery") != NULL);
}

static void
test_taken_nickname(void)
{
	struct verify_config c = cfg_default();
	struct verify v;

	verify_init(&v, &c, true, 10 * S);
	verify_resolved(&v, true, NULL, 10 * S);
	verify_health(&v, true, NULL, 10 * S);
	/* an occupant with that nickname, there since before the launch */
	verify_occupant(&v, true, 5 * S, true, 11 * S);
	test_assert_int(next(&v, 11 * S), VERIFY_WAIT);
	test_assert_int(next(&v, 70 * S), VERIFY_COMPLETE);
	test_assert_int(v.result, POLICY_ABANDON);
	test_assert(strstr(v.reason, "taken by another occupant") != NULL);
}

static void
test_link_down(void)
{
	struct verify_config c = cfg_default();
	struct verify v;

	/* down for a while, back before the deadline: verdict still right */
	verify_init(&v, &c, true, 0);
	verify_resolved(&v, true, NULL, 0);
	verify_health(&v, true, NULL, 0);
	verify_link(&v, false, 5 * S);
	test_assert_int(next(&v, 20 * S), VERIFY_POLL_HEALTH);
	verify_health(&v, true, NULL, 20 * S);
	verify_link(&v, true, 30 * S);
	verify_occupant(&v, true, 30 * S, true, 30 * S);
	test_assert_int(next(&v, 30 * S), VERIFY_COMPLETE);
	test_assert_int(v.result, POLICY_CONTINUE);

	/* still down at the deadline: the reason says so plainly */
	verify_init(&v, &c, true, 0);
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
	verify_init(&v, &c, false, 0);
	verify_resolved(&v, false, "no private address yet", 0);
	test_assert_int(next(&v, 1 * S), VERIFY_WAIT);
	test_assert_int(next(&v, 2 * S), VERIFY_RESOLVE);
	verify_resolved(&v, true, NULL, 2 * S);
	verify_health(&v, false, "HTTP 500: unhealthy", 2 * S);
	test_assert_int(next(&v, 3 * S), VERIFY_WAIT);
	test_assert_int(next(&v, 4 * S), VERIFY_POLL_HEALTH);
	verify_health(&v, true, NULL, 4 * S);
	test_assert_int(next(&v, 4 * S), VERIFY_COMPLETE);
	test_assert_int(v.result, POLICY_CONTINUE);

	/* unhealthy to the end: the bridge's own message is in the reason */
	verify_init(&v, &c, false, 0);
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

	verify_init(&v, &c, true, 0);
	verify_resolved(&v, true, NULL, 0);
	verify_occupant(&v, true, 1 * S, true, 1 * S);
	/* joined then left before health answered: not in service */
	verify_occupant(&v, false, 1 * S, true, 2 * S);
	verify_health(&v, true, NULL, 3 * S);
	test_assert_int(next(&v, 3 * S), VERIFY_WAIT);
}

int
main(void)
{
	test_run(test_joins_and_healthy);
	test_run(test_never_joins);
	test_run(test_taken_nickname);
	test_run(test_link_down);
	test_run(test_health_only);
	test_run(test_leaves_again);
	return 0;
}
