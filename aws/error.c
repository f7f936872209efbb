/*
 * Error shapes and classes.  The code tables follow botocore's standard
 * retry mode (aws-wire.md section 7); the classes the daemon acts on are
 * documented in aws.h.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aws/error.h"
#include "aws/xml.h"

static const char *const error_throttle_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException",
	"RequestThrottledException", "TooManyRequestsException",
	"ProvisionedThroughputExceededException",
	"TransactionInProgressException", "RequestLimitExceeded",
	"BandwidthLimitExceeded", "LimitExceededException",
	"RequestThrottled", "SlowDown", "EC2ThrottledException",
	NULL,
};

static const char *const error_transient_codes[] = {
	"RequestTimeout", "RequestTimeoutException",
	"PriorRequestNotComplete", "InternalError", "InternalFailure",
	"ServiceUnavailable", "Unavailable", "ResourceContention",
	NULL,
};

static const char *const error_expired_codes[] = {
	"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
	"UnrecognizedClientException",
	NULL,
};

static const char *const error_signature_codes[] = {
	"SignatureDoesNotMatch", "IncompleteSignature",
	"InvalidSignatureException", "AuthFailure",
	"MissingAuthenticationToken", "MissingAuthenticationTokenException",
	"RequestExpired", "InvalidSecurity",
	NULL,
};

static const char *const error_denied_codes[] = {
	"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
	"AuthorizationError",
	NULL,
};

static const char *const error_receipt_codes[] = {
	/* both mean: this handle no longer holds the message */
	"ReceiptHandleIsInvalid", "MessageNotInflight",
	NULL,
};

static bool
error_in(const char *code, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(code, *list) == 0)
			return true;
	return false;
}

static enum aws_error_class
error_classify_code(const char *code, const char *message)
{
	if (code == NULL || *code == '\0')
		return AWS_CLASS_OTHER;
	if (error_in(code, error_throttle_codes))
		return AWS_CLASS_THROTTLED;
	if (error_in(code, error_transient_codes))
		return AWS_CLASS_TRANSIENT;
	if (error_in(code, error_expired_codes))
		return AWS_CLASS_EXPIRED_CREDS;
	if (error_in(code, error_signature_codes))
		return AWS_CLASS_SIGNATURE;
	if (error_in(code, error_denied_codes))
		return AWS_CLASS_ACCESS_DENIED;
	if (error_in(code, error_receipt_codes))
		return AWS_CLASS_RECEIPT_INVALID;
	if (strncmp(code, "InvalidInstanceID", 17) == 0)
		return AWS_CLASS_UNKNOWN_INSTANCE;
	if (strcmp(code, "ValidationError") == 0 && message != NULL &&
	    strcasestr(message, "No active Lifecycle Action") != NULL)
		return AWS_CLASS_NO_ACTIVE_ACTION;
	/* SQS legacy query codes: AWS.SimpleQueueService.<Name> */
	if (strncmp(code, "AWS.SimpleQueueService.", 23) == 0)
		return error_classify_code(code + 23, message);
	return AWS_CLASS_OTHER;
}

enum aws_error_class
error_classify(const char *code, const char *message, long status)
{
	enum aws_error_class cls = error_classify_code(code, message);

	if (cls != AWS_CLASS_OTHER)
		return cls;
	if (status == 429 || status == 509)
		return AWS_CLASS_THROTTLED;
	if (status >= 500 && status <= 599)
		return AWS_CLASS_TRANSIENT;
	return AWS_CLASS_OTHER;
}

void
error_sanitize(char *dst, size_t dstlen, const char *src, size_t len)
{
	size_t i, o = 0;
	bool space = false;

	if (dstlen == 0)
		return;
	for (i = 0; i < len && o + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < dstlen)
			dst[o++] = ' ';
		space = false;
		dst[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[o] = '\0';
}

/* Codes are identifiers: keep [A-Za-z0-9._-], stop at anything else. */
static void
error_set_code(struct aws_error *err, const char *code, size_t len)
{
	size_t i;

	for (i = 0; i < len && i + 1 < sizeof(err->code); i++) {
		char c = code[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-'))
			break;
		err->code[i] = c;
	}
	err->code[i] = '\0';
}

static void
error_clear(struct aws_error *err)
{
	memset(err, 0, sizeof(*err));
}

void
error_set(struct aws_error *err, enum aws_error_kind kind,
    enum aws_error_class cls, const char *code, const char *fmt, ...)
{
	char raw[512];
	va_list ap;

	error_clear(err);
	err->kind = kind;
	err->cls = cls;
	if (code != NULL)
		error_set_code(err, code, strlen(code));
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	error_sanitize(err->message, sizeof(err->message), raw, strlen(raw));
}

void
error_from_transport(int sys_errno, const char *text, struct aws_error *err)
{
	error_clear(err);
	err->kind = AWS_ERR_TRANSPORT;
	err->cls = AWS_CLASS_TRANSIENT;
	err->sys_errno = sys_errno < 0 ? sys_errno : -EIO;
	if (text == NULL || *text == '\0')
		text = strerror(-err->sys_errno);
	error_sanitize(err->message, sizeof(err->message), text, strlen(text));
}

/* botocore: cut at the first ':', keep what follows the last '#'. */
static void
error_json_code(struct aws_error *err, const char *type)
{
	const char *hash, *colon;
	size_t len;

	if ((colon = strchr(type, ':')) == NULL)
		colon = type + strlen(type);
	len = (size_t)(colon - type);
	for (hash = colon; hash > type && hash[-1] != '#'; hash--)
		;
	error_set_code(err, hash, len - (size_t)(hash - type));
}

static bool
error_parse_json(const char *body, size_t len, struct aws_error *err)
{
	json_t *root, *v;
	const char *s;
	bool found = false;

	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (root == NULL)
		return false;
	if (!json_is_object(root)) {
		json_decref(root);
		return false;
	}
	if (((v = json_object_get(root, "__type")) != NULL ||
	    (v = json_object_get(root, "code")) != NULL ||
	    (v = json_object_get(root, "Code")) != NULL) &&
	    (s = json_string_value(v)) != NULL) {
		error_json_code(err, s);
		found = err->code[0] != '\0';
	}
	if (((v = json_object_get(root, "message")) != NULL ||
	    (v = json_object_get(root, "Message")) != NULL) &&
	    json_is_string(v)) {
		error_sanitize(err->message, sizeof(err->message),
		    json_string_value(v), json_string_length(v));
		found = true;
	}
	json_decref(root);
	return found;
}

static bool
error_parse_xml(const char *body, size_t len, struct aws_error *err)
{
	struct xml_node *root;
	const struct xml_node *e;
	const char *code, *msg;
	bool found = false;

	if (xml_parse(body, len, &root) != 0)
		return false;
	/* <ErrorResponse><Error>, <ErrorResponse><Errors><Error>, EC2's
	 * <Response><Errors><Error>: the first Error that has a Code */
	for (e = xml_find(root, "Error"); e != NULL; e = xml_next(e))
		if (xml_child(e, "Code") != NULL)
			break;
	if (e != NULL) {
		code = xml_path_text(e, "Code");
		error_set_code(err, code, strlen(code));
		if ((msg = xml_path_text(e, "Message")) != NULL)
			error_sanitize(err->message, sizeof(err->message),
			    msg, strlen(msg));
		found = err->code[0] != '\0';
	}
	xml_free(root);
	return found;
}

static const char *
error_skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
	    *p == '\n'))
		p++;
	return p;
}

void
error_from_response(long status, const char *query_error, const char *body,
    size_t len, struct aws_error *err)
{
	struct aws_error legacy;
	const char *p, *end;
	bool parsed = false;

	error_clear(err);
	err->status = status;
	if (body == NULL) {
		body = "";
		len = 0;
	}
	p = error_skip_space(body, body + len);
	end = body + len;
	if (p < end && *p == '{')
		parsed = error_parse_json(p, (size_t)(end - p), err);
	else if (p < end && *p == '<')
		parsed = error_parse_xml(p, (size_t)(end - p), err);
	/* x-amzn-query-error: "<LegacyCode>;<Sender|Receiver>" */
	error_clear(&legacy);
	if (query_error != NULL)
		error_set_code(&legacy, query_error, strcspn(query_error,
		    ";"));
	if (err->code[0] == '\0' && legacy.code[0] != '\0') {
		memcpy(err->code, legacy.code, sizeof(err->code));
		parsed = true;
	}
	if (parsed && err->code[0] != '\0') {
		err->kind = AWS_ERR_SERVICE;
		err->cls = error_classify(err->code, err->message, status);
		if (err->cls == AWS_CLASS_OTHER && legacy.code[0] != '\0')
			err->cls = error_classify(legacy.code, err->message,
			    status);
		return;
	}
	err->kind = AWS_ERR_HTTP;
	err->cls = error_classify(NULL, NULL, status);
	if (err->message[0] == '\0')
		snprintf(err->message, sizeof(err->message), "HTTP %ld", status);
}

bool
error_retryable(const struct aws_error *err)
{
	return err != NULL && (err->cls == AWS_CLASS_THROTTLED ||
	    err->cls == AWS_CLASS_TRANSIENT);
}

bool
error_expired_creds(const struct aws_error *err)
{
	return err != NULL && err->cls == AWS_CLASS_EXPIRED_CREDS;
}

const char *
error_class_name(enum aws_error_class cls)
{
	switch (cls) {
	case AWS_CLASS_OK:
		return "ok";
	case AWS_CLASS_NO_ACTIVE_ACTION:
		return "no-active-action";
	case AWS_CLASS_RECEIPT_INVALID:
		return "receipt-invalid";
	case AWS_CLASS_UNKNOWN_INSTANCE:
		return "unknown-instance";
	case AWS_CLASS_ACCESS_DENIED:
		return "access-denied";
	case AWS_CLASS_THROTTLED:
		return "throttled";
	case AWS_CLASS_TRANSIENT:
		return "transient";
	case AWS_CLASS_EXPIRED_CREDS:
		return "expired-credentials";
	case AWS_CLASS_SIGNATURE:
		return "signature";
	case AWS_CLASS_OTHER:
		break;
	}
	return "other";
}

const char *
error_kind_name(enum aws_error_kind kind)
{
	switch (kind) {
	case AWS_ERR_NONE:
		return "none";
	case AWS_ERR_TRANSPORT:
		return "transport";
	case AWS_ERR_HTTP:
		return "http";
	case AWS_ERR_SERVICE:
		return "service";
	case AWS_ERR_CREDENTIALS:
		return "credentials";
	case AWS_ERR_PARSE:
		return "parse";
	case AWS_ERR_INVALID:
		return "invalid";
	}
	return "unknown";
}

void
error_format(const struct aws_error *err, char *out, size_t outlen)
{
	char status[32] = "";
	const char *what;

	if (err == NULL) {
		snprintf(out, outlen, "ok");
		return;
	}
	if (err->status != 0)
		snprintf(status, sizeof(status), " (HTTP %ld)", err->status);
	what = err->code[0] != '\0' ? err->code : error_kind_name(err->kind);
	snprintf(out, outlen, "%s%s: %s [%s, %u attempt%s]", what, status,
	    err->message[0] != '\0' ? err->message : "-",
	    error_class_name(err->cls), err->attempts,
	    err->attempts == 1 ? "" : "s");
}
