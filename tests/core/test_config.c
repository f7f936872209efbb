/*
 * Config parsing: every key, each kind of error (with FILE:LINE), the
 * duration syntax, and the XMPP password read from its own file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handler/config.h"
#include "tests/test.h"

static char dir[] = "/tmp/jl-config-XXXXXX";
static char conf_path[256], pass_path[256];

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	test_assert(fp != NULL);
	fputs(text, fp);
	fclose(fp);
	chmod(path, mode);
}

static int
load(const char *text, struct config *cfg, struct config_errors *errs)
{
	write_file(conf_path, text, 0600);
	return config_load(conf_path, cfg, errs);
}

/* The error list has exactly one message ending in `want` at `line`. */
static void
expect_error(const char *text, unsigned line, const char *want)
{
	struct config cfg;
	struct config_errors errs;
	char prefix[300];
	size_t i;
	int found = 0;

	test_assert_int(load(text, &cfg, &errs), -EINVAL);
	if (line > 0)
		snprintf(prefix, sizeof(prefix), "%s:%u: ", conf_path, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", conf_path);
	for (i = 0; i < errs.n; i++) {
		if (strncmp(errs.msgs[i], prefix, strlen(prefix)) == 0 &&
		    strstr(errs.msgs[i], want) != NULL)
			found++;
	}
	if (found != 1) {
		fprintf(stderr, "wanted one \"%s...%s\", got:\n", prefix,
		    want);
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "  %s\n", errs.msgs[i]);
		abort();
	}
	config_errors_finish(&errs);
	config_free(&cfg);
}

#define MINIMAL \
	"[aws]\n" \
	"region = eu-west-1\n" \
	"queue_url = https://sqs.eu-west-1.amazonaws.com/123456789012/jvb\n" \
	"[daemon]\n" \
	"state_dir = /var/lib/jvb-lifecycled\n" \
	"audit_log = /var/log/jvb-lifecycled/audit.jsonl\n"

static void
test_minimal_defaults(void)
{
	struct config cfg;
	struct config_errors errs;

	test_assert_int(load(MINIMAL, &cfg, &errs), 0);
	test_assert_int(errs.n, 0);
	test_assert_str(cfg.aws.region, "eu-west-1");
	test_assert(cfg.aws.endpoint_url == NULL);
	test_assert_int(cfg.bridge.port, 8080);
	test_assert(!cfg.xmpp.enabled);
	test_assert_int(cfg.launch.verify, CONFIG_VERIFY_HEALTH);
	test_assert_int(cfg.drain.on_timeout, CONFIG_CONTINUE);
	test_assert_int(cfg.launch.on_timeout, CONFIG_ABANDON);
	test_assert_str(cfg.daemon.admin_host, "127.0.0.1");
	test_assert(!cfg.daemon.dry_run);
	test_assert(cfg.daemon.groups == NULL);
	test_assert_int(cfg.daemon.receive_wait_s, 20);
	test_assert_int(cfg.daemon.health_threshold_ms, 120000);
	config_free(&cfg);
}

static void
test_every_key(void)
{
	struct config cfg;
	struct config_errors errs;
	char text[4096];

	write_file(pass_path, "hunter2\n", 0600);
	snprintf(text, sizeof(text),
	    "; a comment\n"
	    "# another\n"
	    "[aws]\n"
	    "region = us-east-1\n"
	    "queue_url = http://127.0.0.1:5000/123456789012/q\n"
	    "endpoint_url = http://127.0.0.1:5000\n"
	    "ca_file = /etc/ssl/certs/ca-certificates.crt\n"
	    "max_attempts = 7\n"
	    "call_budget = 2m\n"
	    "[bridge]\n"
	    "port = 8081\n"
	    "timeout = 3s\n"
	    "unreachable_timeout = 90s\n"
	    "stats_interval = 1s\n"
	    "graceful_shutdown_min_participants = 2\n"
	    "graceful_shutdown_max_duration = 6h\n"
	    "shutting_down_delay = 30s\n"
	    "[xmpp]\n"
	    "server = 127.0.0.1\n"
	    "port = 5322\n"
	    "domain = auth.meet.example.com\n"
	    "username = lifecycled\n"
	    "password_file = %s\n"
	    "brewery = JvbBrewery@internal.auth.meet.example.com\n"
	    "tls = off\n"
	    "ca_file = /etc/ssl/private-ca.pem\n"
	    "nickname = observer-1\n"
	    "ping_interval = 45s\n"
	    "[drain]\n"
	    "max_duration = 1h30m\n"
	    "on_timeout = abandon\n"
	    "poll_interval = 500ms\n"
	    "presence_poll_interval = 20s\n"
	    "force_on_timeout = false\n"
	    "on_unreachable = ABANDON\n"
	    "[launch]\n"
	    "timeout = 15m\n"
	    "on_timeout = continue\n"
	    "verify = brewery+health\n"
	    "[rebalance]\n"
	    "drain = false\n"
	    "undo_after = 20m\n"
	    "[protection]\n"
	    "enabled = true\n"
	    "groups = jvb-eu\n"
	    "threshold = 5\n"
	    "hysteresis = 3\n"
	    "unprotected_min = 2\n"
	    "interval = 45s\n"
	    "max_calls_per_minute = 4\n"
	    "[daemon]\n"
	    "state_dir = /tmp/state\n"
	    "audit_log = /tmp/audit.jsonl\n"
	    "log_file = /tmp/jl.log\n"
	    "log_level = debug\n"
	    "admin = [::1]:9100\n"
	    "max_in_flight = 1500\n"
	    "dry_run = yes\n"
	    "groups = jvb-eu, jvb-us ,jvb-ap\n"
	    "visibility_timeout = 10m\n"
	    "receive_wait = 15s\n"
	    "health_threshold = 90s\n", pass_path);
	test_assert_int(load(text, &cfg, &errs), 0);
	test_assert_str(cfg.aws.region, "us-east-1");
	test_assert_str(cfg.aws.queue_url, "http://127.0.0.1:5000/123456789012/q");
	test_assert_str(cfg.aws.endpoint_url, "http://127.0.0.1:5000");
	test_assert_str(cfg.aws.ca_file, "/etc/ssl/certs/ca-certificates.crt");
	test_assert_int(cfg.aws.max_attempts, 7);
	test_assert_int(cfg.aws.call_budget_ms, 120000);
	test_assert_int(cfg.bridge.port, 8081);
	test_assert_int(cfg.bridge.timeout_ms, 3000);
	test_assert_int(cfg.bridge.unreachable_timeout_ms, 90000);
	test_assert_int(cfg.bridge.stats_interval_ms, 1000);
	test_assert_int(cfg.bridge.min_participants, 2);
	test_assert_int(cfg.bridge.graceful_max_ms, 6 * 3600 * 1000);
	test_assert_int(cfg.bridge.shutting_down_delay_ms, 30000);
	test_assert(cfg.xmpp.enabled);
	test_assert_str(cfg.xmpp.server, "127.0.0.1");
	test_assert_int(cfg.xmpp.port, 5322);
	test_assert_str(cfg.xmpp.domain, "auth.meet.example.com");
	test_assert_str(cfg.xmpp.username, "lifecycled");
	test_assert_str(cfg.xmpp.password_file, pass_path);
	test_assert_str(cfg.xmpp.password, "hunter2");
	test_assert_str(cfg.xmpp.brewery,
	    "JvbBrewery@internal.auth.meet.example.com");
	test_assert(!cfg.xmpp.tls);
	test_assert_str(cfg.xmpp.ca_file, "/etc/ssl/private-ca.pem");
	test_assert_str(cfg.xmpp.nickname, "observer-1");
	test_assert_int(cfg.xmpp.ping_interval_ms, 45000);
	test_assert_int(cfg.drain.max_duration_ms, 5400000);
	test_assert_int(cfg.drain.on_timeout, CONFIG_ABANDON);
	test_assert_int(cfg.drain.poll_interval_ms, 500);
	test_assert_int(cfg.drain.presence_poll_interval_ms, 20000);
	test_assert(!cfg.drain.force_on_timeout);
	test_assert_int(cfg.drain.on_unreachable, CONFIG_ABANDON);
	test_assert_int(cfg.launch.timeout_ms, 900000);
	test_assert_int(cfg.launch.on_timeout, CONFIG_CONTINUE);
	test_assert_int(cfg.launch.verify, CONFIG_VERIFY_BREWERY_HEALTH);
	test_assert(!cfg.rebalance.drain);
	test_assert(cfg.protection.enabled);
	test_assert_int(cfg.protection.ngroups, 1);
	test_assert_str(cfg.protection.groups[0], "jvb-eu");
	test_assert_int(cfg.protection.threshold, 5);
	test_assert_int(cfg.protection.hysteresis, 3);
	test_assert_int(cfg.protection.unprotected_min, 2);
	test_assert_int(cfg.protection.interval_ms, 45000);
	test_assert_int(cfg.protection.max_calls_per_minute, 4);
	test_assert_int(cfg.rebalance.undo_after_ms, 20 * 60 * 1000);
	test_assert_str(cfg.daemon.state_dir, "/tmp/state");
	test_assert_str(cfg.daemon.audit_log, "/tmp/audit.jsonl");
	test_assert_str(cfg.daemon.log_file, "/tmp/jl.log");
	test_assert_int(cfg.daemon.log_level, LOG_LEVEL_DEBUG);
	test_assert_str(cfg.daemon.admin_host, "::1");
	test_assert_int(cfg.daemon.admin_port, 9100);
	test_assert_int(cfg.daemon.max_in_flight, 1500);
	test_assert(cfg.daemon.dry_run);
	test_assert_int(cfg.daemon.ngroups, 3);
	test_assert_str(cfg.daemon.groups[0], "jvb-eu");
	test_assert_str(cfg.daemon.groups[1], "jvb-us");
	test_assert_str(cfg.daemon.groups[2], "jvb-ap");
	test_assert(cfg.daemon.groups[3] == NULL);
	test_assert_int(cfg.daemon.visibility_timeout_ms, 600000);
	test_assert_int(cfg.daemon.receive_wait_s, 15);
	test_assert_int(cfg.daemon.health_threshold_ms, 90000);
	config_free(&cfg);
	config_errors_finish(&errs);
}

static void
test_errors(void)
{
	/* unknown key, line 4 */
	expect_error(MINIMAL "[bridge]\nprot = 8080\n", 8,
	    "[bridge] prot: unknown key");
	expect_error("[aws]\nregion = x\n[awss]\nk = v\n" , 3,
	    "[awss]: unknown section");
	expect_error(MINIMAL "[bridge]\nport = 70000\n", 8,
	    "[bridge] port: \"70000\": expected a whole number from 1 to 65535");
	expect_error(MINIMAL "[bridge]\nport = 80a\n", 8,
	    "expected a whole number");
	expect_error(MINIMAL "[drain]\nmax_duration = 10x\n", 8,
	    "[drain] max_duration: \"10x\": expected a duration");
	expect_error(MINIMAL "[drain]\nmax_duration = 0s\n", 8,
	    "[drain] max_duration: \"0s\": must be from");
	expect_error(MINIMAL "[drain]\non_timeout = maybe\n", 8,
	    "expected continue or abandon");
	expect_error(MINIMAL "[daemon]\ndry_run = perhaps\n", 8,
	    "[daemon] dry_run: \"perhaps\": expected true or false");
	expect_error(MINIMAL "[daemon]\nadmin = localhost\n", 8,
	    "[daemon] admin: \"localhost\": expected host:port");
	expect_error(MINIMAL "[daemon]\ngroups = a,,\n", 8,
	    "[daemon] groups");
	expect_error(MINIMAL "[aws]\nregion = eu-west-2\n", 8,
	    "[aws] region: set again (first set on line 2)");
	expect_error("[aws]\nregion = eu-west-1\nqueue_url = ftp://q\n"
	    "[daemon]\nstate_dir = /s\naudit_log = /a\n", 3,
	    "[aws] queue_url: \"ftp://q\": expected an http:// or https:// URL");
	/* required keys: blamed on their section's header line */
	expect_error("[aws]\nregion = eu-west-1\n[daemon]\nstate_dir = /s\n"
	    "audit_log = /a\n", 1, "[aws] queue_url: required key missing");
	/* ... or past the end when the section is absent */
	expect_error("[aws]\nregion = eu-west-1\nqueue_url = http://q/1/q\n",
	    4, "[daemon] state_dir: required key missing (no [daemon] "
	    "section)");
	expect_error(MINIMAL "[xmpp]\nserver = 127.0.0.1\n", 7,
	    "[xmpp] brewery: required key missing");
	expect_error(MINIMAL "just some words\n", 7, "syntax error");
	expect_error(MINIMAL "[launch]\nverify = brewery+health\n", 8,
	    "[launch] verify: brewery+health needs an [xmpp] section");
	expect_error("region = x\n" MINIMAL, 1,
	    "region: key outside any section");
	expect_error(MINIMAL "[daemon]\nlog_level = loud\n", 8,
	    "expected debug, info");
	expect_error(MINIMAL "[protection]\nenabled = true\n", 8,
	    "[protection] enabled: name the groups to steer");
	expect_error(MINIMAL "[xmpp]\ntls = maybe\n", 8,
	    "[xmpp] tls: \"maybe\": expected required or off");
	{
		char longline[400];

		memset(longline, 'a', sizeof(longline));
		memcpy(longline, "[daemon]\nstate_dir = /", 22);
		longline[sizeof(longline) - 2] = '\n';
		longline[sizeof(longline) - 1] = '\0';
		expect_error(longline, 2, "line longer than");
	}
	{
		struct config cfg;
		struct config_errors errs;

		test_assert_int(config_load("/nonexistent/x.conf", &cfg,
		    &errs), -EINVAL);
		test_assert_int(errs.n, 1);
		test_assert(strstr(errs.msgs[0], "/nonexistent/x.conf: cannot "
		    "open") != NULL);
		config_errors_finish(&errs);
		config_free(&cfg);
	}
}

static void
test_all_errors_reported(void)
{
	struct config cfg;
	struct config_errors errs;

	test_assert_int(load("[aws]\nregion = BAD\nqueue_url = x\nfoo = 1\n"
	    "[daemon]\nstate_dir = /s\naudit_log = /a\nmax_in_flight = 0\n",
	    &cfg, &errs), -EINVAL);
	test_assert_int(errs.n, 4);
	/* in file order */
	test_assert(strstr(errs.msgs[0], ":2: ") != NULL);
	test_assert(strstr(errs.msgs[1], ":3: ") != NULL);
	test_assert(strstr(errs.msgs[2], ":4: ") != NULL);
	test_assert(strstr(errs.msgs[3], ":8: ") != NULL);
	config_errors_finish(&errs);
	config_free(&cfg);
}

static void
test_password_file(void)
{
	char text[1024];
	struct config cfg;
	struct config_errors errs;

	/* world-readable secrets are refused */
	write_file(pass_path, "hunter2\n", 0644);
	snprintf(text, sizeof(text), MINIMAL "[xmpp]\nserver = h\n"
	    "domain = d\nusername = u\npassword_file = %s\nbrewery = b@m\n",
	    pass_path);
	expect_error(text, 11, "is readable by everyone");
	write_file(pass_path, "", 0600);
	expect_error(text, 11, "the file is empty");
	write_file(pass_path, "pw\n", 0600);
	test_assert_int(load(text, &cfg, &errs), 0);
	test_assert_str(cfg.xmpp.password, "pw");
	config_free(&cfg);
	unlink(pass_path);
	expect_error(text, 11, "No such file or directory");
	snprintf(text, sizeof(text), MINIMAL "[xmpp]\nserver = h\n"
	    "domain = d\nusername = u\npassword_file = %s\nbrewery = nope\n",
	    pass_path);
	write_file(pass_path, "pw\n", 0600);
	expect_error(text, 12, "[xmpp] brewery: expected a room JID");
}

/* Operator commands may not be able to read the password: they skip it. */
static void
test_no_secrets(void)
{
	char text[1024];
	struct config cfg;
	struct config_errors errs;

	unlink(pass_path);
	snprintf(text, sizeof(text), MINIMAL "[xmpp]\nserver = h\n"
	    "domain = d\nusername = u\npassword_file = %s\nbrewery = b@m\n",
	    pass_path);
	expect_error(text, 11, "No such file or directory");
	write_file(conf_path, text, 0600);
	test_assert_int(config_load_flags(conf_path, &cfg, &errs,
	    CONFIG_LOAD_NO_SECRETS), 0);
	test_assert_int(errs.n, 0);
	test_assert(cfg.xmpp.enabled);
	test_assert(cfg.xmpp.password == NULL);
	test_assert_str(cfg.xmpp.password_file, pass_path);
	config_free(&cfg);
	/* the other checks still apply */
	expect_error(MINIMAL "[daemon]\nhealth_threshold = 0s\n", 8,
	    "[daemon] health_threshold: \"0s\": must be from 1000ms to 3600s");
	write_file(conf_path, MINIMAL "[daemon]\nhealth_threshold = 2h\n",
	    0600);
	test_assert_int(config_load_flags(conf_path, &cfg, &errs,
	    CONFIG_LOAD_NO_SECRETS), -EINVAL);
	test_assert_int(errs.n, 1);
	config_errors_finish(&errs);
	config_free(&cfg);
}

static void
test_durations(void)
{
	struct { const char *in; int r; uint64_t ms; } cases[] = {
		{ "90", 0, 90000 },
		{ "90s", 0, 90000 },
		{ "15m", 0, 900000 },
		{ "2h", 0, 7200000 },
		{ "1h30m", 0, 5400000 },
		{ "1m30s", 0, 90000 },
		{ "250ms", 0, 250 },
		{ "0", 0, 0 },
		{ "", -EINVAL, 0 },
		{ "s", -EINVAL, 0 },
		{ "-5s", -EINVAL, 0 },
		{ "5 s", -EINVAL, 0 },
		{ "5d", -EINVAL, 0 },
		{ "1h30", -EINVAL, 0 },
		{ "1.5h", -EINVAL, 0 },
		{ "99999999999999999999h", -ERANGE, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t ms = 12345;

		test_assert_int(config_parse_duration(cases[i].in, &ms),
		    cases[i].r);
		test_assert_int(ms, cases[i].r == 0 ? cases[i].ms : 12345);
	}
}

int
main(void)
{
	test_assert(mkdtemp(dir) != NULL);
	snprintf(conf_path, sizeof(conf_path), "%s/jvb-lifecycled.conf", dir);
	snprintf(pass_path, sizeof(pass_path), "%s/xmpp-password", dir);
	test_run(test_minimal_defaults);
	test_run(test_every_key);
	test_run(test_errors);
	test_run(test_all_errors_reported);
	test_run(test_password_file);
	test_run(test_no_secrets);
	test_run(test_durations);
	unlink(conf_path);
	unlink(pass_path);
	rmdir(dir);
	return 0;
}
