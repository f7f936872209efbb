/*
 * The shared credentials and config files (~/.aws/credentials,
 * ~/.aws/config) and their profiles.  The parser is pure; it is hand-made
 * rather than inih because session tokens make lines far longer than
 * inih's fixed 200-byte line buffer (Debian's build).
 */
#ifndef JL_CREDS_FILE_H
#define JL_CREDS_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/creds.h"

#define CREDS_FILE_MAX	(256 * 1024)

struct creds_file_profile {
	bool	 found;			/* the section exists */
	char	*access_key_id;		/* owned */
	char	*secret_access_key;	/* owned; secret */
	char	*session_token;		/* owned; secret */
	char	*region;		/* owned */
	/* a key naming a source we do not implement (role_arn, sso_...) */
	char	 unsupported[64];
};

void creds_file_profile_init(struct creds_file_profile *p);
void creds_file_profile_finish(struct creds_file_profile *p);
/*
 * Read profile from the text of one file into p (keys already in p are
 * replaced).  config_style: sections are "[profile NAME]" and
 * "[default]"; otherwise "[NAME]".  Pure; cannot fail.
 */
void creds_file_parse(const char *text, size_t len, bool config_style,
    const char *profile, struct creds_file_profile *p);

/*
 * The profile source: AWS_PROFILE (or AWS_DEFAULT_PROFILE, or "default")
 * from AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials), then
 * AWS_CONFIG_FILE (~/.aws/config).  0 and *ret on success; -ENOENT when
 * the profile has no credentials and was not asked for by name (the
 * chain moves on); another negative errno, with why filled, when a named
 * profile is missing or unusable.
 */
int creds_file_load(struct creds **ret, char *why, size_t whylen);

#endif
