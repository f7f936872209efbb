/*
 * http_fetch [-c ca_file] [-n count] [-w wait_ms] URL: count GETs of URL
 * one after the other on one http context (so the second may reuse the
 * first's connection), waiting wait_ms between them.  One line a request:
 * "error=<errno> status=<code> body=<body> text=<error text>".
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "handler/http.h"
#include "handler/log.h"

static struct event_base *base;
static struct http *client;
static struct event *next_ev;
static const char *url;
static int left, wait_ms;

static void fetch_next(evutil_socket_t fd, short what, void *arg);

static void
fetch_done(const struct http_response *resp, void *arg)
{
	struct timeval tv = { wait_ms / 1000, (wait_ms % 1000) * 1000 };

	printf("error=%d status=%ld body=%.*s text=%s\n", resp->error,
	    resp->status, (int)resp->body_len, resp->body, resp->error_text);
	fflush(stdout);
	if (--left > 0)
		evtimer_add(next_ev, &tv);
	else
		event_base_loopexit(base, NULL);	/* the pool stays */
}

static void
fetch_next(evutil_socket_t fd, short what, void *arg)
{
	struct http_req *r = http_req_new(client, "GET", url);

	http_req_timeout(r, 3000, 5000);
	http_req_start(r, fetch_done, NULL);
}

int
main(int argc, char **argv)
{
	const char *ca = NULL;
	int ch;

	left = 1;
	while ((ch = getopt(argc, argv, "c:n:w:")) != -1) {
		switch (ch) {
		case 'c':
			ca = optarg;
			break;
		case 'n':
			left = atoi(optarg);
			break;
		case 'w':
			wait_ms = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc || left < 1)
		return 2;
	url = argv[optind];
	log_init(LOG_LEVEL_WARNING);
	base = event_base_new();
	client = http_new(base);
	if (ca != NULL)
		http_set_ca_file(client, ca);
	next_ev = evtimer_new(base, fetch_next, NULL);
	event_active(next_ev, EV_TIMEOUT, 0);
	event_base_dispatch(base);
	event_free(next_ev);
	http_free(client);
	event_base_free(base);
	return 0;
}
