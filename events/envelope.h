/*
 * From an SQS message body to what the daemon should do with it.
 *
 * Recognised bodies (shapes in shared/docs/aws-wire.md section 1):
 *   - a lifecycle hook notification sent straight to SQS, or by SNS with
 *     raw delivery on (the bare object);
 *   - the same wrapped by SNS (raw delivery off): a "Notification" whose
 *     Message is the lifecycle object encoded as a JSON string;
 *   - an EventBridge event: aws.autoscaling "EC2 Instance-launch Lifecycle
 *     Action" / "EC2 Instance-terminate Lifecycle Action", aws.ec2 "EC2 Spot
 *     Instance Interruption Warning", "EC2 Instance Rebalance
 *     Recommendation" and "EC2 Instance State-change Notification" (also
 *     when an EventBridge rule feeds SNS and SNS feeds the queue);
 *   - autoscaling:TEST_NOTIFICATION, direct or inside SNS.
 * Everything else is ENVELOPE_KIND_REJECT with a reason.
 *
 * Rules: bodies over the SQS limit are refused unparsed; duplicate keys are
 * refused (a lifecycle message never has them, so they mean tampering or a
 * broken producer); unknown extra fields are fine; every field read is
 * type-checked and validated; field order never matters.
 *
 * Pure: no I/O, no globals, logs nothing.
 */
#ifndef JL_EVENTS_ENVELOPE_H
#define JL_EVENTS_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events/lifecycle.h"

/* The SQS message size limit (256 KiB); larger bodies are not parsed. */
#define ENVELOPE_MAX_BODY	(256 * 1024)
#define ENVELOPE_REASON_MAX	255

enum envelope_kind {
	/* A lifecycle action: act on it (result.event). */
	ENVELOPE_KIND_LIFECYCLE,
	/* autoscaling:TEST_NOTIFICATION: delete it (result.group if known). */
	ENVELOPE_KIND_TEST,
	/* EC2 Spot Instance Interruption Warning: instance_id,
	 * instance_action; no group (the daemon looks it up). */
	ENVELOPE_KIND_SPOT_WARNING,
	/* EC2 Instance Rebalance Recommendation: instance_id; no group. */
	ENVELOPE_KIND_REBALANCE,
	/*
	 * EC2 Instance State-change Notification: instance_id and state.
	 * Valid but not for us as an action: audit it as such and delete
	 * it.  The daemon may use a "shutting-down"/"terminated" for an
	 * instance it is draining or verifying as a hint that it is gone.
	 */
	ENVELOPE_KIND_STATE_CHANGE,
	/* Not an action: audit the body with reason, then delete it. */
	ENVELOPE_KIND_REJECT,
};

struct envelope_result {
	enum envelope_kind kind;
	/* LIFECYCLE only. */
	struct lifecycle_event event;
	/* LIFECYCLE, SPOT_WARNING, REBALANCE, STATE_CHANGE: valid id. */
	char	 instance_id[LIFECYCLE_INSTANCE_MAX + 1];
	/* SPOT_WARNING: "terminate", "stop" or "hibernate". */
	char	 instance_action[16];
	/* STATE_CHANGE: "pending", "running", "stopping", "stopped",
	 * "shutting-down" or "terminated". */
	char	 state[16];
	/* RequestId or EventBridge id (validated), or "". */
	char	 request_id[LIFECYCLE_REQUEST_ID_MAX + 1];
	/* Time / time of the message as Unix ms, 0 if absent or bad. */
	int64_t	 time_ms;
	/*
	 * A valid group name, when the message names one: always for
	 * LIFECYCLE; for TEST when present; for REJECT when the group was
	 * found and valid even though something else was wrong (so the
	 * daemon can leave alone rejects of groups it does not manage).
	 * "" otherwise.
	 */
	char	 group[LIFECYCLE_GROUP_MAX + 1];
	/*
	 * REJECT: why, in printable ASCII; bytes taken from the message are
	 * sanitized (non-printable -> '?') and truncated.  "" otherwise.
	 */
	char	 reason[ENVELOPE_REASON_MAX + 1];
};

/*
 * Classify body[0..len) (need not be NUL-terminated).  Returns 0 and fills
 * *ret for every input, REJECT included; -EINVAL only for a NULL ret, or a
 * NULL body with len > 0.
 */
int envelope_parse(const char *body, size_t len, struct envelope_result *ret);

/*
 * True if group may be handled given the allow-list allow[0..n): every
 * group when n == 0, otherwise exact (case-sensitive) members only; an
 * empty or NULL group is never in a non-empty list.
 */
bool envelope_group_allowed(const char *group, const char *const *allow,
    size_t n);

/* "lifecycle", "test", "spot-warning", "rebalance", "state-change",
 * "reject" */
const char *envelope_kind_name(enum envelope_kind k);

/*
 * Copy src[0..srclen) into dst as printable ASCII: other bytes become '?',
 * and when it does not fit the copy ends with "...".  dst is always
 * NUL-terminated (dstlen >= 4).  For echoing untrusted bytes in reasons.
 */
void envelope_sanitize(char *dst, size_t dstlen, const char *src,
    size_t srclen);

#endif
