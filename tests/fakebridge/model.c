/*
 * The shutdown state machine of jitsi-videobridge's ShutdownManager, the
 * participants a test scripts and the periodic stats snapshot.  See
 * model.h; the rules are those of jvb-api.md §3.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tests/fakebridge/model.h"

void
model_config_default(struct model_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_duration_ms = 24LL * 3600 * 1000;
	cfg->shutting_down_delay_ms = 60 * 1000;
	cfg->stats_interval_ms = 5000;
	cfg->move_after_ms = -1;
	cfg->min_participants = 0;
	cfg->conference_size = 5;
	cfg->octo_endpoints = 0;
	cfg->stress_per_endpoint = 0.01;
}

int
model_config_check(const struct model_config *cfg)
{
	if (cfg->max_duration_ms < 0 || cfg->max_duration_ms > MODEL_MAX_MS)
		return -EINVAL;
	if (cfg->shutting_down_delay_ms < 0 ||
	    cfg->shutting_down_delay_ms > MODEL_MAX_MS)
		return -EINVAL;
	if (cfg->stats_interval_ms < 1 ||
	    cfg->stats_interval_ms > MODEL_MAX_MS)
		return -EINVAL;
	if (cfg->move_after_ms > MODEL_MAX_MS)
		return -EINVAL;
	if (cfg->min_participants > MODEL_MAX_PARTICIPANTS ||
	    cfg->octo_endpoints > MODEL_MAX_PARTICIPANTS)
		return -EINVAL;
	if (cfg->conference_size < 1 ||
	    cfg->conference_size > MODEL_MAX_PARTICIPANTS)
		return -EINVAL;
	if (!(cfg->stress_per_endpoint >= 0 && cfg->stress_per_endpoint <= 1e6))
		return -EINVAL;
	return 0;
}

static int64_t
model_sched_next(const struct model_sched *s)
{
	if (s->done >= s->total)
		return INT64_MAX;
	/* Both factors are capped (model.h), so the product fits. */
	return s->start_ms + s->dur_ms * (int64_t)(s->done + 1) /
	    (int64_t)s->total;
}

static void
model_refresh(struct model *m, int64_t t)
{
	struct model_snapshot *s = &m->snap;
	unsigned size = m->cfg.conference_size;

	s->taken_ms = t;
	s->local_endpoints = m->participants;
	s->octo_endpoints = m->cfg.octo_endpoints;
	s->endpoints = m->participants + m->cfg.octo_endpoints;
	s->conferences = (m->participants + size - 1) / size;
	s->largest_conference = m->participants < size ? m->participants : size;
	s->stress_level = m->participants * m->cfg.stress_per_endpoint;
	s->refreshes++;
	m->changes |= MODEL_CH_STATS;
	m->next_stats_ms = t + m->cfg.stats_interval_ms;
}

static void
model_enter_shutting_down(struct model *m, enum model_cause cause, int64_t t)
{
	m->state = MODEL_SHUTTING_DOWN;
	m->entered_ms[MODEL_SHUTTING_DOWN] = t;
	m->shutdown_cause = cause;
	m->changes |= MODEL_CH_STATE;
	/* jicofo re-invites everybody to other bridges (jvb-api.md §4.3). */
	if (m->cfg.move_after_ms >= 0 && m->participants > 0) {
		m->move.total = m->participants;
		m->move.done = 0;
		m->move.start_ms = t;
		m->move.dur_ms = m->cfg.move_after_ms;
	}
}

static void
model_exit(struct model *m, enum model_cause cause, int64_t t)
{
	m->state = MODEL_EXITED;
	m->entered_ms[MODEL_EXITED] = t;
	m->exit_cause = cause;
	m->exit_code = cause == MODEL_CAUSE_SIGTERM ? 143 :
	    cause == MODEL_CAUSE_SIGKILL ? 137 : 0;
	/* Whoever is still there is cut off with the process. */
	m->cut_off = m->participants;
	if (m->participants > 0)
		m->changes |= MODEL_CH_PARTICIPANTS;
	m->participants = 0;
	memset(m->scripts, 0, sizeof(m->scripts));
	memset(&m->move, 0, sizeof(m->move));
	m->changes |= MODEL_CH_STATE;
}

/* The rule of ShutdownManager: checked whenever local endpoints go away. */
static void
model_check_graceful(struct model *m, int64_t t)
{
	if (m->state == MODEL_GRACEFUL_SHUTDOWN &&
	    m->participants <= m->cfg.min_participants)
		model_enter_shutting_down(m, MODEL_CAUSE_PARTICIPANTS, t);
}

static void
model_remove(struct model *m, unsigned n, bool moved, int64_t t)
{
	if (n > m->participants)
		n = m->participants;
	if (n == 0)
		return;
	m->participants -= n;
	if (moved)
		m->moved_total += n;
	else
		m->left_total += n;
	m->changes |= MODEL_CH_PARTICIPANTS;
	model_check_graceful(m, t);
}

int64_t
model_next_deadline(const struct model *m)
{
	int64_t t, next;
	size_t i;

	if (m->state == MODEL_EXITED)
		return INT64_MAX;
	next = m->next_stats_ms;
	for (i = 0; i < MODEL_MAX_SCRIPTS; i++)
		if ((t = model_sched_next(&m->scripts[i])) < next)
			next = t;
	if ((t = model_sched_next(&m->move)) < next)
		next = t;
	if (m->state == MODEL_GRACEFUL_SHUTDOWN) {
		t = m->entered_ms[MODEL_GRACEFUL_SHUTDOWN] +
		    m->cfg.max_duration_ms;
		if (t < next)
			next = t;
	}
	if (m->state == MODEL_SHUTTING_DOWN) {
		t = m->entered_ms[MODEL_SHUTTING_DOWN] +
		    m->cfg.shutting_down_delay_ms;
		if (t < next)
			next = t;
	}
	return next;
}

/*
 * Fire one event due at t (the earliest deadline).  At equal times the
 * departures go first, so the timers and the snapshot see their effect.
 */
static void
model_fire(struct model *m, int64_t t, int64_t until)
{
	int64_t skip;
	size_t i;

	for (i = 0; i < MODEL_MAX_SCRIPTS; i++) {
		if (model_sched_next(&m->scripts[i]) <= t) {
			m->scripts[i].done++;
			model_remove(m, 1, false, t);
			return;
		}
	}
	if (model_sched_next(&m->move) <= t) {
		m->move.done++;
		model_remove(m, 1, true, t);
		return;
	}
	if (m->state == MODEL_GRACEFUL_SHUTDOWN &&
	    m->entered_ms[MODEL_GRACEFUL_SHUTDOWN] + m->cfg.max_duration_ms <=
	    t) {
		model_enter_shutting_down(m, MODEL_CAUSE_MAX_DURATION, t);
		return;
	}
	if (m->state == MODEL_SHUTTING_DOWN &&
	    m->entered_ms[MODEL_SHUTTING_DOWN] +
	    m->cfg.shutting_down_delay_ms <= t) {
		model_exit(m, MODEL_CAUSE_DELAY, t);
		return;
	}
	model_refresh(m, t);
	/* After a long sleep, snapshots that a later one overwrites anyway
	 * are skipped, but the last one before `until` still happens. */
	if (m->next_stats_ms + m->cfg.stats_interval_ms <= until) {
		skip = (until - m->next_stats_ms) / m->cfg.stats_interval_ms;
		m->next_stats_ms += skip * m->cfg.stats_interval_ms;
	}
}

void
model_advance(struct model *m, int64_t now)
{
	int64_t t;

	if (now < m->now_ms)
		now = m->now_ms;
	while (m->state != MODEL_EXITED &&
	    (t = model_next_deadline(m)) <= now) {
		if (t < m->now_ms)
			t = m->now_ms;
		m->now_ms = t;
		model_fire(m, t, now);
	}
	m->now_ms = now;
}

void
model_init(struct model *m, const struct model_config *cfg,
    unsigned participants, bool drain, int64_t now)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	m->state = MODEL_RUNNING;
	m->drain = drain;
	if (participants > MODEL_MAX_PARTICIPANTS)
		participants = MODEL_MAX_PARTICIPANTS;
	m->participants = participants;
	m->joined_total = participants;
	for (i = 0; i < MODEL_NSTATES; i++)
		m->entered_ms[i] = -1;
	m->entered_ms[MODEL_RUNNING] = now;
	m->now_ms = now;
	model_refresh(m, now);
	m->changes = MODEL_CH_STATE | MODEL_CH_STATS;
}

unsigned
model_take_changes(struct model *m)
{
	unsigned ch = m->changes;

	m->changes = 0;
	return ch;
}

int
model_join(struct model *m, unsigned n, int64_t now)
{
	int64_t end;
	unsigned left;

	model_advance(m, now);
	if (m->state == MODEL_EXITED)
		return -ESRCH;
	if (n > MODEL_MAX_PARTICIPANTS - m->participants)
		return -EOVERFLOW;
	if (n == 0)
		return 0;
	m->participants += n;
	m->joined_total += n;
	m->changes |= MODEL_CH_PARTICIPANTS;
	/*
	 * jicofo moves whoever still lands on a shutting-down bridge: by the
	 * end of the current window, or within move_after of now once that
	 * window is over.  Rebased on now, the schedule stays within the
	 * participant cap (model.h).
	 */
	if (m->state == MODEL_SHUTTING_DOWN && m->cfg.move_after_ms >= 0) {
		end = m->move.start_ms + m->move.dur_ms;
		left = m->move.total - m->move.done;
		m->move.dur_ms = left > 0 && end > now ? end - now :
		    left > 0 ? 0 : m->cfg.move_after_ms;
		m->move.start_ms = now;
		m->move.total = left + n;
		m->move.done = 0;
	}
	return 0;
}

int
model_leave(struct model *m, unsigned n, int64_t over_ms, int64_t now)
{
	struct model_sched *s = NULL;
	size_t i;

	model_advance(m, now);
	if (m->state == MODEL_EXITED)
		return -ESRCH;
	if (over_ms < 0 || over_ms > MODEL_MAX_MS ||
	    n > MODEL_MAX_PARTICIPANTS)
		return -EINVAL;
	if (over_ms == 0 || n == 0) {
		model_remove(m, n, false, now);
		return 0;
	}
	for (i = 0; i < MODEL_MAX_SCRIPTS; i++) {
		if (m->scripts[i].done >= m->scripts[i].total) {
			s = &m->scripts[i];
			break;
		}
	}
	if (s == NULL)
		return -ENOSPC;
	s->total = n;
	s->done = 0;
	s->start_ms = now;
	s->dur_ms = over_ms;
	return 0;
}

int
model_set_participants(struct model *m, unsigned n, int64_t now)
{
	model_advance(m, now);
	if (m->state == MODEL_EXITED)
		return -ESRCH;
	if (n > MODEL_MAX_PARTICIPANTS)
		return -EOVERFLOW;
	if (n < m->participants) {
		model_remove(m, m->participants - n, false, now);
		return 0;
	}
	return model_join(m, n - m->participants, now);
}

int
model_set_drain(struct model *m, bool on, int64_t now)
{
	model_advance(m, now);
	if (m->state == MODEL_EXITED)
		return -ESRCH;
	if (m->drain != on)
		m->changes |= MODEL_CH_DRAIN;
	m->drain = on;
	return 0;
}

int
model_shutdown(struct model *m, bool graceful, int64_t now)
{
	model_advance(m, now);
	switch (m->state) {
	case MODEL_EXITED:
		return -ESRCH;
	case MODEL_SHUTTING_DOWN:
		/* Graceful: "already initiated"; forced: nothing to do. */
		return 0;
	case MODEL_GRACEFUL_SHUTDOWN:
		if (!graceful)
			model_enter_shutting_down(m, MODEL_CAUSE_FORCED, now);
		return 0;
	case MODEL_RUNNING:
		if (!graceful) {
			model_enter_shutting_down(m, MODEL_CAUSE_FORCED, now);
			return 0;
		}
		m->state = MODEL_GRACEFUL_SHUTDOWN;
		m->entered_ms[MODEL_GRACEFUL_SHUTDOWN] = now;
		m->changes |= MODEL_CH_STATE;
		model_check_graceful(m, now);
		return 0;
	}
	return -EINVAL;
}

int
model_kill(struct model *m, enum model_cause how, int64_t now)
{
	if (how != MODEL_CAUSE_SIGTERM && how != MODEL_CAUSE_SIGKILL)
		return -EINVAL;
	model_advance(m, now);
	if (m->state == MODEL_EXITED)
		return -ESRCH;
	model_exit(m, how, now);
	return 0;
}

int
model_set_config(struct model *m, const struct model_config *cfg,
    int64_t now)
{
	int r;

	if ((r = model_config_check(cfg)) < 0)
		return r;
	model_advance(m, now);
	if (m->state == MODEL_EXITED)
		return -ESRCH;
	if (cfg->stats_interval_ms != m->cfg.stats_interval_ms)
		m->next_stats_ms = m->snap.taken_ms + cfg->stats_interval_ms;
	/* Turning jicofo's moving on while shutting down starts it now. */
	if (m->state == MODEL_SHUTTING_DOWN && m->cfg.move_after_ms < 0 &&
	    cfg->move_after_ms >= 0 && m->participants > 0) {
		m->move.total = m->participants;
		m->move.done = 0;
		m->move.start_ms = now;
		m->move.dur_ms = cfg->move_after_ms;
	}
	m->cfg = *cfg;
	/* Timers and departures that are now overdue fire at once. */
	model_advance(m, now);
	return 0;
}

unsigned
model_pending_departures(const struct model *m)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < MODEL_MAX_SCRIPTS; i++)
		n += m->scripts[i].total - m->scripts[i].done;
	return n + (m->move.total - m->move.done);
}

const char *
model_state_name(enum model_state s)
{
	switch (s) {
	case MODEL_RUNNING:
		return "RUNNING";
	case MODEL_GRACEFUL_SHUTDOWN:
		return "GRACEFUL_SHUTDOWN";
	case MODEL_SHUTTING_DOWN:
		return "SHUTTING_DOWN";
	case MODEL_EXITED:
		return "EXITED";
	}
	return "?";
}

const char *
model_cause_name(enum model_cause c)
{
	switch (c) {
	case MODEL_CAUSE_NONE:
		return "none";
	case MODEL_CAUSE_PARTICIPANTS:
		return "participants";
	case MODEL_CAUSE_MAX_DURATION:
		return "max_duration";
	case MODEL_CAUSE_FORCED:
		return "forced";
	case MODEL_CAUSE_DELAY:
		return "shutting_down_delay";
	case MODEL_CAUSE_SIGTERM:
		return "sigterm";
	case MODEL_CAUSE_SIGKILL:
		return "sigkill";
	}
	return "?";
}
