/* The per-bridge request log; see reqlog.h. */
#include <stdlib.h>
#include <string.h>

#include "handler/xmalloc.h"
#include "tests/fakebridge/reqlog.h"

static void
reqlog_entry_free(struct reqlog_entry *e)
{
	free(e->uri);
	free(e->content_type);
	free(e->body);
	memset(e, 0, sizeof(*e));
}

void
reqlog_init(struct reqlog *l, size_t cap)
{
	memset(l, 0, sizeof(*l));
	l->max = cap > 0 ? cap : 1;
	l->next_seq = 1;
}

/* A thousand idle bridges should not hold a thousand full rings. */
static void
reqlog_grow(struct reqlog *l)
{
	struct reqlog_entry *ring;
	size_t cap = l->cap == 0 ? 8 : l->cap * 2, i;

	if (cap > l->max)
		cap = l->max;
	ring = xcalloc(cap, sizeof(*ring));
	for (i = 0; i < l->n; i++)
		ring[i] = l->ring[(l->head + i) % l->cap];
	free(l->ring);
	l->ring = ring;
	l->cap = cap;
	l->head = 0;
}

void
reqlog_clear(struct reqlog *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		reqlog_entry_free(&l->ring[(l->head + i) % l->cap]);
	l->head = 0;
	l->n = 0;
}

void
reqlog_finish(struct reqlog *l)
{
	reqlog_clear(l);
	free(l->ring);
	l->ring = NULL;
}

uint64_t
reqlog_add(struct reqlog *l, int64_t wall_ms, const char *method,
    const char *uri, const char *content_type, const void *body,
    size_t body_len)
{
	struct reqlog_entry *e;
	size_t keep;

	if (l->n == l->cap && l->cap < l->max)
		reqlog_grow(l);
	if (l->n == l->cap) {
		reqlog_entry_free(&l->ring[l->head]);
		l->head = (l->head + 1) % l->cap;
		l->n--;
		l->dropped++;
	}
	e = &l->ring[(l->head + l->n) % l->cap];
	l->n++;
	e->seq = l->next_seq++;
	e->wall_ms = wall_ms;
	strncpy(e->method, method, sizeof(e->method) - 1);
	e->method[sizeof(e->method) - 1] = '\0';
	e->uri = xstrdup(uri);
	e->content_type = content_type != NULL ? xstrdup(content_type) : NULL;
	if (body != NULL) {
		keep = body_len < REQLOG_BODY_MAX ? body_len : REQLOG_BODY_MAX;
		e->body = xmalloc(keep + 1);
		memcpy(e->body, body, keep);
		e->body[keep] = '\0';
		e->body_len = body_len;
	}
	e->status = 0;
	return e->seq;
}

void
reqlog_set_status(struct reqlog *l, uint64_t seq, int status)
{
	uint64_t first;

	if (l->n == 0)
		return;
	first = l->ring[l->head].seq;
	if (seq < first || seq - first >= l->n)
		return;
	l->ring[(l->head + (size_t)(seq - first)) % l->cap].status = status;
}

json_t *
reqlog_json(const struct reqlog *l, uint64_t since)
{
	json_t *a = json_array(), *o, *body, *ct;
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct reqlog_entry *e = &l->ring[(l->head + i) % l->cap];

		if (e->seq <= since)
			continue;
		o = json_pack("{sI sI ss ss si}", "seq", (json_int_t)e->seq,
		    "time_ms", (json_int_t)e->wall_ms, "method", e->method,
		    "path", e->uri, "status", e->status);
		if (o == NULL) {
			/* The URI came from the network: not valid UTF-8. */
			o = json_pack("{sI sI ss ss si}", "seq",
			    (json_int_t)e->seq, "time_ms",
			    (json_int_t)e->wall_ms, "method", e->method,
			    "path", "(invalid utf-8)", "status", e->status);
		}
		if (o == NULL)
			continue;
		if (e->content_type != NULL) {
			ct = json_string(e->content_type);
			json_object_set_new(o, "content_type", ct != NULL ? ct :
			    json_string("(invalid utf-8)"));
		}
		if (e->body != NULL) {
			body = json_stringn(e->body,
			    e->body_len < REQLOG_BODY_MAX ? e->body_len :
			    REQLOG_BODY_MAX);
			json_object_set_new(o, "body", body != NULL ? body :
			    json_string("(invalid utf-8)"));
			json_object_set_new(o, "body_len",
			    json_integer((json_int_t)e->body_len));
		}
		json_array_append_new(a, o);
	}
	return a;
}

uint64_t
reqlog_total(const struct reqlog *l)
{
	return l->next_seq - 1;
}
