/*
 * What each lifecycle hook promises: its heartbeat timeout, global timeout
 * and default result (DescribeLifecycleHooks), cached per group and shared
 * by every action of that group; one call per group at a time.
 */
#ifndef JL_HOOKINFO_H
#define JL_HOOKINFO_H

#include <stdbool.h>

struct aws;
struct event_base;
struct aws_error;
struct hookinfo;
struct hookinfo_req;

struct hookinfo_hook {
	unsigned	 heartbeat_timeout_s;
	unsigned	 global_timeout_s;
	char		 default_result[16];	/* CONTINUE | ABANDON */
};

/* hook NULL: not known (err says why, or the group has no such hook). */
typedef void (*hookinfo_cb)(const struct hookinfo_hook *hook,
    const struct aws_error *err, void *arg);

struct hookinfo *hookinfo_new(struct event_base *base, struct aws *aws);
void hookinfo_free(struct hookinfo *hi);
/* Always answers later, on the loop.  The result is cached 10 minutes. */
struct hookinfo_req *hookinfo_get(struct hookinfo *hi, const char *group,
    const char *hook, hookinfo_cb cb, void *arg);
void hookinfo_cancel(struct hookinfo_req *req);

#endif
