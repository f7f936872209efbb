/*
 * Where each service is reached, and URL checks (pure).  Regional
 * endpoints by default (amazonaws.com.cn for cn-*); [aws] endpoint_url
 * overrides all of them, and the signing region and service stay the same
 * (moto routes on them).
 */
#ifndef JL_ENDPOINT_H
#define JL_ENDPOINT_H

#include <stdbool.h>

enum endpoint_service {
	ENDPOINT_SQS,
	ENDPOINT_AUTOSCALING,
	ENDPOINT_EC2,
	ENDPOINT_COUNT,
};

#define ENDPOINT_HOST_MAX	256
#define ENDPOINT_PATH_MAX	1024

struct endpoint {
	char	url[ENDPOINT_HOST_MAX + ENDPOINT_PATH_MAX + 32];
	char	host[ENDPOINT_HOST_MAX + 8];	/* Host header: name[:port] */
	char	path[ENDPOINT_PATH_MAX];	/* what the URL's path is */
	char	service[16];			/* signing name */
	char	region[32];
};

struct endpoint_url {
	bool		https;
	char		host[ENDPOINT_HOST_MAX];	/* without brackets */
	unsigned	port;				/* 0: the default */
	char		path[ENDPOINT_PATH_MAX];	/* "/" at least */
};

/* "eu-west-1": lower-case letters, digits and '-', 1..31 chars. */
bool endpoint_region_ok(const char *region);
/* The signing name: "sqs", "autoscaling", "ec2". */
const char *endpoint_service_name(enum endpoint_service svc);
/* -EINVAL for a bad region or override. */
int endpoint_resolve(const char *region, const char *override_url,
    enum endpoint_service svc, struct endpoint *ret);
/*
 * Parse an http(s) URL without userinfo or fragment; the query is
 * refused too.  Hosts: DNS names, IPv4, [IPv6].  Path: printable ASCII
 * without spaces.  -EINVAL otherwise.
 */
int endpoint_parse_url(const char *url, struct endpoint_url *ret);
/* True for 127.0.0.0/8, ::1 and "localhost". */
bool endpoint_host_is_loopback(const char *host);

#endif
