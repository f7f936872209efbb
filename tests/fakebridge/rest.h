/*
 * The private HTTP server of one bridge (jvb-api.md §2): /colibri/stats,
 * /colibri/drain*, /colibri/shutdown, /about/health, /about/version,
 * /debug, with the switches of §1.1 and the modes of options.h.
 */
#ifndef FB_REST_H
#define FB_REST_H

#include <stdbool.h>
#include <stdint.h>

struct bridge;
struct rest;

/*
 * Listen on the bridge's address and port (0: pick one; the port bound is
 * written to *ret_port).  -errno (-EADDRINUSE, ...).
 */
int rest_start(struct bridge *b, struct rest **ret, uint16_t *ret_port);
/*
 * Stop listening at once (new connections are refused).  With grace the
 * open connections get a moment to flush a reply just sent, as a process
 * that exits still delivers what it wrote; requests arriving meanwhile
 * get no answer.  r is freed (later, with grace).
 */
void rest_stop(struct rest *r, bool grace);
/* Free what is still in its grace period (at process exit). */
void rest_reap_all(void);

#endif
