/* buf, timeutil, backoff and secret: the small pure pieces of the core. */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handler/backoff.h"
#include "handler/buf.h"
#include "handler/secret.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"
#include "tests/test.h"

static void
test_buf(void)
{
	struct buf b;
	char *s;
	int i;

	buf_init(&b);
	for (i = 0; i < 1000; i++)
		buf_printf(&b, "%d,", i);
	test_assert(b.len == strlen(b.data));
	test_assert(strncmp(b.data, "0,1,2,", 6) == 0);
	buf_reset(&b);
	buf_urlencode(&b, "a b/c~d=é");
	test_assert_str(b.data, "a%20b%2Fc~d%3D%C3%A9");
	s = buf_steal(&b);
	test_assert(b.data == NULL && b.len == 0);
	free(s);
	buf_puts(&b, "secret");
	buf_finish_secret(&b);
	test_assert(b.data == NULL);
	/* secret mode survives growth and keeps the bytes */
	buf_init(&b);
	buf_set_secret(&b);
	for (i = 0; i < 100; i++)
		buf_puts(&b, "0123456789");
	test_assert_int(b.len, 1000);
	test_assert(b.secret);
	test_assert(strncmp(b.data + 990, "0123456789", 10) == 0);
	buf_finish(&b);
	test_assert(b.data == NULL && !b.secret);
}

static void
test_time(void)
{
	struct { const char *in; int r; int64_t ms; } cases[] = {
		{ "2026-11-24T04:59:44Z", 0, 1795496384000 },
		{ "2026-11-24T04:59:44.5Z", 0, 1795496384500 },
		{ "2026-11-24T04:59:44.123456Z", 0, 1795496384123 },
		{ "2026-11-24T04:59:44+00:00", 0, 1795496384000 },
		{ "2026-11-24T04:59:44", -EINVAL, 0 },
		{ "2026-11-24T04:59:44+02:00", -EINVAL, 0 },
		{ "2026-13-24T04:59:44Z", -EINVAL, 0 },
		{ "2026-11-24T04:59:44.Z", -EINVAL, 0 },
		{ "garbage", -EINVAL, 0 },
		{ "2026-11-24T-1:59:44Z", -EINVAL, 0 },
		{ "2026-11-24T 4:59:44Z", -EINVAL, 0 },
		{ "+026-11-24T04:59:44Z", -EINVAL, 0 },
		{ "2026-11-24 04:59:44Z", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
	};
	char out[40];
	int64_t ms;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ms = -1;
		test_assert_int(timeutil_parse_iso8601(cases[i].in, &ms),
		    cases[i].r);
		if (cases[i].r == 0)
			test_assert_int(ms, cases[i].ms);
		else
			test_assert_int(ms, -1);	/* untouched */
	}
	timeutil_rfc3339(1795496384007, out, sizeof(out));
	test_assert_str(out, "2026-11-24T04:59:44.007Z");
	test_assert(timeutil_mono_ms() > 0);
}

static void
test_backoff(void)
{
	unsigned attempt;
	int i;

	for (attempt = 0; attempt < 12; attempt++) {
		uint32_t ceil = 100u << attempt;

		if (ceil > 20000 || attempt >= 8)
			ceil = 20000;
		for (i = 0; i < 200; i++)
			test_assert(backoff_full_jitter(attempt, 100, 20000) <=
			    ceil);
	}
	for (i = 0; i < 200; i++) {
		uint32_t v = backoff_uniform(5, 9);

		test_assert(v >= 5 && v <= 9);
	}
	test_assert_int(backoff_uniform(7, 7), 7);
}

static void
test_secret_file(void)
{
	char path[] = "/tmp/jl-secret-XXXXXX";
	char *s = NULL;
	int fd = mkstemp(path);
	FILE *fp;

	test_assert(fd >= 0);
	fp = fdopen(fd, "w");
	fputs("s3cret pass\nsecond line ignored\n", fp);
	fclose(fp);
	test_assert_int(secret_read_file(path, &s), 0);
	test_assert_str(s, "s3cret pass");
	secret_free(s);

	fp = fopen(path, "w");
	fputs("\n", fp);
	fclose(fp);
	s = NULL;
	test_assert_int(secret_read_file(path, &s), -ENODATA);
	test_assert(s == NULL);
	unlink(path);
	test_assert_int(secret_read_file(path, &s), -ENOENT);
}

int
main(void)
{
	test_run(test_buf);
	test_run(test_time);
	test_run(test_backoff);
	test_run(test_secret_file);
	return 0;
}
