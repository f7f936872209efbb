/*
 * Everything the daemon says to AWS (SQS, Auto Scaling, EC2), without an
 * SDK: credentials, SigV4, the three wire protocols, errors and retries.
 *
 * One struct aws per daemon, on the daemon's event loop.  Every operation
 * (sqs.h, autoscaling.h, ec2.h) returns a struct aws_call and later runs
 * its callback exactly once, on the loop, never from inside the function
 * that started it; or aws_call_cancel() forgets it and no callback runs.
 * Result pointers given to a callback are valid only during the callback.
 */
#ifndef JL_AWS_H
#define JL_AWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct http;

struct aws_config {
	const char	*region;	/* required, e.g. "eu-west-1" */
	const char	*endpoint_url;	/* NULL: regional endpoints */
	unsigned	 max_attempts;	/* per call; 0: 5 */
	unsigned	 budget_ms;	/* per call incl. backoff; 0: 60000 */
	/*
	 * How long before expiry refreshable credentials are renewed; 0:
	 * 15 minutes.  Tests shorten it.
	 */
	unsigned	 refresh_margin_ms;
};

#define AWS_DEFAULT_MAX_ATTEMPTS	5
#define AWS_DEFAULT_BUDGET_MS		60000
#define AWS_DEFAULT_REFRESH_MARGIN_MS	(15 * 60 * 1000)
/* backoff: full jitter, base 1 s, cap 20 s (standard retry mode) */
#define AWS_BACKOFF_BASE_MS		1000
#define AWS_BACKOFF_CAP_MS		20000

enum aws_error_kind {
	AWS_ERR_NONE,
	AWS_ERR_TRANSPORT,	/* no HTTP answer: sys_errno says why */
	AWS_ERR_HTTP,		/* an HTTP error without an AWS error body */
	AWS_ERR_SERVICE,	/* an AWS error (code and message) */
	AWS_ERR_CREDENTIALS,	/* no usable credentials */
	AWS_ERR_PARSE,		/* a 2xx answer we could not understand */
	AWS_ERR_INVALID,	/* refused before sending: a bad argument */
};

/* What the caller can act on; see error.c for the mapping. */
enum aws_error_class {
	AWS_CLASS_OK,
	AWS_CLASS_NO_ACTIVE_ACTION,	/* lifecycle action finished/expired */
	AWS_CLASS_RECEIPT_INVALID,	/* receipt handle no longer good */
	AWS_CLASS_UNKNOWN_INSTANCE,	/* InvalidInstanceID.* */
	AWS_CLASS_ACCESS_DENIED,
	AWS_CLASS_THROTTLED,		/* retryable */
	AWS_CLASS_TRANSIENT,		/* retryable: 5xx, transport, no creds yet */
	AWS_CLASS_EXPIRED_CREDS,
	AWS_CLASS_SIGNATURE,		/* signature refused: wrong secret, clock */
	AWS_CLASS_OTHER,
};

struct aws_error {
	enum aws_error_kind	kind;
	enum aws_error_class	cls;
	long			status;		/* HTTP status or 0 */
	int			sys_errno;	/* -errno for transport errors */
	char			code[64];	/* AWS code, printable ASCII */
	char			message[256];	/* sanitized, truncated */
	unsigned		attempts;	/* HTTP attempts made */
};

struct aws;
struct aws_call;

typedef void (*aws_done_cb)(const struct aws_error *err /* NULL: ok */,
    void *arg);
typedef void (*aws_observer_cb)(const char *op, const struct aws_error *err,
    unsigned attempt, void *arg);

/* NULL if the configuration is invalid (bad region or endpoint_url). */
struct aws *aws_new(struct event_base *base, struct http *http,
    const struct aws_config *cfg);
/* Cancels every call in flight (no callbacks) and frees; NULL is fine. */
void aws_free(struct aws *a);
/*
 * Start resolving credentials through the default chain (asynchronous).
 * Calls made before they are ready wait, within their budget.
 */
void aws_creds_start(struct aws *a);
/* Called on every attempt's outcome (err NULL on success), for metrics. */
void aws_set_observer(struct aws *a, aws_observer_cb fn, void *arg);
/* Valid credentials are at hand now. */
bool aws_creds_ok(const struct aws *a);
/* Monotonic ms since when credentials have been failing; 0 if fine. */
int64_t aws_creds_failing_since(const struct aws *a);
/* "env", "profile", "container", "imds", or NULL before the first. */
const char *aws_creds_source(const struct aws *a);
/* The configured region. */
const char *aws_region(const struct aws *a);

/* No callback afterwards; NULL is fine.  Not from inside its callback. */
void aws_call_cancel(struct aws_call *call);

/* "ValidationError (HTTP 400): No active ... [1 attempt]" for log lines. */
const char *aws_error_str(const struct aws_error *err, char *out,
    size_t outlen);
const char *aws_error_class_name(enum aws_error_class cls);

#endif
