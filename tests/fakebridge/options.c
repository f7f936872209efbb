/* Bridge options from JSON; see options.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler/xmalloc.h"
#include "tests/fakebridge/options.h"

#define OPTIONS_DEFAULT_VERSION	"2.3.215-gbee626bf"
#define OPTIONS_MAX_SECONDS	1e9

static int
options_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
options_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void
options_default(struct options *o)
{
	memset(o, 0, sizeof(*o));
	strcpy(o->address, "127.0.0.1");
	o->port = 8080;
	o->rest_enabled = true;
	o->shutdown_enabled = true;
	o->drain_enabled = true;
	o->health_enabled = true;
	o->version_enabled = true;
	o->debug_enabled = true;
	o->healthy = true;
	o->mode = OPTIONS_MODE_NORMAL;
	o->version = xstrdup(OPTIONS_DEFAULT_VERSION);
	model_config_default(&o->model);
	o->request_log_max = 1000;
	o->xmpp.host = xstrdup("127.0.0.1");
	o->xmpp.port = 5222;
}

static void
options_xmpp_finish(struct options_xmpp *x)
{
	size_t i;

	free(x->host);
	free(x->domain);
	free(x->username);
	free(x->password_file);
	for (i = 0; i < x->nrooms; i++)
		free(x->rooms[i]);
	free(x->ca_file);
	memset(x, 0, sizeof(*x));
}

void
options_finish(struct options *o)
{
	free(o->id);
	free(o->nickname);
	free(o->version);
	free(o->release);
	free(o->region);
	free(o->relay_id);
	options_xmpp_finish(&o->xmpp);
	memset(o, 0, sizeof(*o));
}

static char *
options_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void
options_copy(struct options *dst, const struct options *src)
{
	size_t i;

	*dst = *src;
	dst->id = options_dup(src->id);
	dst->nickname = options_dup(src->nickname);
	dst->version = options_dup(src->version);
	dst->release = options_dup(src->release);
	dst->region = options_dup(src->region);
	dst->relay_id = options_dup(src->relay_id);
	dst->xmpp.host = options_dup(src->xmpp.host);
	dst->xmpp.domain = options_dup(src->xmpp.domain);
	dst->xmpp.username = options_dup(src->xmpp.username);
	dst->xmpp.password_file = options_dup(src->xmpp.password_file);
	dst->xmpp.ca_file = options_dup(src->xmpp.ca_file);
	for (i = 0; i < src->xmpp.nrooms; i++)
		dst->xmpp.rooms[i] = xstrdup(src->xmpp.rooms[i]);
}

bool
options_valid_token(const char *s, size_t max, const char *extra)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (extra == NULL || strchr(extra, c) == NULL)
			return false;
	}
	return n > 0 && n <= max;
}

static bool
options_loopback(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	return (ntohl(a.s_addr) >> 24) == 127;
}

static int
options_bool(json_t *v, const char *key, bool *out, char *err, size_t errlen)
{
	if (!json_is_boolean(v))
		return options_fail(err, errlen, "%s: expected true or false",
		    key);
	*out = json_is_true(v);
	return 0;
}

static int
options_uint(json_t *v, const char *key, unsigned max, unsigned *out,
    char *err, size_t errlen)
{
	json_int_t i;

	if (!json_is_integer(v) || (i = json_integer_value(v)) < 0 ||
	    i > (json_int_t)max)
		return options_fail(err, errlen,
		    "%s: expected an integer in [0, %u]", key, max);
	*out = (unsigned)i;
	return 0;
}

/* Seconds (integer or not) to ms; negative ones allowed when neg_ok. */
static int
options_seconds(json_t *v, const char *key, bool neg_ok, int64_t *out,
    char *err, size_t errlen)
{
	double d;

	if (!json_is_number(v))
		return options_fail(err, errlen, "%s: expected seconds", key);
	d = json_number_value(v);
	if (!isfinite(d) || d > OPTIONS_MAX_SECONDS || (d < 0 && !neg_ok))
		return options_fail(err, errlen, "%s: out of range", key);
	*out = d < 0 ? -1 : llround(d * 1000.0);
	return 0;
}

/* A printable string into *out (replacing it); null clears when ok. */
static int
options_string(json_t *v, const char *key, size_t max, const char *extra,
    bool null_ok, char **out, char *err, size_t errlen)
{
	if (json_is_null(v) && null_ok) {
		free(*out);
		*out = NULL;
		return 0;
	}
	if (!json_is_string(v) ||
	    !options_valid_token(json_string_value(v), max, extra))
		return options_fail(err, errlen,
		    "%s: expected a string of [A-Za-z0-9%s], 1..%zu bytes",
		    key, extra != NULL ? extra : "", max);
	free(*out);
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int
options_mode_parse(json_t *v, enum options_mode *out, char *err,
    size_t errlen)
{
	const char *s = json_string_value(v);

	if (s == NULL)
		s = "";
	if (strcmp(s, "normal") == 0)
		*out = OPTIONS_MODE_NORMAL;
	else if (strcmp(s, "404") == 0)
		*out = OPTIONS_MODE_404;
	else if (strcmp(s, "hang") == 0)
		*out = OPTIONS_MODE_HANG;
	else if (strcmp(s, "down") == 0)
		*out = OPTIONS_MODE_DOWN;
	else
		return options_fail(err, errlen,
		    "mode: expected \"normal\", \"404\", \"hang\" or \"down\"");
	return 0;
}

const char *
options_mode_name(enum options_mode mode)
{
	switch (mode) {
	case OPTIONS_MODE_NORMAL:
		return "normal";
	case OPTIONS_MODE_404:
		return "404";
	case OPTIONS_MODE_HANG:
		return "hang";
	case OPTIONS_MODE_DOWN:
		return "down";
	}
	return "?";
}

#define OPTIONS_JID_CHARS	"._-"
#define OPTIONS_PATH_CHARS	"._-/+"

static int
options_room(struct options_xmpp *x, const char *s, size_t len, char *err,
    size_t errlen)
{
	char *room = xstrndup(s, len);
	char *at = strchr(room, '@');

	if (at == NULL || at == room || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL) {
		free(room);
		return options_fail(err, errlen,
		    "muc_jids: expected room@muc-domain");
	}
	*at = '\0';
	if (!options_valid_token(room, 64, OPTIONS_JID_CHARS) ||
	    !options_valid_token(at + 1, 200, OPTIONS_JID_CHARS)) {
		free(room);
		return options_fail(err, errlen,
		    "muc_jids: expected room@muc-domain of [A-Za-z0-9._-]");
	}
	*at = '@';
	if (x->nrooms >= OPTIONS_MAX_ROOMS) {
		free(room);
		return options_fail(err, errlen, "muc_jids: at most %d rooms",
		    OPTIONS_MAX_ROOMS);
	}
	x->rooms[x->nrooms++] = room;
	return 0;
}

static int
options_rooms(struct options_xmpp *x, json_t *v, char *err, size_t errlen)
{
	const char *s, *comma;
	size_t i;
	json_t *item;
	int r;

	for (i = 0; i < x->nrooms; i++)
		free(x->rooms[i]);
	x->nrooms = 0;
	if (json_is_string(v)) {
		/* MUC_JIDS: a comma-separated list, as in jvb.conf. */
		s = json_string_value(v);
		for (;;) {
			while (*s == ' ')
				s++;
			comma = strchr(s, ',');
			if ((r = options_room(x, s, comma != NULL ?
			    (size_t)(comma - s) : strlen(s), err, errlen)) < 0)
				return r;
			if (comma == NULL)
				break;
			s = comma + 1;
		}
		return 0;
	}
	if (!json_is_array(v) || json_array_size(v) == 0)
		return options_fail(err, errlen,
		    "muc_jids: expected a string or an array of strings");
	json_array_foreach(v, i, item) {
		if (!json_is_string(item))
			return options_fail(err, errlen,
			    "muc_jids: expected strings");
		if ((r = options_room(x, json_string_value(item),
		    strlen(json_string_value(item)), err, errlen)) < 0)
			return r;
	}
	return 0;
}

static int
options_xmpp_apply(struct options *o, json_t *obj, char *err, size_t errlen)
{
	struct options_xmpp *x = &o->xmpp;
	const char *key, *s;
	unsigned port = 0;
	json_t *v;
	int r = 0;

	if (json_is_false(obj) || json_is_null(obj)) {
		o->xmpp_enabled = false;
		return 0;
	}
	if (!json_is_object(obj))
		return options_fail(err, errlen,
		    "xmpp: expected an object or false");
	o->xmpp_enabled = true;
	json_object_foreach(obj, key, v) {
		if (strcmp(key, "host") == 0)
			r = options_string(v, "xmpp.host", 253, "._-", false,
			    &x->host, err, errlen);
		else if (strcmp(key, "port") == 0) {
			if ((r = options_uint(v, "xmpp.port", 65535, &port, err,
			    errlen)) == 0)
				x->port = (uint16_t)port;
		} else if (strcmp(key, "domain") == 0)
			r = options_string(v, "xmpp.domain", 200,
			    OPTIONS_JID_CHARS, false, &x->domain, err, errlen);
		else if (strcmp(key, "username") == 0)
			r = options_string(v, "xmpp.username", 64,
			    OPTIONS_JID_CHARS, false, &x->username, err,
			    errlen);
		else if (strcmp(key, "password_file") == 0)
			r = options_string(v, "xmpp.password_file", 1024,
			    OPTIONS_PATH_CHARS, false, &x->password_file, err,
			    errlen);
		else if (strcmp(key, "ca_file") == 0)
			r = options_string(v, "xmpp.ca_file", 1024,
			    OPTIONS_PATH_CHARS, true, &x->ca_file, err, errlen);
		else if (strcmp(key, "muc_jids") == 0)
			r = options_rooms(x, v, err, errlen);
		else if (strcmp(key, "tls") == 0) {
			s = json_string_value(v);
			if (s != NULL && strcmp(s, "off") == 0)
				x->tls = OPTIONS_TLS_OFF;
			else if (s != NULL && strcmp(s, "on") == 0)
				x->tls = OPTIONS_TLS_ON;
			else if (s != NULL && strcmp(s, "trust") == 0)
				x->tls = OPTIONS_TLS_TRUST;
			else
				r = options_fail(err, errlen, "xmpp.tls: "
				    "expected \"off\", \"on\" or \"trust\"");
			x->tls_given = true;
		} else
			r = options_fail(err, errlen, "xmpp: unknown key %s",
			    options_valid_token(key, 64, "_") ? key : "?");
		if (r < 0)
			return r;
	}
	return 0;
}

static int
options_apply_one(struct options *o, const char *key, json_t *v,
    bool runtime, char *err, size_t errlen)
{
	struct model_config *mc = &o->model;
	int64_t ms = 0;
	unsigned u = 0;
	int r;

	/* Live switches and limits. */
	if (strcmp(key, "mode") == 0)
		return options_mode_parse(v, &o->mode, err, errlen);
	if (strcmp(key, "rest_enabled") == 0)
		return options_bool(v, key, &o->rest_enabled, err, errlen);
	if (strcmp(key, "shutdown_enabled") == 0)
		return options_bool(v, key, &o->shutdown_enabled, err, errlen);
	if (strcmp(key, "drain_enabled") == 0)
		return options_bool(v, key, &o->drain_enabled, err, errlen);
	if (strcmp(key, "health_enabled") == 0)
		return options_bool(v, key, &o->health_enabled, err, errlen);
	if (strcmp(key, "version_enabled") == 0)
		return options_bool(v, key, &o->version_enabled, err, errlen);
	if (strcmp(key, "debug_enabled") == 0)
		return options_bool(v, key, &o->debug_enabled, err, errlen);
	if (strcmp(key, "legacy_shutting_down") == 0)
		return options_bool(v, key, &o->legacy_shutting_down, err,
		    errlen);
	if (strcmp(key, "legacy_no_drain") == 0)
		return options_bool(v, key, &o->legacy_no_drain, err, errlen);
	if (strcmp(key, "healthy") == 0)
		return options_bool(v, key, &o->healthy, err, errlen);
	if (strcmp(key, "version") == 0)
		return options_string(v, key, 64, "._-+~", false, &o->version,
		    err, errlen);
	if (strcmp(key, "release") == 0)
		return options_string(v, key, 64, "._-+~", true, &o->release,
		    err, errlen);
	if (strcmp(key, "region") == 0)
		return options_string(v, key, 64, "._-", true, &o->region, err,
		    errlen);
	if (strcmp(key, "relay_id") == 0)
		return options_string(v, key, 64, "._-", true, &o->relay_id,
		    err, errlen);
	if (strcmp(key, "max_duration_s") == 0)
		return options_seconds(v, key, false, &mc->max_duration_ms, err,
		    errlen);
	if (strcmp(key, "shutting_down_delay_s") == 0)
		return options_seconds(v, key, false,
		    &mc->shutting_down_delay_ms, err, errlen);
	if (strcmp(key, "stats_interval_s") == 0) {
		if ((r = options_seconds(v, key, false, &ms, err, errlen)) < 0)
			return r;
		if (ms < 1)
			return options_fail(err, errlen,
			    "stats_interval_s: must be > 0");
		mc->stats_interval_ms = ms;
		return 0;
	}
	if (strcmp(key, "move_after_s") == 0)
		return options_seconds(v, key, true, &mc->move_after_ms, err,
		    errlen);
	if (strcmp(key, "min_participants") == 0)
		return options_uint(v, key, MODEL_MAX_PARTICIPANTS,
		    &mc->min_participants, err, errlen);
	if (strcmp(key, "conference_size") == 0) {
		if ((r = options_uint(v, key, MODEL_MAX_PARTICIPANTS, &u, err,
		    errlen)) < 0)
			return r;
		if (u == 0)
			return options_fail(err, errlen,
			    "conference_size: must be >= 1");
		mc->conference_size = u;
		return 0;
	}
	if (strcmp(key, "octo_endpoints") == 0)
		return options_uint(v, key, MODEL_MAX_PARTICIPANTS,
		    &mc->octo_endpoints, err, errlen);
	if (strcmp(key, "stress_per_endpoint") == 0) {
		if (!json_is_number(v) || !(json_number_value(v) >= 0 &&
		    json_number_value(v) <= 1e6))
			return options_fail(err, errlen,
			    "%s: expected a number >= 0", key);
		mc->stress_per_endpoint = json_number_value(v);
		return 0;
	}

	/* What a running bridge cannot change. */
	if (strcmp(key, "id") == 0 || strcmp(key, "address") == 0 ||
	    strcmp(key, "port") == 0 || strcmp(key, "nickname") == 0 ||
	    strcmp(key, "participants") == 0 ||
	    strcmp(key, "initial_drain") == 0 ||
	    strcmp(key, "request_log_max") == 0 || strcmp(key, "xmpp") == 0) {
		if (runtime)
			return options_fail(err, errlen,
			    "%s: only at creation", key);
	} else
		return options_fail(err, errlen, "unknown key %s",
		    options_valid_token(key, 64, "_") ? key : "?");

	if (strcmp(key, "id") == 0)
		return options_string(v, key, 100, "._:-", false, &o->id, err,
		    errlen);
	if (strcmp(key, "address") == 0) {
		if (!json_is_string(v) ||
		    !options_loopback(json_string_value(v)))
			return options_fail(err, errlen,
			    "address: expected a dotted IPv4 in 127.0.0.0/8");
		snprintf(o->address, sizeof(o->address), "%s",
		    json_string_value(v));
		return 0;
	}
	if (strcmp(key, "port") == 0) {
		if ((r = options_uint(v, key, 65535, &u, err, errlen)) < 0)
			return r;
		o->port = (uint16_t)u;
		return 0;
	}
	if (strcmp(key, "nickname") == 0)
		return options_string(v, key, 64, "._-", false, &o->nickname,
		    err, errlen);
	if (strcmp(key, "participants") == 0)
		return options_uint(v, key, MODEL_MAX_PARTICIPANTS,
		    &o->participants, err, errlen);
	if (strcmp(key, "initial_drain") == 0)
		return options_bool(v, key, &o->initial_drain, err, errlen);
	if (strcmp(key, "request_log_max") == 0) {
		if ((r = options_uint(v, key, 1000000, &u, err, errlen)) < 0)
			return r;
		if (u == 0)
			return options_fail(err, errlen,
			    "request_log_max: must be >= 1");
		o->request_log_max = u;
		return 0;
	}
	return options_xmpp_apply(o, v, err, errlen);
}

int
options_apply_json(struct options *o, json_t *obj, bool runtime, char *err,
    size_t errlen)
{
	const char *key;
	json_t *v;
	int r;

	if (!json_is_object(obj))
		return options_fail(err, errlen, "expected a JSON object");
	json_object_foreach(obj, key, v) {
		if ((r = options_apply_one(o, key, v, runtime, err,
		    errlen)) < 0)
			return r;
	}
	return 0;
}

int
options_check(const struct options *o, char *err, size_t errlen)
{
	const struct options_xmpp *x = &o->xmpp;

	if (model_config_check(&o->model) < 0)
		return options_fail(err, errlen, "limits out of range");
	if (!o->xmpp_enabled)
		return 0;
	if (x->domain == NULL || x->username == NULL ||
	    x->password_file == NULL || x->nrooms == 0)
		return options_fail(err, errlen, "xmpp: domain, username, "
		    "password_file and muc_jids are required");
	if (strcmp(x->host, "localhost") != 0 && !options_loopback(x->host))
		return options_fail(err, errlen,
		    "xmpp.host: tests talk to loopback only");
	if (x->port == 0)
		return options_fail(err, errlen, "xmpp.port: must be > 0");
	return 0;
}

static json_t *
options_str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
options_seconds_json(int64_t ms)
{
	return ms < 0 ? json_integer(-1) : json_real((double)ms / 1000.0);
}

json_t *
options_json(const struct options *o)
{
	const struct model_config *mc = &o->model;
	const struct options_xmpp *x = &o->xmpp;
	json_t *j, *rooms;
	size_t i;

	j = json_object();
	json_object_set_new(j, "mode", json_string(options_mode_name(o->mode)));
	json_object_set_new(j, "rest_enabled", json_boolean(o->rest_enabled));
	json_object_set_new(j, "shutdown_enabled",
	    json_boolean(o->shutdown_enabled));
	json_object_set_new(j, "drain_enabled", json_boolean(o->drain_enabled));
	json_object_set_new(j, "health_enabled",
	    json_boolean(o->health_enabled));
	json_object_set_new(j, "version_enabled",
	    json_boolean(o->version_enabled));
	json_object_set_new(j, "debug_enabled", json_boolean(o->debug_enabled));
	json_object_set_new(j, "legacy_shutting_down",
	    json_boolean(o->legacy_shutting_down));
	json_object_set_new(j, "legacy_no_drain",
	    json_boolean(o->legacy_no_drain));
	json_object_set_new(j, "healthy", json_boolean(o->healthy));
	json_object_set_new(j, "version", json_string(o->version));
	json_object_set_new(j, "release", options_str_or_null(o->release));
	json_object_set_new(j, "region", options_str_or_null(o->region));
	json_object_set_new(j, "relay_id", options_str_or_null(o->relay_id));
	json_object_set_new(j, "max_duration_s",
	    options_seconds_json(mc->max_duration_ms));
	json_object_set_new(j, "shutting_down_delay_s",
	    options_seconds_json(mc->shutting_down_delay_ms));
	json_object_set_new(j, "stats_interval_s",
	    options_seconds_json(mc->stats_interval_ms));
	json_object_set_new(j, "move_after_s",
	    options_seconds_json(mc->move_after_ms));
	json_object_set_new(j, "min_participants",
	    json_integer(mc->min_participants));
	json_object_set_new(j, "conference_size",
	    json_integer(mc->conference_size));
	json_object_set_new(j, "octo_endpoints",
	    json_integer(mc->octo_endpoints));
	json_object_set_new(j, "stress_per_endpoint",
	    json_real(mc->stress_per_endpoint));
	json_object_set_new(j, "request_log_max",
	    json_integer(o->request_log_max));
	if (!o->xmpp_enabled) {
		json_object_set_new(j, "xmpp", json_false());
		return j;
	}
	rooms = json_array();
	for (i = 0; i < x->nrooms; i++)
		json_array_append_new(rooms, json_string(x->rooms[i]));
	json_object_set_new(j, "xmpp", json_pack("{ss si ss ss so ss}",
	    "host", x->host, "port", (int)x->port, "domain", x->domain,
	    "username", x->username, "muc_jids", rooms, "tls",
	    x->tls == OPTIONS_TLS_OFF ? "off" : x->tls == OPTIONS_TLS_ON ?
	    "on" : "trust"));
	return j;
}
