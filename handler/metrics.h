/*
 * The daemon's counters, rendered as Prometheus text by the admin
 * endpoint.  Low cardinality on purpose: no per-instance or per-action
 * label; AWS error codes are capped at METRICS_MAX_CODES distinct ones.
 */
#ifndef JL_METRICS_H
#define JL_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "events/lifecycle.h"

struct metrics;
struct buf;
struct ctx;

#define METRICS_MAX_CODES	32

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* All accept m == NULL (tools without metrics). */
void metrics_received(struct metrics *m, enum lifecycle_transition t);
void metrics_completed(struct metrics *m, enum lifecycle_transition t,
    const char *result, bool by_us, int64_t duration_ms);
void metrics_action_state(struct metrics *m);
void metrics_heartbeat(struct metrics *m, bool ok);
void metrics_bridge_call(struct metrics *m, bool ok);
void metrics_message(struct metrics *m, const char *kind);
void metrics_aws_attempt(struct metrics *m, const char *op, bool ok,
    bool throttled, const char *code, unsigned attempt);
void metrics_receive_ok(struct metrics *m, int64_t mono_ms);
int64_t metrics_last_receive(const struct metrics *m);

/* Prometheus text exposition (version 0.0.4) of everything, with the
 * gauges read from ctx. */
void metrics_render(const struct metrics *m, const struct ctx *ctx,
    struct buf *out);

#endif
