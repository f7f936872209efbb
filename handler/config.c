/*
 * INI configuration through inih.  Line numbers come from our own reader
 * (Debian's inih does not pass them to the handler): it counts the lines it
 * hands to inih and notes where each [section] header stands.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "handler/config.h"
#include "handler/secret.h"
#include "handler/xmalloc.h"

enum config_type {
	T_STR,		/* printable, non-empty */
	T_URL,		/* http(s)://... */
	T_PATH,		/* absolute or relative path */
	T_PORT,
	T_UINT,
	T_DURATION,
	T_BOOL,
	T_RESULT,	/* continue | abandon */
	T_TLS,		/* required | off */
	T_LOGLEVEL,
	T_HOSTPORT,	/* host:port | off */
	T_LIST,		/* comma-separated names */
	T_VERIFY,	/* brewery+health | health */
	T_REGION,
};

#define REQUIRED	0x1	/* always */
#define REQUIRED_IN	0x2	/* when its section is present */

struct config_key {
	const char		*section;
	const char		*name;
	enum config_type	 type;
	size_t			 offset;
	int			 flags;
	uint64_t		 min, max;	/* T_UINT, T_PORT, T_DURATION */
};

#define O(f)	offsetof(struct config, f)
#define MS(s)	((uint64_t)(s) * 1000)

static const struct config_key config_keys[] = {
	{ "aws", "region", T_REGION, O(aws.region), REQUIRED, 0, 0 },
	{ "aws", "queue_url", T_URL, O(aws.queue_url), REQUIRED, 0, 0 },
	{ "aws", "endpoint_url", T_URL, O(aws.endpoint_url), 0, 0, 0 },
	{ "aws", "ca_file", T_PATH, O(aws.ca_file), 0, 0, 0 },
	{ "aws", "max_attempts", T_UINT, O(aws.max_attempts), 0, 1, 20 },
	{ "aws", "call_budget", T_DURATION, O(aws.call_budget_ms), 0,
	    MS(1), MS(600) },

	{ "bridge", "port", T_PORT, O(bridge.port), 0, 1, 65535 },
	{ "bridge", "timeout", T_DURATION, O(bridge.timeout_ms), 0,
	    100, MS(120) },
	{ "bridge", "unreachable_timeout", T_DURATION,
	    O(bridge.unreachable_timeout_ms), 0, 0, MS(3600) },
	{ "bridge", "stats_interval", T_DURATION,
	    O(bridge.stats_interval_ms), 0, 100, MS(600) },
	{ "bridge", "graceful_shutdown_min_participants", T_UINT,
	    O(bridge.min_participants), 0, 0, 100000 },
	{ "bridge", "graceful_shutdown_max_duration", T_DURATION,
	    O(bridge.graceful_max_ms), 0, MS(1), MS(7 * 86400) },
	{ "bridge", "shutting_down_delay", T_DURATION,
	    O(bridge.shutting_down_delay_ms), 0, 0, MS(3600) },

	{ "xmpp", "server", T_STR, O(xmpp.server), REQUIRED_IN, 0, 0 },
	{ "xmpp", "port", T_PORT, O(xmpp.port), 0, 1, 65535 },
	{ "xmpp", "domain", T_STR, O(xmpp.domain), REQUIRED_IN, 0, 0 },
	{ "xmpp", "username", T_STR, O(xmpp.username), REQUIRED_IN, 0, 0 },
	{ "xmpp", "password_file", T_PATH, O(xmpp.password_file),
	    REQUIRED_IN, 0, 0 },
	{ "xmpp", "brewery", T_STR, O(xmpp.brewery), REQUIRED_IN, 0, 0 },
	{ "xmpp", "tls", T_TLS, O(xmpp.tls), 0, 0, 0 },
	{ "xmpp", "ca_file", T_PATH, O(xmpp.ca_file), 0, 0, 0 },
	{ "xmpp", "nickname", T_STR, O(xmpp.nickname), 0, 0, 0 },
	{ "xmpp", "ping_interval", T_DURATION, O(xmpp.ping_interval_ms), 0,
	    MS(5), MS(3600) },

	{ "drain", "max_duration", T_DURATION, O(drain.max_duration_ms), 0,
	    MS(1), MS(48 * 3600) },
	{ "drain", "on_timeout", T_RESULT, O(drain.on_timeout), 0, 0, 0 },
	{ "drain", "poll_interval", T_DURATION, O(drain.poll_interval_ms), 0,
	    100, MS(600) },
	{ "drain", "presence_poll_interval", T_DURATION,
	    O(drain.presence_poll_interval_ms), 0, 100, MS(600) },
	{ "drain", "force_on_timeout", T_BOOL, O(drain.force_on_timeout), 0,
	    0, 0 },
	{ "drain", "on_unreachable", T_RESULT, O(drain.on_unreachable), 0,
	    0, 0 },

	{ "launch", "timeout", T_DURATION, O(launch.timeout_ms), 0,
	    MS(1), MS(48 * 3600) },
	{ "launch", "on_timeout", T_RESULT, O(launch.on_timeout), 0, 0, 0 },
	{ "launch", "verify", T_VERIFY, O(launch.verify), 0, 0, 0 },

	{ "rebalance", "drain", T_BOOL, O(rebalance.drain), 0, 0, 0 },
	{ "rebalance", "undo_after", T_DURATION, O(rebalance.undo_after_ms),
	    0, MS(10), MS(48 * 3600) },

	{ "protection", "enabled", T_BOOL, O(protection.enabled), 0, 0, 0 },
	{ "protection", "groups", T_LIST, O(protection.groups), 0, 0, 0 },
	{ "protection", "threshold", T_UINT, O(protection.threshold), 0,
	    0, 100000 },
	{ "protection", "hysteresis", T_UINT, O(protection.hysteresis), 0,
	    0, 100000 },
	{ "protection", "unprotected_min", T_UINT,
	    O(protection.unprotected_min), 0, 1, 10000 },
	{ "protection", "interval", T_DURATION, O(protection.interval_ms), 0,
	    MS(5), MS(3600) },
	{ "protection", "max_calls_per_minute", T_UINT,
	    O(protection.max_calls_per_minute), 0, 1, 120 },

	{ "daemon", "state_dir", T_PATH, O(daemon.state_dir), REQUIRED, 0, 0 },
	{ "daemon", "audit_log", T_PATH, O(daemon.audit_log), REQUIRED, 0, 0 },
	{ "daemon", "log_file", T_PATH, O(daemon.log_file), 0, 0, 0 },
	{ "daemon", "log_level", T_LOGLEVEL, O(daemon.log_level), 0, 0, 0 },
	{ "daemon", "admin", T_HOSTPORT, O(daemon.admin_host), 0, 0, 0 },
	{ "daemon", "max_in_flight", T_UINT, O(daemon.max_in_flight), 0,
	    1, 100000 },
	{ "daemon", "dry_run", T_BOOL, O(daemon.dry_run), 0, 0, 0 },
	{ "daemon", "groups", T_LIST, O(daemon.groups), 0, 0, 0 },
	{ "daemon", "visibility_timeout", T_DURATION,
	    O(daemon.visibility_timeout_ms), 0, MS(30), MS(12 * 3600) },
	{ "daemon", "receive_wait", T_DURATION, O(daemon.receive_wait_s), 0,
	    0, MS(20) },
	{ "daemon", "health_threshold", T_DURATION,
	    O(daemon.health_threshold_ms), 0, MS(1), MS(3600) },
};
#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

_Static_assert(offsetof(struct config, daemon.ngroups) ==
    offsetof(struct config, daemon.groups) + sizeof(char **),
    "a list's count follows it");
_Static_assert(offsetof(struct config, protection.ngroups) ==
    offsetof(struct config, protection.groups) + sizeof(char **),
    "a list's count follows it");

static const char *const config_sections[] = {
	"aws", "bridge", "xmpp", "drain", "launch", "rebalance", "protection",
	"daemon",
};
#define CONFIG_NSECTIONS (sizeof(config_sections) / sizeof(config_sections[0]))

#define CONFIG_MAX_LINE 196	/* inih's buffer (200) less "\r\n\0" and one */

struct config_parse {
	struct config		*cfg;
	struct config_errors	*errs;
	FILE			*fp;
	unsigned		 lineno;	/* of the line inih is looking at */
	unsigned		 section_line[CONFIG_NSECTIONS];
	unsigned		 key_line[CONFIG_NKEYS];
	unsigned		 last_line;
	bool			 overlong_reported;
	unsigned		 flags;		/* CONFIG_LOAD_* */
};

static void
config_error(struct config_parse *p, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
config_error(struct config_parse *p, unsigned line, const char *fmt, ...)
{
	struct config_errors *e = p->errs;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e->msgs = xreallocarray(e->msgs, e->n + 1, sizeof(*e->msgs));
	e->lines = xreallocarray(e->lines, e->n + 1, sizeof(*e->lines));
	e->lines[e->n] = line;
	if (line > 0)
		e->msgs[e->n++] = xasprintf("%s:%u: %s", p->cfg->path, line,
		    msg);
	else
		e->msgs[e->n++] = xasprintf("%s: %s", p->cfg->path, msg);
}

/* What a user wrote, made safe to print back. */
static void
config_quote(char *dst, size_t len, const char *src)
{
	size_t o = 0;

	for (; *src != '\0' && o + 4 < len; src++)
		dst[o++] = isprint((unsigned char)*src) ? *src : '?';
	if (*src != '\0' && o + 4 <= len) {
		dst[o++] = '.';
		dst[o++] = '.';
		dst[o++] = '.';
	}
	dst[o] = '\0';
}

static int
config_section_index(const char *name)
{
	size_t i;

	for (i = 0; i < CONFIG_NSECTIONS; i++)
		if (strcmp(config_sections[i], name) == 0)
			return (int)i;
	return -1;
}

static char *
config_reader(char *str, int num, void *stream)
{
	struct config_parse *p = stream;
	const char *s;
	size_t len;
	char *end, name[64];

	if (fgets(str, num, p->fp) == NULL)
		return NULL;
	p->lineno++;
	p->last_line = p->lineno;
	len = strlen(str);
	if (len > 0 && str[len - 1] != '\n' && !feof(p->fp)) {
		int c;

		config_error(p, p->lineno, "line longer than %d characters",
		    CONFIG_MAX_LINE);
		/* swallow the rest so line numbers stay true */
		while ((c = fgetc(p->fp)) != EOF && c != '\n')
			;
		str[0] = '\0';
		return str;
	}
	for (s = str; *s == ' ' || *s == '\t'; s++)
		;
	if (*s == '[' && (end = strchr(s, ']')) != NULL &&
	    (size_t)(end - s - 1) < sizeof(name)) {
		int idx;

		memcpy(name, s + 1, (size_t)(end - s - 1));
		name[end - s - 1] = '\0';
		if ((idx = config_section_index(name)) >= 0) {
			if (p->section_line[idx] == 0)
				p->section_line[idx] = p->lineno;
		} else {
			char q[80];

			config_quote(q, sizeof(q), name);
			config_error(p, p->lineno, "[%s]: unknown section", q);
		}
	}
	return str;
}

int
config_parse_duration(const char *s, uint64_t *ret_ms)
{
	uint64_t total = 0, n, unit;
	const char *p = s;
	bool any = false;

	if (*p == '\0')
		return -EINVAL;
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		n = 0;
		for (; isdigit((unsigned char)*p); p++) {
			if (n > UINT64_MAX / 10 / 3600000)
				return -ERANGE;
			n = n * 10 + (uint64_t)(*p - '0');
		}
		if (strncmp(p, "ms", 2) == 0) {
			unit = 1;
			p += 2;
		} else if (*p == 's') {
			unit = 1000;
			p++;
		} else if (*p == 'm') {
			unit = 60000;
			p++;
		} else if (*p == 'h') {
			unit = 3600000;
			p++;
		} else if (*p == '\0' && !any) {
			unit = 1000;	/* a bare number is seconds */
		} else {
			return -EINVAL;
		}
		total += n * unit;
		any = true;
	}
	*ret_ms = total;
	return 0;
}

int
config_parse_bool(const char *s, bool *ret)
{
	if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 ||
	    strcasecmp(s, "on") == 0 || strcmp(s, "1") == 0) {
		*ret = true;
		return 0;
	}
	if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0 ||
	    strcasecmp(s, "off") == 0 || strcmp(s, "0") == 0) {
		*ret = false;
		return 0;
	}
	return -EINVAL;
}

const char *
config_result_name(enum config_result r)
{
	return r == CONFIG_ABANDON ? "ABANDON" : "CONTINUE";
}

static bool
config_printable(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isprint((unsigned char)*s))
			return false;
	return true;
}

static bool
config_valid_url(const char *s)
{
	const char *host;

	if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else
		return false;
	if (*host == '\0' || *host == '/')
		return false;
	for (; *s != '\0'; s++)
		if (!isgraph((unsigned char)*s))
			return false;
	return true;
}

static bool
config_valid_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 255 && config_printable(s);
}

static int
config_set_list(char ***ret, size_t *ret_n, const char *value)
{
	char *copy = xstrdup(value), *rest = copy, *tok;
	char **list = NULL;
	size_t n = 0;
	int r = 0;

	/* strsep, not strtok: "a,,b" has an empty name, which is an error */
	while ((tok = strsep(&rest, ",")) != NULL) {
		char *end;

		while (*tok == ' ' || *tok == '\t')
			tok++;
		end = tok + strlen(tok);
		while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (!config_valid_name(tok)) {
			r = -EINVAL;
			break;
		}
		list = xreallocarray(list, n + 2, sizeof(*list));
		list[n++] = xstrdup(tok);
		list[n] = NULL;
	}
	free(copy);
	if (r == 0 && n == 0)
		r = -EINVAL;
	if (r != 0) {
		while (n > 0)
			free(list[--n]);
		free(list);
		return r;
	}
	*ret = list;
	*ret_n = n;
	return 0;
}

static void
config_free_list(char **list)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; list[i] != NULL; i++)
		free(list[i]);
	free(list);
}

/* Returns NULL when the value is fine, else why it is not. */
static const char *
config_set(struct config *cfg, const struct config_key *k, const char *value,
    char *why, size_t whylen)
{
	void *field = (char *)cfg + k->offset;
	uint64_t ms;
	unsigned long long u;
	char *end;
	bool b;

	switch (k->type) {
	case T_STR:
	case T_PATH:
		if (!config_printable(value))
			return "expected a non-empty printable value";
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return NULL;
	case T_REGION:
		if (!config_printable(value) || strlen(value) > 32 ||
		    strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
		    strlen(value))
			return "expected an AWS region such as eu-west-1";
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return NULL;
	case T_URL:
		if (!config_valid_url(value))
			return "expected an http:// or https:// URL";
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return NULL;
	case T_PORT:
	case T_UINT:
		errno = 0;
		u = strtoull(value, &end, 10);
		if (!isdigit((unsigned char)*value) || *end != '\0' ||
		    errno != 0 || u < k->min || u > k->max) {
			snprintf(why, whylen, "expected a whole number "
			    "from %llu to %llu", (unsigned long long)k->min,
			    (unsigned long long)k->max);
			return why;
		}
		*(unsigned *)field = (unsigned)u;
		return NULL;
	case T_DURATION:
		if (config_parse_duration(value, &ms) != 0)
			return "expected a duration such as 90s, 15m or 2h";
		if (ms < k->min || ms > k->max) {
			snprintf(why, whylen, "must be from %llums to %llus",
			    (unsigned long long)k->min,
			    (unsigned long long)(k->max / 1000));
			return why;
		}
		if (k->offset == O(daemon.receive_wait_s))
			*(unsigned *)field = (unsigned)(ms / 1000);
		else
			*(uint64_t *)field = ms;
		return NULL;
	case T_BOOL:
		if (config_parse_bool(value, &b) != 0)
			return "expected true or false";
		*(bool *)field = b;
		return NULL;
	case T_RESULT:
		if (strcasecmp(value, "continue") == 0)
			*(enum config_result *)field = CONFIG_CONTINUE;
		else if (strcasecmp(value, "abandon") == 0)
			*(enum config_result *)field = CONFIG_ABANDON;
		else
			return "expected continue or abandon";
		return NULL;
	case T_TLS:
		if (strcasecmp(value, "required") == 0)
			*(bool *)field = true;
		else if (strcasecmp(value, "off") == 0)
			*(bool *)field = false;
		else
			return "expected required or off";
		return NULL;
	case T_VERIFY:
		if (strcasecmp(value, "brewery+health") == 0)
			*(enum config_launch_verify *)field =
			    CONFIG_VERIFY_BREWERY_HEALTH;
		else if (strcasecmp(value, "health") == 0)
			*(enum config_launch_verify *)field =
			    CONFIG_VERIFY_HEALTH;
		else
			return "expected brewery+health or health";
		return NULL;
	case T_LOGLEVEL:
		if (strcasecmp(value, "debug") == 0)
			*(enum log_level *)field = LOG_LEVEL_DEBUG;
		else if (strcasecmp(value, "info") == 0)
			*(enum log_level *)field = LOG_LEVEL_INFO;
		else if (strcasecmp(value, "notice") == 0)
			*(enum log_level *)field = LOG_LEVEL_NOTICE;
		else if (strcasecmp(value, "warning") == 0)
			*(enum log_level *)field = LOG_LEVEL_WARNING;
		else if (strcasecmp(value, "error") == 0)
			*(enum log_level *)field = LOG_LEVEL_ERR;
		else
			return "expected debug, info, notice, warning or error";
		return NULL;
	case T_HOSTPORT: {
		const char *colon = strrchr(value, ':');
		char *host;

		if (strcasecmp(value, "off") == 0) {
			free(cfg->daemon.admin_host);
			cfg->daemon.admin_host = NULL;
			return NULL;
		}
		if (colon == NULL || colon == value)
			return "expected host:port or off";
		errno = 0;
		u = strtoull(colon + 1, &end, 10);
		if (!isdigit((unsigned char)colon[1]) || *end != '\0' ||
		    errno != 0 || u < 1 || u > 65535)
			return "expected host:port (port 1-65535) or off";
		host = xstrndup(value, (size_t)(colon - value));
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			char *inner = xstrndup(host + 1, strlen(host) - 2);

			free(host);
			host = inner;
		}
		if (!config_printable(host)) {
			free(host);
			return "expected host:port or off";
		}
		free(cfg->daemon.admin_host);
		cfg->daemon.admin_host = host;
		cfg->daemon.admin_port = (unsigned)u;
		return NULL;
	}
	case T_LIST: {
		char **list;
		size_t n;

		if (config_set_list(&list, &n, value) != 0)
			return "expected a comma-separated list of names";
		/* a list field is followed by its count (asserted below) */
		config_free_list(*(char ***)field);
		*(char ***)field = list;
		*(size_t *)(void *)((char *)field + sizeof(char **)) = n;
		return NULL;
	}
	}
	return "internal error: unknown key type";
}

static int
config_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct config_parse *p = user;
	char qs[80], qn[80], qv[80], why[128];
	const char *bad;
	size_t i;

	config_quote(qs, sizeof(qs), section);
	config_quote(qn, sizeof(qn), name);
	if (*section == '\0') {
		config_error(p, p->lineno, "%s: key outside any section", qn);
		return 1;
	}
	if (config_section_index(section) < 0)
		return 1;	/* reported once, at the header */
	for (i = 0; i < CONFIG_NKEYS; i++)
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].name, name) == 0)
			break;
	if (i == CONFIG_NKEYS) {
		config_error(p, p->lineno, "[%s] %s: unknown key", qs, qn);
		return 1;
	}
	if (p->key_line[i] != 0) {
		config_error(p, p->lineno, "[%s] %s: set again (first set on "
		    "line %u)", qs, qn, p->key_line[i]);
		return 1;
	}
	p->key_line[i] = p->lineno;
	if ((bad = config_set(p->cfg, &config_keys[i], value, why,
	    sizeof(why))) != NULL) {
		config_quote(qv, sizeof(qv), value);
		config_error(p, p->lineno, "[%s] %s: \"%s\": %s", qs, qn, qv,
		    bad);
	}
	return 1;
}

static void
config_defaults(struct config *cfg)
{
	char host[256];

	cfg->aws.max_attempts = 5;
	cfg->aws.call_budget_ms = MS(60);
	cfg->bridge.port = 8080;
	cfg->bridge.timeout_ms = MS(5);
	cfg->bridge.unreachable_timeout_ms = MS(120);
	cfg->bridge.stats_interval_ms = MS(5);
	cfg->bridge.min_participants = 0;
	cfg->bridge.graceful_max_ms = MS(24 * 3600);
	cfg->bridge.shutting_down_delay_ms = MS(60);
	cfg->xmpp.port = 5222;
	cfg->xmpp.tls = true;
	cfg->xmpp.ping_interval_ms = MS(30);
	if (gethostname(host, sizeof(host)) != 0)
		strcpy(host, "host");
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ".")] = '\0';
	cfg->xmpp.nickname = xasprintf("jvb-lifecycled-%s", host);
	cfg->drain.max_duration_ms = MS(2 * 3600);
	cfg->drain.on_timeout = CONFIG_CONTINUE;
	cfg->drain.poll_interval_ms = MS(1);
	cfg->drain.presence_poll_interval_ms = MS(15);
	cfg->drain.force_on_timeout = true;
	cfg->drain.on_unreachable = CONFIG_CONTINUE;
	cfg->launch.timeout_ms = MS(600);
	cfg->launch.on_timeout = CONFIG_ABANDON;
	cfg->launch.verify = CONFIG_VERIFY_BREWERY_HEALTH;
	cfg->rebalance.drain = true;
	cfg->rebalance.undo_after_ms = MS(15 * 60);
	cfg->protection.enabled = false;
	cfg->protection.threshold = 0;
	cfg->protection.hysteresis = 2;
	cfg->protection.unprotected_min = 1;
	cfg->protection.interval_ms = MS(30);
	cfg->protection.max_calls_per_minute = 10;
	cfg->daemon.log_level = LOG_LEVEL_INFO;
	cfg->daemon.admin_host = xstrdup("127.0.0.1");
	cfg->daemon.admin_port = 9877;
	cfg->daemon.max_in_flight = 500;
	cfg->daemon.dry_run = false;
	cfg->daemon.visibility_timeout_ms = MS(300);
	cfg->daemon.receive_wait_s = 20;
	cfg->daemon.health_threshold_ms = MS(120);
}

static unsigned
config_key_index(const char *section, const char *name)
{
	unsigned i;

	for (i = 0; i < CONFIG_NKEYS; i++)
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].name, name) == 0)
			return i;
	abort();
}

/* The line to blame for a cross-key problem: the key's, else its section's. */
static unsigned
config_blame_line(struct config_parse *p, const char *section,
    const char *name)
{
	unsigned k = config_key_index(section, name);

	if (p->key_line[k] != 0)
		return p->key_line[k];
	return p->section_line[config_section_index(section)];
}

static void
config_check_password(struct config_parse *p)
{
	struct config *cfg = p->cfg;
	unsigned line = config_blame_line(p, "xmpp", "password_file");
	struct stat st;
	int r;

	if (cfg->xmpp.password_file == NULL ||
	    (p->flags & CONFIG_LOAD_NO_SECRETS))
		return;
	if (stat(cfg->xmpp.password_file, &st) == 0 &&
	    (st.st_mode & S_IROTH)) {
		config_error(p, line, "[xmpp] password_file: %s is readable "
		    "by everyone; chmod o-r it", cfg->xmpp.password_file);
		return;
	}
	if ((r = secret_read_file(cfg->xmpp.password_file,
	    &cfg->xmpp.password)) != 0)
		config_error(p, line, "[xmpp] password_file: cannot read a "
		    "password from %s: %s", cfg->xmpp.password_file,
		    r == -ENODATA ? "the file is empty" : strerror(-r));
}

static void
config_validate(struct config_parse *p)
{
	struct config *cfg = p->cfg;
	int xmpp_idx = config_section_index("xmpp");
	size_t i;

	cfg->xmpp.enabled = p->section_line[xmpp_idx] != 0;
	for (i = 0; i < CONFIG_NKEYS; i++) {
		const struct config_key *k = &config_keys[i];
		int sidx = config_section_index(k->section);

		if (p->key_line[i] != 0)
			continue;
		if (k->flags & REQUIRED) {
			if (p->section_line[sidx] != 0)
				config_error(p, p->section_line[sidx],
				    "[%s] %s: required key missing",
				    k->section, k->name);
			else
				config_error(p, p->last_line + 1,
				    "[%s] %s: required key missing (no [%s] "
				    "section)", k->section, k->name,
				    k->section);
		} else if ((k->flags & REQUIRED_IN) &&
		    p->section_line[sidx] != 0) {
			config_error(p, p->section_line[sidx],
			    "[%s] %s: required key missing", k->section,
			    k->name);
		}
	}
	if (cfg->xmpp.enabled) {
		if (cfg->xmpp.brewery != NULL &&
		    strchr(cfg->xmpp.brewery, '@') == NULL)
			config_error(p, config_blame_line(p, "xmpp",
			    "brewery"), "[xmpp] brewery: expected a room "
			    "JID such as jvbbrewery@internal.auth.example.com");
		config_check_password(p);
	} else if (p->key_line[config_key_index("launch", "verify")] != 0) {
		if (cfg->launch.verify == CONFIG_VERIFY_BREWERY_HEALTH)
			config_error(p, config_blame_line(p, "launch",
			    "verify"), "[launch] verify: brewery+health needs "
			    "an [xmpp] section (or set verify = health)");
	} else {
		/* without XMPP the brewery cannot be watched */
		cfg->launch.verify = CONFIG_VERIFY_HEALTH;
	}
	if (cfg->protection.enabled && cfg->protection.groups == NULL &&
	    cfg->daemon.groups == NULL)
		config_error(p, config_blame_line(p, "protection", "enabled"),
		    "[protection] enabled: name the groups to steer "
		    "([protection] groups or [daemon] groups)");
	if (cfg->drain.poll_interval_ms > cfg->drain.max_duration_ms)
		config_error(p, config_blame_line(p, "drain", "poll_interval"),
		    "[drain] poll_interval: longer than max_duration");
}

/* In file order; insertion sort keeps equal lines in report order. */
static void
config_errors_sort(struct config_errors *e)
{
	size_t i, j;

	for (i = 1; i < e->n; i++) {
		char *m = e->msgs[i];
		unsigned l = e->lines[i];

		for (j = i; j > 0 && e->lines[j - 1] > l; j--) {
			e->msgs[j] = e->msgs[j - 1];
			e->lines[j] = e->lines[j - 1];
		}
		e->msgs[j] = m;
		e->lines[j] = l;
	}
}

int
config_load(const char *path, struct config *cfg, struct config_errors *errs)
{
	return config_load_flags(path, cfg, errs, 0);
}

int
config_load_flags(const char *path, struct config *cfg,
    struct config_errors *errs, unsigned flags)
{
	struct config_parse p;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	memset(errs, 0, sizeof(*errs));
	memset(&p, 0, sizeof(p));
	cfg->path = xstrdup(path);
	config_defaults(cfg);
	p.cfg = cfg;
	p.errs = errs;
	p.flags = flags;
	if ((p.fp = fopen(path, "re")) == NULL) {
		config_error(&p, 0, "cannot open: %s", strerror(errno));
		return -EINVAL;
	}
	r = ini_parse_stream(config_reader, &p, config_handler, &p);
	fclose(p.fp);
	if (r > 0)
		config_error(&p, (unsigned)r, "syntax error: expected "
		    "\"key = value\" or \"[section]\"");
	else if (r < 0)
		config_error(&p, 0, "cannot parse (out of memory)");
	config_validate(&p);
	config_errors_sort(errs);
	return errs->n > 0 ? -EINVAL : 0;
}

void
config_errors_finish(struct config_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	free(errs->lines);
	errs->msgs = NULL;
	errs->lines = NULL;
	errs->n = 0;
}

void
config_free(struct config *cfg)
{
	free(cfg->path);
	free(cfg->aws.region);
	free(cfg->aws.queue_url);
	free(cfg->aws.endpoint_url);
	free(cfg->aws.ca_file);
	free(cfg->xmpp.server);
	free(cfg->xmpp.domain);
	free(cfg->xmpp.username);
	free(cfg->xmpp.password_file);
	secret_free(cfg->xmpp.password);
	free(cfg->xmpp.brewery);
	free(cfg->xmpp.ca_file);
	free(cfg->xmpp.nickname);
	free(cfg->daemon.state_dir);
	free(cfg->daemon.audit_log);
	free(cfg->daemon.log_file);
	free(cfg->daemon.admin_host);
	config_free_list(cfg->daemon.groups);
	config_free_list(cfg->protection.groups);
	memset(cfg, 0, sizeof(*cfg));
}
