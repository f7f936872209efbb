/*
 * The SQS receive loop: long polls (no busy polling) while fewer than
 * [daemon] max_in_flight actions are open, classifies each message and
 * hands lifecycle actions to action.c.  What is not an action is audited
 * with why and removed, so nothing is silently lost or loops forever;
 * messages for groups outside [daemon] groups are left alone.
 */
#ifndef JL_RECEIVER_H
#define JL_RECEIVER_H

#include <stdint.h>

struct ctx;
struct receiver;

struct receiver *receiver_new(struct ctx *ctx);
void receiver_free(struct receiver *r);
void receiver_start(struct receiver *r);
/* Stop receiving: the long poll in flight is cancelled. */
void receiver_stop(struct receiver *r);
/*
 * Stop receiving, but let the long poll in flight end by itself and hand
 * back (visibility 0) whatever it brings, then call done().  Cancelling it
 * instead would let the server give it a message we make visible (our own
 * hand-backs) and hide that message for the whole visibility timeout.
 */
void receiver_stop_handing_back(struct receiver *r,
    void (*done)(struct ctx *ctx));
/* An action finished: receive again if we were at max_in_flight. */
void receiver_capacity(struct receiver *r);
/* Monotonic ms since receiving has been failing; 0 when fine. */
int64_t receiver_failing_since(const struct receiver *r);

#endif
