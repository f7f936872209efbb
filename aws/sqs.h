/*
 * SQS over the AWS JSON 1.0 protocol (aws-wire.md section 2).
 */
#ifndef JL_SQS_H
#define JL_SQS_H

#include <stddef.h>
#include <stdint.h>

#include "aws/aws.h"

#define SQS_MAX_MESSAGES	10
#define SQS_MAX_WAIT_S		20
#define SQS_MAX_VISIBILITY_S	43200
#define SQS_RECEIPT_MAX		8192
#define SQS_QUEUE_URL_MAX	1024

struct sqs_message {
	const char	*message_id;	/* printable ASCII */
	const char	*receipt_handle; /* printable ASCII, no spaces */
	const char	*body;		/* as sent: any bytes, NUL-terminated */
	size_t		 body_len;
	unsigned	 receive_count;	/* ApproximateReceiveCount; 0: absent */
	int64_t		 sent_timestamp_ms; /* SentTimestamp; 0: absent */
};

typedef void (*sqs_receive_cb)(const struct aws_error *err,
    const struct sqs_message *msgs, size_t n, void *arg);

/*
 * Long poll: max_messages 1..10, wait_s 0..20, visibility_s -1 (queue
 * default) or 0..43200.  Messages that are malformed (no id or handle)
 * are skipped and logged.
 */
struct aws_call *sqs_receive(struct aws *a, const char *queue_url,
    unsigned max_messages, unsigned wait_s, int visibility_s,
    sqs_receive_cb cb, void *arg);
struct aws_call *sqs_delete(struct aws *a, const char *queue_url,
    const char *receipt, aws_done_cb cb, void *arg);
/* timeout_s 0..43200 from now (SQS caps the total at 12 h). */
struct aws_call *sqs_change_visibility(struct aws *a, const char *queue_url,
    const char *receipt, unsigned timeout_s, aws_done_cb cb, void *arg);

struct sqs_queue_attributes {
	int64_t		 visibility_timeout_s;	/* -1: absent, as below */
	int64_t		 receive_wait_s;
	int64_t		 message_retention_s;
	int64_t		 approx_messages;
	int64_t		 approx_not_visible;
	int64_t		 approx_delayed;
	int64_t		 max_receive_count;	/* RedrivePolicy */
	const char	*queue_arn;		/* NULL: absent */
	const char	*dead_letter_arn;	/* RedrivePolicy; NULL: none */
};

typedef void (*sqs_attributes_cb)(const struct aws_error *err,
    const struct sqs_queue_attributes *attrs, void *arg);

/* All attributes; the ones above are decoded. */
struct aws_call *sqs_get_queue_attributes(struct aws *a,
    const char *queue_url, sqs_attributes_cb cb, void *arg);

/* The parsers, pure (tests, fuzzing). */
struct sqs_receive_result {
	struct sqs_message	*msgs;		/* owned, with their strings */
	size_t			 n;
	size_t			 skipped;	/* malformed messages */
};

/* -EPROTO if the answer is not the ReceiveMessage shape. */
int sqs_parse_receive(const char *body, size_t len,
    struct sqs_receive_result *ret);
void sqs_receive_result_finish(struct sqs_receive_result *res);

struct sqs_attributes_result {
	struct sqs_queue_attributes attrs;	/* strings owned below */
	char	*queue_arn;			/* owned */
	char	*dead_letter_arn;		/* owned */
};

int sqs_parse_attributes(const char *body, size_t len,
    struct sqs_attributes_result *ret);
void sqs_attributes_result_finish(struct sqs_attributes_result *res);

/* Argument checks, exposed for tests. */
int sqs_check_queue_url(const char *url);
int sqs_check_receipt(const char *receipt);

#endif
