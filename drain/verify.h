/*
 * Launch verification: is the new bridge really in service?  CONTINUE once
 * the brewery occupant whose nickname is the instance id has sent a colibri
 * stats presence, that occupant is this instance, and the bridge's
 * /about/health answers 200; otherwise [launch] on_timeout at the timeout.
 * Pure, like policy.c.
 *
 * "That occupant is this instance": a nickname can be taken by another
 * bridge (a cloned image, a stale config), and then the new bridge's own
 * join fails.  The bridge renders its presence stats and /colibri/stats
 * from the same snapshot, so the presence's current_timestamp is one the
 * instance's REST stats also show: that match is the proof.  When either
 * side has no timestamp (stats filtered, COLIBRI REST off), an occupant
 * counts only if it was not already in the room when the launch began.
 *
 * While our XMPP link is down the verdict waits rather than blaming the
 * bridge; if the link is still down at the timeout the reason says so.
 */
#ifndef JL_DRAIN_VERIFY_H
#define JL_DRAIN_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "drain/policy.h"

#define VERIFY_SNAPSHOTS	8

enum verify_step_kind {
	VERIFY_WAIT,
	VERIFY_RESOLVE,		/* the instance's private address */
	VERIFY_POLL_HEALTH,	/* GET /about/health */
	VERIFY_POLL_STATS,	/* GET /colibri/stats: the snapshot times */
	VERIFY_COMPLETE,
};

struct verify_config {
	int64_t			timeout_ms;
	int64_t			poll_interval_ms;
	int64_t			stats_interval_ms; /* the bridges'; 0: unknown */
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
	char			reason[640];

	bool			resolved;
	bool			healthy;
	bool			health_due;	/* ask health next */
	bool			stats_due;	/* a presence to match: stats next */
	char			health_problem[512];

	/* REST snapshot times of the instance (wall ms), newest last */
	int64_t			rest_snaps[VERIFY_SNAPSHOTS];
	unsigned		nrest;
	bool			rest_stats_off;	/* 404 or no timestamps */

	bool			link_up;
	int64_t			link_down_since;
	int64_t			link_down_total;	/* ms, closed spans */

	/* the occupant with the instance's nickname */
	bool			present;
	bool			present_at_start;	/* taken before we began */
	bool			occ_stats;
	int64_t			occ_snaps[VERIFY_SNAPSHOTS];
	unsigned		nocc;
	bool			identified;	/* it is this instance */
	bool			mismatch;	/* stats never matched */
	int64_t			joined_at;
};

/* occupied: an occupant already has the instance's nickname now. */
void verify_init(struct verify *v, const struct verify_config *cfg,
    bool link_up, bool occupied, int64_t now);
void verify_clamp_deadline(struct verify *v, int64_t deadline);
void verify_resolved(struct verify *v, bool ok, const char *why,
    int64_t now);
/* healthy: 200; else why (the bridge's own message or a transport error) */
void verify_health(struct verify *v, bool healthy, const char *why,
    int64_t now);
/* /colibri/stats answered (ok) with this snapshot time (0: none), or
 * not_found (COLIBRI off), or failed otherwise. */
void verify_rest_stats(struct verify *v, bool ok, bool not_found,
    int64_t snapshot_ms, int64_t now);
void verify_link(struct verify *v, bool up, int64_t now);
/*
 * The occupant with the instance's nickname, as the brewery sees it now:
 * present or not, whether it sent stats, and their snapshot time (0: none).
 */
void verify_occupant(struct verify *v, bool present, bool has_stats,
    int64_t snapshot_ms, int64_t now);
struct verify_step verify_next(struct verify *v, int64_t now);

#endif
