/*
 * The credentials chain and the call machinery on a real event loop,
 * against a fake server (evhttp on 127.0.0.1, same loop) that plays IMDSv2,
 * a container credentials endpoint and a scripted AWS endpoint.  Signature
 * checking by a real verifier is the moto test's job (test_aws_moto.py);
 * here the fake records what each attempt carried.
 */
#include <sys/socket.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/aws.h"
#include "aws/creds.h"
#include "aws/error.h"
#include "aws/sqs.h"
#include "handler/http.h"
#include "handler/log.h"
#include "handler/timeutil.h"
#include "tests/test.h"

#define QUEUE		"http://127.0.0.1:1/123456789012/jvb-lifecycle"
#define ENV_AKID	"AKIAENVTEST000000001"
#define ENV_SECRET	"EnvSecretKeyDoNotLog0000000000000000"
#define ENV_TOKEN	"EnvSessionTokenDoNotLog"
#define IMDS_SECRET	"ImdsSecretKeyDoNotLog"
#define IMDS_TOKEN_PFX	"ImdsSessionTokenDoNotLog"
#define META_TOKEN_PFX	"MetaTokenDoNotLog"
#define CONT_AUTH	"ContainerAuthDoNotLog"
#define CONT_SECRET	"ContainerSecretDoNotLog"
#define MAX_CALLS	256

struct step {
	int		 status;
	const char	*qe;		/* x-amzn-query-error or NULL */
	const char	*body;
};

struct fake {
	struct event_base *base;
	struct evhttp	*http;
	int		 port;
	/* IMDS */
	int		 token_puts, role_gets, creds_gets;
	int		 meta_seq;
	char		 meta_token[64];
	bool		 ttl_ok;	/* every PUT carried the TTL header */
	int		 creds_seq;
	int		 exp_in_s;
	int		 delay_ms;	/* delay credential answers */
	bool		 reject_token_once; /* next GET: 401 */
	/* container */
	int		 container_gets;
	bool		 container_auth_ok;
	/* AWS */
	struct step	 script[MAX_CALLS];
	int		 nscript;
	int		 aws_calls;
	char		 tokens[MAX_CALLS][64];
	char		 auth[MAX_CALLS][300];
	char		 targets[MAX_CALLS][64];
	int		 aws_delay_ms;	/* delay AWS answers */
};

static struct fake F;
static struct event_base *base;
static struct http *http;
static char log_path[64];

static const char *
hdr(struct evhttp_request *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

static void
reply(struct evhttp_request *req, int status, const char *ctype,
    const char *qe, const char *body)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	if (ctype != NULL)
		evhttp_add_header(h, "Content-Type", ctype);
	if (qe != NULL)
		evhttp_add_header(h, "x-amzn-query-error", qe);
	evbuffer_add(out, body, strlen(body));
	evhttp_send_reply(req, status, "X", NULL);
}

struct delayed {
	struct evhttp_request *req;
	char body[1024];
};

static void
delayed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delayed *d = arg;

	reply(d->req, 200, "application/json", NULL, d->body);
	free(d);
}

static void
reply_later(struct evhttp_request *req, int ms, const char *body)
{
	struct delayed *d = calloc(1, sizeof(*d));
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	d->req = req;
	snprintf(d->body, sizeof(d->body), "%s", body);
	event_base_once(F.base, -1, EV_TIMEOUT, delayed_cb, d, &tv);
}

static void
creds_reply(struct evhttp_request *req, const char *secret,
    const char *token_pfx)
{
	struct delayed *d = calloc(1, sizeof(*d));
	char exp[40];
	struct timeval tv;

	timeutil_rfc3339(timeutil_wall_ms() + F.exp_in_s * 1000LL, exp,
	    sizeof(exp));
	F.creds_seq++;
	snprintf(d->body, sizeof(d->body), "{\"Code\":\"Success\","
	    "\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAFAKE%012d\","
	    "\"SecretAccessKey\":\"%s%d\",\"Token\":\"%s%d\","
	    "\"Expiration\":\"%s\"}", F.creds_seq, secret, F.creds_seq,
	    token_pfx, F.creds_seq, exp);
	d->req = req;
	tv.tv_sec = F.delay_ms / 1000;
	tv.tv_usec = (F.delay_ms % 1000) * 1000;
	event_base_once(F.base, -1, EV_TIMEOUT, delayed_cb, d, &tv);
}

static bool
meta_token_ok(struct evhttp_request *req)
{
	const char *t = hdr(req, "x-aws-ec2-metadata-token");

	if (F.reject_token_once) {
		F.reject_token_once = false;
		return false;
	}
	return t != NULL && F.meta_token[0] != '\0' &&
	    strcmp(t, F.meta_token) == 0;
}

static void
fake_cb(struct evhttp_request *req, void *arg)
{
	const char *path = evhttp_request_get_uri(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *ttl, *t;
	int i;

	if (strcmp(path, "/latest/api/token") == 0 && cmd == EVHTTP_REQ_PUT) {
		F.token_puts++;
		ttl = hdr(req, "x-aws-ec2-metadata-token-ttl-seconds");
		if (ttl == NULL || atoi(ttl) < 1) {
			F.ttl_ok = false;
			reply(req, 400, NULL, NULL, "");
			return;
		}
		snprintf(F.meta_token, sizeof(F.meta_token), "%s%d",
		    META_TOKEN_PFX, ++F.meta_seq);
		reply(req, 200, "text/plain", NULL, F.meta_token);
		return;
	}
	if (strcmp(path, "/latest/meta-data/iam/security-credentials/") == 0) {
		F.role_gets++;
		if (!meta_token_ok(req)) {
			reply(req, 401, NULL, NULL, "");
			return;
		}
		reply(req, 200, "text/plain", NULL, "jvb-role\n");
		return;
	}
	if (strcmp(path, "/latest/meta-data/iam/security-credentials/"
	    "jvb-role") == 0) {
		F.creds_gets++;
		if (!meta_token_ok(req)) {
			reply(req, 401, NULL, NULL, "");
			return;
		}
		creds_reply(req, IMDS_SECRET, IMDS_TOKEN_PFX);
		return;
	}
	if (strcmp(path, "/container/creds") == 0) {
		F.container_gets++;
		t = hdr(req, "Authorization");
		F.container_auth_ok = t != NULL && strcmp(t, CONT_AUTH) == 0;
		if (!F.container_auth_ok) {
			reply(req, 401, NULL, NULL, "{}");
			return;
		}
		creds_reply(req, CONT_SECRET, "ContainerTokenDoNotLog");
		return;
	}
	if (strcmp(path, "/") == 0 && cmd == EVHTTP_REQ_POST) {
		i = F.aws_calls++;
		if (i >= MAX_CALLS) {
			reply(req, 500, NULL, NULL, "test: too many calls");
			return;
		}
		t = hdr(req, "X-Amz-Security-Token");
		snprintf(F.tokens[i], sizeof(F.tokens[i]), "%s", t ? t : "");
		t = hdr(req, "Authorization");
		snprintf(F.auth[i], sizeof(F.auth[i]), "%s", t ? t : "");
		t = hdr(req, "X-Amz-Target");
		snprintf(F.targets[i], sizeof(F.targets[i]), "%s", t ? t : "");
		if (F.aws_delay_ms > 0)
			reply_later(req, F.aws_delay_ms,
			    "{\"Attributes\":{\"VisibilityTimeout\":\"30\"}}");
		else if (i < F.nscript)
			reply(req, F.script[i].status,
			    "application/x-amz-json-1.0", F.script[i].qe,
			    F.script[i].body);
		else
			reply(req, 200, "application/x-amz-json-1.0", NULL,
			    "{\"Attributes\":{\"VisibilityTimeout\":\"30\"}}");
		return;
	}
	reply(req, 404, NULL, NULL, "");
}

static void
fake_start(void)
{
	struct evhttp_bound_socket *s;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&F, 0, sizeof(F));
	F.base = base;
	F.ttl_ok = true;
	F.exp_in_s = 3600;
	F.http = evhttp_new(base);
	test_assert(F.http != NULL);
	evhttp_set_allowed_methods(F.http, EVHTTP_REQ_GET | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_POST);
	evhttp_set_gencb(F.http, fake_cb, NULL);
	s = evhttp_bind_socket_with_handle(F.http, "127.0.0.1", 0);
	test_assert(s != NULL);
	test_assert(getsockname(evhttp_bound_socket_get_fd(s),
	    (struct sockaddr *)&ss, &len) == 0);
	F.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void
fake_stop(void)
{
	evhttp_free(F.http);
	F.http = NULL;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
}

/* Run the loop until *flag or timeout_ms; false on timeout. */
static bool
run_until(const bool *flag, int timeout_ms)
{
	int64_t end = timeutil_mono_ms() + timeout_ms;
	struct event *tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	struct timeval tv = { 0, 50 * 1000 };

	event_add(tick, &tv);
	while (!*flag && timeutil_mono_ms() < end)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(tick);
	return *flag;
}

static void
run_for(int ms)
{
	bool never = false;

	run_until(&never, ms);
}

static void
clear_env(void)
{
	static const char *const vars[] = {
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE",
		"AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
		"AWS_EC2_METADATA_DISABLED", NULL,
	};
	int i;

	for (i = 0; vars[i] != NULL; i++)
		unsetenv(vars[i]);
	/* never read the real ~/.aws */
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/c", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/f", 1);
}

static void
use_imds(void)
{
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", F.port);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
}

static void
use_env(bool token)
{
	setenv("AWS_ACCESS_KEY_ID", ENV_AKID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", ENV_SECRET, 1);
	if (token)
		setenv("AWS_SESSION_TOKEN", ENV_TOKEN, 1);
}

/* ---- the chain alone ---- */

struct wake {
	bool	 woken;
};

static void
wake_cb(void *arg)
{
	((struct wake *)arg)->woken = true;
}

static struct creds_chain *
chain_resolve(unsigned margin_ms, struct wake *w)
{
	struct creds_chain *ch = creds_chain_new(base, http, margin_ms);

	memset(w, 0, sizeof(*w));
	creds_chain_wait(ch, wake_cb, w);
	creds_chain_start(ch);
	test_assert(run_until(&w->woken, 5000));
	return ch;
}

static void
test_chain_env(void)
{
	struct creds_chain *ch;
	struct creds *c;
	struct wake w;

	clear_env();
	use_env(true);
	ch = chain_resolve(0, &w);
	c = creds_chain_get(ch, NULL);
	test_assert(c != NULL);
	test_assert_str(c->access_key_id, ENV_AKID);
	test_assert_str(c->session_token, ENV_TOKEN);
	test_assert_int(creds_chain_source(ch), CREDS_SOURCE_ENV);
	test_assert(!creds_chain_refreshable(ch));
	test_assert_int(creds_chain_failing_since(ch), 0);
	creds_chain_free(ch);

	/* half the pair is an error, and the chain says so */
	clear_env();
	setenv("AWS_ACCESS_KEY_ID", ENV_AKID, 1);
	ch = chain_resolve(0, &w);
	test_assert(creds_chain_get(ch, NULL) == NULL);
	test_assert(creds_chain_failing_since(ch) > 0);
	creds_chain_free(ch);
}

static void
test_chain_profile(void)
{
	char path[] = "/tmp/jl-aws-loop-XXXXXX";
	const char *text = "[default]\naws_access_key_id = AKIADEFAULT00000001\n"
	    "aws_secret_access_key = dflt\n[ops]\naws_access_key_id = "
	    "AKIAOPS0000000000001\naws_secret_access_key = ProfileSecret\n";
	struct creds_chain *ch;
	struct wake w;
	int fd = mkstemp(path);

	test_assert(fd >= 0);
	test_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	clear_env();
	setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
	setenv("AWS_PROFILE", "ops", 1);
	ch = chain_resolve(0, &w);
	test_assert(creds_chain_get(ch, NULL) != NULL);
	test_assert_str(creds_chain_get(ch, NULL)->access_key_id,
	    "AKIAOPS0000000000001");
	test_assert_int(creds_chain_source(ch), CREDS_SOURCE_PROFILE);
	creds_chain_free(ch);
	/* the environment comes first */
	use_env(false);
	ch = chain_resolve(0, &w);
	test_assert_int(creds_chain_source(ch), CREDS_SOURCE_ENV);
	creds_chain_free(ch);
	unlink(path);
}

static void
test_chain_container(void)
{
	char url[128], path[] = "/tmp/jl-aws-tok-XXXXXX";
	struct creds_chain *ch;
	struct creds *c;
	struct wake w;
	int fd = mkstemp(path);

	test_assert(fd >= 0);
	test_assert(write(fd, CONT_AUTH "\n", strlen(CONT_AUTH) + 1) > 0);
	close(fd);
	clear_env();
	use_imds();	/* must not be asked: the container comes first */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/container/creds",
	    F.port);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path, 1);
	ch = chain_resolve(0, &w);
	c = creds_chain_get(ch, NULL);
	test_assert(c != NULL);
	test_assert(F.container_auth_ok);
	test_assert_int(creds_chain_source(ch), CREDS_SOURCE_CONTAINER);
	test_assert(creds_chain_refreshable(ch));
	test_assert(c->expiration_ms > timeutil_wall_ms());
	test_assert_int(F.token_puts, 0);
	creds_chain_free(ch);

	/* a wrong token: refused, reported, nothing usable */
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong", 1);
	ch = chain_resolve(0, &w);
	test_assert(!F.container_auth_ok);
	test_assert(creds_chain_get(ch, NULL) == NULL);
	test_assert(creds_chain_failing_since(ch) > 0);
	creds_chain_free(ch);
	unlink(path);
}

static void
test_chain_imds(void)
{
	struct creds_chain *ch;
	struct creds *c;
	struct wake w;
	unsigned gen1, gen2;
	char first[64];

	clear_env();
	use_imds();
	F.token_puts = F.role_gets = F.creds_gets = 0;
	ch = chain_resolve(0, &w);
	c = creds_chain_get(ch, &gen1);
	test_assert(c != NULL);
	test_assert_int(creds_chain_source(ch), CREDS_SOURCE_IMDS);
	test_assert(creds_chain_refreshable(ch));
	test_assert(F.ttl_ok);
	test_assert_int(F.token_puts, 1);
	test_assert(strncmp(c->session_token, IMDS_TOKEN_PFX,
	    strlen(IMDS_TOKEN_PFX)) == 0);
	snprintf(first, sizeof(first), "%s", c->access_key_id);

	/* forced refresh: new set, the IMDS token is reused */
	w.woken = false;
	creds_chain_wait(ch, wake_cb, &w);
	creds_chain_refresh(ch);
	test_assert(run_until(&w.woken, 5000));
	c = creds_chain_get(ch, &gen2);
	test_assert(c != NULL && gen2 != gen1);
	test_assert(strcmp(c->access_key_id, first) != 0);
	test_assert_int(F.token_puts, 1);

	/* a stale IMDS token (401): a new one, once, and it works */
	F.reject_token_once = true;
	w.woken = false;
	creds_chain_wait(ch, wake_cb, &w);
	creds_chain_refresh(ch);
	test_assert(run_until(&w.woken, 5000));
	test_assert_int(F.token_puts, 2);
	test_assert(creds_chain_get(ch, &gen1) != NULL && gen1 != gen2);
	test_assert_int(creds_chain_failing_since(ch), 0);
	creds_chain_free(ch);

	/* credentials that arrive inside the margin are used, and not
	 * fetched again in a loop */
	F.exp_in_s = 600;
	F.creds_gets = 0;
	ch = chain_resolve(15 * 60 * 1000, &w);
	test_assert(creds_chain_get(ch, NULL) != NULL);
	run_for(1000);
	test_assert_int(F.creds_gets, 1);
	F.exp_in_s = 3600;
	creds_chain_free(ch);
}

/* Refresh on its own at expiry - margin; the old set serves meanwhile. */
static void
test_chain_refresh_timer(void)
{
	struct creds_chain *ch;
	struct creds *c;
	struct wake w;
	unsigned gen1, gen;
	int64_t end;
	bool gap = false;

	clear_env();
	use_imds();
	F.exp_in_s = 3600;
	F.delay_ms = 600;	/* every credentials answer is slow */
	/* due 1.5 s after the first set arrives */
	ch = chain_resolve(3600 * 1000 - 1500, &w);
	test_assert(creds_chain_get(ch, &gen1) != NULL);
	end = timeutil_mono_ms() + 4000;
	gen = gen1;
	while (gen == gen1 && timeutil_mono_ms() < end) {
		run_for(50);
		if ((c = creds_chain_get(ch, &gen)) == NULL)
			gap = true;
	}
	test_assert(gen != gen1);	/* refreshed without being asked */
	test_assert(!gap);		/* and never without credentials */
	F.delay_ms = 0;
	creds_chain_free(ch);
}

static void
test_chain_imds_down(void)
{
	struct creds_chain *ch;
	struct wake w;

	clear_env();
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", 1);
	ch = chain_resolve(0, &w);
	test_assert(creds_chain_get(ch, NULL) == NULL);
	test_assert(creds_chain_failing_since(ch) > 0);
	test_assert_int(creds_chain_source(ch), CREDS_SOURCE_NONE);
	creds_chain_free(ch);

	clear_env();
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	ch = chain_resolve(0, &w);
	test_assert(creds_chain_get(ch, NULL) == NULL);
	creds_chain_free(ch);
}

/* ---- calls ---- */

struct result {
	bool		 done;
	bool		 failed;
	struct aws_error err;
	size_t		 n;
	int64_t		 at;
};

static void
done_cb(const struct aws_error *err, void *arg)
{
	struct result *r = arg;

	test_assert(!r->done);		/* exactly once */
	r->done = true;
	r->failed = err != NULL;
	if (err != NULL)
		r->err = *err;
	r->at = timeutil_mono_ms();
}

static void
attrs_cb(const struct aws_error *err, const struct sqs_queue_attributes *a,
    void *arg)
{
	if (err == NULL)
		test_assert_int(a->visibility_timeout_s, 30);
	done_cb(err, arg);
}

static void
receive_cb(const struct aws_error *err, const struct sqs_message *m,
    size_t n, void *arg)
{
	struct result *r = arg;

	r->n = n;
	done_cb(err, arg);
}

static unsigned observed, observed_errors;

static void
observer(const char *op, const struct aws_error *err, unsigned attempt,
    void *arg)
{
	observed++;
	if (err != NULL)
		observed_errors++;
}

static struct aws *
aws_for_fake(unsigned max_attempts, unsigned budget_ms, unsigned margin_ms)
{
	struct aws_config cfg;
	char url[64];
	struct aws *a;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", F.port);
	memset(&cfg, 0, sizeof(cfg));
	cfg.region = "us-east-1";
	cfg.endpoint_url = url;
	cfg.max_attempts = max_attempts;
	cfg.budget_ms = budget_ms;
	cfg.refresh_margin_ms = margin_ms;
	a = aws_new(base, http, &cfg);
	test_assert(a != NULL);
	aws_set_observer(a, observer, NULL);
	observed = observed_errors = 0;
	return a;
}

static void
script(int i, int status, const char *qe, const char *body)
{
	F.script[i] = (struct step){ status, qe, body };
	if (F.nscript < i + 1)
		F.nscript = i + 1;
}

static void
script_reset(void)
{
	memset(F.script, 0, sizeof(F.script));
	F.nscript = 0;
	F.aws_calls = 0;
}

static const char *const throttle_body =
    "{\"__type\":\"com.amazonaws.sqs#RequestThrottled\","
    "\"message\":\"Request is throttled.\"}";
static const char *const fail_body =
    "{\"__type\":\"com.amazonaws.sqs#InternalFailure\",\"message\":\"x\"}";
static const char *const expired_body =
    "<ErrorResponse><Error><Code>ExpiredToken</Code><Message>The security "
    "token included in the request is expired</Message></Error>"
    "</ErrorResponse>";

static void
test_call_retry(void)
{
	struct result r = { 0 };
	struct aws *a;
	int i;

	clear_env();
	use_env(true);
	script_reset();
	script(0, 500, NULL, fail_body);
	script(1, 400, "RequestThrottled;Sender", throttle_body);
	script(2, 200, NULL, "{\"Messages\":[]}");
	a = aws_for_fake(5, 20000, 0);
	aws_creds_start(a);
	sqs_receive(a, QUEUE, 10, 1, -1, receive_cb, &r);
	test_assert(!r.done);	/* never from inside the call */
	test_assert(run_until(&r.done, 10000));
	test_assert(!r.failed);
	test_assert_int(F.aws_calls, 3);
	test_assert_int(observed, 3);
	test_assert_int(observed_errors, 2);
	for (i = 0; i < 3; i++) {
		/* re-signed every time, with the session token */
		test_assert(strncmp(F.auth[i], "AWS4-HMAC-SHA256 Credential="
		    ENV_AKID "/", 29 + strlen(ENV_AKID)) == 0);
		test_assert(strstr(F.auth[i], "SignedHeaders=content-type;host;"
		    "x-amz-date;x-amz-security-token;x-amz-target, ") != NULL);
		test_assert_str(F.tokens[i], ENV_TOKEN);
		test_assert_str(F.targets[i], "AmazonSQS.ReceiveMessage");
	}
	aws_free(a);
}

static void
test_call_terminal(void)
{
	struct result r = { 0 };
	struct aws *a;

	clear_env();
	use_env(false);
	script_reset();
	script(0, 400, "ReceiptHandleIsInvalid;Sender",
	    "{\"__type\":\"com.amazonaws.sqs#ReceiptHandleIsInvalid\","
	    "\"message\":\"The input receipt handle is invalid.\"}");
	a = aws_for_fake(5, 20000, 0);
	aws_creds_start(a);
	sqs_delete(a, QUEUE, "handle", done_cb, &r);
	test_assert(run_until(&r.done, 5000));
	test_assert(r.failed);
	test_assert_int(r.err.cls, AWS_CLASS_RECEIPT_INVALID);
	test_assert_int(r.err.attempts, 1);
	test_assert_int(F.aws_calls, 1);
	test_assert(F.tokens[0][0] == '\0');	/* long-term key: none */
	aws_free(a);
}

static void
test_call_max_attempts_and_budget(void)
{
	struct result r = { 0 };
	struct aws *a;
	int64_t t0;
	int i;

	clear_env();
	use_env(false);
	script_reset();
	for (i = 0; i < MAX_CALLS; i++)
		script(i, 503, NULL, "<html>busy</html>");
	a = aws_for_fake(2, 20000, 0);
	aws_creds_start(a);
	sqs_get_queue_attributes(a, QUEUE, attrs_cb, &r);
	test_assert(run_until(&r.done, 10000));
	test_assert(r.failed);
	test_assert_int(r.err.kind, AWS_ERR_HTTP);
	test_assert_int(r.err.cls, AWS_CLASS_TRANSIENT);
	test_assert_int(r.err.attempts, 2);
	test_assert_int(F.aws_calls, 2);
	aws_free(a);

	/* the budget ends the call whatever max_attempts says */
	F.aws_calls = 0;
	memset(&r, 0, sizeof(r));
	a = aws_for_fake(50, 2500, 0);
	aws_creds_start(a);
	t0 = timeutil_mono_ms();
	sqs_get_queue_attributes(a, QUEUE, attrs_cb, &r);
	test_assert(run_until(&r.done, 10000));
	test_assert(r.failed);
	test_assert(r.at - t0 <= 2500 + 1500);	/* generous: a busy machine */
	test_assert(r.err.attempts >= 2);
	test_assert(r.err.attempts < 50);
	test_assert_int((int)r.err.attempts, F.aws_calls);
	aws_free(a);
}

static void
test_call_transport(void)
{
	struct aws_config cfg;
	struct result r = { 0 };
	struct aws *a;

	clear_env();
	use_env(false);
	memset(&cfg, 0, sizeof(cfg));
	cfg.region = "us-east-1";
	cfg.endpoint_url = "http://127.0.0.1:1";
	cfg.max_attempts = 2;
	a = aws_new(base, http, &cfg);
	aws_creds_start(a);
	sqs_get_queue_attributes(a, QUEUE, attrs_cb, &r);
	test_assert(run_until(&r.done, 10000));
	test_assert(r.failed);
	test_assert_int(r.err.kind, AWS_ERR_TRANSPORT);
	test_assert_int(r.err.sys_errno, -ECONNREFUSED);
	test_assert_int(r.err.attempts, 2);
	aws_free(a);
}

static void
test_call_expired_refresh(void)
{
	struct result r = { 0 };
	struct aws *a;

	/* refreshable: refresh, re-sign with the new set, retry once */
	clear_env();
	use_imds();
	script_reset();
	script(0, 403, NULL, expired_body);
	script(1, 200, NULL, "{}");
	a = aws_for_fake(5, 20000, 0);
	aws_creds_start(a);
	F.creds_gets = 0;
	sqs_delete(a, QUEUE, "handle", done_cb, &r);
	test_assert(run_until(&r.done, 5000));
	test_assert(!r.failed);
	test_assert_int(F.aws_calls, 2);
	test_assert_int(F.creds_gets, 2);
	test_assert(strcmp(F.tokens[0], F.tokens[1]) != 0);
	test_assert(strncmp(F.tokens[1], IMDS_TOKEN_PFX,
	    strlen(IMDS_TOKEN_PFX)) == 0);

	/* only once */
	script_reset();
	script(0, 403, NULL, expired_body);
	script(1, 403, NULL, expired_body);
	script(2, 200, NULL, "{}");
	memset(&r, 0, sizeof(r));
	sqs_delete(a, QUEUE, "handle", done_cb, &r);
	test_assert(run_until(&r.done, 5000));
	test_assert(r.failed);
	test_assert_int(r.err.cls, AWS_CLASS_EXPIRED_CREDS);
	test_assert_int(F.aws_calls, 2);
	aws_free(a);

	/* static credentials cannot be refreshed: terminal at once */
	clear_env();
	use_env(true);
	script_reset();
	script(0, 403, NULL, expired_body);
	memset(&r, 0, sizeof(r));
	a = aws_for_fake(5, 20000, 0);
	aws_creds_start(a);
	sqs_delete(a, QUEUE, "handle", done_cb, &r);
	test_assert(run_until(&r.done, 5000));
	test_assert(r.failed);
	test_assert_int(r.err.cls, AWS_CLASS_EXPIRED_CREDS);
	test_assert_int(F.aws_calls, 1);
	aws_free(a);
}

/* Calls keep flowing while credentials are refreshed under them. */
struct stream {
	struct aws	*a;
	int		 started, ok, failed;
	bool		 stop;
};

static void
stream_next(struct stream *s);

static void
stream_later(evutil_socket_t fd, short what, void *arg)
{
	stream_next(arg);
}

static void
stream_cb(const struct aws_error *err, const struct sqs_queue_attributes *a,
    void *arg)
{
	struct stream *s = arg;

	if (err != NULL)
		s->failed++;
	else
		s->ok++;
	if (!s->stop) {
		struct timeval tv = { 0, 150 * 1000 };

		event_base_once(base, -1, EV_TIMEOUT, stream_later, s, &tv);
	}
}

static void
stream_next(struct stream *s)
{
	s->started++;
	sqs_get_queue_attributes(s->a, QUEUE, stream_cb, s);
}

static void
test_call_refresh_in_flight(void)
{
	struct stream s[3];
	struct aws *a;
	int i, first_tokens = 0, later_tokens = 0;
	char first[64];

	clear_env();
	use_imds();
	script_reset();
	F.delay_ms = 400;
	F.creds_gets = 0;
	/* the first set is due for refresh ~1.5 s after it arrives */
	a = aws_for_fake(3, 20000, 3600 * 1000 - 1500);
	aws_creds_start(a);
	memset(s, 0, sizeof(s));
	for (i = 0; i < 3; i++) {
		s[i].a = a;
		stream_next(&s[i]);
	}
	run_for(3000);
	for (i = 0; i < 3; i++)
		s[i].stop = true;
	run_for(500);
	F.delay_ms = 0;
	test_assert(F.creds_gets >= 2);
	snprintf(first, sizeof(first), "%s", F.tokens[0]);
	for (i = 0; i < F.aws_calls && i < MAX_CALLS; i++) {
		if (strcmp(F.tokens[i], first) == 0)
			first_tokens++;
		else
			later_tokens++;
	}
	test_assert(first_tokens > 0 && later_tokens > 0);
	for (i = 0; i < 3; i++) {
		test_assert_int(s[i].failed, 0);
		test_assert(s[i].ok >= 2);
	}
	aws_free(a);
}

static void
test_call_waits_for_creds(void)
{
	struct result r = { 0 }, r2 = { 0 };
	struct aws *a;
	int64_t t0;

	/* a call made before credentials are there waits for them */
	clear_env();
	use_env(false);
	script_reset();
	a = aws_for_fake(3, 20000, 0);
	sqs_get_queue_attributes(a, QUEUE, attrs_cb, &r);
	run_for(200);
	test_assert(!r.done);
	test_assert(!aws_creds_ok(a));
	aws_creds_start(a);
	test_assert(run_until(&r.done, 5000));
	test_assert(!r.failed);
	test_assert(aws_creds_ok(a));
	test_assert_str(aws_creds_source(a), "env");
	aws_free(a);

	/* and fails when its budget ends first */
	clear_env();
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", 1);
	a = aws_for_fake(3, 1500, 0);
	aws_creds_start(a);
	t0 = timeutil_mono_ms();
	sqs_get_queue_attributes(a, QUEUE, attrs_cb, &r2);
	test_assert(run_until(&r2.done, 5000));
	test_assert(r2.failed);
	test_assert_int(r2.err.kind, AWS_ERR_CREDENTIALS);
	test_assert_int(r2.err.attempts, 0);
	test_assert(r2.at - t0 >= 1400 && r2.at - t0 <= 3500);
	test_assert(aws_creds_failing_since(a) > 0);
	aws_free(a);
}

static void
test_call_cancel_and_invalid(void)
{
	struct result r1 = { 0 }, r2 = { 0 }, r3 = { 0 }, r4 = { 0 };
	struct aws *a;
	struct aws_call *c;

	clear_env();
	use_env(false);
	script_reset();
	a = aws_for_fake(3, 20000, 0);
	aws_creds_start(a);
	/* refused before sending, reported later on the loop */
	sqs_delete(a, QUEUE, "bad handle", done_cb, &r1);
	sqs_receive(a, QUEUE, 11, 1, -1, receive_cb, &r2);
	test_assert(!r1.done && !r2.done);
	/* cancelled: never called back */
	c = sqs_get_queue_attributes(a, QUEUE, attrs_cb, &r3);
	aws_call_cancel(c);
	aws_call_cancel(NULL);
	test_assert(run_until(&r2.done, 5000));
	test_assert(r1.done);
	test_assert_int(r1.err.kind, AWS_ERR_INVALID);
	test_assert_int(r1.err.attempts, 0);
	test_assert_int(r2.err.kind, AWS_ERR_INVALID);
	test_assert_int(F.aws_calls, 0);
	run_for(300);
	test_assert(!r3.done);
	/* aws_free with a call in flight: no callback, nothing leaks */
	F.aws_delay_ms = 200;
	F.aws_calls = 0;
	sqs_get_queue_attributes(a, QUEUE, attrs_cb, &r4);
	run_for(100);
	test_assert_int(F.aws_calls, 1);
	aws_free(a);
	run_for(400);
	test_assert(!r4.done);
	F.aws_delay_ms = 0;
}

/* Nothing secret in the log, even at debug level. */
static void
test_log_clean(void)
{
	static const char *const secrets[] = {
		ENV_SECRET, ENV_TOKEN, IMDS_SECRET, IMDS_TOKEN_PFX,
		META_TOKEN_PFX, CONT_AUTH, CONT_SECRET, "ContainerToken",
		"ProfileSecret", NULL,
	};
	char *text, *sig;
	long len;
	FILE *fp = fopen(log_path, "r");
	int i;

	test_assert(fp != NULL);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	text = calloc(1, (size_t)len + 1);
	test_assert(fread(text, 1, (size_t)len, fp) == (size_t)len);
	fclose(fp);
	test_assert(strstr(text, "credentials obtained from imds") != NULL);
	for (i = 0; secrets[i] != NULL; i++)
		if (strstr(text, secrets[i]) != NULL) {
			fprintf(stderr, "secret %s in the log\n", secrets[i]);
			abort();
		}
	for (i = 0; i < MAX_CALLS && F.auth[i][0] != '\0'; i++) {
		sig = strstr(F.auth[i], "Signature=");
		test_assert(sig != NULL);
		test_assert(strstr(text, sig + 10) == NULL);
	}
	/* key ids by their last four characters only */
	test_assert(strstr(text, ENV_AKID) == NULL);
	test_assert(strstr(text, "...0001") != NULL);
	free(text);
}

int
main(void)
{
	snprintf(log_path, sizeof(log_path), "/tmp/jl-aws-loop-log-%d",
	    (int)getpid());
	log_init(LOG_LEVEL_DEBUG);
	test_assert_int(log_open_file(log_path), 0);
	base = event_base_new();
	http = http_new(base);
	fake_start();

	test_run(test_chain_env);
	test_run(test_chain_profile);
	test_run(test_chain_container);
	test_run(test_chain_imds);
	test_run(test_chain_refresh_timer);
	test_run(test_chain_imds_down);
	test_run(test_call_retry);
	test_run(test_call_terminal);
	test_run(test_call_max_attempts_and_budget);
	test_run(test_call_transport);
	test_run(test_call_expired_refresh);
	test_run(test_call_refresh_in_flight);
	test_run(test_call_waits_for_creds);
	test_run(test_call_cancel_and_invalid);
	log_close();
	test_run(test_log_clean);

	fake_stop();
	http_free(http);
	event_base_free(base);
	unlink(log_path);
	return 0;
}
