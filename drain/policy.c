/*
 * The drain policy.  Every entry point updates the state; policy_next()
 * alone decides what happens next, so the order in which news arrives
 * (REST answer, presence, timer) never changes the outcome.
 */
#include <stdio.h>
#include <string.h>

#include "drain/policy.h"

/* After a forced shutdown jicofo moves everyone within the bridge's
 * shutting-down delay; give it this much more before giving up. */
#define POLICY_FORCE_GRACE_MS	30000

static int64_t
policy_min(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static void
policy_fmt_duration(char *out, size_t len, int64_t ms)
{
	int64_t s = ms / 1000;

	if (s >= 3600 && s % 3600 == 0)
		snprintf(out, len, "%lldh", (long long)(s / 3600));
	else if (s >= 3600)
		snprintf(out, len, "%lldh%02lldm", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else if (s >= 60 && s % 60 == 0)
		snprintf(out, len, "%lldm", (long long)(s / 60));
	else if (s >= 60)
		snprintf(out, len, "%lldm%02llds", (long long)(s / 60),
		    (long long)(s % 60));
	else
		snprintf(out, len, "%llds", (long long)s);
}

int
policy_participants(const struct colibri_stats *st)
{
	if (st->local_endpoints >= 0)
		return st->local_endpoints;
	/* older bridges: participants counts relayed ones too */
	if (st->participants >= 0)
		return st->participants - (st->octo_endpoints > 0 ?
		    st->octo_endpoints : 0);
	return -1;
}

void
policy_init(struct policy *p, const struct policy_config *cfg, int64_t now)
{
	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	p->phase = POLICY_PHASE_RESOLVING;
	p->start_ms = now;
	p->deadline_ms = now + cfg->max_duration_ms;
	p->next_at = now;
	p->participants = -1;
	p->participants_start = -1;
	p->poll_ms = cfg->poll_interval_ms;
}

void
policy_set_poll_interval(struct policy *p, int64_t ms, int64_t now)
{
	if (ms == p->poll_ms)
		return;
	/* sooner takes effect at once; later from the next poll on */
	if (ms < p->poll_ms && p->next_at > now + ms)
		p->next_at = now + ms;
	p->poll_ms = ms;
}

void
policy_clamp_deadline(struct policy *p, int64_t deadline)
{
	if (deadline < p->deadline_ms)
		p->deadline_ms = deadline;
}

void
policy_spot(struct policy *p, int64_t reclaim_at, int64_t now)
{
	if (p->phase == POLICY_PHASE_DONE)
		return;
	p->spot = true;
	p->reclaim_at = reclaim_at;
	policy_clamp_deadline(p, reclaim_at);
	if (!p->cfg.dry_run && (p->phase == POLICY_PHASE_DRAINING ||
	    p->phase == POLICY_PHASE_SHUTTING ||
	    p->phase == POLICY_PHASE_WAITING)) {
		p->phase = POLICY_PHASE_FORCING;
		p->next_at = now;
	}
	snprintf(p->last_problem, sizeof(p->last_problem), "spot "
	    "interruption: the instance is reclaimed in %llds",
	    (long long)((reclaim_at - now) / 1000));
}

void
policy_resume(struct policy *p, bool drain_enabled, bool graceful_accepted,
    bool forced)
{
	p->drain_enabled = drain_enabled;
	p->graceful_accepted = graceful_accepted;
	p->forced = forced;
}

static void
policy_done(struct policy *p, enum policy_result result, const char *why)
{
	if (p->phase == POLICY_PHASE_DONE)
		return;
	p->phase = POLICY_PHASE_DONE;
	p->result = result;
	snprintf(p->reason, sizeof(p->reason), "%s", why);
}

/* A failure to reach the bridge; it counts toward unreachable_timeout. */
static void
policy_unreachable(struct policy *p, const char *why, int64_t now)
{
	if (!p->unreachable) {
		p->unreachable = true;
		p->unreachable_since = now;
	}
	snprintf(p->last_problem, sizeof(p->last_problem), "%s", why);
	p->next_at = now + p->cfg.poll_interval_ms;
}

static void
policy_reachable(struct policy *p)
{
	p->unreachable = false;
	p->ever_reachable = true;
}

void
policy_resolved(struct policy *p, bool ok, bool final, const char *why,
    int64_t now)
{
	if (p->phase != POLICY_PHASE_RESOLVING)
		return;
	if (ok) {
		p->unreachable = false;
		p->phase = p->spot && !p->cfg.dry_run ? POLICY_PHASE_FORCING :
		    POLICY_PHASE_DRAINING;
		p->next_at = now;
		return;
	}
	p->resolve_final = final;
	policy_unreachable(p, why, now);
}

/* The participant count, when the observation has one. */
static void
policy_note_participants(struct policy *p, const struct colibri_stats *st)
{
	int n = policy_participants(st);

	if (n < 0)
		return;
	if (p->participants_start < 0)
		p->participants_start = n;
	p->participants = n;
}

/* Is this zero from counters taken after SHUTTING_DOWN was first seen? */
static bool
policy_fresh(const struct policy *p, const struct policy_obs *obs,
    int64_t now)
{
	if (obs->snapshot_ms > 0 && p->sd_snapshot_ms > 0)
		return obs->snapshot_ms > p->sd_snapshot_ms;
	return now >= p->sd_first_ms + p->cfg.stats_interval_ms;
}

static void
policy_evaluate(struct policy *p, const struct policy_obs *obs, int64_t now)
{
	const struct colibri_stats *st = &obs->stats;
	int n = policy_participants(st);
	char why[200];

	if (p->phase == POLICY_PHASE_DONE)
		return;
	policy_note_participants(p, st);
	if (st->graceful_shutdown && !st->shutting_down) {
		p->saw_graceful = true;
		if (!p->graceful_known) {
			p->graceful_known = true;
			p->graceful_since = now;
		}
	}
	if (st->shutting_down && !p->shutting_down) {
		p->shutting_down = true;
		p->sd_first_ms = now;
		p->sd_snapshot_ms = obs->snapshot_ms;
		/* by itself: we saw it graceful, then shutting down; or it
		 * was shutting down at our first look after the request and
		 * its counters already said empty (it had no one to wait
		 * for).  Anything else may be a forced shutdown. */
		p->sd_self = !p->forced && p->cfg.min_participants == 0 &&
		    p->graceful_known &&
		    now - p->graceful_since < p->cfg.graceful_max_ms &&
		    (p->saw_graceful || (p->graceful_accepted && n == 0));
	}
	if (p->phase != POLICY_PHASE_WAITING &&
	    p->phase != POLICY_PHASE_FORCING)
		return;
	if (p->shutting_down) {
		if (p->sd_self) {
			/* by the bridge's own rule it is down to the minimum;
			 * the counters may be a snapshot older than that */
			p->participants = (int)p->cfg.min_participants;
			snprintf(why, sizeof(why), "the bridge emptied: its "
			    "graceful shutdown reached SHUTTING_DOWN by itself "
			    "(local endpoints down to %u)",
			    p->cfg.min_participants);
			policy_done(p, p->timed_out ? p->cfg.on_timeout :
			    POLICY_CONTINUE, why);
		} else if (n == 0 && policy_fresh(p, obs, now)) {
			policy_done(p, p->timed_out ? p->cfg.on_timeout :
			    POLICY_CONTINUE, p->forced ? "the bridge is empty "
			    "after the forced shutdown (0 local endpoints while "
			    "SHUTTING_DOWN)" : "the bridge is empty (0 local "
			    "endpoints while SHUTTING_DOWN)");
		}
		return;
	}
	/* not shutting down: drain only (shutdown API off) or dry run */
	if (!(p->shutdown_unsupported || p->cfg.dry_run))
		return;
	if (n != 0) {
		p->zero_first_ms = 0;
		return;
	}
	if (p->zero_first_ms == 0) {
		p->zero_first_ms = now;
		p->zero_snapshot_ms = obs->snapshot_ms;
		return;
	}
	/* a second, newer snapshot that still says zero */
	if ((obs->snapshot_ms > 0 && p->zero_snapshot_ms > 0) ?
	    obs->snapshot_ms > p->zero_snapshot_ms :
	    now >= p->zero_first_ms + p->cfg.stats_interval_ms)
		policy_done(p, POLICY_CONTINUE, p->cfg.dry_run ?
		    "the bridge is empty (dry run: it was never asked to "
		    "drain or shut down)" : "the bridge is empty (drain mode "
		    "only: its shutdown API is disabled)");
}

void
policy_observe(struct policy *p, const struct policy_obs *obs, int64_t now)
{
	policy_evaluate(p, obs, now);
}

void
policy_left(struct policy *p, int64_t now)
{
	if (p->phase == POLICY_PHASE_DONE)
		return;
	if (p->shutting_down) {
		policy_done(p, p->timed_out ? p->cfg.on_timeout :
		    POLICY_CONTINUE, "the bridge left the brewery while "
		    "SHUTTING_DOWN: its process has exited");
		return;
	}
	/* an XMPP hiccup on the bridge is no exit: look now */
	p->next_at = now;
}

static void
policy_rest_failed(struct policy *p, enum policy_step_kind step,
    enum policy_io io, const char *why, int64_t now)
{
	/* refused after the bridge answered, while it was shutting down or
	 * graceful: the HTTP server closes as the process exits */
	if (io == POLICY_IO_REFUSED && p->ever_reachable &&
	    (p->shutting_down || p->graceful_accepted || p->saw_graceful ||
	    p->forced) && p->phase >= POLICY_PHASE_WAITING) {
		policy_done(p, p->timed_out ? p->cfg.on_timeout :
		    POLICY_CONTINUE, "the bridge's process has exited "
		    "(connection refused after it was shutting down)");
		return;
	}
	policy_unreachable(p, why, now);
}

void
policy_rest_done(struct policy *p, enum policy_step_kind step,
    enum policy_io io, const struct policy_obs *obs, const char *why,
    int64_t now)
{
	if (why == NULL)
		why = "";
	if (p->phase == POLICY_PHASE_DONE)
		return;
	switch (step) {
	case POLICY_ENABLE_DRAIN:
		if (io == POLICY_IO_OK || io == POLICY_IO_NOT_FOUND) {
			/* a bridge older than the drain API still shuts down */
			p->drain_enabled = io == POLICY_IO_OK;
			p->drain_unsupported = io == POLICY_IO_NOT_FOUND;
			if (io == POLICY_IO_OK)
				policy_reachable(p);
			else
				snprintf(p->last_problem,
				    sizeof(p->last_problem), "%s", why);
			p->phase = POLICY_PHASE_SHUTTING;
			p->next_at = now;
		} else {
			policy_rest_failed(p, step, io, why, now);
		}
		break;
	case POLICY_SHUTDOWN_GRACEFUL:
		if (io == POLICY_IO_OK) {
			policy_reachable(p);
			p->graceful_accepted = true;
			if (!p->graceful_known) {
				p->graceful_known = true;
				p->graceful_since = now;
			}
			p->phase = POLICY_PHASE_WAITING;
			p->next_at = now;
		} else if (io == POLICY_IO_NOT_FOUND && p->drain_enabled) {
			/* drain only: wait for the conferences to end */
			p->shutdown_unsupported = true;
			snprintf(p->last_problem, sizeof(p->last_problem),
			    "%s", why);
			p->phase = POLICY_PHASE_WAITING;
			p->next_at = now;
		} else if (io == POLICY_IO_NOT_FOUND) {
			/* neither drain nor shutdown: not a usable bridge API
			 * at this address; maybe it is still starting */
			p->phase = POLICY_PHASE_DRAINING;
			policy_unreachable(p, why, now);
		} else {
			policy_rest_failed(p, step, io, why, now);
		}
		break;
	case POLICY_SHUTDOWN_FORCE:
		if (io == POLICY_IO_OK) {
			policy_reachable(p);
			p->forced = true;
			p->forced_at = now;
			p->next_at = now;
		} else {
			policy_rest_failed(p, step, io, why, now);
		}
		break;
	case POLICY_POLL_STATS:
	case POLICY_POLL_HEALTH:
		if (io == POLICY_IO_OK) {
			policy_reachable(p);
			p->next_at = now + p->poll_ms;
			if (obs != NULL)
				policy_evaluate(p, obs, now);
		} else if (io == POLICY_IO_NOT_FOUND &&
		    step == POLICY_POLL_STATS) {
			/* COLIBRI off: presence and health are what's left */
			p->stats_unsupported = true;
			snprintf(p->last_problem, sizeof(p->last_problem),
			    "%s", why);
			p->next_at = now;
		} else {
			policy_rest_failed(p, step, io, why, now);
		}
		break;
	default:
		break;
	}
}

static struct policy_step
policy_wait(int64_t at)
{
	struct policy_step s = { POLICY_WAIT, at };

	return s;
}

static struct policy_step
policy_step(enum policy_step_kind kind)
{
	struct policy_step s = { kind, 0 };

	return s;
}

/* Give up on a bridge that cannot be reached, if it is time. */
static bool
policy_check_unreachable(struct policy *p, int64_t now)
{
	char dur[32], why[1024];

	if (!p->unreachable)
		return false;
	if (!p->resolve_final &&
	    now - p->unreachable_since < p->cfg.unreachable_timeout_ms)
		return false;
	policy_fmt_duration(dur, sizeof(dur), now - p->unreachable_since);
	if (p->resolve_final)
		snprintf(why, sizeof(why), "cannot drain: %s",
		    p->last_problem);
	else
		snprintf(why, sizeof(why), "the bridge could not be reached "
		    "for %s: %s", dur, p->last_problem);
	policy_done(p, p->cfg.on_unreachable, why);
	return true;
}

static struct policy_step
policy_on_deadline(struct policy *p, int64_t now)
{
	char dur[32], why[1024], who[64];

	if (p->spot && now >= p->reclaim_at) {
		snprintf(why, sizeof(why), "spot interruption: the reclaim "
		    "time is here%s", p->ever_reachable ? "" : " and the bridge "
		    "could not be reached");
		policy_done(p, POLICY_CONTINUE, why);
		return policy_step(POLICY_COMPLETE);
	}
	policy_fmt_duration(dur, sizeof(dur), p->deadline_ms - p->start_ms);
	if (p->participants >= 0)
		snprintf(who, sizeof(who), "%d participant%s still on it",
		    p->participants, p->participants == 1 ? "" : "s");
	else
		snprintf(who, sizeof(who), "participants unknown");
	p->timed_out = true;
	snprintf(p->last_problem, sizeof(p->last_problem),
	    "max_duration (%s) reached with %s", dur, who);
	if (p->cfg.force_on_timeout && !p->cfg.dry_run &&
	    !p->shutdown_unsupported && p->ever_reachable &&
	    p->phase == POLICY_PHASE_WAITING) {
		p->phase = POLICY_PHASE_FORCING;
		return policy_step(POLICY_SHUTDOWN_FORCE);
	}
	snprintf(why, sizeof(why), "max_duration (%s) reached with %s%s",
	    dur, who, p->cfg.force_on_timeout ? "" : " (no forced shutdown: "
	    "force_on_timeout is off)");
	policy_done(p, p->cfg.on_timeout, why);
	return policy_step(POLICY_COMPLETE);
}

struct policy_step
policy_next(struct policy *p, int64_t now)
{
	int64_t wake, force_end;
	char why[1024], dur[32];

	if (p->phase != POLICY_PHASE_DONE && p->phase != POLICY_PHASE_FORCING &&
	    now >= p->deadline_ms)
		return policy_on_deadline(p, now);
	switch (p->phase) {
	case POLICY_PHASE_DONE:
		return policy_step(POLICY_COMPLETE);
	case POLICY_PHASE_RESOLVING:
		if (policy_check_unreachable(p, now))
			return policy_step(POLICY_COMPLETE);
		if (now >= p->next_at)
			return policy_step(POLICY_RESOLVE);
		return policy_wait(policy_min(p->next_at, p->deadline_ms));
	case POLICY_PHASE_DRAINING:
	case POLICY_PHASE_SHUTTING:
		if (policy_check_unreachable(p, now))
			return policy_step(POLICY_COMPLETE);
		if (now < p->next_at)
			return policy_wait(policy_min(p->next_at,
			    p->deadline_ms));
		if (p->cfg.dry_run) {
			/* say what would be asked, ask nothing */
			p->phase = POLICY_PHASE_WAITING;
			p->next_at = now;
			return policy_next(p, now);
		}
		return policy_step(p->phase == POLICY_PHASE_DRAINING ?
		    POLICY_ENABLE_DRAIN : POLICY_SHUTDOWN_GRACEFUL);
	case POLICY_PHASE_WAITING:
		if (policy_check_unreachable(p, now))
			return policy_step(POLICY_COMPLETE);
		if (now >= p->next_at)
			return policy_step(p->stats_unsupported ?
			    POLICY_POLL_HEALTH : POLICY_POLL_STATS);
		return policy_wait(policy_min(p->next_at, p->deadline_ms));
	case POLICY_PHASE_FORCING:
		if (!p->forced && p->forced_at == 0) {
			/* the force request failed: retry it */
			if (now >= p->next_at)
				return policy_step(POLICY_SHUTDOWN_FORCE);
		}
		force_end = (p->forced_at ? p->forced_at : p->deadline_ms) +
		    p->cfg.shutting_down_delay_ms + POLICY_FORCE_GRACE_MS;
		if (p->spot)
			force_end = p->reclaim_at;
		if (now >= force_end && p->spot) {
			snprintf(why, sizeof(why), "spot interruption: the "
			    "reclaim time is here with %d participant%s still "
			    "on the bridge", p->participants,
			    p->participants == 1 ? "" : "s");
			policy_done(p, POLICY_CONTINUE, why);
			return policy_step(POLICY_COMPLETE);
		}
		if (now >= force_end) {
			policy_fmt_duration(dur, sizeof(dur),
			    now - p->deadline_ms);
			snprintf(why, sizeof(why), "%s; forced shutdown "
			    "requested, but %d participant%s still on the "
			    "bridge %s later", p->last_problem,
			    p->participants, p->participants == 1 ? "" : "s",
			    dur);
			policy_done(p, p->cfg.on_timeout, why);
			return policy_step(POLICY_COMPLETE);
		}
		if (now >= p->next_at)
			return policy_step(p->forced ? (p->stats_unsupported ?
			    POLICY_POLL_HEALTH : POLICY_POLL_STATS) :
			    POLICY_SHUTDOWN_FORCE);
		wake = policy_min(p->next_at, force_end);
		return policy_wait(wake);
	}
	return policy_wait(now + p->cfg.poll_interval_ms);
}

const char *
policy_phase_name(enum policy_phase phase)
{
	static const char *const names[] = {
		[POLICY_PHASE_RESOLVING] = "resolving",
		[POLICY_PHASE_DRAINING] = "enabling_drain",
		[POLICY_PHASE_SHUTTING] = "requesting_shutdown",
		[POLICY_PHASE_WAITING] = "draining",
		[POLICY_PHASE_FORCING] = "forcing",
		[POLICY_PHASE_DONE] = "done",
	};

	return names[phase];
}

const char *
policy_step_name(enum policy_step_kind kind)
{
	static const char *const names[] = {
		[POLICY_WAIT] = "wait",
		[POLICY_RESOLVE] = "resolve",
		[POLICY_ENABLE_DRAIN] = "enable_drain",
		[POLICY_SHUTDOWN_GRACEFUL] = "shutdown_graceful",
		[POLICY_SHUTDOWN_FORCE] = "shutdown_force",
		[POLICY_POLL_STATS] = "poll_stats",
		[POLICY_POLL_HEALTH] = "poll_health",
		[POLICY_COMPLETE] = "complete",
	};

	return names[kind];
}
