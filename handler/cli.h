/* Operator subcommands other than run and check. */
#ifndef JL_CLI_H
#define JL_CLI_H

/* argv[0] is the command name.  Returns the process exit status. */
int cli_dispatch(const char *cmd, int argc, char *argv[]);

#endif
