/*
 * One error type for the three wire protocols (pure).  JSON 1.0 (SQS:
 * "__type", "message", header x-amzn-query-error), Query XML (Auto
 * Scaling: <ErrorResponse><Error>, EC2: <Response><Errors><Error>), plain
 * HTTP failures and transport errors all become a struct aws_error with a
 * class the caller can act on.
 */
#ifndef JL_AWS_ERROR_H
#define JL_AWS_ERROR_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/aws.h"

/*
 * A non-2xx answer.  query_error is the x-amzn-query-error header value
 * (or NULL); the body may be JSON, XML or anything else.
 */
void error_from_response(long status, const char *query_error,
    const char *body, size_t len, struct aws_error *err);
/* No HTTP answer: sys_errno is the negative errno from handler/http.h. */
void error_from_transport(int sys_errno, const char *text,
    struct aws_error *err);
/* Any other error: code (may be NULL) and a message (sanitized). */
void error_set(struct aws_error *err, enum aws_error_kind kind,
    enum aws_error_class cls, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The class of an AWS error code (and message, for ValidationError). */
enum aws_error_class error_classify(const char *code, const char *message,
    long status);
/* Throttled or transient: worth another attempt. */
bool error_retryable(const struct aws_error *err);
/* Credentials that a refresh may fix. */
bool error_expired_creds(const struct aws_error *err);
const char *error_class_name(enum aws_error_class cls);
const char *error_kind_name(enum aws_error_kind kind);
/* One line for a log: never holds anything but code, status, message. */
void error_format(const struct aws_error *err, char *out, size_t outlen);
/* Copy src into dst as printable ASCII, whitespace runs collapsed. */
void error_sanitize(char *dst, size_t dstlen, const char *src, size_t len);

#endif
