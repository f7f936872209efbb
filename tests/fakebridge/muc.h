/*
 * A bridge's XMPP client (jvb-api.md §4): log in, join the brewery MUC(s)
 * as the bridge's nickname with the stats presence, publish it again on
 * request, answer jicofo's healthcheck IQs, leave with an unavailable
 * presence on exit.  A taken nickname leaves the room unjoined (the bridge
 * keeps running); a failed login is retried with backoff, like the real
 * MucClient.  Runs on the loop through xloop.c.
 */
#ifndef FB_MUC_H
#define FB_MUC_H

#include <jansson.h>
#include <stdbool.h>

#include "tests/fakebridge/options.h"

struct bridge;
struct muc;
struct xloop;

struct muc_counts {
	unsigned	 clients_configured;
	unsigned	 clients_connected;
	unsigned	 mucs_configured;
	unsigned	 mucs_joined;
};

/* Starts connecting soon.  NULL with err when the options are unusable. */
struct muc *muc_new(struct bridge *b, struct xloop *x,
    const struct options_xmpp *o, const char *nickname, char *err,
    size_t errlen);
/* At once: the socket is closed without a goodbye. */
void muc_free(struct muc *m);
/* The stats presence to every joined room. */
void muc_publish(struct muc *m);
/* Leave and disconnect for good; abrupt: drop the TCP connection only. */
void muc_exit(struct muc *m, bool abrupt);
/* Disconnected for good (after muc_exit). */
bool muc_gone(const struct muc *m);
void muc_counts(const struct muc *m, struct muc_counts *c);
json_t *muc_json(const struct muc *m);

#endif
