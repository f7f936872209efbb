/*
 * The drain policy, driven through whole scenarios without any I/O: each
 * scenario feeds resolutions, REST outcomes and presences at given times
 * and checks the step the policy asks for after each.
 */
#include <stdio.h>
#include <string.h>

#include "drain/policy.h"
#include "tests/test.h"

#define S 1000

static struct policy_config
cfg_default(void)
{
	struct policy_config c = {
		.max_duration_ms = 3600 * S,
		.poll_interval_ms = 2 * S,
		.unreachable_timeout_ms = 60 * S,
		.stats_interval_ms = 5 * S,
		.graceful_max_ms = 24 * 3600 * S,
		.shutting_down_delay_ms = 60 * S,
		.min_participants = 0,
		.force_on_timeout = true,
		.on_timeout = POLICY_CONTINUE,
		.on_unreachable = POLICY_CONTINUE,
		.dry_run = false,
	};

	return c;
}

static struct policy_obs
obs(bool graceful, bool sd, int n, int64_t snap)
{
	struct policy_obs o;

	memset(&o, 0, sizeof(o));
	presence_stats_init(&o.stats);
	o.stats.graceful_shutdown = graceful;
	o.stats.shutting_down = sd;
	o.stats.local_endpoints = n;
	o.stats.has_drain = true;
	o.stats.drain = true;
	o.snapshot_ms = snap;
	return o;
}

static enum policy_step_kind
next(struct policy *p, int64_t now)
{
	return policy_next(p, now).kind;
}

static void
expect_wait(struct policy *p, int64_t now, int64_t wake)
{
	struct policy_step s = policy_next(p, now);

	test_assert_int(s.kind, POLICY_WAIT);
	test_assert_int(s.wake_at, wake);
}

/* resolve, enable drain, graceful shutdown: all fine. */
static void
start(struct policy *p, const struct policy_config *c, int64_t t)
{
	policy_init(p, c, t);
	test_assert_int(next(p, t), POLICY_RESOLVE);
	policy_resolved(p, true, false, NULL, t);
	test_assert_int(next(p, t), POLICY_ENABLE_DRAIN);
	policy_rest_done(p, POLICY_ENABLE_DRAIN, POLICY_IO_OK, NULL, NULL, t);
	test_assert_int(next(p, t), POLICY_SHUTDOWN_GRACEFUL);
	policy_rest_done(p, POLICY_SHUTDOWN_GRACEFUL, POLICY_IO_OK, NULL,
	    NULL, t);
	test_assert_int(p->phase, POLICY_PHASE_WAITING);
	test_assert_int(next(p, t), POLICY_POLL_STATS);
}

static void
poll(struct policy *p, struct policy_obs o, int64_t t)
{
	test_assert_int(next(p, t), POLICY_POLL_STATS);
	policy_rest_done(p, POLICY_POLL_STATS, POLICY_IO_OK, &o, NULL, t);
}

static void
test_graceful_empties(void)
{
	struct policy_config c = cfg_default();
	struct policy p;

	start(&p, &c, 0);
	poll(&p, obs(true, false, 5, 1), 0);
	test_assert_int(p.participants, 5);
	expect_wait(&p, 0, 2 * S);
	poll(&p, obs(true, false, 2, 2), 2 * S);
	/* the flag flips at once; the counters are still the old snapshot */
	poll(&p, obs(false, true, 2, 2), 4 * S);
	test_assert_int(next(&p, 4 * S), POLICY_COMPLETE);
	test_assert_int(p.result, POLICY_CONTINUE);
	test_assert(strstr(p.reason, "by itself") != NULL);
	test_assert_int(p.participants_start, 5);
	/* the stale snapshot said 2; by the bridge's rule it is empty */
	test_assert_int(p.participants, 0);
}

static void
test_empty_from_the_start(void)
{
	struct policy_config c = cfg_default();
	struct policy p;

	start(&p, &c, 0);
	poll(&p, obs(false, true, 0, 1), 0);
	test_assert_int(next(&p, 0), POLICY_COMPLETE);
	test_assert_int(p.result, POLICY_CONTINUE);
}

/* Someone else forced it: SHUTTING_DOWN at our first look, people on it. */
static void
test_forced_elsewhere_waits_for_fresh_zero(void)
{
	struct policy_config c = cfg_default();
	struct policy p;

	start(&p, &c, 0);
	poll(&p, obs(false, true, 10, 100), 0);
	expect_wait(&p, 0, 2 * S);
	/* same snapshot, still 10 */
	poll(&p, obs(false, true, 10, 100), 2 * S);
	/* a stale zero is not believed: same snapshot time as at first look */
	poll(&p, obs(false, true, 0, 100), 4 * S);
	test_assert_int(next(&p, 4 * S + 1), POLICY_WAIT);
	poll(&p, obs(false, true, 0, 105), 6 * S);
	test_assert_int(next(&p, 6 * S), POLICY_COMPLETE);
	test_assert(strstr(p.reason, "0 local endpoints") != NULL);
}

/* Without snapshot times, a zero counts one stats interval later. */
static void
test_fresh_without_timestamps(void)
{
	struct policy_config c = cfg_default();
	struct policy p;

	start(&p, &c, 0);
	poll(&p, obs(false, true, 3, 0), 0);
	poll(&p, obs(false, true, 0, 0), 2 * S);
	test_assert_int(next(&p, 2 * S), POLICY_WAIT);
	poll(&p, obs(false, true, 0, 0), 6 * S);
	test_assert_int(next(&p, 6 * S), POLICY_COMPLETE);
}

static void
test_min_participants(void)
{
	struct policy_config c = cfg_default();
	struct policy p;

	c.min_participants = 2;
	start(&p, &c, 0);
	poll(&p, obs(true, false, 4, 1), 0);
	poll(&p, obs(false, true, 2, 2), 2 * S);
	/* SHUTTING_DOWN with 2 still on: jicofo moves them; wait */
	test_assert_int(next(&p, 2 * S), POLICY_WAIT);
	poll(&p, obs(false, true, 0, 3), 4 * S);
	test_assert_int(next(&p, 4 * S), POLICY_COMPLETE);
}

/* The bridge's own max graceful duration moved it to SHUTTING_DOWN. */
static void
test_bridge_max_duration(void)
{
	struct policy_config c = cfg_default();
	struct policy p;

	c.graceful_max_ms = 60 * S;
	start(&p, &c, 0);
	poll(&p, obs(true, false, 4, 1), 0);
	poll(&p, obs(false, true, 4, 1), 61 * S);
	test_assert_int(next(&p, 61 * S), POLICY_WAIT);
	poll(&p, obs(false, true, 0, 2), 66 * S);
	test_assert_int(next(&p, 66 * S), POLICY_COMPLETE);
}

static void
test_timeout_forces_then_waits(void)
{
	struct policy_config c = cfg_default();
	struct policy p;

	c.max_duration_ms = 60 * S;
	c.on_timeout = POLICY_ABANDON;
	start(&p, &c, 0);
	poll(&p, obs(true, false, 7, 1), 0);
	poll(&p, obs(true, false, 7, 2), 58 * S);
	expect_wait(&p, 58 * S, 60 * S);
	test_assert_int(next(&p, 60 * S), POLICY_SHUTDOWN_FORCE);
	test_assert_int(p.phase, POLICY_PHASE_FORCING);
	policy_rest_done(&p, POLICY_SHUTDOWN_FORCE, POLICY_IO_OK, NULL, NULL,
	    60 * S);
	test_assert(p.forced);
	/* SHUTTING_DOWN now, but forced: 7 still on it, and a stale 0 */
	poll(&p, obs(false, true, 7, 2), 60 * S);
	test_assert_int(next(&p, 60 * S + 1), POLICY_WAIT);
	poll(&p, obs(false, true, 3, 3), 62 * S);
	poll(&p, obs(false, true, 0, 4), 64 * S);
	test_assert_int(next(&p, 64 * S), POLICY_COMPLETE);
	test_assert_int(p.result, POLICY_ABANDON);
	test_assert(strstr(p.reason, "forced") != NULL);
}

static void
test_timeout_force_never_empties(void)
{
	struct policy_config c = cfg_default();
	struct policy p;
	int64_t t;

	c.max_duration_ms = 60 * S;
	start(&p, &c, 0);
	poll(&p, obs(true, false, 7, 1), 0);
	test_assert_int(next(&p, 60 * S), POLICY_SHUTDOWN_FORCE);
	policy_rest_done(&p, POLICY_SHUTDOWN_FORCE, POLICY_IO_OK, NULL, NULL,
	    60 * S);
	for (t = 60 * S; t <= 200 * S; t += S) {
		struct policy_obs o = obs(false, true, 7, t);

		if (next(&p, t) == POLICY_POLL_STATS)
			policy_rest_done(&p, POLICY_POLL_STATS, POLICY_IO_OK,
			    &o, NULL, t);
		if (p.phase == POLICY_PHASE_DONE)
			break;
	}
	/* bounded by the shutting-down delay (60 s) and a 30 s grace */
	test_assert_int(p.phase, POLICY_PHASE_DONE);
	test_assert_int(t, 150 * S);
	test_assert_int(p.result, POLICY_CONTINUE);
	test_assert(strstr(p.reason, "still on the bridge") != NULL);
}

static void
test_timeout_without_force(void)
{
	struct policy_config c = cfg_default();
	struct policy p;

	c.max_duration_ms = 60 * S;
	c.force_on_timeout = false;
	c.on_timeout = POLICY_ABANDON;
	start(&p, &c, 0);
	poll(&p, obs(true, false, 7, 1), 0);
	test_assert_int(next(&p, 60 * S), POLICY_COMPLETE);
	test_assert_int(p.result, POLICY_ABANDON);
	test_assert(strstr(p.reason, "max_duration (1m) reached with 7 "
	    "participants still on it") != NULL);
}

static void
test_clamp_deadline(void)
{
	struct policy_config c = cfg_default();
	struct policy p;

	start(&p, &c, 0);
	policy_clamp_deadline(&p, 30 * S);
	poll(&p, obs(true, false, 1, 1), 29 * S);
	expect_wait(&p, 29 * S, 30 * S);
	test_assert_int(next(&p, 30 * S), POLICY_SHUTDOWN_FORCE);
	/* a later deadline never extends it */
	policy_clamp_deadline(&p, 90 * S);
	test_assert_int(p.deadline_ms, 30 * S);
}

static void
test_refused_from_the_start(void)
{
	struct policy_config c = cfg_default();
	struct policy p;
	int64_t t = 0;
	int tries = 0;

	c.unreachable_timeout_ms = 10 * S;
	policy_init(&p, &c, 0);
	policy_resolved(&p, true, false, NULL, 0);
	for (;;) {
		struct policy_step s = policy_next(&p, t);

		if (s.kind == POLICY_COMPLETE)
			break;
		if (s.kind == POLICY_WAIT) {
			test_assert(s.wake_at > t);
			t = s.wake_at;
			continue;
		}
		test_assert_int(s.kind, POLICY_ENABLE_DRAIN);
		tries++;
		policy_rest_done(&p, s.kind, POLICY_IO_REFUSED, NULL,
		    "connection refused by 127.0.0.5:8080", t);
	}
	test_assert_int(tries, 5);	/* 0, 2, ..., 8 s; at 10 s it gives up */
	test_assert_int(t, 10 * S);
	test_assert_int(p.result, POLICY_CONTINUE);
	test_assert(strstr(p.reason, "could not be reached for 10s: "
	    "connection refused by 127.0.0.5:8080") != NULL);
}

static void
test_404_everywhere(void)
{
	struct policy_config c = cfg_default();
	struct policy p;
	int64_t t = 0;

	c.unreachable_timeout_ms = 6 * S;
	c.on_unreachable = POLICY_ABANDON;
	policy_init(&p, &c, 0);
	policy_resolved(&p, true, false, NULL, 0);
	while (p.phase != POLICY_PHASE_DONE) {
		struct policy_step s = policy_next(&p, t);

		if (s.kind == POLICY_WAIT) {
			t = s.wake_at;
			continue;
		}
		if (s.kind == POLICY_COMPLETE)
			break;
		test_assert(s.kind == POLICY_ENABLE_DRAIN ||
		    s.kind == POLICY_SHUTDOWN_GRACEFUL);
		policy_rest_done(&p, s.kind, POLICY_IO_NOT_FOUND, NULL,
		    "404: set videobridge.apis.rest.enabled", t);
	}
	test_assert_int(p.result, POLICY_ABANDON);
	test_assert(strstr(p.reason, "videobridge.apis.rest.enabled") != NULL);
	test_assert(t >= 6 * S && t <= 8 * S);
}

static void
test_drain_only(void)
{
	struct policy_config c = cfg_default();
	struct policy p;

	policy_init(&p, &c, 0);
	policy_resolved(&p, true, false, NULL, 0);
	test_assert_int(next(&p, 0), POLICY_ENABLE_DRAIN);
	policy_rest_done(&p, POLICY_ENABLE_DRAIN, POLICY_IO_OK, NULL, NULL, 0);
	policy_rest_done(&p, POLICY_SHUTDOWN_GRACEFUL, POLICY_IO_NOT_FOUND,
	    NULL, "shutdown API disabled", 0);
	test_assert(p.shutdown_unsupported);
	poll(&p, obs(false, false, 3, 1), 0);
	poll(&p, obs(false, false, 0, 2), 2 * S);
	/* one zero is not enough: people may join existing conferences */
	test_assert_int(next(&p, 2 * S), POLICY_WAIT);
	poll(&p, obs(false, false, 1, 3), 4 * S);
	poll(&p, obs(false, false, 0, 4), 6 * S);
	poll(&p, obs(false, false, 0, 5), 8 * S);
	test_assert_int(next(&p, 8 * S), POLICY_COMPLETE);
	test_assert(strstr(p.reason, "drain mode only") != NULL);
}

static void
test_exit_detected(void)
{
	struct policy_config c = cfg_default();
	struct policy p;

	start(&p, &c, 0);
	poll(&p, obs(true, false, 2, 1), 0);
	test_assert_int(next(&p, 2 * S), POLICY_POLL_STATS);
	policy_rest_done(&p, POLICY_POLL_STATS, POLICY_IO_REFUSED, NULL,
	    "refused", 2 * S);
	test_assert_int(next(&p, 2 * S), POLICY_COMPLETE);
	test_assert(strstr(p.reason, "exited") != NULL);
}

/* A timeout mid-drain is not an exit: keep trying, then give up. */
static void
test_stops_answering(void)
{
	struct policy_config c = cfg_default();
	struct policy p;
	int64_t t;

	c.unreachable_timeout_ms = 20 * S;
	start(&p, &c, 0);
	poll(&p, obs(true, false, 2, 1), 0);
	for (t = 2 * S; p.phase != POLICY_PHASE_DONE; t += 2 * S) {
		if (next(&p, t) == POLICY_POLL_STATS)
			policy_rest_done(&p, POLICY_POLL_STATS,
			    POLICY_IO_TIMEOUT, NULL, "no answer in 5s", t);
	}
	test_assert(t >= 22 * S && t <= 26 * S);
	test_assert(strstr(p.reason, "could not be reached") != NULL);
}

static void
test_presence(void)
{
	struct policy_config c = cfg_default();
	struct policy p;
	struct policy_obs o;

	start(&p, &c, 0);
	poll(&p, obs(true, false, 3, 1), 0);
	/* leaving while graceful is not an exit: look at once */
	policy_left(&p, 1 * S);
	test_assert_int(next(&p, 1 * S), POLICY_POLL_STATS);
	poll(&p, obs(true, false, 3, 1), 1 * S);
	o = obs(false, true, 1, 2);
	o.from_presence = true;
	policy_observe(&p, &o, 1500);
	test_assert_int(next(&p, 1500), POLICY_COMPLETE);

	/* forced by someone else, then the bridge leaves the room */
	start(&p, &c, 0);
	poll(&p, obs(false, true, 9, 1), 0);
	test_assert_int(next(&p, 1), POLICY_WAIT);
	policy_left(&p, 3 * S);
	test_assert_int(next(&p, 3 * S), POLICY_COMPLETE);
	test_assert(strstr(p.reason, "left the brewery") != NULL);
}

static void
test_instance_gone(void)
{
	struct policy_config c = cfg_default();
	struct policy p;

	policy_init(&p, &c, 0);
	test_assert_int(next(&p, 0), POLICY_RESOLVE);
	policy_resolved(&p, false, true, "instance i-0123456789abcdef0 is "
	    "terminated", 0);
	test_assert_int(next(&p, 0), POLICY_COMPLETE);
	test_assert(strstr(p.reason, "is terminated") != NULL);

	/* not final (no address yet): retried until unreachable_timeout */
	policy_init(&p, &c, 0);
	policy_resolved(&p, false, false, "no private address yet", 0);
	expect_wait(&p, 0, 2 * S);
	test_assert_int(next(&p, 2 * S), POLICY_RESOLVE);
	policy_resolved(&p, false, false, "no private address yet", 2 * S);
	test_assert_int(next(&p, 60 * S), POLICY_COMPLETE);
}

static void
test_dry_run(void)
{
	struct policy_config c = cfg_default();
	struct policy p;

	c.dry_run = true;
	policy_init(&p, &c, 0);
	policy_resolved(&p, true, false, NULL, 0);
	/* never asks to drain or shut down */
	test_assert_int(next(&p, 0), POLICY_POLL_STATS);
	poll(&p, obs(false, false, 4, 1), 0);
	poll(&p, obs(false, false, 0, 2), 2 * S);
	poll(&p, obs(false, false, 0, 3), 4 * S);
	test_assert_int(next(&p, 4 * S), POLICY_COMPLETE);
	test_assert(strstr(p.reason, "dry run") != NULL);

	/* and at the deadline it never forces */
	c.max_duration_ms = 10 * S;
	policy_init(&p, &c, 0);
	policy_resolved(&p, true, false, NULL, 0);
	poll(&p, obs(false, false, 4, 1), 0);
	test_assert_int(next(&p, 10 * S), POLICY_COMPLETE);
}

static void
test_stats_disabled_polls_health(void)
{
	struct policy_config c = cfg_default();
	struct policy p;

	start(&p, &c, 0);
	policy_rest_done(&p, POLICY_POLL_STATS, POLICY_IO_NOT_FOUND, NULL,
	    "stats disabled", 0);
	test_assert_int(next(&p, 0), POLICY_POLL_HEALTH);
	policy_rest_done(&p, POLICY_POLL_HEALTH, POLICY_IO_OK, NULL, NULL, 0);
	expect_wait(&p, 0, 2 * S);
	policy_rest_done(&p, POLICY_POLL_HEALTH, POLICY_IO_REFUSED, NULL,
	    "refused", 2 * S);
	test_assert_int(next(&p, 2 * S), POLICY_COMPLETE);
}

static void
test_old_bridge_without_drain(void)
{
	struct policy_config c = cfg_default();
	struct policy p;

	policy_init(&p, &c, 0);
	policy_resolved(&p, true, false, NULL, 0);
	policy_rest_done(&p, POLICY_ENABLE_DRAIN, POLICY_IO_NOT_FOUND, NULL,
	    "no drain API", 0);
	test_assert_int(next(&p, 0), POLICY_SHUTDOWN_GRACEFUL);
	policy_rest_done(&p, POLICY_SHUTDOWN_GRACEFUL, POLICY_IO_OK, NULL,
	    NULL, 0);
	test_assert(p.drain_unsupported && p.graceful_accepted);
	test_assert_int(next(&p, 0), POLICY_POLL_STATS);
}

static void
test_spot_fast_path(void)
{
	struct policy_config c = cfg_default();
	struct policy p;

	/* warned mid-drain: forced at once, done when empty */
	start(&p, &c, 0);
	poll(&p, obs(true, false, 10, 1), 0);
	policy_spot(&p, 120 * S, 1 * S);
	test_assert_int(next(&p, 1 * S), POLICY_SHUTDOWN_FORCE);
	policy_rest_done(&p, POLICY_SHUTDOWN_FORCE, POLICY_IO_OK, NULL, NULL,
	    1 * S);
	poll(&p, obs(false, true, 10, 1), 1 * S);
	test_assert_int(next(&p, 2 * S), POLICY_WAIT);
	poll(&p, obs(false, true, 0, 6), 6 * S);
	test_assert_int(next(&p, 6 * S), POLICY_COMPLETE);
	test_assert_int(p.result, POLICY_CONTINUE);

	/* warned before anything: straight from resolving to the force */
	policy_init(&p, &c, 0);
	policy_spot(&p, 120 * S, 0);
	test_assert_int(next(&p, 0), POLICY_RESOLVE);
	policy_resolved(&p, true, false, NULL, 0);
	test_assert_int(next(&p, 0), POLICY_SHUTDOWN_FORCE);

	/* nothing waits past the reclaim time */
	policy_rest_done(&p, POLICY_SHUTDOWN_FORCE, POLICY_IO_OK, NULL, NULL,
	    0);
	poll(&p, obs(false, true, 6, 1), 0);
	poll(&p, obs(false, true, 6, 1), 118 * S);
	expect_wait(&p, 119 * S, 120 * S);
	test_assert_int(next(&p, 120 * S), POLICY_COMPLETE);
	test_assert(strstr(p.reason, "reclaim time") != NULL);

	/* unreachable bridge: given up at the reclaim time, not later */
	policy_init(&p, &c, 0);
	policy_spot(&p, 30 * S, 0);
	policy_resolved(&p, false, false, "no address", 0);
	test_assert_int(next(&p, 30 * S), POLICY_COMPLETE);
	test_assert(strstr(p.reason, "reclaim") != NULL);
}

int
main(void)
{
	test_run(test_graceful_empties);
	test_run(test_empty_from_the_start);
	test_run(test_forced_elsewhere_waits_for_fresh_zero);
	test_run(test_fresh_without_timestamps);
	test_run(test_min_participants);
	test_run(test_bridge_max_duration);
	test_run(test_timeout_forces_then_waits);
	test_run(test_timeout_force_never_empties);
	test_run(test_timeout_without_force);
	test_run(test_clamp_deadline);
	test_run(test_refused_from_the_start);
	test_run(test_404_everywhere);
	test_run(test_drain_only);
	test_run(test_exit_detected);
	test_run(test_stops_answering);
	test_run(test_presence);
	test_run(test_instance_gone);
	test_run(test_dry_run);
	test_run(test_stats_disabled_polls_health);
	test_run(test_old_bridge_without_drain);
	test_run(test_spot_fast_path);
	return 0;
}
