/*
 * Scale-in protection as a steering wheel: which bridges of a group to
 * protect so that the group's next scale-in can only pick the emptiest
 * ones.  Pure: a group's bridges and their load in, the changes out.
 *
 * - A bridge with more local endpoints than the threshold is protected;
 *   a protected one is released only once it is down to threshold -
 *   hysteresis (so a bridge hovering at the threshold does not flap).
 * - An empty bridge is never protected.
 * - At least unprotected_min bridges (and never fewer than one) stay
 *   unprotected, the least loaded ones: a group with every instance
 *   protected cannot scale in at all.
 * - A bridge whose load is unknown keeps its protection, unless it is
 *   needed to keep enough unprotected (and then after the known ones).
 * - Only InService instances are steered; the others are left as they are.
 */
#ifndef JL_DRAIN_PROTECT_H
#define JL_DRAIN_PROTECT_H

#include <stdbool.h>
#include <stddef.h>

struct protect_bridge {
	const char	*instance;
	int		 participants;	/* local endpoints; -1: unknown */
	bool		 protected_now;
	bool		 in_service;
};

struct protect_config {
	int		 threshold;
	int		 hysteresis;
	unsigned	 unprotected_min;
};

enum protect_reason {
	PROTECT_REASON_ABOVE,		/* more than the threshold */
	PROTECT_REASON_EMPTY,		/* no one on it */
	PROTECT_REASON_BELOW,		/* down to threshold - hysteresis */
	PROTECT_REASON_KEEP_MIN,	/* among the least loaded to keep */
};

struct protect_change {
	size_t			 index;	/* into the bridges given */
	bool			 protect;
	enum protect_reason	 reason;
};

/* Fills out (room for n) and returns how many changes there are. */
size_t protect_plan(const struct protect_bridge *b, size_t n,
    const struct protect_config *cfg, struct protect_change *out);
const char *protect_reason_text(enum protect_reason r);

#endif
