/*
 * Replays files through a libFuzzer-style harness when the build has no
 * libFuzzer (after dav1d): each argument is a corpus file or directory.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *data;
	long len;

	if (fp == NULL) {
		perror(path);
		return -1;
	}
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	data = malloc(len > 0 ? (size_t)len : 1);
	if (data == NULL || fread(data, 1, (size_t)len, fp) != (size_t)len) {
		fclose(fp);
		free(data);
		return -1;
	}
	fclose(fp);
	LLVMFuzzerTestOneInput(data, (size_t)len);
	free(data);
	return 0;
}

int
main(int argc, char *argv[])
{
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *de;

		if (stat(argv[i], &st) == -1) {
			perror(argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (replay_file(argv[i]) == -1)
				return 1;
			n++;
			continue;
		}
		if ((d = opendir(argv[i])) == NULL)
			return 1;
		while ((de = readdir(d)) != NULL) {
			char path[4096];

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i],
			    de->d_name);
			if (replay_file(path) == -1) {
				closedir(d);
				return 1;
			}
			n++;
		}
		closedir(d);
	}
	fprintf(stderr, "replayed %d inputs\n", n);
	return n > 0 ? 0 : 1;
}
