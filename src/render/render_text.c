/* render: output buffers with a sticky error, HTML escaping, number formatting, and the
 * small public helpers (site container, caching classes). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "render_internal.h"

void rb_init(rbuf *r)
{
    prep_buf_init(&r->b, 0);
    r->err = PREP_OK;
}

void rb_free(rbuf *r)
{
    prep_buf_free(&r->b);
    r->err = PREP_OK;
}

void rb_reset(rbuf *r)
{
    prep_buf_reset(&r->b);
    r->err = PREP_OK;
}

void rb_printf(rbuf *r, const char *fmt, ...)
{
    if (r->err) return;
    va_list ap;
    va_start(ap, fmt);
    r->err = prep_buf_vprintf(&r->b, fmt, ap);
    va_end(ap);
}

void rb_json_str(rbuf *r, const char *s)
{
    rb_puts(r, "\"");
    const unsigned char *run = (const unsigned char *)(s ? s : "");
    for (const unsigned char *p = run; *p; p++) {
        if (*p != '"' && *p != '\\' && *p >= 0x20 && *p != 0x7f) continue; /* copied as a run */
        rb_put(r, (const char *)run, (size_t)(p - run));
        run = p + 1;
        if (*p == '"' || *p == '\\') rb_printf(r, "\\%c", *p);
        else if (*p == '\n') rb_puts(r, "\\n");
        else rb_printf(r, "\\u%04x", *p);
    }
    rb_puts(r, (const char *)run);
    rb_puts(r, "\"");
}

/* rb_esc of the bytes [s, end) */
static void esc_range(rbuf *r, const char *s, const char *end)
{
    const char *run = s;
    for (const char *p = s; p < end; p++) {
        const char *rep;
        switch (*p) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: continue;
        }
        rb_put(r, run, (size_t)(p - run));
        rb_puts(r, rep);
        run = p + 1;
    }
    rb_put(r, run, (size_t)(end - run));
}

void rb_esc(rbuf *r, const char *s)
{
    if (s) esc_range(r, s, s + strlen(s));
}


/* rb_esc, and a figure with inner punctuation ("2020-2021", "06/06/2021") from the
 * catalogue kept on one line: <span class="nw"> (white-space:nowrap), since a browser
 * may break after its hyphen on a phone (issue 16). */
void rb_esc_nb(rbuf *r, const char *s)
{
    if (!s) return;
    const char *run = s;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p) || (p > s && isdigit((unsigned char)p[-1]))) continue;
        const char *q = p, *last = p;
        int punct = 0, inner = 0; /* inner: punctuation with digits after it */
        while (*q && (isdigit((unsigned char)*q) || strchr("-./:", *q))) {
            if (isdigit((unsigned char)*q)) {
                inner |= punct;
                last = q;
            } else {
                punct = 1;
            }
            q++;
        }
        if (!inner || last == p) continue;
        esc_range(r, run, p);
        rb_puts(r, "<span class=\"nw\">");
        rb_put(r, p, (size_t)(last + 1 - p));
        rb_puts(r, "</span>");
        run = p = last + 1;
        if (!*p) break;
        p--;
    }
    rb_esc(r, run);
}

void prep_render_fmt_int(int64_t n, char out[28])
{
    char digits[24];
    uint64_t u = n < 0 ? (uint64_t)0 - (uint64_t)n : (uint64_t)n;
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t o = 0;
    if (n < 0) out[o++] = '-';
    for (int i = nd - 1; i >= 0; i--) {
        out[o++] = digits[i];
        if (i && i % 3 == 0) out[o++] = ',';
    }
    out[o] = 0;
}

void rb_int(rbuf *r, int64_t n)
{
    char s[28];
    prep_render_fmt_int(n, s);
    rb_puts(r, s);
}

void rb_uint(rbuf *r, uint64_t v)
{
    char s[24];
    rb_put(r, s, (size_t)(prep_put_dec(s, v, 0) - s));
}

void rb_pct(rbuf *r, int64_t num, int64_t den, int decimals)
{
    char s[64];
    prep_pct_trunc(num, den, decimals, s, sizeof s);
    rb_puts(r, s);
    rb_put(r, "%", 1);
}

void rb_up(rbuf *r, unsigned depth)
{
    if (!depth) {
        rb_put(r, "./", 2);
        return;
    }
    for (unsigned i = 0; i < depth; i++) rb_put(r, "../", 3);
}

/* ---------------------------------------------------------------- public helpers */
void prep_render_site_init(prep_site *s)
{
    s->v = NULL;
    s->n = s->cap = 0;
    s->origin = NULL;
    s->gen = 0;
    s->finger = 0;
}

void prep_render_site_free(prep_site *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        if (!s->v[i].path_lent) free(s->v[i].path);
        free(s->v[i].data);
        free(s->v[i].stored_sha);
    }
    free(s->v);
    prep_render_site_init(s);
}

const prep_site_file *prep_render_site_find(const prep_site *s, const char *path)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(s->v[mid].path, path);
        if (!cmp) return &s->v[mid];
        if (cmp < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

/* A path as three pieces (concatenated), with their lengths counted once per lookup. */
typedef struct path3 {
    const char *p[3];
    size_t n[3];
} path3;

/* strcmp(s, k's concatenation), in sign; a piece at a time with strncmp (whose equal
 * prefix has no NUL, so s is not read past its end) */
static int cmp3(const char *s, const path3 *k)
{
    for (int i = 0; i < 3; i++) {
        int r = strncmp(s, k->p[i], k->n[i]);
        if (r) return r;
        s += k->n[i];
    }
    return *s ? 1 : 0;
}

prep_site_file *site_find_near3(prep_site *s, const char *a, const char *b, const char *c)
{
    const path3 k = {{a, b, c}, {strlen(a), strlen(b), strlen(c)}};
    for (size_t j = 0, f = s->finger; j < 4 && f + j < s->n; j++)
        if (!cmp3(s->v[f + j].path, &k)) {
            s->finger = f + j;
            return &s->v[f + j];
        }
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = cmp3(s->v[mid].path, &k);
        if (!r) {
            s->finger = mid;
            return &s->v[mid];
        }
        if (r < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

prep_site_file *site_find_near(prep_site *s, const char *path) { return site_find_near3(s, path, "", ""); }

void prep_render_opts_init(prep_render_opts *o)
{
    memset(o, 0, sizeof *o);
    o->embedded = 1;
}
