/*
 * Lifecycle actions this daemon has finished, remembered for a day so that
 * a redelivered copy of their message (SQS delivers at least once) is
 * deleted rather than acted on twice.  Bounded: the oldest are forgotten.
 */
#ifndef JL_FINISHED_H
#define JL_FINISHED_H

#include <stdbool.h>
#include <stdint.h>

struct finished;

struct finished *finished_new(unsigned max);
void finished_free(struct finished *f);
void finished_add(struct finished *f, const char *token, int64_t now);
bool finished_has(struct finished *f, const char *token, int64_t now);

#endif
