#include <sys/queue.h>

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "aws/autoscaling.h"
#include "aws/aws.h"
#include "handler/hookinfo.h"
#include "handler/log.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"

#define HOOKINFO_TTL_MS		(10 * 60 * 1000)
#define HOOKINFO_ERROR_TTL_MS	(30 * 1000)

struct hookinfo_req {
	TAILQ_ENTRY(hookinfo_req) entry;
	struct hookinfo_group	*g;
	char			*hook;		/* owned */
	hookinfo_cb		 cb;
	void			*arg;
};

struct hookinfo_group {
	LIST_ENTRY(hookinfo_group) entry;
	struct hookinfo		*hi;
	char			*name;		/* owned */
	struct asg_hook		*hooks;		/* owned copy */
	size_t			 nhooks;
	bool			 known;
	int64_t			 expires;	/* mono ms */
	struct aws_error	 err;		/* last failure */
	bool			 failed;
	struct aws_call		*call;
	TAILQ_HEAD(, hookinfo_req) waiting;
};

struct hookinfo {
	struct aws		*aws;
	struct event		*deliver;	/* answers from the cache */
	TAILQ_HEAD(, hookinfo_req) ready;
	LIST_HEAD(, hookinfo_group) groups;
};

static void
hookinfo_answer(struct hookinfo_req *req)
{
	struct hookinfo_group *g = req->g;
	struct hookinfo_hook h;
	size_t i;

	for (i = 0; g->known && i < g->nhooks; i++) {
		if (strcmp(g->hooks[i].name, req->hook) != 0)
			continue;
		memset(&h, 0, sizeof(h));
		h.heartbeat_timeout_s = g->hooks[i].heartbeat_timeout_s;
		h.global_timeout_s = g->hooks[i].global_timeout_s;
		if (g->hooks[i].default_result != NULL)
			snprintf(h.default_result, sizeof(h.default_result),
			    "%s", g->hooks[i].default_result);
		req->cb(&h, NULL, req->arg);
		return;
	}
	req->cb(NULL, g->failed ? &g->err : NULL, req->arg);
}

static void
hookinfo_deliver_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hookinfo *hi = arg;
	struct hookinfo_req *req;

	while ((req = TAILQ_FIRST(&hi->ready)) != NULL) {
		TAILQ_REMOVE(&hi->ready, req, entry);
		hookinfo_answer(req);
		free(req->hook);
		free(req);
	}
}

static void
hookinfo_group_clear(struct hookinfo_group *g)
{
	size_t i;

	for (i = 0; i < g->nhooks; i++) {
		free((char *)g->hooks[i].name);
		free((char *)g->hooks[i].transition);
		free((char *)g->hooks[i].default_result);
	}
	free(g->hooks);
	g->hooks = NULL;
	g->nhooks = 0;
}

static char *
hookinfo_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
hookinfo_described(const struct aws_error *err, const struct asg_hook *hooks,
    size_t n, void *arg)
{
	struct hookinfo_group *g = arg;
	struct hookinfo *hi = g->hi;
	struct hookinfo_req *req;
	size_t i;

	g->call = NULL;
	hookinfo_group_clear(g);
	if (err != NULL) {
		g->known = false;
		g->failed = true;
		g->err = *err;
		g->expires = timeutil_mono_ms() + HOOKINFO_ERROR_TTL_MS;
	} else {
		g->known = true;
		g->failed = false;
		g->expires = timeutil_mono_ms() + HOOKINFO_TTL_MS;
		g->hooks = xcalloc(n, sizeof(*g->hooks));
		for (i = 0; i < n; i++) {
			g->hooks[i] = hooks[i];
			g->hooks[i].name = hookinfo_dup(hooks[i].name);
			g->hooks[i].transition = hookinfo_dup(
			    hooks[i].transition);
			g->hooks[i].default_result = hookinfo_dup(
			    hooks[i].default_result);
		}
		g->nhooks = n;
	}
	while ((req = TAILQ_FIRST(&g->waiting)) != NULL) {
		TAILQ_REMOVE(&g->waiting, req, entry);
		TAILQ_INSERT_TAIL(&hi->ready, req, entry);
	}
	hookinfo_deliver_cb(-1, 0, hi);
}

struct hookinfo *
hookinfo_new(struct event_base *base, struct aws *aws)
{
	struct hookinfo *hi = xcalloc(1, sizeof(*hi));

	hi->aws = aws;
	hi->deliver = event_new(base, -1, 0, hookinfo_deliver_cb, hi);
	if (hi->deliver == NULL)
		fatalx("hookinfo: event_new");
	TAILQ_INIT(&hi->ready);
	LIST_INIT(&hi->groups);
	return hi;
}

void
hookinfo_free(struct hookinfo *hi)
{
	struct hookinfo_group *g;
	struct hookinfo_req *req;

	if (hi == NULL)
		return;
	while ((req = TAILQ_FIRST(&hi->ready)) != NULL)
		hookinfo_cancel(req);
	while ((g = LIST_FIRST(&hi->groups)) != NULL) {
		while ((req = TAILQ_FIRST(&g->waiting)) != NULL)
			hookinfo_cancel(req);
		aws_call_cancel(g->call);
		hookinfo_group_clear(g);
		LIST_REMOVE(g, entry);
		free(g->name);
		free(g);
	}
	if (hi->deliver != NULL)
		event_free(hi->deliver);
	free(hi);
}

struct hookinfo_req *
hookinfo_get(struct hookinfo *hi, const char *group, const char *hook,
    hookinfo_cb cb, void *arg)
{
	struct hookinfo_group *g;
	struct hookinfo_req *req;

	LIST_FOREACH(g, &hi->groups, entry)
		if (strcmp(g->name, group) == 0)
			break;
	if (g == NULL) {
		g = xcalloc(1, sizeof(*g));
		g->hi = hi;
		g->name = xstrdup(group);
		TAILQ_INIT(&g->waiting);
		LIST_INSERT_HEAD(&hi->groups, g, entry);
	}
	req = xcalloc(1, sizeof(*req));
	req->g = g;
	req->hook = xstrdup(hook);
	req->cb = cb;
	req->arg = arg;
	if (g->call == NULL && (g->known || g->failed) &&
	    timeutil_mono_ms() < g->expires) {
		/* from the cache, but still later, never re-entrantly */
		TAILQ_INSERT_TAIL(&hi->ready, req, entry);
		event_active(hi->deliver, 0, 0);
		return req;
	}
	TAILQ_INSERT_TAIL(&g->waiting, req, entry);
	if (g->call == NULL)
		g->call = asg_describe_hooks(hi->aws, group,
		    hookinfo_described, g);
	return req;
}

void
hookinfo_cancel(struct hookinfo_req *req)
{
	struct hookinfo *hi;
	struct hookinfo_req *r;

	if (req == NULL)
		return;
	hi = req->g->hi;
	TAILQ_FOREACH(r, &hi->ready, entry) {
		if (r == req) {
			TAILQ_REMOVE(&hi->ready, req, entry);
			goto out;
		}
	}
	TAILQ_REMOVE(&req->g->waiting, req, entry);
out:
	free(req->hook);
	free(req);
}
