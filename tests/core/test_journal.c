/*
 * The journal: entries survive a dump/parse round trip; loading hands every
 * valid entry over and quarantines the corrupt ones without stopping; a
 * write cut short by a crash (a leftover .tmp) is cleaned up.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handler/journal.h"
#include "tests/test.h"

static char dir[] = "/tmp/jl-journal-XXXXXX";

static struct journal_entry
sample(const char *token, const char *instance)
{
	struct journal_entry je;

	memset(&je, 0, sizeof(je));
	je.transition = LIFECYCLE_TERMINATING;
	snprintf(je.token, sizeof(je.token), "%s", token);
	snprintf(je.group, sizeof(je.group), "jvb-eu");
	snprintf(je.hook, sizeof(je.hook), "jvb-drain");
	snprintf(je.instance, sizeof(je.instance), "%s", instance);
	snprintf(je.receipt, sizeof(je.receipt), "AQEB+receipt/handle==");
	snprintf(je.message_id, sizeof(je.message_id), "m-1");
	snprintf(je.phase, sizeof(je.phase), "draining");
	snprintf(je.ip, sizeof(je.ip), "10.0.3.17");
	je.started_wall_ms = 1795496384000;
	je.event_wall_ms = 1795496383000;
	je.deadline_wall_ms = 1795503584000;
	je.heartbeat_expires_wall_ms = 1795496414000;
	je.heartbeat_timeout_s = 30;
	je.heartbeats = 3;
	je.drain_enabled = true;
	je.graceful_accepted = true;
	return je;
}

static void
write_text(const char *name, const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/actions/%s", dir, name);
	fp = fopen(path, "w");
	test_assert(fp != NULL);
	fputs(text, fp);
	fclose(fp);
}

static void
test_roundtrip(void)
{
	struct journal_entry a = sample("465e0162-e6af-4786-b4e8-bb544ae58790",
	    "i-05629ab7d9287e205"), b;
	char why[256], *text;

	text = journal_entry_dump(&a);
	test_assert(text != NULL);
	test_assert_int(journal_entry_parse(text, strlen(text), &b, why,
	    sizeof(why)), 0);
	test_assert(memcmp(&a, &b, sizeof(a)) == 0);
	free(text);
	test_assert_int(journal_entry_parse("{}", 2, &b, why, sizeof(why)),
	    -EPROTO);
	test_assert(strstr(why, "bad entry") != NULL);
	test_assert_int(journal_entry_parse("nope", 4, &b, why, sizeof(why)),
	    -EPROTO);
}

static int nloaded, nbad;
static char bad_names[8][256];

static void
loaded_cb(const struct journal_entry *je, void *arg)
{
	test_assert_str(je->instance, "i-05629ab7d9287e205");
	test_assert_int(je->heartbeats, 3);
	nloaded++;
}

static void
bad_cb(const char *file, const char *why, void *arg)
{
	snprintf(bad_names[nbad++ % 8], 256, "%s: %s", file, why);
}

static void
test_load_and_quarantine(void)
{
	struct journal *j;
	struct journal_entry good = sample(
	    "465e0162-e6af-4786-b4e8-bb544ae58790", "i-05629ab7d9287e205");
	struct journal_entry badinst = sample(
	    "11111111-2222-3333-4444-555555555555", "i-nothex");
	char *text, path[512];
	struct stat st;
	DIR *d;
	struct dirent *de;
	int n, quarantined = 0;

	test_assert_int(journal_open(NULL, dir, &j), 0);
	text = journal_entry_dump(&good);
	write_text("465e0162-e6af-4786-b4e8-bb544ae58790.json", text);
	/* the same entry under a name that does not match its token */
	write_text("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee.json", text);
	free(text);
	text = journal_entry_dump(&badinst);
	write_text("11111111-2222-3333-4444-555555555555.json", text);
	free(text);
	write_text("99999999-2222-3333-4444-555555555555.json",
	    "{\"version\":1,\"token\":");
	write_text(".465e0162-e6af-4786-b4e8-bb544ae58790.tmp", "{half");
	write_text("README", "not an entry");

	n = journal_load(j, loaded_cb, bad_cb, NULL);
	test_assert_int(n, 1);
	test_assert_int(nloaded, 1);
	test_assert_int(nbad, 3);
	/* the leftover temporary file is gone, the foreign file stays */
	snprintf(path, sizeof(path), "%s/actions/.465e0162-e6af-4786-b4e8-"
	    "bb544ae58790.tmp", dir);
	test_assert(stat(path, &st) == -1 && errno == ENOENT);
	snprintf(path, sizeof(path), "%s/actions/README", dir);
	test_assert(stat(path, &st) == 0);
	snprintf(path, sizeof(path), "%s/quarantine", dir);
	d = opendir(path);
	test_assert(d != NULL);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			quarantined++;
	closedir(d);
	test_assert_int(quarantined, 3);
	/* a second load sees only the good one */
	nloaded = nbad = 0;
	test_assert_int(journal_load(j, loaded_cb, bad_cb, NULL), 1);
	test_assert_int(nbad, 0);
	/* removal */
	journal_action_removed(j, "465e0162-e6af-4786-b4e8-bb544ae58790");
	nloaded = 0;
	test_assert_int(journal_load(j, loaded_cb, bad_cb, NULL), 0);
	journal_close(j);
}

int
main(void)
{
	char cmd[600];

	test_assert(mkdtemp(dir) != NULL);
	test_run(test_roundtrip);
	test_run(test_load_and_quarantine);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
