/* Helpers shared by the render tests: page lookup, link resolution, a small structural
 * checker of the pages (the pages are written as well-formed XML-style HTML5: every
 * element closed, void elements written "<meta ... />"), and an independent thousands
 * formatter (so expected numbers do not go through the renderer's own formatter). */
#ifndef TEST_RENDER_UTIL_H
#define TEST_RENDER_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "prep/render.h"

/* NUL-terminated copy of a file's bytes (owned). */
static inline char *tr_text(const prep_site_file *f)
{
    char *s = malloc(f->len + 1);
    memcpy(s, f->data, f->len);
    s[f->len] = 0;
    return s;
}

static inline char *tr_page(const prep_site *s, const char *path)
{
    const prep_site_file *f = prep_render_site_find(s, path);
    return f ? tr_text(f) : NULL;
}

/* "1234567" -> "1,234,567", written here independently of the renderer. */
static inline void tr_commas(long long v, char *out)
{
    char d[32];
    snprintf(d, sizeof d, "%lld", v < 0 ? -v : v);
    size_t n = strlen(d), o = 0;
    if (v < 0) out[o++] = '-';
    for (size_t i = 0; i < n; i++) {
        out[o++] = d[i];
        size_t left = n - 1 - i;
        if (left && left % 3 == 0) out[o++] = ',';
    }
    out[o] = 0;
}

/* Bytes of p[0..n) gzip-compressed at level 6 (what a server compressing on the fly sends
 * by default): the first-view budget's measure. SIZE_MAX on a zlib failure. */
static inline size_t tr_gz_size(const void *p, size_t n)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return SIZE_MAX;
    unsigned char out[1 << 16];
    size_t total = 0;
    z.next_in = (unsigned char *)p;
    z.avail_in = (uInt)n;
    int rc;
    do {
        z.next_out = out;
        z.avail_out = sizeof out;
        rc = deflate(&z, Z_FINISH);
        total += sizeof out - z.avail_out;
    } while (rc == Z_OK);
    deflateEnd(&z);
    return rc == Z_STREAM_END ? total : SIZE_MAX;
}

static inline size_t tr_count(const char *hay, const char *needle)
{
    size_t n = 0, l = strlen(needle);
    for (const char *p = strstr(hay, needle); p; p = strstr(p + l, needle)) n++;
    return n;
}

/* Resolves a relative reference ref against the directory of page path `from` into out.
 * Returns 0, or -1 when it climbs above the site root, is absolute or does not fit in out.
 * A reference ending in '/' (or empty after the directory) names that directory's
 * index.html. */
static inline int tr_resolve(const char *from, const char *ref, char *out, size_t outsz)
{
    if (!strncmp(ref, "http:", 5) || !strncmp(ref, "https:", 6) || ref[0] == '/') return -1;
    char buf[2048], r[1024];
    if (strlen(from) >= sizeof buf || strlen(ref) >= sizeof r) return -1;
    strcpy(buf, from);
    strcpy(r, ref);
    char *slash = strrchr(buf, '/');
    if (slash) slash[1] = 0;
    else buf[0] = 0;
    char *hash = strchr(r, '#');
    if (hash) *hash = 0;
    const char *p = r;
    while (*p) {
        if (!strncmp(p, "../", 3)) {
            size_t l = strlen(buf);
            if (!l) return -1;
            buf[l - 1] = 0;
            char *s2 = strrchr(buf, '/');
            if (s2) s2[1] = 0;
            else buf[0] = 0;
            p += 3;
        } else if (!strncmp(p, "./", 2)) {
            p += 2;
        } else {
            break;
        }
    }
    /* a path that does not fit in out is a failed link */
    int n = snprintf(out, outsz, "%s%s", buf, p);
    if (n < 0 || (size_t)n >= outsz) return -1;
    size_t l = (size_t)n;
    if ((!l || out[l - 1] == '/') && (size_t)snprintf(out + l, outsz - l, "index.html") >= outsz - l) return -1;
    return 0;
}

/* Calls fn(attr_name, value, tag_start) for every href= and src= attribute of page. */
typedef void (*tr_ref_fn)(void *ctx, const char *attr, const char *value, const char *tag);
static inline void tr_refs(const char *page, tr_ref_fn fn, void *ctx)
{
    static const char *const attrs[] = {" href=\"", " src=\""};
    for (size_t a = 0; a < 2; a++) {
        size_t al = strlen(attrs[a]);
        for (const char *p = strstr(page, attrs[a]); p; p = strstr(p + 1, attrs[a])) {
            const char *v = p + al, *e = strchr(v, '"');
            if (!e) break;
            char val[1024];
            size_t n = (size_t)(e - v) < sizeof val - 1 ? (size_t)(e - v) : sizeof val - 1;
            memcpy(val, v, n);
            val[n] = 0;
            const char *tag = p;
            while (tag > page && *tag != '<') tag--;
            fn(ctx, a ? "src" : "href", val, tag);
        }
    }
}

/* Structural check of one page. Returns NULL or a static message naming the problem
 * (with detail in buf). Checks: balanced elements from an allowed set, one h1, headings
 * never skip a level downwards, every table starts with a caption, every th has a scope,
 * every svg is role="img" with a title, ids unique, lang="es", a main landmark. */
static inline const char *tr_check_page(const char *page, char *buf, size_t bufsz)
{
    static const char *const allowed[] = {"html", "head", "meta", "title", "link", "script", "body", "a", "header",
                                          "p", "div", "b", "time", "nav", "ul", "li", "main", "footer", "ol",
                                          "h1", "h2", "h3", "dl", "dt", "dd", "table", "caption", "thead", "tbody",
                                          "tfoot", "tr", "th", "td", "i", "span", "figure", "svg", "desc", "text",
                                          "rect", "g", "path", "section", "code", "pre", "br", "figcaption", "defs", "pattern",
                                          "form", "label", "input", "button"};
    char stack[64][16];
    int sp = 0, h1 = 0, last_h = 0;
    buf[0] = 0;
    if (strncmp(page, "<!DOCTYPE html>\n<html lang=\"es\"", 31)) return "no doctype / lang=es";
    if (tr_count(page, "<main id=\"contenido\">") != 1) return "not exactly one main";
    for (const char *p = strchr(page, '<'); p; p = strchr(p + 1, '<')) {
        if (!strncmp(p, "<!DOCTYPE", 9)) continue;
        int close = p[1] == '/';
        const char *n = p + 1 + close;
        size_t nl = 0;
        while ((n[nl] >= 'a' && n[nl] <= 'z') || (n[nl] >= '0' && n[nl] <= '9')) nl++;
        if (!nl || nl >= 16) {
            snprintf(buf, bufsz, "%.40s", p);
            return "bad tag";
        }
        char name[16];
        memcpy(name, n, nl);
        name[nl] = 0;
        int ok = 0;
        for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++) ok |= !strcmp(name, allowed[i]);
        if (!ok) {
            snprintf(buf, bufsz, "<%s>", name);
            return "element outside the allowed set";
        }
        const char *end = strchr(p, '>');
        if (!end) return "unterminated tag";
        if (close) {
            if (!sp || strcmp(stack[sp - 1], name)) {
                snprintf(buf, bufsz, "</%s> closes <%s>", name, sp ? stack[sp - 1] : "(none)");
                return "unbalanced";
            }
            sp--;
            continue;
        }
        if (name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && !name[2]) {
            int lv = name[1] - '0';
            if (lv == 1) h1++;
            if (lv > last_h + 1) {
                snprintf(buf, bufsz, "h%d after h%d", lv, last_h);
                return "heading skips a level";
            }
            last_h = lv;
        }
        if (!strcmp(name, "table") && strncmp(end + 1, "<caption>", 9)) return "table without caption";
        if (!strcmp(name, "th") && strncmp(p, "<th scope=\"", 11)) return "th without scope";
        if (!strcmp(name, "svg")) {
            /* charts are role="img"; the map, whose municipalities are links, role="group" */
            const char *tt = strstr(p, "<title"), *ri = strstr(p, " role=\"img\""), *rg = strstr(p, " role=\"group\"");
            int role = (ri && ri < end) || (rg && rg < end);
            if (!role || !tt || tt > strstr(p, "</svg>")) return "svg without role=img/group and a title";
        }
        if (end[-1] == '/') continue; /* self-closed */
        if (sp >= 64) return "too deep";
        snprintf(stack[sp++], sizeof stack[0], "%s", name);
    }
    if (sp) {
        snprintf(buf, bufsz, "<%s> not closed", stack[sp - 1]);
        return "unbalanced";
    }
    if (h1 != 1) return "not exactly one h1";
    /* ids unique */
    const char *key = " id=\"";
    for (const char *p = strstr(page, key); p; p = strstr(p + 1, key)) {
        const char *v = p + 5, *e = strchr(v, '"');
        char id[128];
        size_t n = (size_t)(e - v) < sizeof id - 3 ? (size_t)(e - v) : sizeof id - 3;
        id[0] = '"';
        memcpy(id + 1, v, n);
        id[n + 1] = '"';
        id[n + 2] = 0;
        char pat[160];
        snprintf(pat, sizeof pat, " id=%s", id);
        if (tr_count(page, pat) != 1) {
            snprintf(buf, bufsz, "%s", id);
            return "duplicate id";
        }
    }
    return NULL;
}

/* A copy of a site's files, to check the hints a later render gives prep_cut_make. */
typedef struct tr_snap {
    prep_site_file *v;
    size_t n;
} tr_snap;

static inline void tr_snap_take(tr_snap *sn, const prep_site *s)
{
    sn->n = s->n;
    sn->v = calloc(s->n ? s->n : 1, sizeof *sn->v);
    for (size_t i = 0; i < s->n; i++) {
        sn->v[i] = s->v[i];
        sn->v[i].path = strdup(s->v[i].path);
        sn->v[i].data = malloc(s->v[i].len ? s->v[i].len : 1);
        memcpy(sn->v[i].data, s->v[i].data, s->v[i].len);
    }
}

static inline void tr_snap_free(tr_snap *sn)
{
    for (size_t i = 0; i < sn->n; i++) free(sn->v[i].path), free(sn->v[i].data);
    free(sn->v);
}

/* Every part s claims the same as in the site before it (prep_site_file.same_parts) is
 * byte for byte that site's part. Returns the number of parts claimed. */
static inline size_t tr_check_same_parts(const tr_snap *before, const prep_site *s)
{
    size_t claimed = 0;
    for (size_t i = 0; i < s->n; i++) {
        const prep_site_file *f = &s->v[i];
        if (!f->same_parts) continue;
        const prep_site_file *o = NULL;
        for (size_t j = 0; j < before->n && !o; j++)
            if (!strcmp(before->v[j].path, f->path)) o = &before->v[j];
        if (!o || o->n_parts != f->n_parts) { fprintf(stderr, "%s claims parts of a file the last site lacks\n", f->path); return (size_t)-1; }
        size_t np = f->n_parts ? f->n_parts : 1, off = 0, ooff = 0;
        for (size_t k = 0; k < np; k++) {
            size_t len = f->n_parts ? f->part_len[k] : f->len, olen = o->n_parts ? o->part_len[k] : o->len;
            if ((f->same_parts >> k) & 1u) {
                claimed++;
                if (len != olen || memcmp(f->data + off, o->data + ooff, len))
                    { fprintf(stderr, "%s: part %zu is claimed the same but differs\n", f->path, k); return (size_t)-1; }
            }
            off += len;
            ooff += olen;
        }
    }
    return claimed;
}

/* Asserts that sites a and b are the same files: paths, bytes, media types and parts (an
 * incremental render against one from nothing, or two renders from nothing). */
static inline void tr_assert_sites_equal(const prep_site *a, const prep_site *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_string_equal(a->v[i].path, b->v[i].path);
        const prep_site_file *x = &a->v[i], *y = &b->v[i];
        if (x->len != y->len || memcmp(x->data, y->data, x->len)) fail_msg("%s: the bytes differ", x->path);
        if (strcmp(x->media_type, y->media_type)) fail_msg("%s: the media types differ", x->path);
        if (x->n_parts != y->n_parts || memcmp(x->part_len, y->part_len, sizeof x->part_len))
            fail_msg("%s: the parts differ", x->path);
    }
}

#endif
