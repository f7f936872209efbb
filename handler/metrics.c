#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "drain/brewery.h"
#include "drain/xconn.h"
#include "handler/action.h"
#include "handler/buf.h"
#include "handler/config.h"
#include "handler/ctx.h"
#include "handler/metrics.h"
#include "handler/receiver.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"

static const double drain_buckets[] = {
	10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400,
};
static const double launch_buckets[] = {
	5, 10, 30, 60, 120, 300, 600, 1800, 3600,
};
#define NDRAIN (sizeof(drain_buckets) / sizeof(drain_buckets[0]))
#define NLAUNCH (sizeof(launch_buckets) / sizeof(launch_buckets[0]))

struct metrics_hist {
	uint64_t	 counts[16];	/* per bucket, then +Inf */
	uint64_t	 n;
	double		 sum;
};

struct metrics_code {
	char		 op[40];
	char		 code[64];
	uint64_t	 n;
};

/* results: 0 CONTINUE, 1 ABANDON, 2 over elsewhere */
struct metrics {
	uint64_t	 received[2];
	uint64_t	 completed[2][3];
	uint64_t	 heartbeats_ok, heartbeats_failed;
	uint64_t	 bridge_ok, bridge_failed;
	uint64_t	 messages_test, messages_rejected, messages_ignored,
			 messages_duplicate, messages_hint;
	uint64_t	 aws_requests, aws_retries, aws_throttles;
	struct metrics_code codes[METRICS_MAX_CODES];
	unsigned	 ncodes;
	uint64_t	 codes_other;
	struct metrics_hist drain, launch;
	int64_t		 last_receive;	/* mono ms, 0 never */
	int64_t		 started;
};

struct metrics *
metrics_new(void)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	m->started = timeutil_mono_ms();
	return m;
}

void
metrics_free(struct metrics *m)
{
	free(m);
}

void
metrics_received(struct metrics *m, enum lifecycle_transition t)
{
	if (m != NULL)
		m->received[t == LIFECYCLE_LAUNCHING ? 0 : 1]++;
}

static void
metrics_observe(struct metrics_hist *h, const double *b, size_t nb, double v)
{
	size_t i;

	for (i = 0; i < nb && v > b[i]; i++)
		;
	h->counts[i]++;
	h->n++;
	h->sum += v;
}

void
metrics_completed(struct metrics *m, enum lifecycle_transition t,
    const char *result, bool by_us, int64_t duration_ms)
{
	int ti = t == LIFECYCLE_LAUNCHING ? 0 : 1;
	int ri = !by_us ? 2 : strcmp(result, "ABANDON") == 0 ? 1 : 0;

	if (m == NULL)
		return;
	m->completed[ti][ri]++;
	if (t == LIFECYCLE_LAUNCHING)
		metrics_observe(&m->launch, launch_buckets, NLAUNCH,
		    (double)duration_ms / 1000);
	else
		metrics_observe(&m->drain, drain_buckets, NDRAIN,
		    (double)duration_ms / 1000);
}

void
metrics_action_state(struct metrics *m)
{
	(void)m;	/* open actions are counted from ctx when rendered */
}

void
metrics_heartbeat(struct metrics *m, bool ok)
{
	if (m == NULL)
		return;
	if (ok)
		m->heartbeats_ok++;
	else
		m->heartbeats_failed++;
}

void
metrics_bridge_call(struct metrics *m, bool ok)
{
	if (m == NULL)
		return;
	if (ok)
		m->bridge_ok++;
	else
		m->bridge_failed++;
}

void
metrics_message(struct metrics *m, const char *kind)
{
	if (m == NULL)
		return;
	if (strcmp(kind, "test") == 0)
		m->messages_test++;
	else if (strcmp(kind, "rejected") == 0)
		m->messages_rejected++;
	else if (strcmp(kind, "duplicate") == 0)
		m->messages_duplicate++;
	else if (strcmp(kind, "hint") == 0)
		m->messages_hint++;
	else
		m->messages_ignored++;
}

void
metrics_aws_attempt(struct metrics *m, const char *op, bool ok,
    bool throttled, const char *code, unsigned attempt)
{
	unsigned i;

	if (m == NULL)
		return;
	m->aws_requests++;
	if (attempt > 1)
		m->aws_retries++;
	if (throttled)
		m->aws_throttles++;
	if (ok)
		return;
	if (code == NULL || *code == '\0')
		code = "transport";
	for (i = 0; i < m->ncodes; i++) {
		if (strcmp(m->codes[i].op, op) == 0 &&
		    strcmp(m->codes[i].code, code) == 0) {
			m->codes[i].n++;
			return;
		}
	}
	if (m->ncodes == METRICS_MAX_CODES) {
		m->codes_other++;
		return;
	}
	snprintf(m->codes[m->ncodes].op, sizeof(m->codes[0].op), "%s", op);
	snprintf(m->codes[m->ncodes].code, sizeof(m->codes[0].code), "%s",
	    code);
	m->codes[m->ncodes++].n = 1;
}

void
metrics_receive_ok(struct metrics *m, int64_t mono_ms)
{
	if (m != NULL)
		m->last_receive = mono_ms;
}

int64_t
metrics_last_receive(const struct metrics *m)
{
	return m != NULL ? m->last_receive : 0;
}

static void
metrics_hist_render(struct buf *out, const char *name, const char *help,
    const struct metrics_hist *h, const double *b, size_t nb)
{
	uint64_t cum = 0;
	size_t i;

	buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help,
	    name);
	for (i = 0; i < nb; i++) {
		cum += h->counts[i];
		buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, b[i],
		    (unsigned long long)cum);
	}
	cum += h->counts[nb];
	buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name,
	    (unsigned long long)cum);
	buf_printf(out, "%s_sum %.3f\n%s_count %llu\n", name, h->sum, name,
	    (unsigned long long)h->n);
}

static void
metrics_counter(struct buf *out, const char *name, const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
}

static void
metrics_gauge(struct buf *out, const char *name, const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* AWS codes are printable ASCII already; keep label values plain. */
static void
metrics_label(char *dst, size_t len, const char *src)
{
	size_t o = 0;

	for (; *src != '\0' && o + 1 < len; src++)
		if (*src != '"' && *src != '\\' && *src != '\n')
			dst[o++] = *src;
	dst[o] = '\0';
}

void
metrics_render(const struct metrics *m, const struct ctx *ctx, struct buf *out)
{
	static const char *const tn[] = { "launching", "terminating" };
	static const char *const rn[] = { "continue", "abandon", "over" };
	unsigned open[2] = { 0, 0 };
	char op[64], code[80];
	unsigned i, t, r;
	int64_t now = timeutil_mono_ms();

	action_count_open(ctx, &open[0], &open[1]);

	metrics_gauge(out, "jvb_lifecycled_up", "1 while the daemon runs");
	buf_printf(out, "jvb_lifecycled_up 1\n");
	metrics_gauge(out, "jvb_lifecycled_build_info",
	    "Always 1; the version is a label");
	buf_printf(out, "jvb_lifecycled_build_info{version=\"%s\"} 1\n",
	    JL_VERSION);
	metrics_counter(out, "jvb_lifecycled_actions_received_total",
	    "Lifecycle actions received, by transition");
	for (t = 0; t < 2; t++)
		buf_printf(out, "jvb_lifecycled_actions_received_total"
		    "{transition=\"%s\"} %llu\n", tn[t],
		    (unsigned long long)m->received[t]);
	metrics_counter(out, "jvb_lifecycled_actions_completed_total",
	    "Lifecycle actions finished, by transition and result (over: "
	    "already finished or expired at AWS)");
	for (t = 0; t < 2; t++)
		for (r = 0; r < 3; r++)
			buf_printf(out, "jvb_lifecycled_actions_completed_total"
			    "{transition=\"%s\",result=\"%s\"} %llu\n", tn[t],
			    rn[r], (unsigned long long)m->completed[t][r]);
	metrics_gauge(out, "jvb_lifecycled_actions_open",
	    "Lifecycle actions being worked on now");
	for (t = 0; t < 2; t++)
		buf_printf(out, "jvb_lifecycled_actions_open{transition="
		    "\"%s\"} %u\n", tn[t], open[t]);
	metrics_gauge(out, "jvb_lifecycled_actions_max_in_flight",
	    "The [daemon] max_in_flight limit");
	buf_printf(out, "jvb_lifecycled_actions_max_in_flight %u\n",
	    ctx->cfg != NULL ? ctx->cfg->daemon.max_in_flight : 0);
	metrics_hist_render(out, "jvb_lifecycled_drain_duration_seconds",
	    "Time from receiving a terminate action to its completion",
	    &m->drain, drain_buckets, NDRAIN);
	metrics_hist_render(out, "jvb_lifecycled_launch_duration_seconds",
	    "Time from receiving a launch action to its completion",
	    &m->launch, launch_buckets, NLAUNCH);
	metrics_counter(out, "jvb_lifecycled_heartbeats_total",
	    "RecordLifecycleActionHeartbeat calls, by outcome");
	buf_printf(out, "jvb_lifecycled_heartbeats_total{outcome=\"ok\"} "
	    "%llu\njvb_lifecycled_heartbeats_total{outcome=\"error\"} %llu\n",
	    (unsigned long long)m->heartbeats_ok,
	    (unsigned long long)m->heartbeats_failed);
	metrics_counter(out, "jvb_lifecycled_bridge_requests_total",
	    "Colibri REST calls to bridges, by outcome");
	buf_printf(out, "jvb_lifecycled_bridge_requests_total{outcome=\"ok\"} "
	    "%llu\njvb_lifecycled_bridge_requests_total{outcome=\"error\"} "
	    "%llu\n", (unsigned long long)m->bridge_ok,
	    (unsigned long long)m->bridge_failed);
	metrics_counter(out, "jvb_lifecycled_messages_total",
	    "SQS messages that were not lifecycle actions, by kind");
	buf_printf(out, "jvb_lifecycled_messages_total{kind=\"test\"} %llu\n"
	    "jvb_lifecycled_messages_total{kind=\"rejected\"} %llu\n"
	    "jvb_lifecycled_messages_total{kind=\"duplicate\"} %llu\n"
	    "jvb_lifecycled_messages_total{kind=\"hint\"} %llu\n"
	    "jvb_lifecycled_messages_total{kind=\"ignored\"} %llu\n",
	    (unsigned long long)m->messages_test,
	    (unsigned long long)m->messages_rejected,
	    (unsigned long long)m->messages_duplicate,
	    (unsigned long long)m->messages_hint,
	    (unsigned long long)m->messages_ignored);
	metrics_counter(out, "jvb_lifecycled_aws_requests_total",
	    "HTTP requests to AWS, retries included");
	buf_printf(out, "jvb_lifecycled_aws_requests_total %llu\n",
	    (unsigned long long)m->aws_requests);
	metrics_counter(out, "jvb_lifecycled_aws_retries_total",
	    "AWS requests that were retries");
	buf_printf(out, "jvb_lifecycled_aws_retries_total %llu\n",
	    (unsigned long long)m->aws_retries);
	metrics_counter(out, "jvb_lifecycled_aws_throttles_total",
	    "AWS requests answered with a throttling error");
	buf_printf(out, "jvb_lifecycled_aws_throttles_total %llu\n",
	    (unsigned long long)m->aws_throttles);
	metrics_counter(out, "jvb_lifecycled_aws_errors_total",
	    "Failed AWS requests, by operation and AWS error code");
	for (i = 0; i < m->ncodes; i++) {
		metrics_label(op, sizeof(op), m->codes[i].op);
		metrics_label(code, sizeof(code), m->codes[i].code);
		buf_printf(out, "jvb_lifecycled_aws_errors_total{operation="
		    "\"%s\",code=\"%s\"} %llu\n", op, code,
		    (unsigned long long)m->codes[i].n);
	}
	if (m->codes_other > 0)
		buf_printf(out, "jvb_lifecycled_aws_errors_total{operation="
		    "\"other\",code=\"other\"} %llu\n",
		    (unsigned long long)m->codes_other);
	metrics_gauge(out, "jvb_lifecycled_aws_credentials_ok",
	    "1 while usable AWS credentials are at hand");
	buf_printf(out, "jvb_lifecycled_aws_credentials_ok %d\n",
	    ctx->aws != NULL && aws_creds_ok(ctx->aws) ? 1 : 0);
	metrics_gauge(out, "jvb_lifecycled_xmpp_connected",
	    "1 when the XMPP link to the brewery's server is up");
	buf_printf(out, "jvb_lifecycled_xmpp_connected %d\n",
	    ctx->brewery != NULL &&
	    xconn_is_up(brewery_xconn(ctx->brewery)) ? 1 : 0);
	metrics_gauge(out, "jvb_lifecycled_brewery_joined",
	    "1 when we are in the brewery room");
	buf_printf(out, "jvb_lifecycled_brewery_joined %d\n",
	    ctx->brewery != NULL && brewery_joined(ctx->brewery) ? 1 : 0);
	metrics_gauge(out, "jvb_lifecycled_brewery_occupants",
	    "Occupants of the brewery room (bridges), us excluded");
	buf_printf(out, "jvb_lifecycled_brewery_occupants %zu\n",
	    ctx->brewery != NULL ? brewery_count(ctx->brewery) : (size_t)0);
	metrics_gauge(out,
	    "jvb_lifecycled_seconds_since_last_successful_receive",
	    "Seconds since ReceiveMessage last succeeded (since start if "
	    "never)");
	buf_printf(out, "jvb_lifecycled_seconds_since_last_successful_receive "
	    "%.3f\n", (double)(now - (m->last_receive > 0 ? m->last_receive :
	    m->started)) / 1000);
	metrics_gauge(out, "jvb_lifecycled_receive_failing_seconds",
	    "How long ReceiveMessage has been failing; 0 while it works "
	    "(a quiet long poll is no failure)");
	buf_printf(out, "jvb_lifecycled_receive_failing_seconds %.3f\n",
	    ctx->receiver != NULL && receiver_failing_since(ctx->receiver) != 0 ?
	    (double)(now - receiver_failing_since(ctx->receiver)) / 1000 : 0.0);
}
