/*
 * SQS JSON 1.0: POST / with X-Amz-Target AmazonSQS.<Op>; attribute values
 * come back as strings.  Empty long polls answer {} (moto) or no
 * "Messages": both mean zero messages.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/endpoint.h"
#include "aws/error.h"
#include "aws/request.h"
#include "aws/sqs.h"
#include "handler/http.h"
#include "handler/log.h"
#include "handler/xmalloc.h"

#define SQS_CONTENT_TYPE	"application/x-amz-json-1.0"
#define SQS_MESSAGE_ID_MAX	128
/* 10 messages of up to 1 MiB each, JSON-escaped: one big message must
 * not make every receive fail (and the queue stick) */
#define SQS_ANSWER_MAX		(16 * 1024 * 1024)

int
sqs_check_queue_url(const char *url)
{
	struct endpoint_url u;

	if (url == NULL || strlen(url) > SQS_QUEUE_URL_MAX ||
	    endpoint_parse_url(url, &u) < 0 || strcmp(u.path, "/") == 0)
		return -EINVAL;
	return 0;
}

static bool
sqs_printable(const char *s, size_t max, bool allow_space)
{
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++, n++)
		if (n >= max || (unsigned char)*s < 0x20 ||
		    (unsigned char)*s >= 0x7f || (!allow_space && *s == ' '))
			return false;
	return true;
}

int
sqs_check_receipt(const char *receipt)
{
	return sqs_printable(receipt, SQS_RECEIPT_MAX, false) ? 0 : -EINVAL;
}

/* A decimal attribute ("42"); -1 when absent or malformed. */
static int64_t
sqs_decimal(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	int64_t n = 0;

	if (json_is_integer(v))
		return json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
	if ((s = json_string_value(v)) == NULL || *s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || n > (INT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (*s - '0');
	}
	return n;
}

void
sqs_receive_result_finish(struct sqs_receive_result *res)
{
	size_t i;

	for (i = 0; i < res->n; i++) {
		free((char *)res->msgs[i].message_id);
		free((char *)res->msgs[i].receipt_handle);
		free((char *)res->msgs[i].body);
	}
	free(res->msgs);
	memset(res, 0, sizeof(*res));
}

int
sqs_parse_receive(const char *body, size_t len,
    struct sqs_receive_result *ret)
{
	struct sqs_receive_result res;
	json_t *root, *list, *m, *attrs;
	size_t i;

	memset(&res, 0, sizeof(res));
	if (len > SQS_ANSWER_MAX ||
	    (root = json_loadb(body, len, JSON_ALLOW_NUL, NULL)) == NULL)
		return -EPROTO;
	if (!json_is_object(root)) {
		json_decref(root);
		return -EPROTO;
	}
	list = json_object_get(root, "Messages");
	if (list != NULL && !json_is_array(list) && !json_is_null(list)) {
		json_decref(root);
		return -EPROTO;
	}
	if (json_array_size(list) > 0)
		res.msgs = xcalloc(json_array_size(list), sizeof(*res.msgs));
	json_array_foreach(list, i, m) {
		struct sqs_message *out = &res.msgs[res.n];
		const char *id, *rh;
		json_t *b;
		int64_t v;

		id = json_string_value(json_object_get(m, "MessageId"));
		rh = json_string_value(json_object_get(m, "ReceiptHandle"));
		b = json_object_get(m, "Body");
		if (!sqs_printable(id, SQS_MESSAGE_ID_MAX, false) ||
		    sqs_check_receipt(rh) < 0 || !json_is_string(b)) {
			res.skipped++;
			continue;
		}
		out->message_id = xstrdup(id);
		out->receipt_handle = xstrdup(rh);
		out->body_len = json_string_length(b);
		out->body = xmalloc(out->body_len + 1);
		memcpy((char *)out->body, json_string_value(b), out->body_len);
		((char *)out->body)[out->body_len] = '\0';
		attrs = json_object_get(m, "Attributes");
		if ((v = sqs_decimal(attrs, "ApproximateReceiveCount")) >= 0)
			out->receive_count = v > UINT32_MAX ? UINT32_MAX :
			    (unsigned)v;
		if ((v = sqs_decimal(attrs, "SentTimestamp")) >= 0)
			out->sent_timestamp_ms = v;
		res.n++;
	}
	json_decref(root);
	*ret = res;
	return 0;
}

void
sqs_attributes_result_finish(struct sqs_attributes_result *res)
{
	free(res->queue_arn);
	free(res->dead_letter_arn);
	memset(res, 0, sizeof(*res));
}

static char *
sqs_arn(const char *s)
{
	return sqs_printable(s, 2048, false) ? xstrdup(s) : NULL;
}

int
sqs_parse_attributes(const char *body, size_t len,
    struct sqs_attributes_result *ret)
{
	struct sqs_attributes_result res;
	json_t *root, *attrs, *redrive;
	const char *rp;

	memset(&res, 0, sizeof(res));
	if (len > SQS_ANSWER_MAX ||
	    (root = json_loadb(body, len, 0, NULL)) == NULL)
		return -EPROTO;
	attrs = json_object_get(root, "Attributes");
	if (!json_is_object(root) || (attrs != NULL &&
	    !json_is_object(attrs))) {
		json_decref(root);
		return -EPROTO;
	}
	res.attrs.visibility_timeout_s = sqs_decimal(attrs,
	    "VisibilityTimeout");
	res.attrs.receive_wait_s = sqs_decimal(attrs,
	    "ReceiveMessageWaitTimeSeconds");
	res.attrs.message_retention_s = sqs_decimal(attrs,
	    "MessageRetentionPeriod");
	res.attrs.approx_messages = sqs_decimal(attrs,
	    "ApproximateNumberOfMessages");
	res.attrs.approx_not_visible = sqs_decimal(attrs,
	    "ApproximateNumberOfMessagesNotVisible");
	res.attrs.approx_delayed = sqs_decimal(attrs,
	    "ApproximateNumberOfMessagesDelayed");
	res.attrs.max_receive_count = -1;
	res.queue_arn = sqs_arn(json_string_value(json_object_get(attrs,
	    "QueueArn")));
	/* RedrivePolicy is a JSON document inside a string */
	rp = json_string_value(json_object_get(attrs, "RedrivePolicy"));
	if (rp != NULL && (redrive = json_loads(rp, 0, NULL)) != NULL) {
		res.attrs.max_receive_count = sqs_decimal(redrive,
		    "maxReceiveCount");
		res.dead_letter_arn = sqs_arn(json_string_value(
		    json_object_get(redrive, "deadLetterTargetArn")));
		json_decref(redrive);
	}
	res.attrs.queue_arn = res.queue_arn;
	res.attrs.dead_letter_arn = res.dead_letter_arn;
	json_decref(root);
	*ret = res;
	return 0;
}

/* Serialize and start; the body is compact JSON. */
static struct aws_call *
sqs_start(struct aws *a, const char *op, const char *target, json_t *req,
    unsigned long_poll_s, request_done_cb done, request_free_cb free_arg,
    void *arg)
{
	struct request_params p;
	struct aws_call *call;
	char *body;

	if ((body = json_dumps(req, JSON_COMPACT)) == NULL)
		fatalx("json_dumps for %s", op);
	json_decref(req);
	memset(&p, 0, sizeof(p));
	p.op = op;
	p.svc = ENDPOINT_SQS;
	p.content_type = SQS_CONTENT_TYPE;
	p.target = target;
	p.body = body;
	p.body_len = strlen(body);
	if (long_poll_s > 0) {
		/* the HTTP timeout must exceed the long poll */
		p.timeout_ms = (long_poll_s + 10) * 1000;
		p.min_budget_ms = p.timeout_ms + 1000;
	}
	p.max_response = SQS_ANSWER_MAX;
	call = request_start(a, &p, done, free_arg, arg);
	free(body);
	return call;
}

static void
sqs_invalid(struct aws_error *err, const char *what)
{
	error_set(err, AWS_ERR_INVALID, AWS_CLASS_OTHER, "InvalidArgument",
	    "%s", what);
}

struct sqs_receive_ctx {
	sqs_receive_cb	 cb;
	void		*arg;
};

static void
sqs_receive_done(struct aws_call *call, const struct aws_error *err,
    const struct http_response *resp, void *arg)
{
	struct sqs_receive_ctx *ctx = arg;
	struct sqs_receive_result res;
	struct aws_error perr;

	if (err != NULL) {
		ctx->cb(err, NULL, 0, ctx->arg);
		return;
	}
	if (sqs_parse_receive(resp->body, resp->body_len, &res) < 0) {
		error_set(&perr, AWS_ERR_PARSE, AWS_CLASS_OTHER, NULL,
		    "ReceiveMessage: malformed answer");
		perr.status = resp->status;
		perr.attempts = request_attempts(call);
		ctx->cb(&perr, NULL, 0, ctx->arg);
		return;
	}
	if (res.skipped > 0)
		log_warnx("sqs: ReceiveMessage: skipped %zu malformed "
		    "message%s", res.skipped, res.skipped == 1 ? "" : "s");
	ctx->cb(NULL, res.msgs, res.n, ctx->arg);
	sqs_receive_result_finish(&res);
}

struct aws_call *
sqs_receive(struct aws *a, const char *queue_url, unsigned max_messages,
    unsigned wait_s, int visibility_s, sqs_receive_cb cb, void *arg)
{
	struct sqs_receive_ctx *ctx = xmalloc(sizeof(*ctx));
	struct aws_error err;
	json_t *req;

	ctx->cb = cb;
	ctx->arg = arg;
	if (sqs_check_queue_url(queue_url) < 0 || max_messages < 1 ||
	    max_messages > SQS_MAX_MESSAGES || wait_s > SQS_MAX_WAIT_S ||
	    visibility_s < -1 || visibility_s > SQS_MAX_VISIBILITY_S) {
		sqs_invalid(&err, "ReceiveMessage: bad queue URL or limits");
		return request_fail(a, "ReceiveMessage", &err,
		    sqs_receive_done, free, ctx);
	}
	req = json_pack("{s:s, s:I, s:I, s:[s, s], s:[s, s]}",
	    "QueueUrl", queue_url,
	    "MaxNumberOfMessages", (json_int_t)max_messages,
	    "WaitTimeSeconds", (json_int_t)wait_s,
	    "MessageSystemAttributeNames", "ApproximateReceiveCount",
	    "SentTimestamp",
	    /* the deprecated name, for endpoints that predate the new one */
	    "AttributeNames", "ApproximateReceiveCount", "SentTimestamp");
	if (req == NULL)
		fatalx("json_pack ReceiveMessage");
	if (visibility_s >= 0)
		json_object_set_new(req, "VisibilityTimeout",
		    json_integer(visibility_s));
	return sqs_start(a, "ReceiveMessage", "AmazonSQS.ReceiveMessage", req,
	    wait_s, sqs_receive_done, free, ctx);
}

static struct aws_call *
sqs_simple(struct aws *a, const char *op, const char *target, json_t *req,
    aws_done_cb cb, void *arg)
{
	struct request_params p;
	struct aws_call *call;
	char *body;

	if ((body = json_dumps(req, JSON_COMPACT)) == NULL)
		fatalx("json_dumps for %s", op);
	json_decref(req);
	memset(&p, 0, sizeof(p));
	p.op = op;
	p.svc = ENDPOINT_SQS;
	p.content_type = SQS_CONTENT_TYPE;
	p.target = target;
	p.body = body;
	p.body_len = strlen(body);
	call = request_start_simple(a, &p, cb, arg);
	free(body);
	return call;
}

struct aws_call *
sqs_delete(struct aws *a, const char *queue_url, const char *receipt,
    aws_done_cb cb, void *arg)
{
	struct aws_error err;
	json_t *req;

	if (sqs_check_queue_url(queue_url) < 0 ||
	    sqs_check_receipt(receipt) < 0) {
		sqs_invalid(&err, "DeleteMessage: bad queue URL or receipt "
		    "handle");
		return request_fail_simple(a, "DeleteMessage", &err, cb, arg);
	}
	if ((req = json_pack("{s:s, s:s}", "QueueUrl", queue_url,
	    "ReceiptHandle", receipt)) == NULL)
		fatalx("json_pack DeleteMessage");
	return sqs_simple(a, "DeleteMessage", "AmazonSQS.DeleteMessage", req,
	    cb, arg);
}

struct aws_call *
sqs_change_visibility(struct aws *a, const char *queue_url,
    const char *receipt, unsigned timeout_s, aws_done_cb cb, void *arg)
{
	struct aws_error err;
	json_t *req;

	if (sqs_check_queue_url(queue_url) < 0 ||
	    sqs_check_receipt(receipt) < 0 ||
	    timeout_s > SQS_MAX_VISIBILITY_S) {
		sqs_invalid(&err, "ChangeMessageVisibility: bad queue URL, "
		    "receipt handle or timeout");
		return request_fail_simple(a, "ChangeMessageVisibility", &err,
		    cb, arg);
	}
	if ((req = json_pack("{s:s, s:s, s:I}", "QueueUrl", queue_url,
	    "ReceiptHandle", receipt, "VisibilityTimeout",
	    (json_int_t)timeout_s)) == NULL)
		fatalx("json_pack ChangeMessageVisibility");
	return sqs_simple(a, "ChangeMessageVisibility",
	    "AmazonSQS.ChangeMessageVisibility", req, cb, arg);
}

struct sqs_attributes_ctx {
	sqs_attributes_cb	 cb;
	void			*arg;
};

static void
sqs_attributes_done(struct aws_call *call, const struct aws_error *err,
    const struct http_response *resp, void *arg)
{
	struct sqs_attributes_ctx *ctx = arg;
	struct sqs_attributes_result res;
	struct aws_error perr;

	if (err != NULL) {
		ctx->cb(err, NULL, ctx->arg);
		return;
	}
	if (sqs_parse_attributes(resp->body, resp->body_len, &res) < 0) {
		error_set(&perr, AWS_ERR_PARSE, AWS_CLASS_OTHER, NULL,
		    "GetQueueAttributes: malformed answer");
		perr.status = resp->status;
		perr.attempts = request_attempts(call);
		ctx->cb(&perr, NULL, ctx->arg);
		return;
	}
	ctx->cb(NULL, &res.attrs, ctx->arg);
	sqs_attributes_result_finish(&res);
}

struct aws_call *
sqs_get_queue_attributes(struct aws *a, const char *queue_url,
    sqs_attributes_cb cb, void *arg)
{
	struct sqs_attributes_ctx *ctx = xmalloc(sizeof(*ctx));
	struct aws_error err;
	json_t *req;

	ctx->cb = cb;
	ctx->arg = arg;
	if (sqs_check_queue_url(queue_url) < 0) {
		sqs_invalid(&err, "GetQueueAttributes: bad queue URL");
		return request_fail(a, "GetQueueAttributes", &err,
		    sqs_attributes_done, free, ctx);
	}
	if ((req = json_pack("{s:s, s:[s]}", "QueueUrl", queue_url,
	    "AttributeNames", "All")) == NULL)
		fatalx("json_pack GetQueueAttributes");
	return sqs_start(a, "GetQueueAttributes",
	    "AmazonSQS.GetQueueAttributes", req, 0, sqs_attributes_done, free,
	    ctx);
}
