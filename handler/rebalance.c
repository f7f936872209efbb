#include <sys/queue.h>

#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "drain/bridge.h"
#include "handler/audit.h"
#include "handler/config.h"
#include "handler/ctx.h"
#include "handler/log.h"
#include "handler/rebalance.h"
#include "handler/resolver.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"

#define REBALANCE_RETRY_MS	5000
#define REBALANCE_MAX_TRIES	6

enum rebalance_state {
	REBALANCE_RESOLVING,
	REBALANCE_ENABLING,
	REBALANCE_ON,		/* drain on; waiting for a termination */
	REBALANCE_DISABLING,
};

struct rebalance {
	TAILQ_ENTRY(rebalance)	 entry;
	struct rebalancer	*owner;
	enum rebalance_state	 state;
	char			 instance[24];
	char			*group;		/* owned */
	char			 ip[48];
	unsigned		 tries;
	struct resolver_req	*rreq;
	struct bridge_call	*call;
	struct event		*timer;		/* owned */
};

struct rebalancer {
	struct ctx		*ctx;
	TAILQ_HEAD(, rebalance)	 list;
};

static void rebalance_step(struct rebalance *rb);

static void
rebalance_audit(struct rebalance *rb, const char *step, json_t *f)
{
	struct audit_ctx actx = { .instance = rb->instance,
	    .group = rb->group };
	int r;

	if ((r = audit_write(rb->owner->ctx->audit, &actx, step, f)) != 0)
		log_warnx("%s: cannot write audit record: %s", rb->instance,
		    strerror(-r));
	json_decref(f);
}

static void
rebalance_free(struct rebalance *rb)
{
	TAILQ_REMOVE(&rb->owner->list, rb, entry);
	resolver_cancel(rb->rreq);
	bridge_call_cancel(rb->call);
	event_free(rb->timer);
	free(rb->group);
	free(rb);
}

static void
rebalance_arm(struct rebalance *rb, int64_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(rb->timer, &tv);
}

/* A failure: try again a few times, then give up, saying so. */
static void
rebalance_retry(struct rebalance *rb, const char *why)
{
	if (++rb->tries >= REBALANCE_MAX_TRIES) {
		log_warnx("%s: rebalance: giving up: %s", rb->instance, why);
		rebalance_audit(rb, "rebalance_failed", json_pack("{s:s,s:s}",
		    "phase", rb->state == REBALANCE_DISABLING ? "undo" :
		    "drain", "error", why));
		rebalance_free(rb);
		return;
	}
	rebalance_arm(rb, REBALANCE_RETRY_MS);
}

static void
rebalance_rest_done(const struct bridge_result *res, void *arg)
{
	struct rebalance *rb = arg;
	const struct config *cfg = rb->owner->ctx->cfg;

	rb->call = NULL;
	if (res->outcome != BRIDGE_OK) {
		rebalance_retry(rb, res->diagnosis);
		return;
	}
	rb->tries = 0;
	if (rb->state == REBALANCE_ENABLING) {
		rb->state = REBALANCE_ON;
		log_info("%s: rebalance recommendation: drain mode on; undone "
		    "in %llus unless a termination follows", rb->instance,
		    (unsigned long long)(cfg->rebalance.undo_after_ms / 1000));
		rebalance_audit(rb, "rebalance_drain", json_pack(
		    "{s:s,s:I}", "bridge", rb->ip, "undo_after_s",
		    (json_int_t)(cfg->rebalance.undo_after_ms / 1000)));
		rebalance_arm(rb, (int64_t)cfg->rebalance.undo_after_ms);
		return;
	}
	log_info("%s: no termination followed the rebalance recommendation: "
	    "drain mode off again", rb->instance);
	rebalance_audit(rb, "rebalance_undone", json_pack("{s:s}", "bridge",
	    rb->ip));
	rebalance_free(rb);
}

static void
rebalance_resolved(const struct resolver_answer *ans,
    const struct aws_error *err, void *arg)
{
	struct rebalance *rb = arg;
	char text[512], why[320];

	rb->rreq = NULL;
	if (ans == NULL) {
		rebalance_retry(rb, aws_error_str(err, text, sizeof(text)));
		return;
	}
	if (resolver_classify(ans, rb->instance, why, sizeof(why)) !=
	    RESOLVER_USABLE) {
		rebalance_audit(rb, "rebalance_failed", json_pack("{s:s}",
		    "error", why));
		rebalance_free(rb);
		return;
	}
	snprintf(rb->ip, sizeof(rb->ip), "%s", ans->private_ip);
	rb->state = REBALANCE_ENABLING;
	rebalance_step(rb);
}

static void
rebalance_step(struct rebalance *rb)
{
	struct ctx *ctx = rb->owner->ctx;
	unsigned port = ctx->cfg->bridge.port;
	unsigned tmo = (unsigned)ctx->cfg->bridge.timeout_ms;

	switch (rb->state) {
	case REBALANCE_RESOLVING:
		rb->rreq = resolver_lookup(ctx->resolver, rb->instance,
		    rebalance_resolved, rb);
		break;
	case REBALANCE_ENABLING:
		if (ctx->cfg->daemon.dry_run) {
			rebalance_audit(rb, "would_rebalance_drain", NULL);
			rebalance_free(rb);
			return;
		}
		rb->call = bridge_drain_set(ctx->http, rb->ip, port, true, tmo,
		    rebalance_rest_done, rb);
		break;
	case REBALANCE_ON:
		rb->state = REBALANCE_DISABLING;
		/* FALLTHROUGH */
	case REBALANCE_DISABLING:
		rb->call = bridge_drain_set(ctx->http, rb->ip, port, false, tmo,
		    rebalance_rest_done, rb);
		break;
	}
}

static void
rebalance_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	rebalance_step(arg);
}

struct rebalancer *
rebalancer_new(struct ctx *ctx)
{
	struct rebalancer *r = xcalloc(1, sizeof(*r));

	r->ctx = ctx;
	TAILQ_INIT(&r->list);
	return r;
}

void
rebalancer_free(struct rebalancer *r)
{
	struct rebalance *rb;

	if (r == NULL)
		return;
	while ((rb = TAILQ_FIRST(&r->list)) != NULL)
		rebalance_free(rb);
	free(r);
}

static struct rebalance *
rebalance_find(struct rebalancer *r, const char *instance)
{
	struct rebalance *rb;

	TAILQ_FOREACH(rb, &r->list, entry)
		if (strcmp(rb->instance, instance) == 0)
			return rb;
	return NULL;
}

void
rebalance_start(struct rebalancer *r, const char *instance, const char *group)
{
	struct rebalance *rb;

	if (r == NULL || !r->ctx->cfg->rebalance.drain)
		return;
	if (rebalance_find(r, instance) != NULL)
		return;		/* already on it */
	rb = xcalloc(1, sizeof(*rb));
	rb->owner = r;
	rb->state = REBALANCE_RESOLVING;
	snprintf(rb->instance, sizeof(rb->instance), "%s", instance);
	rb->group = xstrdup(group);
	if ((rb->timer = evtimer_new(r->ctx->base, rebalance_timer_cb, rb)) ==
	    NULL)
		fatalx("rebalance: evtimer_new");
	TAILQ_INSERT_TAIL(&r->list, rb, entry);
	rebalance_audit(rb, "rebalance_recommendation", NULL);
	rebalance_step(rb);
}

void
rebalance_superseded(struct rebalancer *r, const char *instance)
{
	struct rebalance *rb;

	if (r == NULL || (rb = rebalance_find(r, instance)) == NULL)
		return;
	log_info("%s: a termination follows the rebalance recommendation; "
	    "drain mode stays on", instance);
	rebalance_audit(rb, "rebalance_superseded", NULL);
	rebalance_free(rb);
}
