/*
 * SigV4 canonicalization of paths, queries and header values.  Input:
 * "<path>\n<query>\n<header value>".  The canonical URI and query may
 * hold only unreserved characters, '%XX', and '/', '=', '&'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"
#include "handler/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_encoded(const char *s, const char *end)
{
	for (; s < end; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("-_.~/%=&", c) != NULL)
			continue;
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *path, *query, *value, *nl;
	struct sigv4_header h[2];
	struct sigv4_request req;
	struct buf canon, signed_headers;
	int normalize;

	if (text == NULL || size == 0) {
		free(text);
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	normalize = text[0] & 1;
	path = text + 1;
	query = value = "";
	if ((nl = strchr(path, '\n')) != NULL) {
		*nl = '\0';
		query = nl + 1;
		if ((nl = strchr(query, '\n')) != NULL) {
			*nl = '\0';
			value = nl + 1;
		}
	}
	h[0] = (struct sigv4_header){ "host", "example.amazonaws.com" };
	h[1] = (struct sigv4_header){ "x-v", value };
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.path = path;
	req.query = query;
	req.headers = h;
	req.nheaders = 2;
	req.normalize_path = normalize;
	buf_init(&canon);
	buf_init(&signed_headers);
	if (sigv4_canonical_request(&req, &canon, &signed_headers) == 0) {
		char *uri = strchr(canon.data, '\n') + 1;
		char *uri_end = strchr(uri, '\n');
		char *q_end = strchr(uri_end + 1, '\n');

		if (uri[0] != '/')
			abort();
		check_encoded(uri, uri_end);
		check_encoded(uri_end + 1, q_end);
		*uri_end = '\0';	/* the checks below: the URI only */
		if (normalize && (strstr(uri, "//") != NULL ||
		    strstr(uri, "/./") != NULL || strstr(uri, "/../") != NULL))
			abort();
	}
	buf_finish(&canon);
	buf_finish(&signed_headers);
	free(text);
	return 0;
}
