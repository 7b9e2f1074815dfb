/* The institute daemon's JSON config: include/prep/institute.h. */
#include "prep/institute.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void prep_institute_config_free(prep_institute_config *c)
{
    char **s[] = {&c->catalog, &c->actas,       &c->key,   &c->pubkey,      &c->store,     &c->registry,
                  &c->secrets, &c->clock_start, &c->until, &c->pull_listen, &c->pull_cert, &c->pull_key};
    for (size_t i = 0; i < sizeof s / sizeof *s; i++) {
        free(*s[i]);
        *s[i] = NULL;
    }
    memset(c, 0, sizeof *c);
}

typedef struct ctx {
    const char *name;
    prep_diags *d;
    int bad;
    const char *text; /* the config's bytes, to name the line of a bad value */
    size_t len;
} ctx;

/* The line (1-based) of the first "key": in the text, 0 when not found. Keys are unique
 * within an object (duplicates are refused) and the config's key names differ between
 * its objects, so the first one is the key the value belongs to. */
static long key_line(const ctx *x, const char *key)
{
    size_t kl = strlen(key);
    long line = 1;
    for (size_t i = 0; x->text && i + kl + 2 <= x->len; i++) {
        if (x->text[i] == '\n') line++;
        if (x->text[i] != '"' || memcmp(x->text + i + 1, key, kl) || x->text[i + kl + 1] != '"') continue;
        size_t j = i + kl + 2;
        while (j < x->len && (x->text[j] == ' ' || x->text[j] == '\t' || x->text[j] == '\r' || x->text[j] == '\n')) j++;
        if (j < x->len && x->text[j] == ':') return line;
    }
    return 0;
}

static void fail(ctx *x, const char *kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(ctx *x, const char *kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    prep_diags_vadd(x->d, x->name, 0, 0, kind, fmt, ap);
    va_end(ap);
    x->bad = 1;
}

/* A bad value of key: the diag names the file and the key's line. */
static void fail_key(ctx *x, const char *key, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail_key(ctx *x, const char *key, const char *kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    prep_diags_vadd(x->d, x->name, key_line(x, key), 0, kind, fmt, ap);
    va_end(ap);
    x->bad = 1;
}

/* Only the listed keys may appear in object o. */
static void only(ctx *x, json_t *o, const char *where, const char *const *keys)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        int ok = 0;
        for (int i = 0; keys[i]; i++) ok |= !strcmp(k, keys[i]);
        if (!ok) fail_key(x, k, "config-field", "unknown key \"%s\"%s", k, where);
    }
}

/* A string field: absent leaves *out NULL; present must be a non-empty string without
 * control characters, at most 4096 bytes. */
static void str(ctx *x, json_t *o, const char *key, char **out)
{
    json_t *v = json_object_get(o, key);
    if (!v) return;
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    size_t n = s ? json_string_length(v) : 0;
    if (!s || !n || n > 4096 || strlen(s) != n) {
        fail_key(x, key, "config-field", "\"%s\" must be a non-empty string (at most 4096 bytes)", key);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            fail_key(x, key, "config-field", "\"%s\" holds a control character", key);
            return;
        }
    *out = prep_xstrdup(s);
}

static void integer(ctx *x, json_t *o, const char *key, long long lo, long long hi, long long *out)
{
    json_t *v = json_object_get(o, key);
    if (!v) return;
    if (!json_is_integer(v)) {
        fail_key(x, key, "config-field", "\"%s\" must be a whole number", key);
        return;
    }
    long long n = json_integer_value(v);
    if (n < lo || n > hi) {
        char r[64];
        snprintf(r, sizeof r, " (%lld..%lld)", lo, hi);
        fail_key(x, key, "config-range", "\"%s\" is out of range%s", key, r);
        return;
    }
    *out = n;
}

prep_err prep_institute_config_parse(const void *data, size_t len, const char *name, prep_institute_config *c,
                                prep_diags *d)
{
    memset(c, 0, sizeof *c);
    ctx x = {name ? name : "(config)", d, 0, data, len};
    if (len > PREP_INSTITUTE_CONFIG_MAX) {
        prep_diags_add(d, x.name, 0, 0, "limit", "the config is larger than %u bytes", PREP_INSTITUTE_CONFIG_MAX);
        return PREP_ERR_LIMIT;
    }
    json_error_t je;
    json_t *r = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!r) {
        prep_diags_add(d, x.name, je.line, je.column, "config-syntax", "%s", je.text);
        return PREP_ERR_PARSE;
    }
    if (!json_is_object(r)) {
        prep_diags_add(d, x.name, 0, 0, "config-syntax", "the config must be a JSON object");
        json_decref(r);
        return PREP_ERR_PARSE;
    }
    static const char *const top[] = {"catalog", "actas", "key",  "pubkey",  "store",    "registry", "secrets",
                                      "drill",   "clock", "until", "pull",   "deliver", "max_cuts", "store_keep",
                                      NULL};
    only(&x, r, "", top);
    str(&x, r, "catalog", &c->catalog);
    str(&x, r, "actas", &c->actas);
    str(&x, r, "key", &c->key);
    str(&x, r, "pubkey", &c->pubkey);
    str(&x, r, "store", &c->store);
    str(&x, r, "registry", &c->registry);
    str(&x, r, "secrets", &c->secrets);
    str(&x, r, "until", &c->until);
    json_t *dr = json_object_get(r, "drill");
    if (dr && !json_is_boolean(dr)) fail_key(&x, "drill", "config-field", "\"%s\" must be true or false", "drill");
    c->drill = json_is_true(dr);
    static const char *const need[] = {"catalog", "actas", "key", "store"};
    char *const *have[] = {&c->catalog, &c->actas, &c->key, &c->store};
    for (int i = 0; i < 4; i++)
        if (!*have[i] && !json_object_get(r, need[i]))
            fail(&x, "config-missing", "\"%s\" (a string) is required", need[i]);

    json_t *clk = json_object_get(r, "clock");
    if (clk) {
        if (!json_is_object(clk)) fail_key(&x, "clock", "config-field", "\"%s\" must be an object", "clock");
        else {
            static const char *const ck[] = {"start", "seconds_per_cut", NULL};
            only(&x, clk, " in \"clock\"", ck);
            str(&x, clk, "start", &c->clock_start);
            json_t *spc = json_object_get(clk, "seconds_per_cut");
            c->seconds_per_cut = json_is_number(spc) ? json_number_value(spc) : 0;
            if (!c->clock_start || !(c->seconds_per_cut >= 0.5 && c->seconds_per_cut <= 3600))
                fail_key(&x, "clock", "config-range", "\"%s\" needs \"start\" (local time) and \"seconds_per_cut\" (0.5 to 3600)",
                     "clock");
        }
    }
    json_t *pl = json_object_get(r, "pull");
    if (pl) {
        if (!json_is_object(pl)) fail_key(&x, "pull", "config-field", "\"%s\" must be an object", "pull");
        else {
            static const char *const pk[] = {"listen", "tls_cert", "tls_key", NULL};
            only(&x, pl, " in \"pull\"", pk);
            str(&x, pl, "listen", &c->pull_listen);
            str(&x, pl, "tls_cert", &c->pull_cert);
            str(&x, pl, "tls_key", &c->pull_key);
            if (!c->pull_listen) fail_key(&x, "pull", "config-missing", "\"%s\" needs \"listen\" (ADDR:PORT)", "pull");
            if (!c->pull_cert != !c->pull_key)
                fail_key(&x, "pull", "config-missing", "\"%s\": tls_cert and tls_key go together", "pull");
            if (!c->registry && !json_object_get(r, "registry"))
                fail_key(&x, "pull", "config-missing", "\"%s\" links need the \"registry\" (it holds the tokens)", "pull");
        }
    }
    long long par = 8, ret = 2, bo = 1000, mc = 0;
    json_t *dl = json_object_get(r, "deliver");
    if (dl) {
        if (!json_is_object(dl)) fail_key(&x, "deliver", "config-field", "\"%s\" must be an object", "deliver");
        else {
            static const char *const dk[] = {"parallel", "retries", "backoff_ms", "gzip", NULL};
            only(&x, dl, " in \"deliver\"", dk);
            integer(&x, dl, "parallel", 1, 64, &par);
            integer(&x, dl, "retries", 0, 20, &ret);
            integer(&x, dl, "backoff_ms", 10, 600000, &bo);
            json_t *gz = json_object_get(dl, "gzip");
            if (gz && !json_is_boolean(gz)) fail_key(&x, "gzip", "config-field", "\"%s\" must be true or false", "gzip");
            if (gz) c->push_raw = json_is_false(gz);
        }
    }
    integer(&x, r, "max_cuts", 0, 1000000, &mc);
    long long sk = 0;
    integer(&x, r, "store_keep", 1, PREP_INSTITUTE_STORE_KEEP_MAX, &sk);
    c->parallel = (int)par;
    c->retries = (int)ret;
    c->backoff_ms = (long)bo;
    c->max_cuts = (int)mc;
    c->store_keep = (unsigned)sk;
    json_decref(r);
    if (x.bad) {
        prep_institute_config_free(c);
        return PREP_ERR_INVALID;
    }
    return PREP_OK;
}
