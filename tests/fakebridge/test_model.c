/*
 * The bridge model against the rules of jvb-api.md §3, as tables: each
 * case is a configuration and a script of timed actions and checks.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tests/fakebridge/model.h"
#include "tests/test.h"

enum op {
	OP_END,
	OP_JOIN,	/* a participants; expect rc b */
	OP_LEAVE,	/* a participants over b ms */
	OP_SET,		/* set the count to a */
	OP_GRACEFUL,	/* expect rc a */
	OP_FORCED,	/* expect rc a */
	OP_DRAIN,	/* drain = a */
	OP_KILL,	/* a: MODEL_CAUSE_SIGTERM or _SIGKILL */
	OP_ADVANCE,	/* just advance to t */
	OP_STATE,	/* expect state a */
	OP_COUNT,	/* expect participants a */
	OP_SNAP,	/* expect snapshot local endpoints a, taken at b */
	OP_SD_CAUSE,	/* expect shutdown cause a */
	OP_EXIT,	/* expect exit cause a, code b */
	OP_ENTERED,	/* expect entered_ms[a] == b */
	OP_CUT_OFF,	/* expect a cut off at exit */
	OP_DEADLINE,	/* expect next deadline a */
	OP_CHANGES,	/* expect the changes taken to include bits a */
	OP_NOCHANGE,	/* expect the changes taken to exclude bits a */
	OP_LEAVE_RC,	/* leave a over b ms, expect -ENOSPC */
	OP_DRAIN_IS,	/* expect drain == a */
};

struct step {
	int64_t		 t;
	enum op		 op;
	long long	 a;
	long long	 b;
};

struct mcase {
	const char	*name;
	int64_t		 max_duration_ms;	/* 0: default */
	int64_t		 delay_ms;		/* -1: default */
	int64_t		 stats_ms;		/* 0: default */
	/* 0: off; else ms (use 1 for 0) */
	int64_t		 move_ms;
	unsigned	 min_participants;
	unsigned	 participants;
	struct step	 steps[40];
};

#define S_RUN	MODEL_RUNNING
#define S_GS	MODEL_GRACEFUL_SHUTDOWN
#define S_SD	MODEL_SHUTTING_DOWN
#define S_EX	MODEL_EXITED

static const struct mcase cases[] = {
	{ "graceful, nobody there: SHUTTING_DOWN at once, exit after delay",
	  0, -1, 0, 0, 0, 0, {
		{ 1000, OP_GRACEFUL, 0, 0 },
		{ 1000, OP_STATE, S_SD, 0 },
		{ 1000, OP_ENTERED, S_GS, 1000 },
		{ 1000, OP_ENTERED, S_SD, 1000 },
		{ 1000, OP_SD_CAUSE, MODEL_CAUSE_PARTICIPANTS, 0 },
		{ 1000, OP_DEADLINE, 5000, 0 },
		{ 60999, OP_STATE, S_SD, 0 },
		{ 61000, OP_STATE, S_EX, 0 },
		{ 61000, OP_EXIT, MODEL_CAUSE_DELAY, 0 },
		{ 61000, OP_ENTERED, S_EX, 61000 },
		{ 61000, OP_CUT_OFF, 0, 0 },
		{ 61000, OP_DEADLINE, INT64_MAX, 0 },
	} },
	{ "graceful with participants: waits for the last one to leave",
	  0, -1, 0, 0, 0, 3, {
		{ 1000, OP_GRACEFUL, 0, 0 },
		{ 1000, OP_STATE, S_GS, 0 },
		{ 1000, OP_CHANGES, MODEL_CH_STATE, 0 },
		{ 2000, OP_LEAVE, 1, 0 },
		{ 2000, OP_STATE, S_GS, 0 },
		{ 2000, OP_COUNT, 2, 0 },
		{ 3000, OP_LEAVE, 2, 10000 },	/* at 8000 and 13000 */
		{ 7999, OP_COUNT, 2, 0 },
		{ 8000, OP_COUNT, 1, 0 },
		{ 12999, OP_STATE, S_GS, 0 },
		{ 13000, OP_COUNT, 0, 0 },
		{ 13000, OP_STATE, S_SD, 0 },
		{ 13000, OP_ENTERED, S_SD, 13000 },
		{ 13000, OP_SD_CAUSE, MODEL_CAUSE_PARTICIPANTS, 0 },
		{ 72999, OP_STATE, S_SD, 0 },
		{ 73000, OP_STATE, S_EX, 0 },
		{ 73000, OP_EXIT, MODEL_CAUSE_DELAY, 0 },
		{ 73000, OP_CUT_OFF, 0, 0 },
	} },
	{ "graceful: new endpoints still join existing conferences",
	  0, -1, 0, 0, 0, 1, {
		{ 0, OP_GRACEFUL, 0, 0 },
		{ 10, OP_JOIN, 2, 0 },
		{ 10, OP_STATE, S_GS, 0 },
		{ 20, OP_SET, 1, 0 },
		{ 20, OP_STATE, S_GS, 0 },
		{ 30, OP_SET, 0, 0 },
		{ 30, OP_STATE, S_SD, 0 },
	} },
	{ "min_participants: SHUTTING_DOWN once at most min are left",
	  0, -1, 0, 0, 2, 5, {
		{ 0, OP_GRACEFUL, 0, 0 },
		{ 0, OP_STATE, S_GS, 0 },
		{ 100, OP_LEAVE, 2, 0 },
		{ 100, OP_STATE, S_GS, 0 },
		{ 200, OP_LEAVE, 1, 0 },
		{ 200, OP_STATE, S_SD, 0 },
		{ 200, OP_COUNT, 2, 0 },
		{ 60200, OP_STATE, S_EX, 0 },
		{ 60200, OP_CUT_OFF, 2, 0 },
	} },
	{ "min_participants: already at most min when graceful starts",
	  0, -1, 0, 0, 2, 2, {
		{ 500, OP_GRACEFUL, 0, 0 },
		{ 500, OP_STATE, S_SD, 0 },
		{ 500, OP_SD_CAUSE, MODEL_CAUSE_PARTICIPANTS, 0 },
	} },
	{ "max duration: the timer moves GRACEFUL to SHUTTING_DOWN",
	  30000, 10000, 0, 0, 0, 2, {
		{ 1000, OP_GRACEFUL, 0, 0 },
		{ 30999, OP_STATE, S_GS, 0 },
		{ 31000, OP_STATE, S_SD, 0 },
		{ 31000, OP_SD_CAUSE, MODEL_CAUSE_MAX_DURATION, 0 },
		{ 31000, OP_COUNT, 2, 0 },
		{ 41000, OP_STATE, S_EX, 0 },
		{ 41000, OP_CUT_OFF, 2, 0 },
	} },
	{ "forced: straight to SHUTTING_DOWN, participants cut at exit",
	  0, -1, 0, 0, 0, 4, {
		{ 5000, OP_FORCED, 0, 0 },
		{ 5000, OP_STATE, S_SD, 0 },
		{ 5000, OP_ENTERED, S_GS, -1 },
		{ 5000, OP_SD_CAUSE, MODEL_CAUSE_FORCED, 0 },
		{ 64999, OP_COUNT, 4, 0 },
		{ 65000, OP_STATE, S_EX, 0 },
		{ 65000, OP_CUT_OFF, 4, 0 },
		{ 65000, OP_COUNT, 0, 0 },
		{ 65000, OP_EXIT, MODEL_CAUSE_DELAY, 0 },
	} },
	{ "forced with jicofo moving them away over 10 s",
	  0, -1, 0, 10000, 0, 4, {
		{ 5000, OP_FORCED, 0, 0 },
		{ 7499, OP_COUNT, 4, 0 },
		{ 7500, OP_COUNT, 3, 0 },
		{ 10000, OP_COUNT, 2, 0 },
		{ 12500, OP_COUNT, 1, 0 },
		{ 14999, OP_COUNT, 1, 0 },
		{ 15000, OP_COUNT, 0, 0 },
		{ 15000, OP_STATE, S_SD, 0 },
		{ 65000, OP_STATE, S_EX, 0 },
		{ 65000, OP_CUT_OFF, 0, 0 },
	} },
	{ "jicofo moves nobody while GRACEFUL, everybody once SHUTTING_DOWN",
	  20000, -1, 0, 4000, 0, 2, {
		{ 0, OP_GRACEFUL, 0, 0 },
		{ 19999, OP_COUNT, 2, 0 },
		{ 20000, OP_STATE, S_SD, 0 },
		{ 22000, OP_COUNT, 1, 0 },
		{ 23000, OP_JOIN, 1, 0 },	/* moved too, by 24000 */
		{ 23499, OP_COUNT, 2, 0 },
		{ 23500, OP_COUNT, 1, 0 },
		{ 24000, OP_COUNT, 0, 0 },
		{ 30000, OP_JOIN, 2, 0 },	/* window over: a new one */
		{ 31999, OP_COUNT, 2, 0 },
		{ 32000, OP_COUNT, 1, 0 },
		{ 34000, OP_COUNT, 0, 0 },
	} },
	{ "shutting-down delay 0: exit at once",
	  0, 0, 0, 0, 0, 0, {
		{ 1000, OP_FORCED, 0, 0 },
		{ 1000, OP_DEADLINE, 1000, 0 },
		{ 1000, OP_STATE, S_EX, 0 },
		{ 1000, OP_ENTERED, S_EX, 1000 },
	} },
	{ "repeats are accepted and change nothing",
	  0, -1, 0, 0, 0, 1, {
		{ 1000, OP_GRACEFUL, 0, 0 },
		{ 2000, OP_GRACEFUL, 0, 0 },
		{ 2000, OP_ENTERED, S_GS, 1000 },
		{ 2000, OP_STATE, S_GS, 0 },
		{ 3000, OP_FORCED, 0, 0 },
		{ 3000, OP_STATE, S_SD, 0 },
		{ 3000, OP_SD_CAUSE, MODEL_CAUSE_FORCED, 0 },
		{ 4000, OP_FORCED, 0, 0 },
		{ 4000, OP_GRACEFUL, 0, 0 },
		{ 4000, OP_ENTERED, S_SD, 3000 },
		{ 4000, OP_STATE, S_SD, 0 },
		{ 63000, OP_STATE, S_EX, 0 },
	} },
	{ "after exit every action fails",
	  0, 0, 0, 0, 0, 1, {
		{ 0, OP_FORCED, 0, 0 },
		{ 1, OP_STATE, S_EX, 0 },
		{ 1, OP_CUT_OFF, 1, 0 },
		{ 2, OP_JOIN, 1, -ESRCH },
		{ 3, OP_GRACEFUL, -ESRCH, 0 },
		{ 4, OP_FORCED, -ESRCH, 0 },
		{ 5, OP_STATE, S_EX, 0 },
	} },
	{ "drain is a flag, independent of the shutdown state",
	  0, -1, 0, 0, 0, 2, {
		{ 10, OP_DRAIN, 1, 0 },
		{ 10, OP_DRAIN_IS, 1, 0 },
		{ 10, OP_STATE, S_RUN, 0 },
		{ 10, OP_CHANGES, MODEL_CH_DRAIN, 0 },
		{ 20, OP_DRAIN, 1, 0 },
		{ 20, OP_NOCHANGE, MODEL_CH_DRAIN, 0 },
		{ 30, OP_GRACEFUL, 0, 0 },
		{ 40, OP_DRAIN, 0, 0 },
		{ 40, OP_DRAIN_IS, 0, 0 },
		{ 40, OP_STATE, S_GS, 0 },
		{ 50, OP_DRAIN, 1, 0 },
		{ 3600000, OP_STATE, S_GS, 0 },
		{ 3600000, OP_COUNT, 2, 0 },
	} },
	{ "stats: counters refresh every interval, flags at once",
	  0, -1, 5000, 0, 0, 0, {
		{ 0, OP_SNAP, 0, 0 },
		{ 1000, OP_JOIN, 3, 0 },
		{ 1000, OP_COUNT, 3, 0 },
		{ 4999, OP_SNAP, 0, 0 },
		{ 5000, OP_SNAP, 3, 5000 },
		{ 5000, OP_CHANGES, MODEL_CH_STATS, 0 },
		{ 6000, OP_LEAVE, 1, 0 },
		{ 6000, OP_GRACEFUL, 0, 0 },
		{ 6000, OP_STATE, S_GS, 0 },
		{ 6000, OP_SNAP, 3, 5000 },
		{ 9999, OP_SNAP, 3, 5000 },
		{ 10000, OP_SNAP, 2, 10000 },
		/* A long sleep: the last refresh before now is the one seen. */
		{ 1002500, OP_SNAP, 2, 1000000 },
		{ 1002500, OP_DEADLINE, 1005000, 0 },
	} },
	{ "stats: the refresh at a departure's time sees the departure",
	  0, -1, 2000, 0, 0, 2, {
		{ 0, OP_LEAVE, 2, 4000 },	/* at 2000 and 4000 */
		{ 2000, OP_SNAP, 1, 2000 },
	} },
	{ "leave over time: at most four scripts at once",
	  0, -1, 0, 0, 0, 20, {
		{ 0, OP_LEAVE, 1, 1000 },
		{ 0, OP_LEAVE, 1, 2000 },
		{ 0, OP_LEAVE, 1, 3000 },
		{ 0, OP_LEAVE, 1, 4000 },
		{ 0, OP_LEAVE_RC, 1, 5000 },
		{ 1000, OP_COUNT, 19, 0 },
		{ 1000, OP_LEAVE, 2, 1000 },	/* a slot is free again */
		{ 4000, OP_COUNT, 14, 0 },
	} },
	{ "SIGTERM: exit at once, code 143, participants cut off",
	  0, -1, 0, 0, 0, 3, {
		{ 100, OP_KILL, MODEL_CAUSE_SIGTERM, 0 },
		{ 100, OP_STATE, S_EX, 0 },
		{ 100, OP_EXIT, MODEL_CAUSE_SIGTERM, 143 },
		{ 100, OP_CUT_OFF, 3, 0 },
		{ 100, OP_ENTERED, S_SD, -1 },
	} },
	{ "SIGKILL: code 137",
	  0, -1, 0, 0, 0, 0, {
		{ 0, OP_GRACEFUL, 0, 0 },
		{ 5, OP_KILL, MODEL_CAUSE_SIGKILL, 0 },
		{ 5, OP_EXIT, MODEL_CAUSE_SIGKILL, 137 },
	} },
};

static void
run_case(const struct mcase *c)
{
	struct model_config cfg;
	struct model m;
	const struct step *s;
	unsigned ch;
	int r;

	fprintf(stderr, "   %s\n", c->name);
	model_config_default(&cfg);
	if (c->max_duration_ms > 0)
		cfg.max_duration_ms = c->max_duration_ms;
	if (c->delay_ms >= 0)
		cfg.shutting_down_delay_ms = c->delay_ms;
	if (c->stats_ms > 0)
		cfg.stats_interval_ms = c->stats_ms;
	if (c->move_ms > 0)
		cfg.move_after_ms = c->move_ms == 1 ? 0 : c->move_ms;
	cfg.min_participants = c->min_participants;
	test_assert_int(model_config_check(&cfg), 0);
	model_init(&m, &cfg, c->participants, false, 0);
	model_take_changes(&m);

	for (s = c->steps; s->op != OP_END; s++) {
		fprintf(stderr, "      t=%lld op=%d a=%lld b=%lld\n",
		    (long long)s->t, (int)s->op, s->a, s->b);
		switch (s->op) {
		case OP_JOIN:
			test_assert_int(model_join(&m, (unsigned)s->a, s->t),
			    s->b);
			break;
		case OP_LEAVE:
			test_assert_int(model_leave(&m, (unsigned)s->a, s->b,
			    s->t), 0);
			break;
		case OP_LEAVE_RC:
			test_assert_int(model_leave(&m, (unsigned)s->a, s->b,
			    s->t), -ENOSPC);
			break;
		case OP_SET:
			test_assert_int(model_set_participants(&m,
			    (unsigned)s->a, s->t), 0);
			break;
		case OP_GRACEFUL:
			test_assert_int(model_shutdown(&m, true, s->t), s->a);
			break;
		case OP_FORCED:
			test_assert_int(model_shutdown(&m, false, s->t), s->a);
			break;
		case OP_DRAIN:
			model_take_changes(&m);
			test_assert_int(model_set_drain(&m, s->a != 0, s->t),
			    0);
			break;
		case OP_DRAIN_IS:
			test_assert_int(m.drain, s->a);
			break;
		case OP_KILL:
			test_assert_int(model_kill(&m, (enum model_cause)s->a,
			    s->t), 0);
			break;
		case OP_ADVANCE:
			model_advance(&m, s->t);
			break;
		case OP_STATE:
			model_advance(&m, s->t);
			test_assert_str(model_state_name(m.state),
			    model_state_name((enum model_state)s->a));
			break;
		case OP_COUNT:
			model_advance(&m, s->t);
			test_assert_int(m.participants, s->a);
			break;
		case OP_SNAP:
			model_advance(&m, s->t);
			test_assert_int(m.snap.local_endpoints, s->a);
			test_assert_int(m.snap.taken_ms, s->b);
			break;
		case OP_SD_CAUSE:
			test_assert_str(model_cause_name(m.shutdown_cause),
			    model_cause_name((enum model_cause)s->a));
			break;
		case OP_EXIT:
			model_advance(&m, s->t);
			test_assert_str(model_cause_name(m.exit_cause),
			    model_cause_name((enum model_cause)s->a));
			test_assert_int(m.exit_code, s->b);
			break;
		case OP_ENTERED:
			model_advance(&m, s->t);
			test_assert_int(m.entered_ms[s->a], s->b);
			break;
		case OP_CUT_OFF:
			model_advance(&m, s->t);
			test_assert_int(m.cut_off, s->a);
			break;
		case OP_DEADLINE:
			test_assert_int(model_next_deadline(&m), s->a);
			break;
		case OP_CHANGES:
			model_advance(&m, s->t);
			ch = model_take_changes(&m);
			test_assert((ch & (unsigned)s->a) == (unsigned)s->a);
			break;
		case OP_NOCHANGE:
			ch = model_take_changes(&m);
			test_assert((ch & (unsigned)s->a) == 0);
			break;
		case OP_END:
			break;
		}
	}
	(void)r;
}

static void
test_tables(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
}

static void
test_config_check(void)
{
	struct model_config cfg;

	model_config_default(&cfg);
	test_assert_int(model_config_check(&cfg), 0);
	test_assert_int(cfg.max_duration_ms, 24LL * 3600 * 1000);
	test_assert_int(cfg.shutting_down_delay_ms, 60000);
	test_assert_int(cfg.stats_interval_ms, 5000);
	test_assert_int(cfg.min_participants, 0);
	test_assert(cfg.move_after_ms < 0);
	cfg.stats_interval_ms = 0;
	test_assert_int(model_config_check(&cfg), -EINVAL);
	model_config_default(&cfg);
	cfg.conference_size = 0;
	test_assert_int(model_config_check(&cfg), -EINVAL);
	model_config_default(&cfg);
	cfg.shutting_down_delay_ms = -1;
	test_assert_int(model_config_check(&cfg), -EINVAL);
	model_config_default(&cfg);
	cfg.max_duration_ms = MODEL_MAX_MS + 1;
	test_assert_int(model_config_check(&cfg), -EINVAL);
}

/* Limits changed on a running bridge take effect from their start. */
static void
test_set_config(void)
{
	struct model_config cfg;
	struct model m;

	model_config_default(&cfg);
	model_init(&m, &cfg, 1, false, 0);
	test_assert_int(model_shutdown(&m, true, 1000), 0);
	cfg.max_duration_ms = 500;	/* already overdue */
	test_assert_int(model_set_config(&m, &cfg, 2000), 0);
	test_assert_int(m.state, MODEL_SHUTTING_DOWN);
	/* Overdue timers fire now: the model already reported 2000. */
	test_assert_int(m.entered_ms[MODEL_SHUTTING_DOWN], 2000);
	test_assert_int(m.shutdown_cause, MODEL_CAUSE_MAX_DURATION);
	/* Turning jicofo's moving on while shutting down starts it now. */
	cfg.move_after_ms = 1000;
	test_assert_int(model_set_config(&m, &cfg, 3000), 0);
	model_advance(&m, 3999);
	test_assert_int(m.participants, 1);
	model_advance(&m, 4000);
	test_assert_int(m.participants, 0);
	test_assert_int(m.moved_total, 1);
	cfg.stats_interval_ms = 0;
	test_assert_int(model_set_config(&m, &cfg, 4000), -EINVAL);
	/* A shorter stats interval counts from the last refresh. */
	model_config_default(&cfg);
	model_init(&m, &cfg, 0, true, 0);
	test_assert(m.drain);
	cfg.stats_interval_ms = 1000;
	test_assert_int(model_set_config(&m, &cfg, 300), 0);
	test_assert_int(model_next_deadline(&m), 1000);
}

static void
test_counts_capped(void)
{
	struct model_config cfg;
	struct model m;

	model_config_default(&cfg);
	model_init(&m, &cfg, 0, false, 0);
	test_assert_int(model_join(&m, MODEL_MAX_PARTICIPANTS, 0), 0);
	test_assert_int(model_join(&m, 1, 0), -EOVERFLOW);
	test_assert_int(model_leave(&m, 10, -1, 0), -EINVAL);
	test_assert_int(model_kill(&m, MODEL_CAUSE_FORCED, 0), -EINVAL);
	/* A leave script larger than the crowd ends at zero. */
	test_assert_int(model_set_participants(&m, 2, 0), 0);
	test_assert_int(model_leave(&m, 5, 5000, 0), 0);
	model_advance(&m, 5000);
	test_assert_int(m.participants, 0);
	test_assert_int(m.left_total, MODEL_MAX_PARTICIPANTS);
	test_assert_int(model_pending_departures(&m), 0);
}

int
main(void)
{
	test_run(test_tables);
	test_run(test_config_check);
	test_run(test_set_config);
	test_run(test_counts_capped);
	return 0;
}
