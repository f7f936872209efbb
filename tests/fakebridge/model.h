/*
 * The model of one videobridge as the daemon can observe it (jvb-api.md
 * §3): the shutdown state machine, the drain flag, the local endpoints and
 * the stats snapshot.  Pure: no I/O, no clock; every call takes the time
 * ("now", in ms of any monotonic clock) and the caller runs the side
 * effects (presence, closing the listener) after model_take_changes().
 *
 * Timed things (scripted departures, jicofo moving participants away,
 * graceful max duration, shutting-down delay, stats refresh) fire in time
 * order inside model_advance(); the caller wakes up at
 * model_next_deadline().
 */
#ifndef FB_MODEL_H
#define FB_MODEL_H

#include <stdbool.h>
#include <stdint.h>

enum model_state {
	MODEL_RUNNING,
	MODEL_GRACEFUL_SHUTDOWN,
	MODEL_SHUTTING_DOWN,
	MODEL_EXITED,		/* the process is gone */
};
#define MODEL_NSTATES	4

/* Why the bridge entered SHUTTING_DOWN, or why it exited. */
enum model_cause {
	MODEL_CAUSE_NONE,
	MODEL_CAUSE_PARTICIPANTS,	/* graceful: local endpoints <= min */
	MODEL_CAUSE_MAX_DURATION,	/* graceful: max duration passed */
	MODEL_CAUSE_FORCED,		/* forced shutdown request */
	MODEL_CAUSE_DELAY,		/* exit after the shutting-down delay */
	MODEL_CAUSE_SIGTERM,		/* killed; leaves the MUC first */
	MODEL_CAUSE_SIGKILL,		/* killed; no goodbye at all */
};

/* Bits returned by model_take_changes(). */
#define MODEL_CH_STATE		0x01u	/* shutdown state, exit included */
#define MODEL_CH_DRAIN		0x02u
#define MODEL_CH_PARTICIPANTS	0x04u
#define MODEL_CH_STATS		0x08u	/* the snapshot was refreshed */

/* Caps that keep every product of two of them inside int64_t. */
#define MODEL_MAX_PARTICIPANTS	1000000u
#define MODEL_MAX_MS		(1000LL * 1000 * 1000 * 1000)

struct model_config {
	/* graceful-shutdown-max-duration */
	int64_t		 max_duration_ms;
	int64_t		 shutting_down_delay_ms;
	int64_t		 stats_interval_ms;	/* > 0 */
	int64_t		 move_after_ms;		/* < 0: jicofo moves nobody */
	unsigned	 min_participants;	/* graceful-shutdown-min-... */
	unsigned	 conference_size;	/* endpoints per conference */
	unsigned	 octo_endpoints;	/* relayed, never leave */
	double		 stress_per_endpoint;
};

/* n departures spread evenly: the k-th at start + dur * k / n. */
struct model_sched {
	unsigned	 total;
	unsigned	 done;
	int64_t		 start_ms;
	int64_t		 dur_ms;
};

#define MODEL_MAX_SCRIPTS	4

/* The counters, as the stats updater last saw them. */
struct model_snapshot {
	int64_t		 taken_ms;
	unsigned	 local_endpoints;
	unsigned	 octo_endpoints;
	unsigned	 endpoints;		/* local + octo */
	unsigned	 conferences;
	unsigned	 largest_conference;
	double		 stress_level;
	unsigned	 refreshes;
};

struct model {
	struct model_config cfg;
	enum model_state state;
	enum model_cause shutdown_cause;	/* why SHUTTING_DOWN */
	enum model_cause exit_cause;
	int		 exit_code;		/* 0, 143 or 137 once exited */
	bool		 drain;
	unsigned	 participants;		/* true local endpoint count */
	/* participants still there at exit */
	unsigned	 cut_off;
	unsigned long long joined_total;
	unsigned long long left_total;		/* scripted and immediate */
	unsigned long long moved_total;		/* moved away by "jicofo" */
	int64_t		 entered_ms[MODEL_NSTATES];	/* -1: never */
	struct model_sched scripts[MODEL_MAX_SCRIPTS];
	struct model_sched move;		/* jicofo moving them away */
	int64_t		 next_stats_ms;
	struct model_snapshot snap;
	unsigned	 changes;		/* MODEL_CH_* not yet taken */
	int64_t		 now_ms;		/* time of the last call */
};

void model_config_default(struct model_config *cfg);
/* 0, or -EINVAL when a value is out of range. */
int model_config_check(const struct model_config *cfg);

/* cfg must pass model_config_check(); the first snapshot is taken now. */
void model_init(struct model *m, const struct model_config *cfg,
    unsigned participants, bool drain, int64_t now);
/* Fire everything due up to now, in time order. */
void model_advance(struct model *m, int64_t now);
/* When model_advance() next has something to do; INT64_MAX: never. */
int64_t model_next_deadline(const struct model *m);
/* MODEL_CH_* bits since the last call, then cleared. */
unsigned model_take_changes(struct model *m);

/* The actions below first advance to now.  -ESRCH once exited. */
int model_join(struct model *m, unsigned n, int64_t now);
/* over_ms 0: at once; else evenly over over_ms (-ENOSPC: too many). */
int model_leave(struct model *m, unsigned n, int64_t over_ms, int64_t now);
int model_set_participants(struct model *m, unsigned n, int64_t now);
int model_set_drain(struct model *m, bool on, int64_t now);
/* The REST shutdown; repeats are accepted and change nothing (§2.3). */
int model_shutdown(struct model *m, bool graceful, int64_t now);
/* A signal: exit at once (MODEL_CAUSE_SIGTERM or MODEL_CAUSE_SIGKILL). */
int model_kill(struct model *m, enum model_cause how, int64_t now);
/* -EINVAL when cfg does not pass model_config_check(). */
int model_set_config(struct model *m, const struct model_config *cfg,
    int64_t now);

/* Departures still planned by leave-over-time scripts and by jicofo. */
unsigned model_pending_departures(const struct model *m);

const char *model_state_name(enum model_state s);
const char *model_cause_name(enum model_cause c);

#endif
