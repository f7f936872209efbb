/*
 * The colibri REST answers: whatever a bridge (or something on its port)
 * sends back goes through bridge_result_from_response.  The first byte
 * picks the operation and the status; the rest is the body.  Invariants:
 * the outcome is known, the diagnosis is non-empty printable ASCII, and
 * stats only come with an OK answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drain/bridge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 404, 500, 503, 301, 400, 415,
	    405 };
	struct bridge_result res;
	enum bridge_op op;
	long status;
	char *body;
	size_t i;

	if (size < 1)
		return 0;
	op = (enum bridge_op)(data[0] % (BRIDGE_OP_DEBUG + 1));
	status = statuses[(data[0] >> 4) % 8];
	body = malloc(size);
	if (body == NULL)
		return 0;
	memcpy(body, data + 1, size - 1);
	body[size - 1] = '\0';
	memset(&res, 0xa5, sizeof(res));
	bridge_result_from_response(&res, op, "10.0.3.17", 8080, 0, status,
	    body, size - 1);
	if (res.outcome > BRIDGE_UNREACHABLE || res.op != op)
		abort();
	if (res.diagnosis[0] == '\0')
		abort();
	for (i = 0; res.diagnosis[i] != '\0'; i++)
		if ((unsigned char)res.diagnosis[i] < 0x20 ||
		    (unsigned char)res.diagnosis[i] >= 0x7f)
			abort();
	if (res.outcome == BRIDGE_OK && op == BRIDGE_OP_STATS &&
	    res.stats.local_endpoints < -1)
		abort();
	free(body);
	return 0;
}
