/* A ring of tokens; lookups are linear, which is fine at a few thousand. */
#include <stdlib.h>
#include <string.h>

#include "handler/finished.h"
#include "handler/xmalloc.h"

#define FINISHED_TTL_MS		(24LL * 3600 * 1000)
#define FINISHED_TOKEN		37

struct finished_entry {
	char	 token[FINISHED_TOKEN];
	int64_t	 at;
};

struct finished {
	struct finished_entry	*ring;
	unsigned		 max, next, n;
};

struct finished *
finished_new(unsigned max)
{
	struct finished *f = xcalloc(1, sizeof(*f));

	f->max = max > 0 ? max : 1;
	f->ring = xcalloc(f->max, sizeof(*f->ring));
	return f;
}

void
finished_free(struct finished *f)
{
	if (f == NULL)
		return;
	free(f->ring);
	free(f);
}

void
finished_add(struct finished *f, const char *token, int64_t now)
{
	struct finished_entry *e = &f->ring[f->next];

	memset(e->token, 0, sizeof(e->token));
	strncpy(e->token, token, sizeof(e->token) - 1);
	e->at = now;
	f->next = (f->next + 1) % f->max;
	if (f->n < f->max)
		f->n++;
}

bool
finished_has(struct finished *f, const char *token, int64_t now)
{
	unsigned i;

	for (i = 0; i < f->n; i++) {
		if (now - f->ring[i].at > FINISHED_TTL_MS)
			continue;
		if (strcmp(f->ring[i].token, token) == 0)
			return true;
	}
	return false;
}
