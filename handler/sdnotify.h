/*
 * systemd's notification protocol (sd_notify(3)), spoken directly: one
 * datagram to $NOTIFY_SOCKET.  The protocol is documented as stable and
 * meant to be reimplemented; linking libsystemd for it would map five
 * more libraries into the daemon for one sendto().
 */
#ifndef JL_SDNOTIFY_H
#define JL_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* Is $NOTIFY_SOCKET set (to a socket we can address)? */
bool sdnotify_enabled(void);
/* Send msg ("READY=1", ...); 0 or a negative errno. */
int sdnotify_send(const char *msg);
/* The watchdog timeout for this process, in microseconds; 0 if none. */
uint64_t sdnotify_watchdog_usec(void);

#endif
