/*
 * SigV4, as botocore's SigV4Auth and the aws-c-auth test suite define it:
 * canonical request -> string to sign -> HMAC chain -> signature.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/sigv4.h"
#include "handler/secret.h"
#include "handler/xmalloc.h"

static const char sigv4_hexdigits[] = "0123456789abcdef";

static void
sigv4_hex(const unsigned char *in, size_t len, char *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = sigv4_hexdigits[in[i] >> 4];
		out[2 * i + 1] = sigv4_hexdigits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

void
sigv4_sha256_hex(const void *data, size_t len, char out[SIGV4_HEX_LEN + 1])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(data != NULL ? data : (const void *)"", len, md);
	sigv4_hex(md, sizeof(md), out);
}

static void
sigv4_hmac(const void *key, size_t keylen, const void *msg, size_t msglen,
    unsigned char out[32])
{
	unsigned int outlen = 32;

	if (HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out,
	    &outlen) == NULL)
		abort();	/* only on OOM inside OpenSSL */
}

void
sigv4_amz_date(int64_t wall_ms, char out[SIGV4_AMZ_DATE_LEN + 1])
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, SIGV4_AMZ_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
}

static bool
sigv4_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '~';
}

/* Percent-encode len bytes of s; keep '/' too when keep_slash. */
static void
sigv4_encode(struct buf *b, const char *s, size_t len, bool keep_slash)
{
	static const char up[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char enc[3];

		if (sigv4_unreserved(c) || (keep_slash && c == '/')) {
			buf_append(b, &s[i], 1);
			continue;
		}
		enc[0] = '%';
		enc[1] = up[c >> 4];
		enc[2] = up[c & 0xf];
		buf_append(b, enc, 3);
	}
}

static int
sigv4_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode %XX (a malformed escape stays literal); '+' is not a space. */
static char *
sigv4_decode(const char *s, size_t len, size_t *ret_len)
{
	char *out = xmalloc(len + 1);
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < len &&
		    (hi = sigv4_hexval(s[i + 1])) >= 0 &&
		    (lo = sigv4_hexval(s[i + 2])) >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
			continue;
		}
		out[o++] = s[i];
	}
	out[o] = '\0';
	*ret_len = o;
	return out;
}

static void
sigv4_canonical_path(struct buf *b, const char *path, bool normalize)
{
	struct buf tmp;
	const char *p, *seg, *end;
	size_t *stack, depth = 0, nseg = 0;
	bool trailing;

	if (path == NULL || *path == '\0') {
		buf_puts(b, "/");
		return;
	}
	if (!normalize) {
		if (path[0] != '/')
			buf_puts(b, "/");
		sigv4_encode(b, path, strlen(path), true);
		return;
	}
	/* RFC 3986 remove_dot_segments, and empty segments go too */
	for (p = path; *p != '\0'; p++)
		if (*p == '/')
			nseg++;
	stack = xcalloc(nseg + 2, sizeof(*stack));
	buf_init(&tmp);
	trailing = false;
	for (p = path; *p != '\0'; p = *end != '\0' ? end + 1 : end) {
		size_t len;

		seg = p;
		if ((end = strchr(seg, '/')) == NULL)
			end = seg + strlen(seg);
		len = (size_t)(end - seg);
		trailing = *end == '/' || (len == 1 && seg[0] == '.') ||
		    (len == 2 && seg[0] == '.' && seg[1] == '.');
		if (len == 0 || (len == 1 && seg[0] == '.'))
			continue;
		if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			if (depth > 0)
				tmp.len = stack[--depth];
			if (tmp.data != NULL)
				tmp.data[tmp.len] = '\0';
			continue;
		}
		stack[depth++] = tmp.len;
		buf_puts(&tmp, "/");
		sigv4_encode(&tmp, seg, len, false);
	}
	if (tmp.len == 0)
		buf_puts(b, "/");
	else {
		buf_append(b, tmp.data, tmp.len);
		if (trailing)
			buf_puts(b, "/");
	}
	buf_finish(&tmp);
	free(stack);
}

struct sigv4_qparam {
	char	*key;	/* owned, encoded */
	char	*value;	/* owned, encoded */
};

static int
sigv4_qparam_cmp(const void *a, const void *b)
{
	const struct sigv4_qparam *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : strcmp(x->value, y->value);
}

static char *
sigv4_reencode(const char *s, size_t len)
{
	struct buf b;
	size_t dlen;
	char *d = sigv4_decode(s, len, &dlen);

	buf_init(&b);
	buf_puts(&b, "");
	sigv4_encode(&b, d, dlen, false);
	free(d);
	return buf_steal(&b);
}

static void
sigv4_canonical_query(struct buf *b, const char *query)
{
	struct sigv4_qparam *params = NULL;
	const char *p, *end, *eq;
	size_t n = 0, cap = 0, i;

	if (query == NULL)
		return;
	for (p = query; *p != '\0'; p = *end != '\0' ? end + 1 : end) {
		if ((end = strchr(p, '&')) == NULL)
			end = p + strlen(p);
		if (end == p)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			params = xreallocarray(params, cap, sizeof(*params));
		}
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq == NULL) {
			params[n].key = sigv4_reencode(p, (size_t)(end - p));
			params[n].value = xstrdup("");
		} else {
			params[n].key = sigv4_reencode(p, (size_t)(eq - p));
			params[n].value = sigv4_reencode(eq + 1,
			    (size_t)(end - eq - 1));
		}
		n++;
	}
	if (n > 1)
		qsort(params, n, sizeof(*params), sigv4_qparam_cmp);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_puts(b, "&");
		buf_puts(b, params[i].key);
		buf_puts(b, "=");
		buf_puts(b, params[i].value);
		free(params[i].key);
		free(params[i].value);
	}
	free(params);
}

static bool
sigv4_token_char(unsigned char c)
{
	/* RFC 7230 tchar */
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

struct sigv4_hdr {
	char		*name;	/* owned, lower case */
	const char	*value;	/* borrowed from the request */
	size_t		 order;
};

static int
sigv4_hdr_cmp(const void *a, const void *b)
{
	const struct sigv4_hdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static bool
sigv4_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trim, and collapse every run of whitespace to one space. */
static void
sigv4_header_value(struct buf *b, const char *v)
{
	bool pending = false, any = false;

	for (; *v != '\0'; v++) {
		if (sigv4_space(*v)) {
			pending = any;
			continue;
		}
		if (pending)
			buf_puts(b, " ");
		pending = false;
		any = true;
		buf_append(b, v, 1);
	}
}

int
sigv4_canonical_request(const struct sigv4_request *req,
    struct buf *canonical, struct buf *signed_headers)
{
	struct sigv4_hdr hdrs[SIGV4_MAX_HEADERS];
	char hash[SIGV4_HEX_LEN + 1];
	const char *m;
	size_t i, j;

	if (req->method == NULL || *req->method == '\0' ||
	    req->nheaders > SIGV4_MAX_HEADERS ||
	    (req->nheaders > 0 && req->headers == NULL))
		return -EINVAL;
	for (m = req->method; *m != '\0'; m++)
		if (!sigv4_token_char((unsigned char)*m))
			return -EINVAL;
	for (i = 0; i < req->nheaders; i++) {
		const char *n = req->headers[i].name;

		if (n == NULL || *n == '\0' || req->headers[i].value == NULL)
			return -EINVAL;
		for (; *n != '\0'; n++)
			if (!sigv4_token_char((unsigned char)*n))
				return -EINVAL;
	}
	for (i = 0; i < req->nheaders; i++) {
		hdrs[i].name = xstrdup(req->headers[i].name);
		for (j = 0; hdrs[i].name[j] != '\0'; j++)
			if (hdrs[i].name[j] >= 'A' && hdrs[i].name[j] <= 'Z')
				hdrs[i].name[j] += 'a' - 'A';
		hdrs[i].value = req->headers[i].value;
		hdrs[i].order = i;
	}
	qsort(hdrs, req->nheaders, sizeof(hdrs[0]), sigv4_hdr_cmp);

	buf_puts(canonical, req->method);
	buf_puts(canonical, "\n");
	sigv4_canonical_path(canonical, req->path, req->normalize_path);
	buf_puts(canonical, "\n");
	sigv4_canonical_query(canonical, req->query);
	buf_puts(canonical, "\n");
	for (i = 0; i < req->nheaders; i++) {
		bool first = i == 0 || strcmp(hdrs[i].name,
		    hdrs[i - 1].name) != 0;
		bool last = i + 1 == req->nheaders ||
		    strcmp(hdrs[i].name, hdrs[i + 1].name) != 0;

		if (first) {
			buf_puts(canonical, hdrs[i].name);
			buf_puts(canonical, ":");
			if (signed_headers->len > 0)
				buf_puts(signed_headers, ";");
			buf_puts(signed_headers, hdrs[i].name);
		} else {
			buf_puts(canonical, ",");
		}
		sigv4_header_value(canonical, hdrs[i].value);
		if (last)
			buf_puts(canonical, "\n");
	}
	buf_puts(canonical, "\n");
	buf_puts(canonical, signed_headers->data != NULL ?
	    signed_headers->data : "");
	buf_puts(canonical, "\n");
	sigv4_sha256_hex(req->payload, req->payload_len, hash);
	buf_puts(canonical, hash);
	for (i = 0; i < req->nheaders; i++)
		free(hdrs[i].name);
	return 0;
}

static bool
sigv4_scope_part_ok(const char *s, size_t max)
{
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++, n++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-') || n >= max)
			return false;
	return true;
}

static bool
sigv4_date_ok(const char *d)
{
	size_t i;

	if (d == NULL || strlen(d) != SIGV4_AMZ_DATE_LEN || d[8] != 'T' ||
	    d[15] != 'Z')
		return false;
	for (i = 0; i < 15; i++)
		if (i != 8 && (d[i] < '0' || d[i] > '9'))
			return false;
	return true;
}

static bool
sigv4_akid_ok(const char *k)
{
	size_t n = 0;

	if (k == NULL || *k == '\0')
		return false;
	for (; *k != '\0'; k++, n++)
		if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') ||
		    (*k >= '0' && *k <= '9')) || n >= 128)
			return false;
	return true;
}

void
sigv4_key_cache_reset(struct sigv4_key_cache *cache)
{
	secret_wipe(cache, sizeof(*cache));
	cache->valid = false;
}

static void
sigv4_signing_key(const char *secret, const char *date, const char *region,
    const char *service, unsigned char key[32])
{
	unsigned char k1[32], k2[32], k3[32];
	struct buf seed;

	buf_init(&seed);
	buf_puts(&seed, "AWS4");
	buf_puts(&seed, secret);
	sigv4_hmac(seed.data, seed.len, date, strlen(date), k1);
	sigv4_hmac(k1, sizeof(k1), region, strlen(region), k2);
	sigv4_hmac(k2, sizeof(k2), service, strlen(service), k3);
	sigv4_hmac(k3, sizeof(k3), "aws4_request", 12, key);
	buf_finish_secret(&seed);
	secret_wipe(k1, sizeof(k1));
	secret_wipe(k2, sizeof(k2));
	secret_wipe(k3, sizeof(k3));
}

void
sigv4_output_init(struct sigv4_output *out)
{
	buf_init(&out->canonical);
	buf_init(&out->string_to_sign);
	buf_init(&out->signed_headers);
	buf_init(&out->authorization);
	out->signature[0] = '\0';
}

void
sigv4_output_finish(struct sigv4_output *out)
{
	buf_finish_secret(&out->canonical);
	buf_finish(&out->string_to_sign);
	buf_finish(&out->signed_headers);
	buf_finish_secret(&out->authorization);
	secret_wipe(out->signature, sizeof(out->signature));
}

int
sigv4_sign(const struct sigv4_request *req, const char *access_key_id,
    const char *secret, const char *region, const char *service,
    const char *amz_date, struct sigv4_key_cache *cache,
    struct sigv4_output *out)
{
	unsigned char key[32], sig[32];
	char hash[SIGV4_HEX_LEN + 1], date[9];
	int r;

	if (!sigv4_date_ok(amz_date) || !sigv4_akid_ok(access_key_id) ||
	    secret == NULL || *secret == '\0' ||
	    !sigv4_scope_part_ok(region, sizeof(cache->region) - 1) ||
	    !sigv4_scope_part_ok(service, sizeof(cache->service) - 1))
		return -EINVAL;
	if ((r = sigv4_canonical_request(req, &out->canonical,
	    &out->signed_headers)) < 0)
		return r;
	memcpy(date, amz_date, 8);
	date[8] = '\0';

	sigv4_sha256_hex(out->canonical.data, out->canonical.len, hash);
	buf_printf(&out->string_to_sign,
	    "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
	    amz_date, date, region, service, hash);

	if (cache != NULL && cache->valid && strcmp(cache->date, date) == 0 &&
	    strcmp(cache->region, region) == 0 &&
	    strcmp(cache->service, service) == 0) {
		memcpy(key, cache->key, sizeof(key));
	} else {
		sigv4_signing_key(secret, date, region, service, key);
		if (cache != NULL) {
			memcpy(cache->date, date, sizeof(cache->date));
			strcpy(cache->region, region);	/* length checked */
			strcpy(cache->service, service);
			memcpy(cache->key, key, sizeof(key));
			cache->valid = true;
		}
	}
	sigv4_hmac(key, sizeof(key), out->string_to_sign.data,
	    out->string_to_sign.len, sig);
	sigv4_hex(sig, sizeof(sig), out->signature);
	buf_printf(&out->authorization,
	    "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
	    "SignedHeaders=%s, Signature=%s", access_key_id, date, region,
	    service, out->signed_headers.data, out->signature);
	secret_wipe(key, sizeof(key));
	secret_wipe(sig, sizeof(sig));
	return 0;
}
