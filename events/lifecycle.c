/*
 * Validators for the lifecycle fields other layers reuse.  The limits come
 * from the Auto Scaling API model (botocore autoscaling 2011-01-01) and the
 * EC2 id format; see lifecycle.h for the choices made where AWS is vague.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "events/lifecycle.h"

static bool
is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool
is_hex(char c)
{
	return is_lower_hex(c) || (c >= 'A' && c <= 'F');
}

static bool
is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

bool
lifecycle_valid_instance_id(const char *s)
{
	size_t i, n;

	if (s == NULL || s[0] != 'i' || s[1] != '-')
		return false;
	for (i = 2; s[i] != '\0'; i++)
		if (!is_lower_hex(s[i]))
			return false;
	n = i - 2;
	return n == 8 || n == 17;
}

bool
lifecycle_valid_token(const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < LIFECYCLE_TOKEN_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (s[i] == '\0')
			return false;
		if (dash ? s[i] != '-' : !is_hex(s[i]))
			return false;
	}
	return s[i] == '\0';
}

/*
 * Length of the well-formed UTF-8 sequence at s with its code point, or 0
 * if it is not one (overlong forms, surrogates and values past U+10FFFF
 * included).
 */
static size_t
utf8_next(const unsigned char *s, unsigned long *ret_cp)
{
	unsigned long cp, min;
	size_t n, i;

	if (s[0] < 0x80) {
		*ret_cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return n;
}

bool
lifecycle_valid_group(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len;

	if (s == NULL || (len = strlen(s)) == 0 || len > LIFECYCLE_GROUP_MAX)
		return false;
	while (*p != '\0') {
		unsigned long cp;
		size_t n = utf8_next(p, &cp);

		if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return false;
		p += n;
	}
	return true;
}

bool
lifecycle_valid_hook(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= LIFECYCLE_HOOK_MAX)
			return false;
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' &&
		    s[i] != '/')
			return false;
	}
	return true;
}

bool
lifecycle_valid_metadata(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= LIFECYCLE_METADATA_MAX)
			return false;
		if (c != '\t' && c != '\n' && c != '\r' &&
		    (c < 0x20 || c > 0x7e))
			return false;
	}
	return true;
}

bool
lifecycle_valid_request_id(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= LIFECYCLE_REQUEST_ID_MAX)
			return false;
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' &&
		    s[i] != '.' && s[i] != ':')
			return false;
	}
	return true;
}

const char *
lifecycle_transition_name(enum lifecycle_transition t)
{
	switch (t) {
	case LIFECYCLE_LAUNCHING:
		return "launching";
	case LIFECYCLE_TERMINATING:
		return "terminating";
	}
	return "unknown";
}

const char *
lifecycle_transition_aws(enum lifecycle_transition t)
{
	switch (t) {
	case LIFECYCLE_LAUNCHING:
		return "autoscaling:EC2_INSTANCE_LAUNCHING";
	case LIFECYCLE_TERMINATING:
		return "autoscaling:EC2_INSTANCE_TERMINATING";
	}
	return "unknown";
}

const char *
lifecycle_envelope_name(enum lifecycle_envelope e)
{
	switch (e) {
	case ENVELOPE_DIRECT:
		return "direct";
	case ENVELOPE_SNS:
		return "sns";
	case ENVELOPE_EVENTBRIDGE:
		return "eventbridge";
	}
	return "unknown";
}
