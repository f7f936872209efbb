/*
 * Logging: one line per event, to stderr (journald) or to a file.
 * Shaped after OpenSMTPD's log.c: log_warn adds strerror(errno), log_warnx
 * does not, fatal/fatalx log and exit.  Bytes outside printable ASCII are
 * escaped, so a field from the network cannot forge a line.
 */
#ifndef JL_LOG_H
#define JL_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_NOTICE = 5,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/* Up to this level is printed (default: info). */
void log_init(enum log_level level);
void log_setlevel(enum log_level level);
enum log_level log_getlevel(void);
/* Log to this file instead of stderr (NULL: back to stderr). */
int log_open_file(const char *path);
/* Reopen the file after logrotate moved it; no-op on stderr. */
int log_reopen(void);
void log_close(void);
/* Route libevent's internal messages here. */
void log_route_libevent(void);

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
