/*
 * SigV4 against the aws-c-auth v4 suite (read from SIGV4_VECTORS, never
 * copied here): for each case, the canonical request, the string to sign
 * and the signature are compared separately.  See README.md for how the
 * suite's flags are applied.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aws/sigv4.h"
#include "handler/buf.h"
#include "tests/test.h"

static char *
read_file(const char *dir, const char *name, size_t *ret_len)
{
	char path[4096];
	FILE *fp;
	struct buf b;
	char chunk[4096];
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	buf_init(&b);
	buf_puts(&b, "");
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&b, chunk, n);
	fclose(fp);
	if (ret_len != NULL)
		*ret_len = b.len;
	return buf_steal(&b);
}

static void
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

struct parsed {
	char		*method;
	char		*path;
	char		*query;
	char		*names[SIGV4_MAX_HEADERS];
	char		*values[SIGV4_MAX_HEADERS];
	size_t		 n;
	const char	*body;
	size_t		 body_len;
};

static void
parsed_add(struct parsed *p, const char *name, size_t nlen, const char *val,
    size_t vlen)
{
	test_assert(p->n < SIGV4_MAX_HEADERS);
	p->names[p->n] = strndup(name, nlen);
	p->values[p->n] = strndup(val, vlen);
	p->n++;
}

/* request.txt: "METHOD target HTTP/1.1", "Name:value" lines (indented
 * lines continue the previous value), a blank line, the body. */
static void
parse_request(char *text, size_t len, struct parsed *p)
{
	char *line = text, *end = text + len, *nl, *sp, *last, *q;

	memset(p, 0, sizeof(*p));
	nl = memchr(line, '\n', (size_t)(end - line));
	test_assert(nl != NULL);
	*nl = '\0';
	sp = strchr(line, ' ');
	last = strrchr(line, ' ');
	test_assert(sp != NULL && last != NULL && last > sp);
	p->method = strndup(line, (size_t)(sp - line));
	*last = '\0';
	if ((q = strchr(sp + 1, '?')) != NULL) {
		p->path = strndup(sp + 1, (size_t)(q - sp - 1));
		p->query = strdup(q + 1);
	} else
		p->path = strdup(sp + 1);
	for (line = nl + 1; line < end; line = nl + 1) {
		char *colon;

		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		if (nl == line) {
			p->body = nl + 1 <= end ? nl + 1 : end;
			p->body_len = (size_t)(end - p->body);
			break;
		}
		if (*line == ' ' || *line == '\t') {
			char *joined;

			test_assert(p->n > 0);
			joined = NULL;
			test_assert(asprintf(&joined, "%s\n%.*s",
			    p->values[p->n - 1], (int)(nl - line), line) > 0);
			free(p->values[p->n - 1]);
			p->values[p->n - 1] = joined;
			if (nl == end)
				break;
			continue;
		}
		colon = memchr(line, ':', (size_t)(nl - line));
		test_assert(colon != NULL);
		parsed_add(p, line, (size_t)(colon - line), colon + 1,
		    (size_t)(nl - colon - 1));
		if (nl == end)
			break;
	}
}

static void
parsed_free(struct parsed *p)
{
	size_t i;

	free(p->method);
	free(p->path);
	free(p->query);
	for (i = 0; i < p->n; i++) {
		free(p->names[i]);
		free(p->values[i]);
	}
}

static void
expect_equal(const char *tcase, const char *what, const char *got,
    const char *want)
{
	if (strcmp(got, want) == 0)
		return;
	fprintf(stderr, "%s: %s differs\n--- got\n%s\n--- want\n%s\n", tcase,
	    what, got, want);
	abort();
}

/* One case; 0 if run, 1 if it does not apply. */
static int
run_case(const char *dir, const char *tcase)
{
	char cdir[4096], amz_date[17], hash[65];
	char *ctx_text, *req_text, *want_canon, *want_sts, *want_sig;
	char *want_signed, *auth_line;
	const char *akid, *secret, *token = NULL, *region, *service, *ts;
	int normalize = 1, sign_body = 0, omit_token = 0;
	struct sigv4_request req;
	struct sigv4_header hdrs[SIGV4_MAX_HEADERS];
	struct sigv4_output out;
	struct parsed p;
	json_t *ctx;
	size_t req_len, i;

	snprintf(cdir, sizeof(cdir), "%s/%s", dir, tcase);
	ctx_text = read_file(cdir, "context.json", NULL);
	req_text = read_file(cdir, "request.txt", &req_len);
	want_canon = read_file(cdir, "header-canonical-request.txt", NULL);
	want_sts = read_file(cdir, "header-string-to-sign.txt", NULL);
	want_sig = read_file(cdir, "header-signature.txt", NULL);
	want_signed = read_file(cdir, "header-signed-request.txt", NULL);
	test_assert(ctx_text != NULL && req_text != NULL &&
	    want_canon != NULL && want_sts != NULL && want_sig != NULL &&
	    want_signed != NULL);
	chomp(want_canon);
	chomp(want_sts);
	chomp(want_sig);

	ctx = json_loads(ctx_text, 0, NULL);
	test_assert(ctx != NULL);
	test_assert(json_unpack(ctx, "{s:{s:s, s:s, s?s}, s:s, s:s, s:s, "
	    "s?b, s?b, s?b}",
	    "credentials", "access_key_id", &akid, "secret_access_key",
	    &secret, "token", &token, "region", &region, "service", &service,
	    "timestamp", &ts, "normalize", &normalize, "sign_body",
	    &sign_body, "omit_session_token", &omit_token) == 0);
	/* "2015-08-30T12:36:00Z" -> "20150830T123600Z" */
	test_assert(strlen(ts) == 20);
	snprintf(amz_date, sizeof(amz_date), "%.4s%.2s%.2sT%.2s%.2s%.2sZ",
	    ts, ts + 5, ts + 8, ts + 11, ts + 14, ts + 17);

	parse_request(req_text, req_len, &p);
	for (i = 0; i < p.n; i++)
		hdrs[i] = (struct sigv4_header){ p.names[i], p.values[i] };
	hdrs[p.n++] = (struct sigv4_header){ "X-Amz-Date", amz_date };
	/* the token is signed unless the case says it is added after */
	if (token != NULL && !omit_token)
		hdrs[p.n++] = (struct sigv4_header){ "X-Amz-Security-Token",
		    token };
	/* the CRT's "sign body" option is one more signed header */
	if (sign_body) {
		sigv4_sha256_hex(p.body, p.body_len, hash);
		hdrs[p.n++] = (struct sigv4_header){ "x-amz-content-sha256",
		    hash };
	}
	memset(&req, 0, sizeof(req));
	req.method = p.method;
	req.path = p.path;
	req.query = p.query;
	req.headers = hdrs;
	req.nheaders = p.n;
	req.payload = p.body;
	req.payload_len = p.body_len;
	req.normalize_path = normalize;

	sigv4_output_init(&out);
	test_assert_int(sigv4_sign(&req, akid, secret, region, service,
	    amz_date, NULL, &out), 0);
	expect_equal(tcase, "canonical request", out.canonical.data,
	    want_canon);
	expect_equal(tcase, "string to sign", out.string_to_sign.data,
	    want_sts);
	expect_equal(tcase, "signature", out.signature, want_sig);
	/* and the header the signed request carries */
	auth_line = strstr(want_signed, "\nAuthorization:");
	test_assert(auth_line != NULL);
	auth_line += strlen("\nAuthorization:");
	auth_line[strcspn(auth_line, "\r\n")] = '\0';
	expect_equal(tcase, "Authorization", out.authorization.data,
	    auth_line);

	sigv4_output_finish(&out);
	parsed_free(&p);
	json_decref(ctx);
	free(ctx_text);
	free(req_text);
	free(want_canon);
	free(want_sts);
	free(want_sig);
	free(want_signed);
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_vectors(const char *dir)
{
	DIR *d;
	struct dirent *de;
	char *names[256];
	size_t n = 0, i;

	test_assert((d = opendir(dir)) != NULL);
	while ((de = readdir(d)) != NULL && n < 256) {
		char path[4096];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/request.txt", dir,
		    de->d_name);
		if (stat(path, &st) == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	test_assert(n >= 30);
	for (i = 0; i < n; i++) {
		run_case(dir, names[i]);
		fprintf(stderr, "ok %s\n", names[i]);
		free(names[i]);
	}
	fprintf(stderr, "%zu cases\n", n);
}

/* The cached key signs exactly like a fresh derivation, per scope. */
static void
test_key_cache(void)
{
	struct sigv4_header h[2] = {
		{ "host", "sqs.eu-west-1.amazonaws.com" },
		{ "x-amz-date", "20260101T000000Z" },
	};
	struct sigv4_request req = {
		.method = "POST", .path = "/", .headers = h, .nheaders = 2,
		.payload = "{}", .payload_len = 2, .normalize_path = true,
	};
	struct sigv4_key_cache cache;
	struct sigv4_output a, b, c;

	sigv4_key_cache_reset(&cache);
	sigv4_output_init(&a);
	sigv4_output_init(&b);
	sigv4_output_init(&c);
	test_assert_int(sigv4_sign(&req, "AKIDEXAMPLE", "secret", "eu-west-1",
	    "sqs", "20260101T000000Z", NULL, &a), 0);
	test_assert_int(sigv4_sign(&req, "AKIDEXAMPLE", "secret", "eu-west-1",
	    "sqs", "20260101T000000Z", &cache, &b), 0);
	test_assert(cache.valid);
	test_assert_str(cache.date, "20260101");
	test_assert_str(a.signature, b.signature);
	/* the next day derives a new key */
	h[1].value = "20260102T000000Z";
	test_assert_int(sigv4_sign(&req, "AKIDEXAMPLE", "secret", "eu-west-1",
	    "sqs", "20260102T000000Z", &cache, &c), 0);
	test_assert_str(cache.date, "20260102");
	test_assert(strcmp(c.signature, b.signature) != 0);
	sigv4_output_finish(&a);
	sigv4_output_finish(&b);
	sigv4_output_finish(&c);
	sigv4_key_cache_reset(&cache);
	test_assert(!cache.valid);
}

/* The payload hash is of the exact bytes; the token is signed. */
static void
test_payload_and_token(void)
{
	struct sigv4_header h[4] = {
		{ "Content-Type", "application/x-amz-json-1.0" },
		{ "Host", "127.0.0.1:5000" },
		{ "X-Amz-Date", "20260101T000000Z" },
		{ "X-Amz-Security-Token", "TOKEN" },
	};
	struct sigv4_request req = {
		.method = "POST", .path = "/", .headers = h, .nheaders = 4,
		.payload = "{\"a\":1}", .payload_len = 7, .normalize_path = true,
	};
	struct sigv4_output a, b;
	char hash[65];

	sigv4_output_init(&a);
	sigv4_output_init(&b);
	test_assert_int(sigv4_sign(&req, "AKID", "s", "us-east-1", "sqs",
	    "20260101T000000Z", NULL, &a), 0);
	sigv4_sha256_hex("{\"a\":1}", 7, hash);
	test_assert(strstr(a.canonical.data, hash) != NULL);
	test_assert_str(a.signed_headers.data,
	    "content-type;host;x-amz-date;x-amz-security-token");
	test_assert(strstr(a.canonical.data, "host:127.0.0.1:5000\n") != NULL);
	req.payload_len = 6;	/* one byte less: another signature */
	test_assert_int(sigv4_sign(&req, "AKID", "s", "us-east-1", "sqs",
	    "20260101T000000Z", NULL, &b), 0);
	test_assert(strcmp(a.signature, b.signature) != 0);
	sigv4_output_finish(&a);
	sigv4_output_finish(&b);
}

static void
test_rejects(void)
{
	struct sigv4_header h[2] = {
		{ "host", "x" }, { "x-amz-date", "20260101T000000Z" },
	};
	struct sigv4_request req = {
		.method = "GET", .path = "/", .headers = h, .nheaders = 2,
	};
	struct sigv4_output o;
	char d[17];

	sigv4_output_init(&o);
	test_assert_int(sigv4_sign(&req, "AKID", "s", "us-east-1", "sqs",
	    "2026-01-01", NULL, &o), -EINVAL);
	test_assert_int(sigv4_sign(&req, "AK/ID", "s", "us-east-1", "sqs",
	    "20260101T000000Z", NULL, &o), -EINVAL);
	test_assert_int(sigv4_sign(&req, "AKID", "s", "US_EAST", "sqs",
	    "20260101T000000Z", NULL, &o), -EINVAL);
	h[0].name = "bad name";
	test_assert_int(sigv4_sign(&req, "AKID", "s", "us-east-1", "sqs",
	    "20260101T000000Z", NULL, &o), -EINVAL);
	sigv4_output_finish(&o);
	sigv4_amz_date(1440938160000LL, d);	/* 2015-08-30T12:36:00Z */
	test_assert_str(d, "20150830T123600Z");
}

int
main(void)
{
	const char *dir = getenv("SIGV4_VECTORS");
	struct stat st;

	test_run(test_key_cache);
	test_run(test_payload_and_token);
	test_run(test_rejects);
	if (dir == NULL || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "SIGV4_VECTORS not found: vectors skipped\n");
		return TEST_SKIP;
	}
	test_vectors(dir);
	return 0;
}
