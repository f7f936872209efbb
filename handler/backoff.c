#include <stdlib.h>

#include "handler/backoff.h"

uint32_t
backoff_uniform(uint32_t lo, uint32_t hi)
{
	if (hi <= lo)
		return lo;
	if (hi - lo == UINT32_MAX)
		return arc4random();
	return lo + arc4random_uniform(hi - lo + 1);
}

uint32_t
backoff_full_jitter(unsigned attempt, uint32_t base_ms, uint32_t cap_ms)
{
	uint64_t ceil = base_ms;

	while (attempt-- > 0 && ceil < cap_ms)
		ceil *= 2;
	if (ceil > cap_ms)
		ceil = cap_ms;
	return backoff_uniform(0, (uint32_t)ceil);
}
