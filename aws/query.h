/*
 * Internal to aws/: the Query protocol (Auto Scaling, EC2) request body,
 * and checks shared by both.  Pure.
 */
#ifndef JL_QUERY_H
#define JL_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handler/buf.h"

#define QUERY_CONTENT_TYPE \
	"application/x-www-form-urlencoded; charset=utf-8"

/* "Action=<action>&Version=<version>" */
void query_init(struct buf *b, const char *action, const char *version);
/* "&key=value", the value form-encoded. */
void query_add(struct buf *b, const char *key, const char *value);
/* "&<prefix>.<n>=value" for n from 1 */
void query_add_list(struct buf *b, const char *prefix,
    const char *const *values, size_t n);

/* "i-" and 8 or 17 lower-case hex digits. */
bool query_instance_id_ok(const char *id);
/* Printable ASCII (or UTF-8 above 0x7f when utf8), 1..max bytes. */
bool query_text_ok(const char *s, size_t max, bool utf8);
/* "123" -> 123; -1 for absent, empty, not decimal or too large. */
int64_t query_decimal(const char *s);

#endif
