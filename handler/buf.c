#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler/buf.h"
#include "handler/secret.h"
#include "handler/xmalloc.h"

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->secret = false;
}

void
buf_set_secret(struct buf *b)
{
	b->secret = true;
}

static void
buf_reserve(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1, cap = b->cap ? b->cap : 64;

	if (need <= b->cap)
		return;
	while (cap < need)
		cap *= 2;
	if (b->secret && b->data != NULL) {
		/* realloc could leave the old bytes behind: copy and wipe */
		char *p = xmalloc(cap);

		memcpy(p, b->data, b->len + 1);
		secret_wipe(b->data, b->cap);
		free(b->data);
		b->data = p;
	} else {
		b->data = xreallocarray(b->data, cap, 1);
	}
	b->cap = cap;
}

void
buf_append(struct buf *b, const void *data, size_t len)
{
	buf_reserve(b, len);
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	/* most lines fit on the stack; measure and format once more if not */
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		buf_append(b, small, (size_t)n);
		return;
	}
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
buf_urlencode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char enc[3];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~') {
			buf_append(b, s, 1);
			continue;
		}
		enc[0] = '%';
		enc[1] = hex[c >> 4];
		enc[2] = hex[c & 0xf];
		buf_append(b, enc, 3);
	}
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

char *
buf_steal(struct buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = xstrdup("");
	buf_init(b);	/* the caller owns the bytes, and their wiping */
	return p;
}

void
buf_finish(struct buf *b)
{
	if (b->secret && b->data != NULL)
		secret_wipe(b->data, b->cap);
	free(b->data);
	buf_init(b);
}

void
buf_finish_secret(struct buf *b)
{
	if (b->data != NULL)
		secret_wipe(b->data, b->cap);
	buf_finish(b);
}
