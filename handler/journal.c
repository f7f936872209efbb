#include <sys/queue.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handler/action.h"
#include "handler/journal.h"
#include "handler/log.h"
#include "handler/secret.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"

#define JOURNAL_VERSION		1
#define JOURNAL_MAX_FILE	(64 * 1024)

struct journal_pending {
	TAILQ_ENTRY(journal_pending) entry;
	bool			 removed;
	struct journal_entry	 je;
};

struct journal {
	char			*actions_dir;	/* owned */
	char			*quarantine_dir; /* owned */
	int			 dirfd;
	struct event		*flush_ev;	/* owned */
	TAILQ_HEAD(, journal_pending) pending;
};

static int
journal_mkdir(const char *path)
{
	if (mkdir(path, 0750) == -1 && errno != EEXIST)
		return -errno;
	return 0;
}

static void
journal_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	journal_flush(arg);
}

int
journal_open(struct event_base *base, const char *state_dir,
    struct journal **ret)
{
	struct journal *j;
	int r;

	j = xcalloc(1, sizeof(*j));
	j->actions_dir = xasprintf("%s/actions", state_dir);
	j->quarantine_dir = xasprintf("%s/quarantine", state_dir);
	j->dirfd = -1;
	TAILQ_INIT(&j->pending);
	if ((r = journal_mkdir(j->actions_dir)) != 0 ||
	    (r = journal_mkdir(j->quarantine_dir)) != 0)
		goto fail;
	if ((j->dirfd = open(j->actions_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		r = -errno;
		goto fail;
	}
	if (base != NULL &&
	    (j->flush_ev = event_new(base, -1, 0, journal_flush_cb, j)) ==
	    NULL) {
		r = -ENOMEM;
		goto fail;
	}
	*ret = j;
	return 0;
fail:
	journal_close(j);
	return r;
}

void
journal_close(struct journal *j)
{
	struct journal_pending *p;

	if (j == NULL)
		return;
	journal_flush(j);
	while ((p = TAILQ_FIRST(&j->pending)) != NULL) {
		TAILQ_REMOVE(&j->pending, p, entry);
		secret_wipe(p, sizeof(*p));
		free(p);
	}
	if (j->flush_ev != NULL)
		event_free(j->flush_ev);
	if (j->dirfd >= 0)
		close(j->dirfd);
	free(j->actions_dir);
	free(j->quarantine_dir);
	free(j);
}

static struct journal_pending *
journal_pending_for(struct journal *j, const char *token)
{
	struct journal_pending *p;

	TAILQ_FOREACH(p, &j->pending, entry)
		if (strcmp(p->je.token, token) == 0)
			return p;
	p = xcalloc(1, sizeof(*p));
	TAILQ_INSERT_TAIL(&j->pending, p, entry);
	if (j->flush_ev != NULL)
		event_active(j->flush_ev, 0, 0);
	return p;
}

void
journal_action_changed(struct journal *j, const struct action *a)
{
	struct journal_pending *p;
	struct journal_entry je;

	if (j == NULL)
		return;
	action_fill_journal(a, &je);
	p = journal_pending_for(j, je.token);
	p->je = je;
	p->removed = false;
	if (j->flush_ev == NULL)
		journal_flush(j);
}

void
journal_action_removed(struct journal *j, const char *token)
{
	struct journal_pending *p;

	if (j == NULL)
		return;
	p = journal_pending_for(j, token);
	snprintf(p->je.token, sizeof(p->je.token), "%s", token);
	p->removed = true;
	if (j->flush_ev == NULL)
		journal_flush(j);
}

char *
journal_entry_dump(const struct journal_entry *je)
{
	json_t *o;
	char *text;

	o = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,"
	    "s:I,s:i,s:i,s:b,s:b,s:b}",
	    "version", JOURNAL_VERSION,
	    "token", je->token,
	    "transition", lifecycle_transition_name(je->transition),
	    "group", je->group,
	    "hook", je->hook,
	    "instance", je->instance,
	    "receipt", je->receipt,
	    "message_id", je->message_id,
	    "phase", je->phase,
	    "ip", je->ip,
	    "started_wall_ms", (json_int_t)je->started_wall_ms,
	    "event_wall_ms", (json_int_t)je->event_wall_ms,
	    "deadline_wall_ms", (json_int_t)je->deadline_wall_ms,
	    "heartbeat_expires_wall_ms",
	    (json_int_t)je->heartbeat_expires_wall_ms,
	    "heartbeat_timeout_s", (int)je->heartbeat_timeout_s,
	    "heartbeats", (int)je->heartbeats,
	    "drain_enabled", je->drain_enabled,
	    "graceful_accepted", je->graceful_accepted,
	    "forced", je->forced);
	if (o == NULL)
		return NULL;
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return text;
}

static int
journal_copy(char *dst, size_t len, const char *src)
{
	if (strlen(src) >= len)
		return -1;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

int
journal_entry_parse(const char *text, size_t len, struct journal_entry *ret,
    char *why, size_t whylen)
{
	struct journal_entry je;
	const char *token, *transition, *group, *hook, *instance, *receipt;
	const char *phase, *ip, *message_id;
	json_int_t started, event, deadline, hbexp;
	int version, hbto, hbs, drain, graceful, forced;
	json_error_t err;
	json_t *o;

	if ((o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err)) == NULL) {
		snprintf(why, whylen, "not JSON: %s (line %d)", err.text,
		    err.line);
		return -EPROTO;
	}
	memset(&je, 0, sizeof(je));
	if (json_unpack_ex(o, &err, 0, "{s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:s,"
	    "s:s,s:s,s:I,s:I,s:I,s:I,s:i,s:i,s:b,s:b,s:b}",
	    "version", &version, "token", &token, "transition", &transition,
	    "group", &group, "hook", &hook, "instance", &instance,
	    "receipt", &receipt, "message_id", &message_id, "phase", &phase,
	    "ip", &ip,
	    "started_wall_ms", &started, "event_wall_ms", &event,
	    "deadline_wall_ms", &deadline, "heartbeat_expires_wall_ms", &hbexp,
	    "heartbeat_timeout_s", &hbto, "heartbeats", &hbs,
	    "drain_enabled", &drain, "graceful_accepted", &graceful,
	    "forced", &forced) != 0) {
		snprintf(why, whylen, "bad entry: %s", err.text);
		json_decref(o);
		return -EPROTO;
	}
	if (version != JOURNAL_VERSION) {
		snprintf(why, whylen, "unknown version %d", version);
		goto bad;
	}
	if (!lifecycle_valid_token(token) || !lifecycle_valid_group(group) ||
	    !lifecycle_valid_hook(hook) ||
	    !lifecycle_valid_instance_id(instance)) {
		snprintf(why, whylen, "bad token, group, hook or instance");
		goto bad;
	}
	if (strcmp(transition, "terminating") == 0)
		je.transition = LIFECYCLE_TERMINATING;
	else if (strcmp(transition, "launching") == 0)
		je.transition = LIFECYCLE_LAUNCHING;
	else {
		snprintf(why, whylen, "bad transition");
		goto bad;
	}
	if (journal_copy(je.token, sizeof(je.token), token) != 0 ||
	    journal_copy(je.group, sizeof(je.group), group) != 0 ||
	    journal_copy(je.hook, sizeof(je.hook), hook) != 0 ||
	    journal_copy(je.instance, sizeof(je.instance), instance) != 0 ||
	    journal_copy(je.receipt, sizeof(je.receipt), receipt) != 0 ||
	    journal_copy(je.message_id, sizeof(je.message_id),
	    message_id) != 0 ||
	    journal_copy(je.phase, sizeof(je.phase), phase) != 0 ||
	    journal_copy(je.ip, sizeof(je.ip), ip) != 0) {
		snprintf(why, whylen, "a field is too long");
		goto bad;
	}
	if (hbto < 0 || hbs < 0 || started < 0 || event < 0) {
		snprintf(why, whylen, "negative number");
		goto bad;
	}
	je.started_wall_ms = started;
	je.event_wall_ms = event;
	je.deadline_wall_ms = deadline;
	je.heartbeat_expires_wall_ms = hbexp;
	je.heartbeat_timeout_s = (unsigned)hbto;
	je.heartbeats = (unsigned)hbs;
	je.drain_enabled = drain;
	je.graceful_accepted = graceful;
	je.forced = forced;
	json_decref(o);
	*ret = je;
	return 0;
bad:
	json_decref(o);
	return -EPROTO;
}

static int
journal_write_file(struct journal *j, const struct journal_entry *je)
{
	char tmp[128], final[128];
	char *text;
	size_t len, off = 0;
	ssize_t n;
	int fd, r = 0;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", je->token);
	snprintf(final, sizeof(final), "%s.json", je->token);
	if ((text = journal_entry_dump(je)) == NULL)
		return -ENOMEM;
	len = strlen(text);
	fd = openat(j->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		r = -errno;
		goto out;
	}
	while (off < len) {
		n = write(fd, text + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (r == 0 && fsync(fd) == -1)
		r = -errno;
	close(fd);
	if (r == 0 && renameat(j->dirfd, tmp, j->dirfd, final) == -1)
		r = -errno;
	if (r != 0)
		unlinkat(j->dirfd, tmp, 0);
out:
	/* the receipt handle is a credential of sorts: wipe the copy */
	secret_wipe(text, len);
	free(text);
	return r;
}

void
journal_flush(struct journal *j)
{
	struct journal_pending *p;
	char name[128];
	bool any = false;
	int r;

	if (j == NULL)
		return;
	while ((p = TAILQ_FIRST(&j->pending)) != NULL) {
		TAILQ_REMOVE(&j->pending, p, entry);
		if (p->removed) {
			snprintf(name, sizeof(name), "%s.json", p->je.token);
			if (unlinkat(j->dirfd, name, 0) == -1 &&
			    errno != ENOENT)
				log_warn("journal: cannot remove %s/%s",
				    j->actions_dir, name);
		} else if ((r = journal_write_file(j, &p->je)) != 0) {
			log_warnx("journal: cannot write %s/%s.json: %s",
			    j->actions_dir, p->je.token, strerror(-r));
		}
		any = true;
		secret_wipe(p, sizeof(*p));
		free(p);
	}
	if (any && fsync(j->dirfd) == -1)
		log_warn("journal: fsync %s", j->actions_dir);
}

static void
journal_quarantine(struct journal *j, const char *name)
{
	char dst[512], src[512];

	snprintf(src, sizeof(src), "%s/%s", j->actions_dir, name);
	snprintf(dst, sizeof(dst), "%s/%s.%lld", j->quarantine_dir, name,
	    (long long)timeutil_wall_ms());
	if (rename(src, dst) == -1)
		log_warn("journal: cannot quarantine %s", src);
}

int
journal_load(struct journal *j,
    void (*cb)(const struct journal_entry *je, void *arg),
    void (*bad)(const char *file, const char *why, void *arg), void *arg)
{
	struct journal_entry je;
	struct dirent *de;
	char why[256], buf[JOURNAL_MAX_FILE + 1];
	DIR *d;
	int fd, n = 0;
	ssize_t len;

	if (j == NULL)
		return 0;
	if ((d = opendir(j->actions_dir)) == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name);

		if (de->d_name[0] == '.') {
			/* a write cut short by a crash: never renamed */
			if (nl > 4 && strcmp(de->d_name + nl - 4, ".tmp") == 0)
				unlinkat(j->dirfd, de->d_name, 0);
			continue;
		}
		if (nl < 6 || strcmp(de->d_name + nl - 5, ".json") != 0)
			continue;
		fd = openat(j->dirfd, de->d_name, O_RDONLY | O_CLOEXEC);
		if (fd == -1) {
			snprintf(why, sizeof(why), "cannot open: %s",
			    strerror(errno));
			bad(de->d_name, why, arg);
			journal_quarantine(j, de->d_name);
			continue;
		}
		len = read(fd, buf, sizeof(buf));
		close(fd);
		if (len < 0 || len > JOURNAL_MAX_FILE) {
			snprintf(why, sizeof(why), len < 0 ? "cannot read" :
			    "larger than %d bytes", JOURNAL_MAX_FILE);
			bad(de->d_name, why, arg);
			journal_quarantine(j, de->d_name);
			continue;
		}
		if (journal_entry_parse(buf, (size_t)len, &je, why,
		    sizeof(why)) != 0) {
			bad(de->d_name, why, arg);
			journal_quarantine(j, de->d_name);
			continue;
		}
		if (strlen(de->d_name) != strlen(je.token) + 5 ||
		    strncmp(de->d_name, je.token, strlen(je.token)) != 0) {
			bad(de->d_name, "file name and token differ", arg);
			journal_quarantine(j, de->d_name);
			continue;
		}
		cb(&je, arg);
		secret_wipe(&je, sizeof(je));
		n++;
	}
	closedir(d);
	secret_wipe(buf, sizeof(buf));
	return n;
}
