/*
 * The audit writer: records are single JSON lines with the schema's fields,
 * appends survive a reopen (logrotate), and a record is in the file when
 * audit_write returns.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handler/audit.h"
#include "handler/timeutil.h"
#include "tests/test.h"

static char dir[] = "/tmp/jl-audit-XXXXXX";
static char path[256], rotated[256];

static size_t
read_lines(const char *p, json_t **recs, size_t max)
{
	FILE *fp = fopen(p, "r");
	char line[8192];
	size_t n = 0;

	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL && n < max) {
		json_error_t err;
		size_t len = strlen(line);

		test_assert(len > 0 && line[len - 1] == '\n');
		test_assert(strchr(line, '\n') == line + len - 1);
		recs[n] = json_loads(line, JSON_REJECT_DUPLICATES, &err);
		if (recs[n] == NULL) {
			fprintf(stderr, "not JSON: %s: %s\n", line, err.text);
			abort();
		}
		n++;
	}
	fclose(fp);
	return n;
}

static void
test_schema(void)
{
	struct audit *a;
	struct audit_ctx ctx = {
		.action = "465e0162-e6af-4786-b4e8-bb544ae58790",
		.instance = "i-05629ab7d9287e205",
		.group = "jvb-eu",
		.hook = "jvb-drain",
		.transition = "terminating",
	};
	struct audit_ctx none = { 0 };
	json_t *fields, *recs[8];
	int64_t t0 = timeutil_wall_ms(), t;
	size_t n, i;

	test_assert_int(audit_open(path, &a), 0);
	fields = json_pack("{s:s,s:i,s:s}", "result", "CONTINUE",
	    "duration_ms", 12034, "step", "must-not-override");
	test_assert_int(audit_write(a, &ctx, "completed", fields), 0);
	json_decref(fields);
	/* a record is in the file when audit_write returns */
	n = read_lines(path, recs, 8);
	test_assert_int(n, 1);
	test_assert_str(json_string_value(json_object_get(recs[0], "step")),
	    "completed");
	json_decref(recs[0]);

	fields = json_pack("{s:s,s:s}", "reason", "not JSON",
	    "message", "line1\nline2\x01\xc3\xa9");
	test_assert_int(audit_write(a, &none, "rejected", fields), 0);
	json_decref(fields);
	test_assert_int(audit_records(a), 2);
	audit_close(a);

	n = read_lines(path, recs, 8);
	test_assert_int(n, 2);
	test_assert_str(json_string_value(json_object_get(recs[0], "action")),
	    ctx.action);
	test_assert_str(json_string_value(json_object_get(recs[0],
	    "instance")), ctx.instance);
	test_assert_str(json_string_value(json_object_get(recs[0], "group")),
	    ctx.group);
	test_assert_str(json_string_value(json_object_get(recs[0], "hook")),
	    ctx.hook);
	test_assert_str(json_string_value(json_object_get(recs[0],
	    "transition")), "terminating");
	test_assert_str(json_string_value(json_object_get(recs[0], "result")),
	    "CONTINUE");
	test_assert_int(json_integer_value(json_object_get(recs[0],
	    "duration_ms")), 12034);
	/* time: RFC 3339 UTC with milliseconds, and now */
	{
		const char *ts = json_string_value(json_object_get(recs[0],
		    "time"));

		test_assert(ts != NULL && strlen(ts) == 24 && ts[23] == 'Z' &&
		    ts[19] == '.');
		test_assert_int(timeutil_parse_iso8601(ts, &t), 0);
		test_assert(t >= t0 - 1000 && t <= timeutil_wall_ms() + 1000);
	}
	/* the unknown context is null, the multi-line text stays one line */
	test_assert(json_is_null(json_object_get(recs[1], "action")));
	test_assert_str(json_string_value(json_object_get(recs[1],
	    "message")), "line1\nline2\x01\xc3\xa9");
	for (i = 0; i < n; i++)
		json_decref(recs[i]);
}

static void
test_reopen(void)
{
	struct audit *a;
	struct audit_ctx ctx = { .action = "tok" };
	json_t *recs[8];

	test_assert_int(audit_open(path, &a), 0);
	test_assert_int(audit_write(a, &ctx, "one", NULL), 0);
	/* logrotate: the file is moved away, then we are told to reopen */
	test_assert(rename(path, rotated) == 0);
	test_assert_int(audit_write(a, &ctx, "two", NULL), 0);
	test_assert_int(audit_reopen(a), 0);
	test_assert_int(audit_write(a, &ctx, "three", NULL), 0);
	audit_close(a);
	/* appends: the old file kept its 2 records and got "one", "two" */
	test_assert_int(read_lines(rotated, recs, 8), 4);
	test_assert_str(json_string_value(json_object_get(recs[3], "step")),
	    "two");
	for (int i = 0; i < 4; i++)
		json_decref(recs[i]);
	test_assert_int(read_lines(path, recs, 8), 1);
	test_assert_str(json_string_value(json_object_get(recs[0], "step")),
	    "three");
	json_decref(recs[0]);
	/* reopening an existing file appends, never truncates */
	test_assert_int(audit_open(path, &a), 0);
	test_assert_int(audit_write(a, &ctx, "four", NULL), 0);
	audit_close(a);
	test_assert_int(read_lines(path, recs, 8), 2);
	json_decref(recs[0]);
	json_decref(recs[1]);
}

static void
test_open_error(void)
{
	struct audit *a = NULL;

	test_assert_int(audit_open("/nonexistent/dir/audit.jsonl", &a),
	    -ENOENT);
	test_assert(a == NULL);
}

int
main(void)
{
	test_assert(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	snprintf(rotated, sizeof(rotated), "%s/audit.jsonl.1", dir);
	test_run(test_schema);
	test_run(test_reopen);
	test_run(test_open_error);
	unlink(path);
	unlink(rotated);
	rmdir(dir);
	return 0;
}
