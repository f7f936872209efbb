/*
 * The REST requests one bridge received, newest last, in a ring of fixed
 * size (a long benchmark must not grow without bound).  Each entry has a
 * sequence number so that a test can ask for "what came after N" and so
 * that a reply sent later (or never, in hang mode) finds its entry even
 * after the ring moved on.  Pure.
 */
#ifndef FB_REQLOG_H
#define FB_REQLOG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of a request body kept in the log. */
#define REQLOG_BODY_MAX		4096

struct reqlog_entry {
	uint64_t	 seq;		/* from 1 */
	int64_t		 wall_ms;
	char		 method[12];
	char		*uri;		/* owned; path and query */
	char		*content_type;	/* owned; NULL if absent */
	char		*body;		/* owned; NULL unless a body came */
	size_t		 body_len;	/* bytes received (body may be cut) */
	int		 status;	/* 0: not answered (yet) */
};

struct reqlog {
	struct reqlog_entry *ring;	/* owned; cap entries */
	size_t		 cap;		/* grows up to max */
	size_t		 max;
	size_t		 head;		/* index of the oldest */
	size_t		 n;
	uint64_t	 next_seq;
	uint64_t	 dropped;	/* pushed out of the ring */
};

void reqlog_init(struct reqlog *l, size_t cap);
void reqlog_finish(struct reqlog *l);
void reqlog_clear(struct reqlog *l);
/* Returns the entry's sequence number; strings are copied. */
uint64_t reqlog_add(struct reqlog *l, int64_t wall_ms, const char *method,
    const char *uri, const char *content_type, const void *body,
    size_t body_len);
/* No-op when seq has left the ring. */
void reqlog_set_status(struct reqlog *l, uint64_t seq, int status);
/* Entries with seq > since, oldest first, as a new JSON array. */
json_t *reqlog_json(const struct reqlog *l, uint64_t since);
uint64_t reqlog_total(const struct reqlog *l);

#endif
