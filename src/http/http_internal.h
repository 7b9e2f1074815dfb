/* Small helpers shared by the HTTP parsing layer (http1.c, conneg.c). */
#ifndef PREP_SERVE_HTTP_INTERNAL_H
#define PREP_SERVE_HTTP_INTERNAL_H

#include <string.h>

static inline int http_lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

/* Case-insensitive equality of a slice with a lower-case literal. */
static inline int http_ieq(const char *p, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    if (n != m) return 0;
    for (size_t i = 0; i < n; i++)
        if (http_lower((unsigned char)p[i]) != (unsigned char)lit[i]) return 0;
    return 1;
}

#endif
