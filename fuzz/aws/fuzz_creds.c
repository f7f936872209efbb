/*
 * Credentials from the network (container endpoint, IMDS JSON) and from
 * the shared files (both file styles).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/creds.h"
#include "aws/creds_file.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct creds_file_profile p;
	struct creds *c;

	if (creds_parse_json(s, size, &c) == 0) {
		fuzz_check_printable(c->access_key_id, false);
		fuzz_check_printable(c->secret_access_key, false);
		fuzz_check_printable(c->session_token, false);
		creds_free(c);
	}
	creds_file_profile_init(&p);
	creds_file_parse(s, size, false, "default", &p);
	creds_file_parse(s, size, true, "default", &p);
	creds_file_parse(s, size, true, "jvb", &p);
	fuzz_check_printable(p.unsupported, false);
	creds_file_profile_finish(&p);
	return 0;
}
