/*
 * AWS Signature Version 4 (AWS4-HMAC-SHA256), header form.  Pure: no I/O,
 * no clock; the caller passes the X-Amz-Date it also sends.
 */
#ifndef JL_SIGV4_H
#define JL_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handler/buf.h"

#define SIGV4_MAX_HEADERS	32
#define SIGV4_AMZ_DATE_LEN	16	/* "20150830T123600Z" */
#define SIGV4_HEX_LEN		64

struct sigv4_header {
	const char	*name;
	const char	*value;
};

struct sigv4_request {
	const char	*method;
	const char	*path;		/* not percent-encoded; NULL: "/" */
	const char	*query;		/* as sent, without '?'; NULL: none */
	/*
	 * Every header here is signed: it must name host and x-amz-date,
	 * and x-amz-security-token when the credentials are temporary.
	 */
	const struct sigv4_header *headers;
	size_t		 nheaders;
	const void	*payload;	/* the exact bytes sent */
	size_t		 payload_len;
	bool		 normalize_path; /* remove dot and empty segments */
};

/* The derived key for one day, region and service.  Wiped on finish. */
struct sigv4_key_cache {
	bool		valid;
	char		date[9];
	char		region[32];
	char		service[32];
	unsigned char	key[32];
};

struct sigv4_output {
	struct buf	canonical;	/* canonical request; may hold the token */
	struct buf	string_to_sign;
	struct buf	signed_headers;	/* "host;x-amz-date" */
	char		signature[SIGV4_HEX_LEN + 1];
	struct buf	authorization;	/* the Authorization header value */
};

void sigv4_output_init(struct sigv4_output *out);
/* Wipes what may be secret (token in the canonical form, signature). */
void sigv4_output_finish(struct sigv4_output *out);

/*
 * Sign req.  access_key_id and secret are the credentials; cache (may be
 * NULL) keeps the derived key: one cache per secret, reset it with
 * sigv4_key_cache_reset() when the secret changes.  -EINVAL on a malformed
 * argument (date, region, service, header name, key id); out is then
 * still safe to finish.
 */
int sigv4_sign(const struct sigv4_request *req, const char *access_key_id,
    const char *secret, const char *region, const char *service,
    const char *amz_date, struct sigv4_key_cache *cache,
    struct sigv4_output *out);

/* Only the canonical request and the signed header list. */
int sigv4_canonical_request(const struct sigv4_request *req,
    struct buf *canonical, struct buf *signed_headers);

void sigv4_key_cache_reset(struct sigv4_key_cache *cache);
/* wall_ms -> "YYYYMMDDTHHMMSSZ" */
void sigv4_amz_date(int64_t wall_ms, char out[SIGV4_AMZ_DATE_LEN + 1]);
void sigv4_sha256_hex(const void *data, size_t len,
    char out[SIGV4_HEX_LEN + 1]);

#endif
