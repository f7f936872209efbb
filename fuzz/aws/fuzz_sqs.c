/* The SQS JSON answers: ReceiveMessage and GetQueueAttributes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sqs.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct sqs_receive_result r;
	struct sqs_attributes_result a;
	size_t i;

	if (sqs_parse_receive(s, size, &r) == 0) {
		for (i = 0; i < r.n; i++) {
			fuzz_check_printable(r.msgs[i].message_id, false);
			fuzz_check_printable(r.msgs[i].receipt_handle, false);
			if (r.msgs[i].message_id == NULL ||
			    r.msgs[i].receipt_handle == NULL ||
			    r.msgs[i].body == NULL ||
			    r.msgs[i].body[r.msgs[i].body_len] != '\0')
				abort();
		}
		sqs_receive_result_finish(&r);
	}
	if (sqs_parse_attributes(s, size, &a) == 0) {
		fuzz_check_printable(a.attrs.queue_arn, false);
		fuzz_check_printable(a.attrs.dead_letter_arn, false);
		sqs_attributes_result_finish(&a);
	}
	return 0;
}
