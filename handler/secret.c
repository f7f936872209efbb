#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handler/secret.h"
#include "handler/xmalloc.h"

#define SECRET_FILE_MAX 4096

void
secret_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}

void
secret_free(char *s)
{
	if (s == NULL)
		return;
	secret_wipe(s, strlen(s));
	free(s);
}

int
secret_read_file(const char *path, char **ret)
{
	char buf[SECRET_FILE_MAX + 1];
	size_t len = 0;
	ssize_t n;
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (r == 0 && len > SECRET_FILE_MAX)
		r = -EFBIG;
	if (r == 0) {
		buf[len] = '\0';
		len = strcspn(buf, "\r\n");
		buf[len] = '\0';
		if (len == 0)
			r = -ENODATA;
		else
			*ret = xstrndup(buf, len);
	}
	secret_wipe(buf, sizeof(buf));
	return r;
}
