/*
 * EC2 Auto Scaling, Query API 2011-01-01 (aws-wire.md section 3).
 * Prefix asg_.
 */
#ifndef JL_AUTOSCALING_H
#define JL_AUTOSCALING_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/aws.h"

#define ASG_MAX_IDS	50

/*
 * Complete the lifecycle action for token and/or instance_id (at least
 * one); result "CONTINUE" or "ABANDON".  An action already finished or
 * expired fails with AWS_CLASS_NO_ACTIVE_ACTION.
 */
struct aws_call *asg_complete(struct aws *a, const char *group,
    const char *hook, const char *token, const char *instance_id,
    const char *result, aws_done_cb cb, void *arg);
/* Restart the hook's heartbeat timer; same rules for token/instance. */
struct aws_call *asg_heartbeat(struct aws *a, const char *group,
    const char *hook, const char *token, const char *instance_id,
    aws_done_cb cb, void *arg);

/* Strings other than the name/id are NULL when absent or malformed. */
struct asg_hook {
	const char	*name;
	const char	*transition;	/* autoscaling:EC2_INSTANCE_... */
	const char	*default_result; /* CONTINUE | ABANDON */
	unsigned	 heartbeat_timeout_s;	/* 0: absent */
	unsigned	 global_timeout_s;	/* 0: absent */
};

typedef void (*asg_hooks_cb)(const struct aws_error *err,
    const struct asg_hook *hooks, size_t n, void *arg);

struct aws_call *asg_describe_hooks(struct aws *a, const char *group,
    asg_hooks_cb cb, void *arg);

struct asg_instance {
	const char	*instance_id;
	const char	*group;
	const char	*lifecycle_state;	/* "Terminating:Wait", ... */
	const char	*health_status;		/* "Healthy", ... */
	const char	*availability_zone;	/* "eu-west-1a", ... */
	bool		 protected_from_scale_in;
};

typedef void (*asg_instances_cb)(const struct aws_error *err,
    const struct asg_instance *inst, size_t n, void *arg);

/* 1..50 ids; unknown ids are simply absent from the answer. */
struct aws_call *asg_describe_instances(struct aws *a,
    const char *const *ids, size_t n, asg_instances_cb cb, void *arg);

/*
 * SetInstanceProtection: protect (or unprotect) 1..50 instances of group
 * from the group's scale-in.  Protection never stops a Spot interruption,
 * a health replacement or a lifecycle action already under way.  An id
 * that is no longer in the group fails the whole call with
 * AWS_CLASS_UNKNOWN_INSTANCE (ValidationError "The instance ... is not
 * part of Auto Scaling group ..."); nothing is changed then.
 */
struct aws_call *asg_set_protection(struct aws *a, const char *group,
    const char *const *instance_ids, size_t n, bool protect,
    aws_done_cb cb, void *arg);

/* One group and its members (DescribeAutoScalingGroups). */
struct asg_group {
	const char		*name;
	unsigned		 min_size;
	unsigned		 max_size;
	unsigned		 desired_capacity;
	bool			 new_instances_protected;
	bool			 capacity_rebalance;
	struct asg_instance	*inst;	/* owned, with their strings */
	size_t			 n;
};

/* group NULL and err NULL: there is no such group. */
typedef void (*asg_group_cb)(const struct aws_error *err,
    const struct asg_group *group, void *arg);

/*
 * The group's membership as the group sees it now: every instance with
 * its lifecycle state, health, zone and scale-in protection (warm pool
 * instances are not listed).
 */
struct aws_call *asg_describe_group(struct aws *a, const char *group,
    asg_group_cb cb, void *arg);

/* The parsers, pure (tests, fuzzing); -EPROTO on a wrong shape. */
struct asg_hooks_result {
	struct asg_hook	*hooks;		/* owned, with their strings */
	size_t		 n;
};
int asg_parse_hooks(const char *body, size_t len,
    struct asg_hooks_result *ret);
void asg_hooks_result_finish(struct asg_hooks_result *res);

struct asg_instances_result {
	struct asg_instance *inst;	/* owned, with their strings */
	size_t		 n;
};
int asg_parse_instances(const char *body, size_t len,
    struct asg_instances_result *ret);
void asg_instances_result_finish(struct asg_instances_result *res);

/* -ENOENT when the answer holds no group of that name. */
int asg_parse_group(const char *body, size_t len, const char *group,
    struct asg_group *ret);
void asg_group_finish(struct asg_group *g);

/* Argument checks, exposed for tests. */
bool asg_group_ok(const char *group);
bool asg_hook_ok(const char *hook);
bool asg_token_ok(const char *token);

#endif
