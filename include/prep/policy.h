/* prep core: the public response policy, stated once (issue 18 item 2). Which Cache-Control
 * each file class gets, which class a path is in, and the security fields every public
 * answer carries. `prep serve` (src/serve/site_load.c for its files' heads, serve_run.c for
 * the server core's own answers) and `prep apache` (src/cli/cmd_apache.c, the generated
 * Apache 2.4 configuration) both generate from this table, so the two servers send the same
 * policy fields byte for byte (tests/integ/response_policy.sh). docs/internals/serve.md
 * ("The header policy") and docs/apache.md say why each value is what it is.
 *
 * It lives in core because render, serve, http and the CLI all need it and core is the one
 * part below all of them (DESIGN.md). No allocation; everything returned is static or
 * written into the caller's storage. */
#ifndef PREP_POLICY_H
#define PREP_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "prep/core.h"

/* The file classes. A successful answer (200, 206, 304) of a file gets its path's class;
 * every other answer (errors, redirects, the waiting page, /health, /metrics, refusals)
 * is PREP_POLICY_ANSWER, whatever its path. */
typedef enum prep_policy_class {
    PREP_POLICY_PAGE = 0, /* a page at a stable URL, and any file no rule below names */
    PREP_POLICY_DATA,     /* base-de-datos/ files (CSV, LEEME.txt), the cut's SHA256SUMS(.sig) */
    PREP_POLICY_POLL,     /* corte.json, polled for a new cut */
    PREP_POLICY_ASSET,    /* assets/<name>.<8-64 hex>.<ext>: named by its content's hash */
    PREP_POLICY_ARCHIVE,  /* cortes/<seq>/...: an archived cut, never changed */
    PREP_POLICY_ANSWER,   /* not a file: errors, redirects, the waiting page, own answers */
    PREP_POLICY_N_CLASSES
} prep_policy_class;

/* The Cache-Control values. */
#define PREP_POLICY_CC_SHORT "public, max-age=60, stale-while-revalidate=240"
#define PREP_POLICY_CC_IMMUTABLE "public, max-age=31536000, immutable"
#define PREP_POLICY_CC_NO_CACHE "no-cache"

/* The fixed security fields. */
#define PREP_POLICY_NOSNIFF "nosniff"
#define PREP_POLICY_REFERRER "strict-origin-when-cross-origin"
/* The content-security-policy before its frame-ancestors sources ('self' then the origins). */
#define PREP_POLICY_CSP_BASE \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " \
    "base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
/* Default strict-transport-security max-age: one year. */
#define PREP_POLICY_HSTS_MAX_AGE 31536000
/* Frame-ancestors origins: at most this many bytes as given. */
#define PREP_POLICY_ORIGINS_MAX 1024
/* Room for any CSP the policy makes, its NUL included. */
#define PREP_POLICY_CSP_MAX (sizeof PREP_POLICY_CSP_BASE + PREP_POLICY_ORIGINS_MAX + 1)

/* CORS (issue 16): the open-data files, every path ending in ".json" (datos.json beside each
 * unit page, datos/esquema.json, corte.json, and the same in archived cuts), answer a
 * successful request (200, 206, 304) with access-control-allow-origin: *, so that a
 * newsroom's page on another origin may read them; nothing else carries it. The regex is
 * matched like the path rules (a site key; Apache: on the request path). */
#define PREP_POLICY_CORS_REGEX "\\.json$"
#define PREP_POLICY_CORS_ORIGIN "*"

/* One class: its short English tag ("page", "data", "poll", "asset", "archive", "answer"),
 * its Cache-Control value, and why. */
typedef struct prep_policy_class_info {
    prep_policy_class cls;
    const char *tag;
    const char *cache_control;
    const char *why;
} prep_policy_class_info;

/* One path rule: a path (a site key: relative, no leading '/', "dir/" already turned into
 * "dir/index.html", as prep_http_path_normalize makes it) matching the POSIX extended
 * regular expression `regex` is in class `cls`. The first rule that matches decides; a
 * path no rule matches is PREP_POLICY_PAGE. Each regex starts with '^' and uses only what
 * POSIX ERE and PCRE read alike, so Apache's RewriteRule uses it as is (with "^/" for "^").
 * The archive rule's first group is the archived cut's sequence (its x-prep-corte). */
typedef struct prep_policy_rule {
    const char *regex;
    prep_policy_class cls;
    const char *files; /* what it names, in words */
} prep_policy_rule;

/* The table (static). */
const prep_policy_class_info *prep_policy_classes(size_t *n);
const prep_policy_rule *prep_policy_rules(size_t *n);

/* A class's info (static); an out-of-range class gives PREP_POLICY_ANSWER's. */
const prep_policy_class_info *prep_policy_class_get(prep_policy_class k);
/* The class of a site key (borrowed, len bytes, need not be NUL-terminated; at most 4096
 * bytes are looked at: a longer key is PREP_POLICY_PAGE). Thread-safe. */
prep_policy_class prep_policy_path_class(const char *key, size_t len);
/* 1 when a successful answer of key carries access-control-allow-origin (PREP_POLICY_CORS_REGEX). */
int prep_policy_cors(const char *key, size_t len);
/* The Cache-Control value (static) of a successful answer of key. */
const char *prep_policy_cache_control(const char *key, size_t len);

/* One response field, name lowercase. */
typedef struct prep_policy_field {
    const char *name;  /* static */
    const char *value; /* static, or in the prep_policy_security it came from */
    size_t value_len;
} prep_policy_field;

/* The security fields of every public answer (prep_policy_security_fields). */
typedef struct prep_policy_security {
    char csp[PREP_POLICY_CSP_MAX];
    size_t csp_len;
    char hsts[32]; /* "max-age=N", or "" when none */
    size_t hsts_len;
} prep_policy_security;

/* 1 when origins (borrowed; NULL or "" = none) may be frame-ancestors sources: at most
 * PREP_POLICY_ORIGINS_MAX bytes of space-separated tokens of letters, digits and
 * . : / - * [ ] (scheme://host[:port], *.host, [v6]); nothing that a header or an
 * Apache directive would need quoted ('"', '\\', '%', ';', ',', quotes, controls). */
int prep_policy_origins_ok(const char *origins);
/* Fills *out: the CSP with 'self' and each origin (single spaces, whatever the spacing
 * given), the HSTS value when https && hsts_max_age > 0. PREP_ERR_INVALID when
 * prep_policy_origins_ok refuses the origins (out is then a policy without them). */
PREP_NODISCARD prep_err prep_policy_security_make(const char *origins, int https, int64_t hsts_max_age, prep_policy_security *out);
/* The fields of s (borrowed; values point into it) into out, in this order:
 * strict-transport-security (when s has one), x-content-type-options, referrer-policy,
 * content-security-policy. Returns how many (3 or 4). */
size_t prep_policy_security_fields(const prep_policy_security *s, prep_policy_field out[4]);

#endif
