/* Capped exponential backoff with full jitter (AWS's recommended shape). */
#ifndef JL_BACKOFF_H
#define JL_BACKOFF_H

#include <stdint.h>

/* A uniform delay in [0, min(cap, base * 2^attempt)] ms; attempt from 0. */
uint32_t backoff_full_jitter(unsigned attempt, uint32_t base_ms,
    uint32_t cap_ms);
/* A uniform value in [lo, hi]. */
uint32_t backoff_uniform(uint32_t lo, uint32_t hi);

#endif
