/*
 * Scale-in protection as a steering wheel ([protection], off by default):
 * for each configured group, every [protection] interval (and soon after a
 * bridge's load changes in the brewery), read the group's members, learn
 * each bridge's load (its brewery presence, else /colibri/stats), plan
 * with drain/protect.c and apply the changes with SetInstanceProtection,
 * at most [protection] max_calls_per_minute calls.  Every change is
 * audited with its reason.  With protection off, no protection API is
 * ever called.
 */
#ifndef JL_PROTECTION_H
#define JL_PROTECTION_H

struct ctx;
struct protection;
struct brewery_occupant;

/* NULL when [protection] is off. */
struct protection *protection_new(struct ctx *ctx);
void protection_free(struct protection *p);
void protection_start(struct protection *p);
/* A bridge's presence changed: look again soon (NULL is fine). */
void protection_occupant(struct protection *p,
    const struct brewery_occupant *occ);

#endif
