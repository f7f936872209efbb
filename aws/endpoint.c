#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/endpoint.h"

static const char *const endpoint_names[ENDPOINT_COUNT] = {
	[ENDPOINT_SQS] = "sqs",
	[ENDPOINT_AUTOSCALING] = "autoscaling",
	[ENDPOINT_EC2] = "ec2",
};

const char *
endpoint_service_name(enum endpoint_service svc)
{
	return svc < ENDPOINT_COUNT ? endpoint_names[svc] : "unknown";
}

bool
endpoint_region_ok(const char *region)
{
	size_t n = 0;

	if (region == NULL || *region == '\0' || *region == '-')
		return false;
	for (; *region != '\0'; region++, n++)
		if (n >= 31 || !((*region >= 'a' && *region <= 'z') ||
		    (*region >= '0' && *region <= '9') || *region == '-'))
			return false;
	return true;
}

static bool
endpoint_dns_ok(const char *h)
{
	size_t label = 0;

	if (*h == '\0' || *h == '.' || *h == '-')
		return false;
	for (; *h != '\0'; h++) {
		if (*h == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
		    (*h >= '0' && *h <= '9') || *h == '-' || *h == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

int
endpoint_parse_url(const char *url, struct endpoint_url *ret)
{
	struct endpoint_url u;
	const char *p, *host, *host_end, *path;
	size_t len;

	if (url == NULL)
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	if (strncmp(url, "https://", 8) == 0) {
		u.https = true;
		p = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		p = url + 7;
	} else
		return -EINVAL;
	if ((path = strchr(p, '/')) == NULL)
		path = p + strlen(p);
	if (memchr(p, '@', (size_t)(path - p)) != NULL)
		return -EINVAL;
	if (*p == '[') {
		struct in6_addr a6;

		host = p + 1;
		if ((host_end = memchr(host, ']', (size_t)(path - host))) ==
		    NULL)
			return -EINVAL;
		len = (size_t)(host_end - host);
		if (len == 0 || len >= sizeof(u.host))
			return -EINVAL;
		memcpy(u.host, host, len);
		u.host[len] = '\0';
		if (inet_pton(AF_INET6, u.host, &a6) != 1)
			return -EINVAL;
		p = host_end + 1;
	} else {
		host = p;
		if ((host_end = memchr(host, ':', (size_t)(path - host))) ==
		    NULL)
			host_end = path;
		len = (size_t)(host_end - host);
		if (len == 0 || len >= sizeof(u.host))
			return -EINVAL;
		memcpy(u.host, host, len);
		u.host[len] = '\0';
		if (!endpoint_dns_ok(u.host))
			return -EINVAL;
		p = host_end;
	}
	if (*p == ':') {
		unsigned long port = 0;

		if (p + 1 == path)
			return -EINVAL;
		for (p++; p < path; p++) {
			if (*p < '0' || *p > '9')
				return -EINVAL;
			port = port * 10 + (unsigned long)(*p - '0');
			if (port > 65535)
				return -EINVAL;
		}
		if (port == 0)
			return -EINVAL;
		u.port = (unsigned)port;
	} else if (p != path)
		return -EINVAL;
	if (*path == '\0')
		path = "/";
	if (strlen(path) >= sizeof(u.path))
		return -EINVAL;
	for (p = path; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    *p == '?' || *p == '#' || *p == '\\')
			return -EINVAL;
	strcpy(u.path, path);
	*ret = u;
	return 0;
}

bool
endpoint_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

int
endpoint_resolve(const char *region, const char *override_url,
    enum endpoint_service svc, struct endpoint *ret)
{
	struct endpoint e;
	struct endpoint_url u;
	const char *name = endpoint_service_name(svc);
	bool v6;

	if (!endpoint_region_ok(region) || svc >= ENDPOINT_COUNT)
		return -EINVAL;
	memset(&e, 0, sizeof(e));
	snprintf(e.service, sizeof(e.service), "%s", name);
	snprintf(e.region, sizeof(e.region), "%s", region);
	if (override_url == NULL || *override_url == '\0') {
		const char *suffix = strncmp(region, "cn-", 3) == 0 ?
		    "amazonaws.com.cn" : "amazonaws.com";

		snprintf(e.host, sizeof(e.host), "%s.%s.%s", name, region,
		    suffix);
		snprintf(e.url, sizeof(e.url), "https://%s/", e.host);
		strcpy(e.path, "/");
		*ret = e;
		return 0;
	}
	if (endpoint_parse_url(override_url, &u) < 0)
		return -EINVAL;
	v6 = strchr(u.host, ':') != NULL;
	if (u.port != 0)
		snprintf(e.host, sizeof(e.host), v6 ? "[%s]:%u" : "%s:%u",
		    u.host, u.port);
	else
		snprintf(e.host, sizeof(e.host), v6 ? "[%s]" : "%s", u.host);
	snprintf(e.url, sizeof(e.url), "%s://%s%s", u.https ? "https" : "http",
	    e.host, u.path);
	snprintf(e.path, sizeof(e.path), "%s", u.path);
	*ret = e;
	return 0;
}
