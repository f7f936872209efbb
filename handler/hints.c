/*
 * EC2 events that are not lifecycle actions.  Spot interruption warnings
 * and rebalance recommendations name only an instance: its Auto Scaling
 * group is looked up first, so that only bridges of our groups are
 * touched.  State changes to shutting-down or terminated tell a drain in
 * progress that its bridge is gone.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/autoscaling.h"
#include "aws/aws.h"
#include "aws/sqs.h"
#include "events/envelope.h"
#include "handler/action.h"
#include "handler/audit.h"
#include "handler/config.h"
#include "handler/ctx.h"
#include "handler/hints.h"
#include "handler/log.h"
#include "handler/rebalance.h"
#include "handler/xmalloc.h"

struct hints_lookup {
	struct ctx		*ctx;
	enum envelope_kind	 kind;
	char			 instance[24];
	char			 instance_action[16];
	int64_t			 time_ms;
};

static void
hints_audit(struct ctx *ctx, const char *instance, const char *group,
    const char *step, json_t *f)
{
	struct audit_ctx actx = { .instance = instance, .group = group };
	int r;

	if ((r = audit_write(ctx->audit, &actx, step, f)) != 0)
		log_warnx("cannot write audit record \"%s\": %s", step,
		    strerror(-r));
	json_decref(f);
}

static bool
hints_group_ours(const struct ctx *ctx, const char *group)
{
	const struct config *cfg = ctx->cfg;

	if (cfg->daemon.groups == NULL)
		return true;
	return envelope_group_allowed(group,
	    (const char *const *)cfg->daemon.groups, cfg->daemon.ngroups);
}

static void
hints_group_found(const struct aws_error *err, const struct asg_instance *inst,
    size_t n, void *arg)
{
	struct hints_lookup *h = arg;
	struct ctx *ctx = h->ctx;
	const char *what = envelope_kind_name(h->kind);
	char text[512];

	if (err != NULL) {
		log_warnx("%s: %s: cannot find its Auto Scaling group: %s",
		    h->instance, what, aws_error_str(err, text, sizeof(text)));
		hints_audit(ctx, h->instance, NULL, "error", json_pack(
		    "{s:s,s:s,s:s}", "operation",
		    "DescribeAutoScalingInstances", "error", text, "for", what));
	} else if (n == 0 || inst[0].group == NULL) {
		log_info("%s: %s for an instance of no Auto Scaling group: "
		    "not ours", h->instance, what);
		hints_audit(ctx, h->instance, NULL, "ec2_notice", json_pack(
		    "{s:s,s:s}", "kind", what, "note", "not in an Auto Scaling "
		    "group: left alone"));
	} else if (!hints_group_ours(ctx, inst[0].group)) {
		log_info("%s: %s for group %s, not in [daemon] groups: left "
		    "alone", h->instance, what, inst[0].group);
	} else if (h->kind == ENVELOPE_KIND_SPOT_WARNING) {
		action_spot_warning(ctx, h->instance, inst[0].group,
		    h->time_ms, h->instance_action);
		rebalance_superseded(ctx->rebalancer, h->instance);
	} else {
		rebalance_start(ctx->rebalancer, h->instance, inst[0].group);
	}
	free(h);
}

void
hints_message(struct ctx *ctx, const struct envelope_result *res,
    const struct sqs_message *msg)
{
	const char *ids[1];
	struct hints_lookup *h;

	if (res->kind == ENVELOPE_KIND_STATE_CHANGE) {
		hints_audit(ctx, res->instance_id, NULL, "ec2_notice",
		    json_pack("{s:s,s:s,s:s}", "kind",
		    envelope_kind_name(res->kind), "message_id",
		    msg->message_id, "state", res->state));
		if (strcmp(res->state, "shutting-down") == 0 ||
		    strcmp(res->state, "terminated") == 0 ||
		    strcmp(res->state, "stopping") == 0 ||
		    strcmp(res->state, "stopped") == 0)
			action_instance_gone(ctx, res->instance_id, res->state);
		return;
	}
	/* spot warning or rebalance recommendation: whose is it? */
	h = xcalloc(1, sizeof(*h));
	h->ctx = ctx;
	h->kind = res->kind;
	h->time_ms = res->time_ms;
	snprintf(h->instance, sizeof(h->instance), "%s", res->instance_id);
	snprintf(h->instance_action, sizeof(h->instance_action), "%s",
	    res->instance_action[0] ? res->instance_action : "terminate");
	ids[0] = h->instance;
	asg_describe_instances(ctx->aws, ids, 1, hints_group_found, h);
}
