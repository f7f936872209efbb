#include <stdio.h>
#include <string.h>

#include "drain/verify.h"

void
verify_init(struct verify *v, const struct verify_config *cfg, bool link_up,
    int64_t now)
{
	memset(v, 0, sizeof(*v));
	v->cfg = *cfg;
	v->start_ms = now;
	v->deadline_ms = now + cfg->timeout_ms;
	v->next_at = now;
	v->link_up = link_up;
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

void
verify_health(struct verify *v, bool healthy, const char *why, int64_t now)
{
	if (healthy && !v->healthy)
		v->healthy_at = now;
	v->healthy = healthy;
	if (!healthy)
		snprintf(v->health_problem, sizeof(v->health_problem), "%s",
		    why != NULL ? why : "unhealthy");
	/* once healthy, only the brewery is waited for; keep an eye on
	 * health at the poll interval all the same */
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
verify_occupant(struct verify *v, bool present, int64_t joined_at,
    bool has_stats, int64_t now)
{
	if (!present) {
		v->joined = false;
		v->present_nostats = false;
		return;
	}
	if (joined_at < v->start_ms) {
		/* there before this instance could have booted */
		v->taken = true;
		v->joined = false;
		return;
	}
	v->taken = false;
	v->present_nostats = !has_stats;
	if (has_stats && !v->joined) {
		v->joined = true;
		v->joined_at = now;
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
	char why[512], missing[320];
	int64_t secs = (v->deadline_ms - v->start_ms) / 1000;

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
	if (v->cfg.need_brewery && !v->joined) {
		if (v->taken)
			snprintf(missing, sizeof(missing), "its nickname is "
			    "taken by another occupant of the brewery that was "
			    "there before it launched");
		else if (v->present_nostats)
			snprintf(missing, sizeof(missing), "it is in the "
			    "brewery but never sent colibri stats");
		else
			snprintf(missing, sizeof(missing), "it never joined "
			    "the brewery");
	}
	if (!v->healthy) {
		size_t l = strlen(missing);

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
	if ((!v->cfg.need_brewery || v->joined) && v->healthy) {
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
	if (now >= v->next_at)
		return verify_step(v->resolved ? VERIFY_POLL_HEALTH :
		    VERIFY_RESOLVE, 0);
	wake = v->next_at < v->deadline_ms ? v->next_at : v->deadline_ms;
	return verify_step(VERIFY_WAIT, wake);
}
