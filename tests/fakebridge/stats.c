/*
 * The stat set a real bridge publishes, in the order a captured presence
 * shows them (jvb-api.md §4.2): losses and rates first, then the
 * counters, the shutdown flags, the MUC counters and the version.  The
 * traffic figures are plausible functions of the endpoint count; nothing
 * in the daemon should depend on them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/fakebridge/stats.h"

static struct stats_item *
stats_add(struct stats *st, const char *name, enum stats_type type)
{
	struct stats_item *it;

	if (st->n >= STATS_MAX_ITEMS)
		abort();	/* a programming error: raise STATS_MAX_ITEMS */
	it = &st->items[st->n++];
	memset(it, 0, sizeof(*it));
	it->name = name;
	it->type = type;
	return it;
}

static void
stats_int(struct stats *st, const char *name, long long v)
{
	stats_add(st, name, STATS_INT)->i = v;
}

static void
stats_double(struct stats *st, const char *name, double v)
{
	stats_add(st, name, STATS_DOUBLE)->d = v;
}

static void
stats_bool(struct stats *st, const char *name, bool v)
{
	stats_add(st, name, STATS_BOOL)->b = v;
}

static void
stats_string(struct stats *st, const char *name, const char *v)
{
	if (v != NULL)
		stats_add(st, name, STATS_STRING)->s = v;
}

void
stats_format_timestamp(int64_t wall_ms, char *buf, size_t len)
{
	time_t secs = (time_t)(wall_ms / 1000);
	struct tm tm;

	if (gmtime_r(&secs, &tm) == NULL) {
		snprintf(buf, len, "1970-01-01 00:00:00.000");
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d.%03d",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(wall_ms % 1000));
}

void
stats_build(struct stats *st, const struct stats_input *in)
{
	const struct model *m = in->model;
	const struct model_snapshot *s = &m->snap;
	long long local = s->local_endpoints;

	st->n = 0;
	stats_format_timestamp(s->taken_ms + in->wall_offset_ms, st->ts,
	    sizeof(st->ts));

	stats_double(st, "incoming_loss", 0.0);
	stats_double(st, "outgoing_loss", 0.0);
	stats_double(st, "overall_loss", 0.0);
	stats_int(st, "bit_rate_download", local * 350);
	stats_int(st, "bit_rate_upload", local * 1200);
	stats_int(st, "packet_rate_download", local * 40);
	stats_int(st, "packet_rate_upload", local * 130);
	stats_double(st, "rtt_aggregate", local > 0 ? 12.5 : 0.0);
	stats_double(st, "jitter_aggregate", local > 0 ? 1.5 : 0.0);

	stats_int(st, "conferences", s->conferences);
	stats_int(st, "participants", s->endpoints);
	stats_int(st, "endpoints", s->endpoints);
	stats_int(st, "local_endpoints", s->local_endpoints);
	stats_int(st, "octo_endpoints", s->octo_endpoints);
	stats_int(st, "largest_conference", s->largest_conference);
	stats_int(st, "visitors", 0);
	stats_int(st, "local_active_endpoints", s->local_endpoints);
	stats_int(st, "inactive_endpoints", 0);
	stats_int(st, "receive_only_endpoints", 0);
	stats_int(st, "p2p_conferences", 0);
	stats_int(st, "inactive_conferences", 0);
	stats_int(st, "octo_conferences", s->octo_endpoints > 0 ? 1 : 0);
	stats_double(st, "stress_level", s->stress_level);
	stats_double(st, "average_participant_stress", 0.01);

	stats_bool(st, "graceful_shutdown",
	    m->state == MODEL_GRACEFUL_SHUTDOWN);
	if (!in->legacy_shutting_down || m->state == MODEL_SHUTTING_DOWN)
		stats_bool(st, "shutting_down",
		    m->state == MODEL_SHUTTING_DOWN);
	if (!in->legacy_no_drain)
		stats_bool(st, "drain", m->drain);
	stats_bool(st, "healthy", in->healthy);

	stats_int(st, "threads", 120);
	stats_int(st, "total_conferences_created", 0);
	stats_int(st, "total_ice_failed", 0);
	stats_int(st, "total_ice_succeeded", (long long)m->joined_total);
	stats_int(st, "dtls_failed_endpoints", 0);

	stats_int(st, "muc_clients_configured", in->muc_clients_configured);
	stats_int(st, "muc_clients_connected", in->muc_clients_connected);
	stats_int(st, "mucs_configured", in->mucs_configured);
	stats_int(st, "mucs_joined", in->mucs_joined);
	if (in->legacy_shutting_down)
		stats_bool(st, "colibri2", true);

	stats_string(st, "version", in->version);
	stats_string(st, "release", in->release);
	stats_string(st, "region", in->region);
	stats_string(st, "relay_id", in->relay_id);
	stats_string(st, "current_timestamp", st->ts);
}

json_t *
stats_json(const struct stats *st)
{
	json_t *o = json_object(), *v;
	size_t i;

	for (i = 0; i < st->n; i++) {
		const struct stats_item *it = &st->items[i];

		switch (it->type) {
		case STATS_INT:
			v = json_integer(it->i);
			break;
		case STATS_DOUBLE:
			v = json_real(it->d);
			break;
		case STATS_BOOL:
			v = json_boolean(it->b);
			break;
		case STATS_STRING:
		default:
			v = json_string(it->s);
			break;
		}
		json_object_set_new(o, it->name, v);
	}
	return o;
}

void
stats_format_double(double d, char *buf, size_t len)
{
	int prec;

	if (!isfinite(d)) {
		snprintf(buf, len, "%s", isnan(d) ? "NaN" :
		    d > 0 ? "Infinity" : "-Infinity");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (strpbrk(buf, ".eE") == NULL && strlen(buf) + 3 <= len)
		strcat(buf, ".0");
}

void
stats_item_text(const struct stats_item *it, char *buf, size_t len)
{
	switch (it->type) {
	case STATS_INT:
		snprintf(buf, len, "%lld", it->i);
		break;
	case STATS_DOUBLE:
		stats_format_double(it->d, buf, len);
		break;
	case STATS_BOOL:
		snprintf(buf, len, "%s", it->b ? "true" : "false");
		break;
	case STATS_STRING:
	default:
		snprintf(buf, len, "%s", it->s);
		break;
	}
}
