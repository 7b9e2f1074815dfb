/* prep monitor: the board (OUT/index.html, OUT/board.json, OUT/metrics.prom, each
 * written atomically) and the append-only evidence logs (OUT/evidence/<id>.jsonl). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "monitor_internal.h"

#define EVIDENCE_ROTATE_BYTES ((off_t)64 << 20)

static void iso(prep_time t, char *out, size_t outsz)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t == PREP_TIME_NONE || !gmtime_r(&tt, &tm)) {
        snprintf(out, outsz, "%s", "");
        return;
    }
    strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---------------------------------------------------------------- evidence */
static const char *page_verdict(const mon_fetch *f)
{
    if (f->oversize) return "modified";
    if (f->curl_code != 0) return "error";
    if (f->http_code != 200) return "missing";
    return strcmp(f->found, f->expected) ? "modified" : "identical";
}

prep_err mon_evidence_append(const char *out_dir, const char *id, const mon_fetch *f, size_t n,
                             const char *verdict_of_sums)
{
    char path[PREP_MONITOR_FILE_MAX + 128];
    snprintf(path, sizeof path, "%s/evidence/%s.jsonl", out_dir, id);
    prep_buf b;
    prep_buf_init(&b, (size_t)64 << 20);
    prep_err e = PREP_OK;
    for (size_t i = 0; i < n && !e; i++) {
        char when[32];
        iso(f[i].at, when, sizeof when);
        const char *kind = f[i].kind == MON_SUMS ? "manifest" : f[i].kind == MON_ENC ? "page-encoded" : "page";
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:i,s:s}", "time", when, "kind", kind, "url", f[i].url,
                              "path", f[i].path, "found_sha256", f[i].found, "bytes", (json_int_t)f[i].bytes,
                              "status", f[i].curl_code == 0 ? "ok" : f[i].curl_error, "http_code",
                              (int)f[i].http_code, "verdict",
                              f[i].kind == MON_SUMS ? verdict_of_sums : page_verdict(&f[i]));
        if (!o) {
            e = PREP_ERR_NOMEM;
            break;
        }
        if (f[i].kind != MON_SUMS) json_object_set_new(o, "expected_sha256", json_string(f[i].expected));
        if (f[i].kind == MON_ENC) json_object_set_new(o, "content_encoding", json_string(f[i].content_encoding));
        if (f[i].x_prep_corte >= 0) json_object_set_new(o, "x_prep_corte", json_integer(f[i].x_prep_corte));
        if (f[i].kind != MON_SUMS) {
            /* the cut the page names in its own bytes, and the cut it was judged against */
            if (f[i].stamp.corte >= 0) json_object_set_new(o, "stamp_corte", json_integer(f[i].stamp.corte));
            if (f[i].judged_seq) json_object_set_new(o, "cut", json_integer((json_int_t)f[i].judged_seq));
        }
        if (f[i].cert_expires != PREP_TIME_NONE) {
            iso(f[i].cert_expires, when, sizeof when);
            json_object_set_new(o, "cert_expires", json_string(when));
        }
        char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (!line) {
            e = PREP_ERR_NOMEM;
            break;
        }
        e = prep_buf_puts(&b, line);
        if (!e) e = prep_buf_putc(&b, '\n');
        free(line);
    }
    if (!e && b.len) {
        struct stat sb;
        if (!stat(path, &sb) && sb.st_size > EVIDENCE_ROTATE_BYTES) {
            /* never deleted: the old log keeps its evidence under a dated name */
            char old[sizeof path + 32];
            snprintf(old, sizeof old, "%s.%lld", path, (long long)prep_time_now());
            if (rename(path, old)) {
                prep_io_fail("rotate (rename)", path, errno);
                e = PREP_ERR_IO;
            }
        }
        if (!e) e = prep_append_file(path, b.data, b.len, 1);
    }
    prep_buf_free(&b);
    return e;
}

/* ---------------------------------------------------------------- board.json */
static const mon_bstate *bstate(const mon_state *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->b[i].id, id)) return &s->b[i];
    return NULL;
}

static json_t *int_or_null(int64_t v, int64_t none)
{
    return v == none ? json_null() : json_integer(v);
}

static prep_err write_json(const prep_monitor_config *c, const prep_monitor_result *r, const mon_state *s)
{
    char when[32];
    iso(r->at, when, sizeof when);
    json_t *root = json_pack("{s:i,s:s,s:I,s:{s:I,s:I,s:I}}", "version", 1, "generated", when, "active_cut",
                             (json_int_t)r->active_seq, "counts", "green", (json_int_t)r->green, "amber",
                             (json_int_t)r->amber, "red", (json_int_t)r->red);
    json_t *arr = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const prep_monitor_row *w = &r->rows[i];
        json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "id", w->id, "url", w->url, "state",
                              prep_monitor_state_name(w->state), "reason", w->reason);
        json_object_set_new(o, "serving_cut", w->serving_seq ? json_integer((json_int_t)w->serving_seq) : json_null());
        json_object_set_new(o, "cuts_behind", int_or_null(w->cuts_behind, -1));
        json_object_set_new(o, "lag_seconds", int_or_null(w->lag_seconds, -1));
        json_object_set_new(o, "cert_days_left", int_or_null(w->cert_days_left, INT64_MIN));
        iso(w->cert_expires, when, sizeof when);
        json_object_set_new(o, "cert_expires", when[0] ? json_string(when) : json_null());
        json_object_set_new(o, "x_prep_corte", int_or_null(w->x_prep_corte, -1));
        json_object_set_new(o, "pages_checked", json_integer((json_int_t)w->pages_checked));
        json_object_set_new(o, "pages_bad", json_integer((json_int_t)w->pages_bad));
        char ev[PREP_MONITOR_ID_MAX + 32];
        snprintf(ev, sizeof ev, "evidence/%s.jsonl", w->id);
        json_object_set_new(o, "evidence", json_string(ev));
        json_t *h = json_array();
        const mon_bstate *b = bstate(s, w->id);
        for (size_t j = 0; b && j < b->n_hist; j++) {
            iso(b->hist[j].at, when, sizeof when);
            json_t *he = json_pack("{s:s,s:s}", "at", when, "state", prep_monitor_state_name(b->hist[j].state));
            json_object_set_new(he, "cut", b->hist[j].seq ? json_integer((json_int_t)b->hist[j].seq) : json_null());
            json_array_append_new(h, he);
        }
        json_object_set_new(o, "history", h);
        json_array_append_new(arr, o);
    }
    json_object_set_new(root, "broadcasters", arr);
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text) return PREP_ERR_NOMEM;
    size_t n = strlen(text);
    text[n] = '\n';
    char path[PREP_MONITOR_FILE_MAX + 32];
    snprintf(path, sizeof path, "%s/board.json", c->out);
    prep_err e = prep_write_file_atomic(path, text, n + 1);
    free(text);
    return e;
}

/* ---------------------------------------------------------------- metrics.prom */
static prep_err write_prom(const prep_monitor_config *c, const prep_monitor_result *r)
{
    prep_buf b;
    prep_buf_init(&b, (size_t)64 << 20);
    static const struct {
        const char *name, *help;
    } m[] = {
        {"prep_monitor_broadcaster_state", "0 green, 1 amber, 2 red"},
        {"prep_monitor_lag_seconds", "current: seconds after the cut was made until first served; stale: seconds behind"},
        {"prep_monitor_cert_days_left", "whole days until the TLS certificate expires"},
        {"prep_monitor_cuts_behind", "cuts between the one served and the institute's active cut"},
        {"prep_monitor_serving_cut", "the cut sequence the broadcaster serves"},
    };
    prep_err e = PREP_OK;
    for (size_t k = 0; k < PREP_ARRAY_LEN(m) && !e; k++) {
        e = prep_buf_printf(&b, "# HELP %s %s\n# TYPE %s gauge\n", m[k].name, m[k].help, m[k].name);
        for (size_t i = 0; i < r->n && !e; i++) {
            const prep_monitor_row *w = &r->rows[i];
            int64_t v;
            switch (k) {
            case 0: v = (int64_t)w->state; break;
            case 1: v = w->lag_seconds; if (v < 0) continue; break;
            case 2: v = w->cert_days_left; if (v == INT64_MIN) continue; break;
            case 3: v = w->cuts_behind; if (v < 0) continue; break;
            default: v = (int64_t)w->serving_seq; if (!v) continue; break;
            }
            e = prep_buf_printf(&b, "%s{id=\"%s\"} %lld\n", m[k].name, w->id, (long long)v);
        }
    }
    if (!e)
        e = prep_buf_printf(&b,
                            "# HELP prep_monitor_active_cut the institute's active cut\n# TYPE prep_monitor_active_cut gauge\n"
                            "prep_monitor_active_cut %llu\n"
                            "# HELP prep_monitor_last_round_timestamp_seconds when the last round started\n"
                            "# TYPE prep_monitor_last_round_timestamp_seconds gauge\n"
                            "prep_monitor_last_round_timestamp_seconds %lld\n",
                            (unsigned long long)r->active_seq, (long long)r->at);
    char path[PREP_MONITOR_FILE_MAX + 32];
    snprintf(path, sizeof path, "%s/metrics.prom", c->out);
    if (!e) e = prep_write_file_atomic(path, b.data, b.len);
    prep_buf_free(&b);
    return e;
}

/* ---------------------------------------------------------------- index.html */
static prep_err esc(prep_buf *b, const char *s)
{
    prep_err e = PREP_OK;
    for (; *s && !e; s++) {
        switch (*s) {
        case '&': e = prep_buf_puts(b, "&amp;"); break;
        case '<': e = prep_buf_puts(b, "&lt;"); break;
        case '>': e = prep_buf_puts(b, "&gt;"); break;
        case '"': e = prep_buf_puts(b, "&quot;"); break;
        case '\'': e = prep_buf_puts(b, "&#39;"); break;
        default: e = prep_buf_putc(b, *s);
        }
    }
    return e;
}

static const char *css =
    "body{font:15px/1.4 system-ui,sans-serif;margin:1rem 2rem;color:#111;background:#fff}"
    "table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ccc;padding:.4rem;text-align:left;"
    "vertical-align:top}th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".st{font-weight:bold;padding:.1rem .5rem;border-radius:.2rem;white-space:nowrap}"
    ".green{background:#d7f5dd;color:#0b4f1c}.amber{background:#ffe8b3;color:#5c3b00}"
    ".red{background:#ffd6d6;color:#7a0000}"
    ".strip{display:flex;gap:1px}.strip span{display:inline-block;width:.55rem;height:1rem;font-size:0;"
    "overflow:hidden}.strip .green{background:#2e9e4a}.strip .amber{background:#e0a000}.strip .red{background:#c62828}"
    "small{color:#555}";

static prep_err write_html(const prep_monitor_config *c, const prep_monitor_result *r, const mon_state *s)
{
    prep_buf b;
    prep_buf_init(&b, (size_t)256 << 20);
    char when[32];
    iso(r->at, when, sizeof when);
    prep_err e = prep_buf_printf(&b,
                                 "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                                 "<meta http-equiv=\"refresh\" content=\"30\">"
                                 "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                                 "<title>PREP broadcasters: %zu red, %zu amber, %zu green</title>"
                                 "<style>%s</style></head><body>\n<main>\n<h1>PREP broadcasters compliance board</h1>\n"
                                 "<p>Institute's active cut: <strong>%llu</strong>. Round started <time datetime=\"%s\">%s"
                                 "</time>. <span class=\"st red\">%zu red</span> <span class=\"st amber\">%zu amber</span> "
                                 "<span class=\"st green\">%zu green</span>. This page reloads every 30 s; "
                                 "<a href=\"board.json\">board.json</a>, <a href=\"metrics.prom\">metrics.prom</a>.</p>\n"
                                 "<table>\n<caption>One row per broadcaster; the reason is its worst finding in the "
                                 "last round.</caption>\n<thead><tr><th scope=\"col\">Broadcaster</th>"
                                 "<th scope=\"col\">State</th><th scope=\"col\">Reason</th>"
                                 "<th scope=\"col\">Cut served</th><th scope=\"col\">Cuts behind</th>"
                                 "<th scope=\"col\">Lag (s)</th><th scope=\"col\">Certificate (days left)</th>"
                                 "<th scope=\"col\">Pages checked</th><th scope=\"col\">History (oldest first)</th>"
                                 "<th scope=\"col\">Evidence</th></tr></thead>\n<tbody>\n",
                                 r->red, r->amber, r->green, css, (unsigned long long)r->active_seq, when, when, r->red,
                                 r->amber, r->green);
    for (size_t i = 0; i < r->n && !e; i++) {
        const prep_monitor_row *w = &r->rows[i];
        const char *sn = prep_monitor_state_name(w->state);
        e = prep_buf_puts(&b, "<tr><th scope=\"row\">");
        if (!e) e = esc(&b, w->id);
        if (!e) e = prep_buf_puts(&b, "<br><small>");
        if (!e) e = esc(&b, w->url);
        if (!e) e = prep_buf_printf(&b, "</small></th><td><span class=\"st %s\">%s</span></td><td>", sn, sn);
        if (!e) e = esc(&b, w->reason);
        if (!e) e = prep_buf_puts(&b, "</td>");
        int64_t vals[4] = {w->serving_seq ? (int64_t)w->serving_seq : -1, w->cuts_behind, w->lag_seconds,
                           w->cert_days_left};
        int64_t none[4] = {-1, -1, -1, INT64_MIN};
        for (int k = 0; k < 4 && !e; k++) {
            if (vals[k] == none[k]) e = prep_buf_puts(&b, "<td class=\"n\">&ndash;</td>");
            else e = prep_buf_printf(&b, "<td class=\"n\">%lld</td>", (long long)vals[k]);
        }
        if (!e) e = prep_buf_printf(&b, "<td class=\"n\">%zu (%zu bad)</td>", w->pages_checked, w->pages_bad);
        const mon_bstate *bs = bstate(s, w->id);
        size_t g = 0, a = 0, rr = 0;
        for (size_t j = 0; bs && j < bs->n_hist; j++) {
            g += bs->hist[j].state == PREP_MONITOR_GREEN;
            a += bs->hist[j].state == PREP_MONITOR_AMBER;
            rr += bs->hist[j].state == PREP_MONITOR_RED;
        }
        if (!e)
            e = prep_buf_printf(&b,
                                "<td><div class=\"strip\" role=\"img\" aria-label=\"last %zu rounds: %zu green, "
                                "%zu amber, %zu red\">",
                                g + a + rr, g, a, rr);
        for (size_t j = 0; bs && j < bs->n_hist && !e; j++) {
            iso(bs->hist[j].at, when, sizeof when);
            const char *hs = prep_monitor_state_name(bs->hist[j].state);
            e = prep_buf_printf(&b, "<span class=\"%s\" title=\"%s %s, cut %llu\">%s</span>", hs, when, hs,
                                (unsigned long long)bs->hist[j].seq, hs);
        }
        if (!e) e = prep_buf_puts(&b, "</div></td><td><a href=\"evidence/");
        if (!e) e = esc(&b, w->id);
        if (!e) e = prep_buf_puts(&b, ".jsonl\">log</a></td></tr>\n");
    }
    if (!e)
        e = prep_buf_puts(&b, "</tbody>\n</table>\n<p><small>Green: serving the institute's latest cut, sampled pages "
                              "byte-identical, certificate valid. Amber: behind, late, or certificate close to expiry. "
                              "Red: unreachable, certificate invalid or expired, unknown manifest, a modified or "
                              "missing page, or too far behind.</small></p>\n</main>\n</body></html>\n");
    char path[PREP_MONITOR_FILE_MAX + 32];
    snprintf(path, sizeof path, "%s/index.html", c->out);
    if (!e) e = prep_write_file_atomic(path, b.data, b.len);
    prep_buf_free(&b);
    return e;
}

prep_err mon_board_write(const prep_monitor_config *c, const prep_monitor_result *r, const mon_state *s)
{
    prep_err e = write_json(c, r, s);
    if (!e) e = write_prom(c, r);
    if (!e) e = write_html(c, r, s);
    return e;
}
