/*
 * EC2 instance profile credentials through IMDSv2: a session token (PUT,
 * reused until near its TTL), the role name, then the role's credentials.
 * IMDSv1 (no token) is never used.
 */
#ifndef JL_IMDS_H
#define JL_IMDS_H

#include <stddef.h>

#include "aws/creds.h"

#define IMDS_DEFAULT_ENDPOINT	"http://169.254.169.254"
#define IMDS_DEFAULT_ENDPOINT6	"http://[fd00:ec2::254]"
#define IMDS_TOKEN_TTL_S	21600
#define IMDS_TIMEOUT_MS		2000

struct imds;

/*
 * The endpoint from AWS_EC2_METADATA_SERVICE_ENDPOINT (or _MODE=IPv6),
 * else the default.  -EINVAL (why filled) when the variable is not an
 * http(s) URL without path.
 */
int imds_endpoint_from_env(char *out, size_t outlen, char *why,
    size_t whylen);
/* True when AWS_EC2_METADATA_DISABLED is "true". */
int imds_disabled(void);

struct imds *imds_new(struct http *http, const char *endpoint);
/* Cancels a fetch in flight (no callback), wipes the token, frees. */
void imds_free(struct imds *m);
/*
 * Fetch the credentials; cb runs once, on the loop.  One fetch at a
 * time: a call while one runs replaces it (the earlier gets no callback).
 */
void imds_fetch(struct imds *m, creds_fetch_cb cb, void *arg);
/* Forget the fetch in flight; no callback. */
void imds_cancel(struct imds *m);

#endif
