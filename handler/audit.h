/*
 * The audit trail: append-only JSON lines, one record per step of a
 * lifecycle action.  A record is written and fsync'ed before audit_write
 * returns, so the step it describes may then be acknowledged to anyone.
 * Schema: README.md, "Audit trail".
 */
#ifndef JL_AUDIT_H
#define JL_AUDIT_H

#include <jansson.h>

struct audit;

/* Who a record is about; NULL fields are written as null. */
struct audit_ctx {
	const char	*action;	/* the lifecycle action token */
	const char	*instance;
	const char	*group;
	const char	*hook;
	const char	*transition;	/* "launching" | "terminating" */
};

int audit_open(const char *path, struct audit **ret);
/* After logrotate moved the file: reopen by name. */
int audit_reopen(struct audit *a);
void audit_close(struct audit *a);
/*
 * Append one record: time, the context, step, then `fields` (borrowed, may
 * be NULL; its keys cannot override the base ones).  0 or -errno.
 */
int audit_write(struct audit *a, const struct audit_ctx *ctx,
    const char *step, json_t *fields);
/* Records written since open, and the last error (0 if none). */
unsigned long audit_records(const struct audit *a);

#endif
