/*
 * Start-up order: state dir and audit trail first (nothing may happen that
 * is not audited), then the loop and its signals, then the network parts.
 * Teardown runs in reverse.
 */
#include <sys/stat.h>

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "handler/audit.h"
#include "handler/config.h"
#include "handler/daemon.h"
#include "handler/http.h"
#include "handler/log.h"
#include "handler/xmalloc.h"

struct daemon {
	const struct config	*cfg;
	struct event_base	*base;		/* owned */
	struct event		*sig_term;	/* owned */
	struct event		*sig_int;	/* owned */
	struct event		*sig_hup;	/* owned */
	struct http		*http;		/* owned */
	struct audit		*audit;		/* owned */
};

static void
daemon_stop(struct daemon *d, const char *why)
{
	log_info("%s: stopping", why);
	event_base_loopexit(d->base, NULL);
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
	d->http = http_new(d->base);
	if (cfg->aws.ca_file != NULL)
		http_set_ca_file(d->http, cfg->aws.ca_file);
	return 0;
}

static void
daemon_close(struct daemon *d)
{
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
	log_info("jvb-lifecycled %s ready: queue %s, region %s%s",
	    JL_VERSION, cfg->aws.queue_url, cfg->aws.region,
	    cfg->daemon.dry_run ? " (dry run: nothing will be changed)" : "");
	r = event_base_dispatch(d.base) == -1 ? -EIO : 0;
	daemon_close(&d);
	log_info("stopped");
	return r;
}
