/*
 * Fuzz target for envelope_parse: any bytes must give a classification
 * whose promises hold (a LIFECYCLE result passes every validator, a REJECT
 * has a printable reason, ...), the same twice, without a crash or leak.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "events/envelope.h"
#include "events/lifecycle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond) do { if (!(cond)) abort(); } while (0)

static bool
printable(const char *s, size_t max)
{
	size_t i;

	for (i = 0; i < max && s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return i < max;		/* NUL-terminated inside its array */
}

static bool
place_ok(const char *s)
{
	return s[0] == '\0' || strcmp(s, "EC2") == 0 ||
	    strcmp(s, "AutoScalingGroup") == 0 || strcmp(s, "WarmPool") == 0;
}

static void
check_result(const struct envelope_result *r, size_t size)
{
	const struct lifecycle_event *ev = &r->event;
	static const struct lifecycle_event zero;

	check(r->group[0] == '\0' || lifecycle_valid_group(r->group));
	check(r->request_id[0] == '\0' ||
	    lifecycle_valid_request_id(r->request_id));
	check(r->time_ms >= 0);
	if (size > ENVELOPE_MAX_BODY || size == 0)
		check(r->kind == ENVELOPE_KIND_REJECT);
	if (r->kind != ENVELOPE_KIND_REJECT)
		check(r->reason[0] == '\0');
	if (r->kind != ENVELOPE_KIND_LIFECYCLE)
		check(memcmp(ev, &zero, sizeof(zero)) == 0);
	switch (r->kind) {
	case ENVELOPE_KIND_LIFECYCLE:
		check(ev->transition == LIFECYCLE_LAUNCHING ||
		    ev->transition == LIFECYCLE_TERMINATING);
		check(ev->envelope == ENVELOPE_DIRECT ||
		    ev->envelope == ENVELOPE_SNS ||
		    ev->envelope == ENVELOPE_EVENTBRIDGE);
		check(lifecycle_valid_group(ev->group));
		check(lifecycle_valid_hook(ev->hook));
		check(lifecycle_valid_instance_id(ev->instance_id));
		check(lifecycle_valid_token(ev->token));
		check(place_ok(ev->origin) && place_ok(ev->destination));
		check(ev->warm_pool == (strcmp(ev->origin, "WarmPool") == 0 ||
		    strcmp(ev->destination, "WarmPool") == 0));
		check(ev->notification_metadata[0] == '\0' ||
		    lifecycle_valid_metadata(ev->notification_metadata));
		check(strcmp(r->group, ev->group) == 0);
		check(strcmp(r->instance_id, ev->instance_id) == 0);
		check(strcmp(r->request_id, ev->request_id) == 0);
		check(r->time_ms == ev->time_ms);
		break;
	case ENVELOPE_KIND_TEST:
		check(r->instance_id[0] == '\0');
		break;
	case ENVELOPE_KIND_SPOT_WARNING:
		check(lifecycle_valid_instance_id(r->instance_id));
		check(strcmp(r->instance_action, "terminate") == 0 ||
		    strcmp(r->instance_action, "stop") == 0 ||
		    strcmp(r->instance_action, "hibernate") == 0);
		check(r->group[0] == '\0');
		break;
	case ENVELOPE_KIND_REBALANCE:
		check(lifecycle_valid_instance_id(r->instance_id));
		check(r->group[0] == '\0');
		break;
	case ENVELOPE_KIND_STATE_CHANGE:
		check(lifecycle_valid_instance_id(r->instance_id));
		check(r->state[0] != '\0' &&
		    printable(r->state, sizeof(r->state)));
		check(r->group[0] == '\0');
		break;
	case ENVELOPE_KIND_REJECT:
		check(r->reason[0] != '\0');
		check(printable(r->reason, sizeof(r->reason)));
		check(r->instance_id[0] == '\0' && r->request_id[0] == '\0' &&
		    r->time_ms == 0);
		break;
	default:
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envelope_result *a, *b;
	char *copy;

	/* An exact-size heap copy, so reading past len is caught. */
	copy = malloc(size > 0 ? size : 1);
	check(copy != NULL);
	if (size > 0)
		memcpy(copy, data, size);
	a = malloc(sizeof(*a));
	b = malloc(sizeof(*b));
	check(a != NULL && b != NULL);
	memset(a, 0xa5, sizeof(*a));
	memset(b, 0x5a, sizeof(*b));
	check(envelope_parse(copy, size, a) == 0);
	check_result(a, size);
	check(envelope_parse(copy, size, b) == 0);
	check(memcmp(a, b, sizeof(*a)) == 0);
	free(a);
	free(b);
	free(copy);
	return 0;
}
