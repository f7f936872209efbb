/*
 * One call, from first attempt to callback.  States: waiting for
 * credentials, sending, backing off, finishing.  A single evtimer serves
 * all waits (start, backoff, deadline while waiting for credentials), so
 * every callback runs from the loop.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "aws/creds.h"
#include "aws/error.h"
#include "aws/request.h"
#include "aws/sigv4.h"
#include "handler/backoff.h"
#include "handler/buf.h"
#include "handler/http.h"
#include "handler/log.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"

#define REQUEST_DEFAULT_TIMEOUT_MS	10000
#define REQUEST_MIN_ATTEMPT_MS		200
#define REQUEST_USER_AGENT		"jvb-lifecycled/" JL_VERSION

enum request_state {
	REQUEST_STARTING,	/* timer at 0: first attempt */
	REQUEST_WAIT_CREDS,	/* waiter registered; timer at deadline */
	REQUEST_SENDING,	/* http request in flight */
	REQUEST_BACKOFF,	/* timer: next attempt */
	REQUEST_FAILING,	/* timer at 0: report err */
	REQUEST_FINISHING,	/* in the callback */
};

struct aws_call {
	TAILQ_ENTRY(aws_call)	 entry;
	struct aws		*a;
	enum request_state	 state;
	const char		*op;
	enum endpoint_service	 svc;
	const char		*content_type;
	const char		*target;
	char			*body;		/* owned */
	size_t			 body_len;
	unsigned		 timeout_ms;
	size_t			 max_response;	/* 0: the default */
	unsigned		 attempts;
	bool			 refresh_spent;	/* the one creds retry */
	unsigned		 creds_gen;	/* signed with this set */
	int64_t			 deadline;	/* monotonic ms */
	struct http_req		*req;		/* in flight; owned by http */
	struct creds_waiter	*waiter;	/* owned by the chain */
	struct event		*timer;		/* owned */
	struct aws_error	 err;		/* last error */
	request_done_cb		 done;
	request_free_cb		 free_arg;
	void			*arg;		/* freed with free_arg */
};

static void request_attempt(struct aws_call *call);

static void
request_destroy(struct aws_call *call)
{
	if (call->free_arg != NULL)
		call->free_arg(call->arg);
	event_free(call->timer);
	free(call->body);
	free(call);
}

/* Stop whatever runs; the call stays linked. */
static void
request_stop(struct aws_call *call)
{
	http_req_cancel(call->req);
	call->req = NULL;
	creds_waiter_cancel(call->waiter);
	call->waiter = NULL;
	evtimer_del(call->timer);
}

static void
request_finish(struct aws_call *call, const struct aws_error *err,
    const struct http_response *resp)
{
	request_stop(call);
	TAILQ_REMOVE(&call->a->calls, call, entry);
	call->state = REQUEST_FINISHING;
	/* from here on, call->a may be freed by the callback */
	call->done(call, err, resp, call->arg);
	request_destroy(call);
}

static void
request_observe(struct aws_call *call, const struct aws_error *err)
{
	struct aws *a = call->a;

	if (a->observer != NULL)
		a->observer(call->op, err, call->attempts, a->observer_arg);
}

static void
request_fail_now(struct aws_call *call)
{
	call->err.attempts = call->attempts;
	request_finish(call, &call->err, NULL);
}

static void
request_arm(struct aws_call *call, enum request_state state, int64_t ms)
{
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	call->state = state;
	evtimer_add(call->timer, &tv);
}

static void
request_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct aws_call *call = arg;

	switch (call->state) {
	case REQUEST_STARTING:
	case REQUEST_BACKOFF:
		request_attempt(call);
		return;
	case REQUEST_WAIT_CREDS:
		/* the budget ran out before credentials came */
		creds_waiter_cancel(call->waiter);
		call->waiter = NULL;
		if (call->err.kind == AWS_ERR_NONE)
			error_set(&call->err, AWS_ERR_CREDENTIALS,
			    AWS_CLASS_TRANSIENT, "NoCredentials",
			    "no usable AWS credentials within the call's "
			    "budget");
		request_observe(call, &call->err);
		request_fail_now(call);
		return;
	case REQUEST_FAILING:
		request_fail_now(call);
		return;
	case REQUEST_SENDING:
	case REQUEST_FINISHING:
		break;
	}
}

static void
request_creds_cb(void *arg)
{
	struct aws_call *call = arg;

	call->waiter = NULL;
	evtimer_del(call->timer);
	request_attempt(call);
}

static void request_http_cb(const struct http_response *resp, void *arg);

static void
request_wait_creds(struct aws_call *call)
{
	int64_t left = call->deadline - timeutil_mono_ms();

	call->waiter = creds_chain_wait(call->a->chain, request_creds_cb,
	    call);
	request_arm(call, REQUEST_WAIT_CREDS, left);
}

static void
request_attempt(struct aws_call *call)
{
	struct aws *a = call->a;
	const struct endpoint *ep = &a->endpoints[call->svc];
	struct sigv4_header hdrs[5];
	struct sigv4_request sreq;
	struct sigv4_output out;
	struct http_req *r;
	struct creds *c;
	char date[SIGV4_AMZ_DATE_LEN + 1];
	int64_t left;
	size_t n = 0;
	int rc;

	left = call->deadline - timeutil_mono_ms();
	if ((c = creds_chain_get(a->chain, &call->creds_gen)) == NULL) {
		if (left <= 0) {
			request_arm(call, REQUEST_WAIT_CREDS, 0);
			return;
		}
		request_wait_creds(call);
		return;
	}
	if (left < REQUEST_MIN_ATTEMPT_MS)
		left = REQUEST_MIN_ATTEMPT_MS;
	if (left > call->timeout_ms)
		left = call->timeout_ms;

	sigv4_amz_date(timeutil_wall_ms(), date);
	hdrs[n++] = (struct sigv4_header){ "content-type", call->content_type };
	hdrs[n++] = (struct sigv4_header){ "host", ep->host };
	hdrs[n++] = (struct sigv4_header){ "x-amz-date", date };
	if (c->session_token != NULL)
		hdrs[n++] = (struct sigv4_header){ "x-amz-security-token",
		    c->session_token };
	if (call->target != NULL)
		hdrs[n++] = (struct sigv4_header){ "x-amz-target",
		    call->target };
	memset(&sreq, 0, sizeof(sreq));
	sreq.method = "POST";
	sreq.path = ep->path;
	sreq.headers = hdrs;
	sreq.nheaders = n;
	sreq.payload = call->body;
	sreq.payload_len = call->body_len;
	sreq.normalize_path = true;
	sigv4_output_init(&out);
	rc = sigv4_sign(&sreq, c->access_key_id, c->secret_access_key,
	    ep->region, ep->service, date, &c->keys[call->svc], &out);
	if (rc < 0) {
		sigv4_output_finish(&out);
		error_set(&call->err, AWS_ERR_CREDENTIALS, AWS_CLASS_OTHER,
		    "SigningFailed", "cannot sign the request");
		request_observe(call, &call->err);
		request_fail_now(call);
		return;
	}

	r = http_req_new(a->http, "POST", ep->url);
	http_req_header(r, "Host", ep->host);
	http_req_header(r, "Content-Type", call->content_type);
	http_req_header(r, "X-Amz-Date", date);
	if (call->target != NULL)
		http_req_header(r, "X-Amz-Target", call->target);
	if (c->session_token != NULL)
		http_req_secret_header(r, "X-Amz-Security-Token",
		    c->session_token);
	http_req_secret_header(r, "Authorization", out.authorization.data);
	http_req_header(r, "User-Agent", REQUEST_USER_AGENT);
	http_req_body(r, call->body, call->body_len);
	if (call->max_response != 0)
		http_req_max_response(r, call->max_response);
	http_req_timeout(r, left < 5000 ? (unsigned)left : 5000,
	    (unsigned)left);
	sigv4_output_finish(&out);

	call->state = REQUEST_SENDING;
	call->req = r;
	log_debug("aws: %s attempt %u to %s", call->op, call->attempts + 1,
	    ep->host);
	http_req_start(r, request_http_cb, call);
}

static void
request_http_cb(const struct http_response *resp, void *arg)
{
	struct aws_call *call = arg;
	struct aws *a = call->a;
	char line[512], qe[128] = "";
	const char *h;
	int64_t left, delay;
	unsigned gen;

	call->req = NULL;
	call->attempts++;
	if (resp->error == 0 && resp->status >= 200 && resp->status <= 299) {
		request_observe(call, NULL);
		request_finish(call, NULL, resp);
		return;
	}
	if (resp->error != 0) {
		error_from_transport(resp->error, resp->error_text, &call->err);
	} else {
		/* the header value is in a static buffer: copy it now */
		if ((h = http_response_header(resp,
		    "x-amzn-query-error")) != NULL)
			error_sanitize(qe, sizeof(qe), h, strlen(h));
		error_from_response(resp->status, qe[0] != '\0' ? qe : NULL,
		    resp->body, resp->body_len, &call->err);
	}
	call->err.attempts = call->attempts;
	request_observe(call, &call->err);
	if (log_getlevel() >= LOG_LEVEL_DEBUG) {
		error_format(&call->err, line, sizeof(line));
		log_debug("aws: %s attempt %u: %s", call->op, call->attempts,
		    line);
	}
	left = call->deadline - timeutil_mono_ms();

	if (error_expired_creds(&call->err) && !call->refresh_spent &&
	    creds_chain_refreshable(a->chain) && left > 0) {
		call->refresh_spent = true;
		if (creds_chain_get(a->chain, &gen) != NULL &&
		    gen != call->creds_gen) {
			/* new credentials came meanwhile: use them */
			request_arm(call, REQUEST_BACKOFF, 0);
			return;
		}
		creds_chain_refresh(a->chain);
		request_wait_creds(call);
		return;
	}
	if (!error_retryable(&call->err) ||
	    call->attempts >= a->max_attempts) {
		request_fail_now(call);
		return;
	}
	delay = backoff_full_jitter(call->attempts - 1, AWS_BACKOFF_BASE_MS,
	    AWS_BACKOFF_CAP_MS);
	if (delay + REQUEST_MIN_ATTEMPT_MS >= left) {
		request_fail_now(call);
		return;
	}
	request_arm(call, REQUEST_BACKOFF, delay);
}

static struct aws_call *
request_new(struct aws *a, const char *op, request_done_cb done,
    request_free_cb free_arg, void *arg)
{
	struct aws_call *call = xcalloc(1, sizeof(*call));

	call->a = a;
	call->op = op;
	call->done = done;
	call->free_arg = free_arg;
	call->arg = arg;
	if ((call->timer = evtimer_new(a->base, request_timer_cb,
	    call)) == NULL)
		fatalx("event_new for an AWS call");
	TAILQ_INSERT_TAIL(&a->calls, call, entry);
	return call;
}

struct aws_call *
request_start(struct aws *a, const struct request_params *p,
    request_done_cb done, request_free_cb free_arg, void *arg)
{
	struct aws_call *call = request_new(a, p->op, done, free_arg, arg);
	unsigned budget = a->budget_ms;

	call->svc = p->svc;
	call->content_type = p->content_type;
	call->target = p->target;
	call->body = xmalloc(p->body_len + 1);
	memcpy(call->body, p->body, p->body_len);
	call->body[p->body_len] = '\0';
	call->body_len = p->body_len;
	call->timeout_ms = p->timeout_ms != 0 ? p->timeout_ms :
	    REQUEST_DEFAULT_TIMEOUT_MS;
	call->max_response = p->max_response;
	/* a long poll gets at least one whole attempt */
	if (budget < p->min_budget_ms)
		budget = p->min_budget_ms;
	call->deadline = timeutil_mono_ms() + budget;
	request_arm(call, REQUEST_STARTING, 0);
	return call;
}

struct aws_call *
request_fail(struct aws *a, const char *op, const struct aws_error *err,
    request_done_cb done, request_free_cb free_arg, void *arg)
{
	struct aws_call *call = request_new(a, op, done, free_arg, arg);

	call->err = *err;
	request_arm(call, REQUEST_FAILING, 0);
	return call;
}

struct request_simple {
	aws_done_cb	 cb;
	void		*arg;
};

static void
request_simple_done(struct aws_call *call, const struct aws_error *err,
    const struct http_response *resp, void *arg)
{
	struct request_simple *s = arg;

	s->cb(err, s->arg);
}

struct aws_call *
request_start_simple(struct aws *a, const struct request_params *p,
    aws_done_cb cb, void *arg)
{
	struct request_simple *s = xmalloc(sizeof(*s));

	s->cb = cb;
	s->arg = arg;
	return request_start(a, p, request_simple_done, free, s);
}

struct aws_call *
request_fail_simple(struct aws *a, const char *op,
    const struct aws_error *err, aws_done_cb cb, void *arg)
{
	struct request_simple *s = xmalloc(sizeof(*s));

	s->cb = cb;
	s->arg = arg;
	return request_fail(a, op, err, request_simple_done, free, s);
}

unsigned
request_attempts(const struct aws_call *call)
{
	return call->attempts;
}

void
aws_call_cancel(struct aws_call *call)
{
	if (call == NULL || call->state == REQUEST_FINISHING)
		return;
	request_stop(call);
	TAILQ_REMOVE(&call->a->calls, call, entry);
	request_destroy(call);
}

void
request_cancel_all(struct aws *a)
{
	struct aws_call *call;

	while ((call = TAILQ_FIRST(&a->calls)) != NULL)
		aws_call_cancel(call);
}
