/*
 * Start-up order: state dir and audit trail first (nothing may happen that
 * is not audited), then the loop and its signals, then the network parts.
 * Teardown runs in reverse.
 */
#include <sys/stat.h>

#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "drain/brewery.h"
#include "handler/action.h"
#include "handler/admin.h"
#include "handler/audit.h"
#include "handler/config.h"
#include "handler/ctx.h"
#include "handler/daemon.h"
#include "handler/finished.h"
#include "handler/hookinfo.h"
#include "handler/http.h"
#include "handler/journal.h"
#include "handler/log.h"
#include "handler/metrics.h"
#include "handler/notify.h"
#include "handler/protection.h"
#include "handler/rebalance.h"
#include "handler/receiver.h"
#include "handler/resolver.h"
#include "handler/xmalloc.h"

/* Handing messages back on SIGTERM may not hold the stop up longer. */
#define DAEMON_STOP_GRACE_S	10

struct daemon {
	const struct config	*cfg;
	struct ctx		 ctx;		/* owns what it points at */
	struct event_base	*base;		/* owned */
	struct event		*sig_term;	/* owned */
	struct event		*sig_int;	/* owned */
	struct event		*sig_hup;	/* owned */
	struct event		*stop_guard;	/* owned */
	struct http		*http;		/* owned */
	struct audit		*audit;		/* owned */
	struct admin		*admin;		/* owned; NULL: admin off */
	struct notify		*notify;	/* owned */
	bool			 stopping;
	bool			 actions_handed_back;
	bool			 receiver_stopped;
};

static struct daemon *daemon_self;	/* for the stop callback */

static void
daemon_stop_done(struct daemon *d)
{
	if (!d->actions_handed_back || !d->receiver_stopped)
		return;
	if (d->ctx.brewery != NULL)
		brewery_stop(d->ctx.brewery);
	event_base_loopexit(d->base, NULL);
}

static void
daemon_all_handed_back(struct ctx *ctx)
{
	struct daemon *d = daemon_self;

	log_info("every open action is journaled and handed back");
	d->actions_handed_back = true;
	daemon_stop_done(d);
}

static void
daemon_receiver_stopped(struct ctx *ctx)
{
	struct daemon *d = daemon_self;

	d->receiver_stopped = true;
	daemon_stop_done(d);
}

static void
daemon_stop_guard_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	log_warnx("stop: %u actions not handed back within %ds; they come "
	    "back when their visibility times out", d->ctx.nactions,
	    DAEMON_STOP_GRACE_S);
	event_base_loopexit(d->base, NULL);
}

static void
daemon_stop(struct daemon *d, const char *why)
{
	struct timeval tv = { DAEMON_STOP_GRACE_S, 0 };

	if (d->stopping) {
		log_info("%s again: stopping now", why);
		event_base_loopexit(d->base, NULL);
		return;
	}
	d->stopping = true;
	d->ctx.stopping = true;
	log_info("%s: stopping (%u open action%s to hand back)", why,
	    d->ctx.nactions, d->ctx.nactions == 1 ? "" : "s");
	notify_stopping(d->notify);
	evtimer_add(d->stop_guard, &tv);
	if (d->ctx.nactions == 0) {
		/* nothing of ours becomes visible: no race to wait out */
		receiver_stop(d->ctx.receiver);
		d->receiver_stopped = true;
	} else {
		receiver_stop_handing_back(d->ctx.receiver,
		    daemon_receiver_stopped);
	}
	action_hand_back_all(&d->ctx, daemon_all_handed_back);
}

static void
daemon_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	int r;

	switch (sig) {
	case SIGTERM:
		daemon_stop(d, "SIGTERM");
		break;
	case SIGINT:
		daemon_stop(d, "SIGINT");
		break;
	case SIGHUP:
		if ((r = log_reopen()) != 0)
			log_warnx("SIGHUP: cannot reopen the log file: %s",
			    strerror(-r));
		if ((r = audit_reopen(d->audit)) != 0)
			log_warnx("SIGHUP: cannot reopen the audit trail %s: "
			    "%s", d->cfg->daemon.audit_log, strerror(-r));
		else
			log_info("SIGHUP: log and audit files reopened");
		break;
	}
}

static int
daemon_state_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0750) == -1 && errno != EEXIST)
		return -errno;
	if (stat(dir, &st) == -1)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return 0;
}

static void
daemon_aws_observer(const char *op, const struct aws_error *err,
    unsigned attempt, void *arg)
{
	struct daemon *d = arg;

	metrics_aws_attempt(d->ctx.metrics, op, err == NULL,
	    err != NULL && err->cls == AWS_CLASS_THROTTLED,
	    err != NULL ? err->code : NULL, attempt);
}

static void
daemon_occupant(const struct brewery_occupant *occ,
    enum brewery_change change, void *arg)
{
	struct daemon *d = arg;

	action_occupant(&d->ctx, occ, change == BREWERY_LEFT);
	protection_occupant(d->ctx.protection, occ);
}

static void
daemon_brewery_link(bool up, void *arg)
{
	struct daemon *d = arg;

	log_info("brewery %s: %s", d->cfg->xmpp.brewery, up ? "joined" :
	    "not in the room (the link is down or we were removed)");
	action_brewery_link(&d->ctx, up);
}

static int
daemon_open_brewery(struct daemon *d)
{
	const struct config *cfg = d->cfg;
	static const struct brewery_handlers handlers = {
		.occupant = daemon_occupant,
		.link = daemon_brewery_link,
	};
	struct xconn_config xc = {
		.server = cfg->xmpp.server,
		.port = cfg->xmpp.port,
		.domain = cfg->xmpp.domain,
		.username = cfg->xmpp.username,
		.password = cfg->xmpp.password,
		.tls = cfg->xmpp.tls,
		.ca_file = cfg->xmpp.ca_file,
		.ping_interval_s = (unsigned)(cfg->xmpp.ping_interval_ms /
		    1000),
	};

	d->ctx.brewery = brewery_new(d->base, &xc, cfg->xmpp.brewery,
	    cfg->xmpp.nickname, &handlers, d);
	if (d->ctx.brewery == NULL) {
		log_warnx("cannot set up the XMPP link for %s",
		    cfg->xmpp.brewery);
		return -EINVAL;
	}
	return 0;
}

static void
daemon_journal_entry(const struct journal_entry *je, void *arg)
{
	struct daemon *d = arg;

	action_resume(&d->ctx, je);
}

static void
daemon_journal_bad(const char *file, const char *why, void *arg)
{
	struct daemon *d = arg;
	struct audit_ctx actx = { 0 };
	json_t *f;

	log_warnx("journal entry %s is unusable (%s): quarantined", file,
	    why);
	f = json_pack("{s:s,s:s}", "file", file, "reason", why);
	audit_write(d->audit, &actx, "journal_quarantined", f);
	json_decref(f);
}

static int
daemon_open_parts(struct daemon *d)
{
	const struct config *cfg = d->cfg;
	struct ctx *ctx = &d->ctx;
	struct aws_config ac = {
		.region = cfg->aws.region,
		.endpoint_url = cfg->aws.endpoint_url,
		.max_attempts = cfg->aws.max_attempts,
		.budget_ms = (unsigned)cfg->aws.call_budget_ms,
	};
	int r;

	ctx->cfg = cfg;
	ctx->base = d->base;
	ctx->http = d->http;
	ctx->audit = d->audit;
	TAILQ_INIT(&ctx->actions);
	if ((ctx->aws = aws_new(d->base, d->http, &ac)) == NULL) {
		log_warnx("cannot set up AWS access (region %s)",
		    cfg->aws.region);
		return -EINVAL;
	}
	ctx->metrics = metrics_new();
	aws_set_observer(ctx->aws, daemon_aws_observer, d);
	ctx->hooks = hookinfo_new(d->base, ctx->aws);
	ctx->resolver = resolver_new(d->base, ctx->aws);
	ctx->finished = finished_new(16384);
	ctx->rebalancer = rebalancer_new(ctx);
	ctx->protection = protection_new(ctx);
	if ((r = journal_open(d->base, cfg->daemon.state_dir,
	    &ctx->journal)) != 0) {
		log_warnx("cannot open the journal in %s: %s",
		    cfg->daemon.state_dir, strerror(-r));
		return r;
	}
	ctx->receiver = receiver_new(ctx);
	if (cfg->xmpp.enabled && (r = daemon_open_brewery(d)) != 0)
		return r;
	d->notify = notify_new(ctx);
	/* asked for and not there would leave monitoring blind: refuse */
	if (cfg->daemon.admin_host != NULL && (d->admin = admin_new(ctx,
	    cfg->daemon.admin_host, cfg->daemon.admin_port)) == NULL)
		return -EADDRNOTAVAIL;
	return 0;
}

static int
daemon_open(struct daemon *d)
{
	const struct config *cfg = d->cfg;
	int r;

	if (cfg->daemon.log_file != NULL &&
	    (r = log_open_file(cfg->daemon.log_file)) != 0) {
		log_warnx("cannot open log file %s: %s", cfg->daemon.log_file,
		    strerror(-r));
		return r;
	}
	if ((r = daemon_state_dir(cfg->daemon.state_dir)) != 0) {
		log_warnx("state_dir %s: %s", cfg->daemon.state_dir,
		    strerror(-r));
		return r;
	}
	if ((r = audit_open(cfg->daemon.audit_log, &d->audit)) != 0) {
		log_warnx("cannot open the audit trail %s: %s",
		    cfg->daemon.audit_log, strerror(-r));
		return r;
	}
	if ((d->base = event_base_new()) == NULL) {
		log_warnx("event_base_new failed");
		return -ENOMEM;
	}
	log_route_libevent();
	d->sig_term = evsignal_new(d->base, SIGTERM, daemon_signal_cb, d);
	d->sig_int = evsignal_new(d->base, SIGINT, daemon_signal_cb, d);
	d->sig_hup = evsignal_new(d->base, SIGHUP, daemon_signal_cb, d);
	if (d->sig_term == NULL || d->sig_int == NULL || d->sig_hup == NULL ||
	    evsignal_add(d->sig_term, NULL) != 0 ||
	    evsignal_add(d->sig_int, NULL) != 0 ||
	    evsignal_add(d->sig_hup, NULL) != 0) {
		log_warnx("cannot install signal handlers");
		return -EIO;
	}
	signal(SIGPIPE, SIG_IGN);
	d->stop_guard = evtimer_new(d->base, daemon_stop_guard_cb, d);
	if (d->stop_guard == NULL)
		return -ENOMEM;
	d->http = http_new(d->base);
	if (cfg->aws.ca_file != NULL)
		http_set_ca_file(d->http, cfg->aws.ca_file);
	return daemon_open_parts(d);
}

static void
daemon_close(struct daemon *d)
{
	struct ctx *ctx = &d->ctx;

	admin_free(d->admin);
	notify_free(d->notify);
	receiver_free(ctx->receiver);
	action_free_all(ctx);
	journal_close(ctx->journal);
	brewery_free(ctx->brewery);
	resolver_free(ctx->resolver);
	hookinfo_free(ctx->hooks);
	finished_free(ctx->finished);
	rebalancer_free(ctx->rebalancer);
	protection_free(ctx->protection);
	aws_free(ctx->aws);
	metrics_free(ctx->metrics);
	if (d->stop_guard != NULL)
		event_free(d->stop_guard);
	http_free(d->http);
	if (d->sig_term != NULL)
		event_free(d->sig_term);
	if (d->sig_int != NULL)
		event_free(d->sig_int);
	if (d->sig_hup != NULL)
		event_free(d->sig_hup);
	if (d->base != NULL)
		event_base_free(d->base);
	audit_close(d->audit);
	log_close();
}

int
daemon_run(const struct config *cfg)
{
	struct daemon d;
	int r;

	memset(&d, 0, sizeof(d));
	d.cfg = cfg;
	if ((r = daemon_open(&d)) != 0) {
		daemon_close(&d);
		return r;
	}
	daemon_self = &d;
	aws_creds_start(d.ctx.aws);
	if ((r = journal_load(d.ctx.journal, daemon_journal_entry,
	    daemon_journal_bad, &d)) > 0)
		log_info("resumed %d lifecycle action%s from the journal", r,
		    r == 1 ? "" : "s");
	if (d.ctx.brewery != NULL)
		brewery_start(d.ctx.brewery);
	receiver_start(d.ctx.receiver);
	protection_start(d.ctx.protection);
	log_info("jvb-lifecycled %s ready: queue %s, region %s%s%s",
	    JL_VERSION, cfg->aws.queue_url, cfg->aws.region,
	    d.ctx.brewery != NULL ? ", brewery " : "",
	    d.ctx.brewery != NULL ? cfg->xmpp.brewery : "");
	if (cfg->daemon.dry_run)
		log_info("dry run: nothing will be drained, shut down, "
		    "heartbeated, completed or deleted");
	notify_ready(d.notify);
	r = event_base_dispatch(d.base) == -1 ? -EIO : 0;
	daemon_self = NULL;
	daemon_close(&d);
	log_info("stopped");
	return r;
}
