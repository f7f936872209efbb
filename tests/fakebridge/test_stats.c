/*
 * The stats set of jvb-api.md §2.1/§8: every field the daemon may read,
 * with its JSON type; the old-version modes; the string forms the
 * presence carries; the request log ring; the options parser.
 */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "tests/fakebridge/options.h"
#include "tests/fakebridge/reqlog.h"
#include "tests/fakebridge/stats.h"
#include "tests/test.h"

static void
input(struct stats_input *in, const struct model *m)
{
	memset(in, 0, sizeof(*in));
	in->model = m;
	in->version = "2.3.215-gbee626bf";
	in->healthy = true;
	in->muc_clients_configured = 1;
	in->muc_clients_connected = 1;
	in->mucs_configured = 1;
	in->mucs_joined = 1;
	in->wall_offset_ms = 1700000000000LL;
}

static void
test_fields_and_types(void)
{
	static const char *const ints[] = { "conferences", "participants",
	    "endpoints", "local_endpoints", "octo_endpoints",
	    "largest_conference", "mucs_configured", "mucs_joined",
	    "muc_clients_configured", "muc_clients_connected", NULL };
	static const char *const bools[] = { "graceful_shutdown",
	    "shutting_down", "drain", "healthy", NULL };
	struct model_config cfg;
	struct stats_input in;
	struct model m;
	struct stats st;
	json_t *j;
	size_t i;

	model_config_default(&cfg);
	cfg.conference_size = 4;
	cfg.octo_endpoints = 2;
	model_init(&m, &cfg, 9, false, 123);
	input(&in, &m);
	stats_build(&st, &in);
	j = stats_json(&st);
	for (i = 0; ints[i] != NULL; i++)
		test_assert(json_is_integer(json_object_get(j, ints[i])));
	for (i = 0; bools[i] != NULL; i++)
		test_assert(json_is_boolean(json_object_get(j, bools[i])));
	test_assert(json_is_real(json_object_get(j, "stress_level")));
	test_assert_str(json_string_value(json_object_get(j, "version")),
	    "2.3.215-gbee626bf");
	test_assert_str(json_string_value(json_object_get(j,
	    "current_timestamp")), "2023-11-14 22:13:20.123");
	test_assert_int(json_integer_value(json_object_get(j,
	    "local_endpoints")), 9);
	test_assert_int(json_integer_value(json_object_get(j,
	    "participants")), 11);
	test_assert_int(json_integer_value(json_object_get(j, "endpoints")),
	    11);
	test_assert_int(json_integer_value(json_object_get(j,
	    "conferences")), 3);
	test_assert_int(json_integer_value(json_object_get(j,
	    "largest_conference")), 4);
	test_assert(json_is_false(json_object_get(j, "shutting_down")));
	test_assert(json_object_get(j, "release") == NULL);
	test_assert(json_object_get(j, "colibri2") == NULL);
	json_decref(j);

	/* Flags are live, counters are not. */
	test_assert_int(model_join(&m, 1, 200), 0);
	test_assert_int(model_shutdown(&m, false, 200), 0);
	test_assert_int(model_set_drain(&m, true, 200), 0);
	stats_build(&st, &in);
	j = stats_json(&st);
	test_assert(json_is_true(json_object_get(j, "shutting_down")));
	test_assert(json_is_false(json_object_get(j, "graceful_shutdown")));
	test_assert(json_is_true(json_object_get(j, "drain")));
	test_assert_int(json_integer_value(json_object_get(j,
	    "local_endpoints")), 9);
	json_decref(j);
}

static void
test_legacy(void)
{
	struct model_config cfg;
	struct stats_input in;
	struct model m;
	struct stats st;
	json_t *j;

	model_config_default(&cfg);
	model_init(&m, &cfg, 0, false, 0);
	input(&in, &m);
	in.legacy_shutting_down = true;
	in.legacy_no_drain = true;
	in.release = "1234";
	stats_build(&st, &in);
	j = stats_json(&st);
	test_assert(json_object_get(j, "shutting_down") == NULL);
	test_assert(json_object_get(j, "drain") == NULL);
	test_assert(json_is_true(json_object_get(j, "colibri2")));
	test_assert_str(json_string_value(json_object_get(j, "release")),
	    "1234");
	json_decref(j);
	test_assert_int(model_shutdown(&m, false, 1), 0);
	stats_build(&st, &in);
	j = stats_json(&st);
	test_assert(json_is_true(json_object_get(j, "shutting_down")));
	json_decref(j);
}

static void
test_text(void)
{
	struct stats_item it;
	char buf[64];

	stats_format_double(0.0, buf, sizeof(buf));
	test_assert_str(buf, "0.0");
	stats_format_double(0.05, buf, sizeof(buf));
	test_assert_str(buf, "0.05");
	stats_format_double(3.0, buf, sizeof(buf));
	test_assert_str(buf, "3.0");
	stats_format_double(0.1 + 0.2, buf, sizeof(buf));
	test_assert_str(buf, "0.30000000000000004");
	memset(&it, 0, sizeof(it));
	it.type = STATS_BOOL;
	it.b = true;
	stats_item_text(&it, buf, sizeof(buf));
	test_assert_str(buf, "true");
	it.type = STATS_INT;
	it.i = -12;
	stats_item_text(&it, buf, sizeof(buf));
	test_assert_str(buf, "-12");
	stats_format_timestamp(0, buf, sizeof(buf));
	test_assert_str(buf, "1970-01-01 00:00:00.000");
}

static void
test_reqlog(void)
{
	struct reqlog l;
	json_t *a;
	uint64_t s1, s2, s3;

	reqlog_init(&l, 2);
	s1 = reqlog_add(&l, 10, "GET", "/colibri/stats", NULL, NULL, 0);
	s2 = reqlog_add(&l, 20, "POST", "/colibri/shutdown",
	    "application/json", "{\"graceful-shutdown\":true}", 26);
	reqlog_set_status(&l, s2, 200);
	s3 = reqlog_add(&l, 30, "GET", "/about/health", NULL, "\xff", 1);
	reqlog_set_status(&l, s1, 500);	/* gone from the ring: no-op */
	test_assert_int(s3, 3);
	test_assert_int(reqlog_total(&l), 3);
	test_assert_int(l.dropped, 1);
	a = reqlog_json(&l, 0);
	test_assert_int(json_array_size(a), 2);
	test_assert_str(json_string_value(json_object_get(json_array_get(a, 0),
	    "body")), "{\"graceful-shutdown\":true}");
	test_assert_int(json_integer_value(json_object_get(json_array_get(a, 0),
	    "status")), 200);
	test_assert_str(json_string_value(json_object_get(json_array_get(a, 1),
	    "body")), "(invalid utf-8)");
	test_assert_int(json_integer_value(json_object_get(json_array_get(a, 1),
	    "status")), 0);
	json_decref(a);
	a = reqlog_json(&l, 2);
	test_assert_int(json_array_size(a), 1);
	json_decref(a);
	reqlog_clear(&l);
	a = reqlog_json(&l, 0);
	test_assert_int(json_array_size(a), 0);
	json_decref(a);
	reqlog_finish(&l);

	/* The ring grows as needed, keeping order and answers. */
	reqlog_init(&l, 100);
	for (s1 = 1; s1 <= 150; s1++) {
		s2 = reqlog_add(&l, (int64_t)s1, "GET", "/x", NULL, NULL, 0);
		test_assert_int(s2, s1);
		if (s1 == 60)
			reqlog_set_status(&l, 7, 404);
		reqlog_set_status(&l, s2, 200);
	}
	test_assert_int(l.cap, 100);
	test_assert_int(l.dropped, 50);
	a = reqlog_json(&l, 0);
	test_assert_int(json_array_size(a), 100);
	test_assert_int(json_integer_value(json_object_get(json_array_get(a, 0),
	    "seq")), 51);
	test_assert_int(json_integer_value(json_object_get(json_array_get(a,
	    99), "time_ms")), 150);
	json_decref(a);
	reqlog_finish(&l);
}

static int
apply(struct options *o, const char *text, bool runtime)
{
	char err[256];
	json_t *j = json_loads(text, 0, NULL);
	int r;

	test_assert(j != NULL);
	r = options_apply_json(o, j, runtime, err, sizeof(err));
	if (r == 0)
		r = options_check(o, err, sizeof(err));
	json_decref(j);
	return r;
}

static void
test_options(void)
{
	struct options o, copy;

	options_default(&o);
	test_assert(o.rest_enabled && o.shutdown_enabled && o.drain_enabled);
	test_assert_int(o.port, 8080);
	test_assert_int(apply(&o, "{\"address\": \"127.0.9.7\", \"port\": 9090,"
	    " \"shutting_down_delay_s\": 0.5, \"move_after_s\": -1,"
	    " \"mode\": \"hang\", \"nickname\": \"i-0abc\"}", false), 0);
	test_assert_str(o.address, "127.0.9.7");
	test_assert_int(o.model.shutting_down_delay_ms, 500);
	test_assert(o.model.move_after_ms < 0);
	test_assert_int(o.mode, OPTIONS_MODE_HANG);
	/* Only loopback, no unknown keys, no creation keys at runtime. */
	test_assert_int(apply(&o, "{\"address\": \"10.0.0.1\"}", false),
	    -EINVAL);
	test_assert_int(apply(&o, "{\"rest_enabeld\": false}", false),
	    -EINVAL);
	test_assert_int(apply(&o, "{\"port\": 1}", true), -EINVAL);
	test_assert_int(apply(&o, "{\"nickname\": \"a b\"}", false), -EINVAL);
	test_assert_int(apply(&o, "{\"stats_interval_s\": 0}", true), -EINVAL);
	test_assert_int(apply(&o, "{\"rest_enabled\": false}", true), 0);
	test_assert(!o.rest_enabled);
	/* XMPP must be complete; MUC_JIDS as a comma list. */
	test_assert_int(apply(&o, "{\"xmpp\": {\"domain\": \"auth.x\"}}",
	    false), -EINVAL);
	test_assert_int(apply(&o, "{\"xmpp\": {\"domain\": \"auth.x\", "
	    "\"username\": \"jvb\", \"password_file\": \"/tmp/pw\", "
	    "\"muc_jids\": \"jvbbrewery@internal.auth.x, b@m.x\"}}", false), 0);
	test_assert_int(o.xmpp.nrooms, 2);
	test_assert_str(o.xmpp.rooms[1], "b@m.x");
	test_assert_int(apply(&o, "{\"xmpp\": {\"host\": \"192.168.1.1\"}}",
	    false), -EINVAL);
	options_copy(&copy, &o);
	test_assert_str(copy.xmpp.rooms[0], "jvbbrewery@internal.auth.x");
	options_finish(&copy);
	test_assert_int(apply(&o, "{\"xmpp\": false}", false), 0);
	test_assert(!o.xmpp_enabled);
	options_finish(&o);
}

int
main(void)
{
	test_run(test_fields_and_types);
	test_run(test_legacy);
	test_run(test_text);
	test_run(test_reqlog);
	test_run(test_options);
	return 0;
}
