/*
 * expat into a tree.  Entities are the classic XML attack surface (billion
 * laughs, external entities), and AWS never sends a DOCTYPE, so any
 * DOCTYPE stops the parser before a declaration can take effect.
 */
#include <errno.h>
#include <expat.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "aws/xml.h"
#include "handler/buf.h"
#include "handler/xmalloc.h"

/* expat (namespace mode) hands names as "uri<SEP>local" */
#define XML_NS_SEP	'\x01'

struct xml_state {
	XML_Parser	 parser;
	struct xml_node	*root;		/* owned until handed out */
	struct xml_node	*cur;
	struct xml_node	*last_child;	/* of cur, to append in O(1) */
	struct buf	 text;		/* text of cur being collected */
	unsigned	 depth;
	unsigned	 nodes;
	int		 error;
};

static void
xml_node_free(struct xml_node *n)
{
	struct xml_node *c, *next;

	while (n != NULL) {
		for (c = n->children; c != NULL; c = next) {
			next = c->next;
			c->next = NULL;
			xml_node_free(c);
		}
		next = n->next;
		free(n->name);
		free(n->text);
		free(n);
		n = next;
	}
}

void
xml_free(struct xml_node *root)
{
	xml_node_free(root);
}

static void
xml_fail(struct xml_state *st, int error)
{
	if (st->error == 0)
		st->error = error;
	XML_StopParser(st->parser, XML_FALSE);
}

static void
xml_flush_text(struct xml_state *st)
{
	if (st->cur == NULL)
		return;
	free(st->cur->text);
	st->cur->text_len = st->text.len;
	st->cur->text = buf_steal(&st->text);
}

static void XMLCALL
xml_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct xml_state *st = ud;
	struct xml_node *n, *c;
	const char *local;

	if (st->error != 0)
		return;
	if (++st->depth > XML_MAX_DEPTH || ++st->nodes > XML_MAX_NODES) {
		xml_fail(st, -E2BIG);
		return;
	}
	/* text before a child element is not kept (mixed content) */
	buf_reset(&st->text);
	if ((local = strrchr(name, XML_NS_SEP)) != NULL)
		local++;
	else
		local = name;
	n = xcalloc(1, sizeof(*n));
	n->name = xstrdup(local);
	n->text = xstrdup("");
	n->parent = st->cur;
	if (st->cur == NULL) {
		st->root = n;
	} else {
		if (st->cur->children == NULL)
			st->cur->children = n;
		else {
			c = st->last_child != NULL ? st->last_child :
			    st->cur->children;
			for (; c->next != NULL; c = c->next)
				;
			c->next = n;
		}
	}
	st->cur = n;
	st->last_child = NULL;
}

static void XMLCALL
xml_end(void *ud, const XML_Char *name)
{
	struct xml_state *st = ud;
	struct xml_node *n;

	if (st->error != 0 || st->cur == NULL)
		return;
	n = st->cur;
	if (n->children == NULL)
		xml_flush_text(st);
	buf_reset(&st->text);
	st->cur = n->parent;
	st->last_child = n;
	st->depth--;
}

static void XMLCALL
xml_chars(void *ud, const XML_Char *s, int len)
{
	struct xml_state *st = ud;

	if (st->error != 0 || st->cur == NULL || len <= 0)
		return;
	if (st->text.len + (size_t)len > XML_MAX_TEXT) {
		xml_fail(st, -E2BIG);
		return;
	}
	buf_append(&st->text, s, (size_t)len);
}

static void XMLCALL
xml_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal_subset)
{
	xml_fail(ud, -EPROTO);
}

static void XMLCALL
xml_entity_decl(void *ud, const XML_Char *name, int is_param,
    const XML_Char *value, int value_len, const XML_Char *base,
    const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
	xml_fail(ud, -EPROTO);
}

int
xml_parse(const char *data, size_t len, struct xml_node **ret_root)
{
	struct xml_state st;
	enum XML_Status status;

	if (len > XML_MAX_INPUT)
		return -E2BIG;
	memset(&st, 0, sizeof(st));
	buf_init(&st.text);
	if ((st.parser = XML_ParserCreateNS(NULL, XML_NS_SEP)) == NULL)
		return -ENOMEM;
	XML_SetUserData(st.parser, &st);
	XML_SetElementHandler(st.parser, xml_start, xml_end);
	XML_SetCharacterDataHandler(st.parser, xml_chars);
	XML_SetStartDoctypeDeclHandler(st.parser, xml_doctype);
	XML_SetEntityDeclHandler(st.parser, xml_entity_decl);
	XML_SetParamEntityParsing(st.parser, XML_PARAM_ENTITY_PARSING_NEVER);
	status = XML_Parse(st.parser, data != NULL ? data : "", (int)len,
	    XML_TRUE);
	if (status != XML_STATUS_OK && st.error == 0)
		st.error = -EPROTO;
	if (st.error == 0 && st.root == NULL)
		st.error = -EPROTO;
	XML_ParserFree(st.parser);
	buf_finish(&st.text);
	if (st.error != 0) {
		xml_node_free(st.root);
		return st.error;
	}
	*ret_root = st.root;
	return 0;
}

const struct xml_node *
xml_child(const struct xml_node *n, const char *name)
{
	const struct xml_node *c;

	if (n == NULL)
		return NULL;
	for (c = n->children; c != NULL; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

const struct xml_node *
xml_next(const struct xml_node *n)
{
	const struct xml_node *c;

	if (n == NULL)
		return NULL;
	for (c = n->next; c != NULL; c = c->next)
		if (strcmp(c->name, n->name) == 0)
			return c;
	return NULL;
}

const struct xml_node *
xml_path(const struct xml_node *n, const char *path)
{
	char part[128];
	const char *p = path, *slash;
	size_t len;

	while (n != NULL && *p != '\0') {
		if ((slash = strchr(p, '/')) == NULL)
			slash = p + strlen(p);
		len = (size_t)(slash - p);
		if (len == 0 || len >= sizeof(part))
			return NULL;
		memcpy(part, p, len);
		part[len] = '\0';
		n = xml_child(n, part);
		p = *slash == '/' ? slash + 1 : slash;
	}
	return n;
}

const char *
xml_path_text(const struct xml_node *n, const char *path)
{
	n = xml_path(n, path);
	return n != NULL ? n->text : NULL;
}

const struct xml_node *
xml_find(const struct xml_node *n, const char *name)
{
	const struct xml_node *c, *f;

	if (n == NULL)
		return NULL;
	if (strcmp(n->name, name) == 0)
		return n;
	for (c = n->children; c != NULL; c = c->next)
		if ((f = xml_find(c, name)) != NULL)
			return f;
	return NULL;
}
