/*
 * fakebridge: N fake Jitsi Videobridges in one process on one libevent
 * loop, driven by tests through the control API (control.c).  See
 * tests/harness/fakebridge.py for the Python driver.
 *
 *   fakebridge [-v] [--control-address A] [--control-port P]
 *              [--ready-file FILE] [--config FILE] [--log-file FILE]
 *
 * --config takes {"defaults": {...}, "bridges": [...]} (or just the
 * array); the defaults also apply to bridges added later.  Once the
 * control API listens and the configured bridges are up, the ready file
 * gets {"pid", "control_port", "control_url", "bridges"}.  SIGTERM or
 * SIGINT: every bridge leaves its MUC, then the process exits 0.
 */
#include <sys/resource.h>
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handler/log.h"
#include "handler/xmalloc.h"
#include "tests/fakebridge/bridge.h"
#include "tests/fakebridge/control.h"
#include "tests/fakebridge/options.h"

#define MAIN_QUIESCE_MS		3000
#define MAIN_QUIESCE_STEP_MS	50

struct main_ctx {
	struct event_base *base;	/* owned */
	struct bridge_set *set;		/* owned */
	struct control	*control;	/* owned */
	struct event	*sigterm;	/* owned */
	struct event	*sigint;	/* owned */
	struct event	*quiesce;	/* owned */
	int		 quiesce_left_ms;
};

static void
main_usage(void)
{
	fprintf(stderr, "usage: fakebridge [-v] [--control-address ADDR] "
	    "[--control-port PORT] [--ready-file FILE] [--config FILE] "
	    "[--log-file FILE]\n");
	exit(2);
}

/* Each bridge needs a listener and maybe an XMPP socket. */
static void
main_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit(RLIMIT_NOFILE)");
	}
}

static void
main_quiesce_cb(evutil_socket_t fd, short what, void *arg)
{
	struct main_ctx *mc = arg;
	struct timeval tv = { 0, MAIN_QUIESCE_STEP_MS * 1000 };

	mc->quiesce_left_ms -= MAIN_QUIESCE_STEP_MS;
	if (bridge_set_quiesce(mc->set) || mc->quiesce_left_ms <= 0) {
		event_base_loopexit(mc->base, NULL);
		return;
	}
	evtimer_add(mc->quiesce, &tv);
}

static void
main_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct main_ctx *mc = arg;
	struct timeval zero = { 0, 0 };

	if (mc->quiesce != NULL) {
		/* A second signal: do not wait for the goodbyes. */
		event_base_loopexit(mc->base, NULL);
		return;
	}
	log_info("signal %d: leaving the MUCs and stopping", (int)sig);
	mc->quiesce_left_ms = MAIN_QUIESCE_MS;
	if ((mc->quiesce = evtimer_new(mc->base, main_quiesce_cb, mc)) == NULL)
		fatalx("evtimer_new");
	evtimer_add(mc->quiesce, &zero);
}

static int
main_load_config(struct main_ctx *mc, const char *path)
{
	json_error_t jerr;
	json_t *root, *defaults, *bridges, *ids = NULL;
	char err[512];
	int r = 0;

	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		log_warnx("%s:%d: %s", path, jerr.line, jerr.text);
		return -EINVAL;
	}
	bridges = root;
	if (json_is_object(root)) {
		defaults = json_object_get(root, "defaults");
		bridges = json_object_get(root, "bridges");
		if (bridges == NULL || json_object_size(root) !=
		    (defaults != NULL ? 2u : 1u)) {
			log_warnx("%s: expected {\"defaults\": {...}, "
			    "\"bridges\": [...]}", path);
			r = -EINVAL;
			goto out;
		}
		if (defaults != NULL && control_set_defaults(mc->control,
		    defaults, err, sizeof(err)) < 0) {
			log_warnx("%s: %s", path, err);
			r = -EINVAL;
			goto out;
		}
	}
	if ((r = control_add_bridges(mc->control, bridges, &ids, err,
	    sizeof(err))) < 0)
		log_warnx("%s: %s", path, err);
	else
		log_info("%s: %zu bridge(s) up", path, json_array_size(ids));
out:
	json_decref(ids);
	json_decref(root);
	return r;
}

static int
main_write_ready(struct main_ctx *mc, const char *path, const char *address)
{
	char *tmp, *url;
	json_t *j;
	int r = 0;

	url = xasprintf("http://%s:%u", address,
	    (unsigned)control_port(mc->control));
	j = json_pack("{si si ss si}", "pid", (int)getpid(), "control_port",
	    (int)control_port(mc->control), "control_url", url, "bridges",
	    (int)mc->set->count);
	tmp = xasprintf("%s.tmp", path);
	if (json_dump_file(j, tmp, JSON_COMPACT) == -1 ||
	    rename(tmp, path) == -1) {
		log_warn("ready file %s", path);
		unlink(tmp);
		r = -EIO;
	}
	free(tmp);
	free(url);
	json_decref(j);
	return r;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "control-address", required_argument, NULL, 'a' },
		{ "control-port", required_argument, NULL, 'p' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "log-file", required_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct main_ctx mc;
	const char *address = "127.0.0.1", *ready = NULL, *config = NULL;
	const char *logfile = NULL;
	unsigned long port = 0;
	char err[256], *end;
	int ch, rc = 0;
	bool verbose = false;

	while ((ch = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			if (!options_valid_token(optarg, 15, ".") ||
			    strncmp(optarg, "127.", 4) != 0)
				main_usage();
			address = optarg;
			break;
		case 'p':
			port = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || port > 65535)
				main_usage();
			break;
		case 'r':
			ready = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'l':
			logfile = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			main_usage();
		}
	}
	if (optind != argc)
		main_usage();

	log_init(verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if (logfile != NULL && log_open_file(logfile) < 0)
		fatal("%s", logfile);
	log_route_libevent();
	signal(SIGPIPE, SIG_IGN);
	main_raise_nofile();

	memset(&mc, 0, sizeof(mc));
	if ((mc.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	mc.set = bridge_set_new(mc.base);
	mc.control = control_new(mc.base, mc.set, address, (uint16_t)port, err,
	    sizeof(err));
	if (mc.control == NULL) {
		log_warnx("%s", err);
		rc = 1;
		goto out;
	}
	mc.sigterm = evsignal_new(mc.base, SIGTERM, main_signal_cb, &mc);
	mc.sigint = evsignal_new(mc.base, SIGINT, main_signal_cb, &mc);
	if (mc.sigterm == NULL || mc.sigint == NULL)
		fatalx("evsignal_new");
	evsignal_add(mc.sigterm, NULL);
	evsignal_add(mc.sigint, NULL);
	if (config != NULL && main_load_config(&mc, config) < 0) {
		rc = 1;
		goto out;
	}
	log_info("control API on http://%s:%u", address,
	    (unsigned)control_port(mc.control));
	if (ready != NULL && main_write_ready(&mc, ready, address) < 0) {
		rc = 1;
		goto out;
	}
	event_base_dispatch(mc.base);
	log_info("stopped");
out:
	control_free(mc.control);
	bridge_set_free(mc.set);
	if (mc.quiesce != NULL)
		event_free(mc.quiesce);
	if (mc.sigterm != NULL)
		event_free(mc.sigterm);
	if (mc.sigint != NULL)
		event_free(mc.sigint);
	event_base_free(mc.base);
	log_close();
	return rc;
}
