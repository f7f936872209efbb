/* Invariants every aws/ parser promises about what it hands out. */
#ifndef JL_FUZZ_AWS_COMMON_H
#define JL_FUZZ_AWS_COMMON_H

#include <stdbool.h>
#include <stdlib.h>

/* NULL, or printable ASCII (space allowed when spaces). */
static inline void
fuzz_check_printable(const char *s, bool spaces)
{
	if (s == NULL)
		return;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f ||
		    (!spaces && *s == ' '))
			abort();
}

/* NULL, or no control bytes (UTF-8 above 0x7f allowed). */
static inline void
fuzz_check_text(const char *s)
{
	if (s == NULL)
		return;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			abort();
}

#endif
