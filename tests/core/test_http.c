/*
 * The HTTP adapter under load: 240 requests at once against an evhttp
 * server on 127.0.0.1 in the same loop.  Fast, slow, never-answering
 * (timeout), oversized (cap), cancelled and refused requests; every
 * started request must end exactly once with the outcome its kind implies.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "handler/http.h"
#include "handler/log.h"
#include "tests/test.h"

enum kind {
	K_FAST,		/* 200 with a small body */
	K_SLOW,		/* 200 after 300 ms */
	K_HANG,		/* never answered: client timeout */
	K_BIG,		/* 64 KiB body, cap 16 KiB */
	K_CANCEL_NOW,	/* cancelled right after start */
	K_CANCEL_LATER,	/* cancelled after 100 ms, server is slow */
	K_REFUSED,	/* nothing listens on that port */
	K_POST,		/* echo of a request body and a header */
	K_STATUS,	/* 503 with a body: not a transport error */
	K_NKINDS,
};

#define PER_KIND 30
#define NREQ (K_NKINDS * PER_KIND)

struct req {
	int			 id;
	enum kind		 kind;
	struct http_req		*h;
	int			 calls;
	int			 error;
	long			 status;
	size_t			 body_len;
	char			 body[64];
	char			 header[64];
	bool			 cancelled;
};

static struct event_base *base;
static struct http *client;
static struct req reqs[NREQ];
static int finished, cancelled;
static int nhung;

struct delayed {
	struct evhttp_request	*req;
	struct event		*ev;
};

static void
srv_reply_later(evutil_socket_t fd, short what, void *arg)
{
	struct delayed *d = arg;
	struct evbuffer *b = evbuffer_new();

	evbuffer_add_printf(b, "slow");
	evhttp_send_reply(d->req, 200, "OK", b);
	evbuffer_free(b);
	event_free(d->ev);
	free(d);
}

static void
srv_cb(struct evhttp_request *r, void *arg)
{
	const char *uri = evhttp_request_get_uri(r);
	struct evbuffer *b = evbuffer_new();
	struct timeval tv = { 0, 300000 };
	struct delayed *d;

	if (strncmp(uri, "/fast", 5) == 0) {
		evbuffer_add_printf(b, "fast:%s", uri + 5);
		evhttp_send_reply(r, 200, "OK", b);
	} else if (strncmp(uri, "/slow", 5) == 0) {
		d = calloc(1, sizeof(*d));
		d->req = r;
		d->ev = evtimer_new(base, srv_reply_later, d);
		evtimer_add(d->ev, &tv);
	} else if (strncmp(uri, "/hang", 5) == 0) {
		nhung++;	/* answered by nobody */
	} else if (strncmp(uri, "/big", 4) == 0) {
		static char chunk[65536];

		memset(chunk, 'x', sizeof(chunk));
		evbuffer_add(b, chunk, sizeof(chunk));
		evhttp_send_reply(r, 200, "OK", b);
	} else if (strncmp(uri, "/post", 5) == 0) {
		struct evbuffer *in = evhttp_request_get_input_buffer(r);
		const char *hv = evhttp_find_header(
		    evhttp_request_get_input_headers(r), "X-Test");

		evbuffer_add_printf(b, "%s|", hv != NULL ? hv : "");
		evbuffer_add_buffer(b, in);
		evhttp_add_header(evhttp_request_get_output_headers(r),
		    "X-Reply", "yes  ");
		evhttp_send_reply(r, 201, "Created", b);
	} else if (strncmp(uri, "/status", 7) == 0) {
		evbuffer_add_printf(b, "{\"busy\":true}");
		evhttp_send_reply(r, 503, "Busy", b);
	} else {
		evhttp_send_reply(r, 404, "Not Found", b);
	}
	evbuffer_free(b);
}

static void
check_done(void)
{
	if (finished + cancelled == NREQ)
		event_base_loopexit(base, NULL);
}

static void
done_cb(const struct http_response *resp, void *arg)
{
	struct req *q = arg;
	const char *h;

	q->calls++;
	test_assert(!q->cancelled);
	q->error = resp->error;
	q->status = resp->status;
	q->body_len = resp->body_len;
	snprintf(q->body, sizeof(q->body), "%s", resp->body);
	h = http_response_header(resp, "x-reply");
	snprintf(q->header, sizeof(q->header), "%s", h != NULL ? h : "");
	finished++;
	check_done();
}

static void
cancel_later_cb(evutil_socket_t fd, short what, void *arg)
{
	int i;

	for (i = 0; i < NREQ; i++) {
		if (reqs[i].kind != K_CANCEL_LATER)
			continue;
		test_assert(reqs[i].calls == 0);
		http_req_cancel(reqs[i].h);
		reqs[i].cancelled = true;
		cancelled++;
	}
	check_done();
}

static void
guard_cb(evutil_socket_t fd, short what, void *arg)
{
	fprintf(stderr, "test did not finish in time: %d finished, %d "
	    "cancelled\n", finished, cancelled);
	abort();
}

static unsigned short
closed_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned short port;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	test_assert(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	test_assert(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	port = ntohs(sin.sin_port);
	close(fd);	/* bound, never listened: connections are refused */
	return port;
}

static void
test_concurrent(void)
{
	struct evhttp *srv;
	struct evhttp_bound_socket *bs;
	struct event *cancel_ev, *guard;
	struct timeval tv_cancel = { 0, 100000 }, tv_guard = { 30, 0 };
	unsigned short port, dead;
	char url[128];
	int i;

	base = event_base_new();
	srv = evhttp_new(base);
	evhttp_set_gencb(srv, srv_cb, NULL);
	bs = evhttp_bind_socket_with_handle(srv, "127.0.0.1", 0);
	test_assert(bs != NULL);
	{
		struct sockaddr_in sin;
		socklen_t len = sizeof(sin);

		getsockname(evhttp_bound_socket_get_fd(bs),
		    (struct sockaddr *)&sin, &len);
		port = ntohs(sin.sin_port);
	}
	dead = closed_port();
	client = http_new(base);

	for (i = 0; i < NREQ; i++) {
		struct req *q = &reqs[i];
		const char *method = "GET";
		unsigned short p = port;

		q->id = i;
		q->kind = (enum kind)(i % K_NKINDS);
		switch (q->kind) {
		case K_FAST:
			snprintf(url, sizeof(url), "/fast%d", i);
			break;
		case K_SLOW:
		case K_CANCEL_LATER:
			snprintf(url, sizeof(url), "/slow");
			break;
		case K_HANG:
		case K_CANCEL_NOW:
			snprintf(url, sizeof(url), "/hang");
			break;
		case K_BIG:
			snprintf(url, sizeof(url), "/big");
			break;
		case K_REFUSED:
			snprintf(url, sizeof(url), "/fast");
			p = dead;
			break;
		case K_POST:
			snprintf(url, sizeof(url), "/post");
			method = "POST";
			break;
		case K_STATUS:
			snprintf(url, sizeof(url), "/status");
			break;
		case K_NKINDS:
			break;
		}
		{
			char full[160];

			snprintf(full, sizeof(full), "http://127.0.0.1:%u%s",
			    p, url);
			q->h = http_req_new(client, method, full);
		}
		if (q->kind == K_HANG)
			http_req_timeout(q->h, 2000, 1500);
		else
			http_req_timeout(q->h, 5000, 10000);
		if (q->kind == K_BIG)
			http_req_max_response(q->h, 16 * 1024);
		if (q->kind == K_POST) {
			char body[32];

			snprintf(body, sizeof(body), "body-%d", i);
			http_req_header(q->h, "X-Test", "hdr");
			http_req_header(q->h, "Content-Type", "text/plain");
			http_req_body(q->h, body, strlen(body));
		}
		http_req_start(q->h, done_cb, q);
		/* never called from inside start */
		test_assert(q->calls == 0);
		if (q->kind == K_CANCEL_NOW) {
			http_req_cancel(q->h);
			q->cancelled = true;
			cancelled++;
		}
	}
	test_assert(http_pending(client) == NREQ - PER_KIND);

	cancel_ev = evtimer_new(base, cancel_later_cb, NULL);
	evtimer_add(cancel_ev, &tv_cancel);
	guard = evtimer_new(base, guard_cb, NULL);
	evtimer_add(guard, &tv_guard);
	event_base_dispatch(base);

	test_assert_int(finished + cancelled, NREQ);
	test_assert_int(http_pending(client), 0);
	for (i = 0; i < NREQ; i++) {
		struct req *q = &reqs[i];
		char want[64];

		if (q->cancelled) {
			test_assert_int(q->calls, 0);
			continue;
		}
		test_assert_int(q->calls, 1);
		switch (q->kind) {
		case K_FAST:
			test_assert_int(q->error, 0);
			test_assert_int(q->status, 200);
			snprintf(want, sizeof(want), "fast:%d", i);
			test_assert_str(q->body, want);
			break;
		case K_SLOW:
			test_assert_int(q->error, 0);
			test_assert_int(q->status, 200);
			test_assert_str(q->body, "slow");
			break;
		case K_HANG:
			test_assert_int(q->error, -ETIMEDOUT);
			test_assert_int(q->status, 0);
			break;
		case K_BIG:
			test_assert_int(q->error, -EMSGSIZE);
			break;
		case K_REFUSED:
			test_assert_int(q->error, -ECONNREFUSED);
			break;
		case K_POST:
			test_assert_int(q->error, 0);
			test_assert_int(q->status, 201);
			snprintf(want, sizeof(want), "hdr|body-%d", i);
			test_assert_str(q->body, want);
			test_assert_str(q->header, "yes");
			break;
		case K_STATUS:
			test_assert_int(q->error, 0);
			test_assert_int(q->status, 503);
			test_assert_str(q->body, "{\"busy\":true}");
			break;
		default:
			test_assert(0);
		}
	}

	http_free(client);
	/* hung requests belong to their connections: evhttp_free frees them */
	event_free(cancel_ev);
	event_free(guard);
	evhttp_free(srv);
	event_base_free(base);
}

/* Freeing the context with requests in flight: no callback, no leak. */
static int late_calls;

static void
late_cb(const struct http_response *resp, void *arg)
{
	late_calls++;
}

static void
test_free_in_flight(void)
{
	struct event_base *b = event_base_new();
	struct http *h = http_new(b);
	struct http_req *r;
	int i;

	for (i = 0; i < 10; i++) {
		r = http_req_new(h, "GET", "http://127.0.0.1:9/never");
		http_req_start(r, late_cb, NULL);
	}
	/* a request built but never started is freed by its owner */
	r = http_req_new(h, "GET", "http://127.0.0.1:9/unused");
	http_req_free(r);
	http_free(h);
	event_base_loop(b, EVLOOP_NONBLOCK);
	test_assert_int(late_calls, 0);
	event_base_free(b);
}

int
main(void)
{
	log_init(LOG_LEVEL_WARNING);
	test_run(test_concurrent);
	test_run(test_free_in_flight);
	return 0;
}
