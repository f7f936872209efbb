/*
 * events/: envelope_parse against the bodies in tests/events/data/ (the
 * expectations are in data/cases.txt), plus generated bodies (sizes,
 * nesting, field order) and the validators.
 *
 * Usage: test_envelope <data dir>
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>
#include <jansson.h>

#include "events/envelope.h"
#include "events/lifecycle.h"
#include "tests/test.h"

#define MAX_CASES	256

static const char *data_dir;

struct expect {
	char	 file[128];
	char	 keys[32][32];
	char	 values[32][256];
	int	 n;
	bool	 seen;
};

static struct expect cases[MAX_CASES];
static int ncases;

static int
ini_cb(void *arg, const char *section, const char *name, const char *value)
{
	struct expect *e;

	(void)arg;
	if (ncases == 0 || strcmp(cases[ncases - 1].file, section) != 0) {
		test_assert(ncases < MAX_CASES);
		e = &cases[ncases++];
		test_assert(strlen(section) < sizeof(e->file));
		strcpy(e->file, section);
	}
	e = &cases[ncases - 1];
	test_assert(e->n < 32);
	test_assert(strlen(name) < sizeof(e->keys[0]));
	test_assert(strlen(value) < sizeof(e->values[0]));
	strcpy(e->keys[e->n], name);
	strcpy(e->values[e->n], value);
	e->n++;
	return 1;
}

static void
data_path(char *path, size_t len, const char *file)
{
	int n = snprintf(path, len, "%s/%s", data_dir, file);

	test_assert(n > 0 && (size_t)n < len);
}

static char *
read_file(const char *path, size_t *ret_len)
{
	FILE *fp = fopen(path, "rb");
	size_t cap = 4096, len = 0, n;
	char *data = malloc(cap);

	test_assert(fp != NULL && data != NULL);
	while ((n = fread(data + len, 1, cap - len, fp)) > 0) {
		len += n;
		if (len == cap) {
			cap *= 2;
			data = realloc(data, cap);
			test_assert(data != NULL);
		}
	}
	test_assert(!ferror(fp));
	fclose(fp);
	*ret_len = len;
	return data;
}

static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static bool
place_ok(const char *s)
{
	return s[0] == '\0' || strcmp(s, "EC2") == 0 ||
	    strcmp(s, "AutoScalingGroup") == 0 || strcmp(s, "WarmPool") == 0;
}

/* What must hold for any result, whatever the input. */
static void
check_invariants(const struct envelope_result *r)
{
	const struct lifecycle_event *ev = &r->event;

	test_assert(r->group[0] == '\0' || lifecycle_valid_group(r->group));
	test_assert(r->request_id[0] == '\0' ||
	    lifecycle_valid_request_id(r->request_id));
	test_assert(r->time_ms >= 0);
	switch (r->kind) {
	case ENVELOPE_KIND_LIFECYCLE:
		test_assert(r->reason[0] == '\0');
		test_assert(ev->transition == LIFECYCLE_LAUNCHING ||
		    ev->transition == LIFECYCLE_TERMINATING);
		test_assert(lifecycle_valid_group(ev->group));
		test_assert(lifecycle_valid_hook(ev->hook));
		test_assert(lifecycle_valid_instance_id(ev->instance_id));
		test_assert(lifecycle_valid_token(ev->token));
		test_assert(place_ok(ev->origin) && place_ok(ev->destination));
		test_assert(ev->warm_pool ==
		    (strcmp(ev->origin, "WarmPool") == 0 ||
		    strcmp(ev->destination, "WarmPool") == 0));
		test_assert(ev->notification_metadata[0] == '\0' ||
		    lifecycle_valid_metadata(ev->notification_metadata));
		test_assert(ev->request_id[0] == '\0' ||
		    lifecycle_valid_request_id(ev->request_id));
		test_assert(strcmp(r->group, ev->group) == 0);
		test_assert(strcmp(r->instance_id, ev->instance_id) == 0);
		test_assert(strcmp(r->request_id, ev->request_id) == 0);
		test_assert(r->time_ms == ev->time_ms);
		test_assert(ev->via_sns == (ev->envelope == ENVELOPE_SNS) ||
		    ev->envelope == ENVELOPE_EVENTBRIDGE);
		break;
	case ENVELOPE_KIND_SPOT_WARNING:
		test_assert(lifecycle_valid_instance_id(r->instance_id));
		test_assert(strcmp(r->instance_action, "terminate") == 0 ||
		    strcmp(r->instance_action, "stop") == 0 ||
		    strcmp(r->instance_action, "hibernate") == 0);
		break;
	case ENVELOPE_KIND_REBALANCE:
		test_assert(lifecycle_valid_instance_id(r->instance_id));
		break;
	case ENVELOPE_KIND_STATE_CHANGE:
		test_assert(lifecycle_valid_instance_id(r->instance_id));
		test_assert(r->state[0] != '\0' && printable(r->state));
		break;
	case ENVELOPE_KIND_TEST:
		test_assert(r->reason[0] == '\0');
		break;
	case ENVELOPE_KIND_REJECT:
		test_assert(r->reason[0] != '\0');
		test_assert(strlen(r->reason) <= ENVELOPE_REASON_MAX);
		test_assert(printable(r->reason));
		break;
	default:
		test_assert(!"unknown kind");
	}
	if (r->kind != ENVELOPE_KIND_LIFECYCLE) {
		static const struct lifecycle_event zero;

		test_assert(memcmp(ev, &zero, sizeof(zero)) == 0);
	}
}

static int
parse_kind(const char *s)
{
	static const enum envelope_kind kinds[] = {
		ENVELOPE_KIND_LIFECYCLE, ENVELOPE_KIND_TEST,
		ENVELOPE_KIND_SPOT_WARNING, ENVELOPE_KIND_REBALANCE,
		ENVELOPE_KIND_STATE_CHANGE, ENVELOPE_KIND_REJECT,
	};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(s, envelope_kind_name(kinds[i])) == 0)
			return (int)kinds[i];
	fprintf(stderr, "cases.txt: unknown kind '%s'\n", s);
	abort();
}

static const char *
bool_str(bool b)
{
	return b ? "true" : "false";
}

/* Compare one expectation key with the result. */
static void
check_key(const struct expect *e, const char *key, const char *want,
    const struct envelope_result *r)
{
	const struct lifecycle_event *ev = &r->event;
	char num[32];

	fprintf(stderr, "   %s = %s\n", key, want);
	if (strcmp(key, "kind") == 0) {
		test_assert_str(envelope_kind_name(r->kind), want);
	} else if (strcmp(key, "reason") == 0) {
		if (strstr(r->reason, want) == NULL) {
			fprintf(stderr, "%s: reason \"%s\" lacks \"%s\"\n",
			    e->file, r->reason, want);
			abort();
		}
	} else if (strcmp(key, "group") == 0) {
		test_assert_str(r->group, want);
	} else if (strcmp(key, "instance_id") == 0) {
		test_assert_str(r->instance_id, want);
	} else if (strcmp(key, "request_id") == 0) {
		test_assert_str(r->request_id, want);
	} else if (strcmp(key, "time_ms") == 0) {
		snprintf(num, sizeof(num), "%lld", (long long)r->time_ms);
		test_assert_str(num, want);
	} else if (strcmp(key, "instance_action") == 0) {
		test_assert_str(r->instance_action, want);
	} else if (strcmp(key, "state") == 0) {
		test_assert_str(r->state, want);
	} else if (strcmp(key, "transition") == 0) {
		test_assert_str(lifecycle_transition_name(ev->transition),
		    want);
	} else if (strcmp(key, "envelope") == 0) {
		test_assert_str(lifecycle_envelope_name(ev->envelope), want);
	} else if (strcmp(key, "via_sns") == 0) {
		test_assert_str(bool_str(ev->via_sns), want);
	} else if (strcmp(key, "hook") == 0) {
		test_assert_str(ev->hook, want);
	} else if (strcmp(key, "token") == 0) {
		test_assert_str(ev->token, want);
	} else if (strcmp(key, "origin") == 0) {
		test_assert_str(ev->origin, want);
	} else if (strcmp(key, "destination") == 0) {
		test_assert_str(ev->destination, want);
	} else if (strcmp(key, "metadata") == 0) {
		test_assert_str(ev->notification_metadata, want);
	} else if (strcmp(key, "metadata_len") == 0) {
		snprintf(num, sizeof(num), "%zu",
		    strlen(ev->notification_metadata));
		test_assert_str(num, want);
	} else if (strcmp(key, "warm_pool") == 0) {
		test_assert_str(bool_str(ev->warm_pool), want);
	} else {
		fprintf(stderr, "cases.txt [%s]: unknown key '%s'\n", e->file,
		    key);
		abort();
	}
}

static bool
has_key(const struct expect *e, const char *key)
{
	int i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->keys[i], key) == 0)
			return true;
	return false;
}

static void
run_case(struct expect *e)
{
	/* A lifecycle case must pin down every field the daemon uses. */
	static const char *const lifecycle_keys[] = {
		"transition", "envelope", "via_sns", "group", "hook",
		"instance_id", "token", "origin", "destination", "warm_pool",
		"request_id", "time_ms", NULL,
	};
	struct envelope_result r, again;
	char path[4096];
	size_t len;
	char *body;
	int i, kind = -1;

	fprintf(stderr, "-- %s\n", e->file);
	data_path(path, sizeof(path), e->file);
	body = read_file(path, &len);
	test_assert_int(envelope_parse(body, len, &r), 0);
	fprintf(stderr, "   -> %s %s\n", envelope_kind_name(r.kind),
	    r.reason);
	check_invariants(&r);
	for (i = 0; i < e->n; i++) {
		if (strcmp(e->keys[i], "kind") == 0)
			kind = parse_kind(e->values[i]);
		check_key(e, e->keys[i], e->values[i], &r);
	}
	test_assert(kind >= 0);
	if (kind == ENVELOPE_KIND_REJECT)
		test_assert(has_key(e, "reason"));
	if (kind == ENVELOPE_KIND_LIFECYCLE)
		for (i = 0; lifecycle_keys[i] != NULL; i++)
			if (!has_key(e, lifecycle_keys[i])) {
				fprintf(stderr, "cases.txt [%s]: lifecycle "
				    "case without '%s'\n", e->file,
				    lifecycle_keys[i]);
				abort();
			}
	/* Pure: the same bytes give the same result. */
	test_assert_int(envelope_parse(body, len, &again), 0);
	test_assert(memcmp(&r, &again, sizeof(r)) == 0);
	free(body);
	e->seen = true;
}

static void
test_data_cases(void)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	int i;

	data_path(path, sizeof(path), "cases.txt");
	test_assert_int(ini_parse(path, ini_cb, NULL), 0);
	test_assert(ncases > 50);
	for (i = 0; i < ncases; i++)
		run_case(&cases[i]);
	/* Every body in the folder has an expectation, and vice versa. */
	test_assert((d = opendir(data_dir)) != NULL);
	while ((de = readdir(d)) != NULL) {
		bool found = false;

		if (de->d_name[0] == '.' || strcmp(de->d_name, "cases.txt") == 0)
			continue;
		for (i = 0; i < ncases; i++)
			if (strcmp(cases[i].file, de->d_name) == 0)
				found = true;
		if (!found) {
			fprintf(stderr, "%s: no entry in cases.txt\n",
			    de->d_name);
			abort();
		}
	}
	closedir(d);
}

static const char terminate_body[] =
    "{\"LifecycleHookName\":\"jvb-drain\",\"AccountId\":\"210987654321\","
    "\"RequestId\":\"c41f9a0e-7d2b-11ef-8f7e-0a58a9feac02\","
    "\"LifecycleTransition\":\"autoscaling:EC2_INSTANCE_TERMINATING\","
    "\"AutoScalingGroupName\":\"jvb-eu\",\"Service\":\"AWS Auto Scaling\","
    "\"Time\":\"2025-06-14T21:07:09.512Z\","
    "\"EC2InstanceId\":\"i-0a1b2c3d4e5f60718\","
    "\"LifecycleActionToken\":\"6f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e5\"}";

/* A valid body padded to exactly len bytes with an unknown field. */
static char *
padded_body(size_t len)
{
	static const char pad_key[] = ",\"Padding\":\"";
	size_t base = sizeof(terminate_body) - 1 - 1;	/* without '}' */
	size_t fixed = base + sizeof(pad_key) - 1 + 2;	/* + "\"}" */
	char *b;

	test_assert(len > fixed);
	b = malloc(len);
	test_assert(b != NULL);
	memcpy(b, terminate_body, base);
	memcpy(b + base, pad_key, sizeof(pad_key) - 1);
	memset(b + base + sizeof(pad_key) - 1, 'p', len - fixed);
	memcpy(b + len - 2, "\"}", 2);
	return b;
}

static void
test_sizes(void)
{
	struct envelope_result r;
	char *b;

	/* At the SQS limit: parsed. */
	b = padded_body(ENVELOPE_MAX_BODY);
	test_assert_int(envelope_parse(b, ENVELOPE_MAX_BODY, &r), 0);
	check_invariants(&r);
	test_assert_int(r.kind, ENVELOPE_KIND_LIFECYCLE);
	test_assert_str(r.event.instance_id, "i-0a1b2c3d4e5f60718");
	free(b);

	/* One byte over: refused without parsing. */
	b = padded_body(ENVELOPE_MAX_BODY + 1);
	test_assert_int(envelope_parse(b, ENVELOPE_MAX_BODY + 1, &r), 0);
	check_invariants(&r);
	test_assert_int(r.kind, ENVELOPE_KIND_REJECT);
	test_assert(strstr(r.reason, "body too large: 262145 bytes") != NULL);
	free(b);

	/* 300 KiB. */
	b = padded_body(300 * 1024);
	test_assert_int(envelope_parse(b, 300 * 1024, &r), 0);
	test_assert_int(r.kind, ENVELOPE_KIND_REJECT);
	test_assert(strstr(r.reason, "body too large: 307200 bytes") != NULL);
	free(b);

	/* The length is what counts, not a NUL: no terminator needed. */
	b = malloc(sizeof(terminate_body) - 1);
	test_assert(b != NULL);
	memcpy(b, terminate_body, sizeof(terminate_body) - 1);
	test_assert_int(envelope_parse(b, sizeof(terminate_body) - 1, &r), 0);
	test_assert_int(r.kind, ENVELOPE_KIND_LIFECYCLE);
	/* ...and a shorter length cuts the document. */
	test_assert_int(envelope_parse(b, sizeof(terminate_body) - 2, &r), 0);
	test_assert_int(r.kind, ENVELOPE_KIND_REJECT);
	test_assert(strstr(r.reason, "not JSON") != NULL);
	free(b);

	test_assert_int(envelope_parse(NULL, 0, &r), 0);
	test_assert_int(r.kind, ENVELOPE_KIND_REJECT);
	test_assert_str(r.reason, "empty body");
	test_assert_int(envelope_parse(NULL, 1, &r), -EINVAL);
	test_assert_int(envelope_parse("{}", 2, NULL), -EINVAL);
}

/* "<pre>" + n * "[" + n * "]" + "<post>" */
static char *
nested(const char *pre, size_t n, const char *post, size_t *ret_len)
{
	size_t lp = strlen(pre), lq = strlen(post);
	char *b = malloc(lp + 2 * n + lq + 1);

	test_assert(b != NULL);
	memcpy(b, pre, lp);
	memset(b + lp, '[', n);
	memset(b + lp + n, ']', n);
	memcpy(b + lp + 2 * n, post, lq + 1);
	*ret_len = lp + 2 * n + lq;
	return b;
}

static void
test_nesting(void)
{
	struct envelope_result r;
	size_t len;
	char *b;

	b = nested("", 5000, "", &len);
	test_assert_int(envelope_parse(b, len, &r), 0);
	check_invariants(&r);
	test_assert_int(r.kind, ENVELOPE_KIND_REJECT);
	test_assert(strstr(r.reason, "nested too deep") != NULL);
	free(b);

	b = nested("{\"x\":", 5000, "}", &len);
	test_assert_int(envelope_parse(b, len, &r), 0);
	test_assert_int(r.kind, ENVELOPE_KIND_REJECT);
	test_assert(strstr(r.reason, "nested too deep") != NULL);
	free(b);

	/* Deep but within the parser's limit: parsed, then refused as
	 * not a lifecycle message. */
	b = nested("{\"x\":", 100, "}", &len);
	test_assert_int(envelope_parse(b, len, &r), 0);
	check_invariants(&r);
	test_assert_int(r.kind, ENVELOPE_KIND_REJECT);
	test_assert(strstr(r.reason, "not a lifecycle message") != NULL);
	free(b);
}

static void
test_sns_nested_message_depth(void)
{
	struct envelope_result r;
	json_t *outer, *msg;
	size_t depth = 3000, i;
	char *inner = malloc(depth * 2 + 1), *body;

	test_assert(inner != NULL);
	for (i = 0; i < depth; i++) {
		inner[i] = '[';
		inner[depth * 2 - 1 - i] = ']';
	}
	inner[depth * 2] = '\0';
	msg = json_string(inner);
	outer = json_pack("{s:s, s:o}", "Type", "Notification", "Message",
	    msg);
	test_assert(outer != NULL);
	body = json_dumps(outer, JSON_COMPACT);
	test_assert(body != NULL);
	test_assert_int(envelope_parse(body, strlen(body), &r), 0);
	check_invariants(&r);
	test_assert_int(r.kind, ENVELOPE_KIND_REJECT);
	test_assert(strstr(r.reason, "SNS Message: not JSON we accept: nested "
	    "too deep") != NULL);
	free(body);
	json_decref(outer);
	free(inner);
}

/* Field order never matters: the same object dumped in other orders. */
static void
check_orders(const char *file)
{
	struct envelope_result first, r;
	char path[4096], *body, *out;
	json_error_t err;
	json_t *root, *rev;
	const char *key;
	json_t *value;
	void *tmp;
	size_t len, i, n;
	const char **keys;

	data_path(path, sizeof(path), file);
	body = read_file(path, &len);
	test_assert_int(envelope_parse(body, len, &first), 0);
	test_assert_int(first.kind, ENVELOPE_KIND_LIFECYCLE);
	root = json_loadb(body, len, 0, &err);
	test_assert(root != NULL);

	out = json_dumps(root, JSON_SORT_KEYS | JSON_COMPACT);
	test_assert(out != NULL);
	test_assert_int(envelope_parse(out, strlen(out), &r), 0);
	test_assert(memcmp(&first, &r, sizeof(r)) == 0);
	free(out);

	/* Reverse insertion order. */
	n = json_object_size(root);
	keys = calloc(n, sizeof(*keys));
	test_assert(keys != NULL);
	i = 0;
	json_object_foreach_safe(root, tmp, key, value)
		keys[i++] = key;
	rev = json_object();
	while (i-- > 0)
		json_object_set(rev, keys[i], json_object_get(root, keys[i]));
	out = json_dumps(rev, JSON_INDENT(3));
	test_assert(out != NULL);
	test_assert_int(envelope_parse(out, strlen(out), &r), 0);
	test_assert(memcmp(&first, &r, sizeof(r)) == 0);
	free(out);
	free(keys);
	json_decref(rev);
	json_decref(root);
	free(body);
}

static void
test_field_order(void)
{
	check_orders("direct-terminate.json");
	check_orders("direct-launch.json");
	check_orders("eventbridge-terminate.json");
	check_orders("sns-terminate.json");
}

static void
test_validators(void)
{
	char s[300];

	test_assert(lifecycle_valid_instance_id("i-0a1b2c3d4e5f60718"));
	test_assert(lifecycle_valid_instance_id("i-89abcdef"));
	test_assert(!lifecycle_valid_instance_id("i-89abcde"));
	test_assert(!lifecycle_valid_instance_id("i-0a1b2c3d4e5f607189"));
	test_assert(!lifecycle_valid_instance_id("i-0a1b2c3d4e5f6071"));
	test_assert(!lifecycle_valid_instance_id("i-0A1B2C3D"));
	test_assert(!lifecycle_valid_instance_id("j-0a1b2c3d"));
	test_assert(!lifecycle_valid_instance_id("i-"));
	test_assert(!lifecycle_valid_instance_id(""));
	test_assert(!lifecycle_valid_instance_id("i-0a1b2c3d "));
	test_assert(!lifecycle_valid_instance_id(NULL));

	test_assert(lifecycle_valid_token(
	    "6f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e5"));
	test_assert(lifecycle_valid_token(
	    "6F1C2D3E-4A5B-4C6D-8E7F-90A1B2C3D4E5"));
	test_assert(!lifecycle_valid_token(
	    "6f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e"));
	test_assert(!lifecycle_valid_token(
	    "6f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e50"));
	test_assert(!lifecycle_valid_token(
	    "6f1c2d3e-4a5b-4c6d-8e7f090a1b2c3d4e5"));
	test_assert(!lifecycle_valid_token(
	    "6f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e-"));
	test_assert(!lifecycle_valid_token(
	    "6f1c2d3e04a5b-4c6d-8e7f-90a1b2c3d4e5"));
	test_assert(!lifecycle_valid_token(""));
	test_assert(!lifecycle_valid_token(NULL));

	test_assert(lifecycle_valid_hook("jvb-drain"));
	test_assert(lifecycle_valid_hook("a/b_c-D9"));
	test_assert(!lifecycle_valid_hook(""));
	test_assert(!lifecycle_valid_hook("jvb drain"));
	test_assert(!lifecycle_valid_hook("jvb.drain"));
	test_assert(!lifecycle_valid_hook(NULL));
	memset(s, 'h', 255);
	s[255] = '\0';
	test_assert(lifecycle_valid_hook(s));
	s[255] = 'h';
	s[256] = '\0';
	test_assert(!lifecycle_valid_hook(s));

	test_assert(lifecycle_valid_group("jvb-eu"));
	test_assert(lifecycle_valid_group("jvb asg"));
	test_assert(lifecycle_valid_group("jvb \xc3\xa9t\xc3\xa9"));
	test_assert(lifecycle_valid_group("\xf0\x9f\x8e\xa5"));
	test_assert(!lifecycle_valid_group(""));
	test_assert(!lifecycle_valid_group(NULL));
	test_assert(!lifecycle_valid_group("a\tb"));
	test_assert(!lifecycle_valid_group("a\nb"));
	test_assert(!lifecycle_valid_group("a\x7f"));
	test_assert(!lifecycle_valid_group("a\xc2\x85"));	/* U+0085 */
	test_assert(!lifecycle_valid_group("a\xff"));
	test_assert(!lifecycle_valid_group("a\xc3"));		/* cut */
	test_assert(!lifecycle_valid_group("\xc0\xaf"));	/* overlong */
	test_assert(!lifecycle_valid_group("\xed\xa0\x80"));	/* surrogate */
	test_assert(!lifecycle_valid_group("\xf4\x90\x80\x80"));	/* >10FFFF */
	memset(s, 'g', 255);
	s[255] = '\0';
	test_assert(lifecycle_valid_group(s));
	s[255] = 'g';
	s[256] = '\0';
	test_assert(!lifecycle_valid_group(s));

	test_assert(lifecycle_valid_metadata("a\tb\r\nc ~"));
	test_assert(!lifecycle_valid_metadata(""));
	test_assert(!lifecycle_valid_metadata("a\x01"));
	test_assert(!lifecycle_valid_metadata("\xc3\xa9"));

	test_assert(lifecycle_valid_request_id(
	    "c41f9a0e-7d2b-11ef-8f7e-0a58a9feac02"));
	test_assert(!lifecycle_valid_request_id("a b"));
	test_assert(!lifecycle_valid_request_id(""));

	test_assert_str(lifecycle_transition_name(LIFECYCLE_LAUNCHING),
	    "launching");
	test_assert_str(lifecycle_transition_name(LIFECYCLE_TERMINATING),
	    "terminating");
	test_assert_str(lifecycle_transition_aws(LIFECYCLE_TERMINATING),
	    "autoscaling:EC2_INSTANCE_TERMINATING");
	test_assert_str(lifecycle_envelope_name(ENVELOPE_SNS), "sns");
}

static void
test_group_allowed(void)
{
	const char *const allow[] = { "jvb-eu", "jvb-us" };

	test_assert(envelope_group_allowed("anything", NULL, 0));
	test_assert(envelope_group_allowed("", NULL, 0));
	test_assert(envelope_group_allowed("jvb-eu", allow, 2));
	test_assert(envelope_group_allowed("jvb-us", allow, 2));
	test_assert(!envelope_group_allowed("jvb-us", allow, 1));
	test_assert(!envelope_group_allowed("JVB-EU", allow, 2));
	test_assert(!envelope_group_allowed("jvb-e", allow, 2));
	test_assert(!envelope_group_allowed("jvb-eu2", allow, 2));
	test_assert(!envelope_group_allowed("", allow, 2));
	test_assert(!envelope_group_allowed(NULL, allow, 2));
}

static void
test_sanitize(void)
{
	char d[8];

	envelope_sanitize(d, sizeof(d), "abc", 3);
	test_assert_str(d, "abc");
	envelope_sanitize(d, sizeof(d), "a\x01\xff\n", 4);
	test_assert_str(d, "a???");
	envelope_sanitize(d, sizeof(d), "1234567", 7);
	test_assert_str(d, "1234567");
	envelope_sanitize(d, sizeof(d), "12345678", 8);
	test_assert_str(d, "1234...");
	envelope_sanitize(d, sizeof(d), "a\0b", 3);
	test_assert_str(d, "a?b");
	envelope_sanitize(d, 4, "abcdef", 6);
	test_assert_str(d, "...");
	envelope_sanitize(d, 2, "abcdef", 6);
	test_assert_str(d, "");
	envelope_sanitize(d, 1, "abcdef", 6);
	test_assert_str(d, "");
}

int
main(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s <data dir>\n", argv[0]);
		return 99;
	}
	data_dir = argv[1];
	test_run(test_validators);
	test_run(test_group_allowed);
	test_run(test_sanitize);
	test_run(test_sizes);
	test_run(test_nesting);
	test_run(test_sns_nested_message_depth);
	test_run(test_field_order);
	test_run(test_data_cases);
	return 0;
}
