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
 *   [#s OLD NEWSIZE NEW]      substitution: in every composed entry of the base that no
 *                             operation names, the part whose SHA-256 is OLD becomes the
 *                             part NEW of NEWSIZE bytes; the entry's size and assembled
 *                             SHA-256 are recomputed from the part objects (at most
 *                             PREP_CUT_SUBST_MAX lines, one per shared per-cut part)
 *   #f SIZE TYPE            } set PATH (added or changed), as in a manifest
 *   [#p SIZE SHA ...]       } (the parts line of a composed file)
 *   HASH  PATH              }
 *   #- PATH                   remove PATH
 *   # end
 * Operations are sorted by path (bytewise), one per path. docs/formats/cut.md.
 *
 * Why the substitution: a composed page's hash line is the SHA-256 of the assembled page,
 * which contains the per-cut stamp, so every page's entry changes on every cut although
 * only the shared stamp part did. "#s" says so in one line; the receiver recomputes the
 * entries from the part objects it holds plus the new stamp object (delivered as a
 * missing object), and the rebuilt bytes are checked against "result" and the signature
 * like any other: a wrong substitution cannot make a manifest the institute did not sign. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cut_internal.h"

#define PATCH_MAGIC "# prep-cut-manifest-patch 1\n"
#define HEADER_LINES 12 /* "# prep-cut-manifest 1" .. "# bytes: N" */
#define LINE_MAX_BYTES CUT_LINE_MAX

static prep_err put_entry(prep_buf *b, const prep_cut_entry *e) { return cut_entry_put(b, e); }

static int same_entry(const prep_cut_entry *a, const prep_cut_entry *b) { return cut_entry_same(a, b); }

/* ---------------------------------------------------------------- the sender's substitution */
typedef struct subst {
    int on;
    char old[65], neu[65];
    uint64_t size; /* of the new part */
} subst;

/* The substitutions of one patch: at most PREP_CUT_SUBST_MAX, their OLD parts distinct. */
typedef struct substs {
    size_t n;
    subst v[PREP_CUT_SUBST_MAX];
} substs;

/* The substitution of part sha, or NULL. */
static const subst *subst_of(const substs *ss, const char *sha)
{
    for (size_t j = 0; j < ss->n; j++)
        if (!strcmp(ss->v[j].old, sha)) return &ss->v[j];
    return NULL;
}

/* 1 if base entry b, with the substitution applied, is next entry x. (Same parts in the
 * same order make the same assembled file, so x's size and hash follow from its parts
 * in any manifest that passed the parts check.) */
static int implied_is(const substs *ss, const prep_cut_entry *b, const prep_cut_entry *x)
{
    int touched = 0;
    for (size_t k = 0; k < b->n_parts && !touched; k++) touched = subst_of(ss, b->parts[k].sha256) != NULL;
    if (!touched) return same_entry(b, x);
    if (b->n_parts != x->n_parts || strcmp(b->media_type, x->media_type)) return 0;
    uint64_t total = 0;
    for (size_t k = 0; k < b->n_parts; k++) {
        const subst *sb = subst_of(ss, b->parts[k].sha256);
        const char *h = sb ? sb->neu : b->parts[k].sha256;
        uint64_t z = sb ? sb->size : b->parts[k].size;
        if (strcmp(h, x->parts[k].sha256) || z != x->parts[k].size) return 0;
        total += z;
    }
    return total == x->size;
}

static size_t digits(uint64_t v)
{
    size_t n = 1;
    while (v >= 10) v /= 10, n++;
    return n;
}

/* Bytes cut_entry_put writes for e. */
static size_t entry_bytes(const prep_cut_entry *e)
{
    size_t n = 3 + digits(e->size) + 1 + strlen(e->media_type) + 1 + 64 + 2 + strlen(e->path) + 1;
    if (e->n_parts) {
        n += 3;
        for (size_t k = 0; k < e->n_parts; k++) n += 1 + digits(e->parts[k].size) + 1 + 64;
    }
    return n;
}

/* Net bytes the substitutions save in the patch (negative: they cost). */
static long long subst_gain(const substs *ss, const prep_cut_manifest *base, const prep_cut_manifest *next)
{
    long long gain = 0;
    for (size_t j = 0; j < ss->n; j++) gain -= (long long)(3 + 64 + 1 + digits(ss->v[j].size) + 1 + 64 + 1);
    size_t i = 0, k = 0;
    while (i < base->n && k < next->n) {
        int c = strcmp(base->entries[i].path, next->entries[k].path);
        if (c < 0) {
            i++;
        } else if (c > 0) {
            k++;
        } else {
            const prep_cut_entry *b = &base->entries[i++], *x = &next->entries[k++];
            int before = same_entry(b, x), after = implied_is(ss, b, x);
            if (!before && after) gain += (long long)entry_bytes(x);
            if (before && !after) gain -= (long long)entry_bytes(x);
        }
    }
    return gain;
}

/* The most common single-part changes between entries of the same path (heavy hitters
 * over a few candidates, then counted exactly), chosen greedily while each saves bytes:
 * the pages' per-cut stamp, and the open data's per-cut head, are one each. */
static void choose_subst(const prep_cut_manifest *base, const prep_cut_manifest *next, substs *out)
{
    enum { CAND = 8 };
    subst cand[CAND];
    long cnt[CAND];
    memset(cand, 0, sizeof cand);
    memset(cnt, 0, sizeof cnt);
    memset(out, 0, sizeof *out);
    size_t i = 0, k = 0;
    while (i < base->n && k < next->n) {
        int c = strcmp(base->entries[i].path, next->entries[k].path);
        if (c) {
            c < 0 ? i++ : k++;
            continue;
        }
        const prep_cut_entry *b = &base->entries[i++], *x = &next->entries[k++];
        if (!b->n_parts || b->n_parts != x->n_parts) continue;
        size_t diff = 0, at = 0;
        for (size_t j = 0; j < b->n_parts; j++)
            if (strcmp(b->parts[j].sha256, x->parts[j].sha256) || b->parts[j].size != x->parts[j].size) diff++, at = j;
        if (diff != 1 || !strcmp(b->parts[at].sha256, x->parts[at].sha256)) continue;
        subst s = {1, "", "", x->parts[at].size};
        memcpy(s.old, b->parts[at].sha256, 65);
        memcpy(s.neu, x->parts[at].sha256, 65);
        int placed = 0;
        for (int q = 0; q < CAND && !placed; q++)
            if (cnt[q] && !strcmp(cand[q].old, s.old) && !strcmp(cand[q].neu, s.neu) && cand[q].size == s.size)
                cnt[q]++, placed = 1;
        for (int q = 0; q < CAND && !placed; q++)
            if (!cnt[q]) cand[q] = s, cnt[q] = 1, placed = 1;
        if (!placed)
            for (int q = 0; q < CAND; q++) cnt[q]--;
    }
    long long have = 0;
    while (out->n < PREP_CUT_SUBST_MAX) {
        long long best = have;
        int pick = -1;
        for (int q = 0; q < CAND; q++) {
            if (!cnt[q] || subst_of(out, cand[q].old)) continue;
            out->v[out->n] = cand[q];
            out->n++;
            long long g = subst_gain(out, base, next);
            out->n--;
            if (g > best) best = g, pick = q;
        }
        if (pick < 0) break;
        out->v[out->n++] = cand[pick];
        have = best;
    }
}

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
    substs ss;
    choose_subst(base, next, &ss);
    for (size_t j = 0; j < ss.n && !e; j++)
        e = prep_buf_printf(out, "#s %s %llu %s\n", ss.v[j].old, (unsigned long long)ss.v[j].size, ss.v[j].neu);
    size_t i = 0, k = 0;
    while (!e && (i < base->n || k < next->n)) {
        int c = i == base->n ? 1 : k == next->n ? -1 : strcmp(base->entries[i].path, next->entries[k].path);
        if (c < 0) {
            e = prep_buf_printf(out, "#- %s\n", base->entries[i++].path);
        } else if (c > 0) {
            e = put_entry(out, &next->entries[k++]);
        } else {
            if (!implied_is(&ss, &base->entries[i], &next->entries[k])) e = put_entry(out, &next->entries[k]);
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

/* ---------------------------------------------------------------- the receiver's substitution */
typedef struct rsub {
    substs ss;
    char *bytes[PREP_CUT_SUBST_MAX]; /* owned: each new part, read from its object and checked */
    const char *const *roots;   /* borrowed: store-layout roots holding part objects */
    size_t n_roots;
    const prep_cut_limits *lim;
    const char *name;
    char *buf;                  /* owned: read buffer */
    int diag_done;              /* an error below already said why */
} rsub;

#define RSUB_BUF 65536

/* Opens object sha (of size bytes) from the first root that has it, raw or gzip'd
 * (objects/aa/<sha>.gz, a delivery's compressed form: *g is then set up to inflate it,
 * bounded; raw first when a root has both): fd, or -1 (errno ENOENT when none has it,
 * ELOOP for a symbolic link, EINVAL for something not a regular file or a .gz longer than
 * any gzip of size bytes). */
static int open_object(const rsub *r, const char *sha, uint64_t size, char **where, cut_gz_in *g)
{
    *where = NULL;
    g->fd = -1;
    g->z = NULL;
    g->buf = NULL;
    errno = ENOENT;
    for (size_t i = 0; i < 2 * r->n_roots; i++) {
        int gz = (int)(i % 2);
        char *p = cut_fmt("%s/objects/%.2s/%s%s", r->roots[i / 2], sha, sha + 2, gz ? ".gz" : "");
        int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0 && errno == ENOENT) {
            free(p);
            continue;
        }
        struct stat st;
        if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
                        (gz && (uint64_t)st.st_size > cut_gz_in_max(size)))) {
            close(fd);
            fd = -1;
            errno = EINVAL;
        }
        if (fd >= 0 && gz && cut_gz_in_open(g, fd, cut_gz_in_max(size))) {
            close(fd);
            fd = -1;
            errno = ENOMEM;
        }
        *where = p;
        return fd;
    }
    return -1;
}

#define READ_FAILED UINT64_MAX /* read_into: the gzip'd form is corrupt (diag given) */

/* Reads at most want + 1 bytes of fd (inflated through g when it is set up), feeding h
 * and (when to != NULL) copying to `to`. READ_FAILED after a diag for a bad .gz. */
static uint64_t read_into(rsub *r, int fd, cut_gz_in *g, uint64_t want, cut_sha256 *h, char *to, const char *where,
                          prep_diags *d)
{
    uint64_t got = 0;
    ssize_t n;
    while (got <= want) {
        size_t ask = want + 1 - got < RSUB_BUF ? (size_t)(want + 1 - got) : RSUB_BUF;
        n = g->z ? cut_gz_in_read(g, r->buf, ask, d, where) : read(fd, r->buf, ask);
        if (n < 0 && g->z) return READ_FAILED;
        if (n <= 0) break;
        if (h) cut_sha256_update(h, r->buf, (size_t)n);
        if (to && got + (uint64_t)n <= want) memcpy(to + got, r->buf, (size_t)n);
        got += (uint64_t)n;
    }
    return got;
}

/* Parses "#s OLD NEWSIZE NEW" and appends it to r->ss (syntax, the part's size limit, an OLD
 * part named twice, more than PREP_CUT_SUBST_MAX lines). */
static prep_err rsub_parse(rsub *r, const char *s, size_t n, long line, prep_diags *d)
{
    const char *name = r->name;
    if (r->ss.n == PREP_CUT_SUBST_MAX) {
        prep_diags_add(d, name, line, 0, "patch-syntax", "more than %d '#s' lines", PREP_CUT_SUBST_MAX);
        return PREP_ERR_PARSE;
    }
    subst *sv = &r->ss.v[r->ss.n];
    if (n > LINE_MAX_BYTES) {
        prep_diags_add(d, name, line, 0, "patch-syntax", "line longer than %d bytes", LINE_MAX_BYTES);
        return PREP_ERR_PARSE;
    }
    if (n < 3 + 64 + 1 + 1 + 1 + 64 || s[3 + 64] != ' ' || s[n - 65] != ' ') goto syntax;
    memcpy(sv->old, s + 3, 64);
    memcpy(sv->neu, s + n - 64, 64);
    sv->old[64] = sv->neu[64] = 0;
    if (!prep_is_sha256_hex(sv->old) || !prep_is_sha256_hex(sv->neu)) goto syntax;
    const char *z = s + 3 + 64 + 1, *ze = s + n - 65;
    if (ze - z < 1 || ze - z > 19 || (*z == '0' && ze - z > 1)) goto syntax;
    uint64_t v = 0;
    for (const char *q = z; q < ze; q++) {
        if (*q < '0' || *q > '9') goto syntax;
        v = v * 10 + (uint64_t)(*q - '0');
    }
    if (!strcmp(sv->old, sv->neu)) {
        prep_diags_add(d, name, line, 0, "patch-syntax", "substitution of part %s by itself", sv->old);
        return PREP_ERR_PARSE;
    }
    if (v > PREP_CUT_SUBST_PART_MAX) {
        prep_diags_add(d, name, line, 0, "limit", "the substitution's new part is %llu bytes; the limit is %u",
                 (unsigned long long)v, (unsigned)PREP_CUT_SUBST_PART_MAX);
        return PREP_ERR_LIMIT;
    }
    if (subst_of(&r->ss, sv->old)) {
        prep_diags_add(d, name, line, 0, "patch-syntax", "part %s is substituted twice", sv->old);
        return PREP_ERR_PARSE;
    }
    sv->size = v;
    sv->on = 1;
    r->ss.n++;
    return PREP_OK;
syntax:
    prep_diags_add(d, name, line, 0, "patch-syntax", "expected '#s <64 hex> SIZE <64 hex>'");
    return PREP_ERR_PARSE;
}

/* Parses "#s OLD NEWSIZE NEW" and loads the new part from the object roots, checked. */
static prep_err rsub_load(rsub *r, const char *s, size_t n, long line, prep_diags *d)
{
    prep_err pe = rsub_parse(r, s, n, line, d);
    if (pe) return pe;
    const subst *sv = &r->ss.v[r->ss.n - 1];
    char **bytes = &r->bytes[r->ss.n - 1];
    const char *name = r->name;
    const uint64_t v = sv->size;
    char *where;
    cut_gz_in g;
    int fd = open_object(r, sv->neu, v, &where, &g);
    if (fd < 0) {
        prep_diags_add(d, where ? where : name, line, 0, errno == ELOOP ? "symlink" : errno == ENOENT ? "missing-object" : "not-regular",
                 "the substitution's new part %s is not among the objects this receiver holds or was sent", sv->neu);
        free(where);
        return PREP_ERR_VERIFY;
    }
    *bytes = prep_xmalloc(v ? (size_t)v : 1);
    cut_sha256 h;
    if (cut_sha256_init(&h)) {
        cut_gz_in_close(&g);
        close(fd);
        free(where);
        return PREP_ERR_NOMEM;
    }
    uint64_t got = read_into(r, fd, &g, v, &h, *bytes, where, d);
    cut_gz_in_close(&g);
    close(fd);
    char hex[65];
    cut_sha256_final(&h, hex);
    prep_err e = PREP_OK;
    if (got == READ_FAILED) {
        e = PREP_ERR_VERIFY;
    } else if (got != v) {
        prep_diags_add(d, where, line, 0, "patch-mismatch", "the substitution says its new part %s is %llu bytes; the object is %s%llu",
                 sv->neu, (unsigned long long)v, got > v ? "more than " : "", (unsigned long long)(got > v ? v : got));
        e = PREP_ERR_VERIFY;
    } else if (strcmp(hex, sv->neu)) {
        prep_diags_add(d, where, line, 0, "hash-mismatch", "the substitution's new part should be %s; its bytes hash to %s",
                 sv->neu, hex);
        e = PREP_ERR_VERIFY;
    }
    free(where);
    return e;
}

/* Writes base entry b into out, with the substitution applied when it names one of b's
 * parts: the new size is the sum of the parts, the new hash that of the parts assembled
 * (read from the object roots, at most each part's size + 1 byte, the new part from
 * memory). */
static prep_err put_base(rsub *r, prep_buf *out, const prep_cut_entry *b, prep_diags *d)
{
    int touched = 0;
    for (size_t k = 0; k < b->n_parts && !touched; k++) touched = subst_of(&r->ss, b->parts[k].sha256) != NULL;
    if (!touched) return put_entry(out, b);
    prep_cut_part np[PREP_CUT_PARTS_MAX];
    prep_cut_entry x = *b;
    x.parts = np;
    x.size = 0;
    cut_sha256 h;
    if (cut_sha256_init(&h)) return PREP_ERR_NOMEM;
    prep_err e = PREP_OK;
    for (size_t k = 0; k < b->n_parts && !e; k++) {
        np[k] = b->parts[k];
        const subst *sv = subst_of(&r->ss, b->parts[k].sha256);
        if (sv) {
            memcpy(np[k].sha256, sv->neu, 65);
            np[k].size = sv->size;
            cut_sha256_update(&h, r->bytes[sv - r->ss.v], (size_t)sv->size);
        } else {
            char *where;
            cut_gz_in g;
            int fd = open_object(r, np[k].sha256, np[k].size, &where, &g);
            if (fd < 0) {
                prep_diags_add(d, where ? where : r->name, 0, 0, errno == ELOOP ? "symlink" : errno == ENOENT ? "missing-object" : "not-regular",
                         "part %zu of '%s' (%s), needed to apply the patch's substitution, cannot be read", k + 1, b->path,
                         np[k].sha256);
                e = PREP_ERR_VERIFY;
            } else {
                uint64_t got = read_into(r, fd, &g, np[k].size, &h, NULL, where, d);
                cut_gz_in_close(&g);
                close(fd);
                if (got == READ_FAILED) {
                    e = PREP_ERR_VERIFY;
                } else if (got != np[k].size) {
                    prep_diags_add(d, where, 0, 0, "size-mismatch", "part %zu of '%s' (%s) is %s%llu bytes; the base manifest says %llu",
                             k + 1, b->path, np[k].sha256, got > np[k].size ? "more than " : "",
                             (unsigned long long)(got > np[k].size ? np[k].size : got), (unsigned long long)np[k].size);
                    e = PREP_ERR_VERIFY;
                }
            }
            free(where);
        }
        x.size += np[k].size;
    }
    cut_sha256_final(&h, x.sha256);
    if (e) {
        r->diag_done = 1;
        return e;
    }
    if (x.size > r->lim->max_object_bytes) {
        prep_diags_add(d, r->name, 0, 0, "limit", "'%s' would be %llu bytes after the substitution; the limit is %llu", b->path,
                 (unsigned long long)x.size, (unsigned long long)r->lim->max_object_bytes);
        r->diag_done = 1;
        return PREP_ERR_LIMIT;
    }
    return put_entry(out, &x);
}

prep_err prep_cut_manifest_patch(const prep_cut_manifest *base, const void *patch, size_t len,
                                 const prep_cut_limits *lim, const char *name, prep_buf *out, prep_diags *d)
{
    return prep_cut_manifest_patch_objects(base, patch, len, lim, NULL, 0, name, out, d);
}

static prep_err patch_apply(const prep_cut_manifest *base, const void *patch, size_t len, const prep_cut_limits *lim,
                            rsub *rs, const char *name, prep_buf *out, prep_diags *d);

prep_err prep_cut_manifest_patch_objects(const prep_cut_manifest *base, const void *patch, size_t len,
                                         const prep_cut_limits *lim, const char *const *roots, size_t n_roots,
                                         const char *name, prep_buf *out, prep_diags *d)
{
    prep_cut_limits dl;
    if (!lim) {
        prep_cut_limits_default(&dl);
        lim = &dl;
    }
    if (!name) name = "patch";
    rsub rs = {.roots = roots, .n_roots = n_roots, .lim = lim, .name = name};
    rs.buf = prep_xmalloc(RSUB_BUF);
    prep_err e = patch_apply(base, patch, len, lim, &rs, name, out, d);
    for (size_t j = 0; j < PREP_CUT_SUBST_MAX; j++) free(rs.bytes[j]);
    free(rs.buf);
    return e;
}

/* The "#s" lines right after a patch's header: at most PREP_CUT_SUBST_MAX are used, one
 * more is kept so that rsub_parse can refuse it. */
typedef struct slines {
    size_t n;
    const char *s[PREP_CUT_SUBST_MAX + 1];
    size_t len[PREP_CUT_SUBST_MAX + 1];
    long no[PREP_CUT_SUBST_MAX + 1];
} slines;

/* Reads a patch's head: the magic, the base (must be base_sha256), the result (into
 * result), the new manifest's header lines (appended to out when out != NULL: initialised
 * here, freed on error) and the "#s" lines that follow (into sl), leaving r after them. */
static prep_err patch_head(rd *r, const char *base_sha256, size_t len, const prep_cut_limits *lim, const char *name,
                           char result[65], prep_buf *out, slines *sl, prep_diags *d)
{
    size_t n;
    const char *s;
    sl->n = 0;
    int out_ready = 0; /* out is the caller's, initialised only below */
#define HEAD_BAD(...)                                              \
    do {                                                           \
        if (out_ready) prep_buf_free(out);                         \
        prep_diags_add(d, name, r->no, 0, "patch-syntax", __VA_ARGS__);  \
        return PREP_ERR_PARSE;                                     \
    } while (0)
    if (len > lim->max_manifest_bytes) {
        prep_diags_add(d, name, 0, 0, "limit", "patch is %zu bytes; the limit is %llu", len,
                 (unsigned long long)lim->max_manifest_bytes);
        return PREP_ERR_LIMIT;
    }
    s = rd_line(r, &n);
    if (!s || n + 1 != strlen(PATCH_MAGIC) || memcmp(s, PATCH_MAGIC, n))
        HEAD_BAD("does not start with '%.*s'", 27, PATCH_MAGIC);
    s = rd_line(r, &n);
    if (!s || n != 72 || memcmp(s, "# base: ", 8)) HEAD_BAD("expected '# base: <64 hex>'");
    if (memcmp(s + 8, base_sha256, 64) != 0) {
        prep_diags_add(d, name, r->no, 0, "patch-base", "patch applies to manifest %.64s; this receiver's is %s", s + 8,
                 base_sha256);
        return PREP_ERR_VERIFY;
    }
    s = rd_line(r, &n);
    if (!s || n != 74 || memcmp(s, "# result: ", 10)) HEAD_BAD("expected '# result: <64 hex>'");
    memcpy(result, s + 10, 64);
    result[64] = 0;
    if (!prep_is_sha256_hex(result)) HEAD_BAD("result is not 64 hex digits");
    if (out) {
        prep_buf_init(out, lim->max_manifest_bytes);
        out_ready = 1;
    }
    for (int i = 0; i < HEADER_LINES; i++) {
        s = rd_line(r, &n);
        if (!s || n > LINE_MAX_BYTES || n < 2 || s[0] != '#') HEAD_BAD("the new manifest's header is incomplete");
        if (out && prep_buf_append(out, s, n + 1)) {
            prep_buf_free(out);
            prep_diags_add(d, name, r->no, 0, "limit", "the rebuilt manifest exceeds %llu bytes",
                     (unsigned long long)lim->max_manifest_bytes);
            return PREP_ERR_LIMIT;
        }
    }
#undef HEAD_BAD
    for (;;) {
        rd peek = *r;
        s = rd_line(&peek, &n);
        if (!s || n < 3 || memcmp(s, "#s ", 3) || sl->n == PREP_CUT_SUBST_MAX + 1) break;
        *r = peek;
        sl->s[sl->n] = s;
        sl->len[sl->n] = n;
        sl->no[sl->n++] = r->no;
    }
    return PREP_OK;
}

prep_err prep_cut_manifest_patch_subst(const char *base_sha256, const void *patch, size_t len,
                                       const prep_cut_limits *lim, const char *name,
                                       char new_parts[PREP_CUT_SUBST_MAX][65], uint64_t new_sizes[PREP_CUT_SUBST_MAX],
                                       size_t *n_new, prep_diags *d)
{
    prep_cut_limits dl;
    if (!lim) {
        prep_cut_limits_default(&dl);
        lim = &dl;
    }
    if (!name) name = "patch";
    *n_new = 0;
    rd r = {patch, (const char *)patch + len, 0};
    char result[65];
    slines sl;
    prep_err e = patch_head(&r, base_sha256, len, lim, name, result, NULL, &sl, d);
    if (e) return e;
    rsub rs = {.name = name};
    for (size_t j = 0; j < sl.n; j++)
        if ((e = rsub_parse(&rs, sl.s[j], sl.len[j], sl.no[j], d))) return e;
    for (size_t j = 0; j < rs.ss.n; j++) {
        memcpy(new_parts[j], rs.ss.v[j].neu, 65);
        new_sizes[j] = rs.ss.v[j].size;
    }
    *n_new = rs.ss.n;
    return PREP_OK;
}

static prep_err patch_apply(const prep_cut_manifest *base, const void *patch, size_t len, const prep_cut_limits *lim,
                            rsub *rs, const char *name, prep_buf *out, prep_diags *d)
{
    rd r = {patch, (const char *)patch + len, 0};
    prep_err pe = PREP_ERR_LIMIT;
    size_t n;
    const char *s;
#define BAD(...)                                                  \
    do {                                                          \
        prep_diags_add(d, name, r.no, 0, "patch-syntax", __VA_ARGS__);  \
        return PREP_ERR_PARSE;                                    \
    } while (0)
    char result[65];
    slines sl;
    prep_err he = patch_head(&r, base->sha256, len, lim, name, result, out, &sl, d);
    if (he) return he;
    for (size_t j = 0; j < sl.n; j++)
        if ((he = rsub_load(rs, sl.s[j], sl.len[j], sl.no[j], d))) {
            prep_buf_free(out);
            return he;
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
            prep_diags_add(d, name, r.no, 0, "limit", "more than %zu operations", lim->max_files);
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
            if ((pe = put_base(rs, out, &base->entries[i], d))) goto limit;
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
        if ((pe = put_base(rs, out, &base->entries[i], d))) goto limit;
    if (prep_buf_puts(out, "# end\n")) goto limit;
    char got[65];
    prep_sha256_hex(out->data, out->len, got);
    if (strcmp(got, result) != 0) {
        prep_diags_add(d, name, 0, 0, "patch-mismatch", "the rebuilt manifest's SHA-256 is %s; the patch says %s", got, result);
        prep_buf_free(out);
        return PREP_ERR_VERIFY;
    }
    return PREP_OK;
limit:
    prep_buf_free(out);
    if (rs->diag_done) return pe;
    prep_diags_add(d, name, r.no, 0, "limit", "the rebuilt manifest exceeds %llu bytes", (unsigned long long)lim->max_manifest_bytes);
    return PREP_ERR_LIMIT;
#undef BAD
}
