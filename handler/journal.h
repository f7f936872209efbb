/*
 * The journal of open lifecycle actions, one file each in
 * <state_dir>/actions/, written atomically (write, fsync, rename, fsync the
 * directory) so that a daemon restarted after a crash or an upgrade
 * resumes every action it had.  Changes made during one pass of the loop
 * are written together at its end.  A corrupt entry is moved to
 * <state_dir>/quarantine/ and reported; it never stops the others loading.
 */
#ifndef JL_JOURNAL_H
#define JL_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "events/lifecycle.h"

struct event_base;
struct journal;
struct action;

struct journal_entry {
	enum lifecycle_transition transition;
	char	 token[LIFECYCLE_TOKEN_LEN + 1];
	char	 group[LIFECYCLE_GROUP_MAX + 1];
	char	 hook[LIFECYCLE_HOOK_MAX + 1];
	char	 instance[LIFECYCLE_INSTANCE_MAX + 1];
	char	 receipt[2048];
	char	 message_id[128];
	char	 phase[32];
	char	 ip[48];
	int64_t	 started_wall_ms;
	int64_t	 event_wall_ms;
	int64_t	 deadline_wall_ms;
	int64_t	 heartbeat_expires_wall_ms;
	unsigned heartbeat_timeout_s;
	unsigned heartbeats;
	bool	 drain_enabled;
	bool	 graceful_accepted;
	bool	 forced;
};

/* NULL journal: every call below is a no-op (tools, tests). */
int journal_open(struct event_base *base, const char *state_dir,
    struct journal **ret);
void journal_close(struct journal *j);	/* flushes first */
/* Note that an action changed; written at the end of this loop pass. */
void journal_action_changed(struct journal *j, const struct action *a);
void journal_action_removed(struct journal *j, const char *token);
/* Write everything pending now. */
void journal_flush(struct journal *j);
/*
 * Every valid entry, to cb; corrupt ones quarantined, each reported to bad
 * (file name and why).  Returns the number of valid entries.
 */
int journal_load(struct journal *j,
    void (*cb)(const struct journal_entry *je, void *arg),
    void (*bad)(const char *file, const char *why, void *arg), void *arg);

/* Pure, for tests and fuzzing: JSON text <-> entry. */
char *journal_entry_dump(const struct journal_entry *je);
int journal_entry_parse(const char *text, size_t len,
    struct journal_entry *ret, char *why, size_t whylen);

#endif
