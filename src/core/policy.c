/* prep core: the public response policy table (include/prep/policy.h). */
#include "prep/policy.h"

#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

static const prep_policy_class_info classes[PREP_POLICY_N_CLASSES] = {
    {PREP_POLICY_PAGE, "page", PREP_POLICY_CC_SHORT,
     "a stable URL whose bytes change every cut: fresh for a minute, then a cache may serve it stale for 4 more "
     "while it revalidates, so no reader is more than one cut behind"},
    {PREP_POLICY_DATA, "data", PREP_POLICY_CC_SHORT,
     "the cut's database and signed list: they change every cut, like pages"},
    {PREP_POLICY_POLL, "poll", PREP_POLICY_CC_NO_CACHE, "polled by the pages' script to detect a new cut"},
    {PREP_POLICY_ASSET, "asset", PREP_POLICY_CC_IMMUTABLE,
     "named by the hash of its bytes: a new version gets a new name, so replicas on adjacent cuts stay consistent"},
    {PREP_POLICY_ARCHIVE, "archive", PREP_POLICY_CC_IMMUTABLE, "an archived cut is signed and never changes"},
    {PREP_POLICY_ANSWER, "answer", PREP_POLICY_CC_NO_CACHE,
     "errors, redirects and the waiting page say something about this moment, not about a file"},
};

/* First match wins; no match: PREP_POLICY_PAGE. */
static const prep_policy_rule rules[] = {
    {"^cortes/([1-9][0-9]{0,11})/", PREP_POLICY_ARCHIVE,
     "cortes/<seq>/... (an archived cut, its SHA256SUMS(.sig) too)"},
    {"^assets/[^/]+\\.[0-9a-f]{8,64}\\.[A-Za-z0-9]+$", PREP_POLICY_ASSET, "assets/<name>.<hash>.<ext>"},
    {"^corte\\.json$", PREP_POLICY_POLL, "corte.json"},
    {"^base-de-datos/index\\.html$", PREP_POLICY_PAGE, "base-de-datos/index.html (a page)"},
    {"^base-de-datos/[^/]+$", PREP_POLICY_DATA, "base-de-datos/* (CSV files, LEEME.txt)"},
    {"^SHA256SUMS(\\.sig)?$", PREP_POLICY_DATA, "SHA256SUMS, SHA256SUMS.sig (the cut's signed list)"},
};

#define N_RULES PREP_ARRAY_LEN(rules)
#define KEY_MAX 4096

static regex_t compiled[N_RULES];
static char prefix[N_RULES][32]; /* the regex's literal start: a cheap test before regexec */
static size_t prefix_len[N_RULES];
static int compiled_ok[N_RULES];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void compile_rules(void)
{
    for (size_t i = 0; i < N_RULES; i++) {
        compiled_ok[i] = regcomp(&compiled[i], rules[i].regex, REG_EXTENDED) == 0;
        /* The literal characters after '^' up to the first operator ("\." is a '.'). */
        const char *r = rules[i].regex + 1;
        size_t n = 0;
        while (*r && n + 1 < sizeof prefix[i]) {
            if (r[0] == '\\' && r[1] && strchr(".^$|()[]{}*+?\\", r[1])) {
                if (r[2] && strchr("*+?{", r[2])) break; /* the escaped char is repeated */
                prefix[i][n++] = r[1];
                r += 2;
                continue;
            }
            if (strchr(".^$|()[]{}*+?\\", *r)) break;
            if (r[1] && strchr("*+?{", r[1])) break;
            prefix[i][n++] = *r++;
        }
        prefix[i][n] = 0;
        prefix_len[i] = n;
    }
}

const prep_policy_class_info *prep_policy_classes(size_t *n)
{
    if (n) *n = PREP_POLICY_N_CLASSES;
    return classes;
}

const prep_policy_rule *prep_policy_rules(size_t *n)
{
    if (n) *n = N_RULES;
    return rules;
}

const prep_policy_class_info *prep_policy_class_get(prep_policy_class k)
{
    if ((unsigned)k >= PREP_POLICY_N_CLASSES) k = PREP_POLICY_ANSWER;
    return &classes[k];
}

prep_policy_class prep_policy_path_class(const char *key, size_t len)
{
    if (len > KEY_MAX) return PREP_POLICY_PAGE;
    pthread_once(&once, compile_rules);
    char buf[KEY_MAX + 1];
    int copied = 0;
    for (size_t i = 0; i < N_RULES; i++) {
        if (len < prefix_len[i] || memcmp(key, prefix[i], prefix_len[i])) continue;
        if (!compiled_ok[i]) continue; /* cannot happen: the unit test compiles every rule */
        if (!copied) {
            memcpy(buf, key, len);
            buf[len] = 0;
            copied = 1;
        }
        if (memchr(key, 0, len)) return PREP_POLICY_PAGE; /* a NUL inside: no rule's file */
        if (regexec(&compiled[i], buf, 0, NULL, 0) == 0) return rules[i].cls;
    }
    return PREP_POLICY_PAGE;
}

int prep_policy_cors(const char *key, size_t len)
{
    /* PREP_POLICY_CORS_REGEX, "\\.json$": the key ends in ".json" (test_policy checks the two agree) */
    return len >= 5 && !memchr(key, 0, len) && !memcmp(key + len - 5, ".json", 5);
}

const char *prep_policy_cache_control(const char *key, size_t len)
{
    return classes[prep_policy_path_class(key, len)].cache_control;
}

/* ---------------------------------------------------------------- security fields */
static int origin_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr(".:/-*[]", c);
}

int prep_policy_origins_ok(const char *origins)
{
    if (!origins) return 1;
    if (strlen(origins) > PREP_POLICY_ORIGINS_MAX) return 0;
    for (const char *c = origins; *c; c++)
        if (*c != ' ' && !origin_char(*c)) return 0;
    return 1;
}

prep_err prep_policy_security_make(const char *origins, int https, int64_t hsts_max_age, prep_policy_security *out)
{
    memset(out, 0, sizeof *out);
    int ok = prep_policy_origins_ok(origins);
    size_t n = sizeof PREP_POLICY_CSP_BASE - 1;
    memcpy(out->csp, PREP_POLICY_CSP_BASE, n);
    for (const char *c = ok ? origins : NULL; c && *c;) {
        while (*c == ' ') c++;
        size_t t = strcspn(c, " ");
        if (!t) break;
        /* fits: the origins are at most PREP_POLICY_ORIGINS_MAX bytes with their spaces */
        out->csp[n++] = ' ';
        memcpy(out->csp + n, c, t);
        n += t;
        c += t;
    }
    out->csp[n] = 0;
    out->csp_len = n;
    if (https && hsts_max_age > 0)
        out->hsts_len = (size_t)snprintf(out->hsts, sizeof out->hsts, "max-age=%lld", (long long)hsts_max_age);
    return ok ? PREP_OK : PREP_ERR_INVALID;
}

size_t prep_policy_security_fields(const prep_policy_security *s, prep_policy_field out[4])
{
    size_t n = 0;
    if (s->hsts_len) out[n++] = (prep_policy_field){"strict-transport-security", s->hsts, s->hsts_len};
    out[n++] = (prep_policy_field){"x-content-type-options", PREP_POLICY_NOSNIFF, sizeof PREP_POLICY_NOSNIFF - 1};
    out[n++] = (prep_policy_field){"referrer-policy", PREP_POLICY_REFERRER, sizeof PREP_POLICY_REFERRER - 1};
    out[n++] = (prep_policy_field){"content-security-policy", s->csp, s->csp_len};
    return n;
}
