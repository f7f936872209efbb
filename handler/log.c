/*
 * Log lines go to stderr, or to [daemon] log_file when one is set.  When
 * stderr is the journal (JOURNAL_STREAM names it) each line starts with a
 * syslog priority prefix "<N>" and carries no timestamp of its own.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handler/log.h"
#include "handler/timeutil.h"

static enum log_level log_level = LOG_LEVEL_INFO;
static bool log_journal;
static FILE *log_fp;		/* owned; NULL means stderr */
static char *log_path;		/* owned */

static const char *const log_names[] = {
	[LOG_LEVEL_ERR] = "error",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_NOTICE] = "notice",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

static bool
log_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) == -1)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(enum log_level level)
{
	log_level = level;
	log_journal = log_stderr_is_journal();
}

void
log_setlevel(enum log_level level)
{
	log_level = level;
}

enum log_level
log_getlevel(void)
{
	return log_level;
}

int
log_open_file(const char *path)
{
	FILE *fp;

	if (path == NULL) {
		log_close();
		return 0;
	}
	if ((fp = fopen(path, "ae")) == NULL)
		return -errno;
	setvbuf(fp, NULL, _IOLBF, 0);
	log_close();
	log_fp = fp;
	log_path = strdup(path);
	if (log_path == NULL) {
		fclose(fp);
		log_fp = NULL;
		return -ENOMEM;
	}
	return 0;
}

int
log_reopen(void)
{
	FILE *fp;

	if (log_path == NULL)
		return 0;
	if ((fp = fopen(log_path, "ae")) == NULL)
		return -errno;
	setvbuf(fp, NULL, _IOLBF, 0);
	fclose(log_fp);
	log_fp = fp;
	return 0;
}

void
log_close(void)
{
	if (log_fp != NULL)
		fclose(log_fp);
	log_fp = NULL;
	free(log_path);
	log_path = NULL;
}

/* Escape what is not printable ASCII so one call is one line. */
static void
log_escape(char *dst, size_t dstlen, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (; *src != '\0' && o + 5 < dstlen; src++) {
		unsigned char c = (unsigned char)*src;

		if (c >= 0x20 && c < 0x7f) {
			dst[o++] = (char)c;
			continue;
		}
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hex[c >> 4];
		dst[o++] = hex[c & 0xf];
	}
	dst[o] = '\0';
}

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char raw[2048], line[4096], ts[40];
	int saved_errno = errno;
	FILE *fp = log_fp != NULL ? log_fp : stderr;

	if (level > log_level)
		return;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	log_escape(line, sizeof(line), raw);
	if (log_journal && log_fp == NULL) {
		fprintf(fp, "<%d>%s\n", (int)level, line);
	} else {
		timeutil_rfc3339(timeutil_wall_ms(), ts, sizeof(ts));
		fprintf(fp, "%s %s: %s\n", ts, log_names[level], line);
	}
	fflush(fp);
	errno = saved_errno;
}

#define LOG_FN(name, lvl)						\
void									\
name(const char *fmt, ...)						\
{									\
	va_list ap;							\
									\
	va_start(ap, fmt);						\
	log_vmsg(lvl, fmt, ap);						\
	va_end(ap);							\
}

LOG_FN(log_err, LOG_LEVEL_ERR)
LOG_FN(log_warnx, LOG_LEVEL_WARNING)
LOG_FN(log_notice, LOG_LEVEL_NOTICE)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)

void
log_warn(const char *fmt, ...)
{
	char msg[1536];
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s: %s", msg, strerror(saved_errno));
	errno = saved_errno;
}

void
fatal(const char *fmt, ...)
{
	char msg[1536];
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("fatal: %s: %s", msg, strerror(saved_errno));
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	char msg[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("fatal: %s", msg);
	exit(1);
}

static void
log_libevent_cb(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		log_debug("libevent: %s", msg);
		break;
	case EVENT_LOG_MSG:
		log_info("libevent: %s", msg);
		break;
	default:
		log_warnx("libevent: %s", msg);
		break;
	}
}

void
log_route_libevent(void)
{
	event_set_log_callback(log_libevent_cb);
}
