#include <stdio.h>
#include <string.h>

#include "aws/query.h"

void
query_init(struct buf *b, const char *action, const char *version)
{
	buf_puts(b, "Action=");
	buf_urlencode(b, action);
	buf_puts(b, "&Version=");
	buf_urlencode(b, version);
}

void
query_add(struct buf *b, const char *key, const char *value)
{
	buf_puts(b, "&");
	buf_urlencode(b, key);
	buf_puts(b, "=");
	/* RFC 3986 percent-encoding is valid form encoding too, and only
	 * the body's hash is signed */
	buf_urlencode(b, value);
}

void
query_add_list(struct buf *b, const char *prefix, const char *const *values,
    size_t n)
{
	char key[128];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%s.%zu", prefix, i + 1);
		query_add(b, key, values[i]);
	}
}

bool
query_instance_id_ok(const char *id)
{
	size_t n;

	if (id == NULL || strncmp(id, "i-", 2) != 0)
		return false;
	n = strspn(id + 2, "0123456789abcdef");
	return id[2 + n] == '\0' && (n == 8 || n == 17);
}

bool
query_text_ok(const char *s, size_t max, bool utf8)
{
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++, n++) {
		unsigned char c = (unsigned char)*s;

		if (n >= max || c < 0x20 || c == 0x7f || (c > 0x7f && !utf8))
			return false;
	}
	return true;
}

int64_t
query_decimal(const char *s)
{
	int64_t n = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || n > (INT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (*s - '0');
	}
	return n;
}
