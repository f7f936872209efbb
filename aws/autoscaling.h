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
	bool		 protected_from_scale_in;
};

typedef void (*asg_instances_cb)(const struct aws_error *err,
    const struct asg_instance *inst, size_t n, void *arg);

/* 1..50 ids; unknown ids are simply absent from the answer. */
struct aws_call *asg_describe_instances(struct aws *a,
    const char *const *ids, size_t n, asg_instances_cb cb, void *arg);

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

/* Argument checks, exposed for tests. */
bool asg_group_ok(const char *group);
bool asg_hook_ok(const char *hook);
bool asg_token_ok(const char *token);

#endif
