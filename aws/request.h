/*
 * Internal to aws/: the call machinery every operation goes through.
 * Build once; on every attempt take the current credentials, sign with a
 * fresh X-Amz-Date, send; retry throttling, 5xx and transport errors with
 * capped exponential backoff and full jitter within max_attempts and the
 * call's budget; after ExpiredToken-like errors from refreshable
 * credentials, refresh and retry once.
 */
#ifndef JL_REQUEST_H
#define JL_REQUEST_H

#include <sys/queue.h>

#include <stddef.h>

#include "aws/aws.h"
#include "aws/endpoint.h"

struct http_response;
struct creds_chain;

TAILQ_HEAD(request_list, aws_call);

struct aws {
	struct event_base	*base;
	struct http		*http;
	char			*region;	/* owned */
	struct endpoint		 endpoints[ENDPOINT_COUNT];
	unsigned		 max_attempts;
	unsigned		 budget_ms;
	struct creds_chain	*chain;		/* owned */
	aws_observer_cb		 observer;
	void			*observer_arg;
	struct request_list	 calls;		/* owned: calls in flight */
};

struct request_params {
	const char		*op;		/* static: "ReceiveMessage" */
	enum endpoint_service	 svc;
	const char		*content_type;	/* static */
	const char		*target;	/* static X-Amz-Target, or NULL */
	const char		*body;		/* copied */
	size_t			 body_len;
	unsigned		 timeout_ms;	/* per attempt; 0: 10 s */
	unsigned		 min_budget_ms;	/* a long poll needs this much */
	size_t			 max_response;	/* 0: handler/http.h's default */
};

/*
 * The outcome, once: err NULL and resp the 2xx answer, or err set (resp
 * NULL).  arg is freed with free_arg right after (also on cancel).
 */
typedef void (*request_done_cb)(struct aws_call *call,
    const struct aws_error *err, const struct http_response *resp,
    void *arg);
typedef void (*request_free_cb)(void *arg);

struct aws_call *request_start(struct aws *a, const struct request_params *p,
    request_done_cb done, request_free_cb free_arg, void *arg);
/* A call that fails with err, later, on the loop (bad arguments). */
struct aws_call *request_fail(struct aws *a, const char *op,
    const struct aws_error *err, request_done_cb done,
    request_free_cb free_arg, void *arg);
/* For operations whose answer carries nothing: cb(NULL) on any 2xx. */
struct aws_call *request_start_simple(struct aws *a,
    const struct request_params *p, aws_done_cb cb, void *arg);
struct aws_call *request_fail_simple(struct aws *a, const char *op,
    const struct aws_error *err, aws_done_cb cb, void *arg);
/* HTTP attempts made so far (for a parse error's aws_error). */
unsigned request_attempts(const struct aws_call *call);
/* aws_free: every call, no callbacks. */
void request_cancel_all(struct aws *a);

#endif
