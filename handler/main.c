/*
 * jvb-lifecycled: the command line.  `run` is the daemon (foreground, for
 * systemd); the other subcommands are operator tools.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler/cli.h"
#include "handler/config.h"
#include "handler/daemon.h"
#include "handler/log.h"

static void
main_usage(FILE *fp)
{
	fprintf(fp,
"usage: jvb-lifecycled COMMAND [OPTIONS]\n"
"\n"
"Handles AWS Auto Scaling lifecycle hooks for Jitsi Videobridge fleets:\n"
"drains a bridge before it is terminated, admits a new one only once it is\n"
"in the brewery, and keeps an audit trail of every step.\n"
"\n"
"Commands:\n"
"  run -c FILE [-d]      run the daemon in the foreground (for systemd)\n"
"  check -c FILE         validate the configuration\n"
"  status [-c FILE | --admin HOST:PORT]\n"
"                        the open lifecycle actions of a running daemon\n"
"  probe-bridge HOST [--port N] [-c FILE]\n"
"                        check a bridge's REST API (read-only) and say\n"
"                        which settings to fix\n"
"  drain INSTANCE-ID|HOST [--dry-run] [-c FILE]\n"
"                        drain a bridge by hand, outside any hook\n"
"  audit [FILE] [--instance ID] [--action TOKEN] [-c FILE]\n"
"                        each lifecycle action's story from the audit trail\n"
"  --version             print the version\n"
"  --help                this text (COMMAND --help for a command's own)\n"
"\n"
"Options:\n"
"  -c, --config FILE     configuration file\n"
"                        (default /etc/jvb-lifecycled/jvb-lifecycled.conf)\n"
"  -d, --debug           log at debug level\n");
}

#define MAIN_DEFAULT_CONFIG "/etc/jvb-lifecycled/jvb-lifecycled.conf"

struct main_opts {
	const char	*config;
	bool		 debug;
};

static int
main_parse_opts(int argc, char *argv[], struct main_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	o->config = MAIN_DEFAULT_CONFIG;
	o->debug = false;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:dh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'd':
			o->debug = true;
			break;
		case 'h':
			main_usage(stdout);
			exit(0);
		default:
			main_usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "jvb-lifecycled: unexpected argument: %s\n",
		    argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static int
main_load(const struct main_opts *o, struct config *cfg, bool quiet_ok)
{
	struct config_errors errs;
	size_t i;

	if (config_load(o->config, cfg, &errs) != 0) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		fprintf(stderr, "jvb-lifecycled: %zu error%s in the "
		    "configuration\n", errs.n, errs.n == 1 ? "" : "s");
		config_errors_finish(&errs);
		config_free(cfg);
		return -EINVAL;
	}
	(void)quiet_ok;
	return 0;
}

static int
main_check(int argc, char *argv[])
{
	struct main_opts o;
	struct config cfg;

	if (main_parse_opts(argc, argv, &o) != 0)
		return 2;
	if (main_load(&o, &cfg, true) != 0)
		return 1;
	printf("configuration OK\n");
	config_free(&cfg);
	return 0;
}

static int
main_run(int argc, char *argv[])
{
	struct main_opts o;
	struct config cfg;
	int r;

	log_init(LOG_LEVEL_INFO);
	if (main_parse_opts(argc, argv, &o) != 0)
		return 2;
	if (main_load(&o, &cfg, false) != 0)
		return 1;
	log_setlevel(o.debug ? LOG_LEVEL_DEBUG : cfg.daemon.log_level);
	r = daemon_run(&cfg);
	config_free(&cfg);
	return r == 0 ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (cmd == NULL) {
		main_usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("jvb-lifecycled %s\n", JL_VERSION);
		return 0;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		main_usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "run") == 0)
		return main_run(argc - 1, argv + 1);
	if (strcmp(cmd, "check") == 0)
		return main_check(argc - 1, argv + 1);
	return cli_dispatch(cmd, argc - 1, argv + 1);
}
