#include <sys/queue.h>

#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/autoscaling.h"
#include "aws/aws.h"
#include "drain/brewery.h"
#include "drain/bridge.h"
#include "drain/policy.h"
#include "drain/protect.h"
#include "handler/audit.h"
#include "handler/config.h"
#include "handler/ctx.h"
#include "handler/log.h"
#include "handler/protection.h"
#include "handler/resolver.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"

#define PROTECTION_MAX_MEMBERS	500
#define PROTECTION_NUDGE_MS	2000	/* debounce of presence changes */
#define PROTECTION_LOAD_WAIT_MS	5000	/* REST look-ups of one round */
#define PROTECTION_BATCH	50	/* ids per SetInstanceProtection */

struct protection_group;

/* A member whose load is looked up over REST this round. */
struct protection_probe {
	struct protection_group	*g;
	size_t			 index;
	struct resolver_req	*rreq;
	struct bridge_call	*call;
};

struct protection_member {
	char			 instance[24];
	int			 participants;	/* -1 unknown */
	bool			 protected_now;
	bool			 in_service;
	const char		*source;	/* "presence", "stats", NULL */
};

enum protection_phase {
	PROTECTION_IDLE,
	PROTECTION_DESCRIBING,
	PROTECTION_PROBING,
	PROTECTION_APPLYING,
};

struct protection_group {
	struct protection	*p;
	char			*name;		/* owned */
	enum protection_phase	 phase;
	struct event		*timer;		/* owned: the next round */
	struct event		*probe_guard;	/* owned */
	struct aws_call		*call;
	struct protection_member *m;		/* owned */
	size_t			 n;
	struct protection_probe	*probes;	/* owned */
	size_t			 nprobes, probes_left;
	unsigned		 applying;	/* calls in flight */
	bool			 nudged;	/* news during a round */
	bool			 nudge_armed;	/* a round comes soon */
	int64_t			 last_round;	/* mono */
};

struct protection {
	struct ctx		*ctx;
	struct protection_group	*groups;	/* owned */
	size_t			 ngroups;
	int64_t			 calls[120];	/* mono ms, a ring */
	unsigned		 ncalls, next_call;
};

static void protection_round(struct protection_group *g);

static void
protection_arm(struct event *ev, int64_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

static void
protection_schedule(struct protection_group *g)
{
	protection_arm(g->timer,
	    (int64_t)g->p->ctx->cfg->protection.interval_ms);
}

/* SetInstanceProtection calls made in the last minute. */
static unsigned
protection_recent_calls(struct protection *p, int64_t now)
{
	unsigned i, k = 0;

	for (i = 0; i < p->ncalls; i++)
		if (now - p->calls[i] < 60000)
			k++;
	return k;
}

static void
protection_note_call(struct protection *p, int64_t now)
{
	unsigned max = sizeof(p->calls) / sizeof(p->calls[0]);

	p->calls[p->next_call] = now;
	p->next_call = (p->next_call + 1) % max;
	if (p->ncalls < max)
		p->ncalls++;
}

static void
protection_audit(struct protection_group *g, const char *instance,
    const char *step, json_t *f)
{
	struct audit_ctx actx = { .instance = instance, .group = g->name };
	int r;

	if ((r = audit_write(g->p->ctx->audit, &actx, step, f)) != 0)
		log_warnx("protection: cannot write audit record: %s",
		    strerror(-r));
	json_decref(f);
}

static void
protection_round_end(struct protection_group *g)
{
	g->phase = PROTECTION_IDLE;
	g->last_round = timeutil_mono_ms();
	if (g->nudged) {
		g->nudged = false;
		protection_arm(g->timer, PROTECTION_NUDGE_MS);
	} else {
		protection_schedule(g);
	}
}

struct protection_apply {
	struct protection_group	*g;
	bool			 protect;
	char			(*ids)[24];	/* owned */
	size_t			 n;
	int			*participants;	/* owned */
	enum protect_reason	*reasons;	/* owned */
};

static void
protection_applied(const struct aws_error *err, void *arg)
{
	struct protection_apply *ap = arg;
	struct protection_group *g = ap->g;
	char text[512];
	size_t i;

	for (i = 0; i < ap->n; i++) {
		if (err != NULL)
			continue;
		log_info("protection: %s of %s %s (%d participants: %s)",
		    ap->ids[i], g->name, ap->protect ? "protected" :
		    "unprotected", ap->participants[i],
		    protect_reason_text(ap->reasons[i]));
		protection_audit(g, ap->ids[i], "protection", json_pack(
		    "{s:b,s:i,s:s}", "protected", ap->protect,
		    "participants", ap->participants[i], "reason",
		    protect_reason_text(ap->reasons[i])));
	}
	if (err != NULL) {
		log_warnx("protection: SetInstanceProtection on %s failed: %s",
		    g->name, aws_error_str(err, text, sizeof(text)));
		protection_audit(g, NULL, "error", json_pack("{s:s,s:s}",
		    "operation", "SetInstanceProtection", "error", text));
	}
	free(ap->ids);
	free(ap->participants);
	free(ap->reasons);
	free(ap);
	if (--g->applying == 0)
		protection_round_end(g);
}

static void
protection_apply(struct protection_group *g, const struct protect_change *ch,
    size_t nch, bool protect)
{
	struct protection *p = g->p;
	const char *ids[PROTECTION_BATCH];
	struct protection_apply *ap;
	size_t i, k = 0;
	int64_t now = timeutil_mono_ms();

	for (i = 0; i < nch; i++)
		if (ch[i].protect == protect)
			k++;
	if (k == 0)
		return;
	if (k > PROTECTION_BATCH)
		k = PROTECTION_BATCH;	/* the rest next round */
	if (protection_recent_calls(p, now) >=
	    p->ctx->cfg->protection.max_calls_per_minute) {
		log_info("protection: %s: rate limit (%u calls a minute) "
		    "reached; %zu change%s wait for the next round", g->name,
		    p->ctx->cfg->protection.max_calls_per_minute, k,
		    k == 1 ? "" : "s");
		return;
	}
	ap = xcalloc(1, sizeof(*ap));
	ap->g = g;
	ap->protect = protect;
	ap->ids = xcalloc(k, sizeof(*ap->ids));
	ap->participants = xcalloc(k, sizeof(*ap->participants));
	ap->reasons = xcalloc(k, sizeof(*ap->reasons));
	for (i = 0; i < nch && ap->n < k; i++) {
		if (ch[i].protect != protect)
			continue;
		snprintf(ap->ids[ap->n], sizeof(ap->ids[0]), "%s",
		    g->m[ch[i].index].instance);
		ap->participants[ap->n] = g->m[ch[i].index].participants;
		ap->reasons[ap->n] = ch[i].reason;
		ids[ap->n] = ap->ids[ap->n];
		ap->n++;
	}
	protection_note_call(p, now);
	g->applying++;
	if (p->ctx->cfg->daemon.dry_run) {
		for (i = 0; i < ap->n; i++)
			protection_audit(g, ap->ids[i], "would_protect",
			    json_pack("{s:b,s:i,s:s}", "protected", protect,
			    "participants", ap->participants[i], "reason",
			    protect_reason_text(ap->reasons[i])));
		ap->n = 0;
		protection_applied(NULL, ap);
		return;
	}
	asg_set_protection(p->ctx->aws, g->name, ids, ap->n, protect,
	    protection_applied, ap);
}

static void
protection_plan(struct protection_group *g)
{
	const struct config *cfg = g->p->ctx->cfg;
	struct protect_config pc = {
		.threshold = (int)cfg->protection.threshold,
		.hysteresis = (int)cfg->protection.hysteresis,
		.unprotected_min = cfg->protection.unprotected_min,
	};
	struct protect_bridge *b;
	struct protect_change *ch;
	size_t i, nch;

	evtimer_del(g->probe_guard);
	b = xcalloc(g->n + 1, sizeof(*b));
	ch = xcalloc(g->n + 1, sizeof(*ch));
	for (i = 0; i < g->n; i++) {
		b[i].instance = g->m[i].instance;
		b[i].participants = g->m[i].participants;
		b[i].protected_now = g->m[i].protected_now;
		b[i].in_service = g->m[i].in_service;
	}
	nch = protect_plan(b, g->n, &pc, ch);
	g->phase = PROTECTION_APPLYING;
	g->applying = 1;	/* held until both batches are sent */
	protection_apply(g, ch, nch, false);	/* free some first */
	protection_apply(g, ch, nch, true);
	free(b);
	free(ch);
	if (--g->applying == 0)
		protection_round_end(g);
}

static void
protection_probes_free(struct protection_group *g)
{
	size_t i;

	for (i = 0; i < g->nprobes; i++) {
		resolver_cancel(g->probes[i].rreq);
		bridge_call_cancel(g->probes[i].call);
	}
	free(g->probes);
	g->probes = NULL;
	g->nprobes = g->probes_left = 0;
}

static void
protection_probe_done(struct protection_probe *pr)
{
	struct protection_group *g = pr->g;

	if (--g->probes_left == 0) {
		protection_probes_free(g);
		protection_plan(g);
	}
}

static void
protection_stats_done(const struct bridge_result *res, void *arg)
{
	struct protection_probe *pr = arg;
	struct protection_member *m = &pr->g->m[pr->index];

	pr->call = NULL;
	if (res->outcome == BRIDGE_OK &&
	    policy_participants(&res->stats) >= 0) {
		m->participants = policy_participants(&res->stats);
		m->source = "stats";
	}
	protection_probe_done(pr);
}

static void
protection_resolved(const struct resolver_answer *ans,
    const struct aws_error *err, void *arg)
{
	struct protection_probe *pr = arg;
	struct ctx *ctx = pr->g->p->ctx;
	char why[320];

	pr->rreq = NULL;
	if (ans == NULL || resolver_classify(ans, pr->g->m[pr->index].instance,
	    why, sizeof(why)) != RESOLVER_USABLE) {
		protection_probe_done(pr);
		return;
	}
	pr->call = bridge_stats(ctx->http, ans->private_ip,
	    ctx->cfg->bridge.port, (unsigned)ctx->cfg->bridge.timeout_ms,
	    protection_stats_done, pr);
}

static void
protection_probe_guard_cb(evutil_socket_t fd, short what, void *arg)
{
	struct protection_group *g = arg;

	/* plan with what is known: unknown loads keep their protection */
	protection_probes_free(g);
	protection_plan(g);
}

/* The load of every member: presence where fresh, else REST. */
static void
protection_loads(struct protection_group *g)
{
	struct ctx *ctx = g->p->ctx;
	int64_t wall = timeutil_wall_ms();
	int64_t fresh = 2 * (int64_t)ctx->cfg->bridge.stats_interval_ms +
	    2000;
	size_t i, k = 0;

	for (i = 0; i < g->n; i++) {
		const struct brewery_occupant *occ = NULL;

		if (!g->m[i].in_service)
			continue;
		if (ctx->brewery != NULL && brewery_joined(ctx->brewery))
			occ = brewery_find(ctx->brewery, g->m[i].instance);
		if (occ != NULL && occ->present && occ->has_stats &&
		    wall - occ->last_ms <= fresh &&
		    policy_participants(&occ->stats) >= 0) {
			g->m[i].participants = policy_participants(
			    &occ->stats);
			g->m[i].source = "presence";
			continue;
		}
		k++;
	}
	if (k == 0) {
		protection_plan(g);
		return;
	}
	g->phase = PROTECTION_PROBING;
	g->probes = xcalloc(k, sizeof(*g->probes));
	g->nprobes = g->probes_left = k;
	protection_arm(g->probe_guard, PROTECTION_LOAD_WAIT_MS);
	for (i = 0, k = 0; i < g->n; i++) {
		if (!g->m[i].in_service || g->m[i].source != NULL)
			continue;
		g->probes[k].g = g;
		g->probes[k].index = i;
		g->probes[k].rreq = resolver_lookup(ctx->resolver,
		    g->m[i].instance, protection_resolved, &g->probes[k]);
		k++;
	}
}

static void
protection_described(const struct aws_error *err, const struct asg_group *grp,
    void *arg)
{
	struct protection_group *g = arg;
	char text[512];
	size_t i;

	g->call = NULL;
	if (err != NULL || grp == NULL) {
		if (err != NULL)
			log_warnx("protection: cannot read group %s: %s",
			    g->name, aws_error_str(err, text, sizeof(text)));
		else
			log_warnx("protection: there is no group %s",
			    g->name);
		protection_round_end(g);
		return;
	}
	free(g->m);
	g->n = grp->n < PROTECTION_MAX_MEMBERS ? grp->n :
	    PROTECTION_MAX_MEMBERS;
	g->m = xcalloc(g->n + 1, sizeof(*g->m));
	for (i = 0; i < g->n; i++) {
		snprintf(g->m[i].instance, sizeof(g->m[i].instance), "%s",
		    grp->inst[i].instance_id);
		g->m[i].participants = -1;
		g->m[i].protected_now = grp->inst[i].protected_from_scale_in;
		g->m[i].in_service = grp->inst[i].lifecycle_state != NULL &&
		    strcmp(grp->inst[i].lifecycle_state, "InService") == 0;
	}
	protection_loads(g);
}

static void
protection_round(struct protection_group *g)
{
	g->nudge_armed = false;
	if (g->phase != PROTECTION_IDLE)
		return;
	g->phase = PROTECTION_DESCRIBING;
	g->call = asg_describe_group(g->p->ctx->aws, g->name,
	    protection_described, g);
}

static void
protection_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	protection_round(arg);
}

struct protection *
protection_new(struct ctx *ctx)
{
	const struct config *cfg = ctx->cfg;
	struct protection *p;
	char **names;
	size_t i;

	if (!cfg->protection.enabled)
		return NULL;
	names = cfg->protection.groups != NULL ? cfg->protection.groups :
	    cfg->daemon.groups;
	p = xcalloc(1, sizeof(*p));
	p->ctx = ctx;
	for (i = 0; names != NULL && names[i] != NULL; i++)
		;
	p->ngroups = i;
	p->groups = xcalloc(i + 1, sizeof(*p->groups));
	for (i = 0; i < p->ngroups; i++) {
		struct protection_group *g = &p->groups[i];

		g->p = p;
		g->name = xstrdup(names[i]);
		g->timer = evtimer_new(ctx->base, protection_timer_cb, g);
		g->probe_guard = evtimer_new(ctx->base,
		    protection_probe_guard_cb, g);
		if (g->timer == NULL || g->probe_guard == NULL)
			fatalx("protection: evtimer_new");
	}
	return p;
}

void
protection_free(struct protection *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->ngroups; i++) {
		struct protection_group *g = &p->groups[i];

		aws_call_cancel(g->call);
		protection_probes_free(g);
		event_free(g->timer);
		event_free(g->probe_guard);
		free(g->m);
		free(g->name);
	}
	free(p->groups);
	free(p);
}

void
protection_start(struct protection *p)
{
	size_t i;

	if (p == NULL)
		return;
	log_info("protection: steering scale-in of %zu group%s (threshold "
	    "%u, %u kept unprotected)", p->ngroups, p->ngroups == 1 ? "" :
	    "s", p->ctx->cfg->protection.threshold,
	    p->ctx->cfg->protection.unprotected_min);
	for (i = 0; i < p->ngroups; i++)
		protection_arm(p->groups[i].timer, 0);
}

void
protection_occupant(struct protection *p, const struct brewery_occupant *occ)
{
	size_t i, j;

	if (p == NULL || !occ->has_stats || (occ->had_stats &&
	    policy_participants(&occ->stats) ==
	    policy_participants(&occ->prev_stats)))
		return;
	for (i = 0; i < p->ngroups; i++) {
		struct protection_group *g = &p->groups[i];

		for (j = 0; j < g->n; j++) {
			if (strcmp(g->m[j].instance, occ->nickname) != 0)
				continue;
			if (g->phase != PROTECTION_IDLE) {
				g->nudged = true;
			} else if (!g->nudge_armed) {
				/* debounced: many presences, one round */
				g->nudge_armed = true;
				evtimer_del(g->timer);
				protection_arm(g->timer, PROTECTION_NUDGE_MS);
			}
			return;
		}
	}
}
