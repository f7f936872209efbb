/* The `run` command: start-up order, the loop, orderly stop. */
#ifndef JL_DAEMON_H
#define JL_DAEMON_H

struct config;

/* Runs until SIGTERM/SIGINT; 0 on a clean stop. */
int daemon_run(const struct config *cfg);

#endif
