/* prep cut: manifest patches. A cut's manifest lists every file, so re-sending it whole
 * costs ~130 bytes per file per cut (2 MB at Querétaro scale, ~30 MB national). A patch
 * carries the new header and only the entries that changed; the receiver rebuilds the
 * exact new manifest from its copy of the previous one, checks the rebuilt bytes'
 * SHA-256 against the patch's "result" line, and then verifies the institute's signature
 * over those bytes as usual. The patch itself is not trusted: it only saves bytes.
 *
 *   # prep-cut-manifest-patch 1
 *   # base: <SHA-256 of the previous manifest>
 *   # result: <SHA-256 of the manifest this patch makes>
 *   <the new manifest's header: its lines from "# prep-cut-manifest 1" to "# bytes: N">
 *   #f SIZE TYPE            } set PATH (added or changed), as in a manifest
 *   [#p SIZE SHA ...]       } (the parts line of a composed file)
 *   HASH  PATH              }
 *   #- PATH                   remove PATH
 *   # end
 * Operations are sorted by path (bytewise), one per path. docs/formats/cut.md. */
#include <stdlib.h>
#include <string.h>

#include "cut_internal.h"

#define PATCH_MAGIC "# prep-cut-manifest-patch 1\n"
#define HEADER_LINES 12 /* "# prep-cut-manifest 1" .. "# bytes: N" */
#define LINE_MAX_BYTES (PREP_CUT_PATH_MAX + 80)

static prep_err put_entry(prep_buf *b, const prep_cut_entry *e) { return cut_entry_put(b, e); }

static int same_entry(const prep_cut_entry *a, const prep_cut_entry *b) { return cut_entry_same(a, b); }

prep_err prep_cut_manifest_diff(const prep_cut_manifest *base, const prep_cut_manifest *next, prep_buf *out)
{
    prep_err e = prep_buf_printf(out, PATCH_MAGIC "# base: %s\n# result: %s\n", base->sha256, next->sha256);
    /* The header: every line of next up to and including "# bytes: N". */
    const char *p = next->raw, *end = next->raw + next->raw_len;
    for (int i = 0; i < HEADER_LINES && !e; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) return PREP_ERR_INVALID;
        e = prep_buf_append(out, p, (size_t)(nl + 1 - p));
        p = nl + 1;
    }
    size_t i = 0, k = 0;
    while (!e && (i < base->n || k < next->n)) {
        int c = i == base->n ? 1 : k == next->n ? -1 : strcmp(base->entries[i].path, next->entries[k].path);
        if (c < 0) {
            e = prep_buf_printf(out, "#- %s\n", base->entries[i++].path);
        } else if (c > 0) {
            e = put_entry(out, &next->entries[k++]);
        } else {
            if (!same_entry(&base->entries[i], &next->entries[k])) e = put_entry(out, &next->entries[k]);
            i++, k++;
        }
    }
    if (!e) e = prep_buf_puts(out, "# end\n");
    return e;
}

typedef struct rd {
    const char *p, *end;
    long no;
} rd;

/* Next line without its '\n' (n = length); NULL at the end or on an unterminated line. */
static const char *rd_line(rd *r, size_t *n)
{
    if (r->p >= r->end) return NULL;
    const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    if (!nl) return NULL;
    const char *s = r->p;
    *n = (size_t)(nl - s);
    r->p = nl + 1;
    r->no++;
    return s;
}

prep_err prep_cut_manifest_patch(const prep_cut_manifest *base, const void *patch, size_t len,
                                 const prep_cut_limits *lim, const char *name, prep_buf *out, prep_diags *d)
{
    prep_cut_limits dl;
    if (!lim) {
        prep_cut_limits_default(&dl);
        lim = &dl;
    }
    if (!name) name = "patch";
    rd r = {patch, (const char *)patch + len, 0};
    size_t n;
    const char *s;
#define BAD(...)                                                  \
    do {                                                          \
        cut_diag(d, name, r.no, 0, "patch-syntax", __VA_ARGS__);  \
        return PREP_ERR_PARSE;                                    \
    } while (0)
    if (len > lim->max_manifest_bytes) {
        cut_diag(d, name, 0, 0, "limit", "patch is %zu bytes; the limit is %llu", len,
                 (unsigned long long)lim->max_manifest_bytes);
        return PREP_ERR_LIMIT;
    }
    s = rd_line(&r, &n);
    if (!s || n + 1 != strlen(PATCH_MAGIC) || memcmp(s, PATCH_MAGIC, n)) BAD("does not start with '%.*s'", 27, PATCH_MAGIC);
    char result[65];
    s = rd_line(&r, &n);
    if (!s || n != 72 || memcmp(s, "# base: ", 8)) BAD("expected '# base: <64 hex>'");
    if (memcmp(s + 8, base->sha256, 64) != 0) {
        cut_diag(d, name, r.no, 0, "patch-base", "patch applies to manifest %.64s; this receiver's is %s", s + 8,
                 base->sha256);
        return PREP_ERR_VERIFY;
    }
    s = rd_line(&r, &n);
    if (!s || n != 74 || memcmp(s, "# result: ", 10)) BAD("expected '# result: <64 hex>'");
    memcpy(result, s + 10, 64);
    result[64] = 0;
    if (!prep_is_sha256_hex(result)) BAD("result is not 64 hex digits");
    prep_buf_init(out, lim->max_manifest_bytes);
    for (int i = 0; i < HEADER_LINES; i++) {
        s = rd_line(&r, &n);
        if (!s || n > LINE_MAX_BYTES || n < 2 || s[0] != '#') {
            prep_buf_free(out);
            BAD("the new manifest's header is incomplete");
        }
        if (prep_buf_append(out, s, n + 1)) goto limit;
    }
    size_t i = 0, ops = 0;
    const char *prev = NULL;
    size_t prevn = 0;
    for (;;) {
        s = rd_line(&r, &n);
        if (!s) {
            prep_buf_free(out);
            BAD("patch ends without '# end'");
        }
        if (n > LINE_MAX_BYTES) {
            prep_buf_free(out);
            BAD("line longer than %d bytes", LINE_MAX_BYTES);
        }
        if (n == 5 && !memcmp(s, "# end", 5)) break;
        const char *path, *f_line = NULL, *h_line = NULL, *p_line = NULL;
        size_t pl, fn = 0, hn = 0, pn = 0;
        int remove = 0;
        if (n > 3 && !memcmp(s, "#- ", 3)) {
            remove = 1;
            path = s + 3;
            pl = n - 3;
        } else if (n > 3 && !memcmp(s, "#f ", 3)) {
            f_line = s, fn = n;
            h_line = rd_line(&r, &hn);
            if (h_line && hn >= 3 && hn <= LINE_MAX_BYTES && !memcmp(h_line, "#p ", 3)) {
                p_line = h_line, pn = hn; /* a composed entry's parts: checked when the result is parsed */
                h_line = rd_line(&r, &hn);
            }
            if (!h_line || hn < 67 || hn > LINE_MAX_BYTES || h_line[64] != ' ' || h_line[65] != ' ') {
                prep_buf_free(out);
                BAD("expected '<64 hex>  PATH' after a '#f' line");
            }
            path = h_line + 66;
            pl = hn - 66;
        } else {
            prep_buf_free(out);
            BAD("expected '#f', '#-' or '# end', found '%.*s'", (int)(n > 40 ? 40 : n), s);
        }
        if (++ops > lim->max_files) {
            prep_buf_free(out);
            cut_diag(d, name, r.no, 0, "limit", "more than %zu operations", lim->max_files);
            return PREP_ERR_LIMIT;
        }
        if (memchr(path, 0, pl)) {
            prep_buf_free(out);
            BAD("a NUL byte in a path");
        }
        if (prev) {
            size_t m = prevn < pl ? prevn : pl;
            int c = memcmp(prev, path, m);
            if (c > 0 || (c == 0 && prevn >= pl)) {
                prep_buf_free(out);
                BAD("operations are not sorted by path, or one path appears twice");
            }
        }
        prev = path, prevn = pl;
        /* Copy the base entries that sort before this path. */
        for (; i < base->n; i++) {
            const char *bp = base->entries[i].path;
            size_t bl = strlen(bp), m = bl < pl ? bl : pl;
            int c = memcmp(bp, path, m);
            if (c > 0 || (c == 0 && bl >= pl)) break;
            if (put_entry(out, &base->entries[i])) goto limit;
        }
        int here = i < base->n && strlen(base->entries[i].path) == pl && !memcmp(base->entries[i].path, path, pl);
        if (remove) {
            if (!here) {
                prep_buf_free(out);
                BAD("removes '%.*s', which the base manifest does not have", (int)(pl > 80 ? 80 : pl), path);
            }
            i++;
            continue;
        }
        if (here) i++; /* replaced */
        if (prep_buf_append(out, f_line, fn) || prep_buf_putc(out, '\n') ||
            (p_line && (prep_buf_append(out, p_line, pn) || prep_buf_putc(out, '\n'))) || prep_buf_append(out, h_line, hn) ||
            prep_buf_putc(out, '\n'))
            goto limit;
    }
    if (r.p != r.end) {
        prep_buf_free(out);
        BAD("bytes after '# end'");
    }
    for (; i < base->n; i++)
        if (put_entry(out, &base->entries[i])) goto limit;
    if (prep_buf_puts(out, "# end\n")) goto limit;
    char got[65];
    prep_sha256_hex(out->data, out->len, got);
    if (strcmp(got, result) != 0) {
        cut_diag(d, name, 0, 0, "patch-mismatch", "the rebuilt manifest's SHA-256 is %s; the patch says %s", got, result);
        prep_buf_free(out);
        return PREP_ERR_VERIFY;
    }
    return PREP_OK;
limit:
    prep_buf_free(out);
    cut_diag(d, name, r.no, 0, "limit", "the rebuilt manifest exceeds %llu bytes", (unsigned long long)lim->max_manifest_bytes);
    return PREP_ERR_LIMIT;
#undef BAD
}
