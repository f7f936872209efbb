/*
 * `jvb-lifecycled status`: GET /status from the running daemon's admin
 * endpoint and print it for a person: the daemon's links and health, then
 * one line per open lifecycle action.  Every string in the answer is
 * sanitized before it is printed.
 */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler/cli_cmd.h"
#include "handler/config.h"
#include "handler/http.h"
#include "handler/log.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"

#define CLI_STATUS_TIMEOUT_MS	5000
#define CLI_STATUS_MAX		(16 * 1024 * 1024)

struct cli_status_fetch {
	bool	 done;
	int	 error;
	long	 status;
	char	*body;		/* owned */
	size_t	 len;
	char	 error_text[256];
};

static void
cli_status_usage(FILE *fp)
{
	fprintf(fp,
"usage: jvb-lifecycled status [-c FILE | --admin HOST:PORT] [--json]\n"
"\n"
"Show what the running daemon is doing: its AWS, queue and XMPP state,\n"
"its health, and every open lifecycle action (instance, transition,\n"
"phase, bridge, participants, age, deadline, next heartbeat).  It reads\n"
"GET /status from the admin endpoint ([daemon] admin of the config).\n"
"\n"
"  -c, --config FILE   read [daemon] admin from FILE\n"
"                      (default %s)\n"
"  --admin HOST:PORT   ask this endpoint instead\n"
"  --json              print the daemon's JSON as it is\n",
	    CLI_DEFAULT_CONFIG);
}

static void
cli_status_done(const struct http_response *resp, void *arg)
{
	struct cli_status_fetch *f = arg;

	f->done = true;
	f->error = resp->error;
	f->status = resp->status;
	cli_sanitize(f->error_text, sizeof(f->error_text), resp->error_text);
	if (resp->body != NULL) {
		f->body = xmalloc(resp->body_len + 1);
		memcpy(f->body, resp->body, resp->body_len);
		f->body[resp->body_len] = '\0';
		f->len = resp->body_len;
	}
}

/* One GET on a loop of its own; the request's timeout bounds it. */
static int
cli_status_get(const char *url, struct cli_status_fetch *f)
{
	struct event_base *base;
	struct http *h;
	struct http_req *req;

	memset(f, 0, sizeof(*f));
	if ((base = event_base_new()) == NULL)
		return -ENOMEM;
	h = http_new(base);
	req = http_req_new(h, "GET", url);
	http_req_timeout(req, CLI_STATUS_TIMEOUT_MS, CLI_STATUS_TIMEOUT_MS);
	http_req_max_response(req, CLI_STATUS_MAX);
	http_req_start(req, cli_status_done, f);
	while (!f->done && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	http_free(h);
	event_base_free(base);
	return f->done ? 0 : -EIO;
}

static const char *
cli_status_str(json_t *o, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		cli_sanitize(buf, len, json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
	else if (json_is_true(v))
		snprintf(buf, len, "yes");
	else if (json_is_false(v))
		snprintf(buf, len, "no");
	else
		snprintf(buf, len, "-");
	return buf;
}

static long long
cli_status_int(json_t *o, const char *key, long long dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

/* "in 9m55s", "3.0s ago", or "-" for a missing or unreadable time. */
static const char *
cli_status_when(json_t *o, const char *key, int64_t now, char *buf,
    size_t len)
{
	json_t *v = json_object_get(o, key);
	int64_t t;
	char d[32];

	if (!json_is_string(v) ||
	    timeutil_parse_iso8601(json_string_value(v), &t) != 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	cli_duration(t - now, d, sizeof(d));
	if (t >= now)
		snprintf(buf, len, "in %s", d);
	else
		snprintf(buf, len, "%s ago", d);
	return buf;
}

static void
cli_status_print_daemon(json_t *root)
{
	json_t *recv = json_object_get(root, "receive");
	json_t *creds = json_object_get(root, "credentials");
	json_t *xmpp = json_object_get(root, "xmpp");
	json_t *health = json_object_get(root, "health");
	json_t *reasons, *r;
	char a[512], b[512], c[256], d[32];
	long long v;
	size_t i;

	printf("jvb-lifecycled %s (pid %lld), up %s\n",
	    cli_status_str(root, "version", a, sizeof(a)),
	    cli_status_int(root, "pid", 0),
	    cli_duration(cli_status_int(root, "uptime_s", 0) * 1000, d,
	    sizeof(d)));
	printf("  queue:        %s (%s)\n",
	    cli_status_str(root, "queue", a, sizeof(a)),
	    cli_status_str(root, "region", b, sizeof(b)));
	if (json_is_true(json_object_get(health, "healthy"))) {
		printf("  health:       ok\n");
	} else {
		printf("  health:       UNHEALTHY\n");
		reasons = json_object_get(health, "reasons");
		json_array_foreach(reasons, i, r) {
			cli_sanitize(a, sizeof(a), json_string_value(r));
			printf("                - %s\n", a);
		}
	}
	if (json_is_true(json_object_get(recv, "ok"))) {
		v = cli_status_int(recv, "last_ok_s", -1);
		if (v >= 0)
			printf("  receiving:    ok, last success %s ago\n",
			    cli_duration(v * 1000, d, sizeof(d)));
		else
			printf("  receiving:    ok, no answer yet\n");
	} else {
		printf("  receiving:    FAILING for %s\n", cli_duration(
		    cli_status_int(recv, "failing_s", 0) * 1000, d,
		    sizeof(d)));
	}
	if (json_is_true(json_object_get(creds, "ok")))
		printf("  credentials:  ok (%s)\n",
		    cli_status_str(creds, "source", a, sizeof(a)));
	else if ((v = cli_status_int(creds, "failing_s", -1)) >= 0)
		printf("  credentials:  FAILING for %s\n",
		    cli_duration(v * 1000, d, sizeof(d)));
	else
		printf("  credentials:  not yet\n");
	if (!json_is_object(xmpp))
		printf("  xmpp:         not configured ([xmpp] absent)\n");
	else
		printf("  xmpp:         %s; brewery %s %s, %lld occupant%s\n",
		    json_is_true(json_object_get(xmpp, "connected")) ?
		    "connected" : "NOT CONNECTED",
		    cli_status_str(xmpp, "brewery", a, sizeof(a)),
		    json_is_true(json_object_get(xmpp, "joined")) ? "joined" :
		    "NOT JOINED", cli_status_int(xmpp, "occupants", 0),
		    cli_status_int(xmpp, "occupants", 0) == 1 ? "" : "s");
	if (json_is_true(json_object_get(root, "dry_run")))
		printf("  dry run:      yes (nothing is changed anywhere)\n");
	if (json_is_true(json_object_get(root, "stopping")))
		printf("  stopping:     yes\n");
	printf("  open actions: %lld (%lld terminating, %lld launching), "
	    "max %s\n", cli_status_int(root, "open_actions", 0),
	    cli_status_int(root, "terminating", 0),
	    cli_status_int(root, "launching", 0),
	    cli_status_str(root, "max_in_flight", c, sizeof(c)));
}

static void
cli_status_print_actions(json_t *root)
{
	json_t *actions = json_object_get(root, "actions"), *act;
	int64_t now = timeutil_wall_ms();
	char inst[40], tr[16], ph[24], br[48], parts[24], age[32], dl[48],
	    hb[48];
	long long p;
	size_t i;

	if (json_array_size(actions) == 0) {
		printf("\nno open lifecycle action\n");
		return;
	}
	printf("\n%-21s %-12s %-20s %-16s %12s %8s %-12s %s\n", "INSTANCE",
	    "TRANSITION", "PHASE", "BRIDGE", "PARTICIPANTS", "AGE",
	    "DEADLINE", "NEXT HEARTBEAT");
	json_array_foreach(actions, i, act) {
		p = cli_status_int(act, "participants", -1);
		if (p >= 0)
			snprintf(parts, sizeof(parts), "%lld", p);
		else
			snprintf(parts, sizeof(parts), "-");
		cli_duration(cli_status_int(act, "age_s", 0) * 1000, age,
		    sizeof(age));
		printf("%-21s %-12s %-20s %-16s %12s %8s %-12s %s\n",
		    cli_status_str(act, "instance", inst, sizeof(inst)),
		    cli_status_str(act, "transition", tr, sizeof(tr)),
		    cli_status_str(act, "phase", ph, sizeof(ph)),
		    cli_status_str(act, "bridge", br, sizeof(br)),
		    parts, age,
		    cli_status_when(act, "deadline", now, dl, sizeof(dl)),
		    cli_status_when(act, "next_heartbeat", now, hb,
		    sizeof(hb)));
	}
	if (json_is_true(json_object_get(root, "actions_truncated")))
		printf("(only the first %zu of %lld are listed)\n",
		    json_array_size(actions),
		    cli_status_int(root, "open_actions", 0));
}

int
cli_status_main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "admin", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *admin = NULL;
	struct cli_status_fetch f;
	struct config cfg;
	json_error_t jerr;
	json_t *root;
	char host[256], url[300], text[256];
	unsigned port = 0;
	bool json = false;
	int ch, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'a':
			admin = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			cli_status_usage(stdout);
			return 0;
		default:
			cli_status_usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (config != NULL && admin != NULL)) {
		cli_status_usage(stderr);
		return 2;
	}
	log_init(LOG_LEVEL_WARNING);
	if (admin != NULL) {
		if (cli_parse_hostport(admin, host, sizeof(host), &port) != 0) {
			fprintf(stderr, "jvb-lifecycled status: --admin: "
			    "expected HOST:PORT\n");
			return 2;
		}
	} else if ((r = cli_load_config(config, &cfg)) == -ENOENT) {
		/* no config file at all: the default endpoint */
		snprintf(host, sizeof(host), "127.0.0.1");
		port = 9877;
	} else if (r != 0) {
		return 1;
	} else {
		if (cfg.daemon.admin_host == NULL) {
			fprintf(stderr, "jvb-lifecycled status: the admin "
			    "endpoint is off in %s ([daemon] admin = off); "
			    "status needs it\n", cfg.path);
			config_free(&cfg);
			return 1;
		}
		snprintf(host, sizeof(host), "%s", cfg.daemon.admin_host);
		port = cfg.daemon.admin_port;
		config_free(&cfg);
	}
	snprintf(url, sizeof(url), strchr(host, ':') != NULL ?
	    "http://[%s]:%u/status" : "http://%s:%u/status", host, port);
	if (cli_status_get(url, &f) != 0 || f.error != 0) {
		fprintf(stderr, "jvb-lifecycled status: cannot read %s: %s\n",
		    url, f.error == -ECONNREFUSED ? "connection refused (is "
		    "the daemon running, with this admin address?)" :
		    strerror(f.error != 0 ? -f.error : EIO));
		free(f.body);
		return 1;
	}
	if (f.status != 200) {
		cli_sanitize(text, sizeof(text), f.body);
		fprintf(stderr, "jvb-lifecycled status: %s answered HTTP %ld: "
		    "%s\n", url, f.status, text);
		free(f.body);
		return 1;
	}
	root = json_loadb(f.body, f.len, JSON_REJECT_DUPLICATES, &jerr);
	free(f.body);
	if (!json_is_object(root)) {
		cli_sanitize(text, sizeof(text), jerr.text);
		fprintf(stderr, "jvb-lifecycled status: %s: not a status "
		    "object: %s\n", url, text);
		json_decref(root);
		return 1;
	}
	if (json) {
		/* dumped again: escaped, so no byte reaches the terminal raw */
		char *out = json_dumps(root, JSON_INDENT(2) |
		    JSON_ENSURE_ASCII);

		if (out != NULL)
			printf("%s\n", out);
		free(out);
		json_decref(root);
		return out != NULL ? 0 : 1;
	}
	cli_status_print_daemon(root);
	cli_status_print_actions(root);
	json_decref(root);
	return 0;
}
