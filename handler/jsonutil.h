/* Small helpers around jansson shared by the parsers of every layer. */
#ifndef JL_JSONUTIL_H
#define JL_JSONUTIL_H

#include <jansson.h>

/* "an object", "a string", ... for error messages. */
const char *jsonutil_type_name(const json_t *v);

#endif
