/*
 * A validated Auto Scaling lifecycle action, whatever envelope carried it,
 * and the validators for the fields other layers put in URLs, request
 * bodies, XMPP nicknames and log lines.  Pure: no I/O, no globals.
 *
 * Every string in struct lifecycle_event has been checked by the rules
 * below before it is stored, so a holder may use it in a URL (after the
 * usual form/percent encoding), an audit line or a log line as it is.
 */
#ifndef JL_EVENTS_LIFECYCLE_H
#define JL_EVENTS_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lifecycle_transition {
	LIFECYCLE_LAUNCHING,	/* autoscaling:EC2_INSTANCE_LAUNCHING */
	LIFECYCLE_TERMINATING,	/* autoscaling:EC2_INSTANCE_TERMINATING */
};

/*
 * How the action reached the queue.  SNS with raw delivery on strips the
 * SNS envelope, so it arrives (and is reported) as ENVELOPE_DIRECT: the two
 * cannot be told apart and need not be.
 */
enum lifecycle_envelope {
	ENVELOPE_DIRECT,	/* hook target = the queue, or SNS raw */
	ENVELOPE_SNS,		/* SNS notification, lifecycle JSON in Message */
	ENVELOPE_EVENTBRIDGE,	/* EventBridge event (maybe inside SNS) */
};

/* Limits, in bytes, excluding the NUL. */
#define LIFECYCLE_GROUP_MAX	255
#define LIFECYCLE_HOOK_MAX	255
#define LIFECYCLE_INSTANCE_MAX	19	/* "i-" + 17 hex digits */
#define LIFECYCLE_TOKEN_LEN	36
#define LIFECYCLE_PLACE_MAX	16	/* "AutoScalingGroup" */
#define LIFECYCLE_METADATA_MAX	4000
#define LIFECYCLE_REQUEST_ID_MAX 63

/*
 * Warm pools (Origin/Destination): the transition alone does not say where
 * an instance goes.
 *   LAUNCHING   EC2 -> AutoScalingGroup   a new bridge enters service
 *   LAUNCHING   EC2 -> WarmPool           a new instance is prepared for
 *                                         the warm pool (it is stopped or
 *                                         hibernated afterwards, it never
 *                                         serves from there)
 *   LAUNCHING   WarmPool -> AutoScalingGroup  a warm instance enters service
 *   TERMINATING AutoScalingGroup -> WarmPool  scale-in that *returns the
 *                                         instance to the warm pool*: it is
 *                                         stopped, not terminated, but its
 *                                         bridge goes away all the same
 *   TERMINATING WarmPool -> EC2           a warm instance is terminated; it
 *                                         was not serving anyone
 *   TERMINATING AutoScalingGroup -> EC2   ordinary termination
 * warm_pool is true when either side is "WarmPool"; what to do about it is
 * the daemon's decision (events/ only reports it).  Older messages carry
 * neither field: origin and destination are then "" and warm_pool false.
 */
struct lifecycle_event {
	enum lifecycle_transition transition;
	enum lifecycle_envelope	envelope;
	bool	 via_sns;		/* an SNS envelope was unwrapped */
	/* AutoScalingGroupName: lifecycle_valid_group() */
	char	 group[LIFECYCLE_GROUP_MAX + 1];
	/* LifecycleHookName: lifecycle_valid_hook() */
	char	 hook[LIFECYCLE_HOOK_MAX + 1];
	/* EC2InstanceId: lifecycle_valid_instance_id() */
	char	 instance_id[LIFECYCLE_INSTANCE_MAX + 1];
	/* LifecycleActionToken: lifecycle_valid_token(); an id, not a secret */
	char	 token[LIFECYCLE_TOKEN_LEN + 1];
	/* "", "EC2", "AutoScalingGroup" or "WarmPool" */
	char	 origin[LIFECYCLE_PLACE_MAX + 1];
	char	 destination[LIFECYCLE_PLACE_MAX + 1];
	/* NotificationMetadata, or "": lifecycle_valid_metadata() */
	char	 notification_metadata[LIFECYCLE_METADATA_MAX + 1];
	/* RequestId (direct, SNS) or the EventBridge event id, or "":
	 * lifecycle_valid_request_id() */
	char	 request_id[LIFECYCLE_REQUEST_ID_MAX + 1];
	/* Time / time as Unix ms, 0 if absent or unparseable */
	int64_t	 time_ms;
	bool	 warm_pool;		/* origin or destination is WarmPool */
};

/* "i-" and 8 or 17 lower-case hex digits. */
bool lifecycle_valid_instance_id(const char *s);
/* A 36-character UUID: 8-4-4-4-12 hex digits (either case). */
bool lifecycle_valid_token(const char *s);
/*
 * An Auto Scaling group name: 1..255 bytes of UTF-8 without control
 * characters (U+0000-U+001F, U+007F-U+009F).  AWS documents ASCII 33-126
 * without ':' for new groups, but its API pattern accepts any non-control
 * Unicode up to 255 characters (and CompleteLifecycleAction up to 1600,
 * because it also takes ARNs); we accept the 255-byte superset of names so
 * a real message is never refused, and nothing accepted can break a URL
 * (it is form-encoded) or a log line (log_* escapes non-ASCII).
 */
bool lifecycle_valid_group(const char *s);
/* A lifecycle hook name: [A-Za-z0-9_/-]{1,255}. */
bool lifecycle_valid_hook(const char *s);
/* NotificationMetadata: 1..4000 of tab, LF, CR and printable ASCII. */
bool lifecycle_valid_metadata(const char *s);
/* RequestId / EventBridge id: [A-Za-z0-9_.:-]{1,63}. */
bool lifecycle_valid_request_id(const char *s);

/* "launching" / "terminating" */
const char *lifecycle_transition_name(enum lifecycle_transition t);
/* "autoscaling:EC2_INSTANCE_LAUNCHING" / "...TERMINATING" */
const char *lifecycle_transition_aws(enum lifecycle_transition t);
/* "direct" / "sns" / "eventbridge" */
const char *lifecycle_envelope_name(enum lifecycle_envelope e);

#endif
