/* Secrets (keys, tokens, passwords) are wiped before their memory is freed. */
#ifndef JL_SECRET_H
#define JL_SECRET_H

#include <stddef.h>

void secret_wipe(void *p, size_t len);
/* Wipe a NUL-terminated string and free it; NULL is fine. */
void secret_free(char *s);
/* Read a secret file: first line, trailing newline stripped, max 4 KiB. */
int secret_read_file(const char *path, char **ret);

#endif
