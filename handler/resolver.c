/*
 * One EC2 call answers every look-up queued within RESOLVER_WINDOW_MS.
 * DescribeInstances fails the whole call when any id is unknown; a batch
 * that fails that way is split and each id asked alone, so one gone
 * instance never hides the others.
 */
#include <sys/queue.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "aws/ec2.h"
#include "drain/bridge.h"
#include "handler/log.h"
#include "handler/resolver.h"
#include "handler/xmalloc.h"

#define RESOLVER_WINDOW_MS	50
#define RESOLVER_BATCH		100	/* EC2_MAX_IDS */

struct resolver_batch;

struct resolver_req {
	TAILQ_ENTRY(resolver_req) entry;
	struct resolver		*r;
	struct resolver_batch	*batch;		/* NULL while queued */
	char			 id[24];
	resolver_cb		 cb;
	void			*arg;
};
TAILQ_HEAD(resolver_req_list, resolver_req);

struct resolver_batch {
	LIST_ENTRY(resolver_batch) entry;
	struct resolver		*r;
	struct resolver_req_list reqs;
	size_t			 n;
	struct aws_call		*call;
};

struct resolver {
	struct aws		*aws;
	struct event		*timer;
	struct resolver_req_list queued;
	size_t			 nqueued;
	LIST_HEAD(, resolver_batch) batches;
	unsigned long		 calls;
};

static void resolver_send(struct resolver *r, struct resolver_req_list *reqs,
    size_t n);

static void
resolver_batch_free(struct resolver_batch *b)
{
	LIST_REMOVE(b, entry);
	free(b);
}

static void
resolver_described(const struct aws_error *err, const struct ec2_instance *inst,
    size_t n, void *arg)
{
	struct resolver_batch *b = arg;
	struct resolver *r = b->r;
	struct resolver_req *req;
	struct resolver_answer ans;
	size_t i;

	b->call = NULL;
	if (err != NULL && err->cls == AWS_CLASS_UNKNOWN_INSTANCE &&
	    b->n > 1) {
		/* ask each alone: only the unknown ones fail then */
		while ((req = TAILQ_FIRST(&b->reqs)) != NULL) {
			struct resolver_req_list one;

			TAILQ_REMOVE(&b->reqs, req, entry);
			TAILQ_INIT(&one);
			TAILQ_INSERT_TAIL(&one, req, entry);
			resolver_send(r, &one, 1);
		}
		resolver_batch_free(b);
		return;
	}
	while ((req = TAILQ_FIRST(&b->reqs)) != NULL) {
		TAILQ_REMOVE(&b->reqs, req, entry);
		b->n--;
		if (err != NULL && err->cls == AWS_CLASS_UNKNOWN_INSTANCE) {
			memset(&ans, 0, sizeof(ans));
			req->cb(&ans, NULL, req->arg);
		} else if (err != NULL) {
			req->cb(NULL, err, req->arg);
		} else {
			memset(&ans, 0, sizeof(ans));
			for (i = 0; i < n; i++) {
				if (strcmp(inst[i].instance_id, req->id) != 0)
					continue;
				ans.found = true;
				snprintf(ans.state, sizeof(ans.state), "%s",
				    inst[i].state ? inst[i].state : "");
				snprintf(ans.private_ip, sizeof(ans.private_ip),
				    "%s", inst[i].private_ip ?
				    inst[i].private_ip : "");
				snprintf(ans.public_ip, sizeof(ans.public_ip),
				    "%s", inst[i].public_ip ?
				    inst[i].public_ip : "");
				break;
			}
			req->cb(&ans, NULL, req->arg);
		}
		free(req);
	}
	resolver_batch_free(b);
}

static void
resolver_send(struct resolver *r, struct resolver_req_list *reqs, size_t n)
{
	struct resolver_batch *b = xcalloc(1, sizeof(*b));
	const char *ids[RESOLVER_BATCH];
	struct resolver_req *req;
	size_t i = 0;

	b->r = r;
	TAILQ_INIT(&b->reqs);
	while ((req = TAILQ_FIRST(reqs)) != NULL && i < n) {
		TAILQ_REMOVE(reqs, req, entry);
		TAILQ_INSERT_TAIL(&b->reqs, req, entry);
		req->batch = b;
		ids[i++] = req->id;
	}
	b->n = i;
	LIST_INSERT_HEAD(&r->batches, b, entry);
	r->calls++;
	b->call = ec2_describe_instances(r->aws, ids, i, resolver_described,
	    b);
}

static void
resolver_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct resolver *r = arg;

	while (r->nqueued > 0) {
		size_t n = r->nqueued < RESOLVER_BATCH ? r->nqueued :
		    RESOLVER_BATCH;

		r->nqueued -= n;
		resolver_send(r, &r->queued, n);
	}
}

struct resolver *
resolver_new(struct event_base *base, struct aws *aws)
{
	struct resolver *r = xcalloc(1, sizeof(*r));

	r->aws = aws;
	TAILQ_INIT(&r->queued);
	LIST_INIT(&r->batches);
	if ((r->timer = evtimer_new(base, resolver_timer_cb, r)) == NULL)
		fatalx("resolver: evtimer_new");
	return r;
}

void
resolver_free(struct resolver *r)
{
	struct resolver_batch *b;
	struct resolver_req *req;

	if (r == NULL)
		return;
	while ((req = TAILQ_FIRST(&r->queued)) != NULL) {
		TAILQ_REMOVE(&r->queued, req, entry);
		free(req);
	}
	while ((b = LIST_FIRST(&r->batches)) != NULL) {
		aws_call_cancel(b->call);
		while ((req = TAILQ_FIRST(&b->reqs)) != NULL) {
			TAILQ_REMOVE(&b->reqs, req, entry);
			free(req);
		}
		resolver_batch_free(b);
	}
	event_free(r->timer);
	free(r);
}

struct resolver_req *
resolver_lookup(struct resolver *r, const char *instance_id, resolver_cb cb,
    void *arg)
{
	struct resolver_req *req = xcalloc(1, sizeof(*req));
	struct timeval tv = { 0, RESOLVER_WINDOW_MS * 1000 };

	req->r = r;
	snprintf(req->id, sizeof(req->id), "%s", instance_id);
	req->cb = cb;
	req->arg = arg;
	TAILQ_INSERT_TAIL(&r->queued, req, entry);
	if (r->nqueued++ == 0)
		evtimer_add(r->timer, &tv);
	return req;
}

void
resolver_cancel(struct resolver_req *req)
{
	struct resolver *r;

	if (req == NULL)
		return;
	r = req->r;
	if (req->batch == NULL) {
		TAILQ_REMOVE(&r->queued, req, entry);
		if (--r->nqueued == 0)
			evtimer_del(r->timer);
	} else {
		/* the call goes on for the others; this one is forgotten */
		TAILQ_REMOVE(&req->batch->reqs, req, entry);
		req->batch->n--;
	}
	free(req);
}

unsigned long
resolver_calls(const struct resolver *r)
{
	return r->calls;
}

enum resolver_verdict
resolver_classify(const struct resolver_answer *ans, const char *instance_id,
    char *why, size_t whylen)
{
	if (!ans->found) {
		snprintf(why, whylen, "EC2 does not know instance %s",
		    instance_id);
		return RESOLVER_UNKNOWN;
	}
	if (strcmp(ans->state, "terminated") == 0 ||
	    strcmp(ans->state, "shutting-down") == 0) {
		snprintf(why, whylen, "instance %s is %s", instance_id,
		    ans->state);
		return RESOLVER_GONE;
	}
	if (ans->private_ip[0] == '\0' || !bridge_valid_ip(ans->private_ip)) {
		snprintf(why, whylen, "instance %s (%s) has no private address",
		    instance_id, ans->state);
		return RESOLVER_NO_ADDRESS;
	}
	why[0] = '\0';
	return RESOLVER_USABLE;
}
