/*
 * The configuration: compiled-in defaults, then one INI file (inih).
 * Unknown sections and keys, bad values, duplicates and missing required
 * keys are errors naming the file, the line and the key; all of them are
 * collected so `check` can list every one.  After start-up it is const.
 */
#ifndef JL_CONFIG_H
#define JL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handler/log.h"

enum config_result {
	CONFIG_CONTINUE,
	CONFIG_ABANDON,
};

enum config_launch_verify {
	CONFIG_VERIFY_BREWERY_HEALTH,	/* in the brewery with stats + health */
	CONFIG_VERIFY_HEALTH,		/* REST health only (no XMPP) */
};

struct config_aws {
	char		*region;
	char		*queue_url;
	char		*endpoint_url;		/* NULL: regional endpoints */
	char		*ca_file;		/* NULL: system CAs */
	unsigned	 max_attempts;
	uint64_t	 call_budget_ms;
};

struct config_bridge {
	unsigned	 port;
	uint64_t	 timeout_ms;		/* per REST call */
	uint64_t	 unreachable_timeout_ms;
	uint64_t	 stats_interval_ms;	/* the bridges' stats interval */
	unsigned	 min_participants;	/* their graceful-shutdown-min-participants */
	uint64_t	 graceful_max_ms;	/* their graceful-shutdown-max-duration */
	uint64_t	 shutting_down_delay_ms; /* their shutting-down-delay */
};

struct config_xmpp {
	bool		 enabled;		/* the [xmpp] section is present */
	char		*server;
	unsigned	 port;
	char		*domain;
	char		*username;
	char		*password_file;
	char		*password;		/* secret: wiped by config_free */
	char		*brewery;
	bool		 tls;
	char		*ca_file;
	char		*nickname;
	uint64_t	 ping_interval_ms;
};

struct config_drain {
	uint64_t		 max_duration_ms;
	enum config_result	 on_timeout;
	uint64_t		 poll_interval_ms;
	uint64_t		 presence_poll_interval_ms;
	bool			 force_on_timeout;
	enum config_result	 on_unreachable;
};

struct config_launch {
	uint64_t			 timeout_ms;
	enum config_result		 on_timeout;
	enum config_launch_verify	 verify;
};

struct config_rebalance {
	bool		 drain;			/* drain on a recommendation */
	uint64_t	 undo_after_ms;
};

struct config_protection {
	bool		 enabled;
	char		**groups;		/* NULL: [daemon] groups */
	size_t		 ngroups;
	unsigned	 threshold;
	unsigned	 hysteresis;
	unsigned	 unprotected_min;
	uint64_t	 interval_ms;
	unsigned	 max_calls_per_minute;
};

struct config_daemon {
	char		*state_dir;
	char		*audit_log;
	char		*log_file;		/* NULL: stderr */
	enum log_level	 log_level;
	char		*admin_host;		/* NULL: no admin endpoint */
	unsigned	 admin_port;
	unsigned	 max_in_flight;
	bool		 dry_run;
	char		**groups;		/* NULL-terminated; NULL: all */
	size_t		 ngroups;
	uint64_t	 visibility_timeout_ms;
	unsigned	 receive_wait_s;
	/* /healthz fails once receiving or credentials fail this long */
	uint64_t	 health_threshold_ms;
};

struct config {
	char			*path;
	struct config_aws	 aws;
	struct config_bridge	 bridge;
	struct config_xmpp	 xmpp;
	struct config_drain	 drain;
	struct config_launch	 launch;
	struct config_rebalance	 rebalance;
	struct config_protection protection;
	struct config_daemon	 daemon;
};

struct config_errors {
	char	**msgs;		/* owned, each "FILE:LINE: [section] key: why" */
	unsigned *lines;	/* owned; the LINE of each, for sorting */
	size_t	  n;
};

/* 0, or -EINVAL with every problem in errs (which the caller finishes). */
int config_load(const char *path, struct config *cfg,
    struct config_errors *errs);
/*
 * CONFIG_LOAD_NO_SECRETS: do not read [xmpp] password_file (operator
 * commands that never log in, run by users who may not read it);
 * cfg->xmpp.password stays NULL.
 */
#define CONFIG_LOAD_NO_SECRETS	0x1
int config_load_flags(const char *path, struct config *cfg,
    struct config_errors *errs, unsigned flags);
void config_free(struct config *cfg);
void config_errors_finish(struct config_errors *errs);

/* "90", "90s", "15m", "2h", "1h30m" -> ms.  Pure, for tests too. */
int config_parse_duration(const char *s, uint64_t *ret_ms);
int config_parse_bool(const char *s, bool *ret);
const char *config_result_name(enum config_result r);	/* "CONTINUE" */

#endif
