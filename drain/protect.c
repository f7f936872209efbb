#include <stdlib.h>

#include "drain/protect.h"

struct protect_want {
	bool			 protect;
	bool			 changed;
	enum protect_reason	 reason;
};

size_t
protect_plan(const struct protect_bridge *b, size_t n,
    const struct protect_config *cfg, struct protect_change *out)
{
	struct protect_want *w;
	size_t i, nin = 0, unprotected = 0, nout = 0, want_free;

	if (n == 0)
		return 0;
	w = calloc(n, sizeof(*w));
	if (w == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		int p = b[i].participants;

		w[i].protect = b[i].protected_now;
		if (!b[i].in_service)
			continue;
		nin++;
		if (p == 0) {
			w[i].protect = false;
			w[i].reason = PROTECT_REASON_EMPTY;
		} else if (p > cfg->threshold) {
			w[i].protect = true;
			w[i].reason = PROTECT_REASON_ABOVE;
		} else if (p > 0 && (!b[i].protected_now ||
		    p <= cfg->threshold - cfg->hysteresis)) {
			w[i].protect = false;
			w[i].reason = PROTECT_REASON_BELOW;
		}
		if (!w[i].protect)
			unprotected++;
	}
	/* never all of them: the group could not scale in at all */
	want_free = cfg->unprotected_min > 0 ? cfg->unprotected_min : 1;
	if (want_free > nin)
		want_free = nin;
	while (unprotected < want_free) {
		size_t best = n;

		/* the least loaded protected one; unknown load comes last */
		for (i = 0; i < n; i++) {
			if (!b[i].in_service || !w[i].protect)
				continue;
			if (best == n ||
			    (b[i].participants >= 0 &&
			    (b[best].participants < 0 ||
			    b[i].participants < b[best].participants)))
				best = i;
		}
		if (best == n)
			break;
		w[best].protect = false;
		w[best].reason = PROTECT_REASON_KEEP_MIN;
		unprotected++;
	}
	for (i = 0; i < n; i++) {
		if (!b[i].in_service || w[i].protect == b[i].protected_now)
			continue;
		out[nout].index = i;
		out[nout].protect = w[i].protect;
		out[nout].reason = w[i].reason;
		nout++;
	}
	free(w);
	return nout;
}

const char *
protect_reason_text(enum protect_reason r)
{
	switch (r) {
	case PROTECT_REASON_ABOVE:
		return "more participants than the threshold";
	case PROTECT_REASON_EMPTY:
		return "empty: the group may remove it";
	case PROTECT_REASON_BELOW:
		return "down to the threshold less the hysteresis";
	case PROTECT_REASON_KEEP_MIN:
		return "among the least loaded kept unprotected "
		    "(unprotected_min; never every instance protected)";
	}
	return "?";
}
