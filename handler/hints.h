/*
 * EC2 hints that are not lifecycle actions: spot interruption warnings,
 * rebalance recommendations, state changes.  The message is deleted by the
 * caller once this returns.
 */
#ifndef JL_HINTS_H
#define JL_HINTS_H

struct ctx;
struct envelope_result;
struct sqs_message;

void hints_message(struct ctx *ctx, const struct envelope_result *res,
    const struct sqs_message *msg);

#endif
