/*
 * Allocation that cannot fail: out of memory is fatal, as in OpenSMTPD and
 * tmux.  Acceptable because every allocation is small and every size taken
 * from a peer is capped before it gets here.
 */
#ifndef JL_XMALLOC_H
#define JL_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
