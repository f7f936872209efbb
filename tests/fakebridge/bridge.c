/*
 * One fake bridge: ties its model to its REST listener and its MUC client
 * through one timer.  Every model action (from REST or the control API)
 * calls bridge_kick(); the timer callback then advances the model, runs
 * the side effects of what changed (presence, exit) and sleeps until the
 * model's next deadline.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler/log.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"
#include "tests/fakebridge/bridge.h"
#include "tests/fakebridge/muc.h"
#include "tests/fakebridge/rest.h"
#include "tests/fakebridge/xloop.h"

static bool bridge_xmpp_debug;
/* wall = mono + this, fixed once, so that one instant reads the same. */
static int64_t bridge_clock_offset;
static bool bridge_clock_set;

int64_t
bridge_now(void)
{
	return timeutil_mono_ms();
}

int64_t
bridge_wall(int64_t mono_ms)
{
	if (!bridge_clock_set) {
		bridge_clock_offset = timeutil_wall_ms() - timeutil_mono_ms();
		bridge_clock_set = true;
	}
	return mono_ms + bridge_clock_offset;
}

struct bridge_set *
bridge_set_new(struct event_base *base)
{
	struct bridge_set *set = xcalloc(1, sizeof(*set));

	set->base = base;
	TAILQ_INIT(&set->bridges);
	TAILQ_INIT(&set->removed);
	bridge_xmpp_debug = getenv("FAKEBRIDGE_XMPP_DEBUG") != NULL;
	return set;
}

static void
bridge_free(struct bridge *b)
{
	if (b->removing)
		TAILQ_REMOVE(&b->set->removed, b, entry);
	else {
		TAILQ_REMOVE(&b->set->bridges, b, entry);
		b->set->count--;
	}
	muc_free(b->muc);
	rest_stop(b->rest, false);
	event_free(b->timer);
	reqlog_finish(&b->log);
	options_finish(&b->opts);
	free(b->nickname);
	free(b->id);
	free(b);
}

void
bridge_set_free(struct bridge_set *set)
{
	if (set == NULL)
		return;
	while (!TAILQ_EMPTY(&set->bridges))
		bridge_free(TAILQ_FIRST(&set->bridges));
	while (!TAILQ_EMPTY(&set->removed))
		bridge_free(TAILQ_FIRST(&set->removed));
	rest_reap_all();
	if (set->xloop != NULL)
		xloop_free(set->xloop);
	free(set);
}

struct bridge *
bridge_set_find(struct bridge_set *set, const char *id)
{
	struct bridge *b;

	TAILQ_FOREACH(b, &set->bridges, entry)
		if (strcmp(b->id, id) == 0)
			return b;
	return NULL;
}

bool
bridge_set_quiesce(struct bridge_set *set)
{
	struct bridge *b;
	bool done = true;

	TAILQ_FOREACH(b, &set->bridges, entry) {
		if (b->muc == NULL)
			continue;
		if (!muc_gone(b->muc)) {
			muc_exit(b->muc, false);
			done = false;
		}
	}
	TAILQ_FOREACH(b, &set->removed, entry)
		if (b->muc != NULL && !muc_gone(b->muc))
			done = false;
	return done;
}

/* The effects of an exit: goodbye to the MUC, then the listener closes. */
static void
bridge_exited(struct bridge *b)
{
	const struct model *m = &b->model;

	b->exit_done = true;
	log_info("bridge %s: exited with code %d (%s), %u participant(s) "
	    "cut off", b->id, m->exit_code, model_cause_name(m->exit_cause),
	    m->cut_off);
	if (b->muc != NULL)
		muc_exit(b->muc, m->exit_cause == MODEL_CAUSE_SIGKILL);
	rest_stop(b->rest, true);
	b->rest = NULL;
}

static void
bridge_run(evutil_socket_t fd, short what, void *arg)
{
	struct bridge *b = arg;
	struct model *m = &b->model;
	struct timeval tv;
	int64_t now = bridge_now(), next;
	enum model_state s;
	unsigned ch;

	model_advance(m, now);
	ch = model_take_changes(m);
	/* States only move forward; log each one passed through. */
	for (s = b->logged_state + 1; s <= m->state; s++) {
		if (m->entered_ms[s] < 0)
			continue;
		log_info("bridge %s: %s -> %s%s%s", b->id,
		    model_state_name(b->logged_state), model_state_name(s),
		    s == MODEL_SHUTTING_DOWN ? " because of " : "",
		    s == MODEL_SHUTTING_DOWN ?
		    model_cause_name(m->shutdown_cause) : "");
		b->logged_state = s;
	}
	if (m->state == MODEL_EXITED && !b->exit_done)
		bridge_exited(b);
	else if (b->muc != NULL && !b->exit_done &&
	    ((ch & (MODEL_CH_STATE | MODEL_CH_DRAIN | MODEL_CH_STATS)) != 0 ||
	    b->publish))
		muc_publish(b->muc);
	b->publish = false;

	if (b->removing && (b->muc == NULL || muc_gone(b->muc))) {
		bridge_free(b);
		return;
	}
	/* Publishing reads the stats, which advances the model again: what
	 * fired meanwhile is handled on the next run, not forgotten. */
	if (m->changes != 0) {
		bridge_kick(b);
		return;
	}
	next = model_next_deadline(m);
	if (next == INT64_MAX)
		return;
	next = next > now ? next - now : 0;
	tv.tv_sec = (time_t)(next / 1000);
	tv.tv_usec = (suseconds_t)(next % 1000) * 1000;
	evtimer_add(b->timer, &tv);
}

void
bridge_settle(struct bridge *b)
{
	bridge_run(-1, 0, b);
}

void
bridge_kick(struct bridge *b)
{
	struct timeval zero = { 0, 0 };

	evtimer_add(b->timer, &zero);
}

void
bridge_sync(struct bridge *b)
{
	model_advance(&b->model, bridge_now());
	bridge_kick(b);
}

void
bridge_publish(struct bridge *b)
{
	b->publish = true;
	bridge_kick(b);
}

static bool
bridge_endpoint_taken(struct bridge_set *set, const struct options *o)
{
	struct bridge *b;

	if (o->port == 0)
		return false;
	TAILQ_FOREACH(b, &set->bridges, entry)
		if (b->model.state != MODEL_EXITED && b->port == o->port &&
		    strcmp(b->opts.address, o->address) == 0)
			return true;
	return false;
}

int
bridge_new(struct bridge_set *set, const struct options *o,
    struct bridge **ret, char *err, size_t errlen)
{
	struct bridge *b;
	char *id;
	int r;

	if (options_check(o, err, errlen) < 0)
		return -EINVAL;
	if (o->id != NULL)
		id = xstrdup(o->id);
	else if (o->nickname != NULL)
		id = xstrdup(o->nickname);
	else
		id = xasprintf("%s:%u", o->address, (unsigned)o->port);
	if (bridge_set_find(set, id) != NULL) {
		snprintf(err, errlen, "a bridge with id %s exists", id);
		free(id);
		return -EEXIST;
	}
	if (bridge_endpoint_taken(set, o)) {
		snprintf(err, errlen, "%s:%u is taken by another bridge",
		    o->address, (unsigned)o->port);
		free(id);
		return -EEXIST;
	}
	b = xcalloc(1, sizeof(*b));
	b->set = set;
	b->id = id;
	options_copy(&b->opts, o);
	b->nickname = xstrdup(o->nickname != NULL ? o->nickname : id);
	b->port = o->port;
	b->created_wall_ms = bridge_wall(bridge_now());
	reqlog_init(&b->log, o->request_log_max);
	model_init(&b->model, &o->model, o->participants, o->initial_drain,
	    bridge_now());
	b->logged_state = MODEL_RUNNING;
	if ((b->timer = evtimer_new(set->base, bridge_run, b)) == NULL)
		fatalx("evtimer_new");
	TAILQ_INSERT_TAIL(&set->bridges, b, entry);
	set->count++;

	if (o->mode != OPTIONS_MODE_DOWN &&
	    (r = rest_start(b, &b->rest, &b->port)) < 0) {
		snprintf(err, errlen, "listen on %s:%u: %s", o->address,
		    (unsigned)o->port, strerror(-r));
		bridge_free(b);
		return r;
	}
	if (o->xmpp_enabled) {
		if (set->xloop == NULL)
			set->xloop = xloop_new(set->base, bridge_xmpp_debug);
		b->muc = muc_new(b, set->xloop, &o->xmpp, b->nickname, err,
		    errlen);
		if (b->muc == NULL) {
			bridge_free(b);
			return -EINVAL;
		}
	}
	log_info("bridge %s: up on %s:%u (%s)%s%s", b->id, o->address,
	    (unsigned)b->port, options_mode_name(o->mode),
	    b->muc != NULL ? ", XMPP nickname " : "",
	    b->muc != NULL ? b->nickname : "");
	bridge_kick(b);
	*ret = b;
	return 0;
}

void
bridge_remove(struct bridge *b)
{
	if (b->removing)
		return;
	if (b->model.state != MODEL_EXITED)
		model_kill(&b->model, MODEL_CAUSE_SIGTERM, bridge_now());
	TAILQ_REMOVE(&b->set->bridges, b, entry);
	b->set->count--;
	b->removing = true;
	TAILQ_INSERT_TAIL(&b->set->removed, b, entry);
	bridge_kick(b);
}

int
bridge_set_options(struct bridge *b, const struct options *o, char *err,
    size_t errlen)
{
	bool was_down = b->opts.mode == OPTIONS_MODE_DOWN;
	int r;

	if (options_check(o, err, errlen) < 0)
		return -EINVAL;
	if (b->model.state == MODEL_EXITED) {
		snprintf(err, errlen, "bridge %s has exited", b->id);
		return -ESRCH;
	}
	if ((r = model_set_config(&b->model, &o->model, bridge_now())) < 0) {
		snprintf(err, errlen, "limits: %s", strerror(-r));
		return r;
	}
	options_finish(&b->opts);
	options_copy(&b->opts, o);
	if (b->opts.mode == OPTIONS_MODE_DOWN && b->rest != NULL) {
		rest_stop(b->rest, false);
		b->rest = NULL;
		log_info("bridge %s: listener closed (mode down)", b->id);
	} else if (b->opts.mode != OPTIONS_MODE_DOWN && b->rest == NULL &&
	    was_down) {
		if ((r = rest_start(b, &b->rest, &b->port)) < 0) {
			snprintf(err, errlen, "listen on %s:%u: %s",
			    b->opts.address, (unsigned)b->port, strerror(-r));
			return r;
		}
		log_info("bridge %s: listening again on %s:%u", b->id,
		    b->opts.address, (unsigned)b->port);
	}
	bridge_publish(b);
	return 0;
}

void
bridge_stats(struct bridge *b, struct stats *st)
{
	struct stats_input in;
	struct muc_counts mc;

	bridge_sync(b);
	memset(&mc, 0, sizeof(mc));
	if (b->muc != NULL)
		muc_counts(b->muc, &mc);
	memset(&in, 0, sizeof(in));
	in.model = &b->model;
	in.version = b->opts.version;
	in.release = b->opts.release;
	in.region = b->opts.region;
	in.relay_id = b->opts.relay_id;
	in.legacy_shutting_down = b->opts.legacy_shutting_down;
	in.legacy_no_drain = b->opts.legacy_no_drain;
	in.healthy = b->opts.healthy;
	in.muc_clients_configured = mc.clients_configured;
	in.muc_clients_connected = mc.clients_connected;
	in.mucs_configured = mc.mucs_configured;
	in.mucs_joined = mc.mucs_joined;
	in.wall_offset_ms = bridge_wall(0);
	stats_build(st, &in);
}

static json_t *
bridge_time_json(int64_t mono_ms)
{
	return mono_ms < 0 ? json_null() : json_integer(bridge_wall(mono_ms));
}

json_t *
bridge_summary_json(const struct bridge *b)
{
	const struct model *m = &b->model;
	struct muc_counts mc;
	json_t *j;

	j = json_pack("{ss ss si ss ss sb si sb}", "id", b->id,
	    "address", b->opts.address, "port", (int)b->port, "nickname",
	    b->nickname, "state", model_state_name(m->state), "drain",
	    m->drain, "participants", (int)m->participants, "listening",
	    b->rest != NULL);
	/* Enough for a swarm to wait until every bridge is in its room. */
	if (b->muc != NULL) {
		muc_counts(b->muc, &mc);
		json_object_set_new(j, "mucs_joined",
		    json_integer(mc.mucs_joined));
	} else
		json_object_set_new(j, "mucs_joined", json_null());
	return j;
}

json_t *
bridge_state_json(struct bridge *b)
{
	const struct model *m = &b->model;
	struct stats st;
	json_t *j, *entered, *faults;
	char url[64];
	size_t i;

	bridge_stats(b, &st);
	j = bridge_summary_json(b);
	snprintf(url, sizeof(url), "http://%s:%u", b->opts.address,
	    (unsigned)b->port);
	json_object_set_new(j, "url", json_string(url));
	json_object_set_new(j, "mode",
	    json_string(options_mode_name(b->opts.mode)));
	json_object_set_new(j, "created_ms", json_integer(b->created_wall_ms));
	entered = json_object();
	for (i = 0; i < MODEL_EXITED; i++)
		json_object_set_new(entered, model_state_name(i),
		    bridge_time_json(m->entered_ms[i]));
	json_object_set_new(j, "entered_ms", entered);
	json_object_set_new(j, "exited_ms",
	    bridge_time_json(m->entered_ms[MODEL_EXITED]));
	json_object_set_new(j, "shutdown_cause",
	    m->shutdown_cause == MODEL_CAUSE_NONE ? json_null() :
	    json_string(model_cause_name(m->shutdown_cause)));
	json_object_set_new(j, "exit_cause",
	    m->exit_cause == MODEL_CAUSE_NONE ? json_null() :
	    json_string(model_cause_name(m->exit_cause)));
	json_object_set_new(j, "exit_code", m->state == MODEL_EXITED ?
	    json_integer(m->exit_code) : json_null());
	json_object_set_new(j, "cut_off", json_integer(m->cut_off));
	json_object_set_new(j, "joined_total", json_integer(
	    (json_int_t)m->joined_total));
	json_object_set_new(j, "left_total", json_integer(
	    (json_int_t)m->left_total));
	json_object_set_new(j, "moved_total", json_integer(
	    (json_int_t)m->moved_total));
	json_object_set_new(j, "pending_departures",
	    json_integer(model_pending_departures(m)));
	json_object_set_new(j, "stats", stats_json(&st));
	json_object_set_new(j, "stats_refreshed_ms",
	    bridge_time_json(m->snap.taken_ms));
	json_object_set_new(j, "options", options_json(&b->opts));
	json_object_set_new(j, "requests_total",
	    json_integer((json_int_t)reqlog_total(&b->log)));
	json_object_set_new(j, "requests_dropped",
	    json_integer((json_int_t)b->log.dropped));
	faults = json_array();
	for (i = 0; i < BRIDGE_MAX_FAULTS; i++)
		if (b->faults[i].path[0] != '\0')
			json_array_append_new(faults, json_pack("{ss si sI}",
			    "path", b->faults[i].path, "status",
			    b->faults[i].status, "count",
			    (json_int_t)b->faults[i].count));
	json_object_set_new(j, "faults", faults);
	json_object_set_new(j, "xmpp", b->muc != NULL ? muc_json(b->muc) :
	    json_null());
	return j;
}

static const char *const bridge_fault_paths[] = {
	"*", "/colibri/stats", "/colibri/drain", "/colibri/drain/enable",
	"/colibri/drain/disable", "/colibri/shutdown", "/about/health",
	"/about/version", "/debug",
};

int
bridge_add_fault(struct bridge *b, const char *path, int status, long count)
{
	struct bridge_fault *free_slot = NULL, *f;
	bool known = false;
	size_t i;

	for (i = 0; i < sizeof(bridge_fault_paths) /
	    sizeof(bridge_fault_paths[0]); i++)
		if (strcmp(path, bridge_fault_paths[i]) == 0)
			known = true;
	if (!known || status < 400 || status > 599 || count < -1)
		return -EINVAL;
	for (i = 0; i < BRIDGE_MAX_FAULTS; i++) {
		f = &b->faults[i];
		if (strcmp(f->path, path) == 0) {
			if (count == 0)
				memset(f, 0, sizeof(*f));
			else {
				f->status = status;
				f->count = count;
			}
			return 0;
		}
		if (f->path[0] == '\0' && free_slot == NULL)
			free_slot = f;
	}
	if (count == 0)
		return 0;
	if (free_slot == NULL)
		return -ENOSPC;
	snprintf(free_slot->path, sizeof(free_slot->path), "%s", path);
	free_slot->status = status;
	free_slot->count = count;
	return 0;
}

void
bridge_clear_faults(struct bridge *b)
{
	memset(b->faults, 0, sizeof(b->faults));
}

int
bridge_take_fault(struct bridge *b, const char *endpoint)
{
	struct bridge_fault *f;
	int status;
	size_t i;

	for (i = 0; i < BRIDGE_MAX_FAULTS; i++) {
		f = &b->faults[i];
		if (f->path[0] == '\0' || (strcmp(f->path, endpoint) != 0 &&
		    strcmp(f->path, "*") != 0))
			continue;
		status = f->status;
		if (f->count > 0 && --f->count == 0)
			memset(f, 0, sizeof(*f));
		return status;
	}
	return 0;
}
