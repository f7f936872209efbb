/*
 * One lifecycle action, from its message to its completion: the per-action
 * state machine on the loop.  A terminating bridge is drained (drain/
 * policy.c decides, this file does the I/O); a launching one is verified
 * (drain/verify.c).  Meanwhile the hook is kept alive with heartbeats and
 * the message kept hidden with ChangeMessageVisibility, and every step is
 * logged "old -> new" and audited.
 */
#ifndef JL_ACTION_H
#define JL_ACTION_H

#include <stdbool.h>
#include <stdint.h>

struct ctx;
struct action;
struct lifecycle_event;
struct sqs_message;
struct brewery_occupant;
struct journal_entry;

enum action_state {
	ACTION_RECEIVED,
	ACTION_RESOLVING,
	ACTION_ENABLING_DRAIN,
	ACTION_REQUESTING_SHUTDOWN,
	ACTION_DRAINING,
	ACTION_FORCING,
	ACTION_VERIFYING,
	ACTION_COMPLETING,
	ACTION_DELETING,
	ACTION_HANDING_BACK,
	ACTION_WATCHING,	/* spot: done, watching for the instance to go */
	ACTION_DONE,
};

/* A new action; it audits "received" and starts at once. */
struct action *action_start(struct ctx *ctx, const struct lifecycle_event *ev,
    const struct sqs_message *msg);
/* Resume one from the journal (after a restart). */
struct action *action_resume(struct ctx *ctx,
    const struct journal_entry *je);
/* The open action with this token, or NULL. */
struct action *action_find(struct ctx *ctx, const char *token);
/* The same action delivered again: adopt its newest receipt handle. */
void action_redelivered(struct action *a, const struct sqs_message *msg);
/* Presence news about the occupant whose nickname may be an instance. */
void action_occupant(struct ctx *ctx, const struct brewery_occupant *occ,
    bool left);
/*
 * An EC2 Spot Instance Interruption Warning for an instance of one of our
 * groups: the fast path (see drain/policy.h policy_spot).  It joins the
 * terminate action for the instance if there is one, or runs on its own
 * (and a terminate action that follows joins it).  Either way the audit
 * tells how many participants were on the bridge and when it went away.
 */
void action_spot_warning(struct ctx *ctx, const char *instance,
    const char *group, int64_t warning_wall_ms, const char *instance_action);
/* EC2 says the instance is shutting down or terminated. */
void action_instance_gone(struct ctx *ctx, const char *instance,
    const char *state);
/* Our brewery link went up or down. */
void action_brewery_link(struct ctx *ctx, bool up);
/*
 * Stopping: journal every open action and hand its message back
 * (visibility 0) so a replica or the next start resumes it; never
 * complete because we stop.  done() runs once all are handed back.
 */
void action_hand_back_all(struct ctx *ctx, void (*done)(struct ctx *));
/* Free every action without any I/O (teardown). */
void action_free_all(struct ctx *ctx);

const char *action_state_name(enum action_state s);
enum action_state action_get_state(const struct action *a);
bool action_is_terminating(const struct action *a);
void action_count_open(const struct ctx *ctx, unsigned *launching,
    unsigned *terminating);
/* Every open action, oldest first. */
void action_foreach(const struct ctx *ctx,
    void (*fn)(const struct action *a, void *arg), void *arg);
/* The journal's view of an action (journal.c). */
void action_fill_journal(const struct action *a, struct journal_entry *je);

/* For /status: a JSON object describing the action (jansson json_t *). */
void *action_status_json(const struct action *a);

#endif
