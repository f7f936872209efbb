/*
 * The control API of the fake: JSON over HTTP on 127.0.0.1, for tests and
 * benchmarks to add and remove bridges, script participants, set modes
 * and switches, inject faults and read each bridge's state and request
 * log.  The endpoints are listed in control.c.
 */
#ifndef FB_CONTROL_H
#define FB_CONTROL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct bridge_set;
struct control;
struct event_base;

/* Listen on address:port (0: pick).  NULL with err. */
struct control *control_new(struct event_base *base, struct bridge_set *set,
    const char *address, uint16_t port, char *err, size_t errlen);
void control_free(struct control *c);
uint16_t control_port(const struct control *c);
/* Options every bridge starts from before its own (a JSON object). */
int control_set_defaults(struct control *c, json_t *defaults, char *err,
    size_t errlen);
/*
 * Create the bridges described by spec: one object, an array of them, or
 * {"defaults": {...}, "bridges": [...]}.  On success *ret_ids (if not
 * NULL) is a new array of the ids created.  On error (as bridge_new()),
 * the bridges created before it stay (err says how many).
 */
int control_add_bridges(struct control *c, json_t *spec, json_t **ret_ids,
    char *err, size_t errlen);

#endif
