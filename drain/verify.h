/*
 * Launch verification: is the new bridge really in service?  CONTINUE once
 * the brewery occupant whose nickname is the instance id has sent a colibri
 * stats presence and the bridge's /about/health answers 200; otherwise
 * [launch] on_timeout at the timeout.  Pure, like policy.c.
 *
 * An occupant counts only if it joined after this launch began: a nickname
 * already in the room is another bridge's (a taken nickname), and the new
 * bridge's own join then fails.  While our XMPP link is down the verdict
 * waits rather than blaming the bridge; if the link is still down at the
 * timeout the reason says so.
 */
#ifndef JL_DRAIN_VERIFY_H
#define JL_DRAIN_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "drain/policy.h"

enum verify_step_kind {
	VERIFY_WAIT,
	VERIFY_RESOLVE,		/* the instance's private address */
	VERIFY_POLL_HEALTH,	/* GET /about/health */
	VERIFY_COMPLETE,
};

struct verify_config {
	int64_t			timeout_ms;
	int64_t			poll_interval_ms;
	bool			need_brewery;	/* false: health only */
	enum policy_result	on_timeout;
};

struct verify_step {
	enum verify_step_kind	kind;
	int64_t			wake_at;
};

struct verify {
	struct verify_config	cfg;
	int64_t			start_ms;
	int64_t			deadline_ms;
	int64_t			next_at;
	bool			done;
	enum policy_result	result;
	char			reason[512];

	bool			resolved;
	bool			healthy;
	int64_t			healthy_at;
	char			health_problem[256];

	bool			link_up;
	int64_t			link_down_since;
	int64_t			link_down_total;	/* ms, closed spans */
	bool			joined;		/* a stats presence, after start */
	int64_t			joined_at;
	bool			taken;		/* nickname held before start */
	bool			present_nostats;
};

void verify_init(struct verify *v, const struct verify_config *cfg,
    bool link_up, int64_t now);
void verify_clamp_deadline(struct verify *v, int64_t deadline);
void verify_resolved(struct verify *v, bool ok, const char *why,
    int64_t now);
/* healthy: 200; else why (the bridge's own message or a transport error) */
void verify_health(struct verify *v, bool healthy, const char *why,
    int64_t now);
void verify_link(struct verify *v, bool up, int64_t now);
/*
 * The occupant with the instance's nickname, as the brewery sees it now:
 * present or not, when it joined (mono ms), whether it sent stats.
 */
void verify_occupant(struct verify *v, bool present, int64_t joined_at,
    bool has_stats, int64_t now);
struct verify_step verify_next(struct verify *v, int64_t now);

#endif
