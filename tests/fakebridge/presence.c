/* Brewery presence stanzas; see presence.h. */
#include <stdio.h>
#include <string.h>

#include "handler/log.h"
#include "tests/fakebridge/options.h"
#include "tests/fakebridge/presence.h"

static xmpp_stanza_t *
presence_child(xmpp_stanza_t *parent, const char *name, const char *ns)
{
	xmpp_stanza_t *c = xmpp_stanza_new(xmpp_stanza_get_context(parent));

	if (c == NULL)
		fatalx("xmpp_stanza_new");
	xmpp_stanza_set_name(c, name);
	if (ns != NULL)
		xmpp_stanza_set_ns(c, ns);
	xmpp_stanza_add_child_ex(parent, c, 0);
	return c;
}

xmpp_stanza_t *
presence_stats(xmpp_ctx_t *ctx, const char *to, const struct stats *st,
    bool join)
{
	xmpp_stanza_t *p, *stats, *stat;
	char value[64];
	size_t i;

	if ((p = xmpp_presence_new(ctx)) == NULL)
		fatalx("xmpp_presence_new");
	xmpp_stanza_set_to(p, to);
	if (join)
		presence_child(p, "x", PRESENCE_NS_MUC);
	stats = presence_child(p, "stats", PRESENCE_NS_COLIBRI);
	for (i = 0; i < st->n; i++) {
		stats_item_text(&st->items[i], value, sizeof(value));
		stat = presence_child(stats, "stat", NULL);
		xmpp_stanza_set_attribute(stat, "name", st->items[i].name);
		xmpp_stanza_set_attribute(stat, "value", value);
	}
	return p;
}

xmpp_stanza_t *
presence_unavailable(xmpp_ctx_t *ctx, const char *to)
{
	xmpp_stanza_t *p;

	if ((p = xmpp_presence_new(ctx)) == NULL)
		fatalx("xmpp_presence_new");
	xmpp_stanza_set_to(p, to);
	xmpp_stanza_set_type(p, "unavailable");
	return p;
}

static void
presence_field(xmpp_stanza_t *form, const char *var, const char *type,
    const char *value)
{
	xmpp_stanza_t *field = presence_child(form, "field", NULL);
	xmpp_stanza_t *v = presence_child(field, "value", NULL);
	xmpp_stanza_t *text = xmpp_stanza_new(xmpp_stanza_get_context(form));

	xmpp_stanza_set_attribute(field, "var", var);
	if (type != NULL)
		xmpp_stanza_set_attribute(field, "type", type);
	if (text == NULL)
		fatalx("xmpp_stanza_new");
	xmpp_stanza_set_text(text, value);
	xmpp_stanza_add_child_ex(v, text, 0);
}

xmpp_stanza_t *
presence_room_config(xmpp_ctx_t *ctx, const char *room, const char *id)
{
	xmpp_stanza_t *iq, *query, *form;

	if ((iq = xmpp_iq_new(ctx, "set", id)) == NULL)
		fatalx("xmpp_iq_new");
	xmpp_stanza_set_to(iq, room);
	query = presence_child(iq, "query", PRESENCE_NS_MUC_OWNER);
	form = presence_child(query, "x", "jabber:x:data");
	xmpp_stanza_set_type(form, "submit");
	presence_field(form, "FORM_TYPE", "hidden",
	    "http://jabber.org/protocol/muc#roomconfig");
	presence_field(form, "muc#roomconfig_whois", NULL, "anyone");
	return iq;
}

void
presence_parse_muc(xmpp_stanza_t *st, struct presence_muc *out)
{
	xmpp_stanza_t *x, *c, *err;
	const char *type = xmpp_stanza_get_type(st), *code, *name;

	memset(out, 0, sizeof(*out));
	if (type != NULL && strcmp(type, "error") == 0) {
		snprintf(out->error, sizeof(out->error), "error");
		err = xmpp_stanza_get_child_by_name(st, "error");
		for (c = err != NULL ? xmpp_stanza_get_children(err) : NULL;
		    c != NULL; c = xmpp_stanza_get_next(c)) {
			name = xmpp_stanza_get_name(c);
			if (name != NULL && strcmp(name, "text") != 0) {
				/* From the network, and it goes to logs. */
				if (options_valid_token(name,
				    sizeof(out->error) - 1, "-_."))
					snprintf(out->error, sizeof(out->error),
					    "%s", name);
				break;
			}
		}
		return;
	}
	out->unavailable = type != NULL && strcmp(type, "unavailable") == 0;
	x = xmpp_stanza_get_child_by_name_and_ns(st, "x", PRESENCE_NS_MUC_USER);
	for (c = x != NULL ? xmpp_stanza_get_children(x) : NULL; c != NULL;
	    c = xmpp_stanza_get_next(c)) {
		name = xmpp_stanza_get_name(c);
		if (name == NULL || strcmp(name, "status") != 0)
			continue;
		if ((code = xmpp_stanza_get_attribute(c, "code")) == NULL)
			continue;
		if (strcmp(code, "110") == 0)
			out->self = true;
		else if (strcmp(code, "201") == 0)
			out->created = true;
	}
}
