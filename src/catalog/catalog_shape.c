/* prep catalog: the SVG path data of the municipality map ([shapes],
 * docs/formats/catalog.md "Map"): its checker, shared by the reader, the writer and the
 * GeoJSON builder, and the writer of the [shapes] table.
 *
 * The grammar is a small, strict subset of SVG path data, so a path can be pasted into
 * an SVG attribute as it is (no quote, '<' or '&' can get in) and a renderer never meets
 * a curve or a float:
 *   path    = token (sep? token)*      (no separator at either end)
 *   token   = command | number
 *   command = M m L l H h V v Z z
 *   number  = "-"? digit{1,7}
 *   sep     = one " " or one ","       (needed between two numbers unless the second
 *                                       starts with "-")
 * M/m and L/l take one or more coordinate pairs (after M/m, pairs past the first are
 * line-tos, as in SVG), H/h and V/v one or more numbers, Z/z none. The path starts with
 * M or m, and a new subpath after Z/z starts with M or m. */
#include "catalog_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 3, 4))) static void say(char *msg, size_t msgsz, const char *fmt, ...)
{
    if (!msg || !msgsz) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msgsz, fmt, ap);
    va_end(ap);
}

static int is_cmd(char ch) { return ch && strchr("MmLlHhVvZz", ch) != NULL; }

/* How many numbers the command takes per step: 2 (pairs), 1, or 0 (Z). */
static int arity(char cmd)
{
    switch (cmd) {
    case 'M': case 'm': case 'L': case 'l': return 2;
    case 'H': case 'h': case 'V': case 'v': return 1;
    default: return 0;
    }
}

/* Whether the numbers given to cmd so far make whole steps (at least one). */
static int complete(char cmd, size_t nargs)
{
    int a = arity(cmd);
    if (a == 0) return nargs == 0;
    return nargs > 0 && nargs % (size_t)a == 0;
}

/* The pen of a path being checked: current point, subpath start, an x waiting for its y. */
typedef struct path_pen {
    int64_t cx, cy, sx, sy, px;
} path_pen;

/* Number v, the nargs-th given to cmd (one of M m L l H h V v), moves the pen: 1 when it
 * completes a point, 0 when it is an x waiting for its y. */
static int path_step(path_pen *p, char cmd, size_t nargs, int64_t v)
{
    int rel = cmd >= 'a';
    switch (cmd) {
    case 'M': case 'm': case 'L': case 'l':
        if (nargs % 2 == 1) {
            p->px = v;
            return 0;
        }
        p->cx = rel ? p->cx + p->px : p->px;
        p->cy = rel ? p->cy + v : v;
        if ((cmd == 'M' || cmd == 'm') && nargs == 2) p->sx = p->cx, p->sy = p->cy;
        return 1;
    case 'H': case 'h': p->cx = rel ? p->cx + v : v; return 1;
    default: p->cy = rel ? p->cy + v : v; return 1; /* V v */
    }
}

int prep_catalog_path_check(const char *path, const uint32_t viewbox[4], size_t *err_off, char *msg,
                            size_t msgsz)
{
    size_t off = 0;
    int rc = 0;
    if (!path) {
        say(msg, msgsz, "no path");
        rc = 1;
        goto out;
    }
    size_t n = strnlen(path, (size_t)PREP_CAT_MAX_PATH + 1);
    if (n > PREP_CAT_MAX_PATH) {
        say(msg, msgsz, "path longer than %u bytes", (unsigned)PREP_CAT_MAX_PATH);
        off = PREP_CAT_MAX_PATH;
        rc = 3;
        goto out;
    }
    if (n == 0) {
        say(msg, msgsz, "empty path");
        rc = 1;
        goto out;
    }
    char cmd = 0;        /* current command, 0 before the first */
    size_t nargs = 0;    /* numbers given to it */
    path_pen pt = {0};
    int prev = 0;        /* previous token: 0 none, 'c' command, 'n' number, 's' separator */
    size_t cmd_off = 0;
    size_t i = 0;
    while (i < n) {
        char ch = path[i];
        if (ch == ' ' || ch == ',') {
            if (prev == 0 || prev == 's') {
                say(msg, msgsz, prev ? "two separators in a row" : "separator at the start");
                off = i;
                rc = 1;
                goto out;
            }
            prev = 's';
            i++;
            continue;
        }
        if (is_cmd(ch)) {
            if (cmd && !complete(cmd, nargs)) {
                say(msg, msgsz, "command '%c' at byte %zu lacks its numbers", cmd, cmd_off + 1);
                off = i;
                rc = 1;
                goto out;
            }
            if (cmd == 0 && ch != 'M' && ch != 'm') {
                say(msg, msgsz, "a path starts with M or m, not '%c'", ch);
                off = i;
                rc = 1;
                goto out;
            }
            if ((cmd == 'Z' || cmd == 'z') && ch != 'M' && ch != 'm') {
                say(msg, msgsz, "after Z a new subpath starts with M or m, not '%c'", ch);
                off = i;
                rc = 1;
                goto out;
            }
            if (ch == 'Z' || ch == 'z') {
                pt.cx = pt.sx;
                pt.cy = pt.sy;
            }
            cmd = ch;
            nargs = 0;
            cmd_off = i;
            prev = 'c';
            i++;
            continue;
        }
        if (ch == '-' || (ch >= '0' && ch <= '9')) {
            size_t start = i;
            int neg = ch == '-';
            if (neg) i++;
            size_t d0 = i;
            int64_t v = 0;
            while (i < n && path[i] >= '0' && path[i] <= '9') {
                v = v * 10 + (path[i] - '0');
                i++;
                if (i - d0 > PREP_CAT_MAX_PATH_DIGITS) {
                    say(msg, msgsz, "number with more than %u digits", (unsigned)PREP_CAT_MAX_PATH_DIGITS);
                    off = start;
                    rc = 1;
                    goto out;
                }
            }
            if (i == d0) {
                say(msg, msgsz, "'-' without digits");
                off = start;
                rc = 1;
                goto out;
            }
            if (cmd == 0 || arity(cmd) == 0) {
                if (cmd) say(msg, msgsz, "'%c' takes no numbers", cmd);
                else say(msg, msgsz, "a path starts with M or m");
                off = start;
                rc = 1;
                goto out;
            }
            if (neg) v = -v;
            nargs++;
            int have_point = path_step(&pt, cmd, nargs, v);
            if (have_point && viewbox) {
                int64_t x0 = viewbox[0], y0 = viewbox[1];
                int64_t x1 = x0 + viewbox[2], y1 = y0 + viewbox[3];
                if (pt.cx < x0 || pt.cx > x1 || pt.cy < y0 || pt.cy > y1) {
                    say(msg, msgsz, "point (%lld,%lld) is outside the map_viewbox %u %u %u %u", (long long)pt.cx,
                        (long long)pt.cy, (unsigned)viewbox[0], (unsigned)viewbox[1], (unsigned)viewbox[2],
                        (unsigned)viewbox[3]);
                    off = start;
                    rc = 2;
                    goto out;
                }
            }
            prev = 'n';
            continue;
        }
        say(msg, msgsz, (unsigned char)ch >= 0x20 && (unsigned char)ch < 0x7f ? "unexpected character '%c'"
                                                                                 : "unexpected byte 0x%02X",
            (unsigned char)ch);
        off = i;
        rc = 1;
        goto out;
    }
    if (prev == 's') {
        say(msg, msgsz, "separator at the end");
        off = n - 1;
        rc = 1;
        goto out;
    }
    if (!complete(cmd, nargs)) {
        say(msg, msgsz, "command '%c' at byte %zu lacks its numbers", cmd, cmd_off + 1);
        off = n;
        rc = 1;
        goto out;
    }
out:
    if (err_off) *err_off = off;
    return rc;
}

prep_err prep_catalog_write_shapes(const prep_catalog *c, prep_buf *out)
{
    if (!c || !out) return PREP_ERR_USAGE;
    /* a national catalogue's map is of entities, a local one's of municipalities */
    int ent = c->national != 0;
    char *const *shape = ent ? c->entity_shape : c->municipality_shape;
    uint32_t nu = ent ? c->n_entities : c->n_municipalities;
    if (!c->has_map || !shape || !(ent ? (const void *)c->entities : (const void *)c->municipalities))
        return PREP_ERR_INVALID;
    size_t total = 0, n = 0;
    for (uint32_t i = 0; i < nu; i++) {
        const char *p = shape[i];
        if (!p) continue;
        if (prep_catalog_path_check(p, c->map_viewbox, NULL, NULL, 0)) return PREP_ERR_INVALID;
        total += strlen(p) + 16;
        n++;
    }
    if (!n) return PREP_ERR_INVALID; /* an empty [shapes] would not read back */
    prep_buf b;
    prep_buf_init(&b, 0);
    prep_err e = prep_buf_reserve(&b, total + 32);
    if (!e) e = prep_buf_puts(&b, ent ? "\n[shapes]\nentity|path\n" : "\n[shapes]\nmunicipality|path\n");
    for (uint32_t i = 0; i < nu && !e; i++) {
        const char *p = shape[i];
        if (p) e = prep_buf_printf(&b, "%u|%s\n", (unsigned)(ent ? c->entities[i].id : c->municipalities[i].id), p);
    }
    if (!e) e = prep_buf_append(out, b.data, b.len);
    prep_buf_free(&b);
    return e;
}
