/*
 * What the daemon's parts share at run time.  daemon.c owns every member;
 * the others borrow them through this struct.
 */
#ifndef JL_CTX_H
#define JL_CTX_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>

struct action;
TAILQ_HEAD(action_list, action);

struct ctx {
	const struct config	*cfg;
	struct event_base	*base;
	struct http		*http;
	struct aws		*aws;
	struct audit		*audit;
	struct brewery		*brewery;	/* NULL without [xmpp] */
	struct hookinfo		*hooks;
	struct resolver		*resolver;
	struct journal		*journal;
	struct metrics		*metrics;
	struct receiver		*receiver;
	struct finished		*finished;	/* tokens already done */
	struct rebalancer	*rebalancer;
	struct protection	*protection;	/* NULL: [protection] off */
	struct action_list	 actions;	/* open actions */
	unsigned		 nactions;
	bool			 stopping;
};

#endif
