/*
 * A bridge's options: where it listens, its REST switches (jvb-api.md
 * §1.1), its limits (§3), its version profile and its XMPP client (§4.1).
 * Read from the JSON of the control API and of --config, one key at a
 * time, so that a "defaults" object and then a bridge's own object can be
 * applied in turn; unknown keys are refused (a typo in a test must fail).
 * Pure: the password is only a file name here.
 */
#ifndef FB_OPTIONS_H
#define FB_OPTIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/fakebridge/model.h"

enum options_mode {
	OPTIONS_MODE_NORMAL,
	OPTIONS_MODE_404,	/* everything 404: wrong port, REST off */
	OPTIONS_MODE_HANG,	/* read the request, never answer */
	OPTIONS_MODE_DOWN,	/* listener closed: connection refused */
};

enum options_tls {
	OPTIONS_TLS_OFF,	/* plain; fails if the server requires TLS */
	OPTIONS_TLS_ON,		/* STARTTLS required, certificate verified */
	OPTIONS_TLS_TRUST,	/* STARTTLS required, certificate not checked */
};

#define OPTIONS_MAX_ROOMS	8

struct options_xmpp {
	char		*host;		/* owned */
	uint16_t	 port;
	char		*domain;	/* owned */
	char		*username;	/* owned */
	char		*password_file;	/* owned */
	char		*rooms[OPTIONS_MAX_ROOMS];	/* owned; MUC_JIDS */
	size_t		 nrooms;
	enum options_tls tls;
	bool		 tls_given;
	char		*ca_file;	/* owned; NULL: system store */
};

struct options {
	char		*id;		/* owned; NULL: "address:port" */
	char		 address[16];	/* dotted IPv4 in 127.0.0.0/8 */
	uint16_t	 port;		/* 0: pick one */
	char		*nickname;	/* owned; NULL: the id */
	bool		 rest_enabled;	/* COLIBRI */
	bool		 shutdown_enabled;
	bool		 drain_enabled;
	bool		 health_enabled;
	bool		 version_enabled;
	bool		 debug_enabled;
	bool		 legacy_shutting_down;	/* see stats.h */
	/* also: /colibri/drain is 404 */
	bool		 legacy_no_drain;
	bool		 initial_drain;
	bool		 healthy;
	enum options_mode mode;
	char		*version;	/* owned */
	char		*release;	/* owned; NULL: none */
	char		*region;	/* owned; NULL: none */
	char		*relay_id;	/* owned; NULL: none */
	struct model_config model;
	unsigned	 participants;	/* at creation */
	unsigned	 request_log_max;
	bool		 xmpp_enabled;
	struct options_xmpp xmpp;
};

/* A correctly set-up current bridge: COLIBRI and SHUTDOWN on. */
void options_default(struct options *o);
void options_finish(struct options *o);
void options_copy(struct options *dst, const struct options *src);
/*
 * Apply obj's keys.  With runtime set, keys that only make sense at
 * creation (address, port, id, nickname, xmpp, ...) are refused.
 * 0, or -EINVAL with a message in err; o may then be half changed, so
 * apply to a copy.
 */
int options_apply_json(struct options *o, json_t *obj, bool runtime,
    char *err, size_t errlen);
/* The whole set is usable (XMPP complete, ...); -EINVAL with err. */
int options_check(const struct options *o, char *err, size_t errlen);
json_t *options_json(const struct options *o);

const char *options_mode_name(enum options_mode mode);
/* Printable ASCII, no quote or backslash, 1..max bytes. */
bool options_valid_token(const char *s, size_t max, const char *extra);

#endif
