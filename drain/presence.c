/*
 * Brewery presence parsing: pure, bounded, fuzzed (fuzz/drain/).  Walks only
 * the few levels it needs, iteratively, so a deeply nested payload costs
 * nothing here; every loop over children stops at a fixed count.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drain/presence.h"
#include "handler/timeutil.h"

static bool
presence_is_print(const char *s, size_t min, size_t max)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++) {
		if (n >= max)
			return false;
		if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e)
			return false;
	}
	return n >= min;
}

bool
presence_nick_valid(const char *s)
{
	return s != NULL && presence_is_print(s, 1, PRESENCE_NICK_MAX);
}

void
presence_stats_init(struct colibri_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->local_endpoints = -1;
	st->participants = -1;
	st->endpoints = -1;
	st->conferences = -1;
	st->octo_endpoints = -1;
	st->stress_level = -1.0;
}

const char *
presence_type_name(enum presence_type type)
{
	switch (type) {
	case PRESENCE_AVAILABLE:
		return "available";
	case PRESENCE_UNAVAILABLE:
		return "unavailable";
	case PRESENCE_ERROR:
		return "error";
	}
	return "?";
}

/* Java's Boolean.toString; jicofo's parseBoolean ignores case, so do we. */
static int
presence_parse_bool(const char *v, bool *ret)
{
	if (strcasecmp(v, "true") == 0)
		*ret = true;
	else if (strcasecmp(v, "false") == 0)
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

/* A count: 1..9 decimal digits, nothing else (no sign, no blanks). */
static int
presence_parse_count(const char *v, int *ret)
{
	long n = 0;
	size_t i;

	for (i = 0; v[i] != '\0'; i++) {
		if (i >= 9 || v[i] < '0' || v[i] > '9')
			return -EINVAL;
		n = n * 10 + (v[i] - '0');
	}
	if (i == 0)
		return -EINVAL;
	*ret = (int)n;
	return 0;
}

/*
 * A non-negative decimal as Java prints doubles ("0.05", "1.0E-4"): the
 * shape is checked by hand first, so strtod never sees "nan", "inf", hex or
 * blanks, and is run in the C locale whatever the process locale is.
 */
static int
presence_parse_double(const char *v, double *ret)
{
	static locale_t c_locale;
	const char *p = v;
	size_t digits = 0, frac = 0, exp = 0;
	char *end;
	double d;

	while (*p >= '0' && *p <= '9') {
		p++;
		digits++;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			p++;
			frac++;
		}
		if (frac == 0)
			return -EINVAL;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		while (*p >= '0' && *p <= '9') {
			p++;
			exp++;
		}
		if (exp == 0 || exp > 3)
			return -EINVAL;
	}
	if (*p != '\0' || digits == 0 || digits > 12 || frac > 20)
		return -EINVAL;
	if (c_locale == (locale_t)0 &&
	    (c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0)) ==
	    (locale_t)0)
		return -ENOMEM;
	errno = 0;
	d = strtod_l(v, &end, c_locale);
	if (*end != '\0' || !isfinite(d) || d < 0.0 || d > 1e6)
		return -EINVAL;
	*ret = d;
	return 0;
}

static int
presence_parse_string(const char *v, char *out, size_t outlen)
{
	size_t len = strlen(v);

	if (len == 0 || len >= outlen || !presence_is_print(v, 1, outlen - 1))
		return -EINVAL;
	memcpy(out, v, len + 1);
	return 0;
}

int
presence_stat_apply(struct colibri_stats *st, const char *name,
    const char *value)
{
	static const struct {
		const char *name;
		size_t off;
	} counts[] = {
		{ "local_endpoints", offsetof(struct colibri_stats,
		    local_endpoints) },
		{ "participants", offsetof(struct colibri_stats,
		    participants) },
		{ "endpoints", offsetof(struct colibri_stats, endpoints) },
		{ "conferences", offsetof(struct colibri_stats, conferences) },
		{ "octo_endpoints", offsetof(struct colibri_stats,
		    octo_endpoints) },
	}, strings[] = {
		{ "version", offsetof(struct colibri_stats, version) },
		{ "region", offsetof(struct colibri_stats, region) },
		{ "release", offsetof(struct colibri_stats, release) },
	};
	size_t i;
	bool b;
	int n;

	if (name == NULL || value == NULL ||
	    !presence_is_print(name, 1, PRESENCE_STAT_NAME_MAX) ||
	    strlen(value) > PRESENCE_STAT_VALUE_MAX)
		return -EINVAL;

	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		if (strcmp(name, counts[i].name) != 0)
			continue;
		if (presence_parse_count(value, &n) != 0)
			return -EINVAL;
		*(int *)(void *)((char *)st + counts[i].off) = n;
		return 0;
	}
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		if (strcmp(name, strings[i].name) != 0)
			continue;
		return presence_parse_string(value,
		    (char *)st + strings[i].off, COLIBRI_STR_MAX);
	}
	if (strcmp(name, "stress_level") == 0)
		return presence_parse_double(value, &st->stress_level);
	if (strcmp(name, "drain") == 0) {
		if (presence_parse_bool(value, &b) != 0)
			return -EINVAL;
		st->has_drain = true;
		st->drain = b;
		return 0;
	}
	if (strcmp(name, "graceful_shutdown") == 0)
		return presence_parse_bool(value, &st->graceful_shutdown);
	if (strcmp(name, "shutting_down") == 0)
		return presence_parse_bool(value, &st->shutting_down);
	if (strcmp(name, "healthy") == 0) {
		if (presence_parse_bool(value, &b) != 0)
			return -EINVAL;
		st->healthy_known = true;
		st->healthy = b;
		return 0;
	}
	if (strcmp(name, "current_timestamp") == 0) {
		/* "yyyy-MM-dd HH:mm:ss.SSS", UTC */
		char iso[40];
		int64_t ms;
		size_t len = strlen(value);

		if (len < 19 || len > 29 || value[10] != ' ')
			return -EINVAL;
		snprintf(iso, sizeof(iso), "%.10sT%sZ", value, value + 11);
		if (timeutil_parse_iso8601(iso, &ms) != 0)
			return -EINVAL;
		st->snapshot_ms = ms;
		return 0;
	}
	return 1;
}

static bool
presence_is(xmpp_stanza_t *el, const char *name, const char *ns)
{
	const char *n, *s;

	if (!xmpp_stanza_is_tag(el) || (n = xmpp_stanza_get_name(el)) == NULL ||
	    strcmp(n, name) != 0)
		return false;
	if (ns == NULL)
		return true;
	return (s = xmpp_stanza_get_ns(el)) != NULL && strcmp(s, ns) == 0;
}

/* The whole element is rejected when it has too many children. */
static int
presence_parse_stats(xmpp_stanza_t *stats, struct colibri_stats *ret)
{
	struct colibri_stats st;
	xmpp_stanza_t *c;
	size_t n = 0;

	for (c = xmpp_stanza_get_children(stats); c != NULL;
	    c = xmpp_stanza_get_next(c)) {
		if (xmpp_stanza_is_tag(c) && ++n > PRESENCE_MAX_STATS)
			return -E2BIG;
	}
	presence_stats_init(&st);
	for (c = xmpp_stanza_get_children(stats); c != NULL;
	    c = xmpp_stanza_get_next(c)) {
		if (!presence_is(c, "stat", NULL))
			continue;
		st.nstats++;
		if (presence_stat_apply(&st,
		    xmpp_stanza_get_attribute(c, "name"),
		    xmpp_stanza_get_attribute(c, "value")) < 0)
			st.nbad++;
	}
	*ret = st;
	return 0;
}

static void
presence_parse_muc_user(xmpp_stanza_t *x, struct presence *p)
{
	xmpp_stanza_t *c;
	const char *code;
	size_t n = 0;
	int v;

	for (c = xmpp_stanza_get_children(x); c != NULL && n <
	    PRESENCE_MAX_STATUS; c = xmpp_stanza_get_next(c)) {
		if (!presence_is(c, "status", NULL))
			continue;
		n++;
		code = xmpp_stanza_get_attribute(c, "code");
		if (code == NULL || presence_parse_count(code, &v) != 0)
			continue;
		switch (v) {
		case 110:
			p->status |= PRESENCE_ST_SELF;
			break;
		case 201:
			p->status |= PRESENCE_ST_CREATED;
			break;
		case 303:
			p->status |= PRESENCE_ST_NICKCHANGE;
			break;
		case 301:
		case 307:
		case 321:
		case 322:
		case 332:
			p->status |= PRESENCE_ST_REMOVED;
			break;
		default:
			break;
		}
	}
}

static void
presence_parse_error(xmpp_stanza_t *err, struct presence *p)
{
	static const struct {
		const char *name;
		int code;
	} conds[] = {
		{ "bad-request", 400 },
		{ "conflict", 409 },
		{ "feature-not-implemented", 501 },
		{ "forbidden", 403 },
		{ "gone", 302 },
		{ "internal-server-error", 500 },
		{ "item-not-found", 404 },
		{ "jid-malformed", 400 },
		{ "not-acceptable", 406 },
		{ "not-allowed", 405 },
		{ "not-authorized", 401 },
		{ "policy-violation", 403 },
		{ "recipient-unavailable", 404 },
		{ "redirect", 302 },
		{ "registration-required", 407 },
		{ "remote-server-not-found", 404 },
		{ "remote-server-timeout", 504 },
		{ "resource-constraint", 500 },
		{ "service-unavailable", 503 },
		{ "subscription-required", 407 },
		{ "undefined-condition", 500 },
		{ "unexpected-request", 400 },
	};
	xmpp_stanza_t *c;
	const char *code, *name;
	size_t i, n = 0;
	int v;

	code = xmpp_stanza_get_attribute(err, "code");
	if (code != NULL && presence_parse_count(code, &v) == 0 &&
	    v >= 100 && v <= 599)
		p->error_code = v;
	for (c = xmpp_stanza_get_children(err); c != NULL && n < 8;
	    c = xmpp_stanza_get_next(c)) {
		const char *ns;

		if (!xmpp_stanza_is_tag(c))
			continue;
		n++;
		name = xmpp_stanza_get_name(c);
		ns = xmpp_stanza_get_ns(c);
		if (name == NULL || ns == NULL ||
		    strcmp(ns, PRESENCE_NS_STANZAS) != 0)
			continue;
		for (i = 0; i < sizeof(conds) / sizeof(conds[0]); i++) {
			if (strcmp(name, conds[i].name) != 0)
				continue;
			p->error_condition = conds[i].name;
			if (p->error_code == 0)
				p->error_code = conds[i].code;
			return;
		}
	}
}

/* "room@service/nick": bare part lower-cased, resource kept as is. */
static int
presence_parse_from(const char *from, struct presence *p)
{
	const char *slash, *at;
	size_t len, i;

	if (from == NULL)
		return -EPROTO;
	slash = strchr(from, '/');
	len = slash != NULL ? (size_t)(slash - from) : strlen(from);
	if (len < 3 || len > PRESENCE_ROOM_MAX)
		return -EPROTO;
	at = memchr(from, '@', len);
	if (at == NULL || at == from || (size_t)(at - from) == len - 1 ||
	    memchr(at + 1, '@', len - (size_t)(at - from) - 1) != NULL)
		return -EPROTO;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)from[i];

		if (c <= 0x20 || c > 0x7e)
			return -EPROTO;
		p->room[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : (char)c;
	}
	p->room[len] = '\0';
	p->nickname[0] = '\0';
	if (slash != NULL) {
		if (!presence_nick_valid(slash + 1))
			return -EPROTO;
		strcpy(p->nickname, slash + 1);
	}
	return 0;
}

int
presence_parse(xmpp_stanza_t *stanza, struct presence *ret)
{
	struct presence p;
	xmpp_stanza_t *c;
	const char *name, *type;
	bool seen_stats = false;
	size_t n = 0;
	int r;

	if (stanza == NULL || !xmpp_stanza_is_tag(stanza) ||
	    (name = xmpp_stanza_get_name(stanza)) == NULL ||
	    strcmp(name, "presence") != 0)
		return -EPROTO;
	memset(&p, 0, sizeof(p));
	presence_stats_init(&p.stats);
	type = xmpp_stanza_get_type(stanza);
	if (type == NULL)
		p.type = PRESENCE_AVAILABLE;
	else if (strcmp(type, "unavailable") == 0)
		p.type = PRESENCE_UNAVAILABLE;
	else if (strcmp(type, "error") == 0)
		p.type = PRESENCE_ERROR;
	else
		return -EPROTO;
	if ((r = presence_parse_from(xmpp_stanza_get_from(stanza), &p)) != 0)
		return r;

	for (c = xmpp_stanza_get_children(stanza); c != NULL;
	    c = xmpp_stanza_get_next(c)) {
		if (!xmpp_stanza_is_tag(c))
			continue;
		if (++n > PRESENCE_MAX_CHILDREN) {
			p.truncated = true;
			break;
		}
		if (!seen_stats && presence_is(c, "stats",
		    PRESENCE_NS_COLIBRI)) {
			seen_stats = true;
			if (presence_parse_stats(c, &p.stats) == 0)
				p.has_stats = true;
			else
				p.stats_invalid = true;
		} else if (!p.muc_user && presence_is(c, "x",
		    PRESENCE_NS_MUC_USER)) {
			p.muc_user = true;
			presence_parse_muc_user(c, &p);
		} else if (p.type == PRESENCE_ERROR && p.error_code == 0 &&
		    p.error_condition == NULL && presence_is(c, "error",
		    NULL)) {
			presence_parse_error(c, &p);
		}
	}
	*ret = p;
	return 0;
}

/*
 * An upper bound of the element nesting, without parsing: every '<' that
 * opens a tag counts one, every "</" or "/>" one less.  CDATA or comments
 * holding '<' only make the bound larger, which is on the safe side.
 */
static size_t
presence_text_depth(const char *s, size_t len)
{
	size_t i, depth = 0, max = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '<' && i + 1 < len) {
			if (s[i + 1] == '/') {
				if (depth > 0)
					depth--;
			} else if (s[i + 1] != '?' && s[i + 1] != '!') {
				if (++depth > max)
					max = depth;
			}
		} else if (s[i] == '/' && i + 1 < len && s[i + 1] == '>') {
			if (depth > 0)
				depth--;
		}
	}
	return max;
}

int
presence_parse_text(xmpp_ctx_t *ctx, const char *data, size_t len,
    struct presence *ret)
{
	xmpp_stanza_t *stanza;
	char *copy;
	int r;

	if (len > PRESENCE_TEXT_MAX)
		return -E2BIG;
	if (memchr(data, '\0', len) != NULL)
		return -EPROTO;
	if (presence_text_depth(data, len) > PRESENCE_TEXT_DEPTH_MAX)
		return -E2BIG;
	if ((copy = malloc(len + 1)) == NULL)
		return -ENOMEM;
	memcpy(copy, data, len);
	copy[len] = '\0';
	stanza = xmpp_stanza_new_from_string(ctx, copy);
	free(copy);
	if (stanza == NULL)
		return -EPROTO;
	r = presence_parse(stanza, ret);
	xmpp_stanza_release(stanza);
	return r;
}
