/*
 * HTTP requests on the event loop: libcurl's multi interface driven by
 * libevent (the hiperfifo pattern).  No thread of ours, no blocking call.
 *
 * A request is built with http_req_new() and the setters, then handed to
 * http_req_start(); from then on the http context owns it.  Exactly one of
 * two things happens to a started request: its callback runs once, on the
 * loop, never from inside http_req_start(); or http_req_cancel() frees it
 * and the callback never runs.  The request is freed right after the
 * callback returns, so the handle must not be used after that.
 */
#ifndef JL_HTTP_H
#define JL_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct http;
struct http_req;

struct http_response {
	/* 0, or a negative errno for a transport failure:
	 *   -ETIMEDOUT	  the request's total timeout passed
	 *   -ECONNREFUSED  nothing listens there
	 *   -EHOSTUNREACH  no route / could not resolve
	 *   -EMSGSIZE	  the response body exceeded the cap
	 *   -EPROTO	  TLS or protocol failure (see error text)
	 *   -EIO	  anything else */
	int		 error;
	const char	*error_text;	/* curl's message, or "" */
	long		 status;	/* HTTP status, 0 if none */
	const char	*body;		/* NUL-terminated; body_len bytes */
	size_t		 body_len;
	double		 elapsed_s;
	const struct http_req *req;	/* to read response headers */
};

typedef void (*http_done_cb)(const struct http_response *resp, void *arg);

#define HTTP_DEFAULT_MAX_RESPONSE	(1024 * 1024)
#define HTTP_DEFAULT_TIMEOUT_MS		10000

struct http *http_new(struct event_base *base);
/* Cancels every request still open (no callbacks) and frees. */
void http_free(struct http *h);
/* Requests started and not yet finished or cancelled. */
unsigned http_pending(const struct http *h);
/* Default CA bundle for https (NULL: the system's). */
void http_set_ca_file(struct http *h, const char *path);

struct http_req *http_req_new(struct http *h, const char *method,
    const char *url);
/* "Name: value"; values are copied. */
void http_req_header(struct http_req *r, const char *name, const char *value);
/* The body is copied; the payload sent is exactly these bytes. */
void http_req_body(struct http_req *r, const void *body, size_t len);
void http_req_timeout(struct http_req *r, unsigned connect_ms,
    unsigned total_ms);
void http_req_max_response(struct http_req *r, size_t max_bytes);
/* Copied; wiped on free.  For headers that carry a secret. */
void http_req_secret_header(struct http_req *r, const char *name,
    const char *value);
/* The response carries a secret: its buffer is wiped, growth included. */
void http_req_secret_response(struct http_req *r);
/* Start; on failure to start, the callback still runs, later, on the loop. */
void http_req_start(struct http_req *r, http_done_cb cb, void *arg);
/* Forget a request: no callback will run.  NULL is fine. */
void http_req_cancel(struct http_req *r);
/* Free a request that was never started. */
void http_req_free(struct http_req *r);

/* A response header (case-insensitive name), valid during the callback. */
const char *http_response_header(const struct http_response *resp,
    const char *name);

#endif
