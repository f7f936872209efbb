/*
 * The scale-in drain policy: what to do next for one terminating bridge,
 * given what has been seen of it.  Pure: no I/O, no clock (times are passed
 * in, monotonic ms), no logging.  The handler runs the steps it asks for,
 * one at a time, and feeds back each outcome and every presence it sees.
 *
 * The sequence: resolve the instance's address, enable drain mode, request
 * a graceful shutdown, then follow the bridge until it is empty and shutting
 * down, or its process has exited; then complete with CONTINUE.
 *
 * The trap (mission.md): a bridge in SHUTTING_DOWN is empty only if it got
 * there by itself, local endpoints down to graceful-shutdown-min-participants
 * (0 by default).  After a forced shutdown or the bridge's own maximum
 * graceful duration, jicofo is still moving participants off it, and
 * completing then cuts them off.  Counters are snapshots refreshed every
 * stats interval while the flags are live, so a zero is believed only from
 * a snapshot taken after SHUTTING_DOWN was first seen, unless the bridge
 * got there by itself from a graceful shutdown we requested.
 */
#ifndef JL_DRAIN_POLICY_H
#define JL_DRAIN_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "drain/presence.h"

enum policy_result {
	POLICY_CONTINUE,
	POLICY_ABANDON,
};

enum policy_step_kind {
	POLICY_WAIT,			/* nothing until wake_at or news */
	POLICY_RESOLVE,			/* look up the instance's address */
	POLICY_ENABLE_DRAIN,		/* POST /colibri/drain/enable */
	POLICY_SHUTDOWN_GRACEFUL,	/* POST /colibri/shutdown true */
	POLICY_SHUTDOWN_FORCE,		/* POST /colibri/shutdown false */
	POLICY_POLL_STATS,		/* GET /colibri/stats */
	POLICY_POLL_HEALTH,		/* GET /about/health (stats disabled) */
	POLICY_COMPLETE,		/* done: result and reason are set */
};

enum policy_phase {
	POLICY_PHASE_RESOLVING,
	POLICY_PHASE_DRAINING,		/* enabling drain mode */
	POLICY_PHASE_SHUTTING,		/* requesting the graceful shutdown */
	POLICY_PHASE_WAITING,		/* following it until empty or gone */
	POLICY_PHASE_FORCING,		/* forced at max_duration; waiting */
	POLICY_PHASE_DONE,
};

/* How a REST call ended, as far as the policy cares. */
enum policy_io {
	POLICY_IO_OK,
	POLICY_IO_NOT_FOUND,		/* 404: API disabled or wrong port */
	POLICY_IO_REFUSED,		/* nothing listens */
	POLICY_IO_TIMEOUT,		/* no answer in time */
	POLICY_IO_ERROR,		/* 5xx, bad JSON, other */
};

struct policy_config {
	int64_t			max_duration_ms;
	int64_t			poll_interval_ms;
	int64_t			unreachable_timeout_ms;
	int64_t			stats_interval_ms;	/* the bridges' */
	int64_t			graceful_max_ms;	/* the bridges' */
	int64_t			shutting_down_delay_ms;	/* the bridges' */
	unsigned		min_participants;	/* the bridges' */
	bool			force_on_timeout;
	enum policy_result	on_timeout;
	enum policy_result	on_unreachable;
	/* Ask for nothing that changes the bridge; say what would be. */
	bool			dry_run;
};

/* One look at the bridge: /colibri/stats or a brewery presence. */
struct policy_obs {
	struct colibri_stats	stats;
	int64_t			snapshot_ms;	/* the bridge's own time of
						   the counters; 0: unknown */
	bool			from_presence;
};

struct policy_step {
	enum policy_step_kind	kind;
	int64_t			wake_at;	/* POLICY_WAIT: when to ask again */
};

struct policy {
	struct policy_config	cfg;
	enum policy_phase	phase;
	int64_t			start_ms;
	int64_t			deadline_ms;	/* when max_duration is hit */
	int64_t			next_at;	/* next poll or retry */
	int64_t			poll_ms;	/* stats poll interval now */

	bool			unreachable;	/* failing since ... */
	int64_t			unreachable_since;
	bool			ever_reachable;
	bool			resolve_final;	/* the instance is gone */

	bool			drain_enabled;
	bool			drain_unsupported;	/* 404 */
	bool			graceful_accepted;
	bool			shutdown_unsupported;	/* 404 */
	bool			stats_unsupported;	/* 404: poll health */
	bool			forced;
	int64_t			forced_at;
	bool			graceful_known;	/* it is or was graceful */
	int64_t			graceful_since;
	bool			saw_graceful;

	bool			shutting_down;
	int64_t			sd_first_ms;
	int64_t			sd_snapshot_ms;
	bool			sd_self;	/* got there by itself */
	int64_t			zero_first_ms;	/* drain-only: first zero */
	int64_t			zero_snapshot_ms;

	bool			spot;		/* reclaimed at reclaim_at */
	int64_t			reclaim_at;
	int			participants;	/* last known, -1 unknown */
	int			participants_start;
	bool			timed_out;

	enum policy_result	result;
	char			reason[1024];
	char			last_problem[640];	/* last failure, if any */
};

void policy_init(struct policy *p, const struct policy_config *cfg,
    int64_t now);
/*
 * The hook's global timeout comes closer than max_duration: stop by then.
 * `deadline` already leaves room for a forced shutdown and completion.
 */
void policy_clamp_deadline(struct policy *p, int64_t deadline);
/*
 * While the bridge's presence reaches us, polling is only the fallback and
 * can be slower; when the presence stops, back to the configured interval.
 */
void policy_set_poll_interval(struct policy *p, int64_t ms, int64_t now);
/*
 * A spot interruption: EC2 reclaims the instance at reclaim_at whatever
 * anyone says.  The fast path: a forced shutdown at once (the bridge goes
 * SHUTTING_DOWN and jicofo moves its participants right away), done as
 * soon as it is empty or gone, and never later than reclaim_at.
 */
void policy_spot(struct policy *p, int64_t reclaim_at, int64_t now);
/* Resume after a restart: the bridge was already asked to drain/shut. */
void policy_resume(struct policy *p, bool drain_enabled,
    bool graceful_accepted, bool forced);

/* Resolution: 0 and an address, or why not and whether that is final. */
void policy_resolved(struct policy *p, bool ok, bool final, const char *why,
    int64_t now);
/*
 * A REST step ended.  obs is the parsed stats for POLICY_POLL_STATS with
 * POLICY_IO_OK (NULL otherwise); why says what went wrong, naming the
 * bridge settings to change when that is the cause.
 */
void policy_rest_done(struct policy *p, enum policy_step_kind step,
    enum policy_io io, const struct policy_obs *obs, const char *why,
    int64_t now);
/* A stats presence from the brewery for this bridge. */
void policy_observe(struct policy *p, const struct policy_obs *obs,
    int64_t now);
/* The bridge left the brewery room. */
void policy_left(struct policy *p, int64_t now);

struct policy_step policy_next(struct policy *p, int64_t now);

const char *policy_phase_name(enum policy_phase phase);
const char *policy_step_name(enum policy_step_kind kind);
/* Local endpoints from a stats object, or -1 if it has none. */
int policy_participants(const struct colibri_stats *st);

#endif
