/*
 * EC2 DescribeInstances, Query API 2016-11-15 (aws-wire.md section 4).
 */
#ifndef JL_EC2_H
#define JL_EC2_H

#include <stddef.h>

#include "aws/aws.h"

#define EC2_MAX_IDS	100

struct ec2_tag {
	const char	*key;
	const char	*value;		/* "" when empty */
};

/*
 * private_ip and public_ip are checked addresses (inet_pton), NULL when
 * absent; state is "pending", "running", ..., NULL when absent.
 */
struct ec2_instance {
	const char	*instance_id;
	const char	*state;
	const char	*private_ip;
	const char	*public_ip;
	const struct ec2_tag *tags;
	size_t		 ntags;
};

typedef void (*ec2_instances_cb)(const struct aws_error *err,
    const struct ec2_instance *inst, size_t n, void *arg);

/*
 * 1..100 ids.  Any unknown id fails the whole call with
 * InvalidInstanceID.NotFound (AWS_CLASS_UNKNOWN_INSTANCE).
 */
struct aws_call *ec2_describe_instances(struct aws *a,
    const char *const *ids, size_t n, ec2_instances_cb cb, void *arg);

/* The parser, pure (tests, fuzzing); -EPROTO on a wrong shape. */
struct ec2_instances_result {
	struct ec2_instance *inst;	/* owned, with strings and tags */
	size_t		 n;
};
int ec2_parse_instances(const char *body, size_t len,
    struct ec2_instances_result *ret);
void ec2_instances_result_finish(struct ec2_instances_result *res);

#endif
