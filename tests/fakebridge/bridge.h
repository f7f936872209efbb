/*
 * One fake bridge on the shared loop: its options, its model, its request
 * log, its REST listener (rest.c), its MUC client (muc.c) and one timer.
 * The model's side effects run in that timer's callback, never inside a
 * REST callback, so that a bridge can exit while answering a request.
 * bridge_set holds every bridge of the process.
 */
#ifndef FB_BRIDGE_H
#define FB_BRIDGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "tests/fakebridge/model.h"
#include "tests/fakebridge/options.h"
#include "tests/fakebridge/reqlog.h"
#include "tests/fakebridge/stats.h"

struct event;
struct event_base;
struct muc;
struct rest;
struct xloop;

#define BRIDGE_MAX_FAULTS	8

/* Answer `status` to the next `count` requests for path (-1: all). */
struct bridge_fault {
	char		 path[64];	/* "" : unused; "*": every endpoint */
	int		 status;
	long		 count;
};

struct bridge {
	TAILQ_ENTRY(bridge) entry;
	struct bridge_set *set;		/* not owned */
	char		*id;		/* owned */
	char		*nickname;	/* owned */
	struct options	 opts;		/* owned */
	struct model	 model;
	struct reqlog	 log;
	struct bridge_fault faults[BRIDGE_MAX_FAULTS];
	struct rest	*rest;		/* owned; NULL when not listening */
	struct muc	*muc;		/* owned; NULL without XMPP */
	struct event	*timer;		/* owned */
	uint16_t	 port;		/* bound (or asked for) */
	int64_t		 created_wall_ms;
	enum model_state logged_state;
	bool		 exit_done;	/* exit side effects ran */
	bool		 publish;	/* send a presence at the next run */
	bool		 removing;	/* freed once its MUC client is gone */
};

TAILQ_HEAD(bridge_list, bridge);

struct bridge_set {
	struct event_base *base;	/* not owned */
	struct xloop	*xloop;		/* owned; NULL until an XMPP bridge */
	struct bridge_list bridges;
	struct bridge_list removed;	/* saying goodbye, then freed */
	unsigned	 count;
};

struct bridge_set *bridge_set_new(struct event_base *base);
void bridge_set_free(struct bridge_set *set);
/* NULL when absent; id is compared exactly. */
struct bridge *bridge_set_find(struct bridge_set *set, const char *id);
/* Ask every bridge's MUC client to leave; true once all are gone. */
bool bridge_set_quiesce(struct bridge_set *set);

/*
 * Create a bridge from options (the set takes a copy): bind its listener
 * (unless mode is down), start its XMPP client.  On failure a message in
 * err and -EINVAL (options), -EEXIST (id or address:port taken by another
 * bridge) or the bind's -errno.
 */
int bridge_new(struct bridge_set *set, const struct options *o,
    struct bridge **ret, char *err, size_t errlen);
/*
 * Take the bridge out of the set, like a process that goes away for good:
 * it exits as on SIGTERM (unless it already did), leaves the MUC, and is
 * freed once the MUC client is gone.
 */
void bridge_remove(struct bridge *b);

/* The clock every model call uses, and the wall clock equivalent. */
int64_t bridge_now(void);
int64_t bridge_wall(int64_t mono_ms);

/* Apply new options to a running bridge (mode, switches, limits). */
int bridge_set_options(struct bridge *b, const struct options *o,
    char *err, size_t errlen);
/* Call after any model action: side effects run soon, on the loop. */
void bridge_kick(struct bridge *b);
/*
 * Run the side effects now rather than soon: for callers outside the
 * bridge's own REST callbacks (the control API), so that an exit has
 * closed the listener by the time they answer.  b is freed if it was
 * removed and has nothing left to say goodbye to.
 */
void bridge_settle(struct bridge *b);
/* Advance the model to now (and kick, in case something fired). */
void bridge_sync(struct bridge *b);
/* Ask for a presence at the next run (options or MUC status changed). */
void bridge_publish(struct bridge *b);

/* The stats as /colibri/stats would answer now. */
void bridge_stats(struct bridge *b, struct stats *st);
json_t *bridge_state_json(struct bridge *b);
json_t *bridge_summary_json(const struct bridge *b);

/* -EINVAL for a bad path or status; -ENOSPC when full.  count 0 clears. */
int bridge_add_fault(struct bridge *b, const char *path, int status,
    long count);
void bridge_clear_faults(struct bridge *b);
/* The status to inject for this endpoint (consumes one), or 0. */
int bridge_take_fault(struct bridge *b, const char *endpoint);

#endif
