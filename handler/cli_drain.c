/*
 * `jvb-lifecycled drain INSTANCE-ID|HOST`: the daemon's drain policy
 * (drain/policy.c) run by hand, outside any lifecycle hook: enable drain
 * mode, request a graceful shutdown, follow the bridge until it is empty
 * or its process has exited, or max_duration.  Each step and every change
 * in participants is printed.  No lifecycle action, message or hook is
 * touched; AWS is asked only to find an instance's private address.
 * --dry-run is the policy's dry run: the bridge is only read.
 */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "drain/bridge.h"
#include "drain/policy.h"
#include "handler/cli_cmd.h"
#include "handler/config.h"
#include "handler/http.h"
#include "handler/log.h"
#include "handler/resolver.h"
#include "handler/timeutil.h"

struct cli_drain {
	struct event_base	*base;		/* owned */
	struct http		*http;		/* owned */
	struct aws		*aws;		/* owned; NULL for a HOST */
	struct resolver		*resolver;	/* owned; NULL for a HOST */
	struct resolver_req	*resolve_req;
	struct bridge_call	*rest;
	enum policy_step_kind	 rest_step;
	struct event		*timer;		/* owned */
	struct event		*sig_int;	/* owned */
	struct event		*sig_term;	/* owned */
	struct policy		 policy;
	char			 target[64];	/* as given, sanitized */
	char			 ip[BRIDGE_IP_MAX + 1];
	unsigned		 port;
	unsigned		 timeout_ms;
	int64_t			 start;
	enum policy_phase	 phase;
	int			 participants;
	int			 flags;		/* last seen state flags */
	char			 problem[512];	/* last printed */
	bool			 finished;
	int			 status;	/* exit status */
};

#define FLAG_KNOWN	0x1
#define FLAG_DRAIN	0x2
#define FLAG_GRACEFUL	0x4
#define FLAG_SHUTTING	0x8

static void cli_drain_drive(struct cli_drain *d);

static void
cli_drain_usage(FILE *fp)
{
	fprintf(fp,
"usage: jvb-lifecycled drain INSTANCE-ID|HOST [--dry-run] [--port N]\n"
"           [--max-duration D] [-c FILE]\n"
"\n"
"Drain one bridge by hand, with the daemon's own drain policy and the\n"
"[bridge] and [drain] settings of the configuration: enable drain mode,\n"
"request a graceful shutdown, then follow it until the bridge is empty or\n"
"has exited (or max_duration).  No lifecycle action is touched.  An\n"
"instance id is looked up with EC2 DescribeInstances ([aws] settings,\n"
"credentials from the usual chain).\n"
"Exit 0 when the bridge ended empty or exited, 1 otherwise.\n"
"\n"
"  --dry-run           ask the bridge nothing that changes it: only watch\n"
"  --port N            the bridge's REST port (default [bridge] port)\n"
"  --max-duration D    give up after D, e.g. 30m (default [drain])\n"
"  -c, --config FILE   configuration (default %s)\n",
	    CLI_DEFAULT_CONFIG);
}

static void
cli_drain_say(struct cli_drain *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
cli_drain_say(struct cli_drain *d, const char *fmt, ...)
{
	char d1[32];
	va_list ap;

	printf("[+%s] ", cli_duration(timeutil_mono_ms() - d->start, d1,
	    sizeof(d1)));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void
cli_drain_problem(struct cli_drain *d, const char *why)
{
	char text[512];

	cli_sanitize(text, sizeof(text), why);
	if (strcmp(text, d->problem) == 0)
		return;
	memcpy(d->problem, text, sizeof(d->problem));
	cli_drain_say(d, "problem: %s", text);
}

static void
cli_drain_finish(struct cli_drain *d)
{
	const struct policy *p = &d->policy;
	char text[600], dur[32];
	bool ok;

	d->finished = true;
	ok = p->result == POLICY_CONTINUE && !p->timed_out && !p->unreachable;
	cli_sanitize(text, sizeof(text), p->reason);
	cli_drain_say(d, "done: %s", text);
	if (ok && p->cfg.dry_run)
		printf("result: the bridge is empty; as a dry run nothing was "
		    "asked of it (%s)\n", cli_duration(timeutil_mono_ms() -
		    d->start, dur, sizeof(dur)));
	else if (ok)
		printf("result: drained in %s: the instance can be terminated "
		    "without cutting anyone off\n", cli_duration(
		    timeutil_mono_ms() - d->start, dur, sizeof(dur)));
	else
		printf("result: NOT drained (%s)\n", p->timed_out ?
		    "max_duration reached" : p->unreachable ?
		    "the bridge could not be reached" : "see above");
	d->status = ok ? 0 : 1;
	event_base_loopexit(d->base, NULL);
}

static void
cli_drain_note_stats(struct cli_drain *d, const struct colibri_stats *st)
{
	int n = policy_participants(st);
	int flags = FLAG_KNOWN | (st->drain ? FLAG_DRAIN : 0) |
	    (st->graceful_shutdown ? FLAG_GRACEFUL : 0) |
	    (st->shutting_down ? FLAG_SHUTTING : 0);

	if (flags != d->flags)
		cli_drain_say(d, "bridge: %s, drain %s",
		    st->shutting_down ? "SHUTTING_DOWN" :
		    st->graceful_shutdown ? "GRACEFUL_SHUTDOWN" : "RUNNING",
		    !st->has_drain ? "unknown" : st->drain ? "on" : "off");
	if (n >= 0 && n != d->participants)
		cli_drain_say(d, "%d participant%s (local endpoints)", n,
		    n == 1 ? "" : "s");
	d->flags = flags;
	if (n >= 0)
		d->participants = n;
}

static enum policy_io
cli_drain_io(enum bridge_outcome o)
{
	switch (o) {
	case BRIDGE_OK:
		return POLICY_IO_OK;
	case BRIDGE_NOT_FOUND:
		return POLICY_IO_NOT_FOUND;
	case BRIDGE_REFUSED:
		return POLICY_IO_REFUSED;
	case BRIDGE_TIMEOUT:
		return POLICY_IO_TIMEOUT;
	default:
		return POLICY_IO_ERROR;
	}
}

static void
cli_drain_rest_done(const struct bridge_result *res, void *arg)
{
	struct cli_drain *d = arg;
	enum policy_step_kind step = d->rest_step;
	enum policy_io io = cli_drain_io(res->outcome);
	struct policy_obs obs;
	char text[512];
	int64_t now = timeutil_mono_ms();

	d->rest = NULL;
	cli_sanitize(text, sizeof(text), res->diagnosis);
	if (res->outcome != BRIDGE_OK)
		cli_drain_problem(d, text);
	else
		d->problem[0] = '\0';
	switch (step) {
	case POLICY_ENABLE_DRAIN:
	case POLICY_SHUTDOWN_GRACEFUL:
	case POLICY_SHUTDOWN_FORCE:
		if (res->outcome == BRIDGE_OK)
			cli_drain_say(d, "%s", text);
		policy_rest_done(&d->policy, step, io, NULL, res->diagnosis,
		    now);
		break;
	case POLICY_POLL_STATS:
		if (res->outcome == BRIDGE_OK) {
			memset(&obs, 0, sizeof(obs));
			obs.stats = res->stats;
			obs.snapshot_ms = res->stats.snapshot_ms;
			cli_drain_note_stats(d, &res->stats);
			policy_rest_done(&d->policy, step, io, &obs, NULL, now);
		} else {
			policy_rest_done(&d->policy, step, io, NULL,
			    res->diagnosis, now);
		}
		break;
	case POLICY_POLL_HEALTH:
		/* alive, if unwell, still counts as there */
		policy_rest_done(&d->policy, step, res->outcome == BRIDGE_OK ?
		    POLICY_IO_OK : io, NULL, res->diagnosis, now);
		break;
	default:
		break;
	}
	cli_drain_drive(d);
}

static void
cli_drain_rest(struct cli_drain *d, enum policy_step_kind step)
{
	switch (step) {
	case POLICY_ENABLE_DRAIN:
		cli_drain_say(d, "enabling drain mode (POST /colibri/drain/"
		    "enable)");
		d->rest = bridge_drain_set(d->http, d->ip, d->port, true,
		    d->timeout_ms, cli_drain_rest_done, d);
		break;
	case POLICY_SHUTDOWN_GRACEFUL:
	case POLICY_SHUTDOWN_FORCE:
		cli_drain_say(d, "requesting a %s shutdown (POST /colibri/"
		    "shutdown)", step == POLICY_SHUTDOWN_GRACEFUL ?
		    "graceful" : "FORCED");
		d->rest = bridge_shutdown(d->http, d->ip, d->port,
		    step == POLICY_SHUTDOWN_GRACEFUL, d->timeout_ms,
		    cli_drain_rest_done, d);
		break;
	case POLICY_POLL_STATS:
		d->rest = bridge_stats(d->http, d->ip, d->port, d->timeout_ms,
		    cli_drain_rest_done, d);
		break;
	case POLICY_POLL_HEALTH:
		d->rest = bridge_health(d->http, d->ip, d->port,
		    d->timeout_ms, cli_drain_rest_done, d);
		break;
	default:
		return;
	}
	d->rest_step = step;
	if (d->rest == NULL)
		fatalx("drain: bridge call refused address %s", d->ip);
}

static void
cli_drain_resolved(const struct resolver_answer *ans,
    const struct aws_error *err, void *arg)
{
	struct cli_drain *d = arg;
	int64_t now = timeutil_mono_ms();
	char why[600], text[512];
	bool ok = false, final = false;
	enum resolver_verdict v;

	d->resolve_req = NULL;
	if (ans == NULL) {
		snprintf(why, sizeof(why), "DescribeInstances failed: %s",
		    aws_error_str(err, text, sizeof(text)));
	} else if ((v = resolver_classify(ans, d->target, why,
	    sizeof(why))) != RESOLVER_USABLE) {
		/* by hand, an unknown id is a typo rather than a delay */
		final = v == RESOLVER_GONE || v == RESOLVER_UNKNOWN;
	} else {
		snprintf(d->ip, sizeof(d->ip), "%s", ans->private_ip);
		ok = true;
		cli_drain_say(d, "%s is %s, its bridge at %s:%u", d->target,
		    ans->state, d->ip, d->port);
	}
	if (!ok)
		cli_drain_problem(d, why);
	policy_resolved(&d->policy, ok, final, why, now);
	cli_drain_drive(d);
}

static void
cli_drain_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	cli_drain_drive(arg);
}

static void
cli_drain_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct cli_drain *d = arg;

	cli_drain_say(d, "interrupted (%s) in phase %s; nothing is undone%s",
	    sig == SIGINT ? "SIGINT" : "SIGTERM",
	    policy_phase_name(d->policy.phase),
	    d->policy.drain_enabled || d->policy.graceful_accepted ?
	    ": the bridge stays as it was asked to be" : "");
	d->finished = true;
	d->status = 130;
	event_base_loopexit(d->base, NULL);
}

static void
cli_drain_drive(struct cli_drain *d)
{
	struct policy_step step;
	int64_t now = timeutil_mono_ms();
	struct timeval tv;

	if (d->finished)
		return;
	evtimer_del(d->timer);
	step = policy_next(&d->policy, now);
	if (d->policy.phase != d->phase) {
		d->phase = d->policy.phase;
		if (d->phase == POLICY_PHASE_WAITING && d->policy.cfg.dry_run)
			cli_drain_say(d, "dry run: would enable drain mode and "
			    "request a graceful shutdown; only watching");
		else if (d->phase == POLICY_PHASE_WAITING)
			cli_drain_say(d, "following the bridge until it is "
			    "empty or has exited");
		else if (d->phase == POLICY_PHASE_FORCING)
			cli_drain_say(d, "max_duration reached: %s",
			    d->policy.last_problem);
	}
	switch (step.kind) {
	case POLICY_WAIT:
		if (step.wake_at < now)
			step.wake_at = now;
		tv.tv_sec = (step.wake_at - now) / 1000;
		tv.tv_usec = (step.wake_at - now) % 1000 * 1000;
		evtimer_add(d->timer, &tv);
		return;
	case POLICY_COMPLETE:
		bridge_call_cancel(d->rest);
		d->rest = NULL;
		resolver_cancel(d->resolve_req);
		d->resolve_req = NULL;
		cli_drain_finish(d);
		return;
	case POLICY_RESOLVE:
		if (d->resolve_req == NULL && d->resolver != NULL) {
			cli_drain_say(d, "looking up %s (EC2 DescribeInstances)",
			    d->target);
			d->resolve_req = resolver_lookup(d->resolver,
			    d->target, cli_drain_resolved, d);
		}
		return;
	default:
		if (d->rest == NULL)
			cli_drain_rest(d, step.kind);
		return;
	}
}

/* The [bridge] and [drain] settings as policy_config. */
static void
cli_drain_policy_config(const struct config *cfg, bool dry_run,
    uint64_t max_ms, struct policy_config *pc)
{
	memset(pc, 0, sizeof(*pc));
	pc->max_duration_ms = (int64_t)(max_ms > 0 ? max_ms :
	    cfg->drain.max_duration_ms);
	pc->poll_interval_ms = (int64_t)cfg->drain.poll_interval_ms;
	pc->unreachable_timeout_ms = (int64_t)cfg->bridge.unreachable_timeout_ms;
	pc->stats_interval_ms = (int64_t)cfg->bridge.stats_interval_ms;
	pc->graceful_max_ms = (int64_t)cfg->bridge.graceful_max_ms;
	pc->shutting_down_delay_ms = (int64_t)cfg->bridge.shutting_down_delay_ms;
	pc->min_participants = cfg->bridge.min_participants;
	pc->force_on_timeout = cfg->drain.force_on_timeout;
	pc->on_timeout = cfg->drain.on_timeout == CONFIG_ABANDON ?
	    POLICY_ABANDON : POLICY_CONTINUE;
	pc->on_unreachable = cfg->drain.on_unreachable == CONFIG_ABANDON ?
	    POLICY_ABANDON : POLICY_CONTINUE;
	pc->dry_run = dry_run;
}

static int
cli_drain_open(struct cli_drain *d, const struct config *cfg, bool by_id)
{
	struct aws_config ac;

	if ((d->base = event_base_new()) == NULL)
		return -ENOMEM;
	d->http = http_new(d->base);
	if (cfg->aws.ca_file != NULL)
		http_set_ca_file(d->http, cfg->aws.ca_file);
	d->timer = evtimer_new(d->base, cli_drain_timer_cb, d);
	d->sig_int = evsignal_new(d->base, SIGINT, cli_drain_signal_cb, d);
	d->sig_term = evsignal_new(d->base, SIGTERM, cli_drain_signal_cb, d);
	if (d->timer == NULL || d->sig_int == NULL || d->sig_term == NULL ||
	    evsignal_add(d->sig_int, NULL) != 0 ||
	    evsignal_add(d->sig_term, NULL) != 0)
		return -ENOMEM;
	signal(SIGPIPE, SIG_IGN);
	if (!by_id)
		return 0;
	memset(&ac, 0, sizeof(ac));
	ac.region = cfg->aws.region;
	ac.endpoint_url = cfg->aws.endpoint_url;
	ac.max_attempts = cfg->aws.max_attempts;
	ac.budget_ms = (unsigned)cfg->aws.call_budget_ms;
	if ((d->aws = aws_new(d->base, d->http, &ac)) == NULL) {
		fprintf(stderr, "jvb-lifecycled drain: cannot set up AWS "
		    "access (region %s)\n", cfg->aws.region);
		return -EINVAL;
	}
	aws_creds_start(d->aws);
	d->resolver = resolver_new(d->base, d->aws);
	return 0;
}

static void
cli_drain_close(struct cli_drain *d)
{
	bridge_call_cancel(d->rest);
	resolver_cancel(d->resolve_req);
	resolver_free(d->resolver);
	aws_free(d->aws);
	http_free(d->http);
	if (d->timer != NULL)
		event_free(d->timer);
	if (d->sig_int != NULL)
		event_free(d->sig_int);
	if (d->sig_term != NULL)
		event_free(d->sig_term);
	if (d->base != NULL)
		event_base_free(d->base);
}

int
cli_drain_main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "port", required_argument, NULL, 'p' },
		{ "max-duration", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *port_arg = NULL, *max_arg = NULL;
	struct cli_drain d;
	struct config cfg;
	struct policy_config pc;
	bool dry_run = false, by_id;
	uint64_t max_ms = 0;
	unsigned long ul;
	char *end, dur[32];
	int ch, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:nh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'n':
			dry_run = true;
			break;
		case 'p':
			port_arg = optarg;
			break;
		case 'm':
			max_arg = optarg;
			break;
		case 'h':
			cli_drain_usage(stdout);
			return 0;
		default:
			cli_drain_usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		cli_drain_usage(stderr);
		return 2;
	}
	if (max_arg != NULL && (config_parse_duration(max_arg, &max_ms) != 0 ||
	    max_ms < 1000 || max_ms > 48ULL * 3600 * 1000)) {
		fprintf(stderr, "jvb-lifecycled drain: --max-duration: "
		    "expected a duration from 1s to 48h\n");
		return 2;
	}
	log_init(LOG_LEVEL_WARNING);
	if ((r = cli_load_config(config, &cfg)) != 0) {
		if (r == -ENOENT)
			fprintf(stderr, "jvb-lifecycled drain: no %s: give "
			    "the configuration with -c FILE (its [bridge], "
			    "[drain] and [aws] settings are used)\n",
			    CLI_DEFAULT_CONFIG);
		return 1;
	}
	memset(&d, 0, sizeof(d));
	d.start = timeutil_mono_ms();
	d.participants = -1;
	d.phase = POLICY_PHASE_RESOLVING;
	d.port = cfg.bridge.port;
	d.timeout_ms = (unsigned)cfg.bridge.timeout_ms;
	cli_sanitize(d.target, sizeof(d.target), argv[optind]);
	if (port_arg != NULL) {
		errno = 0;
		ul = strtoul(port_arg, &end, 10);
		if (*port_arg < '0' || *port_arg > '9' || *end != '\0' ||
		    errno != 0 || ul < 1 || ul > 65535) {
			fprintf(stderr, "jvb-lifecycled drain: --port: "
			    "expected 1-65535\n");
			config_free(&cfg);
			return 2;
		}
		d.port = (unsigned)ul;
	}
	by_id = cli_is_instance_id(argv[optind]);
	if (!by_id && (cli_host_to_ip(argv[optind], d.ip, sizeof(d.ip)) != 0 ||
	    !bridge_valid_ip(d.ip))) {
		fprintf(stderr, "jvb-lifecycled drain: %s: neither an instance "
		    "id (i-...) nor an address or a name that resolves to "
		    "one\n", d.target);
		config_free(&cfg);
		return 1;
	}
	if ((r = cli_drain_open(&d, &cfg, by_id)) != 0) {
		cli_drain_close(&d);
		config_free(&cfg);
		return 1;
	}
	cli_drain_policy_config(&cfg, dry_run, max_ms, &pc);
	policy_init(&d.policy, &pc, d.start);
	if (by_id)
		printf("drain %s", d.target);
	else
		printf("drain %s (bridge at %s:%u)", d.target, d.ip, d.port);
	printf(", at most %s%s; no lifecycle action is touched\n",
	    cli_duration(pc.max_duration_ms, dur, sizeof(dur)),
	    dry_run ? ", DRY RUN (the bridge is only read)" : "");
	if (!by_id)
		policy_resolved(&d.policy, true, false, NULL, d.start);
	cli_drain_drive(&d);
	if (!d.finished)
		event_base_dispatch(d.base);
	r = d.finished ? d.status : 1;
	cli_drain_close(&d);
	config_free(&cfg);
	return r;
}
