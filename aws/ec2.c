#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aws/ec2.h"
#include "aws/endpoint.h"
#include "aws/error.h"
#include "aws/query.h"
#include "aws/request.h"
#include "aws/xml.h"
#include "handler/buf.h"
#include "handler/http.h"
#include "handler/xmalloc.h"

#define EC2_VERSION		"2016-11-15"
#define EC2_MAX_INSTANCES	1000
#define EC2_MAX_TAGS		50
#define EC2_TAG_KEY_MAX		128
#define EC2_TAG_VALUE_MAX	256

static char *
ec2_ip(const char *s)
{
	unsigned char a[16];

	if (s == NULL || strlen(s) > 45)
		return NULL;
	if (inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1)
		return xstrdup(s);
	return NULL;
}

static char *
ec2_word(const char *s)
{
	size_t n;

	if (s == NULL || *s == '\0')
		return NULL;
	n = strspn(s, "abcdefghijklmnopqrstuvwxyz-");
	return s[n] == '\0' && n <= 32 ? xstrdup(s) : NULL;
}

void
ec2_instances_result_finish(struct ec2_instances_result *res)
{
	size_t i, j;

	for (i = 0; i < res->n; i++) {
		struct ec2_instance *in = &res->inst[i];

		free((char *)in->instance_id);
		free((char *)in->state);
		free((char *)in->private_ip);
		free((char *)in->public_ip);
		for (j = 0; j < in->ntags; j++) {
			free((char *)in->tags[j].key);
			free((char *)in->tags[j].value);
		}
		free((struct ec2_tag *)in->tags);
	}
	free(res->inst);
	memset(res, 0, sizeof(*res));
}

static void
ec2_parse_tags(const struct xml_node *item, struct ec2_instance *in)
{
	const struct xml_node *t;
	struct ec2_tag *tags = NULL;
	size_t n = 0;

	for (t = xml_child(xml_child(item, "tagSet"), "item"); t != NULL;
	    t = xml_next(t)) {
		const char *k = xml_path_text(t, "key");
		const char *v = xml_path_text(t, "value");

		if (!query_text_ok(k, EC2_TAG_KEY_MAX, true) ||
		    n >= EC2_MAX_TAGS)
			continue;
		if (v == NULL || (*v != '\0' &&
		    !query_text_ok(v, EC2_TAG_VALUE_MAX, true)))
			v = "";
		tags = xreallocarray(tags, n + 1, sizeof(*tags));
		tags[n].key = xstrdup(k);
		tags[n].value = xstrdup(v);
		n++;
	}
	in->tags = tags;
	in->ntags = n;
}

int
ec2_parse_instances(const char *body, size_t len,
    struct ec2_instances_result *ret)
{
	struct ec2_instances_result res;
	struct xml_node *root;
	const struct xml_node *rsv, *item;

	if (xml_parse(body, len, &root) < 0)
		return -EPROTO;
	if (strcmp(root->name, "DescribeInstancesResponse") != 0) {
		xml_free(root);
		return -EPROTO;
	}
	memset(&res, 0, sizeof(res));
	for (rsv = xml_child(xml_child(root, "reservationSet"), "item");
	    rsv != NULL; rsv = xml_next(rsv)) {
		for (item = xml_child(xml_child(rsv, "instancesSet"), "item");
		    item != NULL; item = xml_next(item)) {
			struct ec2_instance *in;
			const char *id = xml_path_text(item, "instanceId");

			if (!query_instance_id_ok(id) ||
			    res.n >= EC2_MAX_INSTANCES)
				continue;
			res.inst = xreallocarray(res.inst, res.n + 1,
			    sizeof(*res.inst));
			in = &res.inst[res.n++];
			memset(in, 0, sizeof(*in));
			in->instance_id = xstrdup(id);
			in->state = ec2_word(xml_path_text(item,
			    "instanceState/name"));
			/* the instance's own child, not the interfaces' */
			in->private_ip = ec2_ip(xml_path_text(item,
			    "privateIpAddress"));
			in->public_ip = ec2_ip(xml_path_text(item,
			    "ipAddress"));
			ec2_parse_tags(item, in);
		}
	}
	xml_free(root);
	*ret = res;
	return 0;
}

struct ec2_ctx {
	ec2_instances_cb cb;
	void		*arg;
};

static void
ec2_done(struct aws_call *call, const struct aws_error *err,
    const struct http_response *resp, void *arg)
{
	struct ec2_ctx *ctx = arg;
	struct ec2_instances_result res;
	struct aws_error perr;

	if (err != NULL) {
		ctx->cb(err, NULL, 0, ctx->arg);
		return;
	}
	if (ec2_parse_instances(resp->body, resp->body_len, &res) < 0) {
		error_set(&perr, AWS_ERR_PARSE, AWS_CLASS_OTHER, NULL,
		    "DescribeInstances: malformed answer");
		perr.status = resp->status;
		perr.attempts = request_attempts(call);
		ctx->cb(&perr, NULL, 0, ctx->arg);
		return;
	}
	ctx->cb(NULL, res.inst, res.n, ctx->arg);
	ec2_instances_result_finish(&res);
}

struct aws_call *
ec2_describe_instances(struct aws *a, const char *const *ids, size_t n,
    ec2_instances_cb cb, void *arg)
{
	struct ec2_ctx *ctx = xmalloc(sizeof(*ctx));
	struct request_params p;
	struct aws_error err;
	struct aws_call *call;
	struct buf b;
	size_t i;
	bool ok = ids != NULL && n >= 1 && n <= EC2_MAX_IDS;

	ctx->cb = cb;
	ctx->arg = arg;
	for (i = 0; ok && i < n; i++)
		ok = query_instance_id_ok(ids[i]);
	if (!ok) {
		/* what EC2 itself answers for a malformed id */
		error_set(&err, AWS_ERR_INVALID, AWS_CLASS_UNKNOWN_INSTANCE,
		    "InvalidInstanceID.Malformed", "DescribeInstances: need "
		    "1 to %d well-formed instance ids", EC2_MAX_IDS);
		return request_fail(a, "DescribeInstances", &err, ec2_done,
		    free, ctx);
	}
	buf_init(&b);
	query_init(&b, "DescribeInstances", EC2_VERSION);
	query_add_list(&b, "InstanceId", ids, n);
	memset(&p, 0, sizeof(p));
	p.op = "DescribeInstances";
	p.svc = ENDPOINT_EC2;
	p.content_type = QUERY_CONTENT_TYPE;
	p.body = b.data;
	p.body_len = b.len;
	call = request_start(a, &p, ec2_done, free, ctx);
	buf_finish(&b);
	return call;
}
