/* prep cut: the manifest, its strict bounded parser and its writer.
 *
 * The manifest is UTF-8 text, LF line ends, read by `sha256sum -c --strict` (which skips
 * lines that begin with '#'):
 *
 *   # prep-cut-manifest 1
 *   # process: qro2021
 *   # elections: ayuntamientos diputaciones gubernatura
 *   # sequence: 42
 *   # instant: 2021-06-06T23:05:00-05:00
 *   # zone: America/Mexico_City
 *   # mode: live
 *   # valid-until: 2021-06-07T00:05:00-05:00
 *   # previous: <64 hex> | none
 *   # key: <16 hex, the signify keynum>
 *   # files: 2
 *   # bytes: 1234
 *   #f 1200 text/html; charset=utf-8
 *   <64 hex>  gubernatura/index.html
 *   #f 34 text/plain; charset=utf-8
 *   <64 hex>  robots.txt
 *   # end
 *
 * Entries are sorted by path bytewise, unique. Exactly this layout is accepted; the
 * bytes are signed as they are and never re-serialised. docs/formats/cut.md. */
#include <stdlib.h>
#include <string.h>

#include "cut_internal.h"

#define LINE_MAX_BYTES CUT_LINE_MAX
#define MIN_ENTRY_BYTES 74 /* "#f 0 a/b\n" (9) + 64 hex + 2 + 1 path byte + "\n" (68) */

void prep_cut_limits_default(prep_cut_limits *l)
{
    l->max_files = 1000000;
    l->max_manifest_bytes = (uint64_t)256 << 20;
    l->max_object_bytes = (uint64_t)4 << 30;
    l->max_total_bytes = (uint64_t)256 << 30;
}

/* ---------------------------------------------------------------- paths */
/* Decodes one UTF-8 sequence at s (n bytes left); returns its length or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return len;
}

/* 0 ok, 1 not UTF-8, 2 another rule (why set). */
static int path_rule(const char *p, size_t n, const char **why)
{
    if (n == 0) return *why = "empty path", 2;
    if (n > PREP_CUT_PATH_MAX) return *why = "longer than 1024 bytes", 2;
    const unsigned char *s = (const unsigned char *)p;
    size_t seg = 0; /* start of the current segment */
    for (size_t i = 0; i <= n;) {
        if (i == n || s[i] == '/') {
            size_t sl = i - seg;
            if (sl == 0) return *why = i == 0 ? "absolute path (leading '/')" : i == n ? "trailing '/'" : "empty segment ('//')", 2;
            if (sl > PREP_CUT_SEGMENT_MAX) return *why = "a segment longer than 255 bytes", 2;
            if (sl == 1 && s[seg] == '.') return *why = "a '.' segment", 2;
            if (sl == 2 && s[seg] == '.' && s[seg + 1] == '.') return *why = "a '..' segment (traversal)", 2;
            if (s[seg] == ' ' || s[i - 1] == ' ') return *why = "a segment that begins or ends with a space", 2;
            if (seg == 0 && ((sl == 6 && !memcmp(s, "cortes", 6)))) return *why = "reserved name 'cortes'", 2;
            if (i == n && seg == 0 && ((sl == 10 && !memcmp(s, CUT_SUMS_NAME, 10)) || (sl == 14 && !memcmp(s, CUT_SIG_NAME, 14))))
                return *why = "reserved name (the manifest's own)", 2;
            if (i == n) break;
            seg = ++i;
            continue;
        }
        if (s[i] == 0) return *why = "a NUL byte", 2;
        if (s[i] < 0x20 || s[i] == 0x7f) return *why = "a control character", 2;
        if (s[i] == '\\') return *why = "a backslash", 2;
        uint32_t cp;
        size_t l = utf8_seq(s + i, n - i, &cp);
        if (!l) return *why = "not valid UTF-8", 1;
        if (cp >= 0x80 && cp <= 0x9f) return *why = "a C1 control character", 2;
        i += l;
    }
    return 0;
}

int prep_cut_path_check(const char *p, size_t n, const char **why)
{
    const char *w = NULL;
    int r = path_rule(p, n, &w);
    if (why) *why = w;
    return r ? -1 : 0;
}

/* ---------------------------------------------------------------- media types */
typedef struct ext_type {
    const char *ext;
    const char *type;
    int text; /* charset decided by content */
} ext_type;

static const ext_type ext_types[] = {
    {"html", "text/html", 1},          {"htm", "text/html", 1},
    {"css", "text/css", 1},            {"js", "text/javascript", 1},
    {"mjs", "text/javascript", 1},     {"json", "application/json", 0},
    {"csv", "text/csv", 1},            {"txt", "text/plain", 1},
    {"xml", "application/xml", 0},     {"svg", "image/svg+xml", 0},
    {"png", "image/png", 0},           {"jpg", "image/jpeg", 0},
    {"jpeg", "image/jpeg", 0},         {"gif", "image/gif", 0},
    {"webp", "image/webp", 0},         {"ico", "image/vnd.microsoft.icon", 0},
    {"pdf", "application/pdf", 0},     {"zip", "application/zip", 0},
    {"woff2", "font/woff2", 0},        {"woff", "font/woff", 0},
    {"geojson", "application/geo+json", 0}, {"webmanifest", "application/manifest+json", 0},
    {"sig", "text/plain", 1},          {"pub", "text/plain", 1},
    {"md", "text/markdown", 1},
};

const char *prep_cut_media_type(const char *path, const void *data, size_t len)
{
    return cut_media_type_utf8(path, !data || prep_utf8_valid(data, len));
}

const char *cut_media_type_utf8(const char *path, int utf8)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base) return "application/octet-stream";
    const char *ext = dot + 1;
    for (size_t i = 0; i < PREP_ARRAY_LEN(ext_types); i++) {
        if (strcasecmp(ext, ext_types[i].ext) != 0) continue;
        const ext_type *t = &ext_types[i];
        if (!t->text) return t->type;
        /* Static strings for each text type with either charset. */
        static const char *u[] = {"text/html; charset=utf-8", "text/css; charset=utf-8",
                                  "text/javascript; charset=utf-8", "text/csv; charset=utf-8",
                                  "text/plain; charset=utf-8", "text/markdown; charset=utf-8"};
        static const char *l[] = {"text/html; charset=iso-8859-1", "text/css; charset=iso-8859-1",
                                  "text/javascript; charset=iso-8859-1", "text/csv; charset=iso-8859-1",
                                  "text/plain; charset=iso-8859-1", "text/markdown; charset=iso-8859-1"};
        static const char *names[] = {"text/html", "text/css", "text/javascript", "text/csv", "text/plain",
                                      "text/markdown"};
        for (size_t k = 0; k < PREP_ARRAY_LEN(names); k++)
            if (!strcmp(names[k], t->type)) return utf8 ? u[k] : l[k];
        return t->type;
    }
    return "application/octet-stream";
}

static int is_token_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("!#$&^_.+-", c);
}

/* token "/" token *( "; " token "=" token ) */
static int media_type_ok(const char *s, size_t n)
{
    if (n == 0 || n > PREP_CUT_MEDIA_TYPE_MAX) return 0;
    size_t i = 0, st;
    for (st = i; i < n && is_token_char((unsigned char)s[i]); i++) {}
    if (i == st || i >= n || s[i] != '/') return 0;
    for (st = ++i; i < n && is_token_char((unsigned char)s[i]); i++) {}
    if (i == st) return 0;
    while (i < n) {
        if (n - i < 2 || s[i] != ';' || s[i + 1] != ' ') return 0;
        i += 2;
        for (st = i; i < n && is_token_char((unsigned char)s[i]); i++) {}
        if (i == st || i >= n || s[i] != '=') return 0;
        for (st = ++i; i < n && is_token_char((unsigned char)s[i]); i++) {}
        if (i == st) return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- small syntaxes */
int cut_check_process(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > PREP_CUT_PROCESS_MAX) return -1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return -1;
    }
    return 0;
}

int cut_check_elections(const char *s)
{
    size_t n = strlen(s);
    if (n > PREP_CUT_ELECTIONS_MAX) return -1;
    size_t tok = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == ' ') {
            if (i == 0 && n == 0) return 0;
            if (tok == 0 || tok > 64) return -1;
            tok = 0;
            continue;
        }
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return -1;
        tok++;
    }
    return 0;
}

int cut_check_zone(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > PREP_CUT_ZONE_MAX || s[0] == '/' || strstr(s, "..")) return -1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '_' ||
              c == '-' || c == '+'))
            return -1;
    }
    return 0;
}

void cut_format_instant(prep_time t, long off, char out[32])
{
    int64_t l = t + off;
    int64_t days = l >= 0 ? l / 86400 : -((-l + 86399) / 86400);
    int64_t sec = l - days * 86400;
    int64_t y;
    int m, d;
    prep_civil_from_days(days, &y, &m, &d);
    long ao = off < 0 ? -off : off;
    if (ao > 14 * 3600 + 59 * 60) ao = 0;
    if (y < 0 || y > 9999) y = 0;
    char tmp[96];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", (int)y, m, d, (int)(sec / 3600),
             (int)(sec / 60 % 60), (int)(sec % 60), off < 0 ? '-' : '+', (int)(ao / 3600), (int)(ao / 60 % 60));
    memcpy(out, tmp, 31);
    out[31] = 0;
}

static int dig(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Exactly "YYYY-MM-DDTHH:MM:SS+HH:MM" (25 bytes). */
static int parse_instant(const char *s, size_t n, prep_time *t, long *off)
{
    int y, mo, d, h, mi, se, oh, om;
    if (n != 25 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        (s[19] != '+' && s[19] != '-') || s[22] != ':')
        return -1;
    if (dig(s, 4, &y) || dig(s + 5, 2, &mo) || dig(s + 8, 2, &d) || dig(s + 11, 2, &h) || dig(s + 14, 2, &mi) ||
        dig(s + 17, 2, &se) || dig(s + 20, 2, &oh) || dig(s + 23, 2, &om))
        return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 59 || oh > 14 ||
        om > 59)
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap) return -1;
    long o = (oh * 3600L + om * 60L) * (s[19] == '-' ? -1 : 1);
    *t = prep_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - o;
    *off = o;
    return 0;
}

/* Decimal without sign or leading zero, at most 19 digits. */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 19 || (s[0] == '0' && n > 1)) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Without a branch per byte: the parser checks ~870,000 hashes of a national manifest, and
 * the early-exit loop was 30 % of its time. */
static int is_lower_hex(const char *s, size_t n)
{
    unsigned bad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = (unsigned char)s[i];
        bad |= (c - '0' > 9u) & (c - 'a' > 5u);
    }
    return !bad;
}

/* ---------------------------------------------------------------- paths under files
 * A file path that is also a directory of another path cannot be exported. The entries
 * are sorted bytewise (the parser refused them otherwise), and a path sorted between P and
 * a path that starts with P starts with P too; so the earlier paths that are prefixes of a
 * path are those of the path before it that are also its own, a stack in which each is a
 * prefix of the next (at most one per length: PREP_CUT_PATH_MAX + 1 of them). A path lies
 * under a file when its byte after one of the stack's lengths is '/'. Until session 38 a
 * hash set of every path and of every directory asked: a cache miss per probe, ~40 % of a
 * national manifest's parse. Returns the index of the first conflicting entry, or n. */
static size_t find_conflict(const prep_cut_entry *e, size_t n)
{
    size_t len[PREP_CUT_PATH_MAX + 1]; /* the stack: the lengths of its paths */
    size_t at[PREP_CUT_PATH_MAX + 1];  /* and their entries */
    uint8_t held[PREP_CUT_PATH_MAX + 1] = {0}; /* held[k]: the stack has a path of k bytes */
    size_t top = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = e[i].path;
        size_t pl = strlen(p);
        if (pl > PREP_CUT_PATH_MAX) return i; /* refused by path_rule before */
        while (top && !(len[top - 1] < pl && !memcmp(e[at[top - 1]].path, p, len[top - 1]))) held[len[--top]] = 0;
        for (const char *sl = memchr(p, '/', pl); sl; sl = memchr(sl + 1, '/', pl - (size_t)(sl + 1 - p)))
            if (held[sl - p]) return i;
        held[pl] = 1;
        len[top] = pl;
        at[top++] = i;
    }
    return n;
}

/* ---------------------------------------------------------------- parser */
typedef struct lines {
    const char *p; /* the caller's bytes, read in place: not copied, not NUL-terminated */
    size_t len;
    size_t pos;
    long no;    /* line number of the last line returned */
} lines;

/* Next line (its n bytes end at a '\n', not at a NUL); NULL at the end. */
static const char *next_line(lines *l, size_t *n)
{
    if (l->pos >= l->len) return NULL;
    const char *s = l->p + l->pos;
    const char *nl = memchr(s, '\n', l->len - l->pos);
    if (!nl) return NULL; /* the caller checked the text ends with '\n' */
    *n = (size_t)(nl - s);
    l->pos += *n + 1;
    l->no++;
    return s;
}

/* "%.*s" arguments for at most max bytes of a line's n: the lines are not NUL-terminated,
 * so a diag never reads past the line (nor past the manifest's last byte). */
#define CLIP(s, n, max) (int)((n) < (size_t)(max) ? (n) : (size_t)(max)), (s)

static int strict_cmp(const char *a, const char *b) { return strcmp(a, b); }

/* Header line "# KEY: VALUE": returns VALUE or NULL. */
static const char *header(lines *l, const char *key, size_t *vn, const char *name, prep_diags *d)
{
    size_t n;
    const char *s = next_line(l, &n);
    size_t kl = strlen(key);
    if (!s) {
        prep_diags_add(d, name, l->no + 1, 0, "truncated", "manifest ends before the '# %s:' line", key);
        return NULL;
    }
    if (n > LINE_MAX_BYTES) {
        prep_diags_add(d, name, l->no, 0, "limit", "line is %zu bytes; the limit is %d", n, LINE_MAX_BYTES);
        return NULL;
    }
    if (n < kl + 4 || s[0] != '#' || s[1] != ' ' || memcmp(s + 2, key, kl) != 0 || s[kl + 2] != ':' ||
        s[kl + 3] != ' ') {
        prep_diags_add(d, name, l->no, 1, "manifest-syntax", "expected '# %s: ...', found '%.*s'", key, CLIP(s, n, 60));
        return NULL;
    }
    *vn = n - kl - 4;
    if (memchr(s, 0, n)) {
        prep_diags_add(d, name, l->no, 0, "manifest-syntax", "a NUL byte in the '# %s:' line", key);
        return NULL;
    }
    return s + kl + 4;
}

/* The strings the parsed manifest keeps (its paths and media types, NUL-terminated), in
 * blocks of STRS_BLOCK bytes chained by their first pointer (prep_cut_manifest._text is the
 * last one): a national manifest's ~4 MB. Until session 38 the whole manifest (59 MB) was
 * copied to be cut into strings in place: fresh memory, its pages faulted in, every cut
 * and every receiver. A media type already kept is shared (a site has a handful). */
#define STRS_BLOCK ((size_t)1 << 20)
typedef struct strs {
    char *p;  /* the block being filled: a pointer to the one before, then strings */
    size_t n; /* bytes used of it */
    const char *type[16]; /* the media types kept */
    size_t type_len[16], n_types;
} strs;

static void strs_free(char *p)
{
    while (p) {
        char *before;
        memcpy(&before, p, sizeof before);
        free(p);
        p = before;
    }
}

/* s (n bytes, at most a line's) kept; NULL when memory ran out. */
static const char *strs_add(strs *st, const char *s, size_t n)
{
    if (!st->p || n + 1 > STRS_BLOCK - st->n) {
        size_t cap = n + 1 + sizeof(char *) > STRS_BLOCK ? n + 1 + sizeof(char *) : STRS_BLOCK;
        char *b = malloc(cap);
        if (!b) return NULL;
        memcpy(b, &st->p, sizeof st->p);
        st->p = b;
        st->n = sizeof(char *);
    }
    char *at = st->p + st->n;
    memcpy(at, s, n);
    at[n] = 0;
    st->n += n + 1;
    return at;
}

static const char *strs_type(strs *st, const char *s, size_t n)
{
    for (size_t i = 0; i < st->n_types; i++)
        if (st->type_len[i] == n && !memcmp(st->type[i], s, n)) return st->type[i];
    const char *t = strs_add(st, s, n);
    if (t && st->n_types < PREP_ARRAY_LEN(st->type)) {
        st->type[st->n_types] = t;
        st->type_len[st->n_types++] = n;
    }
    return t;
}

/* A "#p" line s (n bytes, line lineno): the parts of a file of size bytes, into got (at most
 * PREP_CUT_PARTS_MAX) and *np_out. 0, or -1 after a diag. */
static int parse_parts(const char *s, size_t n, uint64_t size, prep_cut_part *got, size_t *np_out, const char *name,
                       long lineno, prep_diags *d)
{
#define FAIL(kind, ...)                                   \
    do {                                                  \
        prep_diags_add(d, name, lineno, 0, kind, __VA_ARGS__); \
        return -1;                                        \
    } while (0)
    size_t np = 0, at = 3;
    uint64_t psum = 0;
    for (;;) {
        if (np == PREP_CUT_PARTS_MAX) FAIL("manifest-field", "more than %d parts", PREP_CUT_PARTS_MAX);
        const char *sp2 = memchr(s + at, ' ', n - at);
        if (!sp2) FAIL("manifest-syntax", "expected '#p SIZE SHA256 SIZE SHA256 ...', found '%.*s'", CLIP(s, n, 80));
        size_t sl = (size_t)(sp2 - (s + at));
        if (parse_u64(s + at, sl, &got[np].size) || got[np].size > size)
            FAIL("manifest-field", "part size '%.*s' is not a number up to the file's size", CLIP(s + at, sl, 30));
        at += sl + 1;
        if (n - at < 64 || !is_lower_hex(s + at, 64) || (n - at > 64 && s[at + 64] != ' '))
            FAIL("manifest-syntax", "expected a part's SHA-256 (64 lower-case hex) in '%.*s'", CLIP(s, n, 80));
        memcpy(got[np].sha256, s + at, 64);
        got[np].sha256[64] = 0;
        psum += got[np].size;
        np++;
        at += 64;
        if (at == n) break;
        at++; /* the space */
    }
    if (np < 2) FAIL("manifest-field", "a composed file has at least 2 parts; this one has %zu", np);
    if (psum != size)
        FAIL("manifest-field", "parts add up to %llu bytes; the file is %llu", (unsigned long long)psum,
            (unsigned long long)size);
    *np_out = np;
    return 0;
#undef FAIL
}

/* The "<sha256>  PATH" line s (n bytes, line lineno) of entry en; prev is the previous
 * entry's path (NULL for the first): paths are unique and sorted bytewise. 0, -1 after a
 * diag, or -2 when memory ran out. */
static int parse_path_line(const char *s, size_t n, prep_cut_entry *en, const char *prev, strs *st, const char *name,
                           long lineno, prep_diags *d)
{
#define FAIL(kind, ...)                                   \
    do {                                                  \
        prep_diags_add(d, name, lineno, 0, kind, __VA_ARGS__); \
        return -1;                                        \
    } while (0)
    if (n < 67 || !is_lower_hex(s, 64) || s[64] != ' ' || s[65] != ' ')
        FAIL("manifest-syntax", "expected '<64 lower-case hex>  PATH', found '%.*s'", CLIP(s, n, 80));
    memcpy(en->sha256, s, 64);
    en->sha256[64] = 0;
    const char *why = NULL;
    size_t pl = n - 66; /* a NUL inside it is refused by path_rule */
    int r = path_rule(s + 66, pl, &why);
    if (r) {
        prep_diags_add(d, name, lineno, 67, r == 1 ? "not-utf8" : "bad-path", "path '%.*s': %s", CLIP(s + 66, pl, 100), why);
        return -1;
    }
    if (!(en->path = strs_add(st, s + 66, pl))) return -2;
    if (prev) {
        int c = strict_cmp(prev, en->path);
        if (c == 0) FAIL("duplicate-path", "path '%s' appears twice", en->path);
        if (c > 0) FAIL("path-order", "path '%s' comes after '%s'; entries must be sorted bytewise", en->path, prev);
    }
    return 0;
#undef FAIL
}

/* Appends np parts to m->_parts (*n used of *cap). 0, or -1 when memory ran out. */
static int parts_append(prep_cut_manifest *m, size_t *n, size_t *cap, const prep_cut_part *got, size_t np)
{
    if (*n + np > *cap) {
        size_t nc = *cap ? *cap * 2 : 1024;
        while (nc < *n + np) nc *= 2;
        prep_cut_part *nv = realloc(m->_parts, nc * sizeof *nv);
        if (!nv) return -1;
        m->_parts = nv;
        *cap = nc;
    }
    memcpy(m->_parts + *n, got, np * sizeof *got);
    *n += np;
    return 0;
}

/* The manifest's header lines after the magic, into mt, with the declared file count and
 * total size (checked against lim and against what len can hold). PREP_ERR_PARSE or
 * PREP_ERR_LIMIT, with a diag naming the line. */
static prep_err parse_header(lines *l, const prep_cut_limits *lim, size_t len, const char *name, prep_cut_meta *mt,
                             uint64_t *nfiles, uint64_t *nbytes, prep_diags *d)
{
    const char *v;
    size_t vn;
#define HDR(key)                                 \
    do {                                         \
        if (!(v = header(l, key, &vn, name, d))) \
            return PREP_ERR_PARSE;               \
    } while (0)
#define BAD(kind, ...)                                  \
    do {                                                \
        prep_diags_add(d, name, l->no, 0, kind, __VA_ARGS__); \
        return PREP_ERR_PARSE;                          \
    } while (0)

    HDR("process");
    if (vn > PREP_CUT_PROCESS_MAX) BAD("manifest-field", "process id is longer than %d bytes", PREP_CUT_PROCESS_MAX);
    memcpy(mt->process, v, vn);
    if (cut_check_process(mt->process)) BAD("manifest-field", "process id '%s' is not [A-Za-z0-9._-]{1,64}", mt->process);
    HDR("elections");
    if (vn > PREP_CUT_ELECTIONS_MAX) BAD("manifest-field", "election set is longer than %d bytes", PREP_CUT_ELECTIONS_MAX);
    memcpy(mt->elections, v, vn);
    if (cut_check_elections(mt->elections)) BAD("manifest-field", "election set '%.80s' is not ids [a-z0-9_-] separated by one space", mt->elections);
    HDR("sequence");
    if (parse_u64(v, vn, &mt->seq) || mt->seq == 0 || mt->seq > PREP_CUT_SEQ_MAX)
        BAD("manifest-field", "sequence '%.*s' is not a number 1..%llu", CLIP(v, vn, 30), (unsigned long long)PREP_CUT_SEQ_MAX);
    HDR("instant");
    if (parse_instant(v, vn, &mt->instant, &mt->instant_off))
        BAD("manifest-field", "instant '%.*s' is not YYYY-MM-DDTHH:MM:SS+HH:MM", CLIP(v, vn, 40));
    HDR("zone");
    if (vn > PREP_CUT_ZONE_MAX) BAD("manifest-field", "zone is longer than %d bytes", PREP_CUT_ZONE_MAX);
    memcpy(mt->zone, v, vn);
    if (cut_check_zone(mt->zone)) BAD("manifest-field", "zone '%s' is not a tz database name", mt->zone);
    HDR("mode");
    if (vn == 4 && !memcmp(v, "live", 4))
        mt->mode = PREP_CUT_LIVE;
    else if (vn == 5 && !memcmp(v, "drill", 5))
        mt->mode = PREP_CUT_DRILL;
    else
        BAD("manifest-field", "mode '%.*s' is neither 'live' nor 'drill'", CLIP(v, vn, 20));
    HDR("valid-until");
    if (parse_instant(v, vn, &mt->valid_until, &mt->valid_off))
        BAD("manifest-field", "valid-until '%.*s' is not YYYY-MM-DDTHH:MM:SS+HH:MM", CLIP(v, vn, 40));
    if (mt->valid_until <= mt->instant) BAD("manifest-field", "valid-until is not after the cut instant");
    HDR("previous");
    if (vn == 4 && !memcmp(v, "none", 4)) {
        mt->previous[0] = 0;
        if (mt->seq != 1) BAD("manifest-field", "previous is 'none' but the sequence is %llu", (unsigned long long)mt->seq);
    } else if (vn == 64 && is_lower_hex(v, 64)) {
        memcpy(mt->previous, v, 64);
        mt->previous[64] = 0;
        if (mt->seq == 1) BAD("manifest-field", "the first cut (sequence 1) must have previous 'none'");
    } else {
        BAD("manifest-field", "previous '%.*s' is neither 64 lower-case hex digits nor 'none'", CLIP(v, vn, 70));
    }
    HDR("key");
    if (vn != 16 || !is_lower_hex(v, 16)) BAD("manifest-field", "key '%.*s' is not 16 lower-case hex digits", CLIP(v, vn, 20));
    for (int i = 0; i < 8; i++) {
        int hi = v[2 * i] >= 'a' ? v[2 * i] - 'a' + 10 : v[2 * i] - '0';
        int lo = v[2 * i + 1] >= 'a' ? v[2 * i + 1] - 'a' + 10 : v[2 * i + 1] - '0';
        mt->keynum[i] = (uint8_t)(hi << 4 | lo);
    }
    HDR("files");
    if (parse_u64(v, vn, nfiles)) BAD("manifest-field", "files '%.*s' is not a number", CLIP(v, vn, 30));
    if (*nfiles > lim->max_files) {
        prep_diags_add(d, name, l->no, 0, "limit", "manifest declares %llu files; the limit is %zu",
                 (unsigned long long)*nfiles, lim->max_files);
        return PREP_ERR_LIMIT;
    }
    if (*nfiles > len / MIN_ENTRY_BYTES) BAD("truncated", "manifest declares %llu files but has room for at most %zu", (unsigned long long)*nfiles, len / MIN_ENTRY_BYTES);
    HDR("bytes");
    if (parse_u64(v, vn, nbytes)) BAD("manifest-field", "bytes '%.*s' is not a number", CLIP(v, vn, 30));
    if (*nbytes > lim->max_total_bytes) {
        prep_diags_add(d, name, l->no, 0, "limit", "cut is %llu bytes; the limit is %llu", (unsigned long long)*nbytes,
                 (unsigned long long)lim->max_total_bytes);
        return PREP_ERR_LIMIT;
    }

#undef HDR
#undef BAD
    return PREP_OK;
}

prep_err prep_cut_manifest_parse(const void *data, size_t len, const prep_cut_limits *lim, const char *name,
                                 prep_cut_manifest *m, prep_diags *d)
{
    return cut_manifest_parse_ex(data, len, lim, name, 1, m, d);
}

prep_err cut_manifest_parse_ex(const void *data, size_t len, const prep_cut_limits *lim, const char *name, int keep_raw,
                               prep_cut_manifest *m, prep_diags *d)
{
    memset(m, 0, sizeof *m);
    prep_cut_limits dl;
    if (!lim) {
        prep_cut_limits_default(&dl);
        lim = &dl;
    }
    if (!name) name = "manifest";
    if (len > lim->max_manifest_bytes) {
        prep_diags_add(d, name, 0, 0, "limit", "manifest is %zu bytes; the limit is %llu", len,
                       (unsigned long long)lim->max_manifest_bytes);
        return PREP_ERR_LIMIT;
    }
    const char *in = data;
    size_t ml = strlen(CUT_MANIFEST_MAGIC);
    if (len < ml || memcmp(in, CUT_MANIFEST_MAGIC, ml) != 0) {
        int other = len >= 20 && !memcmp(in, "# prep-cut-manifest ", 20);
        prep_diags_add(d, name, 1, 1, other ? "manifest-version" : "manifest-syntax",
                       other ? "unsupported manifest version (this program reads version 1)"
                             : "does not start with '# prep-cut-manifest 1'");
        return PREP_ERR_PARSE;
    }
    if (in[len - 1] != '\n') {
        prep_diags_add(d, name, 0, 0, "truncated", "the last line has no end of line (truncated manifest?)");
        return PREP_ERR_PARSE;
    }
    prep_err e = PREP_ERR_PARSE;
    lines l = {.p = in, .len = len};
    strs st = {0};
    size_t n;
    next_line(&l, &n); /* the magic */

    uint64_t nfiles, nbytes;
    if ((e = parse_header(&l, lim, len, name, &m->meta, &nfiles, &nbytes, d))) goto fail;
    e = PREP_ERR_PARSE; /* what each failure below returns unless it says otherwise */
#define BAD(kind, ...)                                    \
    do {                                                  \
        prep_diags_add(d, name, l.no, 0, kind, __VA_ARGS__); \
        goto fail;                                        \
    } while (0)

    /* a part takes at least 66 bytes of a "#p" line (" SIZE HASH"): room for all of them in
     * one allocation, of which only what is used is ever touched (growing by doubling
     * copied ~58 MB of parts of a national manifest ~6 times over) */
    size_t n_parts_all = 0, parts_cap = len / 66 + 1;
    if (!(m->_parts = malloc(parts_cap * sizeof *m->_parts))) {
        e = PREP_ERR_NOMEM;
        goto fail;
    }
    m->entries = calloc(nfiles ? nfiles : 1, sizeof *m->entries);
    if (!m->entries) {
        e = PREP_ERR_NOMEM;
        goto fail;
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < nfiles; i++) {
        prep_cut_entry *en = &m->entries[i];
        const char *s = next_line(&l, &n);
        if (!s) BAD("truncated", "manifest ends after %zu of %llu files", i, (unsigned long long)nfiles);
        if (n > LINE_MAX_BYTES) BAD("limit", "line is %zu bytes; the limit is %d", n, LINE_MAX_BYTES);
        if (n < 3 || s[0] != '#' || s[1] != 'f' || s[2] != ' ') {
            if (n == 5 && !memcmp(s, "# end", 5))
                BAD("truncated", "'# end' after %zu of %llu files", i, (unsigned long long)nfiles);
            BAD("manifest-syntax", "expected '#f SIZE MEDIA-TYPE', found '%.*s'", CLIP(s, n, 60));
        }
        char *sp = memchr(s + 3, ' ', n - 3);
        if (!sp) BAD("manifest-syntax", "expected '#f SIZE MEDIA-TYPE', found '%.*s'", CLIP(s, n, 60));
        if (parse_u64(s + 3, (size_t)(sp - s - 3), &en->size))
            BAD("manifest-field", "size '%.*s' is not a number", CLIP(s + 3, (size_t)(sp - s - 3), 30));
        if (en->size > lim->max_object_bytes) {
            prep_diags_add(d, name, l.no, 0, "limit", "a file of %llu bytes; the limit is %llu",
                           (unsigned long long)en->size, (unsigned long long)lim->max_object_bytes);
            e = PREP_ERR_LIMIT;
            goto fail;
        }
        size_t tn = n - (size_t)(sp + 1 - s);
        if (!media_type_ok(sp + 1, tn))
            BAD("manifest-field", "media type '%.*s' is not 'type/subtype[; name=value]'", CLIP(sp + 1, tn, 60));
        if (!(en->media_type = strs_type(&st, sp + 1, tn))) {
            e = PREP_ERR_NOMEM;
            goto fail;
        }
        sum += en->size;
        if (sum > nbytes) BAD("size-total", "file sizes add up to more than the declared %llu bytes", (unsigned long long)nbytes);

        s = next_line(&l, &n);
        if (!s) BAD("truncated", "manifest ends after a '#f' line");
        if (n > LINE_MAX_BYTES) BAD("limit", "line is %zu bytes; the limit is %d", n, LINE_MAX_BYTES);
        if (n >= 3 && s[0] == '#' && s[1] == 'p' && s[2] == ' ') {
            /* "#p SIZE SHA SIZE SHA ...": the parts of a composed file, in order. */
            prep_cut_part got[PREP_CUT_PARTS_MAX];
            size_t np = 0;
            if (parse_parts(s, n, en->size, got, &np, name, l.no, d)) goto fail;
            if (parts_append(m, &n_parts_all, &parts_cap, got, np)) {
                e = PREP_ERR_NOMEM;
                goto fail;
            }
            en->n_parts = np;
            s = next_line(&l, &n);
            if (!s) BAD("truncated", "manifest ends after a '#p' line");
            if (n > LINE_MAX_BYTES) BAD("limit", "line is %zu bytes; the limit is %d", n, LINE_MAX_BYTES);
        }
        int pr = parse_path_line(s, n, en, i ? m->entries[i - 1].path : NULL, &st, name, l.no, d);
        if (pr == -2) e = PREP_ERR_NOMEM;
        if (pr) goto fail;
    }
    if (sum != nbytes)
        BAD("size-total", "file sizes add up to %llu; the header says %llu", (unsigned long long)sum, (unsigned long long)nbytes);
    {
        const char *s = next_line(&l, &n);
        if (!s) BAD("truncated", "manifest ends without '# end'");
        if (n != 5 || memcmp(s, "# end", 5) != 0)
            BAD("manifest-syntax", "expected '# end', found '%.*s' (more files than declared?)", CLIP(s, n, 60));
        if (l.pos != l.len) BAD("manifest-syntax", "bytes after '# end'");
    }
    m->n = (size_t)nfiles;
    for (size_t i = 0, off = 0; i < m->n; i++) /* parts were appended in entry order */
        if (m->entries[i].n_parts) {
            m->entries[i].parts = m->_parts + off;
            off += m->entries[i].n_parts;
        }
    size_t at = find_conflict(m->entries, m->n);
    if (at != m->n) {
        prep_diags_add(d, name, 0, 0, "path-conflict", "path '%s' is under another path that is a file", m->entries[at].path);
        goto fail;
    }
    m->total_bytes = sum;
    m->_text = st.p; /* the strings the entries point to */
    if (keep_raw) {
        m->raw = malloc(len ? len : 1);
        if (!m->raw) {
            e = PREP_ERR_NOMEM;
            goto fail_keep;
        }
        memcpy(m->raw, in, len);
        m->raw_len = len;
    }
    prep_sha256_hex(in, len, m->sha256);
    return PREP_OK;
#undef BAD
fail:
    strs_free(st.p);
    m->_text = NULL;
fail_keep:
    free(m->entries);
    free(m->_parts);
    strs_free(m->_text);
    memset(m, 0, sizeof *m);
    return e;
}

void prep_cut_manifest_free(prep_cut_manifest *m)
{
    if (!m) return;
    free(m->entries);
    free(m->_parts);
    free(m->raw);
    strs_free(m->_text);
    memset(m, 0, sizeof *m);
}

const prep_cut_entry *prep_cut_manifest_find(const prep_cut_manifest *m, const char *path)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->entries[mid].path, path);
        if (c == 0) return &m->entries[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int prep_cut_is_stale(const prep_cut_manifest *m, prep_time now) { return now > m->meta.valid_until; }

/* ---------------------------------------------------------------- writer */
/* Decimal digits of v into out (at least 21 bytes), no terminator; returns their count. */
static size_t u64_dec(uint64_t v, char *out)
{
    char t[20];
    size_t n = 0;
    do t[n++] = (char)('0' + v % 10); while ((v /= 10) != 0);
    for (size_t i = 0; i < n; i++) out[i] = t[n - 1 - i];
    return n;
}

/* One entry's lines, written without printf: a manifest has one per file of the cut
 * (~150,000 at national scale, every cut). */
prep_err cut_entry_put(prep_buf *b, const prep_cut_entry *x)
{
    char num[24];
    prep_err e = prep_buf_append(b, "#f ", 3);
    if (!e) e = prep_buf_append(b, num, u64_dec(x->size, num));
    if (!e) e = prep_buf_putc(b, ' ');
    if (!e) e = prep_buf_puts(b, x->media_type);
    if (!e) e = prep_buf_putc(b, '\n');
    if (!e && x->n_parts) {
        e = prep_buf_append(b, "#p", 2);
        for (size_t k = 0; k < x->n_parts && !e; k++) {
            num[0] = ' ';
            e = prep_buf_append(b, num, 1 + u64_dec(x->parts[k].size, num + 1));
            if (!e) e = prep_buf_putc(b, ' ');
            if (!e) e = prep_buf_append(b, x->parts[k].sha256, 64);
        }
        if (!e) e = prep_buf_putc(b, '\n');
    }
    if (!e) e = prep_buf_append(b, x->sha256, 64);
    if (!e) e = prep_buf_append(b, "  ", 2);
    if (!e) e = prep_buf_puts(b, x->path);
    if (!e) e = prep_buf_putc(b, '\n');
    return e;
}

int cut_entry_same(const prep_cut_entry *a, const prep_cut_entry *b)
{
    if (a->size != b->size || strcmp(a->sha256, b->sha256) || strcmp(a->media_type, b->media_type) ||
        a->n_parts != b->n_parts)
        return 0;
    for (size_t k = 0; k < a->n_parts; k++)
        if (a->parts[k].size != b->parts[k].size || strcmp(a->parts[k].sha256, b->parts[k].sha256)) return 0;
    return 1;
}
static int cmp_idx(const void *a, const void *b, void *base)
{
    const prep_cut_entry *e = base;
    return strcmp(e[*(const size_t *)a].path, e[*(const size_t *)b].path);
}

prep_err cut_manifest_write(const prep_cut_meta *mt, const prep_cut_entry *e, size_t n, const prep_cut_limits *lim,
                            prep_buf *out, prep_diags *d)
{
    const char *name = "new cut";
    if (n > lim->max_files) {
        prep_diags_add(d, name, 0, 0, "limit", "%zu files; the limit is %zu", n, lim->max_files);
        return PREP_ERR_LIMIT;
    }
    if (cut_check_process(mt->process)) {
        prep_diags_add(d, name, 0, 0, "manifest-field", "process id '%s' is not [A-Za-z0-9._-]{1,64}", mt->process);
        return PREP_ERR_INVALID;
    }
    if (cut_check_elections(mt->elections)) {
        prep_diags_add(d, name, 0, 0, "manifest-field", "election set '%.80s' is not ids [a-z0-9_-] separated by one space", mt->elections);
        return PREP_ERR_INVALID;
    }
    if (cut_check_zone(mt->zone)) {
        prep_diags_add(d, name, 0, 0, "manifest-field", "zone '%s' is not a tz database name", mt->zone);
        return PREP_ERR_INVALID;
    }
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx) return PREP_ERR_NOMEM;
    uint64_t total = 0;
    size_t text = 512; /* the manifest's size, for one allocation (the header and "# end" within 512 + 1,024) */
    int sorted = 1;
    prep_err err = PREP_OK;
    for (size_t i = 0; i < n; i++) {
        idx[i] = i;
        const char *why = NULL;
        size_t pl = strlen(e[i].path);
        char num[24];
        text += 3 + u64_dec(e[i].size, num) + 1 + strlen(e[i].media_type) + 1 + 64 + 2 + pl + 1;
        if (e[i].n_parts) text += 3;
        for (size_t k = 0; k < e[i].n_parts; k++) text += 1 + u64_dec(e[i].parts[k].size, num) + 1 + 64;
        if (sorted && i && strcmp(e[i - 1].path, e[i].path) >= 0) sorted = 0;
        int r = path_rule(e[i].path, pl, &why);
        if (r) {
            prep_diags_add(d, e[i].path, 0, 0, r == 1 ? "not-utf8" : "bad-path", "path '%.100s': %s", e[i].path, why);
            err = PREP_ERR_INVALID;
        } else if (!media_type_ok(e[i].media_type, strlen(e[i].media_type))) {
            prep_diags_add(d, e[i].path, 0, 0, "manifest-field", "media type '%.60s' is not 'type/subtype[; name=value]'", e[i].media_type);
            err = PREP_ERR_INVALID;
        } else if (e[i].size > lim->max_object_bytes) {
            prep_diags_add(d, e[i].path, 0, 0, "limit", "%llu bytes; the limit is %llu", (unsigned long long)e[i].size,
                           (unsigned long long)lim->max_object_bytes);
            err = PREP_ERR_LIMIT;
        }
        total += e[i].size;
    }
    if (!err && total > lim->max_total_bytes) {
        prep_diags_add(d, name, 0, 0, "limit", "%llu bytes in all; the limit is %llu", (unsigned long long)total,
                       (unsigned long long)lim->max_total_bytes);
        err = PREP_ERR_LIMIT;
    }
    if (err) goto out;
    if (!sorted) qsort_r(idx, n, sizeof *idx, cmp_idx, (void *)e); /* a cut maker's files come sorted */
    for (size_t i = 1; i < n; i++) {
        if (!strcmp(e[idx[i - 1]].path, e[idx[i]].path)) {
            prep_diags_add(d, e[idx[i]].path, 0, 0, "duplicate-path", "path '%s' given twice", e[idx[i]].path);
            err = PREP_ERR_INVALID;
            goto out;
        }
    }
    char inst[32], until[32], kh[17];
    cut_format_instant(mt->instant, mt->instant_off, inst);
    cut_format_instant(mt->valid_until, mt->valid_off, until);
    prep_cut_keynum_hex(mt->keynum, kh);
    /* ~69 MB at national scale: grown by doubling, it was copied ~7 times over */
    if (!out->max || text + 1024 <= out->max - out->len) err = prep_buf_reserve(out, text + 1024);
    if (!err) err = prep_buf_printf(out,
                          CUT_MANIFEST_MAGIC "# process: %s\n# elections: %s\n# sequence: %llu\n# instant: %s\n# zone: "
                                             "%s\n# mode: %s\n# valid-until: %s\n# previous: %s\n# key: %s\n# files: "
                                             "%zu\n# bytes: %llu\n",
                          mt->process, mt->elections, (unsigned long long)mt->seq, inst, mt->zone,
                          prep_cut_mode_name(mt->mode), until, mt->previous[0] ? mt->previous : "none", kh, n,
                          (unsigned long long)total);
    for (size_t i = 0; i < n && !err; i++) err = cut_entry_put(out, &e[idx[i]]);
    if (!err) err = prep_buf_puts(out, "# end\n");
out:
    free(idx);
    return err;
}
