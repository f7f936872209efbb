#include <stdio.h>

#include "handler/cli.h"

int
cli_dispatch(const char *cmd, int argc, char *argv[])
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "jvb-lifecycled: unknown command \"%s\" (see "
	    "jvb-lifecycled --help)\n", cmd);
	return 2;
}
