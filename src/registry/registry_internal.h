/* prep registry: pieces shared by registry*.c only (not a public interface). */
#ifndef PREP_REGISTRY_INTERNAL_H
#define PREP_REGISTRY_INTERNAL_H

#include "prep/registry.h"

/* A logo file read and checked: PNG (signature) or SVG (UTF-8, an <svg> element, no
 * script, no external reference), at most PREP_REGISTRY_LOGO_MAX bytes. */
typedef struct prep_registry_logo {
    unsigned char *data; /* owned: free() */
    size_t len;
    char type[32];       /* "image/png" or "image/svg+xml" */
    char sha256[65];
} prep_registry_logo;

/* Reads and checks path (borrowed). Diag kind "invalid-field" naming the file. */
prep_err prep_registry_logo_load(const char *path, prep_registry_logo *out, prep_diags *d);
/* Every broadcaster with its logo, ordered by name. *v owned: prep_registry_difusor_list_free. */
prep_err prep_registry_list_logos(prep_registry *r, prep_registry_difusor **v, size_t *n, prep_diags *d);
/* Appends s (borrowed) HTML-escaped (& < > " ') to out. */
prep_err prep_registry_html_escape(prep_buf *out, const char *s);

#endif
