#include <jansson.h>
#include <string.h>

#include "aws/sqs.h"
#include "events/envelope.h"
#include "handler/audit.h"
#include "handler/ctx.h"
#include "handler/hints.h"
#include "handler/log.h"

/* Until spot and rebalance handling lands, say plainly what was seen. */
void
hints_message(struct ctx *ctx, const struct envelope_result *res,
    const struct sqs_message *msg)
{
	struct audit_ctx actx = { .instance = res->instance_id };
	json_t *f;
	int r;

	f = json_pack("{s:s,s:s,s:s?,s:s?}", "kind",
	    envelope_kind_name(res->kind), "message_id", msg->message_id,
	    "instance_action", res->instance_action[0] ?
	    res->instance_action : NULL, "state", res->state[0] ? res->state :
	    NULL);
	log_info("%s: %s notice noted (no action taken)", res->instance_id,
	    envelope_kind_name(res->kind));
	if ((r = audit_write(ctx->audit, &actx, "ec2_notice", f)) != 0)
		log_warnx("cannot write audit record: %s", strerror(-r));
	json_decref(f);
}
