/*
 * NOTIFY_SOCKET is a path, or an abstract socket name written with a
 * leading '@'.  WATCHDOG_PID, when set, names the process the watchdog is
 * for: a child that inherited the environment must not ping for us.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handler/sdnotify.h"

static int
sdnotify_addr(struct sockaddr_un *sun, socklen_t *len)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t plen;

	if (path == NULL || *path == '\0')
		return -ENOENT;
	if (*path != '/' && *path != '@')
		return -EAFNOSUPPORT;	/* vsock: not ours to speak */
	plen = strlen(path);
	if (plen >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, plen);
	if (*path == '@')
		sun->sun_path[0] = '\0';
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
	    (*path == '/' ? 1 : 0));
	return 0;
}

bool
sdnotify_enabled(void)
{
	struct sockaddr_un sun;
	socklen_t len;

	return sdnotify_addr(&sun, &len) == 0;
}

int
sdnotify_send(const char *msg)
{
	struct sockaddr_un sun;
	socklen_t len;
	ssize_t n;
	int fd, r, e;

	if ((r = sdnotify_addr(&sun, &len)) < 0)
		return r;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len);
	e = errno;
	close(fd);
	if (n < 0)
		return -e;
	return 0;
}

uint64_t
sdnotify_watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	unsigned long long v;
	char *end;

	if (usec == NULL || *usec == '\0')
		return 0;
	errno = 0;
	v = strtoull(usec, &end, 10);
	if (errno != 0 || *end != '\0' || *usec == '-')
		return 0;
	if (pid != NULL && *pid != '\0') {
		errno = 0;
		if (strtol(pid, &end, 10) != (long)getpid() || *end != '\0' ||
		    errno != 0)
			return 0;
	}
	return (uint64_t)v;
}
