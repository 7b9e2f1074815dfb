/* prep monitor: the JSON config (docs/monitor.md "Config"). jansson reads it; every
 * refusal names the line:column of the offending value, found by a small walker over the
 * already-accepted text (jansson keeps no positions after loading). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "monitor_internal.h"

/* ---------------------------------------------------------------- locating values */
typedef struct jw {
    const char *s;
    size_t n, i;
    long line, col; /* of s[i] */
} jw;

static void jw_adv(jw *w)
{
    if (w->i >= w->n) return;
    if (w->s[w->i] == '\n') {
        w->line++;
        w->col = 1;
    } else {
        w->col++;
    }
    w->i++;
}

static void jw_ws(jw *w)
{
    while (w->i < w->n && (w->s[w->i] == ' ' || w->s[w->i] == '\t' || w->s[w->i] == '\n' || w->s[w->i] == '\r'))
        jw_adv(w);
}

/* At a double quote: skips the string; *start and *len get its raw contents (escapes not decoded). */
static void jw_string(jw *w, size_t *start, size_t *len)
{
    jw_adv(w); /* " */
    size_t b = w->i;
    while (w->i < w->n && w->s[w->i] != '"') {
        if (w->s[w->i] == '\\') jw_adv(w);
        jw_adv(w);
    }
    if (start) *start = b;
    if (len) *len = w->i - b;
    jw_adv(w); /* " */
}

/* Skips one value of any depth without recursion. */
static void jw_skip(jw *w)
{
    long depth = 0;
    do {
        jw_ws(w);
        if (w->i >= w->n) return;
        char ch = w->s[w->i];
        if (ch == '"') {
            jw_string(w, NULL, NULL);
        } else if (ch == '{' || ch == '[') {
            depth++;
            jw_adv(w);
        } else if (ch == '}' || ch == ']') {
            depth--;
            jw_adv(w);
        } else if (ch == ',' || ch == ':') {
            jw_adv(w);
        } else {
            /* a scalar: at least one byte, then up to a delimiter (jansson lets a NUL
             * byte follow a number, and strchr would match NUL as the terminator) */
            jw_adv(w);
            while (w->i < w->n && w->s[w->i] && !strchr(",]} \t\r\n", w->s[w->i])) jw_adv(w);
        }
    } while (depth > 0);
}

void mon_json_locate(const char *text, size_t len, const mon_jstep *path, size_t n, long *line, long *col)
{
    jw w = {text, len, 0, 1, 1};
    *line = 0;
    *col = 0;
    for (size_t k = 0; k <= n; k++) {
        jw_ws(&w);
        if (w.i >= w.n) return;
        if (k == n) break;
        char open = w.s[w.i];
        if (path[k].key && open == '{') {
            jw_adv(&w);
            int found = 0;
            for (;;) {
                jw_ws(&w);
                if (w.i >= w.n || w.s[w.i] != '"') return;
                size_t ks, kl;
                jw_string(&w, &ks, &kl);
                jw_ws(&w);
                if (w.i < w.n && w.s[w.i] == ':') jw_adv(&w);
                if (kl == strlen(path[k].key) && !memcmp(w.s + ks, path[k].key, kl)) {
                    found = 1;
                    break;
                }
                jw_skip(&w);
                jw_ws(&w);
                if (w.i < w.n && w.s[w.i] == ',') jw_adv(&w);
                else return;
            }
            if (!found) return;
        } else if (!path[k].key && open == '[') {
            jw_adv(&w);
            for (size_t j = 0; j < path[k].index; j++) {
                jw_skip(&w);
                jw_ws(&w);
                if (w.i < w.n && w.s[w.i] == ',') jw_adv(&w);
                else return;
            }
        } else {
            return;
        }
    }
    *line = w.line;
    *col = w.col;
}

/* ---------------------------------------------------------------- parsing */
typedef struct pctx {
    const char *text;
    size_t len;
    const char *name;
    const char *base;
    prep_diags *d;
    int bad;
} pctx;

static void perr(pctx *p, const mon_jstep *path, size_t n, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void perr(pctx *p, const mon_jstep *path, size_t n, const char *kind, const char *fmt, ...)
{
    long line, col;
    mon_json_locate(p->text, p->len, path, n, &line, &col);
    va_list ap;
    va_start(ap, fmt);
    prep_diags_vadd(p->d, p->name, line, col, kind, fmt, ap);
    va_end(ap);
    p->bad = 1;
}

static void resolve(const pctx *p, const char *v, char *out, size_t outsz, int *too_long)
{
    int r;
    if (v[0] == '/' || !p->base || !p->base[0]) r = snprintf(out, outsz, "%s", v);
    else r = snprintf(out, outsz, "%s/%s", p->base, v);
    *too_long = r < 0 || (size_t)r >= outsz;
}

static void get_path(pctx *p, json_t *root, const char *key, char *out, int required)
{
    mon_jstep st = {key, 0};
    json_t *v = json_object_get(root, key);
    out[0] = 0;
    if (!v) {
        if (required) perr(p, NULL, 0, "config-missing", "\"%s\" is required", key);
        return;
    }
    if (!json_is_string(v) || !json_string_length(v) || strlen(json_string_value(v)) != json_string_length(v)) {
        perr(p, &st, 1, "config-field", "\"%s\" must be a non-empty string (a path)", key);
        return;
    }
    int tl;
    resolve(p, json_string_value(v), out, PREP_MONITOR_FILE_MAX + 1, &tl);
    if (tl) {
        perr(p, &st, 1, "limit", "\"%s\" is longer than %d bytes", key, PREP_MONITOR_FILE_MAX);
        out[0] = 0;
    }
}

/* A whole number member key of obj, which lies at path pre (npre steps, at most 3; none for
 * the top level). */
static void get_int_in(pctx *p, json_t *obj, const mon_jstep *pre, size_t npre, const char *key, int64_t *out,
                       int64_t def, int64_t lo, int64_t hi)
{
    mon_jstep st[4];
    for (size_t i = 0; i < npre && i < 3; i++) st[i] = pre[i];
    if (npre > 3) npre = 3;
    st[npre].key = key;
    st[npre].index = 0;
    json_t *v = json_object_get(obj, key);
    *out = def;
    if (!v) return;
    if (!json_is_integer(v)) {
        perr(p, st, npre + 1, "config-field", "\"%s\" must be a whole number", key);
        return;
    }
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi) {
        perr(p, st, npre + 1, "config-range", "\"%s\" is %lld; allowed %lld..%lld", key, (long long)x, (long long)lo,
             (long long)hi);
        return;
    }
    *out = x;
}

static void get_int(pctx *p, json_t *root, const char *key, int64_t *out, int64_t def, int64_t lo, int64_t hi)
{
    get_int_in(p, root, NULL, 0, key, out, def, lo, hi);
}

static int id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > PREP_MONITOR_ID_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-')) return 0;
    return 1;
}

/* https://host[:port]/[path/]: printable ASCII, no space, quote, '#', '?', backslash. */
const char *mon_url_problem(const char *s)
{
    size_t n = strlen(s);
    if (n > PREP_MONITOR_URL_MAX) return "longer than 511 bytes";
    if (strncmp(s, "https://", 8)) return "must begin with https://";
    if (n < 10 || s[n - 1] != '/') return "must end with '/'";
    if (s[8] == '/') return "has no host";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch >= 0x7f || strchr("\"'<>\\#?`{}|^", ch)) return "has a character not allowed in it";
    }
    if (strchr(s + 8, '@')) return "must not carry user information";
    return NULL;
}

static const char *known_top[] = {"store", "out", "registry", "interval_seconds", "sample", "amber_lag_seconds",
                                  "red_lag_seconds", "cert_warn_days", "timeout_seconds", "parallel", "history",
                                  "broadcasters", "alerts", NULL};
static const char *known_b[] = {"id", "url", "ca_file", NULL};

static int known(const char *const *list, const char *k)
{
    for (size_t i = 0; list[i]; i++)
        if (!strcmp(list[i], k)) return 1;
    return 0;
}

static void get_targets(pctx *p, json_t *root, prep_monitor_config *c)
{
    mon_jstep st[3] = {{"broadcasters", 0}, {NULL, 0}, {NULL, 0}};
    json_t *arr = json_object_get(root, "broadcasters");
    if (!arr) {
        if (!c->registry[0]) perr(p, NULL, 0, "config-missing", "\"broadcasters\" is required (or \"registry\")");
        return;
    }
    if (!json_is_array(arr)) {
        perr(p, st, 1, "config-field", "\"broadcasters\" must be an array");
        return;
    }
    size_t n = json_array_size(arr);
    if (n > PREP_MONITOR_TARGETS_MAX) {
        perr(p, st, 1, "limit", "%zu broadcasters; at most %d", n, PREP_MONITOR_TARGETS_MAX);
        return;
    }
    c->targets = calloc(n ? n : 1, sizeof *c->targets);
    if (!c->targets) {
        p->bad = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *b = json_array_get(arr, i);
        st[1].index = i;
        if (!json_is_object(b)) {
            perr(p, st, 2, "config-field", "broadcasters[%zu] must be an object", i);
            continue;
        }
        const char *k;
        json_t *v;
        json_object_foreach(b, k, v) {
            if (!known(known_b, k)) {
                st[2].key = k;
                perr(p, st, 3, "config-field", "unknown key \"%s\" in broadcasters[%zu]", k, i);
            }
        }
        prep_monitor_target *t = &c->targets[c->n];
        int ok = 1;
        st[2].key = "id";
        v = json_object_get(b, "id");
        if (!v) {
            perr(p, st, 2, "config-missing", "broadcasters[%zu] has no \"id\"", i);
            ok = 0;
        } else if (!json_is_string(v) || !id_ok(json_string_value(v)) ||
                   strlen(json_string_value(v)) != json_string_length(v)) {
            perr(p, st, 3, "config-field", "broadcasters[%zu].id must be 1..63 of [a-z0-9-]", i);
            ok = 0;
        } else {
            snprintf(t->id, sizeof t->id, "%s", json_string_value(v));
            for (size_t j = 0; j < c->n; j++)
                if (!strcmp(c->targets[j].id, t->id)) {
                    perr(p, st, 3, "config-duplicate", "broadcaster id \"%s\" given twice", t->id);
                    ok = 0;
                }
        }
        st[2].key = "url";
        v = json_object_get(b, "url");
        if (!v) {
            perr(p, st, 2, "config-missing", "broadcasters[%zu] has no \"url\"", i);
            ok = 0;
        } else if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
            perr(p, st, 3, "config-field", "broadcasters[%zu].url must be a string", i);
            ok = 0;
        } else {
            const char *why = mon_url_problem(json_string_value(v));
            if (why) {
                perr(p, st, 3, "config-field", "broadcasters[%zu].url \"%.80s\" %s", i, json_string_value(v), why);
                ok = 0;
            } else {
                snprintf(t->url, sizeof t->url, "%s", json_string_value(v));
            }
        }
        st[2].key = "ca_file";
        v = json_object_get(b, "ca_file");
        if (v) {
            if (!json_is_string(v) || !json_string_length(v) ||
                strlen(json_string_value(v)) != json_string_length(v)) {
                perr(p, st, 3, "config-field", "broadcasters[%zu].ca_file must be a non-empty string", i);
                ok = 0;
            } else {
                int tl;
                resolve(p, json_string_value(v), t->ca_file, sizeof t->ca_file, &tl);
                if (tl) {
                    perr(p, st, 3, "limit", "broadcasters[%zu].ca_file is too long", i);
                    ok = 0;
                }
            }
        }
        if (ok) c->n++;
        else memset(t, 0, sizeof *t);
    }
}

/* ---------------------------------------------------------------- the "alerts" section */
/* A mail address as the monitor accepts it in a From, To or envelope: local@domain,
 * printable ASCII without space, quotes, angle brackets, commas, backslash or parentheses
 * (so it can go between < > in a header and an SMTP command unquoted). */
const char *mon_addr_problem(const char *s)
{
    size_t n = strlen(s);
    if (n < 3) return "is too short";
    if (n > PREP_MONITOR_ADDR_MAX) return "is longer than 254 bytes";
    const char *at = strchr(s, '@');
    if (!at || at == s || !at[1] || strchr(at + 1, '@')) return "must be local@domain";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch >= 0x7f || strchr("\"'<>()[],;:\\`", ch)) return "has a character not allowed in it";
    }
    return NULL;
}

/* The alert channels' URLs: smtp://host[:port][/] or smtps://...; http(s)://host[:port]/path
 * for the webhook. No user information (no secret in a URL: the password has its file). */
const char *mon_alert_url_problem(const char *s, int webhook)
{
    size_t n = strlen(s);
    if (n > PREP_MONITOR_URL_MAX) return "longer than 511 bytes";
    size_t skip;
    if (webhook) {
        if (!strncmp(s, "https://", 8)) skip = 8;
        else if (!strncmp(s, "http://", 7)) skip = 7;
        else return "must begin with https:// or http://";
    } else {
        if (!strncmp(s, "smtps://", 8)) skip = 8;
        else if (!strncmp(s, "smtp://", 7)) skip = 7;
        else return "must begin with smtp:// (STARTTLS is required) or smtps://";
    }
    if (n == skip || s[skip] == '/' || s[skip] == ':') return "has no host";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch >= 0x7f || strchr("\"'<>\\`{}|^", ch)) return "has a character not allowed in it";
    }
    const char *path = strchr(s + skip, '/');
    size_t hostlen = path ? (size_t)(path - (s + skip)) : n - skip;
    if (memchr(s + skip, '@', hostlen)) return "must not carry user information (the password has its file)";
    if (!webhook && path && path[1]) return "must have no path (smtp://host:port)";
    if (strchr(s, '#')) return "must have no fragment";
    return NULL;
}

/* One string member of obj at path st[0..n-1] (st[n-1].key is the member): *out gets it
 * (as a path when as_path). Returns 1 when present and good. */
static int alert_str(pctx *p, json_t *obj, mon_jstep *st, size_t n, char *out, size_t outsz, int as_path,
                     const char *what)
{
    json_t *v = json_object_get(obj, st[n - 1].key);
    out[0] = 0;
    if (!v) return 0;
    if (!json_is_string(v) || !json_string_length(v) || strlen(json_string_value(v)) != json_string_length(v)) {
        perr(p, st, n, "config-field", "\"%s\" must be a non-empty string (%s)", what, as_path ? "a path" : "text");
        return 0;
    }
    int tl;
    if (as_path) {
        resolve(p, json_string_value(v), out, outsz, &tl);
    } else {
        int r = snprintf(out, outsz, "%s", json_string_value(v));
        tl = r < 0 || (size_t)r >= outsz;
    }
    if (tl) {
        perr(p, st, n, "limit", "\"%s\" is longer than %zu bytes", what, outsz - 1);
        out[0] = 0;
        return 0;
    }
    return 1;
}

static void unknown_keys(pctx *p, json_t *obj, mon_jstep *st, size_t n, const char *const *list, const char *where)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (!known(list, k)) {
            st[n].key = k;
            perr(p, st, n + 1, "config-field", "unknown key \"%s\" in %s", k, where);
        }
    }
}

static const char *known_alerts[] = {"smtp", "webhook", "reminder_seconds", "cut_late_seconds",
                                     "max_messages_per_round", NULL};
static const char *known_smtp[] = {"url", "from", "to", "user", "password_file", "ca_file", NULL};
static const char *known_hook[] = {"url", "ca_file", NULL};

static void get_alerts(pctx *p, json_t *root, prep_monitor_alerts *a)
{
    mon_jstep st[4] = {{"alerts", 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}};
    json_t *al = json_object_get(root, "alerts");
    a->reminder_seconds = 1800;
    a->cut_late_seconds = 600;
    a->max_messages_per_round = 5;
    if (!al) return;
    if (!json_is_object(al)) {
        perr(p, st, 1, "config-field", "\"alerts\" must be an object");
        return;
    }
    a->enabled = 1;
    unknown_keys(p, al, st, 1, known_alerts, "alerts");
    get_int_in(p, al, st, 1, "reminder_seconds", &a->reminder_seconds, 1800, 60, 86400 * 7);
    get_int_in(p, al, st, 1, "cut_late_seconds", &a->cut_late_seconds, 600, 0, 86400 * 7);
    get_int_in(p, al, st, 1, "max_messages_per_round", &a->max_messages_per_round, 5, 1, 1000);

    json_t *sm = json_object_get(al, "smtp");
    st[1].key = "smtp";
    if (sm && !json_is_object(sm)) {
        perr(p, st, 2, "config-field", "\"alerts.smtp\" must be an object");
    } else if (sm) {
        unknown_keys(p, sm, st, 2, known_smtp, "alerts.smtp");
        st[2].key = "url";
        if (!json_object_get(sm, "url")) {
            perr(p, st, 2, "config-missing", "\"alerts.smtp\" has no \"url\"");
        } else if (alert_str(p, sm, st, 3, a->smtp_url, sizeof a->smtp_url, 0, "alerts.smtp.url")) {
            const char *why = mon_alert_url_problem(a->smtp_url, 0);
            if (why) {
                perr(p, st, 3, "config-field", "alerts.smtp.url \"%.80s\" %s", a->smtp_url, why);
                a->smtp_url[0] = 0;
            }
        }
        st[2].key = "from";
        if (!json_object_get(sm, "from")) {
            perr(p, st, 2, "config-missing", "\"alerts.smtp\" has no \"from\"");
        } else if (alert_str(p, sm, st, 3, a->smtp_from, sizeof a->smtp_from, 0, "alerts.smtp.from")) {
            const char *why = mon_addr_problem(a->smtp_from);
            if (why) perr(p, st, 3, "config-field", "alerts.smtp.from \"%.80s\" %s", a->smtp_from, why);
        }
        st[2].key = "to";
        json_t *to = json_object_get(sm, "to");
        if (!to) {
            perr(p, st, 2, "config-missing", "\"alerts.smtp\" has no \"to\"");
        } else if (!json_is_array(to) || !json_array_size(to)) {
            perr(p, st, 3, "config-field", "\"alerts.smtp.to\" must be a non-empty array of addresses");
        } else if (json_array_size(to) > PREP_MONITOR_RCPT_MAX) {
            perr(p, st, 3, "limit", "%zu recipients in alerts.smtp.to; at most %d", json_array_size(to),
                 PREP_MONITOR_RCPT_MAX);
        } else {
            for (size_t i = 0; i < json_array_size(to); i++) {
                json_t *v = json_array_get(to, i);
                st[3].key = NULL;
                st[3].index = i;
                const char *why = NULL;
                if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
                    why = "must be a string";
                else why = mon_addr_problem(json_string_value(v));
                if (why) {
                    perr(p, st, 4, "config-field", "alerts.smtp.to[%zu] %s", i, why);
                    continue;
                }
                for (size_t j = 0; j < a->n_to; j++)
                    if (!strcmp(a->smtp_to[j], json_string_value(v))) {
                        perr(p, st, 4, "config-duplicate", "alerts.smtp.to[%zu] \"%s\" given twice", i,
                             json_string_value(v));
                        why = "dup";
                    }
                if (!why) snprintf(a->smtp_to[a->n_to++], sizeof a->smtp_to[0], "%s", json_string_value(v));
            }
        }
        st[2].key = "user";
        if (alert_str(p, sm, st, 3, a->smtp_user, sizeof a->smtp_user, 0, "alerts.smtp.user")) {
            for (const char *q = a->smtp_user; *q; q++)
                if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f) {
                    perr(p, st, 3, "config-field", "alerts.smtp.user must be printable ASCII without spaces");
                    break;
                }
        }
        st[2].key = "password_file";
        alert_str(p, sm, st, 3, a->smtp_password_file, sizeof a->smtp_password_file, 1, "alerts.smtp.password_file");
        st[2].key = "ca_file";
        alert_str(p, sm, st, 3, a->smtp_ca_file, sizeof a->smtp_ca_file, 1, "alerts.smtp.ca_file");
        if (a->smtp_user[0] && !a->smtp_password_file[0] && json_object_get(sm, "user")) {
            st[2].key = "user";
            perr(p, st, 3, "config-missing", "alerts.smtp.user is given without \"password_file\"");
        }
        if (!a->smtp_user[0] && a->smtp_password_file[0] && a->smtp_from[0])
            snprintf(a->smtp_user, sizeof a->smtp_user, "%s", a->smtp_from);
    }

    json_t *wh = json_object_get(al, "webhook");
    st[1].key = "webhook";
    if (wh && !json_is_object(wh)) {
        perr(p, st, 2, "config-field", "\"alerts.webhook\" must be an object");
    } else if (wh) {
        unknown_keys(p, wh, st, 2, known_hook, "alerts.webhook");
        st[2].key = "url";
        if (!json_object_get(wh, "url")) {
            perr(p, st, 2, "config-missing", "\"alerts.webhook\" has no \"url\"");
        } else if (alert_str(p, wh, st, 3, a->webhook_url, sizeof a->webhook_url, 0, "alerts.webhook.url")) {
            const char *why = mon_alert_url_problem(a->webhook_url, 1);
            if (why) {
                perr(p, st, 3, "config-field", "alerts.webhook.url %s", why);
                a->webhook_url[0] = 0;
            }
        }
        st[2].key = "ca_file";
        alert_str(p, wh, st, 3, a->webhook_ca_file, sizeof a->webhook_ca_file, 1, "alerts.webhook.ca_file");
    }
    if (!sm && !wh) perr(p, st, 1, "config-missing", "\"alerts\" needs \"smtp\" or \"webhook\" (or both)");
}

void prep_monitor_config_free(prep_monitor_config *c)
{
    if (!c) return;
    free(c->targets);
    memset(c, 0, sizeof *c);
}

prep_err prep_monitor_config_parse(const void *data, size_t len, const char *name, const char *base_dir,
                                   prep_monitor_config *c, prep_diags *d)
{
    memset(c, 0, sizeof *c);
    if (!name) name = "config";
    if (len > PREP_MONITOR_CONFIG_MAX) {
        prep_diags_add(d, name, 0, 0, "limit", "config is %zu bytes; at most %u", len, PREP_MONITOR_CONFIG_MAX);
        return PREP_ERR_LIMIT;
    }
    json_error_t je;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        prep_diags_add(d, name, je.line > 0 ? je.line : 0, je.column > 0 ? je.column : 0, "config-syntax", "%s",
                       je.text);
        return PREP_ERR_PARSE;
    }
    pctx p = {data, len, name, base_dir, d, 0};
    if (!json_is_object(root)) {
        perr(&p, NULL, 0, "config-field", "the config must be a JSON object");
        json_decref(root);
        return PREP_ERR_INVALID;
    }
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) {
        if (!known(known_top, k)) {
            mon_jstep st = {k, 0};
            perr(&p, &st, 1, "config-field", "unknown key \"%s\"", k);
        }
    }
    get_path(&p, root, "store", c->store, 1);
    get_path(&p, root, "out", c->out, 1);
    get_path(&p, root, "registry", c->registry, 0);
    get_int(&p, root, "interval_seconds", &c->interval_seconds, 30, 5, 86400);
    get_int(&p, root, "sample", &c->sample, 20, 2, PREP_MONITOR_SAMPLE_MAX);
    get_int(&p, root, "amber_lag_seconds", &c->amber_lag_seconds, 120, 0, 86400 * 7);
    get_int(&p, root, "red_lag_seconds", &c->red_lag_seconds, 600, 0, 86400 * 7);
    get_int(&p, root, "cert_warn_days", &c->cert_warn_days, 14, 0, 3650);
    get_int(&p, root, "timeout_seconds", &c->timeout_seconds, 20, 1, 300);
    get_int(&p, root, "parallel", &c->parallel, 8, 1, 64);
    get_int(&p, root, "history", &c->history, 48, 1, PREP_MONITOR_HISTORY_MAX);
    if (!p.bad && c->red_lag_seconds < c->amber_lag_seconds) {
        mon_jstep st = {"red_lag_seconds", 0};
        perr(&p, &st, 1, "config-range", "\"red_lag_seconds\" (%lld) is below \"amber_lag_seconds\" (%lld)",
             (long long)c->red_lag_seconds, (long long)c->amber_lag_seconds);
    }
    get_targets(&p, root, c);
    get_alerts(&p, root, &c->alerts);
    json_decref(root);
    if (p.bad) {
        prep_monitor_config_free(c);
        return PREP_ERR_INVALID;
    }
    return PREP_OK;
}

prep_err prep_monitor_config_load(const char *path, prep_monitor_config *c, prep_diags *d)
{
    memset(c, 0, sizeof *c);
    char *data = NULL;
    size_t len = 0;
    prep_err e = prep_read_file(path, PREP_MONITOR_CONFIG_MAX, &data, &len);
    if (e) {
        prep_diags_add(d, path, 0, 0, e == PREP_ERR_LIMIT ? "limit" : "io", "cannot read the config (%s)",
                       e == PREP_ERR_LIMIT ? "larger than 1 MiB" : prep_err_str(e));
        return e;
    }
    char base[PREP_MONITOR_FILE_MAX + 1];
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(base, sizeof base, ".");
    else if (slash == path) snprintf(base, sizeof base, "/");
    else snprintf(base, sizeof base, "%.*s", (int)(slash - path), path);
    e = prep_monitor_config_parse(data, len, path, base, c, d);
    if (!e && c->alerts.smtp_password_file[0]) {
        /* checked now, so a wrong mode stops the daemon at start, not at 3 a.m.; read again
         * at each send (never kept in memory between sends) */
        char why[256];
        if (mon_alert_password_check(c->alerts.smtp_password_file, why, sizeof why)) {
            mon_jstep st[3] = {{"alerts", 0}, {"smtp", 0}, {"password_file", 0}};
            long line, col;
            mon_json_locate(data, len, st, 3, &line, &col);
            prep_diags_add(d, path, line, col, "config-secret", "alerts.smtp.password_file %s %s",
                           c->alerts.smtp_password_file, why);
            prep_monitor_config_free(c);
            e = PREP_ERR_INVALID;
        }
    }
    free(data);
    return e;
}

/* ---------------------------------------------------------------- the registry */
#include <sys/stat.h>

#include "prep/registry.h"

prep_err mon_registry_targets(const char *db, prep_monitor_target **t, size_t *n, prep_diags *d)
{
    struct stat sb;
    if (stat(db, &sb) || !S_ISREG(sb.st_mode)) {
        /* never created by the monitor: opening would make an empty registry */
        prep_diags_add(d, db, 0, 0, "registry", "no registry database there");
        return PREP_ERR_NOTFOUND;
    }
    prep_registry *r;
    prep_err e = prep_registry_open(db, NULL, &r, d);
    if (e) return e;
    prep_registry_difusor *v;
    size_t nv;
    e = prep_registry_list(r, &v, &nv, d);
    prep_registry_close(r);
    if (e) return e;
    for (size_t i = 0; i < nv && !e; i++) {
        if (v[i].status != PREP_REGISTRY_ACTIVE) continue;
        int dup = 0;
        for (size_t j = 0; j < *n; j++) dup |= !strcmp((*t)[j].id, v[i].id);
        if (dup) continue;
        if (*n >= PREP_MONITOR_TARGETS_MAX) {
            prep_diags_add(d, db, 0, 0, "limit", "more than %d broadcasters", PREP_MONITOR_TARGETS_MAX);
            break;
        }
        prep_monitor_target x;
        memset(&x, 0, sizeof x);
        const char *u = v[i].v[PREP_REGISTRY_F_publication_url];
        size_t ul = u ? strlen(u) : 0;
        int r2 = snprintf(x.url, sizeof x.url, "%s%s", u ? u : "", ul && u[ul - 1] != '/' ? "/" : "");
        const char *why = r2 < 0 || (size_t)r2 >= sizeof x.url ? "longer than 511 bytes" : mon_url_problem(x.url);
        if (why || strlen(v[i].id) > PREP_MONITOR_ID_MAX) {
            prep_diags_add(d, db, 0, 0, "registry-url", "broadcaster %s: publication URL \"%.80s\" %s; not probed",
                           v[i].id, u ? u : "", why ? why : "has a long id");
            continue;
        }
        snprintf(x.id, sizeof x.id, "%s", v[i].id);
        prep_monitor_target *nt = realloc(*t, (*n + 1) * sizeof *nt);
        if (!nt) {
            e = PREP_ERR_NOMEM;
            break;
        }
        *t = nt;
        (*t)[(*n)++] = x;
    }
    prep_registry_difusor_list_free(v, nv);
    return e;
}
