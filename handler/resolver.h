/*
 * Instance id -> address, through EC2 DescribeInstances.  Look-ups that
 * arrive within a short window are batched into one call (up to 100 ids),
 * so a thousand scale-ins cost ten calls rather than a thousand.
 */
#ifndef JL_RESOLVER_H
#define JL_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>

struct aws;
struct aws_error;
struct event_base;
struct resolver;
struct resolver_req;

struct resolver_answer {
	bool	 found;		/* false: EC2 does not know the id */
	char	 state[24];	/* "running", "terminated", ... or "" */
	char	 private_ip[48];	/* "" when none */
	char	 public_ip[48];
};

/* What an answer means for draining a bridge at that instance. */
enum resolver_verdict {
	RESOLVER_USABLE,	/* running (or so) with a private address */
	RESOLVER_UNKNOWN,	/* EC2 does not know the id (yet?) */
	RESOLVER_GONE,		/* shutting-down or terminated */
	RESOLVER_NO_ADDRESS,	/* no usable private address */
};

/* Classify an answer; why says so in words for any but USABLE. */
enum resolver_verdict resolver_classify(const struct resolver_answer *ans,
    const char *instance_id, char *why, size_t whylen);

/* answer NULL on an AWS failure (err set). */
typedef void (*resolver_cb)(const struct resolver_answer *answer,
    const struct aws_error *err, void *arg);

struct resolver *resolver_new(struct event_base *base, struct aws *aws);
void resolver_free(struct resolver *r);
/* Always answers later, on the loop. */
struct resolver_req *resolver_lookup(struct resolver *r,
    const char *instance_id, resolver_cb cb, void *arg);
void resolver_cancel(struct resolver_req *req);
/* DescribeInstances calls made (for the benchmark and metrics). */
unsigned long resolver_calls(const struct resolver *r);

#endif
