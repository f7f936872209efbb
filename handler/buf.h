/* A growable byte buffer, always NUL-terminated for convenience. */
#ifndef JL_BUF_H
#define JL_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char	*data;		/* owned; NULL until the first append */
	size_t	 len;
	size_t	 cap;
	bool	 secret;	/* wipe on growth and on finish */
};

void buf_init(struct buf *b);
/* From now on no copy of the bytes is left behind in freed memory. */
void buf_set_secret(struct buf *b);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append s percent-encoded (RFC 3986 unreserved left as is). */
void buf_urlencode(struct buf *b, const char *s);
void buf_reset(struct buf *b);
/* Hand the bytes to the caller (who frees them); b is empty afterwards. */
char *buf_steal(struct buf *b);
void buf_finish(struct buf *b);
/* Like buf_finish, but wipes the bytes first (secrets). */
void buf_finish_secret(struct buf *b);

#endif
