/*
 * Operator subcommands: status, probe-bridge, drain, audit.  They run as
 * whoever calls them (often not the daemon's user), so they read the
 * configuration without its secrets and print to stdout; problems go to
 * stderr.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drain/bridge.h"
#include "handler/cli.h"
#include "handler/cli_cmd.h"
#include "handler/config.h"

static const struct {
	const char	*name;
	int		(*main)(int, char *[]);
} cli_commands[] = {
	{ "status", cli_status_main },
	{ "probe-bridge", cli_probe_main },
	{ "drain", cli_drain_main },
	{ "audit", cli_audit_main },
};

int
cli_dispatch(const char *cmd, int argc, char *argv[])
{
	size_t i;

	for (i = 0; i < sizeof(cli_commands) / sizeof(cli_commands[0]); i++)
		if (strcmp(cmd, cli_commands[i].name) == 0)
			return cli_commands[i].main(argc, argv);
	fprintf(stderr, "jvb-lifecycled: unknown command \"%s\" (see "
	    "jvb-lifecycled --help)\n", cmd);
	return 2;
}

int
cli_load_config(const char *path, struct config *cfg)
{
	struct config_errors errs;
	struct stat st;
	size_t i;

	if (path == NULL) {
		path = CLI_DEFAULT_CONFIG;
		if (stat(path, &st) == -1 && errno == ENOENT)
			return -ENOENT;
	}
	if (config_load_flags(path, cfg, &errs, CONFIG_LOAD_NO_SECRETS) == 0)
		return 0;
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	fprintf(stderr, "jvb-lifecycled: %zu error%s in the configuration\n",
	    errs.n, errs.n == 1 ? "" : "s");
	config_errors_finish(&errs);
	config_free(cfg);
	return -EINVAL;
}

void
cli_sanitize(char *dst, size_t len, const char *src)
{
	size_t o = 0;

	if (len == 0)
		return;
	if (src == NULL)
		src = "";
	for (; *src != '\0' && o + 1 < len; src++)
		dst[o++] = *src >= 0x20 && *src < 0x7f ? *src : '?';
	dst[o] = '\0';
	if (*src != '\0' && len > 4)
		memcpy(dst + len - 4, "...", 4);
}

int
cli_parse_hostport(const char *s, char *host, size_t hostlen,
    unsigned *ret_port)
{
	const char *colon = strrchr(s, ':'), *h = s;
	size_t hl;
	unsigned long port;
	char *end;

	if (colon == NULL || colon == s || colon[1] == '\0')
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (*h == '[') {
		if (hl < 3 || colon[-1] != ']')
			return -EINVAL;
		h++;
		hl -= 2;
	}
	if (hl + 1 > hostlen || !isdigit((unsigned char)colon[1]))
		return -EINVAL;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || errno != 0 || port < 1 || port > 65535)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (strchr(host, '[') != NULL || strchr(host, ']') != NULL ||
	    strchr(host, '/') != NULL || strchr(host, ' ') != NULL)
		return -EINVAL;
	*ret_port = (unsigned)port;
	return 0;
}

const char *
cli_duration(int64_t ms, char *buf, size_t len)
{
	int64_t s;

	if (ms < 0)
		ms = -ms;
	s = ms / 1000;
	if (s >= 86400)
		snprintf(buf, len, "%lldd%02lldh", (long long)(s / 86400),
		    (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(buf, len, "%lldh%02lldm", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, len, "%lldm%02llds", (long long)(s / 60),
		    (long long)(s % 60));
	else if (s >= 10)
		snprintf(buf, len, "%llds", (long long)s);
	else
		snprintf(buf, len, "%lld.%llds", (long long)s,
		    (long long)(ms % 1000 / 100));
	return buf;
}

int
cli_host_to_ip(const char *host, char *ip, size_t iplen)
{
	struct addrinfo hints, *res = NULL;
	const void *addr;
	char tmp[INET6_ADDRSTRLEN];
	int r;

	if (bridge_valid_ip(host)) {
		if (strlen(host) + 1 > iplen)
			return -EINVAL;
		memcpy(ip, host, strlen(host) + 1);
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, NULL, &hints, &res)) != 0 || res == NULL)
		return -EHOSTUNREACH;
	if (res->ai_family == AF_INET)
		addr = &((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr;
	else
		addr = &((struct sockaddr_in6 *)(void *)res->ai_addr)->
		    sin6_addr;
	r = inet_ntop(res->ai_family, addr, tmp, sizeof(tmp)) != NULL &&
	    strlen(tmp) + 1 <= iplen ? 0 : -EINVAL;
	freeaddrinfo(res);
	if (r == 0)
		memcpy(ip, tmp, strlen(tmp) + 1);
	return r;
}

bool
cli_is_instance_id(const char *s)
{
	size_t n;

	if (strncmp(s, "i-", 2) != 0)
		return false;
	n = strlen(s + 2);
	return (n == 8 || n == 17) &&
	    strspn(s + 2, "0123456789abcdef") == n;
}
