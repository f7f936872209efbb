/*
 * The error parser, all shapes.  Input: "<status>[ <x-amzn-query-error>]\n"
 * then the body (JSON, XML or anything).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/error.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	char head[64] = "", *qe = NULL, line[512];
	struct aws_error err;
	const char *body = (const char *)data;
	size_t len = size, hl;
	long status = 400;

	if (nl != NULL && (size_t)(nl - body) < sizeof(head)) {
		hl = (size_t)(nl - body);
		memcpy(head, body, hl);
		head[hl] = '\0';
		status = strtol(head, &qe, 10);
		qe = qe != NULL && *qe == ' ' ? qe + 1 : NULL;
		body = nl + 1;
		len = size - hl - 1;
	}
	error_from_response(status, qe, body, len, &err);
	if (err.kind != AWS_ERR_SERVICE && err.kind != AWS_ERR_HTTP)
		abort();
	if (err.cls < AWS_CLASS_OK || err.cls > AWS_CLASS_OTHER ||
	    err.cls == AWS_CLASS_OK)
		abort();
	if (memchr(err.code, '\0', sizeof(err.code)) == NULL ||
	    memchr(err.message, '\0', sizeof(err.message)) == NULL)
		abort();
	fuzz_check_printable(err.code, false);
	fuzz_check_printable(err.message, true);
	if (err.kind == AWS_ERR_SERVICE && err.code[0] == '\0')
		abort();
	error_format(&err, line, sizeof(line));
	fuzz_check_printable(line, true);
	return 0;
}
