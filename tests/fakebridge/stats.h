/*
 * The colibri stats of one bridge (jvb-api.md §2.1), as one ordered list
 * that both /colibri/stats (JSON) and the brewery presence (§4.2, string
 * values) render, like the shim both come from in the real bridge.
 * Counters come from the model's snapshot; the flags are live.  Pure.
 */
#ifndef FB_STATS_H
#define FB_STATS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/fakebridge/model.h"

enum stats_type {
	STATS_INT,
	STATS_DOUBLE,
	STATS_BOOL,
	STATS_STRING,
};

struct stats_item {
	const char	*name;		/* static */
	enum stats_type	 type;
	long long	 i;
	double		 d;
	bool		 b;
	const char	*s;		/* borrowed from the input, or st->ts */
};

struct stats_input {
	const struct model *model;
	const char	*version;	/* "2.3.215-gbee626bf" */
	const char	*release;	/* NULL: left out */
	const char	*region;	/* NULL: left out */
	const char	*relay_id;	/* NULL: left out */
	/* Before stable_9457: shutting_down only when true, plus colibri2. */
	bool		 legacy_shutting_down;
	/* Before stable_6865: no drain at all. */
	bool		 legacy_no_drain;
	bool		 healthy;
	unsigned	 muc_clients_configured;
	unsigned	 muc_clients_connected;
	unsigned	 mucs_configured;
	unsigned	 mucs_joined;
	int64_t		 wall_offset_ms;	/* wall = model time + this */
};

#define STATS_MAX_ITEMS	64

struct stats {
	struct stats_item items[STATS_MAX_ITEMS];
	size_t		 n;
	char		 ts[32];	/* current_timestamp */
};

void stats_build(struct stats *st, const struct stats_input *in);
/* A new JSON object; numbers and booleans keep their JSON types. */
json_t *stats_json(const struct stats *st);
/* The value as the presence carries it: "true", "0.05", "12". */
void stats_item_text(const struct stats_item *it, char *buf, size_t len);
/* Java-like: shortest round-trip digits, "0.0" rather than "0". */
void stats_format_double(double d, char *buf, size_t len);
/* UTC "yyyy-MM-dd HH:mm:ss.SSS". */
void stats_format_timestamp(int64_t wall_ms, char *buf, size_t len);

#endif
