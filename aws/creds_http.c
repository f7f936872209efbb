#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/creds_http.h"
#include "aws/endpoint.h"
#include "aws/error.h"
#include "handler/http.h"
#include "handler/log.h"
#include "handler/secret.h"
#include "handler/xmalloc.h"

struct creds_http {
	struct http	*http;
	char		*url;		/* owned */
	struct http_req	*req;		/* in flight; owned by http */
	struct event	*fail_ev;	/* owned; reports a local failure */
	int		 fail_err;
	creds_fetch_cb	 cb;
	void		*arg;
};

static bool
creds_http_host_allowed(const char *host)
{
	struct in6_addr a6, ecs6;

	if (endpoint_host_is_loopback(host) ||
	    strcmp(host, "169.254.170.2") == 0 ||
	    strcmp(host, "169.254.170.23") == 0)
		return true;
	inet_pton(AF_INET6, "fd00:ec2::23", &ecs6);
	return inet_pton(AF_INET6, host, &a6) == 1 &&
	    memcmp(&a6, &ecs6, sizeof(a6)) == 0;
}

int
creds_http_url(const char *relative, const char *full, char *out,
    size_t outlen, char *why, size_t whylen)
{
	struct endpoint_url u;
	int n;

	if (relative != NULL && *relative != '\0') {
		n = snprintf(out, outlen, "%s%s%s", CREDS_HTTP_ECS_HOST,
		    relative[0] == '/' ? "" : "/", relative);
		if (n < 0 || (size_t)n >= outlen ||
		    endpoint_parse_url(out, &u) < 0) {
			snprintf(why, whylen, "AWS_CONTAINER_CREDENTIALS_"
			    "RELATIVE_URI is malformed");
			return -EINVAL;
		}
		return 0;
	}
	if (full == NULL || *full == '\0')
		return -ENOENT;
	if (endpoint_parse_url(full, &u) < 0) {
		snprintf(why, whylen, "AWS_CONTAINER_CREDENTIALS_FULL_URI is "
		    "malformed");
		return -EINVAL;
	}
	if (!u.https && !creds_http_host_allowed(u.host)) {
		snprintf(why, whylen, "AWS_CONTAINER_CREDENTIALS_FULL_URI: "
		    "plain http only to loopback or the container endpoints");
		return -EINVAL;
	}
	if (strlen(full) >= outlen) {
		snprintf(why, whylen, "AWS_CONTAINER_CREDENTIALS_FULL_URI is "
		    "too long");
		return -EINVAL;
	}
	strcpy(out, full);
	return 0;
}

static void creds_http_fail_cb(evutil_socket_t fd, short what, void *arg);

int
creds_http_new(struct event_base *base, struct http *http,
    struct creds_http **ret, char *why, size_t whylen)
{
	struct creds_http *ch;
	char url[2048];
	int r;

	why[0] = '\0';
	if ((r = creds_http_url(getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
	    getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI"), url, sizeof(url),
	    why, whylen)) < 0)
		return r;
	ch = xcalloc(1, sizeof(*ch));
	ch->http = http;
	ch->url = xstrdup(url);
	if ((ch->fail_ev = event_new(base, -1, 0, creds_http_fail_cb,
	    ch)) == NULL)
		fatalx("event_new for container credentials");
	*ret = ch;
	return 0;
}

void
creds_http_cancel(struct creds_http *ch)
{
	if (ch == NULL)
		return;
	http_req_cancel(ch->req);
	ch->req = NULL;
	event_del(ch->fail_ev);
	ch->cb = NULL;
	ch->arg = NULL;
}

void
creds_http_free(struct creds_http *ch)
{
	if (ch == NULL)
		return;
	creds_http_cancel(ch);
	event_free(ch->fail_ev);
	free(ch->url);
	free(ch);
}

static void
creds_http_done(struct creds_http *ch, int error, struct creds *c,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
creds_http_done(struct creds_http *ch, int error, struct creds *c,
    const char *fmt, ...)
{
	creds_fetch_cb cb = ch->cb;
	void *arg = ch->arg;
	char raw[256], why[256];
	va_list ap;

	ch->req = NULL;
	ch->cb = NULL;
	ch->arg = NULL;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	error_sanitize(why, sizeof(why), raw, strlen(raw));
	cb(error, c, why, arg);
}

static void
creds_http_cb(const struct http_response *resp, void *arg)
{
	struct creds_http *ch = arg;
	struct creds *c;
	int r;

	ch->req = NULL;
	if (resp->error != 0) {
		creds_http_done(ch, resp->error, NULL,
		    "container credentials: %s", resp->error_text);
		return;
	}
	if (resp->status != 200) {
		creds_http_done(ch, resp->status == 401 ||
		    resp->status == 403 ? -EACCES : -EIO, NULL,
		    "container credentials: HTTP %ld", resp->status);
		return;
	}
	r = creds_parse_json(resp->body, resp->body_len, &c);
	/* the response buffer is freed after us, not wiped */
	secret_wipe((char *)resp->body, resp->body_len);
	if (r < 0) {
		creds_http_done(ch, r, NULL,
		    "container credentials: malformed answer");
		return;
	}
	creds_http_done(ch, 0, c, "container endpoint");
}

static void
creds_http_fail_cb(evutil_socket_t fd, short what, void *arg)
{
	struct creds_http *ch = arg;

	creds_http_done(ch, ch->fail_err, NULL, "container credentials: "
	    "cannot read the authorization token: %s",
	    strerror(-ch->fail_err));
}

/* The authorization token, if any: NULL, or a string to secret_free. */
static int
creds_http_token(char **ret)
{
	const char *file = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *v = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	char *tok = NULL;
	const char *p;
	int r;

	if (file != NULL && *file != '\0') {
		if ((r = secret_read_file(file, &tok)) < 0)
			return r;
	} else if (v != NULL && *v != '\0')
		tok = xstrdup(v);
	/* a header value: printable only, so no header can be injected */
	for (p = tok; p != NULL && *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) {
			secret_free(tok);
			return -EINVAL;
		}
	*ret = tok;
	return 0;
}

void
creds_http_fetch(struct creds_http *ch, creds_fetch_cb cb, void *arg)
{
	struct http_req *r;
	char *tok = NULL;
	int err;

	creds_http_cancel(ch);
	ch->cb = cb;
	ch->arg = arg;
	if ((err = creds_http_token(&tok)) < 0) {
		/* report on the loop, like every other outcome */
		ch->fail_err = err;
		event_active(ch->fail_ev, 0, 0);
		return;
	}
	r = http_req_new(ch->http, "GET", ch->url);
	if (tok != NULL)
		http_req_secret_header(r, "Authorization", tok);
	secret_free(tok);
	http_req_timeout(r, 1000, CREDS_HTTP_TIMEOUT_MS);
	http_req_max_response(r, 64 * 1024);
	ch->req = r;
	http_req_secret_response(r);
	http_req_start(r, creds_http_cb, ch);
}
