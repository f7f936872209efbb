/*
 * Shared files, read the way botocore's configparser reads them: "#" and
 * ";" start comment lines (no inline comments), keys are case-blind,
 * indented lines belong to nested sub-sections we ignore.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "aws/creds_file.h"
#include "handler/secret.h"
#include "handler/xmalloc.h"

void
creds_file_profile_init(struct creds_file_profile *p)
{
	memset(p, 0, sizeof(*p));
}

void
creds_file_profile_finish(struct creds_file_profile *p)
{
	free(p->access_key_id);
	secret_free(p->secret_access_key);
	secret_free(p->session_token);
	free(p->region);
	creds_file_profile_init(p);
}

static bool
creds_file_space(char c)
{
	return c == ' ' || c == '\t';
}

/* [s, e) trimmed of blanks */
static void
creds_file_trim(const char **s, const char **e)
{
	while (*s < *e && creds_file_space(**s))
		(*s)++;
	while (*e > *s && (creds_file_space((*e)[-1]) || (*e)[-1] == '\r'))
		(*e)--;
}

static bool
creds_file_eq(const char *s, const char *e, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(e - s) == n && strncmp(s, word, n) == 0;
}

/* Does "[...]" (inside s..e) name our profile? */
static bool
creds_file_section_match(const char *s, const char *e, bool config_style,
    const char *profile)
{
	creds_file_trim(&s, &e);
	if (!config_style)
		return creds_file_eq(s, e, profile);
	if (creds_file_eq(s, e, "default"))
		return strcmp(profile, "default") == 0;
	if ((size_t)(e - s) > 8 && strncmp(s, "profile", 7) == 0 &&
	    creds_file_space(s[7])) {
		s += 8;
		creds_file_trim(&s, &e);
		return creds_file_eq(s, e, profile);
	}
	return false;
}

static void
creds_file_set(char **field, const char *s, const char *e, bool secret)
{
	if (secret)
		secret_free(*field);
	else
		free(*field);
	*field = xstrndup(s, (size_t)(e - s));
}

void
creds_file_parse(const char *text, size_t len, bool config_style,
    const char *profile, struct creds_file_profile *p)
{
	static const char *const unsupported[] = {
		"role_arn", "credential_process", "sso_session",
		"sso_start_url", "web_identity_token_file", "login_session",
		NULL,
	};
	const char *line = text, *end = text + len, *nl, *s, *e, *eq;
	bool in = false;
	size_t i;

	for (; line < end; line = nl < end ? nl + 1 : end) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		s = line;
		e = nl;
		if (s < e && creds_file_space(*s))
			continue;	/* nested sub-section value */
		creds_file_trim(&s, &e);
		if (s == e || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			const char *close = memchr(s, ']', (size_t)(e - s));

			in = close != NULL && creds_file_section_match(s + 1,
			    close, config_style, profile);
			if (in)
				p->found = true;
			continue;
		}
		if (!in)
			continue;
		if ((eq = memchr(s, '=', (size_t)(e - s))) == NULL)
			continue;
		{
			const char *ks = s, *ke = eq, *vs = eq + 1, *ve = e;

			creds_file_trim(&ks, &ke);
			creds_file_trim(&vs, &ve);
			if (ke - ks == 17 && strncasecmp(ks,
			    "aws_access_key_id", 17) == 0)
				creds_file_set(&p->access_key_id, vs, ve, false);
			else if (ke - ks == 21 && strncasecmp(ks,
			    "aws_secret_access_key", 21) == 0)
				creds_file_set(&p->secret_access_key, vs, ve,
				    true);
			else if ((ke - ks == 17 && strncasecmp(ks,
			    "aws_session_token", 17) == 0) ||
			    (ke - ks == 18 && strncasecmp(ks,
			    "aws_security_token", 18) == 0))
				creds_file_set(&p->session_token, vs, ve, true);
			else if (ke - ks == 6 && strncasecmp(ks, "region",
			    6) == 0)
				creds_file_set(&p->region, vs, ve, false);
			else
				for (i = 0; unsupported[i] != NULL; i++)
					if ((size_t)(ke - ks) ==
					    strlen(unsupported[i]) &&
					    strncasecmp(ks, unsupported[i],
					    (size_t)(ke - ks)) == 0)
						snprintf(p->unsupported,
						    sizeof(p->unsupported), "%s",
						    unsupported[i]);
		}
	}
}

/* Read a whole small file; -ENOENT when it is not there. */
static int
creds_file_read(const char *path, char **ret, size_t *ret_len)
{
	struct stat st;
	char *data;
	size_t len = 0;
	ssize_t n;
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > CREDS_FILE_MAX) {
		close(fd);
		return -EINVAL;
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		n = read(fd, data + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n == 0 ? 0 : -errno;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	if (r < 0) {
		secret_wipe(data, len);
		free(data);
		return r;
	}
	data[len] = '\0';
	*ret = data;
	*ret_len = len;
	return 0;
}

static char *
creds_file_path(const char *env, const char *rel)
{
	const char *v = getenv(env), *home;

	if (v != NULL && *v != '\0')
		return xstrdup(v);
	if ((home = getenv("HOME")) == NULL || *home == '\0')
		return NULL;
	return xasprintf("%s/%s", home, rel);
}

/* Parse one file into p; a missing file is not an error. */
static int
creds_file_scan(const char *env, const char *rel, bool config_style,
    const char *profile, struct creds_file_profile *p, char *why,
    size_t whylen)
{
	char *path, *data = NULL;
	size_t len = 0;
	int r;

	if ((path = creds_file_path(env, rel)) == NULL)
		return 0;
	if ((r = creds_file_read(path, &data, &len)) < 0) {
		if (r != -ENOENT) {
			snprintf(why, whylen, "cannot read %s: %s", path,
			    strerror(-r));
			free(path);
			return r;
		}
		free(path);
		return 0;
	}
	creds_file_parse(data, len, config_style, profile, p);
	secret_wipe(data, len);
	free(data);
	free(path);
	return 0;
}

int
creds_file_load(struct creds **ret, char *why, size_t whylen)
{
	struct creds_file_profile cp, fp;
	const struct creds_file_profile *use = NULL;
	const char *profile = getenv("AWS_PROFILE");
	bool named = true;
	struct creds *c;
	int r;

	if (profile == NULL || *profile == '\0')
		profile = getenv("AWS_DEFAULT_PROFILE");
	if (profile == NULL || *profile == '\0') {
		profile = "default";
		named = false;
	}
	creds_file_profile_init(&cp);
	creds_file_profile_init(&fp);
	why[0] = '\0';
	if ((r = creds_file_scan("AWS_SHARED_CREDENTIALS_FILE",
	    ".aws/credentials", false, profile, &cp, why, whylen)) < 0 ||
	    (r = creds_file_scan("AWS_CONFIG_FILE", ".aws/config", true,
	    profile, &fp, why, whylen)) < 0)
		goto out;
	/* the credentials file wins, as in botocore */
	if (cp.access_key_id != NULL || cp.secret_access_key != NULL)
		use = &cp;
	else if (fp.access_key_id != NULL || fp.secret_access_key != NULL)
		use = &fp;
	if (use == NULL) {
		const char *unsup = cp.unsupported[0] != '\0' ?
		    cp.unsupported : fp.unsupported;

		if (unsup[0] != '\0') {
			snprintf(why, whylen, "profile %s uses %s, which is "
			    "not supported: give it keys, or use the instance "
			    "profile", profile, unsup);
			r = -ENOTSUP;
		} else if (named) {
			snprintf(why, whylen, "profile %s %s", profile,
			    cp.found || fp.found ? "has no credentials" :
			    "not found");
			/* a named profile that is missing stops the chain */
			r = -ENOKEY;
		} else
			r = -ENOENT;
		goto out;
	}
	if (use->access_key_id == NULL || use->secret_access_key == NULL) {
		snprintf(why, whylen, "profile %s has partial credentials",
		    profile);
		r = -EINVAL;
		goto out;
	}
	c = creds_new(use->access_key_id, use->secret_access_key,
	    use->session_token, 0);
	if (c == NULL) {
		snprintf(why, whylen, "profile %s has malformed credentials",
		    profile);
		r = -EINVAL;
		goto out;
	}
	*ret = c;
	r = 0;
out:
	creds_file_profile_finish(&cp);
	creds_file_profile_finish(&fp);
	return r;
}
