/* Clocks and time formats.  Deadlines use the monotonic clock. */
#ifndef JL_TIMEUTIL_H
#define JL_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

int64_t timeutil_mono_ms(void);
int64_t timeutil_wall_ms(void);
/* "2026-11-24T06:35:37.123Z" */
void timeutil_rfc3339(int64_t wall_ms, char *out, size_t outlen);
/* ISO 8601 / RFC 3339 in UTC ("Z" or "+00:00"), fraction optional. */
int timeutil_parse_iso8601(const char *s, int64_t *ret_wall_ms);

#endif
