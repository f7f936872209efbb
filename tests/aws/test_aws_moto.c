/*
 * Runs one aws/ operation (or a small scenario) on a real event loop and
 * prints what came back, for test_aws_moto.py.  Arguments: the scenario
 * name only.  Everything else comes from the environment (credentials
 * the usual AWS_* way, never argv):
 *   JL_TEST_ENDPOINT, JL_TEST_REGION, JL_TEST_QUEUE_URL, JL_TEST_GROUP,
 *   JL_TEST_HOOK, JL_TEST_TOKEN, JL_TEST_INSTANCE, JL_TEST_IDS (comma
 *   separated), JL_TEST_RESULT, JL_TEST_RECEIPT, JL_TEST_WAIT,
 *   JL_TEST_VISIBILITY, JL_TEST_MAX_ATTEMPTS, JL_TEST_BUDGET_MS,
 *   JL_TEST_REFRESH_MARGIN_MS, JL_TEST_DURATION_MS, JL_TEST_DELETE,
 *   JL_TEST_PROTECT (1 or 0, for "protect").
 * Output lines (stdout): "attempt op=.. n=.. err=.." from the observer,
 * then the scenario's result lines, "error ..." lines for failures, and
 * "elapsed_ms=N".  Logs (stderr) are at debug level so that the driver
 * can check that no secret is ever logged.  Exit 0 when the scenario ran
 * to its end (whatever AWS answered), 1 on a harness problem.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/autoscaling.h"
#include "aws/aws.h"
#include "aws/ec2.h"
#include "aws/sqs.h"
#include "handler/http.h"
#include "handler/log.h"
#include "handler/timeutil.h"

static struct event_base *base;
static struct aws *aws;
static int pending;		/* operations still running */
static int64_t t0;

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static unsigned
env_uint(const char *name, unsigned dflt)
{
	const char *v = env(name);

	return v != NULL ? (unsigned)strtoul(v, NULL, 10) : dflt;
}

static void
finish_one(void)
{
	if (--pending == 0)
		event_base_loopbreak(base);
}

static void
print_error(const char *op, const struct aws_error *err)
{
	static const char *const kinds[] = {
		"none", "transport", "http", "service", "credentials", "parse",
		"invalid",
	};

	printf("error op=%s kind=%s class=%s code=%s status=%ld "
	    "attempts=%u\n", op, kinds[err->kind],
	    aws_error_class_name(err->cls), err->code[0] ? err->code : "-",
	    err->status, err->attempts);
}

static void
observer(const char *op, const struct aws_error *err, unsigned attempt,
    void *arg)
{
	printf("attempt op=%s n=%u err=%s\n", op, attempt,
	    err == NULL ? "none" : err->code[0] != '\0' ? err->code :
	    aws_error_class_name(err->cls));
}

static void
done_cb(const struct aws_error *err, void *arg)
{
	const char *op = arg;

	if (err != NULL)
		print_error(op, err);
	else
		printf("ok op=%s\n", op);
	finish_one();
}

/* ---- SQS ---- */

static void
visibility_done(const struct aws_error *err, void *arg)
{
	done_cb(err, "ChangeMessageVisibility");
}

static void
receive_cb(const struct aws_error *err, const struct sqs_message *m,
    size_t n, void *arg)
{
	const char *scenario = arg;
	size_t i;

	if (err != NULL) {
		print_error("ReceiveMessage", err);
		finish_one();
		return;
	}
	printf("messages n=%zu\n", n);
	for (i = 0; i < n; i++) {
		printf("message id=%s count=%u sent=%lld body_len=%zu "
		    "body=%s\n", m[i].message_id, m[i].receive_count,
		    (long long)m[i].sent_timestamp_ms, m[i].body_len,
		    m[i].body);
		if (env("JL_TEST_DELETE") != NULL) {
			pending++;
			sqs_delete(aws, env("JL_TEST_QUEUE_URL"),
			    m[i].receipt_handle, done_cb, "DeleteMessage");
		}
		if (strcmp(scenario, "visibility") == 0) {
			pending++;
			sqs_change_visibility(aws, env("JL_TEST_QUEUE_URL"),
			    m[i].receipt_handle,
			    env_uint("JL_TEST_VISIBILITY", 0),
			    visibility_done, NULL);
		}
	}
	finish_one();
}

static void
attributes_cb(const struct aws_error *err,
    const struct sqs_queue_attributes *a, void *arg)
{
	if (err != NULL)
		print_error("GetQueueAttributes", err);
	else
		printf("attributes visibility=%lld messages=%lld "
		    "not_visible=%lld arn=%s\n",
		    (long long)a->visibility_timeout_s,
		    (long long)a->approx_messages,
		    (long long)a->approx_not_visible,
		    a->queue_arn != NULL ? a->queue_arn : "-");
	finish_one();
}

/* ---- Auto Scaling, EC2 ---- */

static void
print_hooks(const struct aws_error *err, const struct asg_hook *h, size_t n,
    void *arg)
{
	size_t i;

	if (err != NULL)
		print_error("DescribeLifecycleHooks", err);
	for (i = 0; err == NULL && i < n; i++)
		printf("hook name=%s transition=%s heartbeat=%u global=%u "
		    "default=%s\n", h[i].name,
		    h[i].transition ? h[i].transition : "-",
		    h[i].heartbeat_timeout_s, h[i].global_timeout_s,
		    h[i].default_result ? h[i].default_result : "-");
	finish_one();
}

static void
print_asg_instances(const struct aws_error *err, const struct asg_instance *in,
    size_t n, void *arg)
{
	size_t i;

	if (err != NULL)
		print_error("DescribeAutoScalingInstances", err);
	for (i = 0; err == NULL && i < n; i++)
		printf("asg_instance id=%s group=%s state=%s health=%s "
		    "protected=%d\n", in[i].instance_id,
		    in[i].group ? in[i].group : "-",
		    in[i].lifecycle_state ? in[i].lifecycle_state : "-",
		    in[i].health_status ? in[i].health_status : "-",
		    in[i].protected_from_scale_in);
	finish_one();
}

static void
print_group(const struct aws_error *err, const struct asg_group *g, void *arg)
{
	size_t i;

	if (err != NULL)
		print_error("DescribeAutoScalingGroups", err);
	else if (g == NULL)
		printf("group none\n");
	else {
		printf("group name=%s min=%u max=%u desired=%u "
		    "new_protected=%d rebalance=%d n=%zu\n", g->name,
		    g->min_size, g->max_size, g->desired_capacity,
		    g->new_instances_protected, g->capacity_rebalance, g->n);
		for (i = 0; i < g->n; i++)
			printf("member id=%s group=%s state=%s health=%s "
			    "zone=%s protected=%d\n", g->inst[i].instance_id,
			    g->inst[i].group ? g->inst[i].group : "-",
			    g->inst[i].lifecycle_state ?
			    g->inst[i].lifecycle_state : "-",
			    g->inst[i].health_status ?
			    g->inst[i].health_status : "-",
			    g->inst[i].availability_zone ?
			    g->inst[i].availability_zone : "-",
			    g->inst[i].protected_from_scale_in);
	}
	finish_one();
}

static void
ec2_cb(const struct aws_error *err, const struct ec2_instance *in, size_t n,
    void *arg)
{
	size_t i, j;

	if (err != NULL)
		print_error("DescribeInstances", err);
	for (i = 0; err == NULL && i < n; i++) {
		printf("ec2_instance id=%s state=%s private=%s public=%s "
		    "tags=%zu", in[i].instance_id,
		    in[i].state ? in[i].state : "-",
		    in[i].private_ip ? in[i].private_ip : "-",
		    in[i].public_ip ? in[i].public_ip : "-", in[i].ntags);
		for (j = 0; j < in[i].ntags; j++)
			printf(" tag:%s=%s", in[i].tags[j].key,
			    in[i].tags[j].value);
		printf("\n");
	}
	finish_one();
}

/* "a,b,c" -> ids (static storage) */
static size_t
split_ids(const char **ids, size_t max)
{
	static char buf[4096];
	const char *v = env("JL_TEST_IDS");
	char *p, *save = NULL;
	size_t n = 0;

	if (v == NULL)
		return 0;
	snprintf(buf, sizeof(buf), "%s", v);
	for (p = strtok_r(buf, ",", &save); p != NULL && n < max;
	    p = strtok_r(NULL, ",", &save))
		ids[n++] = p;
	return n;
}

/* ---- streams: calls back to back while credentials refresh ---- */

struct stream {
	int	 ok, failed;
};

static int64_t stream_end;
static struct stream streams[4];

static void stream_next(struct stream *s);

static void
stream_later(evutil_socket_t fd, short what, void *arg)
{
	stream_next(arg);
}

static void
stream_cb(const struct aws_error *err, const struct sqs_message *m,
    size_t n, void *arg)
{
	struct stream *s = arg;
	struct timeval tv = { 0, 100 * 1000 };

	if (err != NULL) {
		s->failed++;
		print_error("ReceiveMessage", err);
	} else
		s->ok++;
	if (timeutil_mono_ms() >= stream_end) {
		finish_one();
		return;
	}
	event_base_once(base, -1, EV_TIMEOUT, stream_later, s, &tv);
}

static void
stream_next(struct stream *s)
{
	/* a short long poll: the call is in flight across the refresh */
	sqs_receive(aws, env("JL_TEST_QUEUE_URL"), 1, 1, -1, stream_cb, s);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	fprintf(stderr, "test_aws_moto: scenario timed out\n");
	exit(1);
}

static int
start(const char *scenario)
{
	const char *q = env("JL_TEST_QUEUE_URL");
	const char *ids[64];
	size_t n, i;

	pending = 1;
	if (strcmp(scenario, "receive") == 0 ||
	    strcmp(scenario, "visibility") == 0)
		sqs_receive(aws, q, 10, env_uint("JL_TEST_WAIT", 1),
		    env("JL_TEST_RECEIVE_VISIBILITY") != NULL ?
		    (int)env_uint("JL_TEST_RECEIVE_VISIBILITY", 30) : -1,
		    receive_cb, (void *)scenario);
	else if (strcmp(scenario, "delete") == 0)
		sqs_delete(aws, q, env("JL_TEST_RECEIPT"), done_cb,
		    "DeleteMessage");
	else if (strcmp(scenario, "change-visibility") == 0)
		sqs_change_visibility(aws, q, env("JL_TEST_RECEIPT"),
		    env_uint("JL_TEST_VISIBILITY", 0), visibility_done, NULL);
	else if (strcmp(scenario, "attributes") == 0)
		sqs_get_queue_attributes(aws, q, attributes_cb, NULL);
	else if (strcmp(scenario, "complete") == 0)
		asg_complete(aws, env("JL_TEST_GROUP"), env("JL_TEST_HOOK"),
		    env("JL_TEST_TOKEN"), env("JL_TEST_INSTANCE"),
		    env("JL_TEST_RESULT"), done_cb,
		    "CompleteLifecycleAction");
	else if (strcmp(scenario, "heartbeat") == 0)
		asg_heartbeat(aws, env("JL_TEST_GROUP"), env("JL_TEST_HOOK"),
		    env("JL_TEST_TOKEN"), env("JL_TEST_INSTANCE"), done_cb,
		    "RecordLifecycleActionHeartbeat");
	else if (strcmp(scenario, "hooks") == 0)
		asg_describe_hooks(aws, env("JL_TEST_GROUP"), print_hooks, NULL);
	else if (strcmp(scenario, "asg-instances") == 0) {
		n = split_ids(ids, 64);
		asg_describe_instances(aws, ids, n, print_asg_instances, NULL);
	} else if (strcmp(scenario, "protect") == 0) {
		n = split_ids(ids, 64);
		asg_set_protection(aws, env("JL_TEST_GROUP"), ids, n,
		    env_uint("JL_TEST_PROTECT", 1) != 0, done_cb,
		    "SetInstanceProtection");
	} else if (strcmp(scenario, "group") == 0)
		asg_describe_group(aws, env("JL_TEST_GROUP"), print_group,
		    NULL);
	else if (strcmp(scenario, "ec2") == 0) {
		n = split_ids(ids, 64);
		ec2_describe_instances(aws, ids, n, ec2_cb, NULL);
	} else if (strcmp(scenario, "stream") == 0) {
		stream_end = timeutil_mono_ms() +
		    env_uint("JL_TEST_DURATION_MS", 5000);
		pending = 3;
		for (i = 0; i < 3; i++)
			stream_next(&streams[i]);
	} else {
		fprintf(stderr, "unknown scenario %s\n", scenario);
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct aws_config cfg;
	struct http *http;
	struct event *timeout;
	struct timeval tv = { 120, 0 };
	int i;

	if (argc != 2) {
		fprintf(stderr, "usage: test-aws-moto scenario\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	log_init(LOG_LEVEL_DEBUG);
	base = event_base_new();
	http = http_new(base);
	memset(&cfg, 0, sizeof(cfg));
	cfg.region = env("JL_TEST_REGION");
	cfg.endpoint_url = env("JL_TEST_ENDPOINT");
	cfg.max_attempts = env_uint("JL_TEST_MAX_ATTEMPTS", 0);
	cfg.budget_ms = env_uint("JL_TEST_BUDGET_MS", 0);
	cfg.refresh_margin_ms = env_uint("JL_TEST_REFRESH_MARGIN_MS", 0);
	if ((aws = aws_new(base, http, &cfg)) == NULL) {
		fprintf(stderr, "bad region or endpoint\n");
		return 1;
	}
	aws_set_observer(aws, observer, NULL);
	aws_creds_start(aws);
	timeout = evtimer_new(base, timeout_cb, NULL);
	evtimer_add(timeout, &tv);
	t0 = timeutil_mono_ms();
	if (start(argv[1]) < 0)
		return 1;
	event_base_dispatch(base);
	printf("elapsed_ms=%lld\n", (long long)(timeutil_mono_ms() - t0));
	if (strcmp(argv[1], "stream") == 0)
		for (i = 0; i < 3; i++)
			printf("stream ok=%d failed=%d\n", streams[i].ok,
			    streams[i].failed);
	printf("creds source=%s\n", aws_creds_source(aws) ?
	    aws_creds_source(aws) : "-");
	aws_free(aws);
	event_free(timeout);
	http_free(http);
	event_base_free(base);
	return 0;
}
