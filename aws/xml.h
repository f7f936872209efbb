/*
 * A small, bounded XML tree built with expat, for AWS Query API answers.
 * Pure.  Refuses DOCTYPE (so no entity of any kind is declared or
 * expanded), and caps depth, element count and text size.  Names are the
 * local part (namespaces dropped), which is all AWS answers need.
 */
#ifndef JL_XML_H
#define JL_XML_H

#include <stddef.h>

#define XML_MAX_INPUT		(1024 * 1024)
#define XML_MAX_DEPTH		32
#define XML_MAX_NODES		20000
#define XML_MAX_TEXT		(64 * 1024)	/* per element */

struct xml_node {
	char		*name;		/* owned, local name */
	char		*text;		/* owned, NUL-terminated, never NULL */
	size_t		 text_len;
	struct xml_node	*parent;
	struct xml_node	*children;	/* owned: first child */
	struct xml_node	*next;		/* owned by the parent's list */
};

/*
 * Parse len bytes.  0 and *ret_root on success; -EPROTO for malformed
 * XML, a DOCTYPE or an entity; -E2BIG when a limit is hit.
 */
int xml_parse(const char *data, size_t len, struct xml_node **ret_root);
void xml_free(struct xml_node *root);

/* The first child element with this local name, or NULL. */
const struct xml_node *xml_child(const struct xml_node *n, const char *name);
/* The next sibling with the same name as n, or NULL. */
const struct xml_node *xml_next(const struct xml_node *n);
/* Follow "a/b/c" from n through first children; NULL if absent. */
const struct xml_node *xml_path(const struct xml_node *n, const char *path);
/* The text of the child at path, or NULL if absent. */
const char *xml_path_text(const struct xml_node *n, const char *path);
/* The first element named name at or below n (depth-first), or NULL. */
const struct xml_node *xml_find(const struct xml_node *n, const char *name);

#endif
