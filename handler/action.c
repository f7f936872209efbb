/*
 * The per-action state machine.  Each action has at most one bridge or
 * resolver call in flight (the policy's step), plus independent heartbeat
 * and visibility timers with their own AWS calls.  After every piece of
 * news, action_drive() asks the policy for the next step.
 */
#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/autoscaling.h"
#include "aws/aws.h"
#include "aws/sqs.h"
#include "drain/brewery.h"
#include "drain/bridge.h"
#include "drain/policy.h"
#include "drain/verify.h"
#include "events/lifecycle.h"
#include "handler/action.h"
#include "handler/audit.h"
#include "handler/backoff.h"
#include "handler/config.h"
#include "handler/ctx.h"
#include "handler/finished.h"
#include "handler/hookinfo.h"
#include "handler/journal.h"
#include "handler/log.h"
#include "handler/metrics.h"
#include "handler/rebalance.h"
#include "handler/receiver.h"
#include "handler/resolver.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"

/* A hook whose heartbeat timeout we could not learn: assume AWS's minimum. */
#define ACTION_ASSUMED_HEARTBEAT_S	30
/* Leave this much of the global timeout for a forced shutdown and the
 * completion itself. */
#define ACTION_GLOBAL_MARGIN_MS		(2 * 60 * 1000)
#define ACTION_RETRY_MIN_MS		1000
#define ACTION_RETRY_MAX_MS		30000
/* Distinct bridge problems audited per action; more are only logged. */
#define ACTION_MAX_PROBLEMS		16

struct action {
	TAILQ_ENTRY(action)	 entry;
	struct ctx		*ctx;
	enum action_state	 state;
	enum lifecycle_transition transition;
	char			*group;		/* owned */
	char			*hook;		/* owned */
	char			 instance[LIFECYCLE_INSTANCE_MAX + 1];
	char			 token[LIFECYCLE_TOKEN_LEN + 1];
	char			*receipt;	/* owned; the newest */
	char			 message_id[128];
	unsigned		 receive_count;
	int64_t			 started_mono;
	int64_t			 started_wall;
	int64_t			 event_wall;	/* notification time, or receipt */
	bool			 resumed;

	/* the hook */
	struct hookinfo_req	*hook_req;
	bool			 hook_known;
	unsigned		 heartbeat_timeout_s;
	unsigned		 global_timeout_s;
	char			 default_result[16];
	int64_t			 global_deadline;	/* mono */

	/* keeping the action alive */
	struct event		*hb_timer;	/* owned */
	struct aws_call		*hb_call;
	unsigned		 heartbeats;
	int64_t			 hb_expires;	/* mono: AWS's deadline */
	struct event		*vis_timer;	/* owned */
	struct aws_call		*vis_call;

	/* the bridge */
	char			 ip[48];
	struct resolver_req	*resolve_req;
	struct bridge_call	*rest_call;
	enum policy_step_kind	 rest_step;
	struct policy		 policy;	/* terminating */
	struct verify		 verify;	/* launching */
	int			 participants;	/* last audited */
	bool			 audited_drain_started;
	bool			 audited_shutdown;
	bool			 audited_timeout;
	bool			 audited_dry_run;
	/* how far the bridge's presence lags: from our first change request
	 * (wall ms) to the first presence that shows it; -1 until seen */
	int64_t			 probe_sent_wall;
	int64_t			 presence_lag_ms;
	char			 last_problem[640];
	uint64_t		 problems[ACTION_MAX_PROBLEMS]; /* audited */
	unsigned		 nproblems;

	/* the end */
	struct event		*timer;		/* owned: policy wake, retries */
	struct aws_call		*aws_call;	/* complete or delete */
	char			 result[16];
	char			 reason[1024];
	unsigned		 complete_tries;
	bool			 over_elsewhere; /* "No active Lifecycle Action" */

	void			(*handed_back)(struct action *);

	/* spot interruption: the instance goes at reclaim_wall anyway */
	bool			 lifecycle;	/* false: a spot warning alone */
	bool			 spot;
	int64_t			 reclaim_wall;
	int			 spot_participants;	/* at the warning */
	struct event		*watch;		/* owned: until it is gone */
	struct bridge_call	*watch_call;
	bool			 gone;
};

static void action_drive(struct action *a);

/* Stopping: called once the last action is handed back or finished. */
static void (*action_all_handed_back)(struct ctx *);

static void
action_check_handed_back(struct ctx *ctx)
{
	void (*done)(struct ctx *) = action_all_handed_back;

	if (ctx->nactions > 0 || done == NULL)
		return;
	action_all_handed_back = NULL;
	done(ctx);
}
static void action_watch_start(struct action *a);
static struct action *action_spot_for(struct ctx *ctx, const char *instance);

/* Only lifecycle actions are journaled: a spot warning alone is not
 * resumable work (EC2 ends it within two minutes whatever we do). */
static void
action_journal(struct action *a)
{
	if (a->lifecycle)
		journal_action_changed(a->ctx->journal, a);
}
static void action_finish(struct action *a);
static void action_complete(struct action *a);

const char *
action_state_name(enum action_state s)
{
	static const char *const names[] = {
		[ACTION_RECEIVED] = "received",
		[ACTION_RESOLVING] = "resolving",
		[ACTION_ENABLING_DRAIN] = "enabling_drain",
		[ACTION_REQUESTING_SHUTDOWN] = "requesting_shutdown",
		[ACTION_DRAINING] = "draining",
		[ACTION_FORCING] = "forcing",
		[ACTION_VERIFYING] = "verifying",
		[ACTION_COMPLETING] = "completing",
		[ACTION_DELETING] = "deleting",
		[ACTION_HANDING_BACK] = "handing_back",
		[ACTION_WATCHING] = "watching",
		[ACTION_DONE] = "done",
	};

	return names[s];
}

enum action_state
action_get_state(const struct action *a)
{
	return a->state;
}

static bool
action_terminating(const struct action *a)
{
	return a->transition == LIFECYCLE_TERMINATING;
}

bool
action_is_terminating(const struct action *a)
{
	return action_terminating(a);
}

void
action_foreach(const struct ctx *ctx,
    void (*fn)(const struct action *a, void *arg), void *arg)
{
	const struct action *a;

	TAILQ_FOREACH(a, &ctx->actions, entry)
		fn(a, arg);
}

void
action_count_open(const struct ctx *ctx, unsigned *launching,
    unsigned *terminating)
{
	const struct action *a;

	*launching = *terminating = 0;
	TAILQ_FOREACH(a, &ctx->actions, entry) {
		if (action_terminating(a))
			(*terminating)++;
		else
			(*launching)++;
	}
}

static void
action_set_state(struct action *a, enum action_state s)
{
	if (a->state == s)
		return;
	log_info("%s %s: %s -> %s", a->instance,
	    lifecycle_transition_name(a->transition),
	    action_state_name(a->state), action_state_name(s));
	a->state = s;
	metrics_action_state(a->ctx->metrics);
	action_journal(a);
}

/* Audit one step; a failure to write is logged, never silent. */
static void
action_audit(struct action *a, const char *step, json_t *fields)
{
	struct audit_ctx actx = {
		.action = a->token[0] != '\0' ? a->token : NULL,
		.instance = a->instance,
		.group = a->group,
		.hook = a->hook[0] != '\0' ? a->hook : NULL,
		.transition = lifecycle_transition_name(a->transition),
	};
	int r;

	if ((r = audit_write(a->ctx->audit, &actx, step, fields)) != 0)
		log_warnx("%s: cannot write audit record \"%s\": %s",
		    a->instance, step, strerror(-r));
	if (fields != NULL)
		json_decref(fields);
}

static json_t *
action_aws_error_json(const char *op, const struct aws_error *err)
{
	char text[512];

	return json_pack("{s:s,s:s,s:s,s:i}", "operation", op,
	    "error", aws_error_str(err, text, sizeof(text)),
	    "code", err->code, "attempts", (int)err->attempts);
}

static int64_t
action_now(void)
{
	return timeutil_mono_ms();
}

/* A wall-clock time turned into our monotonic clock. */
static int64_t
action_wall_to_mono(int64_t wall)
{
	return action_now() - (timeutil_wall_ms() - wall);
}

static void
action_arm(struct event *ev, int64_t at)
{
	int64_t delta = at - action_now();
	struct timeval tv;

	if (delta < 0)
		delta = 0;
	tv.tv_sec = delta / 1000;
	tv.tv_usec = (delta % 1000) * 1000;
	evtimer_add(ev, &tv);
}

/* ---- heartbeats: keep the lifecycle action alive ---- */

static unsigned
action_heartbeat_timeout(const struct action *a)
{
	return a->hook_known && a->heartbeat_timeout_s > 0 ?
	    a->heartbeat_timeout_s : ACTION_ASSUMED_HEARTBEAT_S;
}

/* Beat at half the timeout: well before it expires, with room to retry. */
static void
action_schedule_heartbeat(struct action *a, int64_t from)
{
	int64_t interval = (int64_t)action_heartbeat_timeout(a) * 1000 / 2;

	action_arm(a->hb_timer, from + interval);
}

static void
action_heartbeat_done(const struct aws_error *err, void *arg)
{
	struct action *a = arg;
	int64_t now = action_now();

	a->hb_call = NULL;
	if (err == NULL) {
		a->heartbeats++;
		a->hb_expires = now + (int64_t)action_heartbeat_timeout(a) *
		    1000;
		metrics_heartbeat(a->ctx->metrics, true);
		action_audit(a, "heartbeat", json_pack("{s:i,s:I}", "n",
		    (int)a->heartbeats, "timeout_s",
		    (json_int_t)action_heartbeat_timeout(a)));
		action_schedule_heartbeat(a, now);
		return;
	}
	metrics_heartbeat(a->ctx->metrics, false);
	if (err->cls == AWS_CLASS_NO_ACTIVE_ACTION &&
	    (a->aws_call != NULL || a->state >= ACTION_DELETING)) {
		/* the beat crossed our own completion (or the deletion after
		 * it): that call's answer settles the action; starting
		 * another here would overwrite it and free the action twice */
		log_debug("%s: heartbeat after our completion: %s",
		    a->instance, err->message);
		return;
	}
	if (err->cls == AWS_CLASS_NO_ACTIVE_ACTION) {
		/* finished or expired at AWS: nothing left to keep alive */
		a->over_elsewhere = true;
		action_audit(a, "already_over", json_pack("{s:s,s:s}",
		    "operation", "RecordLifecycleActionHeartbeat", "reason",
		    err->message));
		log_warnx("%s: the lifecycle action is already over at AWS "
		    "(%s): stopping", a->instance, err->message);
		action_complete(a);
		return;
	}
	action_audit(a, "error", action_aws_error_json(
	    "RecordLifecycleActionHeartbeat", err));
	/* retry sooner, still before the current expiry */
	action_arm(a->hb_timer, now + (int64_t)action_heartbeat_timeout(a) *
	    1000 / 8);
}

static void
action_heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct action *a = arg;

	if (!a->lifecycle || a->hb_call != NULL || a->state >= ACTION_DELETING ||
	    a->state == ACTION_DONE ||
	    a->state == ACTION_DELETING || a->state == ACTION_HANDING_BACK)
		return;
	if (a->global_deadline > 0 && action_now() >= a->global_deadline) {
		/* AWS ignores heartbeats past the global timeout */
		log_warnx("%s: the hook's global timeout is reached; no more "
		    "heartbeats", a->instance);
		return;
	}
	if (a->ctx->cfg->daemon.dry_run) {
		action_audit(a, "would_heartbeat", NULL);
		action_schedule_heartbeat(a, action_now());
		return;
	}
	a->hb_call = asg_heartbeat(a->ctx->aws, a->group, a->hook, a->token,
	    a->instance, action_heartbeat_done, a);
}

/* ---- visibility: keep the message hidden while we work ---- */

static void
action_schedule_visibility(struct action *a)
{
	action_arm(a->vis_timer, action_now() +
	    (int64_t)a->ctx->cfg->daemon.visibility_timeout_ms / 2);
}

static void
action_visibility_done(const struct aws_error *err, void *arg)
{
	struct action *a = arg;
	char text[512];

	a->vis_call = NULL;
	if (err != NULL)
		log_warnx("%s: cannot extend the message's visibility: %s",
		    a->instance, aws_error_str(err, text, sizeof(text)));
	action_schedule_visibility(a);
}

static void
action_visibility_cb(evutil_socket_t fd, short what, void *arg)
{
	struct action *a = arg;

	if (!a->lifecycle || a->vis_call != NULL || a->receipt == NULL ||
	    a->ctx->cfg->daemon.dry_run || a->state == ACTION_DONE ||
	    a->state == ACTION_DELETING || a->state == ACTION_HANDING_BACK)
		return;
	a->vis_call = sqs_change_visibility(a->ctx->aws,
	    a->ctx->cfg->aws.queue_url, a->receipt,
	    (unsigned)(a->ctx->cfg->daemon.visibility_timeout_ms / 1000),
	    action_visibility_done, a);
}

/* ---- the hook's parameters ---- */

static void
action_hook_known(const struct hookinfo_hook *hook, const struct aws_error *err,
    void *arg)
{
	static bool warned_visibility;	/* once: it is a setup problem */
	struct action *a = arg;
	char text[512];
	int64_t event_mono;

	a->hook_req = NULL;
	if (hook == NULL) {
		if (err != NULL)
			log_warnx("%s: cannot read lifecycle hook %s of %s: "
			    "%s; heartbeating as if its timeout were %us",
			    a->instance, a->hook, a->group,
			    aws_error_str(err, text, sizeof(text)),
			    ACTION_ASSUMED_HEARTBEAT_S);
		else
			log_warnx("%s: group %s has no lifecycle hook %s; "
			    "heartbeating as if its timeout were %us",
			    a->instance, a->group, a->hook,
			    ACTION_ASSUMED_HEARTBEAT_S);
		action_audit(a, "hook_unknown", json_pack("{s:s,s:i}",
		    "reason", err != NULL ? text : "no such hook",
		    "assumed_heartbeat_timeout_s",
		    ACTION_ASSUMED_HEARTBEAT_S));
	} else {
		a->hook_known = true;
		a->heartbeat_timeout_s = hook->heartbeat_timeout_s;
		a->global_timeout_s = hook->global_timeout_s;
		snprintf(a->default_result, sizeof(a->default_result), "%s",
		    hook->default_result);
	}
	event_mono = action_wall_to_mono(a->event_wall);
	if (a->global_timeout_s == 0 && a->hook_known)
		a->global_timeout_s = action_heartbeat_timeout(a) * 100 >
		    172800 ? 172800 : action_heartbeat_timeout(a) * 100;
	if (a->global_timeout_s > 0) {
		int64_t end = event_mono + (int64_t)a->global_timeout_s * 1000;
		int64_t stop = end - ACTION_GLOBAL_MARGIN_MS;

		a->global_deadline = end;
		if (action_terminating(a))
			policy_clamp_deadline(&a->policy, stop);
		else
			verify_clamp_deadline(&a->verify, stop);
	}
	if (a->hook_known && a->heartbeat_timeout_s > 0 && !warned_visibility &&
	    a->ctx->cfg->daemon.visibility_timeout_ms >=
	    (uint64_t)a->heartbeat_timeout_s * 1000) {
		log_warnx("hook %s of %s: heartbeat timeout %us is not longer "
		    "than [daemon] visibility_timeout (%llus): if this daemon "
		    "dies, AWS gives up on the action before a replica can take "
		    "it over", a->hook, a->group, a->heartbeat_timeout_s,
		    (unsigned long long)(a->ctx->cfg->daemon.visibility_timeout_ms
		    / 1000));
		warned_visibility = true;
	}
	if (a->hb_expires == 0)
		a->hb_expires = event_mono +
		    (int64_t)action_heartbeat_timeout(a) * 1000;
	/* the first beat is due half a timeout after the action began at
	 * AWS, which may be a while before we got the message */
	action_schedule_heartbeat(a, a->heartbeats > 0 ? action_now() :
	    event_mono);
	action_journal(a);
	action_drive(a);
}

/* ---- the bridge ---- */

static enum policy_io
action_policy_io(enum bridge_outcome o)
{
	switch (o) {
	case BRIDGE_OK:
		return POLICY_IO_OK;
	case BRIDGE_NOT_FOUND:
		return POLICY_IO_NOT_FOUND;
	case BRIDGE_REFUSED:
		return POLICY_IO_REFUSED;
	case BRIDGE_TIMEOUT:
		return POLICY_IO_TIMEOUT;
	default:
		return POLICY_IO_ERROR;
	}
}

static uint64_t
action_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Audit a bridge problem once per distinct problem, not once per poll. */
static void
action_note_problem(struct action *a, const char *op, const char *why)
{
	uint64_t h = action_hash(why);
	unsigned i;

	snprintf(a->last_problem, sizeof(a->last_problem), "%s", why);
	for (i = 0; i < a->nproblems; i++)
		if (a->problems[i] == h)
			return;
	if (a->nproblems < ACTION_MAX_PROBLEMS)
		a->problems[a->nproblems++] = h;
	log_warnx("%s: %s: %s", a->instance, op, why);
	action_audit(a, "bridge_error", json_pack("{s:s,s:s}", "operation",
	    op, "error", why));
}

static void
action_audit_participants(struct action *a, int n)
{
	if (a->spot && a->spot_participants < 0 && n >= 0)
		a->spot_participants = n;
	if (n < 0 || n == a->participants)
		return;
	action_audit(a, "participants", json_pack("{s:i,s:i}",
	    "participants", n, "previous", a->participants));
	a->participants = n;
}

static void
action_rest_done(const struct bridge_result *res, void *arg)
{
	struct action *a = arg;
	enum policy_step_kind step = a->rest_step;
	enum policy_io io = action_policy_io(res->outcome);
	struct policy_obs obs;
	int64_t now = action_now();

	a->rest_call = NULL;
	metrics_bridge_call(a->ctx->metrics, res->outcome == BRIDGE_OK);
	if (res->outcome != BRIDGE_OK)
		action_note_problem(a, bridge_op_name(res->op),
		    res->diagnosis);
	if (!action_terminating(a)) {
		if (step == POLICY_POLL_STATS)
			verify_rest_stats(&a->verify,
			    res->outcome == BRIDGE_OK,
			    res->outcome == BRIDGE_NOT_FOUND,
			    res->stats.snapshot_ms, now);
		else
			verify_health(&a->verify, res->outcome == BRIDGE_OK &&
			    res->healthy, res->diagnosis, now);
		action_drive(a);
		return;
	}
	if (step == POLICY_POLL_STATS && res->outcome == BRIDGE_OK) {
		memset(&obs, 0, sizeof(obs));
		obs.stats = res->stats;
		obs.snapshot_ms = res->stats.snapshot_ms;
		policy_rest_done(&a->policy, step, io, &obs, res->diagnosis,
		    now);
		action_audit_participants(a, a->policy.participants);
	} else if (step == POLICY_POLL_HEALTH && res->outcome == BRIDGE_OK &&
	    !res->healthy) {
		/* alive, if unwell: it still counts as there */
		policy_rest_done(&a->policy, step, POLICY_IO_OK, NULL, NULL,
		    now);
	} else {
		policy_rest_done(&a->policy, step, io, NULL, res->diagnosis,
		    now);
	}
	if (step == POLICY_ENABLE_DRAIN && !a->audited_drain_started &&
	    a->policy.phase > POLICY_PHASE_DRAINING) {
		a->audited_drain_started = true;
		action_audit(a, "drain_started", json_pack("{s:s,s:b,s:s?}",
		    "bridge", a->ip, "drain_mode", a->policy.drain_enabled,
		    "note", a->policy.drain_unsupported ? "the bridge has no "
		    "drain API (older than 2022-01, or the wrong port); going "
		    "on with the graceful shutdown" : NULL));
	}
	if (step == POLICY_SHUTDOWN_GRACEFUL && a->policy.graceful_accepted &&
	    !a->audited_shutdown) {
		a->audited_shutdown = true;
		action_audit(a, "shutdown_requested", json_pack("{s:b}",
		    "graceful", 1));
	}
	if (step == POLICY_SHUTDOWN_GRACEFUL && a->policy.shutdown_unsupported
	    && !a->audited_shutdown) {
		a->audited_shutdown = true;
		action_audit(a, "shutdown_unavailable", json_pack("{s:s}",
		    "reason", res->diagnosis));
	}
	if (step == POLICY_SHUTDOWN_FORCE && a->policy.forced)
		action_audit(a, "shutdown_requested", json_pack("{s:b,s:s}",
		    "graceful", 0, "reason", a->policy.last_problem));
	/* a poll changes nothing a restart needs (a new phase journals
	 * itself): rewriting the entry, fsync and all, at every poll of
	 * every bridge is what kept the loop busy at 1,000 drains */
	if (step != POLICY_POLL_STATS && step != POLICY_POLL_HEALTH)
		action_journal(a);
	action_drive(a);
}

static void
action_resolved(const struct resolver_answer *ans, const struct aws_error *err,
    void *arg)
{
	struct action *a = arg;
	int64_t now = action_now();
	char why[320], text[512];
	bool ok = false, final = false;
	enum resolver_verdict v;

	a->resolve_req = NULL;
	if (ans == NULL) {
		snprintf(why, sizeof(why), "DescribeInstances failed: %s",
		    aws_error_str(err, text, sizeof(text)));
		action_audit(a, "error", action_aws_error_json(
		    "DescribeInstances", err));
	} else if ((v = resolver_classify(ans, a->instance, why,
	    sizeof(why))) != RESOLVER_USABLE) {
		/* unknown may be EC2's eventual consistency: retried */
		final = v == RESOLVER_GONE;
	} else {
		snprintf(a->ip, sizeof(a->ip), "%s", ans->private_ip);
		ok = true;
		action_audit(a, "resolved", json_pack("{s:s,s:s,s:s?}",
		    "bridge", a->ip, "state", ans->state, "public_ip",
		    ans->public_ip[0] ? ans->public_ip : NULL));
		action_journal(a);
	}
	if (!ok)
		action_note_problem(a, "resolve", why);
	if (action_terminating(a))
		policy_resolved(&a->policy, ok, final, why, now);
	else
		verify_resolved(&a->verify, ok, why, now);
	action_drive(a);
}

static void
action_rest(struct action *a, enum policy_step_kind step)
{
	struct ctx *ctx = a->ctx;
	unsigned port = ctx->cfg->bridge.port;
	unsigned tmo = (unsigned)ctx->cfg->bridge.timeout_ms;

	a->rest_step = step;
	switch (step) {
	case POLICY_ENABLE_DRAIN:
		a->rest_call = bridge_drain_set(ctx->http, a->ip, port, true,
		    tmo, action_rest_done, a);
		break;
	case POLICY_SHUTDOWN_GRACEFUL:
	case POLICY_SHUTDOWN_FORCE:
		a->rest_call = bridge_shutdown(ctx->http, a->ip, port,
		    step == POLICY_SHUTDOWN_GRACEFUL, tmo, action_rest_done,
		    a);
		break;
	case POLICY_POLL_STATS:
		a->rest_call = bridge_stats(ctx->http, a->ip, port, tmo,
		    action_rest_done, a);
		break;
	case POLICY_POLL_HEALTH:
		a->rest_call = bridge_health(ctx->http, a->ip, port, tmo,
		    action_rest_done, a);
		break;
	default:
		break;
	}
	if (a->rest_call == NULL)
		fatalx("%s: bridge call refused address %s", a->instance,
		    a->ip);
}

static void
action_sync_state(struct action *a)
{
	static const enum action_state from_phase[] = {
		[POLICY_PHASE_RESOLVING] = ACTION_RESOLVING,
		[POLICY_PHASE_DRAINING] = ACTION_ENABLING_DRAIN,
		[POLICY_PHASE_SHUTTING] = ACTION_REQUESTING_SHUTDOWN,
		[POLICY_PHASE_WAITING] = ACTION_DRAINING,
		[POLICY_PHASE_FORCING] = ACTION_FORCING,
		[POLICY_PHASE_DONE] = ACTION_DRAINING,
	};

	if (a->state >= ACTION_COMPLETING)
		return;
	if (!action_terminating(a)) {
		action_set_state(a, a->verify.resolved ? ACTION_VERIFYING :
		    ACTION_RESOLVING);
		return;
	}
	action_set_state(a, from_phase[a->policy.phase]);
}

static void
action_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct action *a = arg;

	if (a->state == ACTION_COMPLETING && a->aws_call == NULL)
		action_complete(a);
	else
		action_drive(a);
}

/* Did presence show our request within one poll interval of it? */
static bool
action_presence_prompt(const struct action *a)
{
	return a->presence_lag_ms >= 0 && a->presence_lag_ms <=
	    (int64_t)a->ctx->cfg->drain.poll_interval_ms;
}

/*
 * Is the bridge's presence reaching us now, and promptly?  Then polling
 * can slow down.  Presence that arrives but is old (an XMPP server with a
 * backlog) must not slow it: presence counts only once it has shown our
 * own change within one poll interval of our request.
 */
static bool
action_presence_live(const struct action *a)
{
	const struct config *cfg = a->ctx->cfg;
	const struct brewery_occupant *occ;

	if (a->ctx->brewery == NULL || !brewery_joined(a->ctx->brewery))
		return false;
	if (!action_presence_prompt(a))
		return false;
	occ = brewery_find(a->ctx->brewery, a->instance);
	return occ != NULL && occ->present && occ->has_stats &&
	    timeutil_wall_ms() - occ->last_ms <=
	    2 * (int64_t)cfg->bridge.stats_interval_ms + 2000;
}

/* The first presence that shows drain mode or a shutdown after we asked
 * for one measures how far presence lags behind the bridge. */
static void
action_presence_probe(struct action *a, const struct colibri_stats *st)
{
	int64_t lag;

	if (a->probe_sent_wall == 0 || a->presence_lag_ms >= 0)
		return;
	if (!(st->has_drain && st->drain) && !st->graceful_shutdown &&
	    !st->shutting_down)
		return;
	lag = timeutil_wall_ms() - a->probe_sent_wall;
	a->presence_lag_ms = lag > 0 ? lag : 0;
	log_info("%s: its presence showed our request %lld ms after it was "
	    "sent: %s", a->instance, (long long)a->presence_lag_ms,
	    action_presence_prompt(a) ?
	    "polling slows to presence_poll_interval" :
	    "presence lags, polling stays at poll_interval");
}

static void
action_drive_terminating(struct action *a)
{
	const struct config *cfg = a->ctx->cfg;
	struct policy_step step;
	int64_t now = action_now();

	policy_set_poll_interval(&a->policy, action_presence_live(a) ?
	    (int64_t)cfg->drain.presence_poll_interval_ms :
	    (int64_t)cfg->drain.poll_interval_ms, now);
	step = policy_next(&a->policy, now);
	action_sync_state(a);
	if (a->ctx->cfg->daemon.dry_run && !a->audited_dry_run &&
	    a->policy.phase >= POLICY_PHASE_WAITING) {
		a->audited_dry_run = true;
		action_audit(a, "would_drain", json_pack("{s:s,s:s}",
		    "bridge", a->ip, "note", "dry run: would enable drain mode "
		    "and request a graceful shutdown"));
	}
	if (a->policy.timed_out && !a->audited_timeout) {
		a->audited_timeout = true;
		action_audit(a, "timeout", json_pack("{s:s,s:i,s:b}",
		    "reason", a->policy.last_problem[0] ?
		    a->policy.last_problem : "max_duration reached",
		    "participants", a->policy.participants,
		    "force", a->policy.phase == POLICY_PHASE_FORCING));
	}
	switch (step.kind) {
	case POLICY_WAIT:
		action_arm(a->timer, step.wake_at);
		return;
	case POLICY_COMPLETE:
		bridge_call_cancel(a->rest_call);
		a->rest_call = NULL;
		resolver_cancel(a->resolve_req);
		a->resolve_req = NULL;
		snprintf(a->result, sizeof(a->result), "%s",
		    a->policy.result == POLICY_ABANDON ? "ABANDON" :
		    "CONTINUE");
		snprintf(a->reason, sizeof(a->reason), "%s",
		    a->policy.reason);
		action_complete(a);
		return;
	case POLICY_RESOLVE:
		if (a->resolve_req == NULL)
			a->resolve_req = resolver_lookup(a->ctx->resolver,
			    a->instance, action_resolved, a);
		return;
	default:
		if (a->rest_call != NULL)
			return;
		if (a->probe_sent_wall == 0 &&
		    (step.kind == POLICY_ENABLE_DRAIN ||
		    step.kind == POLICY_SHUTDOWN_GRACEFUL ||
		    step.kind == POLICY_SHUTDOWN_FORCE))
			a->probe_sent_wall = timeutil_wall_ms();
		action_rest(a, step.kind);
		return;
	}
}

static void
action_drive_launching(struct action *a)
{
	struct verify_step step;

	step = verify_next(&a->verify, action_now());
	action_sync_state(a);
	switch (step.kind) {
	case VERIFY_WAIT:
		action_arm(a->timer, step.wake_at);
		return;
	case VERIFY_COMPLETE:
		bridge_call_cancel(a->rest_call);
		a->rest_call = NULL;
		resolver_cancel(a->resolve_req);
		a->resolve_req = NULL;
		snprintf(a->result, sizeof(a->result), "%s",
		    a->verify.result == POLICY_ABANDON ? "ABANDON" :
		    "CONTINUE");
		snprintf(a->reason, sizeof(a->reason), "%s",
		    a->verify.reason);
		action_complete(a);
		return;
	case VERIFY_RESOLVE:
		if (a->resolve_req == NULL)
			a->resolve_req = resolver_lookup(a->ctx->resolver,
			    a->instance, action_resolved, a);
		return;
	case VERIFY_POLL_HEALTH:
		if (a->rest_call == NULL)
			action_rest(a, POLICY_POLL_HEALTH);
		return;
	case VERIFY_POLL_STATS:
		if (a->rest_call == NULL)
			action_rest(a, POLICY_POLL_STATS);
		return;
	}
}

static void
action_drive(struct action *a)
{
	if (a->state >= ACTION_COMPLETING)
		return;
	evtimer_del(a->timer);
	if (action_terminating(a))
		action_drive_terminating(a);
	else
		action_drive_launching(a);
}

/* ---- the end: complete, delete ---- */

static void
action_deleted(const struct aws_error *err, void *arg)
{
	struct action *a = arg;
	char text[512];

	a->aws_call = NULL;
	if (err != NULL)
		log_warnx("%s: cannot delete the message (it will come back "
		    "and be recognised as done): %s", a->instance,
		    aws_error_str(err, text, sizeof(text)));
	action_finish(a);
}

static void
action_delete(struct action *a)
{
	action_set_state(a, ACTION_DELETING);
	if (a->ctx->cfg->daemon.dry_run) {
		action_audit(a, "would_delete", NULL);
		action_finish(a);
		return;
	}
	a->aws_call = sqs_delete(a->ctx->aws, a->ctx->cfg->aws.queue_url,
	    a->receipt, action_deleted, a);
}

static int64_t
action_duration_ms(const struct action *a)
{
	return timeutil_wall_ms() - a->started_wall;
}

static void
action_completed(const struct aws_error *err, void *arg)
{
	struct action *a = arg;
	char text[512];
	int64_t delay;

	a->aws_call = NULL;
	if (err == NULL || err->cls == AWS_CLASS_NO_ACTIVE_ACTION) {
		if (err != NULL) {
			action_audit(a, "already_over", json_pack("{s:s,s:s}",
			    "operation", "CompleteLifecycleAction", "reason",
			    err->message));
		} else {
			json_t *f = json_pack("{s:s,s:s,s:I,s:i}",
			    "result", a->result, "reason", a->reason,
			    "duration_ms", (json_int_t)action_duration_ms(a),
			    "heartbeats", (int)a->heartbeats);

			if (action_terminating(a))
				json_object_set_new(f, "participants",
				    json_integer(a->policy.participants));
			action_audit(a, "completed", f);
			log_info("%s %s: completed with %s after %llds: %s",
			    a->instance,
			    lifecycle_transition_name(a->transition),
			    a->result,
			    (long long)(action_duration_ms(a) / 1000),
			    a->reason);
		}
		metrics_completed(a->ctx->metrics, a->transition, a->result,
		    err == NULL, action_duration_ms(a));
		action_delete(a);
		return;
	}
	action_audit(a, "error", action_aws_error_json(
	    "CompleteLifecycleAction", err));
	log_warnx("%s: CompleteLifecycleAction failed: %s; retrying",
	    a->instance, aws_error_str(err, text, sizeof(text)));
	/* keep trying while AWS still waits for us; heartbeats go on */
	delay = backoff_full_jitter(a->complete_tries++, ACTION_RETRY_MIN_MS,
	    ACTION_RETRY_MAX_MS) + ACTION_RETRY_MIN_MS;
	action_arm(a->timer, action_now() + delay);
}

static void
action_complete(struct action *a)
{
	if (!a->lifecycle) {
		/* a spot warning alone: nothing to tell AWS */
		bridge_call_cancel(a->rest_call);
		a->rest_call = NULL;
		resolver_cancel(a->resolve_req);
		a->resolve_req = NULL;
		evtimer_del(a->timer);
		action_audit(a, "spot_drained", json_pack("{s:s,s:i,s:i}",
		    "reason", a->reason, "participants_at_warning",
		    a->spot_participants, "participants", a->policy.participants));
		action_finish(a);
		return;
	}
	if (a->over_elsewhere) {
		/* AWS already ended it: just remove the message (unless a
		 * call of ours is still out; its answer carries on) */
		if (a->aws_call != NULL)
			return;
		evtimer_del(a->timer);
		bridge_call_cancel(a->rest_call);
		a->rest_call = NULL;
		resolver_cancel(a->resolve_req);
		a->resolve_req = NULL;
		a->state = a->state < ACTION_COMPLETING ? a->state :
		    ACTION_COMPLETING;
		action_delete(a);
		return;
	}
	if (a->state < ACTION_COMPLETING) {
		action_set_state(a, ACTION_COMPLETING);
		action_audit(a, a->ctx->cfg->daemon.dry_run ? "would_complete" :
		    "completing", json_pack("{s:s,s:s}", "result", a->result,
		    "reason", a->reason));
	}
	if (a->ctx->cfg->daemon.dry_run) {
		action_delete(a);
		return;
	}
	a->aws_call = asg_complete(a->ctx->aws, a->group, a->hook, a->token,
	    a->instance, a->result, action_completed, a);
}

static void
action_free(struct action *a)
{
	struct ctx *ctx = a->ctx;

	TAILQ_REMOVE(&ctx->actions, a, entry);
	ctx->nactions--;
	hookinfo_cancel(a->hook_req);
	resolver_cancel(a->resolve_req);
	bridge_call_cancel(a->rest_call);
	aws_call_cancel(a->hb_call);
	aws_call_cancel(a->vis_call);
	aws_call_cancel(a->aws_call);
	event_free(a->hb_timer);
	event_free(a->vis_timer);
	event_free(a->timer);
	if (a->watch != NULL)
		event_free(a->watch);
	bridge_call_cancel(a->watch_call);
	free(a->group);
	free(a->hook);
	free(a->receipt);
	free(a);
	metrics_action_state(ctx->metrics);
}

static void
action_finish(struct action *a)
{
	struct ctx *ctx = a->ctx;

	if (a->lifecycle) {
		finished_add(ctx->finished, a->token, action_now());
		journal_action_removed(ctx->journal, a->token);
	}
	if (a->spot && !a->gone && !ctx->stopping) {
		/* the lifecycle side is over; the audit still wants to know
		 * when the bridge went away */
		action_watch_start(a);
		return;
	}
	action_set_state(a, ACTION_DONE);
	action_free(a);
	if (ctx->stopping)
		action_check_handed_back(ctx);
	else
		receiver_capacity(ctx->receiver);
}

/* ---- creation ---- */

static struct action *
action_new(struct ctx *ctx, enum lifecycle_transition t, const char *group,
    const char *hook, const char *instance, const char *token)
{
	struct action *a = xcalloc(1, sizeof(*a));

	a->ctx = ctx;
	a->state = ACTION_RECEIVED;
	a->transition = t;
	a->group = xstrdup(group);
	a->hook = xstrdup(hook);
	snprintf(a->instance, sizeof(a->instance), "%s", instance);
	snprintf(a->token, sizeof(a->token), "%s", token);
	a->started_mono = action_now();
	a->started_wall = timeutil_wall_ms();
	a->participants = -1;
	a->presence_lag_ms = -1;
	a->spot_participants = -1;
	a->lifecycle = token[0] != '\0';
	a->hb_timer = evtimer_new(ctx->base, action_heartbeat_cb, a);
	a->vis_timer = evtimer_new(ctx->base, action_visibility_cb, a);
	a->timer = evtimer_new(ctx->base, action_timer_cb, a);
	if (a->hb_timer == NULL || a->vis_timer == NULL || a->timer == NULL)
		fatalx("action: evtimer_new");
	TAILQ_INSERT_TAIL(&ctx->actions, a, entry);
	ctx->nactions++;
	return a;
}

static void
action_init_logic(struct action *a)
{
	const struct config *cfg = a->ctx->cfg;
	int64_t now = action_now();

	if (action_terminating(a)) {
		struct policy_config pc = {
			.max_duration_ms = (int64_t)cfg->drain.max_duration_ms,
			.poll_interval_ms =
			    (int64_t)cfg->drain.poll_interval_ms,
			.unreachable_timeout_ms =
			    (int64_t)cfg->bridge.unreachable_timeout_ms,
			.stats_interval_ms =
			    (int64_t)cfg->bridge.stats_interval_ms,
			.graceful_max_ms = (int64_t)cfg->bridge.graceful_max_ms,
			.shutting_down_delay_ms =
			    (int64_t)cfg->bridge.shutting_down_delay_ms,
			.min_participants = cfg->bridge.min_participants,
			.force_on_timeout = cfg->drain.force_on_timeout,
			.on_timeout = cfg->drain.on_timeout == CONFIG_ABANDON ?
			    POLICY_ABANDON : POLICY_CONTINUE,
			.on_unreachable = cfg->drain.on_unreachable ==
			    CONFIG_ABANDON ? POLICY_ABANDON : POLICY_CONTINUE,
			.dry_run = cfg->daemon.dry_run,
		};

		policy_init(&a->policy, &pc, now);
	} else {
		struct verify_config vc = {
			.timeout_ms = (int64_t)cfg->launch.timeout_ms,
			.poll_interval_ms =
			    (int64_t)cfg->drain.poll_interval_ms,
			.stats_interval_ms =
			    (int64_t)cfg->bridge.stats_interval_ms,
			.need_brewery = cfg->launch.verify ==
			    CONFIG_VERIFY_BREWERY_HEALTH,
			.on_timeout = cfg->launch.on_timeout ==
			    CONFIG_ABANDON ? POLICY_ABANDON : POLICY_CONTINUE,
		};

		const struct brewery_occupant *occ = NULL;

		if (a->ctx->brewery != NULL)
			occ = brewery_find(a->ctx->brewery, a->instance);
		verify_init(&a->verify, &vc, a->ctx->brewery != NULL &&
		    brewery_joined(a->ctx->brewery), occ != NULL &&
		    occ->present, now);
		if (occ != NULL && occ->present)
			verify_occupant(&a->verify, true, occ->has_stats,
			    occ->stats.snapshot_ms, now);
	}
}

struct action *
action_start(struct ctx *ctx, const struct lifecycle_event *ev,
    const struct sqs_message *msg)
{
	struct action *a, *spot = NULL;

	if (ev->transition == LIFECYCLE_TERMINATING) {
		spot = action_spot_for(ctx, ev->instance_id);
		rebalance_superseded(ctx->rebalancer, ev->instance_id);
	}
	if (spot != NULL) {
		/* the terminate action joins the spot fast path already
		 * under way for this instance */
		a = spot;
		a->lifecycle = true;
		free(a->group);
		free(a->hook);
		a->group = xstrdup(ev->group);
		a->hook = xstrdup(ev->hook);
		snprintf(a->token, sizeof(a->token), "%s", ev->token);
		if (a->state >= ACTION_COMPLETING) {
			/* already drained: complete now */
			a->state = ACTION_DRAINING;
		}
	} else {
		a = action_new(ctx, ev->transition, ev->group, ev->hook,
		    ev->instance_id, ev->token);
	}
	a->receipt = xstrdup(msg->receipt_handle);
	snprintf(a->message_id, sizeof(a->message_id), "%s", msg->message_id);
	a->receive_count = msg->receive_count;
	a->event_wall = ev->time_ms > 0 && ev->time_ms <= a->started_wall ?
	    ev->time_ms : a->started_wall;
	action_audit(a, "received", json_pack("{s:s,s:i,s:s,s:s?,s:s?,s:b,"
	    "s:b,s:I}", "message_id", a->message_id, "receive_count",
	    (int)a->receive_count, "envelope", ev->envelope == ENVELOPE_SNS ?
	    "sns" : ev->envelope == ENVELOPE_EVENTBRIDGE ? "eventbridge" :
	    "direct", "origin", ev->origin[0] ? ev->origin : NULL,
	    "destination", ev->destination[0] ? ev->destination : NULL,
	    "warm_pool", ev->warm_pool, "dry_run", ctx->cfg->daemon.dry_run,
	    "waited_ms", (json_int_t)(a->started_wall - a->event_wall)));
	log_info("%s %s: lifecycle action %s received (group %s, hook %s)",
	    a->instance, lifecycle_transition_name(a->transition), a->token,
	    a->group, a->hook);
	metrics_received(ctx->metrics, a->transition);
	if (spot == NULL)
		action_init_logic(a);
	else
		action_audit(a, "spot_fast_path", json_pack("{s:s}", "note",
		    "a spot interruption is under way for this instance: "
		    "forced shutdown, completed as soon as it is empty or gone, "
		    "never after the reclaim time"));
	action_journal(a);
	a->hook_req = hookinfo_get(ctx->hooks, a->group, a->hook,
	    action_hook_known, a);
	action_schedule_visibility(a);
	if (spot != NULL && spot->state == ACTION_WATCHING)
		action_complete(a);
	else
		action_drive(a);
	return a;
}

struct action *
action_find(struct ctx *ctx, const char *token)
{
	struct action *a;

	TAILQ_FOREACH(a, &ctx->actions, entry)
		if (strcmp(a->token, token) == 0)
			return a;
	return NULL;
}

static void
action_copy_deleted(const struct aws_error *err, void *arg)
{
	char *id = arg, text[512];

	if (err != NULL)
		log_warnx("cannot delete the copy %s: %s", id,
		    aws_error_str(err, text, sizeof(text)));
	free(id);
}

void
action_redelivered(struct action *a, const struct sqs_message *msg)
{
	if (strcmp(msg->message_id, a->message_id) != 0) {
		/* another copy of the notification (a second message): the
		 * action goes on with the first; this one can go at once */
		log_info("%s: another copy of the notification (message %s); "
		    "removing it, the action goes on", a->instance,
		    msg->message_id);
		action_audit(a, "duplicate", json_pack("{s:s,s:i}",
		    "message_id", msg->message_id, "receive_count",
		    (int)msg->receive_count));
		if (!a->ctx->cfg->daemon.dry_run)
			sqs_delete(a->ctx->aws, a->ctx->cfg->aws.queue_url,
			    msg->receipt_handle, action_copy_deleted,
			    xstrdup(msg->message_id));
		return;
	}
	/* the same message again: the newest handle is the only one SQS
	 * honours */
	free(a->receipt);
	a->receipt = xstrdup(msg->receipt_handle);
	a->receive_count = msg->receive_count;
	log_info("%s: message delivered again (receive count %u); keeping "
	    "the drain in progress, adopting the new receipt handle",
	    a->instance, msg->receive_count);
	action_audit(a, "redelivered", json_pack("{s:i}", "receive_count",
	    (int)msg->receive_count));
	action_journal(a);
	if (a->vis_call == NULL) {
		evtimer_del(a->vis_timer);
		action_schedule_visibility(a);
	}
}

/* ---- spot interruptions ---- */

/* EC2 reclaims a spot instance this long after the warning. */
#define ACTION_SPOT_NOTICE_MS	(120 * 1000)
/* How long after the reclaim time the audit waits to see it gone. */
#define ACTION_SPOT_WATCH_MS	(30 * 1000)

/* The open terminating work for this instance: hook or spot. */
static struct action *
action_for_instance(struct ctx *ctx, const char *instance)
{
	struct action *a;

	TAILQ_FOREACH(a, &ctx->actions, entry)
		if (action_terminating(a) && a->state != ACTION_DONE &&
		    a->state != ACTION_HANDING_BACK &&
		    strcmp(a->instance, instance) == 0)
			return a;
	return NULL;
}

static struct action *
action_spot_for(struct ctx *ctx, const char *instance)
{
	struct action *a = action_for_instance(ctx, instance);

	return a != NULL && a->spot && !a->lifecycle ? a : NULL;
}

/* Audit that the spot bridge went away; true if that ended the action. */
static bool
action_gone(struct action *a, const char *how)
{
	struct ctx *ctx = a->ctx;
	char when[40];
	int left;

	if (a->gone)
		return false;
	a->gone = true;
	timeutil_rfc3339(timeutil_wall_ms(), when, sizeof(when));
	left = a->spot_participants >= 0 && a->policy.participants >= 0 ?
	    a->spot_participants - a->policy.participants : -1;
	log_info("%s: the bridge is gone (%s); %d of %d participants had "
	    "left", a->instance, how, left, a->spot_participants);
	action_audit(a, "spot_gone", json_pack("{s:s,s:s,s:i,s:i,s:i}",
	    "gone_at", when, "how", how,
	    "participants_at_warning", a->spot_participants,
	    "participants_when_gone", a->policy.participants,
	    "left_before_gone", left));
	if (a->state != ACTION_WATCHING)
		return false;
	action_set_state(a, ACTION_DONE);
	action_free(a);
	receiver_capacity(ctx->receiver);
	return true;
}

static void
action_watch_done(const struct bridge_result *res, void *arg)
{
	struct action *a = arg;
	struct ctx *ctx = a->ctx;

	a->watch_call = NULL;
	if (res->outcome == BRIDGE_REFUSED) {
		action_gone(a, "its HTTP server closed: the process exited");
		return;
	}
	action_arm(a->watch, action_now() +
	    (int64_t)ctx->cfg->drain.poll_interval_ms);
}

static void
action_watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct action *a = arg;
	struct ctx *ctx = a->ctx;

	if (timeutil_wall_ms() > a->reclaim_wall + ACTION_SPOT_WATCH_MS) {
		action_gone(a, "the reclaim time has passed: EC2 took the "
		    "instance");
		return;
	}
	if (a->ip[0] == '\0') {
		action_arm(a->watch, action_now() +
		    (int64_t)ctx->cfg->drain.poll_interval_ms);
		return;
	}
	a->watch_call = bridge_health(ctx->http, a->ip, ctx->cfg->bridge.port,
	    (unsigned)ctx->cfg->bridge.timeout_ms, action_watch_done, a);
}

static void
action_watch_start(struct action *a)
{
	action_set_state(a, ACTION_WATCHING);
	if (a->watch == NULL &&
	    (a->watch = evtimer_new(a->ctx->base, action_watch_cb, a)) == NULL)
		fatalx("action: evtimer_new");
	action_arm(a->watch, action_now());
}

void
action_spot_warning(struct ctx *ctx, const char *instance, const char *group,
    int64_t warning_wall_ms, const char *instance_action)
{
	struct action *a = action_for_instance(ctx, instance);
	int64_t now_wall = timeutil_wall_ms(), reclaim;
	char at[40];

	if (warning_wall_ms <= 0 || warning_wall_ms > now_wall)
		warning_wall_ms = now_wall;
	reclaim = warning_wall_ms + ACTION_SPOT_NOTICE_MS;
	timeutil_rfc3339(reclaim, at, sizeof(at));
	if (a != NULL && a->spot) {
		log_info("%s: spot warning again; already on the fast path",
		    instance);
		return;
	}
	if (a == NULL) {
		a = action_new(ctx, LIFECYCLE_TERMINATING, group, "", instance,
		    "");
		a->event_wall = warning_wall_ms;
		action_init_logic(a);
	}
	a->spot = true;
	a->reclaim_wall = reclaim;
	a->spot_participants = a->policy.participants;
	log_info("%s: spot interruption warning (%s): the instance is "
	    "reclaimed at %s; forcing the bridge's shutdown now", instance,
	    instance_action, at);
	action_audit(a, "spot_warning", json_pack("{s:s,s:s,s:i}",
	    "instance_action", instance_action, "reclaim_at", at,
	    "participants", a->policy.participants));
	if (a->state < ACTION_COMPLETING) {
		policy_spot(&a->policy, action_wall_to_mono(reclaim),
		    action_now());
		action_drive(a);
	}
}

void
action_instance_gone(struct ctx *ctx, const char *instance, const char *state)
{
	struct action *a = action_for_instance(ctx, instance);
	char how[64];

	if (a == NULL)
		return;
	snprintf(how, sizeof(how), "EC2 reports the instance %s", state);
	if (a->spot && action_gone(a, how))
		return;
	if (a->state < ACTION_COMPLETING) {
		/* gone for sure: look at the bridge now */
		policy_left(&a->policy, action_now());
		action_drive(a);
	}
}

/* ---- presence ---- */

void
action_occupant(struct ctx *ctx, const struct brewery_occupant *occ,
    bool left)
{
	struct action *a;
	struct policy_obs obs;
	int64_t now = action_now();

	TAILQ_FOREACH(a, &ctx->actions, entry) {
		if (strcmp(a->instance, occ->nickname) != 0)
			continue;
		if (a->state == ACTION_WATCHING) {
			if (left)
				action_gone(a, "it left the brewery");
			/* the list may have changed: start over later */
			return;
		}
		if (a->state >= ACTION_COMPLETING)
			continue;
		if (!action_terminating(a)) {
			verify_occupant(&a->verify, !left && occ->present,
			    occ->has_stats, occ->stats.snapshot_ms, now);
			action_drive(a);
			continue;
		}
		if (left) {
			policy_left(&a->policy, now);
		} else if (occ->has_stats) {
			memset(&obs, 0, sizeof(obs));
			obs.stats = occ->stats;
			obs.snapshot_ms = occ->stats.snapshot_ms;
			obs.from_presence = true;
			action_presence_probe(a, &occ->stats);
			policy_observe(&a->policy, &obs, now);
			action_audit_participants(a, a->policy.participants);
		}
		action_drive(a);
	}
}

void
action_brewery_link(struct ctx *ctx, bool up)
{
	struct action *a;
	int64_t now = action_now();

	TAILQ_FOREACH(a, &ctx->actions, entry) {
		if (action_terminating(a) || a->state >= ACTION_COMPLETING)
			continue;
		verify_link(&a->verify, up, now);
		action_audit(a, up ? "xmpp_up" : "xmpp_down", json_pack(
		    "{s:s}", "note", up ? "our brewery link is back; the "
		    "verdict can be made" : "our brewery link is down; the "
		    "verdict waits instead of blaming the bridge"));
		action_drive(a);
	}
}

/* ---- restart, stop, teardown ---- */

struct action *
action_resume(struct ctx *ctx, const struct journal_entry *je)
{
	struct action *a;

	a = action_new(ctx, je->transition, je->group, je->hook, je->instance,
	    je->token);
	a->resumed = true;
	a->receipt = je->receipt[0] ? xstrdup(je->receipt) : NULL;
	snprintf(a->message_id, sizeof(a->message_id), "%s", je->message_id);
	a->event_wall = je->event_wall_ms > 0 ? je->event_wall_ms :
	    a->started_wall;
	a->started_wall = je->started_wall_ms > 0 ? je->started_wall_ms :
	    a->started_wall;
	a->heartbeats = je->heartbeats;
	snprintf(a->ip, sizeof(a->ip), "%s", je->ip);
	action_init_logic(a);
	if (action_terminating(a)) {
		/* the drain goes on where it was: the bridge calls are
		 * idempotent, and max_duration still counts from the start */
		policy_resume(&a->policy, je->drain_enabled,
		    je->graceful_accepted, je->forced);
		policy_clamp_deadline(&a->policy,
		    action_wall_to_mono(a->started_wall) +
		    (int64_t)ctx->cfg->drain.max_duration_ms);
	} else {
		verify_clamp_deadline(&a->verify,
		    action_wall_to_mono(a->started_wall) +
		    (int64_t)ctx->cfg->launch.timeout_ms);
	}
	/* keep it alive at once: we do not know how long we were away */
	a->hb_expires = action_now();
	action_audit(a, "resumed", json_pack("{s:s,s:i,s:s?}", "phase",
	    je->phase, "heartbeats", (int)je->heartbeats, "bridge",
	    a->ip[0] ? a->ip : NULL));
	log_info("%s %s: resumed from the journal (phase %s)", a->instance,
	    lifecycle_transition_name(a->transition), je->phase);
	a->hook_req = hookinfo_get(ctx->hooks, a->group, a->hook,
	    action_hook_known, a);
	action_arm(a->hb_timer, action_now());
	if (a->receipt != NULL)
		action_arm(a->vis_timer, action_now());
	action_drive(a);
	return a;
}

void
action_fill_journal(const struct action *a, struct journal_entry *je)
{
	memset(je, 0, sizeof(*je));
	je->transition = a->transition;
	snprintf(je->token, sizeof(je->token), "%s", a->token);
	snprintf(je->group, sizeof(je->group), "%s", a->group);
	snprintf(je->hook, sizeof(je->hook), "%s", a->hook);
	snprintf(je->instance, sizeof(je->instance), "%s", a->instance);
	snprintf(je->receipt, sizeof(je->receipt), "%s",
	    a->receipt != NULL ? a->receipt : "");
	snprintf(je->message_id, sizeof(je->message_id), "%s", a->message_id);
	snprintf(je->phase, sizeof(je->phase), "%s",
	    action_state_name(a->state));
	snprintf(je->ip, sizeof(je->ip), "%s", a->ip);
	je->started_wall_ms = a->started_wall;
	je->event_wall_ms = a->event_wall;
	je->heartbeats = a->heartbeats;
	if (action_terminating(a)) {
		je->drain_enabled = a->policy.drain_enabled;
		je->graceful_accepted = a->policy.graceful_accepted;
		je->forced = a->policy.forced;
		je->deadline_wall_ms = timeutil_wall_ms() +
		    (a->policy.deadline_ms - action_now());
	} else {
		je->deadline_wall_ms = timeutil_wall_ms() +
		    (a->verify.deadline_ms - action_now());
	}
	je->heartbeat_timeout_s = action_heartbeat_timeout(a);
	if (a->hb_expires > 0)
		je->heartbeat_expires_wall_ms = timeutil_wall_ms() +
		    (a->hb_expires - action_now());
}


static void
action_hand_back_done(const struct aws_error *err, void *arg)
{
	struct action *a = arg;
	struct ctx *ctx = a->ctx;
	char text[512];

	a->aws_call = NULL;
	if (err != NULL)
		log_warnx("%s: could not hand the message back (it comes "
		    "back when its visibility times out): %s", a->instance,
		    aws_error_str(err, text, sizeof(text)));
	action_free(a);
	action_check_handed_back(ctx);
}

void
action_hand_back_all(struct ctx *ctx, void (*done)(struct ctx *))
{
	struct action *a, *next;

	action_all_handed_back = done;
	if (ctx->nactions == 0) {
		action_all_handed_back = NULL;
		done(ctx);
		return;
	}
	for (a = TAILQ_FIRST(&ctx->actions); a != NULL; a = next) {
		next = TAILQ_NEXT(a, entry);
		if (a->state == ACTION_HANDING_BACK)
			continue;
		if (a->state == ACTION_WATCHING) {
			/* its lifecycle side is over: nothing to hand back */
			action_hand_back_done(NULL, a);
			continue;
		}
		/* a completion in flight finishes by itself; everything else
		 * stops here, journaled, never completed because we stop */
		hookinfo_cancel(a->hook_req);
		a->hook_req = NULL;
		resolver_cancel(a->resolve_req);
		a->resolve_req = NULL;
		bridge_call_cancel(a->rest_call);
		a->rest_call = NULL;
		aws_call_cancel(a->hb_call);
		a->hb_call = NULL;
		aws_call_cancel(a->vis_call);
		a->vis_call = NULL;
		evtimer_del(a->hb_timer);
		evtimer_del(a->vis_timer);
		evtimer_del(a->timer);
		if (a->aws_call != NULL)
			continue;	/* complete or delete in flight */
		action_journal(a);
		action_audit(a, "handed_back", json_pack("{s:s}", "note",
		    "the daemon is stopping; the action is journaled and its "
		    "message made visible again for a replica or the next "
		    "start"));
		action_set_state(a, ACTION_HANDING_BACK);
		action_journal(a);
		if (a->receipt == NULL || ctx->cfg->daemon.dry_run) {
			action_hand_back_done(NULL, a);
			continue;
		}
		a->aws_call = sqs_change_visibility(ctx->aws,
		    ctx->cfg->aws.queue_url, a->receipt, 0,
		    action_hand_back_done, a);
	}
}

void
action_free_all(struct ctx *ctx)
{
	struct action *a;

	while ((a = TAILQ_FIRST(&ctx->actions)) != NULL)
		action_free(a);
}

void *
action_status_json(const struct action *a)
{
	int64_t now = action_now(), wall = timeutil_wall_ms();
	char started[40], deadline[40], hb[40];
	int64_t dl = action_terminating(a) ? a->policy.deadline_ms :
	    a->verify.deadline_ms;
	struct timeval tv;
	int64_t next_hb = 0;

	timeutil_rfc3339(a->started_wall, started, sizeof(started));
	timeutil_rfc3339(wall + (dl - now), deadline, sizeof(deadline));
	if (evtimer_pending(a->hb_timer, &tv)) {
		struct timeval nowtv;

		event_base_gettimeofday_cached(a->ctx->base, &nowtv);
		next_hb = wall + ((int64_t)tv.tv_sec * 1000 + tv.tv_usec /
		    1000) - ((int64_t)nowtv.tv_sec * 1000 + nowtv.tv_usec /
		    1000);
	}
	if (next_hb > 0)
		timeutil_rfc3339(next_hb, hb, sizeof(hb));
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s?,s:i,s:s,s:s,s:s?,"
	    "s:i,s:I}",
	    "action", a->token, "instance", a->instance, "group", a->group,
	    "hook", a->hook,
	    "transition", lifecycle_transition_name(a->transition),
	    "phase", action_state_name(a->state),
	    "bridge", a->ip[0] ? a->ip : NULL,
	    "participants", action_terminating(a) ? a->policy.participants :
	    -1,
	    "started", started, "deadline", deadline,
	    "next_heartbeat", next_hb > 0 ? hb : NULL,
	    "heartbeats", (int)a->heartbeats,
	    "age_s", (json_int_t)((wall - a->started_wall) / 1000));
}
