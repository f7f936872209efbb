#include <stdio.h>
#include <string.h>

int
main(int argc, char *argv[])
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("jvb-lifecycled %s\n", JL_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: jvb-lifecycled --version\n");
	return 2;
}
