#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "aws/creds.h"
#include "aws/endpoint.h"
#include "aws/error.h"
#include "aws/request.h"
#include "handler/log.h"
#include "handler/xmalloc.h"

struct aws *
aws_new(struct event_base *base, struct http *http,
    const struct aws_config *cfg)
{
	struct aws *a;
	int i;

	if (cfg == NULL || !endpoint_region_ok(cfg->region))
		return NULL;
	a = xcalloc(1, sizeof(*a));
	for (i = 0; i < ENDPOINT_COUNT; i++)
		if (endpoint_resolve(cfg->region, cfg->endpoint_url, i,
		    &a->endpoints[i]) < 0) {
			free(a);
			return NULL;
		}
	a->base = base;
	a->http = http;
	a->region = xstrdup(cfg->region);
	a->max_attempts = cfg->max_attempts != 0 ? cfg->max_attempts :
	    AWS_DEFAULT_MAX_ATTEMPTS;
	a->budget_ms = cfg->budget_ms != 0 ? cfg->budget_ms :
	    AWS_DEFAULT_BUDGET_MS;
	a->chain = creds_chain_new(base, http, cfg->refresh_margin_ms != 0 ?
	    cfg->refresh_margin_ms : AWS_DEFAULT_REFRESH_MARGIN_MS);
	TAILQ_INIT(&a->calls);
	return a;
}

void
aws_free(struct aws *a)
{
	if (a == NULL)
		return;
	request_cancel_all(a);
	creds_chain_free(a->chain);
	free(a->region);
	free(a);
}

void
aws_creds_start(struct aws *a)
{
	creds_chain_start(a->chain);
}

void
aws_set_observer(struct aws *a, aws_observer_cb fn, void *arg)
{
	a->observer = fn;
	a->observer_arg = arg;
}

bool
aws_creds_ok(const struct aws *a)
{
	return creds_chain_get(a->chain, NULL) != NULL;
}

int64_t
aws_creds_failing_since(const struct aws *a)
{
	return creds_chain_failing_since(a->chain);
}

const char *
aws_creds_source(const struct aws *a)
{
	enum creds_source src = creds_chain_source(a->chain);

	return src == CREDS_SOURCE_NONE ? NULL : creds_source_name(src);
}

const char *
aws_region(const struct aws *a)
{
	return a->region;
}

const char *
aws_error_str(const struct aws_error *err, char *out, size_t outlen)
{
	error_format(err, out, outlen);
	return out;
}

const char *
aws_error_class_name(enum aws_error_class cls)
{
	return error_class_name(cls);
}
