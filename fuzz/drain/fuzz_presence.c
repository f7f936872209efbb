/*
 * Fuzz target for drain/presence.c: raw bytes -> presence_parse_text (size
 * and depth bounds, libstrophe's parser, then our walk), and, when the bytes
 * parse as a stanza, presence_parse on it directly as well.  Must never
 * crash, leak, or read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strophe.h>

#include "drain/presence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static xmpp_ctx_t *ctx;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct presence p;
	struct colibri_stats st;
	char name[PRESENCE_STAT_NAME_MAX + 2], *value;
	size_t half;

	if (ctx == NULL && (ctx = xmpp_ctx_new(NULL, NULL)) == NULL)
		abort();
	if (presence_parse_text(ctx, (const char *)data, size, &p) == 0) {
		/* Whatever was accepted is within the bounds we promise. */
		if (strlen(p.nickname) > PRESENCE_NICK_MAX ||
		    strlen(p.room) > PRESENCE_ROOM_MAX ||
		    strlen(p.stats.version) >= COLIBRI_STR_MAX ||
		    (p.has_stats && p.stats.nstats > PRESENCE_MAX_STATS) ||
		    (p.has_stats && p.stats_invalid))
			abort();
		if (p.stats.stress_level != -1.0 &&
		    !(p.stats.stress_level >= 0.0 &&
		    p.stats.stress_level <= 1e6))
			abort();
	}

	/* The same bytes split into one stat's name and value. */
	half = size / 2;
	if (half > PRESENCE_STAT_NAME_MAX + 1)
		half = PRESENCE_STAT_NAME_MAX + 1;
	memcpy(name, data, half);
	name[half] = '\0';
	if ((value = malloc(size - half + 1)) == NULL)
		abort();
	memcpy(value, data + half, size - half);
	value[size - half] = '\0';
	presence_stats_init(&st);
	(void)presence_stat_apply(&st, name, value);
	if (st.local_endpoints < -1 || st.participants < -1)
		abort();
	free(value);
	return 0;
}
