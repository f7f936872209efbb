/*
 * Instance id -> address, through EC2 DescribeInstances.  Look-ups that
 * arrive within a short window are batched into one call (up to 100 ids),
 * so a thousand scale-ins cost ten calls rather than a thousand.
 */
#ifndef JL_RESOLVER_H
#define JL_RESOLVER_H

#include <stdbool.h>

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
