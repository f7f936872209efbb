/*
 * libcurl multi on libevent, after curl's hiperfifo.c: curl tells us which
 * sockets to watch and when to wake it; every wake-up calls
 * curl_multi_socket_action() and then collects finished transfers.
 */
#include <sys/queue.h>

#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "handler/buf.h"
#include "handler/http.h"
#include "handler/log.h"
#include "handler/secret.h"
#include "handler/xmalloc.h"

enum http_req_state {
	HTTP_REQ_NEW,
	HTTP_REQ_RUNNING,
	HTTP_REQ_FAILED,	/* could not start; callback deferred */
};

struct http_req {
	TAILQ_ENTRY(http_req)	 entry;
	struct http		*h;
	enum http_req_state	 state;
	CURL			*easy;		/* owned */
	struct curl_slist	*headers;	/* owned; wiped on free */
	char			*method;	/* owned */
	bool			 has_body;
	bool			 has_content_type;
	struct buf		 body;		/* owned request body */
	struct buf		 resp;		/* owned response body */
	struct buf		 resp_headers;	/* owned, "name: value\r\n" */
	size_t			 max_resp;
	bool			 over_cap;
	http_done_cb		 cb;
	void			*arg;
	int			 start_error;
	char			 errbuf[CURL_ERROR_SIZE];
};

TAILQ_HEAD(http_req_list, http_req);

struct http {
	struct event_base	*base;
	CURLM			*multi;		/* owned */
	struct event		*timer;		/* owned; curl's one timeout */
	struct event		*deferred;	/* owned; failed starts */
	struct http_req_list	 running;
	struct http_req_list	 failed;
	unsigned		 pending;
	char			*ca_file;	/* owned */
};

struct http_sock {
	struct http	*h;
	curl_socket_t	 fd;
	struct event	*ev;		/* owned */
};

static void http_check_done(struct http *h);

static int
http_errno(CURLcode code, struct http_req *r)
{
	long oserr = 0;

	switch (code) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &oserr);
		if (oserr == EHOSTUNREACH || oserr == ENETUNREACH)
			return -EHOSTUNREACH;
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_FILESIZE_EXCEEDED:
		return -EMSGSIZE;
	case CURLE_WRITE_ERROR:
		return r->over_cap ? -EMSGSIZE : -EIO;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		return -ECONNRESET;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return -EPROTO;
	default:
		return -EIO;
	}
}

static void
http_sock_cb_event(evutil_socket_t fd, short what, void *arg)
{
	struct http *h = arg;
	int flags = 0, running;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(h->multi, fd, flags, &running);
	http_check_done(h);
}

static void
http_timer_cb_event(evutil_socket_t fd, short what, void *arg)
{
	struct http *h = arg;
	int running;

	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_check_done(h);
}

/* CURLMOPT_SOCKETFUNCTION: no libcurl calls in here. */
static int
http_sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *sockp)
{
	struct http *h = userp;
	struct http_sock *hs = sockp;
	short kind;

	if (what == CURL_POLL_REMOVE) {
		if (hs != NULL) {
			event_free(hs->ev);
			free(hs);
		}
		return 0;
	}
	kind = EV_PERSIST;
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (hs == NULL) {
		hs = xcalloc(1, sizeof(*hs));
		hs->h = h;
		hs->fd = s;
		curl_multi_assign(h->multi, s, hs);
	} else {
		event_free(hs->ev);
	}
	hs->ev = event_new(h->base, s, kind, http_sock_cb_event, h);
	if (hs->ev == NULL)
		fatalx("event_new for curl socket");
	event_add(hs->ev, NULL);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: only arms or disarms our timer. */
static int
http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *h = userp;
	struct timeval tv;

	if (timeout_ms < 0) {
		evtimer_del(h->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(h->timer, &tv);
	return 0;
}

static void
http_req_destroy(struct http_req *r)
{
	struct curl_slist *l;

	if (r->easy != NULL)
		curl_easy_cleanup(r->easy);
	for (l = r->headers; l != NULL; l = l->next)
		secret_wipe(l->data, strlen(l->data));
	curl_slist_free_all(r->headers);
	free(r->method);
	buf_finish(&r->body);
	buf_finish(&r->resp);
	buf_finish(&r->resp_headers);
	free(r);
}

static void
http_req_finish(struct http_req *r, int error, const char *text)
{
	struct http_response resp;
	long status = 0;
	double elapsed = 0;

	if (r->easy != NULL) {
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME, &elapsed);
	}
	memset(&resp, 0, sizeof(resp));
	resp.error = error;
	resp.error_text = text != NULL ? text : "";
	resp.status = error == 0 ? status : 0;
	resp.body = r->resp.data != NULL ? r->resp.data : "";
	resp.body_len = r->resp.len;
	resp.elapsed_s = elapsed;
	resp.req = r;
	r->cb(&resp, r->arg);
	http_req_destroy(r);
}

static void
http_check_done(struct http *h)
{
	struct http_req *r;
	CURLMsg *msg;
	CURLcode code;
	int left, err;

	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		code = msg->data.result;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    (char **)&r);
		/* msg is invalid after remove_handle */
		curl_multi_remove_handle(h->multi, r->easy);
		TAILQ_REMOVE(&h->running, r, entry);
		h->pending--;
		err = http_errno(code, r);
		http_req_finish(r, err, err != 0 ? (r->errbuf[0] != '\0' ?
		    r->errbuf : curl_easy_strerror(code)) : "");
	}
}

static void
http_deferred_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http *h = arg;
	struct http_req *r;

	while ((r = TAILQ_FIRST(&h->failed)) != NULL) {
		TAILQ_REMOVE(&h->failed, r, entry);
		h->pending--;
		http_req_finish(r, r->start_error, "could not start request");
	}
}

struct http *
http_new(struct event_base *base)
{
	struct http *h = xcalloc(1, sizeof(*h));
	curl_version_info_data *v;

	v = curl_version_info(CURLVERSION_NOW);
	if (!(v->features & CURL_VERSION_ASYNCHDNS))
		fatalx("libcurl has no asynchronous resolver: lookups "
		    "would block the loop");
	h->base = base;
	TAILQ_INIT(&h->running);
	TAILQ_INIT(&h->failed);
	if ((h->multi = curl_multi_init()) == NULL)
		fatalx("curl_multi_init failed");
	h->timer = evtimer_new(base, http_timer_cb_event, h);
	h->deferred = event_new(base, -1, 0, http_deferred_cb, h);
	if (h->timer == NULL || h->deferred == NULL)
		fatalx("event_new for http");
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, http_sock_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, http_timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	return h;
}

void
http_free(struct http *h)
{
	struct http_req *r;

	if (h == NULL)
		return;
	while ((r = TAILQ_FIRST(&h->running)) != NULL)
		http_req_cancel(r);
	while ((r = TAILQ_FIRST(&h->failed)) != NULL)
		http_req_cancel(r);
	curl_multi_cleanup(h->multi);
	event_free(h->timer);
	event_free(h->deferred);
	free(h->ca_file);
	free(h);
}

unsigned
http_pending(const struct http *h)
{
	return h->pending;
}

void
http_set_ca_file(struct http *h, const char *path)
{
	free(h->ca_file);
	h->ca_file = path != NULL ? xstrdup(path) : NULL;
}

static size_t
http_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct http_req *r = userdata;
	size_t n = size * nmemb;

	if (r->resp.len + n > r->max_resp) {
		r->over_cap = true;
		return 0;
	}
	buf_append(&r->resp, ptr, n);
	return n;
}

static size_t
http_header_cb(char *ptr, size_t size, size_t nitems, void *userdata)
{
	struct http_req *r = userdata;
	size_t n = size * nitems;

	/* a new status line starts a new header block (100 Continue) */
	if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0)
		buf_reset(&r->resp_headers);
	else if (r->resp_headers.len + n <= 64 * 1024)
		buf_append(&r->resp_headers, ptr, n);
	return n;
}

struct http_req *
http_req_new(struct http *h, const char *method, const char *url)
{
	struct http_req *r = xcalloc(1, sizeof(*r));

	r->h = h;
	r->state = HTTP_REQ_NEW;
	r->method = xstrdup(method);
	r->max_resp = HTTP_DEFAULT_MAX_RESPONSE;
	buf_init(&r->body);
	buf_init(&r->resp);
	buf_init(&r->resp_headers);
	if ((r->easy = curl_easy_init()) == NULL)
		fatalx("curl_easy_init failed");
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, http_write_cb);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, http_header_cb);
	curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	if (h->ca_file != NULL)
		curl_easy_setopt(r->easy, CURLOPT_CAINFO, h->ca_file);
	http_req_timeout(r, 5000, HTTP_DEFAULT_TIMEOUT_MS);
	/* no 1 s wait for a 100 Continue that AWS never needs */
	r->headers = curl_slist_append(r->headers, "Expect:");
	return r;
}

static void
http_req_add_header_line(struct http_req *r, const char *name,
    const char *value)
{
	struct curl_slist *l;
	char *line;

	if (strcasecmp(name, "content-type") == 0)
		r->has_content_type = true;
	if (*value == '\0')
		line = xasprintf("%s;", name);	/* curl's "empty value" form */
	else
		line = xasprintf("%s: %s", name, value);
	if ((l = curl_slist_append(r->headers, line)) == NULL)
		fatalx("curl_slist_append");
	r->headers = l;
	secret_free(line);
}

void
http_req_header(struct http_req *r, const char *name, const char *value)
{
	http_req_add_header_line(r, name, value);
}

void
http_req_secret_header(struct http_req *r, const char *name,
    const char *value)
{
	/* every header line is wiped on free; same path */
	http_req_add_header_line(r, name, value);
}

void
http_req_body(struct http_req *r, const void *body, size_t len)
{
	buf_reset(&r->body);
	buf_append(&r->body, body, len);
	r->has_body = true;
}

void
http_req_timeout(struct http_req *r, unsigned connect_ms, unsigned total_ms)
{
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, (long)total_ms);
}

void
http_req_max_response(struct http_req *r, size_t max_bytes)
{
	r->max_resp = max_bytes;
	curl_easy_setopt(r->easy, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)max_bytes);
}

void
http_req_secret_response(struct http_req *r)
{
	buf_set_secret(&r->resp);
}

void
http_req_start(struct http_req *r, http_done_cb cb, void *arg)
{
	struct http *h = r->h;
	CURLMcode mc;

	r->cb = cb;
	r->arg = arg;
	if (strcmp(r->method, "GET") == 0 && !r->has_body) {
		curl_easy_setopt(r->easy, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(r->method, "HEAD") == 0) {
		curl_easy_setopt(r->easy, CURLOPT_NOBODY, 1L);
	} else {
		if (strcmp(r->method, "POST") != 0)
			curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST,
			    r->method);
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)r->body.len);
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS,
		    r->body.data != NULL ? r->body.data : "");
		/* curl would invent a form content type otherwise */
		if (!r->has_content_type)
			r->headers = curl_slist_append(r->headers,
			    "Content-Type:");
	}
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
	h->pending++;
	mc = curl_multi_add_handle(h->multi, r->easy);
	if (mc != CURLM_OK) {
		r->state = HTTP_REQ_FAILED;
		r->start_error = mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
		TAILQ_INSERT_TAIL(&h->failed, r, entry);
		event_active(h->deferred, 0, 0);
		return;
	}
	r->state = HTTP_REQ_RUNNING;
	TAILQ_INSERT_TAIL(&h->running, r, entry);
}

void
http_req_cancel(struct http_req *r)
{
	struct http *h;

	if (r == NULL)
		return;
	h = r->h;
	switch (r->state) {
	case HTTP_REQ_RUNNING:
		curl_multi_remove_handle(h->multi, r->easy);
		TAILQ_REMOVE(&h->running, r, entry);
		h->pending--;
		break;
	case HTTP_REQ_FAILED:
		TAILQ_REMOVE(&h->failed, r, entry);
		h->pending--;
		break;
	case HTTP_REQ_NEW:
		break;
	}
	http_req_destroy(r);
}

void
http_req_free(struct http_req *r)
{
	if (r != NULL && r->state == HTTP_REQ_NEW)
		http_req_destroy(r);
}

const char *
http_response_header(const struct http_response *resp, const char *name)
{
	/* a static copy: the result is valid only during the callback */
	static char value[1024];
	const struct http_req *r = resp->req;
	const char *p, *end, *line_end, *colon;
	size_t nlen = strlen(name), vlen;

	if (r == NULL || r->resp_headers.data == NULL)
		return NULL;
	p = r->resp_headers.data;
	end = p + r->resp_headers.len;
	for (; p < end; p = line_end + 1) {
		if ((line_end = memchr(p, '\n', (size_t)(end - p))) == NULL)
			line_end = end;
		colon = memchr(p, ':', (size_t)(line_end - p));
		if (colon == NULL || (size_t)(colon - p) != nlen ||
		    strncasecmp(p, name, nlen) != 0)
			continue;
		for (colon++; colon < line_end && (*colon == ' ' ||
		    *colon == '\t'); colon++)
			;
		vlen = (size_t)(line_end - colon);
		while (vlen > 0 && (colon[vlen - 1] == '\r' ||
		    colon[vlen - 1] == ' ' || colon[vlen - 1] == '\t'))
			vlen--;
		if (vlen >= sizeof(value))
			vlen = sizeof(value) - 1;
		memcpy(value, colon, vlen);
		value[vlen] = '\0';
		return value;
	}
	return NULL;
}
