/*
 * EC2 Instance Rebalance Recommendations: the instance is at elevated risk
 * of a spot interruption and the group will likely replace it.  The bridge
 * is put in drain mode only (reversible: no new conferences go there, the
 * running ones stay), so it is lighter when its termination comes; if no
 * termination follows within [rebalance] undo_after, drain mode is switched
 * off again.  A terminate action or a spot warning for the instance takes
 * over without undoing anything.
 */
#ifndef JL_REBALANCE_H
#define JL_REBALANCE_H

struct ctx;
struct rebalancer;

struct rebalancer *rebalancer_new(struct ctx *ctx);
void rebalancer_free(struct rebalancer *r);
void rebalance_start(struct rebalancer *r, const char *instance,
    const char *group);
/* A termination is under way: stop watching, keep drain mode on. */
void rebalance_superseded(struct rebalancer *r, const char *instance);

#endif
