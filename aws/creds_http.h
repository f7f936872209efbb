/*
 * Container credentials (ECS task role, EKS Pod Identity):
 * AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on http://169.254.170.2) or
 * AWS_CONTAINER_CREDENTIALS_FULL_URI, with the authorization token from
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read on every fetch) or
 * AWS_CONTAINER_AUTHORIZATION_TOKEN.
 */
#ifndef JL_CREDS_HTTP_H
#define JL_CREDS_HTTP_H

#include <stddef.h>

#include "aws/creds.h"

struct event_base;

#define CREDS_HTTP_ECS_HOST	"http://169.254.170.2"
#define CREDS_HTTP_TIMEOUT_MS	2000

struct creds_http;

/*
 * The URL from the two variables (either may be NULL).  -ENOENT when
 * neither is set; -EINVAL (why filled) when the URL is malformed or a
 * plain-http FULL_URI names a host other than loopback, 169.254.170.2,
 * 169.254.170.23 or fd00:ec2::23 (botocore's rule).
 */
int creds_http_url(const char *relative, const char *full, char *out,
    size_t outlen, char *why, size_t whylen);

/* From the environment; same returns as creds_http_url. */
int creds_http_new(struct event_base *base, struct http *http,
    struct creds_http **ret, char *why, size_t whylen);
void creds_http_free(struct creds_http *ch);
/* cb runs once, on the loop; a call while one runs replaces it. */
void creds_http_fetch(struct creds_http *ch, creds_fetch_cb cb, void *arg);
void creds_http_cancel(struct creds_http *ch);

#endif
