/*
 * A driver for the XMPP integration tests (test_xconn.py, test_brewery.py,
 * test_xconn_idle.py): runs one xconn, or one brewery watcher, on a
 * libevent loop, plus "publishers" (more xconns that join the brewery with
 * colibri stats presences, standing in for bridges).  Commands come one a
 * line on stdin, events go out as JSON lines on stdout.
 *
 * Usage: test_xconn_probe --server IP --port N --domain D --user U
 *   --password-file F [--tls] [--ca-file F] [--room JID --nick N]
 *   [--ping-interval S] [--ping-timeout S] [--connect-timeout S]
 *   [--reconnect-min MS] [--reconnect-max MS] [--debug]
 *
 * Commands:
 *   start                       start the xconn / the brewery watcher
 *   stop                        xconn_stop / brewery_stop
 *   status                      one "status" event
 *   dump                        one "occupant" event per known occupant
 *   pub ID USER PWFILE NICK     a publisher joins the room as NICK
 *   stats ID k=v [k=v ...]      its stats presence (sent now and on rejoin)
 *   bigstats ID N               a presence with N padding stats (bytes)
 *   bigvalue ID N               a stat whose value is N bytes long
 *   unpub ID                    leave the room and free the publisher
 *   idle SECONDS                report wake-ups and CPU over that time
 *   quit                        free everything and exit 0
 */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "drain/brewery.h"
#include "drain/xconn.h"
#include "handler/log.h"
#include "handler/secret.h"
#include "handler/timeutil.h"
#include "handler/xmalloc.h"

#define MAX_PUBS	8

struct pub {
	int		 id;
	struct xconn	*xc;
	char		*nick;
	char		*stats;		/* "k=v k=v", owned */
	size_t		 big;		/* padding stats bytes, 0: none */
	size_t		 bigvalue;	/* one stat with a value this long */
	bool		 joined;
};

static struct event_base *base;
static struct xconn_config cfg;
static char *room;
static char *nick;
static struct xconn *xc;		/* plain mode */
static struct brewery *brew;		/* brewery mode */
static struct pub pubs[MAX_PUBS];
static struct event *stdin_ev, *idle_ev;
static char line[65536];
static size_t line_len;
static struct xconn_counters idle_c0;
static double idle_cpu0;
static int64_t idle_t0;

static void __attribute__((format(printf, 1, 2)))
emit(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* JSON string body: the inputs are printable already, escape " and \. */
static const char *
js(const char *s, char *out, size_t outlen)
{
	size_t o = 0;

	for (; s != NULL && *s != '\0' && o + 7 < outlen; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			o += (size_t)snprintf(out + o, outlen - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return out;
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static struct xconn *
main_xconn(void)
{
	return brew != NULL ? brewery_xconn(brew) : xc;
}

/* ---- plain xconn mode ---- */

static void
on_up(void *arg)
{
	char b[400];

	(void)arg;
	emit("{\"ev\":\"up\",\"jid\":\"%s\"}",
	    js(xconn_bound_jid(xc), b, sizeof(b)));
}

static void
on_down(int error, const char *why, void *arg)
{
	char b[256];

	(void)arg;
	emit("{\"ev\":\"down\",\"error\":%d,\"why\":\"%s\"}", error,
	    js(why, b, sizeof(b)));
}

static void
on_stanza(xmpp_stanza_t *stanza, void *arg)
{
	char b[64];

	(void)arg;
	emit("{\"ev\":\"stanza\",\"name\":\"%s\"}",
	    js(xmpp_stanza_get_name(stanza), b, sizeof(b)));
}

/* ---- brewery mode ---- */

static void
print_occupant(const struct brewery_occupant *o, const char *change)
{
	char n[300], v[160];

	emit("{\"ev\":\"occupant\",\"change\":\"%s\",\"nick\":\"%s\","
	    "\"present\":%s,\"has_stats\":%s,\"participants\":%d,"
	    "\"local_endpoints\":%d,\"has_drain\":%s,\"drain\":%s,"
	    "\"graceful_shutdown\":%s,\"shutting_down\":%s,"
	    "\"stress_level\":%g,\"version\":\"%s\",\"presences\":%u,"
	    "\"bad_stats\":%u,\"had_stats\":%s,\"prev_participants\":%d,"
	    "\"nstats\":%u,\"left_ms\":%lld}",
	    change, js(o->nickname, n, sizeof(n)),
	    o->present ? "true" : "false", o->has_stats ? "true" : "false",
	    o->stats.participants, o->stats.local_endpoints,
	    o->stats.has_drain ? "true" : "false",
	    o->stats.drain ? "true" : "false",
	    o->stats.graceful_shutdown ? "true" : "false",
	    o->stats.shutting_down ? "true" : "false",
	    o->stats.stress_level, js(o->stats.version, v, sizeof(v)),
	    o->presences, o->bad_stats, o->had_stats ? "true" : "false",
	    o->prev_stats.participants, o->stats.nstats,
	    (long long)o->left_ms);
}

static void
on_occupant(const struct brewery_occupant *o, enum brewery_change change,
    void *arg)
{
	static const char *const names[] = {
		[BREWERY_JOINED] = "joined",
		[BREWERY_UPDATED] = "updated",
		[BREWERY_LEFT] = "left",
	};

	(void)arg;
	print_occupant(o, names[change]);
}

static void
on_link(bool up, void *arg)
{
	char n[300];

	(void)arg;
	emit("{\"ev\":\"link\",\"up\":%s,\"nick\":\"%s\",\"count\":%zu}",
	    up ? "true" : "false", js(brewery_nickname(brew), n, sizeof(n)),
	    brewery_count(brew));
}

static void
dump_cb(const struct brewery_occupant *o, void *arg)
{
	(void)arg;
	print_occupant(o, "dump");
}

/* ---- publishers ---- */

static struct pub *
pub_find(int id)
{
	int i;

	for (i = 0; i < MAX_PUBS; i++)
		if (pubs[i].xc != NULL && pubs[i].id == id)
			return &pubs[i];
	return NULL;
}

static xmpp_stanza_t *
child(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *name,
    const char *ns)
{
	xmpp_stanza_t *c = xmpp_stanza_new(ctx);

	xmpp_stanza_set_name(c, name);
	if (ns != NULL)
		xmpp_stanza_set_ns(c, ns);
	xmpp_stanza_add_child(parent, c);
	xmpp_stanza_release(c);
	return c;
}

static void
pub_send(struct pub *p, bool join)
{
	xmpp_ctx_t *ctx = xconn_ctx(p->xc);
	xmpp_stanza_t *pres, *x, *h, *stats, *st;
	char to[512], *copy, *tok, *save, *eq, name[32], *pad;
	size_t i;

	pres = xmpp_presence_new(ctx);
	snprintf(to, sizeof(to), "%s/%s", room, p->nick);
	xmpp_stanza_set_to(pres, to);
	if (join) {
		x = child(ctx, pres, "x", PRESENCE_NS_MUC);
		h = child(ctx, x, "history", NULL);
		xmpp_stanza_set_attribute(h, "maxstanzas", "0");
	}
	stats = child(ctx, pres, "stats", PRESENCE_NS_COLIBRI);
	copy = xstrdup(p->stats != NULL ? p->stats : "");
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if ((eq = strchr(tok, '=')) == NULL)
			continue;
		*eq = '\0';
		st = child(ctx, stats, "stat", NULL);
		xmpp_stanza_set_attribute(st, "name", tok);
		xmpp_stanza_set_attribute(st, "value", eq + 1);
	}
	free(copy);
	if (p->bigvalue > 0) {
		pad = xmalloc(p->bigvalue + 1);
		memset(pad, 'v', p->bigvalue);
		pad[p->bigvalue] = '\0';
		st = child(ctx, stats, "stat", NULL);
		xmpp_stanza_set_attribute(st, "name", "pad_value");
		xmpp_stanza_set_attribute(st, "value", pad);
		free(pad);
	}
	if (p->big > 0) {
		/* Padding stats of 200 bytes each, names we do not keep. */
		pad = xmalloc(201);
		memset(pad, 'p', 200);
		pad[200] = '\0';
		for (i = 0; i * 230 < p->big; i++) {
			snprintf(name, sizeof(name), "pad_%zu", i);
			st = child(ctx, stats, "stat", NULL);
			xmpp_stanza_set_attribute(st, "name", name);
			xmpp_stanza_set_attribute(st, "value", pad);
		}
		free(pad);
	}
	(void)xconn_send(p->xc, pres);
	xmpp_stanza_release(pres);
}

static void
pub_up(void *arg)
{
	struct pub *p = arg;

	p->joined = false;
	emit("{\"ev\":\"pub\",\"id\":%d,\"state\":\"up\"}", p->id);
	pub_send(p, true);
}

static void
pub_down(int error, const char *why, void *arg)
{
	struct pub *p = arg;
	char b[256];

	p->joined = false;
	emit("{\"ev\":\"pub\",\"id\":%d,\"state\":\"down\",\"error\":%d,"
	    "\"why\":\"%s\"}", p->id, error, js(why, b, sizeof(b)));
}

static void
pub_stanza(xmpp_stanza_t *stanza, void *arg)
{
	struct pub *p = arg;
	struct presence pr;

	if (presence_parse(stanza, &pr) != 0 ||
	    strcmp(pr.nickname, p->nick) != 0)
		return;
	if (pr.type == PRESENCE_ERROR) {
		emit("{\"ev\":\"pub\",\"id\":%d,\"state\":\"error\","
		    "\"code\":%d}", p->id, pr.error_code);
	} else if (pr.type == PRESENCE_AVAILABLE &&
	    (pr.status & PRESENCE_ST_SELF) && !p->joined) {
		p->joined = true;
		emit("{\"ev\":\"pub\",\"id\":%d,\"state\":\"joined\"}", p->id);
	}
}

static void
pub_free(struct pub *p)
{
	xconn_free(p->xc);
	free(p->nick);
	free(p->stats);
	memset(p, 0, sizeof(*p));
}

static void
cmd_pub(char *args)
{
	static const struct xconn_handlers h = {
		.up = pub_up, .down = pub_down, .stanza = pub_stanza,
	};
	struct xconn_config pc = cfg;
	char *id, *user, *pwfile, *pnick, *save, *pw;
	struct pub *p = NULL;
	int i, r;

	id = strtok_r(args, " ", &save);
	user = strtok_r(NULL, " ", &save);
	pwfile = strtok_r(NULL, " ", &save);
	pnick = strtok_r(NULL, " ", &save);
	if (id == NULL || pnick == NULL || room == NULL) {
		emit("{\"ev\":\"error\",\"what\":\"pub: bad arguments\"}");
		return;
	}
	for (i = 0; i < MAX_PUBS && p == NULL; i++)
		if (pubs[i].xc == NULL)
			p = &pubs[i];
	if (p == NULL || (r = secret_read_file(pwfile, &pw)) != 0) {
		emit("{\"ev\":\"error\",\"what\":\"pub: no slot or password\"}");
		return;
	}
	pc.username = user;
	pc.password = pw;
	p->id = atoi(id);
	p->nick = xstrdup(pnick);
	p->xc = xconn_new(base, &pc, &h, p);
	secret_free(pw);
	if (p->xc == NULL) {
		free(p->nick);
		memset(p, 0, sizeof(*p));
		emit("{\"ev\":\"error\",\"what\":\"pub: xconn_new\"}");
		return;
	}
	xconn_start(p->xc);
}

static void
cmd_stats(char *args, int big)
{
	char *save, *id = strtok_r(args, " ", &save);
	char *rest = strtok_r(NULL, "", &save);
	struct pub *p;

	if (id == NULL || (p = pub_find(atoi(id))) == NULL) {
		emit("{\"ev\":\"error\",\"what\":\"stats: no such publisher\"}");
		return;
	}
	if (big == 1) {
		p->big = rest != NULL ? (size_t)strtoul(rest, NULL, 10) : 0;
	} else if (big == 2) {
		p->bigvalue = rest != NULL ? (size_t)strtoul(rest, NULL, 10) :
		    0;
	} else {
		free(p->stats);
		p->stats = xstrdup(rest != NULL ? rest : "");
	}
	if (xconn_is_up(p->xc))
		pub_send(p, false);
}

static void
cmd_unpub(char *args)
{
	struct pub *p = pub_find(atoi(args));
	xmpp_stanza_t *pres;
	char to[512];

	if (p == NULL)
		return;
	if (xconn_is_up(p->xc)) {
		pres = xmpp_presence_new(xconn_ctx(p->xc));
		snprintf(to, sizeof(to), "%s/%s", room, p->nick);
		xmpp_stanza_set_to(pres, to);
		xmpp_stanza_set_type(pres, "unavailable");
		(void)xconn_send(p->xc, pres);
		xmpp_stanza_release(pres);
		xconn_stop(p->xc);
		/* Freed at quit, so the stream can close cleanly. */
		return;
	}
	pub_free(p);
}

/* ---- commands ---- */

static void
cmd_status(void)
{
	struct xconn *x = main_xconn();
	struct xconn_counters c;
	char b[300], n[300];

	xconn_get_counters(x, &c);
	emit("{\"ev\":\"status\",\"up\":%s,\"joined\":%s,\"count\":%zu,"
	    "\"nick\":\"%s\",\"attempts\":%llu,\"sessions\":%llu,"
	    "\"pings\":%llu,\"pongs\":%llu,\"wakeups\":%llu,"
	    "\"run_once\":%llu,\"last_error\":\"%s\",\"down_since\":%lld}",
	    xconn_is_up(x) ? "true" : "false",
	    brew != NULL && brewery_joined(brew) ? "true" : "false",
	    brew != NULL ? brewery_count(brew) : (size_t)0,
	    brew != NULL ? js(brewery_nickname(brew), n, sizeof(n)) : "",
	    (unsigned long long)c.attempts, (unsigned long long)c.sessions,
	    (unsigned long long)c.pings, (unsigned long long)c.pongs,
	    (unsigned long long)c.wakeups, (unsigned long long)c.run_once,
	    js(xconn_last_error(x), b, sizeof(b)),
	    (long long)xconn_down_since(x));
}

static void
idle_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xconn_counters c;

	(void)fd;
	(void)what;
	(void)arg;
	xconn_get_counters(main_xconn(), &c);
	emit("{\"ev\":\"idle\",\"ms\":%lld,\"wakeups\":%llu,"
	    "\"run_once\":%llu,\"pings\":%llu,\"cpu_ms\":%.3f,\"up\":%s}",
	    (long long)(timeutil_mono_ms() - idle_t0),
	    (unsigned long long)(c.wakeups - idle_c0.wakeups),
	    (unsigned long long)(c.run_once - idle_c0.run_once),
	    (unsigned long long)(c.pings - idle_c0.pings),
	    (cpu_seconds() - idle_cpu0) * 1000.0,
	    xconn_is_up(main_xconn()) ? "true" : "false");
}

static void
cmd_idle(const char *args)
{
	struct timeval tv = { atoi(args), 0 };

	xconn_get_counters(main_xconn(), &idle_c0);
	idle_cpu0 = cpu_seconds();
	idle_t0 = timeutil_mono_ms();
	evtimer_add(idle_ev, &tv);
}

static void
command(char *cmd)
{
	char *args = strchr(cmd, ' ');

	if (args != NULL)
		*args++ = '\0';
	else
		args = cmd + strlen(cmd);
	if (strcmp(cmd, "start") == 0) {
		if (brew != NULL)
			brewery_start(brew);
		else
			xconn_start(xc);
	} else if (strcmp(cmd, "stop") == 0) {
		if (brew != NULL)
			brewery_stop(brew);
		else
			xconn_stop(xc);
	} else if (strcmp(cmd, "status") == 0) {
		cmd_status();
	} else if (strcmp(cmd, "dump") == 0 && brew != NULL) {
		brewery_foreach(brew, true, dump_cb, NULL);
		emit("{\"ev\":\"dump_end\",\"count\":%zu}", brewery_count(brew));
	} else if (strcmp(cmd, "pub") == 0) {
		cmd_pub(args);
	} else if (strcmp(cmd, "stats") == 0) {
		cmd_stats(args, 0);
	} else if (strcmp(cmd, "bigstats") == 0) {
		cmd_stats(args, 1);
	} else if (strcmp(cmd, "bigvalue") == 0) {
		cmd_stats(args, 2);
	} else if (strcmp(cmd, "unpub") == 0) {
		cmd_unpub(args);
	} else if (strcmp(cmd, "idle") == 0) {
		cmd_idle(args);
	} else if (strcmp(cmd, "quit") == 0) {
		event_base_loopbreak(base);
	} else if (cmd[0] != '\0') {
		emit("{\"ev\":\"error\",\"what\":\"unknown command\"}");
	}
}

static void
stdin_cb(evutil_socket_t fd, short what, void *arg)
{
	ssize_t n;
	char *nl;

	(void)what;
	(void)arg;
	n = read(fd, line + line_len, sizeof(line) - 1 - line_len);
	if (n <= 0) {
		event_base_loopbreak(base);
		return;
	}
	line_len += (size_t)n;
	line[line_len] = '\0';
	while ((nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		command(line);
		memmove(line, nl + 1, line_len - (size_t)(nl + 1 - line) + 1);
		line_len -= (size_t)(nl + 1 - line);
	}
	if (line_len == sizeof(line) - 1)
		line_len = 0;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "domain", required_argument, NULL, 'd' },
		{ "user", required_argument, NULL, 'u' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "tls", no_argument, NULL, 't' },
		{ "ca-file", required_argument, NULL, 'c' },
		{ "room", required_argument, NULL, 'r' },
		{ "nick", required_argument, NULL, 'n' },
		{ "ping-interval", required_argument, NULL, 'i' },
		{ "ping-timeout", required_argument, NULL, 'o' },
		{ "connect-timeout", required_argument, NULL, 'C' },
		{ "reconnect-min", required_argument, NULL, 'm' },
		{ "reconnect-max", required_argument, NULL, 'M' },
		{ "debug", no_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct xconn_handlers xh = {
		.up = on_up, .down = on_down, .stanza = on_stanza,
	};
	static const struct brewery_handlers bh = {
		.occupant = on_occupant, .link = on_link,
	};
	char *pwfile = NULL, *pw = NULL;
	int ch, r, i;

	log_init(LOG_LEVEL_INFO);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's': cfg.server = optarg; break;
		case 'p': cfg.port = (unsigned)atoi(optarg); break;
		case 'd': cfg.domain = optarg; break;
		case 'u': cfg.username = optarg; break;
		case 'P': pwfile = optarg; break;
		case 't': cfg.tls = true; break;
		case 'c': cfg.ca_file = optarg; break;
		case 'r': room = optarg; break;
		case 'n': nick = optarg; break;
		case 'i': cfg.ping_interval_s = (unsigned)atoi(optarg); break;
		case 'o': cfg.ping_timeout_s = (unsigned)atoi(optarg); break;
		case 'C': cfg.connect_timeout_s = (unsigned)atoi(optarg); break;
		case 'm': cfg.reconnect_min_ms = (unsigned)atoi(optarg); break;
		case 'M': cfg.reconnect_max_ms = (unsigned)atoi(optarg); break;
		case 'D': log_setlevel(LOG_LEVEL_DEBUG); break;
		default:
			fprintf(stderr, "usage: see the comment on top\n");
			return 2;
		}
	}
	if (pwfile == NULL || (r = secret_read_file(pwfile, &pw)) != 0) {
		fprintf(stderr, "cannot read the password file\n");
		return 2;
	}
	cfg.password = pw;
	base = event_base_new();
	if (room != NULL)
		brew = brewery_new(base, &cfg, room, nick != NULL ? nick :
		    "observer", &bh, NULL);
	else
		xc = xconn_new(base, &cfg, &xh, NULL);
	secret_free(pw);
	cfg.password = NULL;
	if (brew == NULL && xc == NULL) {
		fprintf(stderr, "bad settings\n");
		return 2;
	}
	stdin_ev = event_new(base, STDIN_FILENO, EV_READ | EV_PERSIST,
	    stdin_cb, NULL);
	idle_ev = evtimer_new(base, idle_done_cb, NULL);
	event_add(stdin_ev, NULL);
	emit("{\"ev\":\"ready\"}");
	event_base_dispatch(base);

	for (i = 0; i < MAX_PUBS; i++)
		if (pubs[i].xc != NULL)
			pub_free(&pubs[i]);
	brewery_free(brew);
	xconn_free(xc);
	event_free(stdin_ev);
	event_free(idle_ev);
	event_base_free(base);
	emit("{\"ev\":\"bye\"}");
	return 0;
}
