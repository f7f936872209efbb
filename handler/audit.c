#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handler/audit.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"

struct audit {
	char		*path;		/* owned */
	int		 fd;
	unsigned long	 records;
};

static int
audit_open_fd(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	return fd == -1 ? -errno : fd;
}

int
audit_open(const char *path, struct audit **ret)
{
	struct audit *a;
	int fd;

	if ((fd = audit_open_fd(path)) < 0)
		return fd;
	a = xcalloc(1, sizeof(*a));
	a->path = xstrdup(path);
	a->fd = fd;
	*ret = a;
	return 0;
}

int
audit_reopen(struct audit *a)
{
	int fd;

	if ((fd = audit_open_fd(a->path)) < 0)
		return fd;
	close(a->fd);
	a->fd = fd;
	return 0;
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	if (a->fd >= 0)
		close(a->fd);
	free(a->path);
	free(a);
}

unsigned long
audit_records(const struct audit *a)
{
	return a->records;
}

static json_t *
audit_str(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static int
audit_write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
audit_write(struct audit *a, const struct audit_ctx *ctx, const char *step,
    json_t *fields)
{
	char ts[40];
	const char *key;
	json_t *rec, *value;
	char *line;
	size_t len;
	int r;

	timeutil_rfc3339(timeutil_wall_ms(), ts, sizeof(ts));
	rec = json_object();
	json_object_set_new(rec, "time", json_string(ts));
	json_object_set_new(rec, "action", audit_str(ctx->action));
	json_object_set_new(rec, "instance", audit_str(ctx->instance));
	json_object_set_new(rec, "group", audit_str(ctx->group));
	json_object_set_new(rec, "hook", audit_str(ctx->hook));
	json_object_set_new(rec, "transition", audit_str(ctx->transition));
	json_object_set_new(rec, "step", json_string(step));
	if (fields != NULL) {
		json_object_foreach(fields, key, value) {
			if (json_object_get(rec, key) == NULL)
				json_object_set(rec, key, value);
		}
	}
	/* strings that are not valid UTF-8 make jansson refuse them: the
	 * caller passes validated or escaped text */
	line = json_dumps(rec, JSON_COMPACT | JSON_ENSURE_ASCII |
	    JSON_PRESERVE_ORDER);
	json_decref(rec);
	if (line == NULL)
		return -EINVAL;
	len = strlen(line);
	line[len] = '\n';	/* json_dumps leaves room for NUL: reuse it */
	r = audit_write_all(a->fd, line, len + 1);
	free(line);
	if (r == 0 && fdatasync(a->fd) == -1)
		r = -errno;
	if (r == 0)
		a->records++;
	return r;
}
