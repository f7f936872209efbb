/*
 * The credentials chain on the loop.  One source is chosen at start (the
 * first that answers); refreshable sources are asked again at expiry -
 * margin, and on demand after an ExpiredToken.  Everything that waits for
 * credentials registers a waiter and is woken after each attempt.
 */
#include <sys/queue.h>

#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/creds.h"
#include "aws/creds_file.h"
#include "aws/creds_http.h"
#include "aws/imds.h"
#include "handler/backoff.h"
#include "handler/log.h"
#include "handler/secret.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"

#define CREDS_MAX_LEN		(16 * 1024)
/* credentials this close to expiry are not used to sign */
#define CREDS_USABLE_MARGIN_MS	(60 * 1000)
#define CREDS_RETRY_BASE_MS	1000
#define CREDS_RETRY_CAP_MS	30000
#define CREDS_RETRY_FLOOR_MS	500
#define CREDS_JITTER_CAP_MS	(60 * 1000)
#define CREDS_MIN_REFRESH_MS	5000

static bool
creds_printable(const char *s, size_t max)
{
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++, n++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    n >= max)
			return false;
	return true;
}

static bool
creds_key_id_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++, n++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9')) || n >= 128)
			return false;
	return true;
}

struct creds *
creds_new(const char *access_key_id, const char *secret,
    const char *session_token, int64_t expiration_ms)
{
	struct creds *c;

	if (!creds_key_id_ok(access_key_id) ||
	    !creds_printable(secret, 1024) ||
	    (session_token != NULL && *session_token != '\0' &&
	    !creds_printable(session_token, CREDS_MAX_LEN)))
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->access_key_id = xstrdup(access_key_id);
	c->secret_access_key = xstrdup(secret);
	if (session_token != NULL && *session_token != '\0')
		c->session_token = xstrdup(session_token);
	c->expiration_ms = expiration_ms;
	return c;
}

void
creds_free(struct creds *c)
{
	if (c == NULL)
		return;
	free(c->access_key_id);
	secret_free(c->secret_access_key);
	secret_free(c->session_token);
	secret_wipe(c->keys, sizeof(c->keys));
	free(c);
}

const char *
creds_key_hint(const struct creds *c, char out[8])
{
	size_t n;

	if (c == NULL || c->access_key_id == NULL) {
		snprintf(out, 8, "none");
		return out;
	}
	n = strlen(c->access_key_id);
	snprintf(out, 8, "...%s", c->access_key_id + (n > 4 ? n - 4 : 0));
	return out;
}

int
creds_parse_json(const char *body, size_t len, struct creds **ret)
{
	json_t *root;
	const char *code = NULL, *akid = NULL, *secret = NULL, *token = NULL;
	const char *exp = NULL;
	int64_t exp_ms = 0;
	struct creds *c;
	int r = -EPROTO;

	if (len > 64 * 1024 ||
	    (root = json_loadb(body, len, 0, NULL)) == NULL)
		return -EPROTO;
	if (json_unpack(root, "{s?s, s?s, s?s, s?s, s?s}",
	    "Code", &code, "AccessKeyId", &akid, "SecretAccessKey", &secret,
	    "Token", &token, "Expiration", &exp) != 0)
		goto out;
	if (code != NULL && strcmp(code, "Success") != 0)
		goto out;
	if (akid == NULL || secret == NULL)
		goto out;
	if (exp != NULL && timeutil_parse_iso8601(exp, &exp_ms) < 0)
		goto out;
	if ((c = creds_new(akid, secret, token, exp_ms)) == NULL)
		goto out;
	*ret = c;
	r = 0;
out:
	/* the secret strings live in root: wipe them before freeing */
	if (secret != NULL)
		secret_wipe((char *)secret, strlen(secret));
	if (token != NULL)
		secret_wipe((char *)token, strlen(token));
	json_decref(root);
	return r;
}

const char *
creds_source_name(enum creds_source src)
{
	switch (src) {
	case CREDS_SOURCE_ENV:
		return "env";
	case CREDS_SOURCE_PROFILE:
		return "profile";
	case CREDS_SOURCE_CONTAINER:
		return "container";
	case CREDS_SOURCE_IMDS:
		return "imds";
	case CREDS_SOURCE_NONE:
		break;
	}
	return "none";
}

struct creds_waiter {
	TAILQ_ENTRY(creds_waiter) entry;
	struct creds_chain	*ch;
	void			(*cb)(void *arg);
	void			*arg;
};

TAILQ_HEAD(creds_waiter_list, creds_waiter);

enum creds_state {
	CREDS_IDLE,		/* not started */
	CREDS_FETCHING,		/* a resolution or refresh in flight */
	CREDS_SCHEDULED,	/* timer armed: refresh or retry */
	CREDS_STATIC,		/* static credentials: nothing to do */
};

struct creds_chain {
	struct event_base	*base;
	struct http		*http;
	unsigned		 margin_ms;
	enum creds_state	 state;
	enum creds_source	 source;	/* chosen; NONE: resolve all */
	struct creds		*cur;		/* owned */
	unsigned		 generation;
	unsigned		 failures;	/* in a row */
	int64_t			 failing_since;	/* monotonic ms */
	struct event		*timer;		/* owned */
	struct event		*kick;		/* owned; wakes waiters */
	struct imds		*imds;		/* owned */
	struct creds_http	*container;	/* owned */
	struct creds_waiter_list waiters;	/* owned entries */
	struct creds_waiter_list woken;		/* owned; run by kick */
};

static void creds_chain_resolve(struct creds_chain *ch);

static void
creds_chain_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct creds_chain *ch = arg;
	struct creds_waiter *w;

	/* a callback may add or cancel waiters: take one at a time */
	while ((w = TAILQ_FIRST(&ch->woken)) != NULL) {
		TAILQ_REMOVE(&ch->woken, w, entry);
		w->cb(w->arg);
		free(w);
	}
}

/* Move every waiter to the woken list; they run on the next loop pass. */
static void
creds_chain_wake(struct creds_chain *ch)
{
	struct creds_waiter *w;

	while ((w = TAILQ_FIRST(&ch->waiters)) != NULL) {
		TAILQ_REMOVE(&ch->waiters, w, entry);
		TAILQ_INSERT_TAIL(&ch->woken, w, entry);
	}
	if (!TAILQ_EMPTY(&ch->woken))
		event_active(ch->kick, 0, 0);
}

static void
creds_chain_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	creds_chain_resolve(arg);
}

struct creds_chain *
creds_chain_new(struct event_base *base, struct http *http,
    unsigned refresh_margin_ms)
{
	struct creds_chain *ch = xcalloc(1, sizeof(*ch));

	ch->base = base;
	ch->http = http;
	ch->margin_ms = refresh_margin_ms;
	TAILQ_INIT(&ch->waiters);
	TAILQ_INIT(&ch->woken);
	ch->timer = evtimer_new(base, creds_chain_timer_cb, ch);
	ch->kick = event_new(base, -1, 0, creds_chain_kick_cb, ch);
	if (ch->timer == NULL || ch->kick == NULL)
		fatalx("event_new for credentials");
	return ch;
}

void
creds_chain_free(struct creds_chain *ch)
{
	struct creds_waiter *w;

	if (ch == NULL)
		return;
	while ((w = TAILQ_FIRST(&ch->waiters)) != NULL) {
		TAILQ_REMOVE(&ch->waiters, w, entry);
		free(w);
	}
	while ((w = TAILQ_FIRST(&ch->woken)) != NULL) {
		TAILQ_REMOVE(&ch->woken, w, entry);
		free(w);
	}
	imds_free(ch->imds);
	creds_http_free(ch->container);
	event_free(ch->timer);
	event_free(ch->kick);
	creds_free(ch->cur);
	free(ch);
}

static void
creds_chain_arm(struct creds_chain *ch, int64_t delay_ms)
{
	struct timeval tv;

	if (delay_ms < 0)
		delay_ms = 0;
	tv.tv_sec = (time_t)(delay_ms / 1000);
	tv.tv_usec = (suseconds_t)((delay_ms % 1000) * 1000);
	ch->state = CREDS_SCHEDULED;
	evtimer_add(ch->timer, &tv);
}

/* When to ask again for credentials that expire. */
static int64_t
creds_chain_refresh_delay(const struct creds_chain *ch, int64_t exp_ms)
{
	int64_t delay = exp_ms - (int64_t)ch->margin_ms - timeutil_wall_ms();
	int64_t jitter_max;

	/* new credentials already inside the margin (IMDS hands them out
	 * until ~5 minutes before expiry): ask again later, not in a loop */
	if (delay <= 0)
		return CREDS_MIN_REFRESH_MS;
	/* spread copies of the daemon; never past the margin */
	jitter_max = delay / 4;
	if (jitter_max > CREDS_JITTER_CAP_MS)
		jitter_max = CREDS_JITTER_CAP_MS;
	return delay - backoff_uniform(0, (uint32_t)jitter_max);
}

static void
creds_chain_success(struct creds_chain *ch, enum creds_source src,
    struct creds *c, const char *detail)
{
	char hint[8], when[40] = "never";
	bool first = ch->cur == NULL || ch->source != src;

	if (c->expiration_ms != 0)
		timeutil_rfc3339(c->expiration_ms, when, sizeof(when));
	/* the old set stays valid until this moment: now replace it */
	creds_free(ch->cur);
	ch->cur = c;
	ch->source = src;
	ch->generation++;
	ch->failures = 0;
	ch->failing_since = 0;
	log_info("aws: credentials %s from %s%s%s (key %s, expire %s)",
	    first ? "obtained" : "refreshed", creds_source_name(src),
	    detail != NULL && *detail != '\0' ? ", " : "",
	    detail != NULL ? detail : "", creds_key_hint(c, hint), when);
	if (src == CREDS_SOURCE_ENV || src == CREDS_SOURCE_PROFILE ||
	    c->expiration_ms == 0)
		ch->state = CREDS_STATIC;
	else
		creds_chain_arm(ch, creds_chain_refresh_delay(ch,
		    c->expiration_ms));
	creds_chain_wake(ch);
}

static void
creds_chain_failure(struct creds_chain *ch, enum creds_source src,
    int error, const char *why)
{
	int64_t delay;

	if (ch->failing_since == 0)
		ch->failing_since = timeutil_mono_ms();
	ch->failures++;
	delay = CREDS_RETRY_FLOOR_MS + backoff_full_jitter(ch->failures - 1,
	    CREDS_RETRY_BASE_MS, CREDS_RETRY_CAP_MS);
	if (ch->cur != NULL && creds_chain_get(ch, NULL) != NULL)
		log_warnx("aws: refreshing credentials from %s failed: %s; "
		    "the current ones stay in use, retry in %lld ms",
		    creds_source_name(src), why, (long long)delay);
	else
		log_warnx("aws: no credentials: %s%s%s; retry in %lld ms",
		    src != CREDS_SOURCE_NONE ? creds_source_name(src) : "",
		    src != CREDS_SOURCE_NONE ? ": " : "", why,
		    (long long)delay);
	(void)error;
	creds_chain_arm(ch, delay);
	creds_chain_wake(ch);
}

static void
creds_chain_fetched(int error, struct creds *c, const char *why, void *arg)
{
	struct creds_chain *ch = arg;
	enum creds_source src = ch->imds != NULL && ch->container == NULL ?
	    CREDS_SOURCE_IMDS : CREDS_SOURCE_CONTAINER;

	if (error == 0)
		creds_chain_success(ch, src, c, why);
	else
		creds_chain_failure(ch, src, error, why);
}

/* The environment: both variables, or neither. */
static int
creds_chain_env(struct creds **ret, char *why, size_t whylen)
{
	const char *akid = getenv("AWS_ACCESS_KEY_ID");
	const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv("AWS_SESSION_TOKEN");
	struct creds *c;

	if ((akid == NULL || *akid == '\0') &&
	    (secret == NULL || *secret == '\0'))
		return -ENOENT;
	if (akid == NULL || *akid == '\0' || secret == NULL ||
	    *secret == '\0') {
		snprintf(why, whylen, "environment: only one of "
		    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set");
		return -EINVAL;
	}
	if (token == NULL || *token == '\0')
		token = getenv("AWS_SECURITY_TOKEN");
	if ((c = creds_new(akid, secret, token, 0)) == NULL) {
		snprintf(why, whylen, "environment: malformed credentials");
		return -EINVAL;
	}
	*ret = c;
	return 0;
}

/* Start a remote fetch from the chosen or next remote source. */
static void
creds_chain_remote(struct creds_chain *ch)
{
	char why[256] = "", endpoint[512];
	int r;

	ch->state = CREDS_FETCHING;
	if (ch->source == CREDS_SOURCE_CONTAINER ||
	    (ch->source == CREDS_SOURCE_NONE && ch->container == NULL &&
	    ch->imds == NULL)) {
		if (ch->container == NULL) {
			r = creds_http_new(ch->base, ch->http, &ch->container,
			    why, sizeof(why));
			if (r < 0 && r != -ENOENT) {
				creds_chain_failure(ch,
				    CREDS_SOURCE_CONTAINER, r, why);
				return;
			}
		}
		if (ch->container != NULL) {
			creds_http_fetch(ch->container, creds_chain_fetched,
			    ch);
			return;
		}
	}
	if (ch->imds == NULL) {
		if (imds_disabled()) {
			creds_chain_failure(ch, CREDS_SOURCE_NONE, -ENOENT,
			    "none in the environment, the shared files or a "
			    "container endpoint, and IMDS is disabled");
			return;
		}
		if ((r = imds_endpoint_from_env(endpoint, sizeof(endpoint),
		    why, sizeof(why))) < 0) {
			creds_chain_failure(ch, CREDS_SOURCE_IMDS, r, why);
			return;
		}
		ch->imds = imds_new(ch->http, endpoint);
	}
	imds_fetch(ch->imds, creds_chain_fetched, ch);
}

/* One resolution step: the whole chain, or the chosen source again. */
static void
creds_chain_resolve(struct creds_chain *ch)
{
	struct creds *c = NULL;
	char why[256] = "";
	int r;

	evtimer_del(ch->timer);
	if (ch->source == CREDS_SOURCE_CONTAINER ||
	    ch->source == CREDS_SOURCE_IMDS) {
		creds_chain_remote(ch);
		return;
	}
	if ((r = creds_chain_env(&c, why, sizeof(why))) == 0) {
		creds_chain_success(ch, CREDS_SOURCE_ENV, c, NULL);
		return;
	}
	if (r != -ENOENT) {
		creds_chain_failure(ch, CREDS_SOURCE_ENV, r, why);
		return;
	}
	if ((r = creds_file_load(&c, why, sizeof(why))) == 0) {
		creds_chain_success(ch, CREDS_SOURCE_PROFILE, c, NULL);
		return;
	}
	if (r != -ENOENT) {
		creds_chain_failure(ch, CREDS_SOURCE_PROFILE, r, why);
		return;
	}
	/* a remote source is sticky once it answered; until then, the
	 * container (if configured) and IMDS are tried afresh each time */
	imds_free(ch->imds);
	ch->imds = NULL;
	creds_http_free(ch->container);
	ch->container = NULL;
	creds_chain_remote(ch);
}

void
creds_chain_start(struct creds_chain *ch)
{
	if (ch->state != CREDS_IDLE)
		return;
	/* resolve from the loop: files are read and callbacks run there */
	creds_chain_arm(ch, 0);
}

struct creds *
creds_chain_get(struct creds_chain *ch, unsigned *ret_generation)
{
	struct creds *c = ch->cur;

	if (c == NULL)
		return NULL;
	if (c->expiration_ms != 0 && timeutil_wall_ms() >=
	    c->expiration_ms - CREDS_USABLE_MARGIN_MS)
		return NULL;
	if (ret_generation != NULL)
		*ret_generation = ch->generation;
	return c;
}

struct creds_waiter *
creds_chain_wait(struct creds_chain *ch, void (*cb)(void *arg), void *arg)
{
	struct creds_waiter *w = xcalloc(1, sizeof(*w));

	w->ch = ch;
	w->cb = cb;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&ch->waiters, w, entry);
	return w;
}

void
creds_waiter_cancel(struct creds_waiter *w)
{
	struct creds_chain *ch;
	struct creds_waiter *x;

	if (w == NULL)
		return;
	ch = w->ch;
	TAILQ_FOREACH(x, &ch->woken, entry)
		if (x == w) {
			TAILQ_REMOVE(&ch->woken, w, entry);
			free(w);
			return;
		}
	TAILQ_REMOVE(&ch->waiters, w, entry);
	free(w);
}

bool
creds_chain_refreshable(const struct creds_chain *ch)
{
	return ch->source == CREDS_SOURCE_CONTAINER ||
	    ch->source == CREDS_SOURCE_IMDS;
}

void
creds_chain_refresh(struct creds_chain *ch)
{
	if (!creds_chain_refreshable(ch) || ch->state == CREDS_FETCHING)
		return;
	log_info("aws: credentials refused as expired: refreshing from %s "
	    "now", creds_source_name(ch->source));
	creds_chain_resolve(ch);
}

int64_t
creds_chain_failing_since(const struct creds_chain *ch)
{
	return ch->failing_since;
}

enum creds_source
creds_chain_source(const struct creds_chain *ch)
{
	return ch->source;
}
