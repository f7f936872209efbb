/*
 * The systemd side of Type=notify: READY=1 once the daemon works,
 * WATCHDOG=1 from a timer on the loop at half of WATCHDOG_USEC (a wedged
 * loop stops the pings, and systemd restarts it), STATUS= lines saying
 * what it is doing, STOPPING=1 on the way out.
 *
 * Run without NOTIFY_SOCKET, every call is a no-op and `run` works the
 * same.
 */
#ifndef JL_NOTIFY_H
#define JL_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ctx;
struct notify;

/* Never NULL; reads ctx (base, actions, receiver, brewery) when it ticks. */
struct notify *notify_new(struct ctx *ctx);
/* NULL is fine. */
void notify_free(struct notify *n);
/* READY=1 with the first STATUS=. */
void notify_ready(struct notify *n);
/* STOPPING=1; the watchdog keeps pinging until the loop ends. */
void notify_stopping(struct notify *n);
/* Watchdog ping interval in ms (0: no watchdog asked for). */
uint64_t notify_watchdog_interval_ms(const struct notify *n);

/* The STATUS= text for the daemon's state now (without "STATUS="). */
void notify_status_text(const struct ctx *ctx, char *out, size_t len);

#endif
