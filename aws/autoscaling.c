#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aws/autoscaling.h"
#include "aws/endpoint.h"
#include "aws/error.h"
#include "aws/query.h"
#include "aws/request.h"
#include "aws/xml.h"
#include "handler/buf.h"
#include "handler/http.h"
#include "handler/xmalloc.h"

#define ASG_VERSION		"2011-01-01"
#define ASG_GROUP_MAX		1600
#define ASG_HOOK_MAX		255
#define ASG_FIELD_MAX		1600
#define ASG_MAX_HOOKS		100
#define ASG_MAX_INSTANCES	1000

bool
asg_group_ok(const char *group)
{
	return query_text_ok(group, ASG_GROUP_MAX, true);
}

bool
asg_hook_ok(const char *hook)
{
	size_t n;

	if (hook == NULL || *hook == '\0')
		return false;
	n = strspn(hook, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_/");
	return hook[n] == '\0' && n <= ASG_HOOK_MAX;
}

bool
asg_token_ok(const char *token)
{
	size_t i;

	if (token == NULL || strlen(token) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		char c = token[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (!((c >= '0' && c <= '9') ||
		    (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

static struct aws_call *
asg_send_simple(struct aws *a, const char *op, struct buf *body,
    aws_done_cb cb, void *arg)
{
	struct request_params p;
	struct aws_call *call;

	memset(&p, 0, sizeof(p));
	p.op = op;
	p.svc = ENDPOINT_AUTOSCALING;
	p.content_type = QUERY_CONTENT_TYPE;
	p.body = body->data;
	p.body_len = body->len;
	call = request_start_simple(a, &p, cb, arg);
	buf_finish(body);
	return call;
}

static bool
asg_action_args_ok(const char *group, const char *hook, const char *token,
    const char *instance_id)
{
	return asg_group_ok(group) && asg_hook_ok(hook) &&
	    (token != NULL || instance_id != NULL) &&
	    (token == NULL || asg_token_ok(token)) &&
	    (instance_id == NULL || query_instance_id_ok(instance_id));
}

static void
asg_action_body(struct buf *b, const char *action, const char *group,
    const char *hook, const char *token, const char *instance_id)
{
	buf_init(b);
	query_init(b, action, ASG_VERSION);
	query_add(b, "AutoScalingGroupName", group);
	query_add(b, "LifecycleHookName", hook);
	if (token != NULL)
		query_add(b, "LifecycleActionToken", token);
	if (instance_id != NULL)
		query_add(b, "InstanceId", instance_id);
}

struct aws_call *
asg_complete(struct aws *a, const char *group, const char *hook,
    const char *token, const char *instance_id, const char *result,
    aws_done_cb cb, void *arg)
{
	struct aws_error err;
	struct buf b;

	if (!asg_action_args_ok(group, hook, token, instance_id) ||
	    result == NULL || (strcmp(result, "CONTINUE") != 0 &&
	    strcmp(result, "ABANDON") != 0)) {
		error_set(&err, AWS_ERR_INVALID, AWS_CLASS_OTHER,
		    "InvalidArgument", "CompleteLifecycleAction: bad group, "
		    "hook, token, instance id or result");
		return request_fail_simple(a, "CompleteLifecycleAction", &err,
		    cb, arg);
	}
	asg_action_body(&b, "CompleteLifecycleAction", group, hook, token,
	    instance_id);
	query_add(&b, "LifecycleActionResult", result);
	return asg_send_simple(a, "CompleteLifecycleAction", &b, cb, arg);
}

struct aws_call *
asg_heartbeat(struct aws *a, const char *group, const char *hook,
    const char *token, const char *instance_id, aws_done_cb cb, void *arg)
{
	struct aws_error err;
	struct buf b;

	if (!asg_action_args_ok(group, hook, token, instance_id)) {
		error_set(&err, AWS_ERR_INVALID, AWS_CLASS_OTHER,
		    "InvalidArgument", "RecordLifecycleActionHeartbeat: bad "
		    "group, hook, token or instance id");
		return request_fail_simple(a, "RecordLifecycleActionHeartbeat",
		    &err, cb, arg);
	}
	asg_action_body(&b, "RecordLifecycleActionHeartbeat", group, hook,
	    token, instance_id);
	return asg_send_simple(a, "RecordLifecycleActionHeartbeat", &b, cb,
	    arg);
}

/* A copy of the text at path below n if it is sane, else NULL. */
static char *
asg_text(const struct xml_node *n, const char *path)
{
	const char *s = xml_path_text(n, path);

	return query_text_ok(s, ASG_FIELD_MAX, true) ? xstrdup(s) : NULL;
}

static unsigned
asg_uint(const struct xml_node *n, const char *path)
{
	int64_t v = query_decimal(xml_path_text(n, path));

	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (unsigned)v;
}

void
asg_hooks_result_finish(struct asg_hooks_result *res)
{
	size_t i;

	for (i = 0; i < res->n; i++) {
		free((char *)res->hooks[i].name);
		free((char *)res->hooks[i].transition);
		free((char *)res->hooks[i].default_result);
	}
	free(res->hooks);
	memset(res, 0, sizeof(*res));
}

int
asg_parse_hooks(const char *body, size_t len, struct asg_hooks_result *ret)
{
	struct asg_hooks_result res;
	struct xml_node *root;
	const struct xml_node *list, *m;
	int r;

	if ((r = xml_parse(body, len, &root)) < 0)
		return -EPROTO;
	if (strcmp(root->name, "DescribeLifecycleHooksResponse") != 0) {
		xml_free(root);
		return -EPROTO;
	}
	memset(&res, 0, sizeof(res));
	list = xml_path(root, "DescribeLifecycleHooksResult/LifecycleHooks");
	for (m = xml_child(list, "member"); m != NULL; m = xml_next(m)) {
		struct asg_hook *h;
		char *name = asg_text(m, "LifecycleHookName");

		if (name == NULL || !asg_hook_ok(name) ||
		    res.n >= ASG_MAX_HOOKS) {
			free(name);
			continue;
		}
		res.hooks = xreallocarray(res.hooks, res.n + 1,
		    sizeof(*res.hooks));
		h = &res.hooks[res.n++];
		h->name = name;
		h->transition = asg_text(m, "LifecycleTransition");
		h->default_result = asg_text(m, "DefaultResult");
		h->heartbeat_timeout_s = asg_uint(m, "HeartbeatTimeout");
		h->global_timeout_s = asg_uint(m, "GlobalTimeout");
	}
	xml_free(root);
	*ret = res;
	return 0;
}

static void
asg_instance_clear(struct asg_instance *in)
{
	free((char *)in->instance_id);
	free((char *)in->group);
	free((char *)in->lifecycle_state);
	free((char *)in->health_status);
	free((char *)in->availability_zone);
}

void
asg_instances_result_finish(struct asg_instances_result *res)
{
	size_t i;

	for (i = 0; i < res->n; i++)
		asg_instance_clear(&res->inst[i]);
	free(res->inst);
	memset(res, 0, sizeof(*res));
}

static bool
asg_bool(const struct xml_node *n, const char *path)
{
	const char *s = xml_path_text(n, path);

	return s != NULL && strcmp(s, "true") == 0;
}

/*
 * Append the instance described by member m (an AutoScalingInstances or
 * Instances member) unless its id is malformed or the list is full.
 * group: the group's name when m does not carry it.
 */
static void
asg_add_instance(struct asg_instance **list, size_t *n,
    const struct xml_node *m, const char *group)
{
	struct asg_instance *in;
	const char *id = xml_path_text(m, "InstanceId");

	if (!query_instance_id_ok(id) || *n >= ASG_MAX_INSTANCES)
		return;
	*list = xreallocarray(*list, *n + 1, sizeof(**list));
	in = &(*list)[(*n)++];
	in->instance_id = xstrdup(id);
	in->group = group != NULL ? xstrdup(group) :
	    asg_text(m, "AutoScalingGroupName");
	in->lifecycle_state = asg_text(m, "LifecycleState");
	in->health_status = asg_text(m, "HealthStatus");
	in->availability_zone = asg_text(m, "AvailabilityZone");
	in->protected_from_scale_in = asg_bool(m, "ProtectedFromScaleIn");
}

int
asg_parse_instances(const char *body, size_t len,
    struct asg_instances_result *ret)
{
	struct asg_instances_result res;
	struct xml_node *root;
	const struct xml_node *list, *m;

	if (xml_parse(body, len, &root) < 0)
		return -EPROTO;
	if (strcmp(root->name, "DescribeAutoScalingInstancesResponse") != 0) {
		xml_free(root);
		return -EPROTO;
	}
	memset(&res, 0, sizeof(res));
	list = xml_path(root, "DescribeAutoScalingInstancesResult/"
	    "AutoScalingInstances");
	for (m = xml_child(list, "member"); m != NULL; m = xml_next(m))
		asg_add_instance(&res.inst, &res.n, m, NULL);
	xml_free(root);
	*ret = res;
	return 0;
}

void
asg_group_finish(struct asg_group *g)
{
	size_t i;

	free((char *)g->name);
	for (i = 0; i < g->n; i++)
		asg_instance_clear(&g->inst[i]);
	free(g->inst);
	memset(g, 0, sizeof(*g));
}

int
asg_parse_group(const char *body, size_t len, const char *group,
    struct asg_group *ret)
{
	struct asg_group g;
	struct xml_node *root;
	const struct xml_node *list, *m, *im;
	const char *name;

	if (xml_parse(body, len, &root) < 0)
		return -EPROTO;
	if (strcmp(root->name, "DescribeAutoScalingGroupsResponse") != 0) {
		xml_free(root);
		return -EPROTO;
	}
	list = xml_path(root, "DescribeAutoScalingGroupsResult/"
	    "AutoScalingGroups");
	/* We ask for one name; anything else in the answer is ignored. */
	for (m = xml_child(list, "member"); m != NULL; m = xml_next(m)) {
		name = xml_path_text(m, "AutoScalingGroupName");
		if (name != NULL && group != NULL && strcmp(name, group) == 0)
			break;
	}
	if (m == NULL || !asg_group_ok(group)) {
		xml_free(root);
		return -ENOENT;
	}
	memset(&g, 0, sizeof(g));
	g.name = xstrdup(group);
	g.min_size = asg_uint(m, "MinSize");
	g.max_size = asg_uint(m, "MaxSize");
	g.desired_capacity = asg_uint(m, "DesiredCapacity");
	g.new_instances_protected = asg_bool(m,
	    "NewInstancesProtectedFromScaleIn");
	g.capacity_rebalance = asg_bool(m, "CapacityRebalance");
	for (im = xml_child(xml_child(m, "Instances"), "member"); im != NULL;
	    im = xml_next(im))
		asg_add_instance(&g.inst, &g.n, im, group);
	xml_free(root);
	*ret = g;
	return 0;
}

struct asg_hooks_ctx {
	asg_hooks_cb	 cb;
	void		*arg;
};

static void
asg_parse_error(struct aws_error *err, struct aws_call *call,
    const struct http_response *resp, const char *op);

static void
asg_hooks_done(struct aws_call *call, const struct aws_error *err,
    const struct http_response *resp, void *arg)
{
	struct asg_hooks_ctx *ctx = arg;
	struct asg_hooks_result res;
	struct aws_error perr;

	if (err != NULL) {
		ctx->cb(err, NULL, 0, ctx->arg);
		return;
	}
	if (asg_parse_hooks(resp->body, resp->body_len, &res) < 0) {
		asg_parse_error(&perr, call, resp, "DescribeLifecycleHooks");
		ctx->cb(&perr, NULL, 0, ctx->arg);
		return;
	}
	ctx->cb(NULL, res.hooks, res.n, ctx->arg);
	asg_hooks_result_finish(&res);
}

static void
asg_parse_error(struct aws_error *err, struct aws_call *call,
    const struct http_response *resp, const char *op)
{
	error_set(err, AWS_ERR_PARSE, AWS_CLASS_OTHER, NULL,
	    "%s: malformed answer", op);
	err->status = resp->status;
	err->attempts = request_attempts(call);
}

static struct aws_call *
asg_send_ctx(struct aws *a, const char *op, struct buf *body,
    request_done_cb done, request_free_cb free_ctx, void *ctx)
{
	struct request_params p;
	struct aws_call *call;

	memset(&p, 0, sizeof(p));
	p.op = op;
	p.svc = ENDPOINT_AUTOSCALING;
	p.content_type = QUERY_CONTENT_TYPE;
	p.body = body->data;
	p.body_len = body->len;
	call = request_start(a, &p, done, free_ctx, ctx);
	buf_finish(body);
	return call;
}

static struct aws_call *
asg_send(struct aws *a, const char *op, struct buf *body,
    request_done_cb done, void *ctx)
{
	return asg_send_ctx(a, op, body, done, free, ctx);
}

struct aws_call *
asg_describe_hooks(struct aws *a, const char *group, asg_hooks_cb cb,
    void *arg)
{
	struct asg_hooks_ctx *ctx = xmalloc(sizeof(*ctx));
	struct aws_error err;
	struct buf b;

	ctx->cb = cb;
	ctx->arg = arg;
	if (!asg_group_ok(group)) {
		error_set(&err, AWS_ERR_INVALID, AWS_CLASS_OTHER,
		    "InvalidArgument", "DescribeLifecycleHooks: bad group");
		return request_fail(a, "DescribeLifecycleHooks", &err,
		    asg_hooks_done, free, ctx);
	}
	buf_init(&b);
	query_init(&b, "DescribeLifecycleHooks", ASG_VERSION);
	query_add(&b, "AutoScalingGroupName", group);
	return asg_send(a, "DescribeLifecycleHooks", &b, asg_hooks_done, ctx);
}

struct asg_instances_ctx {
	asg_instances_cb cb;
	void		*arg;
};

static void
asg_instances_done(struct aws_call *call, const struct aws_error *err,
    const struct http_response *resp, void *arg)
{
	struct asg_instances_ctx *ctx = arg;
	struct asg_instances_result res;
	struct aws_error perr;

	if (err != NULL) {
		ctx->cb(err, NULL, 0, ctx->arg);
		return;
	}
	if (asg_parse_instances(resp->body, resp->body_len, &res) < 0) {
		asg_parse_error(&perr, call, resp,
		    "DescribeAutoScalingInstances");
		ctx->cb(&perr, NULL, 0, ctx->arg);
		return;
	}
	ctx->cb(NULL, res.inst, res.n, ctx->arg);
	asg_instances_result_finish(&res);
}

struct aws_call *
asg_describe_instances(struct aws *a, const char *const *ids, size_t n,
    asg_instances_cb cb, void *arg)
{
	struct asg_instances_ctx *ctx = xmalloc(sizeof(*ctx));
	struct aws_error err;
	struct buf b;
	size_t i;
	bool ok = ids != NULL && n >= 1 && n <= ASG_MAX_IDS;

	ctx->cb = cb;
	ctx->arg = arg;
	for (i = 0; ok && i < n; i++)
		ok = query_instance_id_ok(ids[i]);
	if (!ok) {
		error_set(&err, AWS_ERR_INVALID, AWS_CLASS_OTHER,
		    "InvalidArgument", "DescribeAutoScalingInstances: need "
		    "1 to %d well-formed instance ids", ASG_MAX_IDS);
		return request_fail(a, "DescribeAutoScalingInstances", &err,
		    asg_instances_done, free, ctx);
	}
	buf_init(&b);
	query_init(&b, "DescribeAutoScalingInstances", ASG_VERSION);
	query_add_list(&b, "InstanceIds.member", ids, n);
	query_add(&b, "MaxRecords", "50");
	return asg_send(a, "DescribeAutoScalingInstances", &b,
	    asg_instances_done, ctx);
}

/*
 * A member that left the group is a race the caller can act on (read the
 * membership again), not a bug: tell it apart.
 */
struct asg_protect_ctx {
	aws_done_cb	 cb;
	void		*arg;
};

static void
asg_protect_done(struct aws_call *call, const struct aws_error *err,
    const struct http_response *resp, void *arg)
{
	struct asg_protect_ctx *ctx = arg;
	struct aws_error e;

	(void)call;
	(void)resp;
	if (err == NULL) {
		ctx->cb(NULL, ctx->arg);
		return;
	}
	e = *err;
	if (e.kind == AWS_ERR_SERVICE &&
	    strcmp(e.code, "ValidationError") == 0 &&
	    strstr(e.message, "is not part of Auto Scaling group") != NULL)
		e.cls = AWS_CLASS_UNKNOWN_INSTANCE;
	ctx->cb(&e, ctx->arg);
}

struct aws_call *
asg_set_protection(struct aws *a, const char *group,
    const char *const *instance_ids, size_t n, bool protect,
    aws_done_cb cb, void *arg)
{
	struct asg_protect_ctx *ctx = xmalloc(sizeof(*ctx));
	struct aws_error err;
	struct buf b;
	size_t i;
	bool ok = asg_group_ok(group) && instance_ids != NULL && n >= 1 &&
	    n <= ASG_MAX_IDS;

	ctx->cb = cb;
	ctx->arg = arg;
	for (i = 0; ok && i < n; i++)
		ok = query_instance_id_ok(instance_ids[i]);
	if (!ok) {
		error_set(&err, AWS_ERR_INVALID, AWS_CLASS_OTHER,
		    "InvalidArgument", "SetInstanceProtection: need a group "
		    "and 1 to %d well-formed instance ids", ASG_MAX_IDS);
		return request_fail(a, "SetInstanceProtection", &err,
		    asg_protect_done, free, ctx);
	}
	buf_init(&b);
	query_init(&b, "SetInstanceProtection", ASG_VERSION);
	query_add(&b, "AutoScalingGroupName", group);
	query_add_list(&b, "InstanceIds.member", instance_ids, n);
	query_add(&b, "ProtectedFromScaleIn", protect ? "true" : "false");
	return asg_send(a, "SetInstanceProtection", &b, asg_protect_done,
	    ctx);
}

struct asg_group_ctx {
	asg_group_cb	 cb;
	void		*arg;
	char		*group;		/* owned */
};

static void
asg_group_ctx_free(void *arg)
{
	struct asg_group_ctx *ctx = arg;

	free(ctx->group);
	free(ctx);
}

static void
asg_group_done(struct aws_call *call, const struct aws_error *err,
    const struct http_response *resp, void *arg)
{
	struct asg_group_ctx *ctx = arg;
	struct asg_group g;
	struct aws_error perr;
	int r;

	if (err != NULL) {
		ctx->cb(err, NULL, ctx->arg);
		return;
	}
	r = asg_parse_group(resp->body, resp->body_len, ctx->group, &g);
	if (r == -ENOENT) {
		ctx->cb(NULL, NULL, ctx->arg);
		return;
	}
	if (r < 0) {
		asg_parse_error(&perr, call, resp,
		    "DescribeAutoScalingGroups");
		ctx->cb(&perr, NULL, ctx->arg);
		return;
	}
	ctx->cb(NULL, &g, ctx->arg);
	asg_group_finish(&g);
}

struct aws_call *
asg_describe_group(struct aws *a, const char *group, asg_group_cb cb,
    void *arg)
{
	struct asg_group_ctx *ctx = xmalloc(sizeof(*ctx));
	struct aws_error err;
	struct buf b;

	ctx->cb = cb;
	ctx->arg = arg;
	ctx->group = NULL;
	if (!asg_group_ok(group)) {
		error_set(&err, AWS_ERR_INVALID, AWS_CLASS_OTHER,
		    "InvalidArgument", "DescribeAutoScalingGroups: bad group");
		return request_fail(a, "DescribeAutoScalingGroups", &err,
		    asg_group_done, asg_group_ctx_free, ctx);
	}
	ctx->group = xstrdup(group);
	buf_init(&b);
	query_init(&b, "DescribeAutoScalingGroups", ASG_VERSION);
	query_add(&b, "AutoScalingGroupNames.member.1", group);
	return asg_send_ctx(a, "DescribeAutoScalingGroups", &b,
	    asg_group_done, asg_group_ctx_free, ctx);
}
