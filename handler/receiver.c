#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "aws/sqs.h"
#include "events/envelope.h"
#include "handler/action.h"
#include "handler/audit.h"
#include "handler/backoff.h"
#include "handler/config.h"
#include "handler/ctx.h"
#include "handler/finished.h"
#include "handler/hints.h"
#include "handler/log.h"
#include "handler/metrics.h"
#include "handler/receiver.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"

#define RECEIVER_BACKOFF_BASE_MS	1000
#define RECEIVER_BACKOFF_CAP_MS		30000

struct receiver {
	struct ctx	*ctx;
	struct aws_call	*call;
	struct event	*retry;		/* owned */
	bool		 running;
	bool		 paused;	/* at max_in_flight */
	void		(*stopped)(struct ctx *);	/* when draining the
							   last poll */
	unsigned	 handing_back;	/* its messages still in flight */
	unsigned	 failures;
	int64_t		 failing_since;
};

static void receiver_poll(struct receiver *r);

/* An audit record about a message that is not (or not yet) an action. */
static void
receiver_audit(struct receiver *r, const struct envelope_result *res,
    const char *step, json_t *fields)
{
	struct audit_ctx actx = { 0 };
	int e;

	if (res != NULL) {
		if (res->kind == ENVELOPE_KIND_LIFECYCLE) {
			actx.action = res->event.token;
			actx.hook = res->event.hook;
			actx.transition = lifecycle_transition_name(
			    res->event.transition);
		}
		if (res->instance_id[0] != '\0')
			actx.instance = res->instance_id;
		if (res->group[0] != '\0')
			actx.group = res->group;
	}
	if ((e = audit_write(r->ctx->audit, &actx, step, fields)) != 0)
		log_warnx("cannot write audit record \"%s\": %s", step,
		    strerror(-e));
	json_decref(fields);
}

static void
receiver_deleted(const struct aws_error *err, void *arg)
{
	char *what = arg, text[512];

	if (err != NULL)
		log_warnx("cannot delete message %s: %s", what,
		    aws_error_str(err, text, sizeof(text)));
	free(what);
}

static void
receiver_delete(struct receiver *r, const struct sqs_message *msg)
{
	if (r->ctx->cfg->daemon.dry_run)
		return;
	sqs_delete(r->ctx->aws, r->ctx->cfg->aws.queue_url,
	    msg->receipt_handle, receiver_deleted, xstrdup(msg->message_id));
}

/* The whole body for the audit trail: as text if it is UTF-8. */
static json_t *
receiver_body_json(const struct sqs_message *msg)
{
	json_t *s = json_stringn(msg->body, msg->body_len);

	if (s != NULL)
		return json_pack("{s:o}", "body", s);
	/* not UTF-8: keep every byte, escaped */
	{
		static const char hex[] = "0123456789abcdef";
		char *esc = xmalloc(msg->body_len * 4 + 1);
		size_t i, o = 0;

		for (i = 0; i < msg->body_len; i++) {
			unsigned char c = (unsigned char)msg->body[i];

			if (c >= 0x20 && c < 0x7f && c != '\\') {
				esc[o++] = (char)c;
			} else {
				esc[o++] = '\\';
				esc[o++] = 'x';
				esc[o++] = hex[c >> 4];
				esc[o++] = hex[c & 0xf];
			}
		}
		esc[o] = '\0';
		s = json_pack("{s:s,s:b}", "body", esc, "body_escaped", 1);
		free(esc);
		return s;
	}
}

static bool
receiver_group_ours(struct receiver *r, const char *group)
{
	const struct config *cfg = r->ctx->cfg;

	if (cfg->daemon.groups == NULL || group[0] == '\0')
		return true;
	return envelope_group_allowed(group,
	    (const char *const *)cfg->daemon.groups, cfg->daemon.ngroups);
}

static void
receiver_lifecycle(struct receiver *r, const struct envelope_result *res,
    const struct sqs_message *msg)
{
	const struct lifecycle_event *ev = &res->event;
	struct action *a;

	if ((a = action_find(r->ctx, ev->token)) != NULL) {
		action_redelivered(a, msg);
		return;
	}
	if (finished_has(r->ctx->finished, ev->token, timeutil_mono_ms())) {
		/* SQS delivers at least once: this one is already done */
		log_info("%s: message for finished action %s delivered again; "
		    "deleting it", ev->instance_id, ev->token);
		receiver_audit(r, res, "duplicate", json_pack("{s:s,s:i}",
		    "message_id", msg->message_id, "receive_count",
		    (int)msg->receive_count));
		metrics_message(r->ctx->metrics, "duplicate");
		receiver_delete(r, msg);
		return;
	}
	action_start(r->ctx, ev, msg);
}

static void
receiver_message(struct receiver *r, const struct sqs_message *msg)
{
	struct envelope_result res;
	json_t *fields;

	envelope_parse(msg->body, msg->body_len, &res);
	if (!receiver_group_ours(r, res.group)) {
		log_info("message %s for group %s left alone: not in "
		    "[daemon] groups", msg->message_id, res.group);
		metrics_message(r->ctx->metrics, "ignored");
		return;
	}
	switch (res.kind) {
	case ENVELOPE_KIND_LIFECYCLE:
		receiver_lifecycle(r, &res, msg);
		return;
	case ENVELOPE_KIND_TEST:
		log_info("test notification%s%s removed",
		    res.group[0] ? " for group " : "", res.group);
		receiver_audit(r, &res, "test_notification", json_pack(
		    "{s:s}", "message_id", msg->message_id));
		metrics_message(r->ctx->metrics, "test");
		receiver_delete(r, msg);
		return;
	case ENVELOPE_KIND_SPOT_WARNING:
	case ENVELOPE_KIND_REBALANCE:
	case ENVELOPE_KIND_STATE_CHANGE:
		metrics_message(r->ctx->metrics, "hint");
		hints_message(r->ctx, &res, msg);
		receiver_delete(r, msg);
		return;
	case ENVELOPE_KIND_REJECT:
		break;
	}
	log_warnx("message %s rejected and removed: %s", msg->message_id,
	    res.reason);
	fields = receiver_body_json(msg);
	json_object_set_new(fields, "reason", json_string(res.reason));
	json_object_set_new(fields, "message_id",
	    json_string(msg->message_id));
	json_object_set_new(fields, "receive_count",
	    json_integer(msg->receive_count));
	receiver_audit(r, &res, "rejected", fields);
	metrics_message(r->ctx->metrics, "rejected");
	receiver_delete(r, msg);
}

static void
receiver_stopped(struct receiver *r)
{
	void (*done)(struct ctx *) = r->stopped;

	if (done == NULL || r->call != NULL || r->handing_back > 0)
		return;
	r->stopped = NULL;
	done(r->ctx);
}

static void
receiver_handed_back(const struct aws_error *err, void *arg)
{
	struct receiver *r = arg;
	char text[512];

	if (err != NULL)
		log_warnx("could not hand a message back: %s",
		    aws_error_str(err, text, sizeof(text)));
	r->handing_back--;
	receiver_stopped(r);
}

/* The last poll brought messages while we stop: visible again at once. */
static void
receiver_hand_back(struct receiver *r, const struct sqs_message *msgs,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		log_info("message %s arrived while stopping: handed back",
		    msgs[i].message_id);
		r->handing_back++;
		sqs_change_visibility(r->ctx->aws, r->ctx->cfg->aws.queue_url,
		    msgs[i].receipt_handle, 0, receiver_handed_back, r);
	}
}

static void
receiver_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	receiver_poll(arg);
}

static void
receiver_received(const struct aws_error *err, const struct sqs_message *msgs,
    size_t n, void *arg)
{
	struct receiver *r = arg;
	char text[512];
	struct timeval tv;
	uint32_t delay;
	size_t i;

	r->call = NULL;
	if (r->stopped != NULL) {
		if (err == NULL && !r->ctx->cfg->daemon.dry_run)
			receiver_hand_back(r, msgs, n);
		receiver_stopped(r);
		return;
	}
	if (err != NULL) {
		if (r->failures++ == 0)
			r->failing_since = timeutil_mono_ms();
		delay = backoff_full_jitter(r->failures,
		    RECEIVER_BACKOFF_BASE_MS, RECEIVER_BACKOFF_CAP_MS);
		log_warnx("ReceiveMessage failed: %s; again in %ums",
		    aws_error_str(err, text, sizeof(text)), delay);
		tv.tv_sec = delay / 1000;
		tv.tv_usec = (delay % 1000) * 1000;
		evtimer_add(r->retry, &tv);
		return;
	}
	if (r->failures > 0)
		log_info("ReceiveMessage works again");
	r->failures = 0;
	r->failing_since = 0;
	metrics_receive_ok(r->ctx->metrics, timeutil_mono_ms());
	for (i = 0; i < n; i++)
		receiver_message(r, &msgs[i]);
	receiver_poll(r);
}

static void
receiver_poll(struct receiver *r)
{
	const struct config *cfg = r->ctx->cfg;
	unsigned room, max;

	if (!r->running || r->call != NULL || evtimer_pending(r->retry, NULL))
		return;
	room = r->ctx->nactions < cfg->daemon.max_in_flight ?
	    cfg->daemon.max_in_flight - r->ctx->nactions : 0;
	if (room == 0) {
		if (!r->paused)
			log_info("%u actions open ([daemon] max_in_flight): "
			    "not receiving until one finishes",
			    r->ctx->nactions);
		r->paused = true;
		return;
	}
	r->paused = false;
	max = room < 10 ? room : 10;
	r->call = sqs_receive(r->ctx->aws, cfg->aws.queue_url, max,
	    cfg->daemon.receive_wait_s,
	    (int)(cfg->daemon.visibility_timeout_ms / 1000),
	    receiver_received, r);
}

struct receiver *
receiver_new(struct ctx *ctx)
{
	struct receiver *r = xcalloc(1, sizeof(*r));

	r->ctx = ctx;
	if ((r->retry = evtimer_new(ctx->base, receiver_retry_cb, r)) == NULL)
		fatalx("receiver: evtimer_new");
	return r;
}

void
receiver_free(struct receiver *r)
{
	if (r == NULL)
		return;
	aws_call_cancel(r->call);
	event_free(r->retry);
	free(r);
}

void
receiver_start(struct receiver *r)
{
	r->running = true;
	receiver_poll(r);
}

void
receiver_stop(struct receiver *r)
{
	if (r == NULL)
		return;
	r->running = false;
	aws_call_cancel(r->call);
	r->call = NULL;
	evtimer_del(r->retry);
}

void
receiver_stop_handing_back(struct receiver *r, void (*done)(struct ctx *))
{
	r->running = false;
	evtimer_del(r->retry);
	r->stopped = done;
	receiver_stopped(r);
}

void
receiver_capacity(struct receiver *r)
{
	if (r != NULL && r->paused)
		receiver_poll(r);
}

int64_t
receiver_failing_since(const struct receiver *r)
{
	return r->failing_since;
}
