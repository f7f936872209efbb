/*
 * Credentials and the default provider chain, on the loop.
 *
 * Order (botocore's, minus what the daemon does not need): environment,
 * shared credentials/config files (profile), container endpoint, EC2
 * instance profile through IMDSv2.  The first source that yields
 * credentials is kept; container and IMDS credentials expire and are
 * refreshed from that same source at expiry - margin (jittered).  The old
 * credentials stay in use until new ones arrive, so nothing in flight is
 * dropped.  A failing source is retried with capped backoff.
 */
#ifndef JL_CREDS_H
#define JL_CREDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/endpoint.h"
#include "aws/sigv4.h"

struct event_base;
struct http;

struct creds {
	char		*access_key_id;		/* owned */
	char		*secret_access_key;	/* owned; secret */
	char		*session_token;		/* owned; secret; NULL: none */
	int64_t		 expiration_ms;		/* wall clock; 0: never */
	/* derived signing keys, one per service; wiped with the secret */
	struct sigv4_key_cache keys[ENDPOINT_COUNT];
};

/* Copies and validates (printable, bounded); NULL if invalid. */
struct creds *creds_new(const char *access_key_id, const char *secret,
    const char *session_token, int64_t expiration_ms);
/* Wipes the secrets and frees; NULL is fine. */
void creds_free(struct creds *c);
/* "...ABCD": the last 4 characters of the key id, for log lines. */
const char *creds_key_hint(const struct creds *c, char out[8]);
/*
 * The JSON both the container endpoint and IMDS answer:
 * {AccessKeyId, SecretAccessKey, Token, Expiration[, Code]}.  A "Code"
 * other than "Success" is an error.  -EPROTO when malformed.
 */
int creds_parse_json(const char *body, size_t len, struct creds **ret);

/* A fetch from a remote source finished: c (ownership passed) or error. */
typedef void (*creds_fetch_cb)(int error, struct creds *c, const char *why,
    void *arg);

enum creds_source {
	CREDS_SOURCE_NONE,
	CREDS_SOURCE_ENV,
	CREDS_SOURCE_PROFILE,
	CREDS_SOURCE_CONTAINER,
	CREDS_SOURCE_IMDS,
};

struct creds_chain;
struct creds_waiter;

struct creds_chain *creds_chain_new(struct event_base *base,
    struct http *http, unsigned refresh_margin_ms);
/* Cancels fetches and waiters (no callbacks), wipes, frees. */
void creds_chain_free(struct creds_chain *ch);
/* Resolve the chain (asynchronous; a no-op when already started). */
void creds_chain_start(struct creds_chain *ch);
/*
 * Credentials usable now (not within a minute of their expiry), or
 * NULL.  *ret_generation (may be NULL) changes with every new set.
 */
struct creds *creds_chain_get(struct creds_chain *ch,
    unsigned *ret_generation);
/*
 * Run cb once, on the loop, when the chain next finishes a resolution
 * or refresh attempt (successful or not).  Cancel with
 * creds_waiter_cancel (NULL is fine); not after cb ran.
 */
struct creds_waiter *creds_chain_wait(struct creds_chain *ch,
    void (*cb)(void *arg), void *arg);
void creds_waiter_cancel(struct creds_waiter *w);
/* The source can give new credentials (container, IMDS). */
bool creds_chain_refreshable(const struct creds_chain *ch);
/* Refresh now (after ExpiredToken); no-op when one is running. */
void creds_chain_refresh(struct creds_chain *ch);
/* Monotonic ms of the first failure since the last success; 0: fine. */
int64_t creds_chain_failing_since(const struct creds_chain *ch);
enum creds_source creds_chain_source(const struct creds_chain *ch);
const char *creds_source_name(enum creds_source src);

#endif
