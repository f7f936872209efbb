/*
 * IMDSv2, as botocore's IMDSFetcher does it: PUT /latest/api/token with a
 * TTL header, then GETs with the token header.  A 401 on a GET means the
 * token went stale: fetch a new one, once.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/endpoint.h"
#include "aws/error.h"
#include "aws/imds.h"
#include "handler/http.h"
#include "handler/log.h"
#include "handler/secret.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"

#define IMDS_TOKEN_PATH	"/latest/api/token"
#define IMDS_ROLE_PATH	"/latest/meta-data/iam/security-credentials/"
#define IMDS_TOKEN_MAX	4096
#define IMDS_ROLE_MAX	128

enum imds_step {
	IMDS_IDLE,
	IMDS_TOKEN,
	IMDS_ROLE,
	IMDS_CREDS,
};

struct imds {
	struct http	*http;
	char		*endpoint;	/* owned, no trailing '/' */
	char		*token;		/* owned; secret */
	int64_t		 token_expiry;	/* monotonic ms */
	enum imds_step	 step;
	struct http_req	*req;		/* in flight; owned by http */
	bool		 token_retried;
	char		 role[IMDS_ROLE_MAX + 1];
	creds_fetch_cb	 cb;
	void		*arg;
};

int
imds_disabled(void)
{
	const char *v = getenv("AWS_EC2_METADATA_DISABLED");

	return v != NULL && strcasecmp(v, "true") == 0;
}

int
imds_endpoint_from_env(char *out, size_t outlen, char *why, size_t whylen)
{
	const char *v = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	struct endpoint_url u;
	size_t len;

	if (v == NULL || *v == '\0') {
		v = mode != NULL && strcasecmp(mode, "IPv6") == 0 ?
		    IMDS_DEFAULT_ENDPOINT6 : IMDS_DEFAULT_ENDPOINT;
	}
	if (endpoint_parse_url(v, &u) < 0 || strcmp(u.path, "/") != 0) {
		snprintf(why, whylen, "AWS_EC2_METADATA_SERVICE_ENDPOINT is "
		    "not an http(s) URL without a path");
		return -EINVAL;
	}
	len = strlen(v);
	while (len > 0 && v[len - 1] == '/')
		len--;
	if (len >= outlen) {
		snprintf(why, whylen, "IMDS endpoint too long");
		return -EINVAL;
	}
	memcpy(out, v, len);
	out[len] = '\0';
	return 0;
}

struct imds *
imds_new(struct http *http, const char *endpoint)
{
	struct imds *m = xcalloc(1, sizeof(*m));
	size_t len = strlen(endpoint);

	while (len > 0 && endpoint[len - 1] == '/')
		len--;
	m->http = http;
	m->endpoint = xstrndup(endpoint, len);
	m->step = IMDS_IDLE;
	return m;
}

static void
imds_drop_token(struct imds *m)
{
	secret_free(m->token);
	m->token = NULL;
	m->token_expiry = 0;
}

void
imds_cancel(struct imds *m)
{
	if (m == NULL)
		return;
	http_req_cancel(m->req);
	m->req = NULL;
	m->step = IMDS_IDLE;
	m->cb = NULL;
	m->arg = NULL;
}

void
imds_free(struct imds *m)
{
	if (m == NULL)
		return;
	imds_cancel(m);
	imds_drop_token(m);
	free(m->endpoint);
	free(m);
}

static void imds_http_cb(const struct http_response *resp, void *arg);

static void
imds_send(struct imds *m, enum imds_step step)
{
	struct http_req *r;
	char *url;

	m->step = step;
	switch (step) {
	case IMDS_TOKEN:
		url = xasprintf("%s%s", m->endpoint, IMDS_TOKEN_PATH);
		r = http_req_new(m->http, "PUT", url);
		http_req_header(r, "x-aws-ec2-metadata-token-ttl-seconds",
		    "21600");
		http_req_body(r, "", 0);
		break;
	case IMDS_ROLE:
		url = xasprintf("%s%s", m->endpoint, IMDS_ROLE_PATH);
		r = http_req_new(m->http, "GET", url);
		http_req_secret_header(r, "x-aws-ec2-metadata-token",
		    m->token);
		break;
	case IMDS_CREDS:
	default:
		url = xasprintf("%s%s%s", m->endpoint, IMDS_ROLE_PATH,
		    m->role);
		r = http_req_new(m->http, "GET", url);
		http_req_secret_header(r, "x-aws-ec2-metadata-token",
		    m->token);
		break;
	}
	free(url);
	http_req_timeout(r, 1000, IMDS_TIMEOUT_MS);
	http_req_max_response(r, 64 * 1024);
	m->req = r;
	http_req_secret_response(r);
	http_req_start(r, imds_http_cb, m);
}

static void
imds_done(struct imds *m, int error, struct creds *c, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
imds_done(struct imds *m, int error, struct creds *c, const char *fmt, ...)
{
	creds_fetch_cb cb = m->cb;
	void *arg = m->arg;
	char why[256] = "";
	va_list ap;

	m->step = IMDS_IDLE;
	m->req = NULL;
	m->cb = NULL;
	m->arg = NULL;
	if (fmt != NULL) {
		char raw[256];

		va_start(ap, fmt);
		vsnprintf(raw, sizeof(raw), fmt, ap);
		va_end(ap);
		error_sanitize(why, sizeof(why), raw, strlen(raw));
	}
	cb(error, c, why, arg);
}

static bool
imds_token_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > IMDS_TOKEN_MAX)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* IAM role names: [\w+=,.@-]{1,64}; we allow up to IMDS_ROLE_MAX. */
static bool
imds_role_take(struct imds *m, const char *body, size_t len)
{
	size_t n = 0, i;

	while (n < len && body[n] != '\n' && body[n] != '\r')
		n++;
	if (n == 0 || n > IMDS_ROLE_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = body[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("+=,.@_-", c) != NULL))
			return false;
	}
	memcpy(m->role, body, n);
	m->role[n] = '\0';
	return true;
}

static void
imds_http_cb(const struct http_response *resp, void *arg)
{
	struct imds *m = arg;
	struct creds *c = NULL;
	int r;

	m->req = NULL;
	if (resp->error != 0) {
		imds_done(m, resp->error, NULL, "IMDS %s: %s",
		    m->step == IMDS_TOKEN ? "token" : m->step == IMDS_ROLE ?
		    "role" : "credentials", resp->error_text);
		return;
	}
	switch (m->step) {
	case IMDS_TOKEN:
		if (resp->status != 200) {
			imds_done(m, resp->status == 403 ? -EACCES : -EIO,
			    NULL, "IMDS token: HTTP %ld%s", resp->status,
			    resp->status == 403 ? " (IMDS disabled, or the "
			    "hop limit is too low)" : "");
			return;
		}
		if (!imds_token_ok(resp->body, resp->body_len)) {
			imds_done(m, -EPROTO, NULL, "IMDS token: malformed");
			return;
		}
		imds_drop_token(m);
		m->token = xstrndup(resp->body, resp->body_len);
		/* the response buffer is freed after us, not wiped */
		secret_wipe((char *)resp->body, resp->body_len);
		m->token_expiry = timeutil_mono_ms() +
		    (IMDS_TOKEN_TTL_S - 60) * 1000LL;
		imds_send(m, IMDS_ROLE);
		return;
	case IMDS_ROLE:
	case IMDS_CREDS:
		if (resp->status == 401 && !m->token_retried) {
			m->token_retried = true;
			imds_drop_token(m);
			imds_send(m, IMDS_TOKEN);
			return;
		}
		if (resp->status == 404) {
			imds_done(m, -ENOENT, NULL, "IMDS: %s",
			    m->step == IMDS_ROLE ? "no IAM role attached to "
			    "this instance" : "role credentials not found");
			return;
		}
		if (resp->status != 200) {
			imds_done(m, resp->status == 401 ? -EACCES : -EIO,
			    NULL, "IMDS %s: HTTP %ld", m->step == IMDS_ROLE ?
			    "role" : "credentials", resp->status);
			return;
		}
		if (m->step == IMDS_ROLE) {
			if (!imds_role_take(m, resp->body, resp->body_len)) {
				imds_done(m, -EPROTO, NULL,
				    "IMDS role: malformed name");
				return;
			}
			imds_send(m, IMDS_CREDS);
			return;
		}
		r = creds_parse_json(resp->body, resp->body_len, &c);
		secret_wipe((char *)resp->body, resp->body_len);
		if (r < 0) {
			imds_done(m, r, NULL, "IMDS credentials for role %s: "
			    "malformed or not Success", m->role);
			return;
		}
		imds_done(m, 0, c, "role %s", m->role);
		return;
	case IMDS_IDLE:
		break;
	}
}

void
imds_fetch(struct imds *m, creds_fetch_cb cb, void *arg)
{
	imds_cancel(m);
	m->cb = cb;
	m->arg = arg;
	m->token_retried = false;
	if (m->token != NULL && timeutil_mono_ms() < m->token_expiry)
		imds_send(m, IMDS_ROLE);
	else
		imds_send(m, IMDS_TOKEN);
}
