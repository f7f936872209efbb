#include <stdio.h>
#include <string.h>

#include "drain/verify.h"

void
verify_init(struct verify *v, const struct verify_config *cfg, bool link_up,
    bool occupied, int64_t now)
{
	memset(v, 0, sizeof(*v));
	v->present_at_start = occupied;
	v->cfg = *cfg;
	v->start_ms = now;
	v->deadline_ms = now + cfg->timeout_ms;
	v->next_at = now;
	v->link_up = link_up;
	v->health_due = true;
	if (!link_up)
		v->link_down_since = now;
}

void
verify_clamp_deadline(struct verify *v, int64_t deadline)
{
	if (deadline < v->deadline_ms)
		v->deadline_ms = deadline;
}

void
verify_resolved(struct verify *v, bool ok, const char *why, int64_t now)
{
	if (ok) {
		v->resolved = true;
		v->next_at = now;
		return;
	}
	snprintf(v->health_problem, sizeof(v->health_problem), "%s", why);
	v->next_at = now + v->cfg.poll_interval_ms;
}

static bool
verify_seen(const int64_t *snaps, unsigned n, int64_t t)
{
	unsigned i;

	for (i = 0; i < n && i < VERIFY_SNAPSHOTS; i++)
		if (snaps[i] == t)
			return true;
	return false;
}

static void
verify_push(int64_t *snaps, unsigned *n, int64_t t)
{
	if (t == 0 || verify_seen(snaps, *n, t))
		return;
	if (*n == VERIFY_SNAPSHOTS) {
		memmove(snaps, snaps + 1, sizeof(*snaps) *
		    (VERIFY_SNAPSHOTS - 1));
		(*n)--;
	}
	snaps[(*n)++] = t;
}

/*
 * Two REST snapshots closer than one and a half stats intervals are
 * consecutive: the bridge took none between them.  A presence snapshot
 * between them is another bridge's.
 */
static bool
verify_between(const struct verify *v)
{
	int64_t gap = v->cfg.stats_interval_ms * 3 / 2, lo, hi;
	unsigned i, j, k;

	if (gap <= 0)
		return false;
	for (i = 0; i < v->nrest; i++) {
		for (j = 0; j < v->nrest; j++) {
			lo = v->rest_snaps[i];
			hi = v->rest_snaps[j];
			if (hi <= lo || hi - lo >= gap)
				continue;
			for (k = 0; k < v->nocc; k++)
				if (v->occ_snaps[k] > lo &&
				    v->occ_snaps[k] < hi)
					return true;
		}
	}
	return false;
}

/* Does the occupant prove to be this instance? */
static void
verify_identify(struct verify *v, int64_t now)
{
	unsigned i;

	if (!v->present || !v->occ_stats) {
		v->identified = false;
		return;
	}
	for (i = 0; i < v->nocc; i++) {
		if (verify_seen(v->rest_snaps, v->nrest, v->occ_snaps[i])) {
			if (!v->identified)
				v->joined_at = now;
			v->identified = true;
			v->mismatch = false;
			return;
		}
	}
	if (v->nocc == 0 || v->rest_stats_off) {
		/* no timestamps to compare: judge by when it appeared */
		if (!v->present_at_start && !v->identified) {
			v->identified = true;
			v->joined_at = now;
		}
		return;
	}
	/* both sides have snapshots and none matches yet: once the REST
	 * side has moved past every presence snapshot, it is another bridge */
	if ((v->nrest > 0 && v->rest_snaps[v->nrest - 1] >
	    v->occ_snaps[v->nocc - 1]) || verify_between(v))
		v->mismatch = true;
}

void
verify_health(struct verify *v, bool healthy, const char *why, int64_t now)
{
	v->healthy = healthy;
	if (!healthy)
		snprintf(v->health_problem, sizeof(v->health_problem), "%s",
		    why != NULL ? why : "unhealthy");
	v->health_due = false;
	v->next_at = v->cfg.need_brewery && !v->rest_stats_off ? now :
	    now + v->cfg.poll_interval_ms;
}

void
verify_rest_stats(struct verify *v, bool ok, bool not_found,
    int64_t snapshot_ms, int64_t now)
{
	if (ok && snapshot_ms > 0)
		verify_push(v->rest_snaps, &v->nrest, snapshot_ms);
	else if (ok || not_found)
		v->rest_stats_off = true;
	v->stats_due = false;
	verify_identify(v, now);
	v->health_due = true;
	v->next_at = now + v->cfg.poll_interval_ms;
}

void
verify_link(struct verify *v, bool up, int64_t now)
{
	if (up == v->link_up)
		return;
	v->link_up = up;
	if (up)
		v->link_down_total += now - v->link_down_since;
	else
		v->link_down_since = now;
}

void
verify_occupant(struct verify *v, bool present, bool has_stats,
    int64_t snapshot_ms, int64_t now)
{
	if (!present) {
		v->present = false;
		v->occ_stats = false;
		v->identified = false;
		v->present_at_start = false;
		v->nocc = 0;
		return;
	}
	v->present = true;
	if (has_stats) {
		v->occ_stats = true;
		verify_push(v->occ_snaps, &v->nocc, snapshot_ms);
	}
	verify_identify(v, now);
	/* a stats presence: check the instance's side at once rather than
	 * at the next poll */
	if (has_stats && v->resolved && !v->identified &&
	    !v->rest_stats_off) {
		v->stats_due = true;
		v->next_at = now;
	}
}

static struct verify_step
verify_step(enum verify_step_kind kind, int64_t wake)
{
	struct verify_step s = { kind, wake };

	return s;
}

static void
verify_done(struct verify *v, enum policy_result r, const char *why)
{
	v->done = true;
	v->result = r;
	snprintf(v->reason, sizeof(v->reason), "%s", why);
}

static void
verify_timeout(struct verify *v, int64_t now)
{
	char why[640], missing[560];
	int64_t secs = (v->deadline_ms - v->start_ms) / 1000;
	size_t l;

	if (v->cfg.need_brewery && !v->link_up) {
		snprintf(why, sizeof(why), "launch not verified within %llds: "
		    "our own XMPP link to the brewery has been down for %llds, "
		    "so the bridge's presence could not be checked (this is not "
		    "the bridge's fault)", (long long)secs,
		    (long long)((now - v->link_down_since) / 1000));
		verify_done(v, v->cfg.on_timeout, why);
		return;
	}
	missing[0] = '\0';
	if (v->cfg.need_brewery && !v->identified) {
		if (v->present && (v->mismatch || v->present_at_start))
			snprintf(missing, sizeof(missing), "its nickname is "
			    "taken: the brewery occupant with that name is "
			    "another bridge (%s)", v->mismatch ? "its stats "
			    "never matched this instance's /colibri/stats" :
			    "it was there before this launch began");
		else if (v->present && !v->occ_stats)
			snprintf(missing, sizeof(missing), "it is in the "
			    "brewery but never sent colibri stats");
		else
			snprintf(missing, sizeof(missing), "it never joined "
			    "the brewery");
	}
	if (!v->healthy) {
		l = strlen(missing);
		snprintf(missing + l, sizeof(missing) - l, "%s/about/health "
		    "not 200: %s", l ? "; " : "", v->health_problem[0] ?
		    v->health_problem : "not checked");
	}
	snprintf(why, sizeof(why), "launch not verified within %llds: %s%s",
	    (long long)secs, missing, v->link_down_total > 0 ?
	    " (our XMPP link was down for part of the time)" : "");
	verify_done(v, v->cfg.on_timeout, why);
}

struct verify_step
verify_next(struct verify *v, int64_t now)
{
	int64_t wake;

	if (v->done)
		return verify_step(VERIFY_COMPLETE, 0);
	if ((!v->cfg.need_brewery || v->identified) && v->healthy) {
		verify_done(v, POLICY_CONTINUE, v->cfg.need_brewery ?
		    "the bridge is in the brewery with colibri stats and "
		    "/about/health answers 200" : "/about/health answers 200 "
		    "(brewery not checked: verify = health)");
		return verify_step(VERIFY_COMPLETE, 0);
	}
	if (now >= v->deadline_ms) {
		/* the verdict waits while our own link is down, but never
		 * past the deadline: AWS's own timeout would act instead */
		verify_timeout(v, now);
		return verify_step(VERIFY_COMPLETE, 0);
	}
	if (now >= v->next_at) {
		if (!v->resolved)
			return verify_step(VERIFY_RESOLVE, 0);
		if (v->stats_due)
			return verify_step(VERIFY_POLL_STATS, 0);
		if (v->health_due || !v->cfg.need_brewery ||
		    v->rest_stats_off)
			return verify_step(VERIFY_POLL_HEALTH, 0);
		return verify_step(VERIFY_POLL_STATS, 0);
	}
	wake = v->next_at < v->deadline_ms ? v->next_at : v->deadline_ms;
	return verify_step(VERIFY_WAIT, wake);
}
