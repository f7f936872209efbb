/*
 * `jvb-lifecycled audit [FILE]`: the audit trail (JSON lines, see
 * audit.h) told as one timeline per lifecycle action, with times relative
 * to the action's first record and each step's own fields.  The file is
 * read as untrusted text: a line that is not a record is reported with
 * its line number and skipped, and every value is sanitized and cut
 * before it is printed.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler/buf.h"
#include "handler/cli_cmd.h"
#include "handler/config.h"
#include "handler/log.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"

#define CLI_AUDIT_VALUE_MAX	120	/* characters of one value shown */

struct cli_audit_group {
	char		*token;		/* owned; NULL: no action */
	json_t		*records;	/* owned; array, file order */
};

struct cli_audit {
	struct cli_audit_group	*groups;	/* owned */
	size_t			 ngroups;
	json_t			*index;		/* owned: token -> group */
	const char		*want_instance;
	const char		*want_action;	/* a prefix of the token */
	unsigned long		 records, bad;
};

static const char *const cli_audit_base[] = {
	"time", "action", "instance", "group", "hook", "transition", "step",
};

static void
cli_audit_usage(FILE *fp)
{
	fprintf(fp,
"usage: jvb-lifecycled audit [FILE] [--instance ID] [--action TOKEN]\n"
"           [-c FILE]\n"
"\n"
"Print the audit trail as one timeline per lifecycle action: each step\n"
"with its time from the action's start and its details, then how it\n"
"ended.  Lines that are not audit records are reported and skipped.\n"
"\n"
"  FILE               the audit trail (default: [daemon] audit_log)\n"
"  --instance ID      only the actions about this instance\n"
"  --action TOKEN     only this action (a prefix of its token is enough)\n"
"  -c, --config FILE  configuration (default %s)\n",
	    CLI_DEFAULT_CONFIG);
}

static const char *
cli_audit_field(json_t *rec, const char *key)
{
	json_t *v = json_object_get(rec, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool
cli_audit_is_base(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(cli_audit_base) / sizeof(cli_audit_base[0]);
	    i++)
		if (strcmp(key, cli_audit_base[i]) == 0)
			return true;
	return false;
}

static struct cli_audit_group *
cli_audit_group(struct cli_audit *a, const char *token)
{
	const char *key = token != NULL ? token : "";
	json_t *idx = json_object_get(a->index, key);
	struct cli_audit_group *g;

	if (json_is_integer(idx))
		return &a->groups[json_integer_value(idx)];
	a->groups = xreallocarray(a->groups, a->ngroups + 1,
	    sizeof(*a->groups));
	g = &a->groups[a->ngroups];
	g->token = token != NULL ? xstrdup(token) : NULL;
	g->records = json_array();
	json_object_set_new(a->index, key, json_integer(
	    (json_int_t)a->ngroups));
	a->ngroups++;
	return g;
}

static bool
cli_audit_wanted(const struct cli_audit *a, json_t *rec)
{
	const char *inst = cli_audit_field(rec, "instance");
	const char *tok = cli_audit_field(rec, "action");

	if (a->want_instance != NULL && (inst == NULL ||
	    strcmp(inst, a->want_instance) != 0))
		return false;
	if (a->want_action != NULL && (tok == NULL || strncmp(tok,
	    a->want_action, strlen(a->want_action)) != 0))
		return false;
	return true;
}

static void
cli_audit_line(struct cli_audit *a, const char *file, unsigned long lineno,
    const char *line, size_t len)
{
	json_error_t jerr;
	json_t *rec;
	char why[160];
	const char *step;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len == 0)
		return;
	rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (rec == NULL) {
		cli_sanitize(why, sizeof(why), jerr.text);
		fprintf(stderr, "%s:%lu: skipped: not JSON (%s)\n", file,
		    lineno, why);
		a->bad++;
		return;
	}
	if (!json_is_object(rec) || (step = cli_audit_field(rec, "step")) ==
	    NULL || *step == '\0') {
		fprintf(stderr, "%s:%lu: skipped: not an audit record (no "
		    "\"step\")\n", file, lineno);
		json_decref(rec);
		a->bad++;
		return;
	}
	if (cli_audit_wanted(a, rec)) {
		json_array_append(cli_audit_group(a, cli_audit_field(rec,
		    "action"))->records, rec);
		a->records++;
	}
	json_decref(rec);
}

/* One value as text: sanitized, cut, quoted when it has spaces. */
static void
cli_audit_value(json_t *v, struct buf *out)
{
	char text[CLI_AUDIT_VALUE_MAX + 1], *dump = NULL;
	const char *s;

	if (json_is_string(v)) {
		s = json_string_value(v);
	} else if (json_is_object(v) || json_is_array(v) || json_is_real(v) ||
	    json_is_integer(v)) {
		dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
		    JSON_ENSURE_ASCII);
		s = dump != NULL ? dump : "?";
	} else {
		s = json_is_true(v) ? "true" : json_is_false(v) ? "false" :
		    "null";
	}
	cli_sanitize(text, sizeof(text), s);
	if (json_is_string(v) && (strchr(text, ' ') != NULL || *text == '\0'))
		buf_printf(out, "\"%s\"", text);
	else
		buf_puts(out, text);
	free(dump);
}

static bool
cli_audit_time(json_t *rec, int64_t *ret)
{
	const char *t = cli_audit_field(rec, "time");

	return t != NULL && timeutil_parse_iso8601(t, ret) == 0;
}

static void
cli_audit_print_record(json_t *rec, int64_t t0, bool relative)
{
	char when[48], d[32], step[40], k[48];
	const char *key;
	json_t *v;
	struct buf out;
	int64_t t;

	if (!cli_audit_time(rec, &t))
		snprintf(when, sizeof(when), "?");
	else if (relative)
		snprintf(when, sizeof(when), "+%s", cli_duration(t - t0, d,
		    sizeof(d)));
	else
		timeutil_rfc3339(t, when, sizeof(when));
	cli_sanitize(step, sizeof(step), cli_audit_field(rec, "step"));
	buf_init(&out);
	json_object_foreach(rec, key, v) {
		if (cli_audit_is_base(key) || json_is_null(v))
			continue;
		cli_sanitize(k, sizeof(k), key);
		buf_printf(&out, " %s=", k);
		cli_audit_value(v, &out);
	}
	printf("  %*s  %-20s%s\n", relative ? 9 : 24, when, step,
	    out.data != NULL ? out.data : "");
	buf_finish(&out);
}

/* How the action ended, from its last telling record. */
static void
cli_audit_outcome(json_t *records, int64_t t0)
{
	json_t *rec, *last = NULL;
	const char *step;
	char result[32], reason[400], d[32];
	int64_t t = 0;
	size_t i;

	json_array_foreach(records, i, rec) {
		step = cli_audit_field(rec, "step");
		if (strcmp(step, "completed") == 0 ||
		    strcmp(step, "already_over") == 0 ||
		    strcmp(step, "would_complete") == 0 ||
		    strcmp(step, "handed_back") == 0 ||
		    strcmp(step, "resumed") == 0)
			last = rec;
	}
	rec = json_array_get(records, json_array_size(records) - 1);
	if (last == NULL || !cli_audit_time(last, &t))
		t = t0;
	cli_duration(t - t0, d, sizeof(d));
	if (last == NULL) {
		cli_sanitize(reason, sizeof(reason), cli_audit_field(rec,
		    "step"));
		printf("  => not finished in this file (last step: %s)\n",
		    reason);
		return;
	}
	step = cli_audit_field(last, "step");
	cli_sanitize(result, sizeof(result), cli_audit_field(last, "result"));
	cli_sanitize(reason, sizeof(reason), cli_audit_field(last, "reason"));
	if (strcmp(step, "completed") == 0)
		printf("  => %s after %s: %s\n", result, d, reason);
	else if (strcmp(step, "would_complete") == 0)
		printf("  => dry run: would have completed with %s after %s: "
		    "%s\n", result, d, reason);
	else if (strcmp(step, "already_over") == 0)
		printf("  => already over at AWS after %s (%s)\n", d, reason);
	else if (strcmp(step, "handed_back") == 0)
		printf("  => handed back after %s: the daemon stopped; a "
		    "replica or the next start resumes it\n", d);
	else
		printf("  => resumed after a restart and not finished in "
		    "this file\n");
}

static void
cli_audit_print_group(const struct cli_audit_group *g)
{
	json_t *first = json_array_get(g->records, 0), *rec;
	char inst[40], tr[16], grp[80], hook[80], tok[80], when[40];
	int64_t t0 = 0;
	size_t i;

	if (!cli_audit_time(first, &t0))
		t0 = 0;
	if (g->token == NULL) {
		printf("=== records about no lifecycle action (%zu)\n",
		    json_array_size(g->records));
		json_array_foreach(g->records, i, rec)
			cli_audit_print_record(rec, 0, false);
		printf("\n");
		return;
	}
	cli_sanitize(inst, sizeof(inst), cli_audit_field(first, "instance"));
	cli_sanitize(tr, sizeof(tr), cli_audit_field(first, "transition"));
	cli_sanitize(grp, sizeof(grp), cli_audit_field(first, "group"));
	cli_sanitize(hook, sizeof(hook), cli_audit_field(first, "hook"));
	cli_sanitize(tok, sizeof(tok), g->token);
	if (t0 != 0)
		timeutil_rfc3339(t0, when, sizeof(when));
	else
		snprintf(when, sizeof(when), "?");
	printf("=== %s %s (group %s, hook %s)\n    action %s, from %s\n",
	    inst[0] ? inst : "?", tr[0] ? tr : "?", grp[0] ? grp : "?",
	    hook[0] ? hook : "?", tok, when);
	json_array_foreach(g->records, i, rec)
		cli_audit_print_record(rec, t0, true);
	cli_audit_outcome(g->records, t0);
	printf("\n");
}

static void
cli_audit_free(struct cli_audit *a)
{
	size_t i;

	for (i = 0; i < a->ngroups; i++) {
		free(a->groups[i].token);
		json_decref(a->groups[i].records);
	}
	free(a->groups);
	json_decref(a->index);
}

int
cli_audit_main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "instance", required_argument, NULL, 'i' },
		{ "action", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *file = NULL;
	struct cli_audit a;
	struct config cfg;
	bool have_cfg = false;
	char *line = NULL, name[256];
	size_t cap = 0, i, nactions = 0;
	unsigned long lineno = 0;
	ssize_t n;
	FILE *fp;
	int ch, r;

	memset(&a, 0, sizeof(a));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'i':
			a.want_instance = optarg;
			break;
		case 'a':
			a.want_action = optarg;
			break;
		case 'h':
			cli_audit_usage(stdout);
			return 0;
		default:
			cli_audit_usage(stderr);
			return 2;
		}
	}
	if (argc - optind > 1 || (a.want_action != NULL &&
	    *a.want_action == '\0')) {
		cli_audit_usage(stderr);
		return 2;
	}
	log_init(LOG_LEVEL_WARNING);
	if (optind < argc) {
		file = argv[optind];
	} else {
		if ((r = cli_load_config(config, &cfg)) != 0) {
			if (r == -ENOENT)
				fprintf(stderr, "jvb-lifecycled audit: no "
				    "FILE and no %s to find [daemon] "
				    "audit_log in\n", CLI_DEFAULT_CONFIG);
			return 1;
		}
		have_cfg = true;
		file = cfg.daemon.audit_log;
	}
	cli_sanitize(name, sizeof(name), file);
	if ((fp = fopen(file, "re")) == NULL) {
		fprintf(stderr, "jvb-lifecycled audit: %s: %s\n", name,
		    strerror(errno));
		if (have_cfg)
			config_free(&cfg);
		return 1;
	}
	a.index = json_object();
	while ((n = getline(&line, &cap, fp)) != -1)
		cli_audit_line(&a, name, ++lineno, line, (size_t)n);
	if (ferror(fp))
		fprintf(stderr, "jvb-lifecycled audit: %s: read error: %s\n",
		    name, strerror(errno));
	free(line);
	fclose(fp);
	/* actions first, in the order they appear; loose records last */
	for (i = 0; i < a.ngroups; i++)
		if (a.groups[i].token != NULL) {
			cli_audit_print_group(&a.groups[i]);
			nactions++;
		}
	for (i = 0; i < a.ngroups; i++)
		if (a.groups[i].token == NULL)
			cli_audit_print_group(&a.groups[i]);
	printf("%zu action%s, %lu record%s", nactions, nactions == 1 ? "" :
	    "s", a.records, a.records == 1 ? "" : "s");
	if (a.bad > 0)
		printf("; %lu malformed line%s skipped", a.bad, a.bad == 1 ?
		    "" : "s");
	printf("\n");
	r = 0;
	if (a.records == 0 && (a.want_instance != NULL ||
	    a.want_action != NULL)) {
		fprintf(stderr, "jvb-lifecycled audit: no record matches\n");
		r = 1;
	}
	cli_audit_free(&a);
	if (have_cfg)
		config_free(&cfg);
	return r;
}
