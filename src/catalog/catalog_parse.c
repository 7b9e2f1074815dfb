/* prep catalog: reading and validating the catalogue file (docs/formats/catalog.md).
 *
 * Two passes. The lexer cuts the file into lines, checks each (length, bytes, UTF-8),
 * drops comments and files every line under its [section]: key = value pairs for
 * [process] and [labels], header-mapped rows for the tables. Then the tables are read in
 * dependency order (parties, districts, municipalities, sections, casillas, elections,
 * coalitions, candidacies), whatever their order in the file, and the derived data is
 * built. Every problem is a located diag; reading goes on past it. The catalogue is
 * returned only when there was none. */
#include "catalog_internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum {
    SEC_PROCESS,
    SEC_LABELS,
    SEC_PARTIES,
    SEC_DISTRICTS,
    SEC_MUNIS,
    SEC_SECTIONS,
    SEC_CASILLAS,
    SEC_ELECTIONS,
    SEC_COALITIONS,
    SEC_CANDIDACIES,
    SEC_SHAPES,
    SEC_RULES,
    SEC_ENTITIES,
    SEC_COUNT
};
#define SEC_NONE (-1) /* before the first [section] */
#define SEC_SKIP (-2) /* inside an unknown or repeated section */

static const char *const sec_names[SEC_COUNT] = {
    "process",  "labels",   "parties",   "districts",  "municipalities",
    "sections", "casillas", "elections", "coalitions", "candidacies", "shapes", "rules", "entities",
};
static const int sec_required[SEC_COUNT] = {1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0};
/* tables that must have at least one row (when present) */
static const int sec_nonempty[SEC_COUNT] = {0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 1};

#define MAX_TCOLS 11      /* columns of the widest table */
#define MAX_FILE_COLS 32  /* fields read from one line; more is an error */

static const char *const tab_cols[SEC_COUNT][MAX_TCOLS + 1] = {
    [SEC_PARTIES] = {"id", "name", "color", "combo_name", NULL},
    [SEC_DISTRICTS] = {"id", "name", "entity", NULL},
    [SEC_MUNIS] = {"id", "name", "entity", NULL},
    [SEC_SECTIONS] = {"id", "district", "municipality", "entity", NULL},
    [SEC_CASILLAS] = {"section", "type", "number", "ext", "urban", "lista_nominal", "representatives",
                      "ballots", "entity", "district", "municipality", NULL},
    [SEC_ELECTIONS] = {"id", "name", "title", "scope", "acta_type", "parties", "special_acta_type",
                       "abroad_acta_type", "rp_acta_type", "independents", NULL},
    [SEC_ENTITIES] = {"id", "name", "circ", NULL},
    [SEC_COALITIONS] = {"election", "id", "name", "parties", NULL},
    [SEC_CANDIDACIES] = {"election", "unit", "contender", "name", NULL},
    [SEC_SHAPES] = {"municipality", "path", "entity", NULL}, /* the key: municipality (local) or entity */
};
static const uint32_t tab_max_rows[SEC_COUNT] = {
    [SEC_PARTIES] = PREP_CAT_MAX_PARTIES,         [SEC_DISTRICTS] = PREP_CAT_MAX_GEO,
    [SEC_MUNIS] = PREP_CAT_MAX_GEO,               [SEC_SECTIONS] = PREP_CAT_MAX_SECTIONS,
    [SEC_ENTITIES] = PREP_CAT_MAX_ENTITY_ID,
    [SEC_CASILLAS] = PREP_CAT_MAX_CASILLAS,       [SEC_ELECTIONS] = PREP_CAT_MAX_ELECTIONS,
    [SEC_COALITIONS] = PREP_CAT_MAX_COALITIONS,   [SEC_CANDIDACIES] = PREP_CAT_MAX_CANDIDACIES,
    [SEC_SHAPES] = PREP_CAT_MAX_GEO,
};

enum { PA_ID, PA_NAME, PA_COLOR, PA_COMBO };
enum { GE_ID, GE_NAME, GE_ENTITY };
enum { SE_ID, SE_DISTRICT, SE_MUNI, SE_ENTITY };
enum { CA_SECTION, CA_TYPE, CA_NUMBER, CA_EXT, CA_URBAN, CA_LN, CA_REPS, CA_BALLOTS, CA_ENTITY, CA_DISTRICT, CA_MUNI };
enum { EL_ID, EL_NAME, EL_TITLE, EL_SCOPE, EL_ACTA, EL_PARTIES, EL_SPECIAL, EL_ABROAD, EL_RP, EL_INDEP };
enum { EN_ID, EN_NAME, EN_CIRC };
/* Columns a table may leave out ("entity" in a local catalogue, the extra acta types, a
 * casilla's part of a split section). */
static int col_optional(int sec, const char *name)
{
    if (sec == SEC_CASILLAS && (!strcmp(name, "district") || !strcmp(name, "municipality"))) return 1;
    return !strcmp(name, "entity") || !strcmp(name, "special_acta_type") || !strcmp(name, "abroad_acta_type") ||
           !strcmp(name, "rp_acta_type") || !strcmp(name, "combo_name") || !strcmp(name, "independents");
}
enum { CO_ELECTION, CO_ID, CO_NAME, CO_PARTIES };
enum { CD_ELECTION, CD_UNIT, CD_CONTENDER, CD_NAME };
enum { SH_MUNI, SH_PATH, SH_ENTITY };

enum {
    PK_ID,
    PK_NAME,
    PK_INSTITUTE,
    PK_ENTITY_ID,
    PK_ENTITY,
    PK_TZ,
    PK_WOPEN,
    PK_WCLOSE,
    PK_CUT,
    PK_COMBO,
    PK_INDFIRST,
    PK_CSVSEP,
    PK_SPECIALS,
    PK_PCT,
    PK_MAPVB,
    PK_COUNT
};
static const char *const pk_names[PK_COUNT] = {
    "id",           "name",         "institute",          "entity_id",     "entity",
    "timezone",     "window_open",  "window_close",       "cut_interval",  "combo_prefix",
    "independents_first", "csv_separator", "participation_specials", "percent_decimals",
    "map_viewbox",
};
#define PK_N_REQUIRED 8 /* the first eight keys have no default */

enum { LK_SOME, LK_ALL, LK_EXCEEDS, LK_NOTDELIV, LK_NOTINST, LK_NOENV, LK_OUT, LK_COUNT };
static const char *const lk_names[LK_COUNT] = {
    "some_illegible",        "all_illegible",       "exceeds_ln",     "no_acta_not_delivered",
    "no_acta_not_installed", "no_acta_no_envelope", "out_of_catalog",
};
/* [rules]: the keys of prep_catalog_rules_set (catalog.h); "profile" is applied first. */
enum {
    RK_PROFILE, RK_INC, RK_NC_OUT, RK_NC_NOACTA, RK_SPECIALS, RK_CAP, RK_BALLOTS, RK_PUBLISHED, RK_OTHER, RK_COUNT
};
static const char *const rk_names[RK_COUNT] = {
    "profile",                "inconsistent",        "no_counted_out_of_catalog", "no_counted_no_acta",
    "participation_specials", "cap_representatives", "special_ballots",           "published",
    "other_casilla_types",
};
static const char *const lk_defaults[LK_COUNT] = {
    "ALGUN DATO ILEGIBLE O SIN DATO",
    "TODOS ILEGIBLES O SIN DATO",
    "EXCEDE LISTA NOMINAL",
    "SIN ACTA POR PAQUETE NO ENTREGADO",
    "SIN ACTA POR CASILLA NO INSTALADA",
    "SIN ACTA POR PAQUETE ENTREGADO SIN SOBRE",
    "FUERA DE CATALOGO",
};

typedef struct kv {
    const char *val; /* into the parse buffer */
    long line, col;
} kv;

typedef struct rawtab {
    long header_line;
    int usable;      /* header read and every required column present */
    unsigned present; /* bit k: table column k is in the header */
    uint32_t hcol[MAX_TCOLS]; /* byte column of table column k in the header */
    size_t n_file_cols;
    int map[MAX_FILE_COLS]; /* file field -> table column, -1 unknown */
    size_t n, cap;
    long *line;
    const char **f;  /* n * MAX_TCOLS, trimmed values */
    uint32_t *col;   /* n * MAX_TCOLS, 1-based byte columns */
    int overflow;
} rawtab;

typedef struct pctx {
    const char *file;
    prep_diags *d;
    size_t nerr;
    int f_parse, f_limit, f_oom;
    prep_catalog *c;
    long sec_line[SEC_COUNT]; /* line of [name]; 0 when absent */
    kv pk[PK_COUNT];
    kv lk[LK_COUNT];
    kv rk[RK_COUNT];
    rawtab t[SEC_COUNT];
    int broken[SEC_COUNT];    /* missing or unreadable: references into it are not reported */
    /* lookups while reading */
    cat_map m_party, m_district, m_muni, m_election, m_coal, m_sec;
    uint32_t *district_ids, *muni_ids; /* cat_geo_key(entity id, id) per row */
    uint32_t *sec_keys;       /* cat_geo_key(entity id, id) per section, sorted */
    long *sec_lines;          /* the line of each section (part) */
    uint32_t ent_by_id[PREP_CAT_MAX_ENTITY_ID + 1]; /* entity id -> index; PREP_CAT_NONE */
    long *el_line;            /* per election: its line */
    uint32_t (*el_parties)[PREP_CAT_MAX_PARTIES];
    uint32_t *el_np;
    uint32_t *el_max_indep;
    uint8_t *el_bad_scope;    /* scope unreadable: its units are unknown, its candidacies skipped */
    long *cand_line;
    uint32_t *cand_ccol;      /* column of the contender field */
} pctx;

#define F(tb, r, k) ((tb)->f[(r) * MAX_TCOLS + (k)])
#define C(tb, r, k) ((long)(tb)->col[(r) * MAX_TCOLS + (k)])

static int is_kind(const char *kind, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(kind, *list)) return 1;
    return 0;
}

__attribute__((format(printf, 5, 6))) static void perr(pctx *x, long line, long col, const char *kind,
                                                      const char *fmt, ...)
{
    static const char *const syntax_kinds[] = {
        "bad-version", "syntax",         "line-too-long", "bad-char",       "bad-utf8",
        "unknown-section", "repeated-section", "missing-section", "unknown-key", "repeated-key",
        "missing-key", "field-count",    "unknown-column", "repeated-column", "missing-column", NULL};
    static const char *const limit_kinds[] = {"too-many", "line-too-long", "path-too-long", NULL};
    x->nerr++;
    if (is_kind(kind, syntax_kinds)) x->f_parse = 1;
    if (is_kind(kind, limit_kinds)) x->f_limit = 1;
    va_list ap; /* prep_diags_vadd keeps at most max_keep and counts the rest */
    va_start(ap, fmt);
    prep_diags_vadd(x->d, x->file, line, col, kind, fmt, ap);
    va_end(ap);
}

static char *xdup(pctx *x, const char *s)
{
    char *r = strdup(s);
    if (!r) x->f_oom = 1;
    return r;
}

/* ================================================================ lexer */

/* Offset of the first byte that is a control character (other than tab) or breaks UTF-8,
 * or -1. *utf8 tells which. */
static long bad_byte(const unsigned char *p, size_t n, int *utf8)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                *utf8 = 0;
                return (long)i;
            }
            i++;
            continue;
        }
        size_t k;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) k = 1, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) k = 2, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) k = 3, cp = c & 0x07;
        else {
            *utf8 = 1;
            return (long)i;
        }
        if (n - i - 1 < k) {
            *utf8 = 1;
            return (long)i;
        }
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xC0) != 0x80) {
                *utf8 = 1;
                return (long)i;
            }
            cp = (cp << 6) | (p[i + j] & 0x3F);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            *utf8 = 1;
            return (long)i;
        }
        i += k + 1;
    }
    return -1;
}

static int is_ws(char ch) { return ch == ' ' || ch == '\t'; }

/* Cuts a trailing comment: '#' preceded by a blank and followed by a blank or the end. */
static void cut_comment(char *s)
{
    for (char *p = s + 1; *p; p++)
        if (*p == '#' && is_ws(p[-1]) && (p[1] == 0 || is_ws(p[1]))) {
            *p = 0;
            return;
        }
}

/* Trims blanks at the end, in place. */
static void rtrim(char *s)
{
    size_t n = strlen(s);
    while (n && is_ws(s[n - 1])) s[--n] = 0;
}

static int tab_grow(pctx *x, rawtab *t)
{
    if (t->n < t->cap) return 0;
    size_t nc = t->cap ? t->cap * 2 : 64;
    long *nl = realloc(t->line, nc * sizeof *nl);
    if (!nl) goto oom;
    t->line = nl;
    const char **nf = realloc(t->f, nc * MAX_TCOLS * sizeof *nf);
    if (!nf) goto oom;
    t->f = nf;
    uint32_t *ncol = realloc(t->col, nc * MAX_TCOLS * sizeof *ncol);
    if (!ncol) goto oom;
    t->col = ncol;
    t->cap = nc;
    return 0;
oom:
    x->f_oom = 1;
    return -1;
}

/* One table line: the header or a row. p is the trimmed line, base its original start. */
static void lex_table_line(pctx *x, int sec, char *base, char *p, long lineno)
{
    rawtab *t = &x->t[sec];
    char *fields[MAX_FILE_COLS];
    size_t starts[MAX_FILE_COLS];
    size_t n = prep_split(p, '|', 0, fields, starts, MAX_FILE_COLS);
    size_t off = (size_t)(p - base);
    if (!t->header_line) {
        t->header_line = lineno;
        if (n > MAX_FILE_COLS) {
            perr(x, lineno, 0, "too-many", "table [%s] header has %zu columns; at most %d", sec_names[sec], n,
                 MAX_FILE_COLS);
            return;
        }
        t->n_file_cols = n;
        int seen[MAX_TCOLS] = {0};
        int ok = 1;
        for (size_t i = 0; i < n; i++) {
            long col = (long)(off + starts[i] + strspn(fields[i], " \t") + 1);
            const char *name = prep_trim(fields[i]);
            t->map[i] = -1;
            int k;
            for (k = 0; tab_cols[sec][k]; k++)
                if (!strcmp(tab_cols[sec][k], name)) break;
            if (!tab_cols[sec][k]) {
                perr(x, lineno, col, "unknown-column", "unknown column '%s' in table [%s]", name, sec_names[sec]);
                continue;
            }
            if (seen[k]) {
                perr(x, lineno, col, "repeated-column", "column '%s' appears twice in table [%s]", name,
                     sec_names[sec]);
                continue;
            }
            seen[k] = 1;
            t->present |= 1u << k;
            t->hcol[k] = (uint32_t)col;
            t->map[i] = k;
        }
        for (int k = 0; tab_cols[sec][k]; k++)
            if (!seen[k] && !col_optional(sec, tab_cols[sec][k]) && !(sec == SEC_SHAPES && k == SH_MUNI)) {
                perr(x, lineno, 0, "missing-column", "table [%s] has no column '%s'", sec_names[sec],
                     tab_cols[sec][k]);
                ok = 0;
            }
        t->usable = ok;
        return;
    }
    if (!t->usable) return;
    if (n != t->n_file_cols) {
        perr(x, lineno, 0, "field-count", "row has %zu fields; the header of [%s] has %zu", n, sec_names[sec],
             t->n_file_cols);
        return;
    }
    if (t->n >= tab_max_rows[sec]) {
        if (!t->overflow)
            perr(x, lineno, 0, "too-many", "table [%s] has more than %u rows", sec_names[sec],
                 (unsigned)tab_max_rows[sec]);
        t->overflow = 1;
        return;
    }
    if (tab_grow(x, t)) return;
    size_t r = t->n++;
    t->line[r] = lineno;
    for (size_t k = 0; k < MAX_TCOLS; k++) { /* optional columns left out read as "" */
        t->f[r * MAX_TCOLS + k] = "";
        t->col[r * MAX_TCOLS + k] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (t->map[i] < 0) continue;
        uint32_t col = (uint32_t)(off + starts[i] + strspn(fields[i], " \t") + 1);
        t->f[r * MAX_TCOLS + (size_t)t->map[i]] = prep_trim(fields[i]);
        t->col[r * MAX_TCOLS + (size_t)t->map[i]] = col;
    }
}

static void lex_kv_line(pctx *x, int sec, char *base, char *p, long lineno)
{
    char *eq = strchr(p, '=');
    if (!eq) {
        perr(x, lineno, (long)(p - base) + 1, "syntax", "expected 'key = value' in [%s], got '%s'", sec_names[sec],
             p);
        return;
    }
    *eq = 0;
    char *key = prep_trim(p);
    char *v = eq + 1;
    v += strspn(v, " \t");
    long col = (long)(v - base) + 1;
    rtrim(v);
    if (!strcmp(v, "\"\"")) v[0] = 0; /* "" is the empty string */
    const char *const *names = sec == SEC_PROCESS ? pk_names : sec == SEC_RULES ? rk_names : lk_names;
    int nkeys = sec == SEC_PROCESS ? PK_COUNT : sec == SEC_RULES ? RK_COUNT : LK_COUNT;
    kv *slots = sec == SEC_PROCESS ? x->pk : sec == SEC_RULES ? x->rk : x->lk;
    for (int k = 0; k < nkeys; k++) {
        if (strcmp(names[k], key)) continue;
        if (slots[k].line) {
            perr(x, lineno, (long)(p - base) + 1, "repeated-key", "key '%s' already set on line %ld", key,
                 slots[k].line);
            return;
        }
        slots[k].val = v;
        slots[k].line = lineno;
        slots[k].col = col;
        return;
    }
    perr(x, lineno, (long)(p - base) + 1, "unknown-key", "unknown key '%s' in [%s]", key, sec_names[sec]);
}

static void lex(pctx *x, char *buf, size_t len)
{
    size_t pos = 0;
    long lineno = 0;
    int version_seen = 0;
    int cur = SEC_NONE;
    if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
        (unsigned char)buf[2] == 0xBF)
        pos = 3; /* UTF-8 byte order mark, as some editors write it */
    while (pos < len && !x->f_oom) {
        lineno++;
        char *line = buf + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t L = nl ? (size_t)(nl - line) : len - pos;
        pos += L + (nl ? 1 : 0);
        if (L && line[L - 1] == '\r') L--;
        if (L > PREP_CAT_MAX_LINE) {
            perr(x, lineno, 0, "line-too-long", "line of %zu bytes; at most %u", L, (unsigned)PREP_CAT_MAX_LINE);
            continue;
        }
        int utf8 = 0;
        long bad = bad_byte((const unsigned char *)line, L, &utf8);
        if (bad >= 0) {
            if (utf8)
                perr(x, lineno, bad + 1, "bad-utf8", "invalid UTF-8 byte 0x%02X", (unsigned char)line[bad]);
            else
                perr(x, lineno, bad + 1, "bad-char", "control character 0x%02X", (unsigned char)line[bad]);
            continue;
        }
        line[L] = 0;
        char *p = line + strspn(line, " \t");
        if (*p == '#' || *p == 0) continue;
        cut_comment(p);
        rtrim(p);
        if (!version_seen) {
            version_seen = 1;
            if (!strcmp(p, "prep-catalog 1")) continue;
            if (!strncmp(p, "prep-catalog", 12)) {
                perr(x, lineno, 1, "bad-version", "unsupported catalogue format '%s'; this reader knows 'prep-catalog 1'",
                     p);
                continue;
            }
            perr(x, lineno, 1, "bad-version", "the first line must be 'prep-catalog 1'");
            if (*p != '[') continue;
        }
        if (*p == '[') {
            size_t n = strlen(p);
            if (p[n - 1] != ']') {
                perr(x, lineno, (long)(p - line) + 1, "syntax", "section header '%s' lacks the closing ']'", p);
                cur = SEC_SKIP;
                continue;
            }
            p[n - 1] = 0;
            char *name = prep_trim(p + 1);
            int s;
            for (s = 0; s < SEC_COUNT; s++)
                if (!strcmp(sec_names[s], name)) break;
            if (s == SEC_COUNT) {
                perr(x, lineno, (long)(p - line) + 1, "unknown-section", "unknown section [%s]", name);
                cur = SEC_SKIP;
            } else if (x->sec_line[s]) {
                perr(x, lineno, (long)(p - line) + 1, "repeated-section", "section [%s] already started on line %ld",
                     name, x->sec_line[s]);
                cur = SEC_SKIP;
            } else {
                x->sec_line[s] = lineno;
                cur = s;
            }
            continue;
        }
        if (cur == SEC_SKIP) continue;
        if (cur == SEC_NONE) {
            perr(x, lineno, (long)(p - line) + 1, "syntax", "line outside any [section]");
            continue;
        }
        if (cur == SEC_PROCESS || cur == SEC_LABELS || cur == SEC_RULES) lex_kv_line(x, cur, line, p, lineno);
        else lex_table_line(x, cur, line, p, lineno);
    }
    if (!version_seen) perr(x, 0, 0, "bad-version", "empty catalogue: no 'prep-catalog 1' line");
    for (int s = 0; s < SEC_COUNT; s++) {
        if (!x->sec_line[s]) {
            if (sec_required[s] && version_seen) perr(x, 0, 0, "missing-section", "no [%s] section", sec_names[s]);
            x->broken[s] = 1;
            continue;
        }
        if (s == SEC_PROCESS || s == SEC_LABELS || s == SEC_RULES) continue;
        rawtab *t = &x->t[s];
        if (t->header_line && !t->usable) x->broken[s] = 1;
        else if (sec_nonempty[s] && t->n == 0) {
            perr(x, x->sec_line[s], 0, "empty-section", "section [%s] has no rows", sec_names[s]);
            x->broken[s] = 1;
        }
    }
}

/* ================================================================ values */

static int tz_exists(const char *tz)
{
    size_t n = strlen(tz);
    if (n == 0 || n > 64 || tz[0] == '/') return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = tz[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '-' || ch == '+' || ch == '/'))
            return 0;
        if ((i == 0 || tz[i - 1] == '/') && (ch == '/' || ch == '-')) return 0;
    }
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir) dir = "/usr/share/zoneinfo";
    char path[512];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, tz) >= sizeof path) return 0;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char magic[4];
    size_t r = fread(magic, 1, 4, f);
    fclose(f);
    return r == 4 && !memcmp(magic, "TZif", 4);
}

static int valid_color(const char *s)
{
    if (s[0] != '#' || strlen(s) != 7) return 0;
    for (int i = 1; i < 7; i++) {
        char ch = s[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'))) return 0;
    }
    return 1;
}

/* Strict unsigned decimal: digits only (the fields are already trimmed). */
static int parse_num(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    if (!*s) return -1;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9') return -1;
    uint32_t v;
    if (prep_parse_u32(s, &v) || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* CAND_IND_n with n in 1..PREP_CAT_MAX_INDEP, no leading zero: n, else 0. */
static uint32_t indep_number(const char *s)
{
    if (strncmp(s, "CAND_IND_", 9)) return 0;
    s += 9;
    if (s[0] == '0') return 0;
    uint32_t n;
    if (parse_num(s, 1, PREP_CAT_MAX_INDEP, &n)) return 0;
    return n;
}

static int reserved_id(const char *s)
{
    return !strcmp(s, "NO_REGISTRADOS") || !strcmp(s, "NULOS") || !strncmp(s, "CAND_IND_", 9);
}

/* Next space-separated token of *p (at most cap-1 bytes copied; longer ones are cut and
 * then fail as ids); *start gets where it begins. Returns 0 at the end. */
static int next_token(const char **p, char *tok, size_t cap, const char **start)
{
    const char *s = *p;
    while (is_ws(*s)) s++;
    if (!*s) return 0;
    const char *b = s;
    while (*s && !is_ws(*s)) s++;
    size_t n = (size_t)(s - b);
    if (n >= cap) n = cap - 1;
    memcpy(tok, b, n);
    tok[n] = 0;
    *start = b;
    *p = s;
    return 1;
}

/* ================================================================ [process], [labels] */

static void do_process(pctx *x)
{
    prep_catalog *c = x->c;
    c->cut_interval = 300;
    c->csv_sep = '|';
    prep_catalog_rules_preset("ine", &c->rules);
    c->pct_decimals = 4;
    c->independents_first = 0;
    c->window_open = c->window_close = PREP_TIME_NONE;
    const kv *k = x->pk;
    if (x->sec_line[SEC_PROCESS])
        for (int i = 0; i < PK_N_REQUIRED; i++)
            if (!k[i].line)
                perr(x, x->sec_line[SEC_PROCESS], 0, "missing-key", "[process] has no '%s'", pk_names[i]);

    if (k[PK_ID].line) {
        if (!cat_valid_id(k[PK_ID].val))
            perr(x, k[PK_ID].line, k[PK_ID].col, "bad-value",
                 "process id '%s' must be 1..%u characters of A-Z a-z 0-9 _ -", k[PK_ID].val,
                 (unsigned)PREP_CAT_MAX_ID_LEN);
        c->process_id = xdup(x, k[PK_ID].val);
    }
    static const int text_keys[] = {PK_NAME, PK_INSTITUTE, PK_ENTITY, PK_TZ};
    char **text_dst[] = {&c->process_name, &c->institute, &c->entity_name, &c->timezone};
    for (size_t i = 0; i < PREP_ARRAY_LEN(text_keys); i++) {
        const kv *v = &k[text_keys[i]];
        if (!v->line) continue;
        if (!*v->val) perr(x, v->line, v->col, "bad-value", "'%s' is empty", pk_names[text_keys[i]]);
        *text_dst[i] = xdup(x, v->val);
    }
    if (k[PK_ENTITY_ID].line && parse_num(k[PK_ENTITY_ID].val, 0, PREP_CAT_MAX_ENTITY_ID, &c->entity_id))
        perr(x, k[PK_ENTITY_ID].line, k[PK_ENTITY_ID].col, "bad-value",
             "entity_id '%s' must be a number 0..%u (0: a national process)", k[PK_ENTITY_ID].val,
             (unsigned)PREP_CAT_MAX_ENTITY_ID);
    int tz_ok = 0;
    if (k[PK_TZ].line) {
        tz_ok = tz_exists(k[PK_TZ].val);
        if (!tz_ok)
            perr(x, k[PK_TZ].line, k[PK_TZ].col, "bad-timezone", "time zone '%s' is not in the tz database",
                 k[PK_TZ].val);
    }
    const char *tz = tz_ok ? k[PK_TZ].val : "UTC";
    int times_ok = 1;
    if (k[PK_WOPEN].line && prep_time_parse(k[PK_WOPEN].val, tz, &c->window_open)) {
        perr(x, k[PK_WOPEN].line, k[PK_WOPEN].col, "bad-value", "window_open '%s' is not a time 'YYYY-MM-DD HH:MM'",
             k[PK_WOPEN].val);
        times_ok = 0;
    }
    if (k[PK_WCLOSE].line && prep_time_parse(k[PK_WCLOSE].val, tz, &c->window_close)) {
        perr(x, k[PK_WCLOSE].line, k[PK_WCLOSE].col, "bad-value",
             "window_close '%s' is not a time 'YYYY-MM-DD HH:MM'", k[PK_WCLOSE].val);
        times_ok = 0;
    }
    if (times_ok && k[PK_WOPEN].line && k[PK_WCLOSE].line && c->window_close <= c->window_open)
        perr(x, k[PK_WCLOSE].line, k[PK_WCLOSE].col, "bad-window",
             "window_close '%s' is not after window_open '%s'", k[PK_WCLOSE].val, k[PK_WOPEN].val);
    if (k[PK_CUT].line && parse_num(k[PK_CUT].val, 1, 86400, &c->cut_interval))
        perr(x, k[PK_CUT].line, k[PK_CUT].col, "bad-value", "cut_interval '%s' must be 1..86400 seconds",
             k[PK_CUT].val);
    const char *prefix = "C_";
    if (k[PK_COMBO].line) {
        prefix = k[PK_COMBO].val;
        if (*prefix && (!cat_valid_id(prefix) || strlen(prefix) > 16)) {
            perr(x, k[PK_COMBO].line, k[PK_COMBO].col, "bad-value",
                 "combo_prefix '%s' must be \"\" or up to 16 characters of A-Z a-z 0-9 _ -", prefix);
            prefix = "C_";
        }
    }
    c->combo_prefix = xdup(x, prefix);
    if (k[PK_INDFIRST].line) {
        const char *v = k[PK_INDFIRST].val;
        if (!strcmp(v, "yes")) c->independents_first = 1;
        else if (strcmp(v, "no"))
            perr(x, k[PK_INDFIRST].line, k[PK_INDFIRST].col, "bad-value", "independents_first '%s' must be yes or no",
                 v);
    }
    if (k[PK_CSVSEP].line) {
        const char *v = k[PK_CSVSEP].val;
        if (!strcmp(v, "|") || !strcmp(v, ",")) c->csv_sep = v[0];
        else perr(x, k[PK_CSVSEP].line, k[PK_CSVSEP].col, "bad-value", "csv_separator '%s' must be | or ,", v);
    }
    if (k[PK_PCT].line && parse_num(k[PK_PCT].val, 0, 9, &c->pct_decimals))
        perr(x, k[PK_PCT].line, k[PK_PCT].col, "bad-value", "percent_decimals '%s' must be 0..9", k[PK_PCT].val);
    if (k[PK_MAPVB].line) {
        /* four numbers separated by blanks: min-x min-y width height */
        const char *p = k[PK_MAPVB].val, *start;
        char tok[16];
        uint32_t v[4];
        int n = 0, ok = 1;
        while (ok && next_token(&p, tok, sizeof tok, &start)) {
            if (n == 4 || parse_num(tok, n < 2 ? 0 : 1, PREP_CAT_MAX_MAP_COORD, &v[n])) ok = 0;
            else n++;
        }
        if (!ok || n != 4)
            perr(x, k[PK_MAPVB].line, k[PK_MAPVB].col, "bad-value",
                 "map_viewbox '%s' must be four numbers 'MIN_X MIN_Y WIDTH HEIGHT', each 0..%u, width and "
                 "height at least 1",
                 k[PK_MAPVB].val, (unsigned)PREP_CAT_MAX_MAP_COORD);
        else {
            memcpy(c->map_viewbox, v, sizeof v);
            c->has_map = 1;
        }
    }
}

/* [rules], then [process] participation_specials (kept there for catalogues written
 * before [rules] existed; both set the same rule, so giving both is an error). */
static void do_rules(pctx *x)
{
    prep_rules *r = &x->c->rules;
    char msg[256];
    for (int i = 0; i < RK_COUNT; i++) {
        const kv *v = &x->rk[i];
        if (v->line && prep_catalog_rules_set(r, rk_names[i], v->val, msg, sizeof msg))
            perr(x, v->line, v->col, "bad-value", "%s", msg);
    }
    x->c->rules_published_line = x->rk[RK_PUBLISHED].line;
    const kv *sp = &x->pk[PK_SPECIALS];
    if (sp->line) {
        if (x->rk[RK_SPECIALS].line)
            perr(x, sp->line, sp->col, "repeated-key",
                 "participation_specials is set in [rules] on line %ld; set it in one place",
                 x->rk[RK_SPECIALS].line);
        else if (prep_catalog_rules_set(r, "participation_specials", sp->val, msg, sizeof msg))
            perr(x, sp->line, sp->col, "bad-value", "%s", msg);
    }
}

static void do_labels(pctx *x)
{
    char **dst[LK_COUNT] = {
        &x->c->labels.some_illegible,        &x->c->labels.all_illegible,       &x->c->labels.exceeds_ln,
        &x->c->labels.no_acta_not_delivered, &x->c->labels.no_acta_not_installed,
        &x->c->labels.no_acta_no_envelope,   &x->c->labels.out_of_catalog,
    };
    for (int i = 0; i < LK_COUNT; i++) {
        const kv *v = &x->lk[i];
        const char *val = lk_defaults[i];
        if (v->line) {
            if (!*v->val) perr(x, v->line, v->col, "bad-value", "label '%s' is empty", lk_names[i]);
            else val = v->val;
        }
        *dst[i] = xdup(x, val);
    }
}

/* ================================================================ tables */

static int eq_u32arr(const void *ctx, uint32_t idx, const void *key)
{
    return ((const uint32_t *)ctx)[idx] == *(const uint32_t *)key;
}

static void do_parties(pctx *x)
{
    prep_catalog *c = x->c;
    rawtab *t = &x->t[SEC_PARTIES];
    c->parties = calloc(t->n ? t->n : 1, sizeof *c->parties);
    if (!c->parties || cat_map_init(&x->m_party, t->n)) {
        x->f_oom = 1;
        return;
    }
    for (size_t r = 0; r < t->n && !x->f_oom; r++) {
        long ln = t->line[r];
        const char *id = F(t, r, PA_ID), *name = F(t, r, PA_NAME), *color = F(t, r, PA_COLOR);
        if (!cat_valid_id(id) || reserved_id(id)) {
            perr(x, ln, C(t, r, PA_ID), "bad-value",
                 reserved_id(id) ? "party id '%s' is a reserved column name"
                                 : "party id '%s' must be 1..32 characters of A-Z a-z 0-9 _ -",
                 id);
            continue;
        }
        uint32_t h = cat_hash_str(id);
        uint32_t prev = cat_map_find(&x->m_party, h, cat_eq_party, c, id);
        if (prev != PREP_CAT_NONE) {
            perr(x, ln, C(t, r, PA_ID), "duplicate-id", "party '%s' is already defined", id);
            continue;
        }
        if (!*name) perr(x, ln, C(t, r, PA_NAME), "bad-value", "party '%s' has an empty name", id);
        if (!valid_color(color))
            perr(x, ln, C(t, r, PA_COLOR), "bad-value", "color '%s' of party '%s' is not #RRGGBB", color, id);
        const char *cn = F(t, r, PA_COMBO);
        if (*cn && (!cat_valid_id(cn) || reserved_id(cn) || !strcmp(cn, id))) {
            perr(x, ln, C(t, r, PA_COMBO), "bad-value",
                 "combo_name '%s' of party '%s' must be 1..32 characters of A-Z a-z 0-9 _ -, not a reserved column "
                 "name, and not its id",
                 cn, id);
            cn = "";
        }
        /* a combination spelling names one party: not another's id or spelling */
        for (uint32_t j = 0; j < c->n_parties; j++) {
            const prep_cat_party *q = &c->parties[j];
            const char *clash = *cn && (!strcmp(cn, q->id) || (q->combo_name && !strcmp(cn, q->combo_name))) ? cn
                                : q->combo_name && !strcmp(id, q->combo_name)                            ? id
                                                                                                         : NULL;
            if (clash) {
                perr(x, ln, C(t, r, clash == id ? PA_ID : PA_COMBO), "duplicate-id",
                     "'%s' of party '%s' already names party '%s'", clash, id, q->id);
                break;
            }
        }
        prep_cat_party *p = &c->parties[c->n_parties];
        p->id = xdup(x, id);
        p->name = xdup(x, name);
        p->color = xdup(x, color);
        p->combo_name = *cn ? xdup(x, cn) : NULL;
        p->seniority = c->n_parties;
        c->n_parties++;
        if (!p->id) return;
        if (cat_map_put(&x->m_party, h, c->n_parties - 1)) x->f_oom = 1;
    }
}

/* Districts and municipalities: same table shape, parallel arrays out. */
/* ================================================================ [entities] */

static const int entity_tables[] = {SEC_DISTRICTS, SEC_MUNIS, SEC_SECTIONS, SEC_CASILLAS};
static const int entity_col[] = {GE_ENTITY, GE_ENTITY, SE_ENTITY, CA_ENTITY};

/* [entities] when the process is national (entity_id 0); otherwise the one entity of
 * [process]. A national catalogue names the entity of every district, municipality,
 * section and casilla. */
static void do_entities(pctx *x)
{
    prep_catalog *c = x->c;
    rawtab *t = &x->t[SEC_ENTITIES];
    for (uint32_t i = 0; i <= PREP_CAT_MAX_ENTITY_ID; i++) x->ent_by_id[i] = PREP_CAT_NONE;
    int table = x->sec_line[SEC_ENTITIES] != 0;
    uint32_t v;
    int have_id = x->pk[PK_ENTITY_ID].line != 0 && !parse_num(x->pk[PK_ENTITY_ID].val, 0, PREP_CAT_MAX_ENTITY_ID, &v);
    c->national = table;
    if (table && have_id && c->entity_id != 0)
        perr(x, x->sec_line[SEC_ENTITIES], 0, "bad-value",
             "[entities] is for a national process: [process] entity_id must be 0, not %u", (unsigned)c->entity_id);
    if (!table && have_id && c->entity_id == 0)
        perr(x, x->pk[PK_ENTITY_ID].line, x->pk[PK_ENTITY_ID].col, "missing-section",
             "entity_id 0 (a national process) needs an [entities] table");
    size_t cap = table ? (t->n ? t->n : 1) : 1;
    c->entities = calloc(cap, sizeof *c->entities);
    if (!c->entities) {
        x->f_oom = 1;
        return;
    }
    if (!table) {
        c->entities[0].id = c->entity_id;
        c->entities[0].name = xdup(x, c->entity_name ? c->entity_name : "");
        c->entities[0].slug = prep_slugify(c->entity_name ? c->entity_name : "");
        if (!c->entities[0].slug) x->f_oom = 1;
        c->n_entities = 1;
        if (c->entity_id <= PREP_CAT_MAX_ENTITY_ID) x->ent_by_id[c->entity_id] = 0;
        return;
    }
    for (size_t r = 0; r < t->n && !x->f_oom; r++) {
        long ln = t->line[r];
        uint32_t id, circ;
        if (parse_num(F(t, r, EN_ID), 1, PREP_CAT_MAX_ENTITY_ID, &id)) {
            perr(x, ln, C(t, r, EN_ID), "bad-value", "entity id '%s' must be a number 1..%u", F(t, r, EN_ID),
                 (unsigned)PREP_CAT_MAX_ENTITY_ID);
            continue;
        }
        if (x->ent_by_id[id] != PREP_CAT_NONE) {
            perr(x, ln, C(t, r, EN_ID), "duplicate-id", "entity %u is already defined", (unsigned)id);
            continue;
        }
        if (parse_num(F(t, r, EN_CIRC), 0, 99, &circ)) {
            perr(x, ln, C(t, r, EN_CIRC), "bad-value", "circ '%s' must be a number 0..99 (0: none)", F(t, r, EN_CIRC));
            circ = 0;
        }
        const char *name = F(t, r, EN_NAME);
        char *slug = prep_slugify(name);
        if (!slug) {
            x->f_oom = 1;
            break;
        }
        if (!*slug)
            perr(x, ln, C(t, r, EN_NAME), "bad-value", "entity %u needs a name with letters or digits, got '%s'",
                 (unsigned)id, name);
        for (uint32_t j = 0; j < c->n_entities && *slug; j++)
            if (!strcmp(c->entities[j].slug, slug))
                perr(x, ln, C(t, r, EN_NAME), "duplicate-slug", "entity %u '%s' has the same URL name '%s' as entity %u",
                     (unsigned)id, name, slug, (unsigned)c->entities[j].id);
        prep_cat_entity *en = &c->entities[c->n_entities];
        en->id = id;
        en->name = xdup(x, name);
        en->slug = slug;
        en->circ = circ;
        x->ent_by_id[id] = c->n_entities++;
    }
    for (size_t i = 0; i < PREP_ARRAY_LEN(entity_tables); i++) {
        const rawtab *tt = &x->t[entity_tables[i]];
        if (tt->header_line && tt->usable && !(tt->present & (1u << entity_col[i])))
            perr(x, tt->header_line, 0, "missing-column",
                 "table [%s] has no column 'entity': a national catalogue ([entities]) names each row's entity",
                 sec_names[entity_tables[i]]);
    }
}

/* The entity (index) of row r of table t, whose entity column is k: the column's value
 * in a national catalogue, the one entity otherwise (where the column, when given, must
 * name it). PREP_CAT_NONE with a diag when it names no entity. */
static uint32_t row_entity(pctx *x, const rawtab *t, size_t r, int k)
{
    const prep_catalog *c = x->c;
    const char *v = F(t, r, k);
    if (!(t->present & (1u << k))) return c->national ? PREP_CAT_NONE : 0;
    uint32_t id;
    if (parse_num(v, 1, PREP_CAT_MAX_ENTITY_ID, &id) || x->ent_by_id[id] == PREP_CAT_NONE) {
        if (c->national || !c->n_entities)
            perr(x, t->line[r], C(t, r, k), "unknown-reference", "unknown entity '%s'", v);
        else
            perr(x, t->line[r], C(t, r, k), "unknown-reference",
                 "entity '%s' is not this catalogue's entity (%u, [process] entity_id)", v, (unsigned)c->entity_id);
        return PREP_CAT_NONE;
    }
    return x->ent_by_id[id];
}

/* Geo slugs are unique within their entity. */
typedef struct slug_ctx {
    char **slugs;
    const uint32_t *ents;
} slug_ctx;

static int eq_slug_in_entity(const void *ctx, uint32_t idx, const void *key)
{
    const slug_ctx *sc = ctx;
    const slug_ctx *k = key; /* slugs[0] and ents[0]: the candidate */
    return sc->ents[idx] == k->ents[0] && !strcmp(sc->slugs[idx], k->slugs[0]);
}

static uint32_t do_geo(pctx *x, int sec, const char *what, uint32_t **ids_out, uint32_t **ents_out,
                       char ***names_out, char ***slugs_out, cat_map *m)
{
    rawtab *t = &x->t[sec];
    size_t cap = t->n ? t->n : 1;
    uint32_t *ids = calloc(cap, sizeof *ids);
    uint32_t *ents = calloc(cap, sizeof *ents);
    char **names = calloc(cap, sizeof *names);
    char **slugs = calloc(cap, sizeof *slugs);
    cat_map ms = {0};
    *ids_out = ids;
    *ents_out = ents;
    *names_out = names;
    *slugs_out = slugs;
    if (!ids || !ents || !names || !slugs || cat_map_init(m, t->n) || cat_map_init(&ms, t->n)) {
        x->f_oom = 1;
        cat_map_free(&ms);
        return 0;
    }
    slug_ctx sc = {slugs, ents};
    uint32_t n = 0;
    for (size_t r = 0; r < t->n && !x->f_oom; r++) {
        long ln = t->line[r];
        const char *sid = F(t, r, GE_ID), *name = F(t, r, GE_NAME);
        uint32_t id;
        if (parse_num(sid, 0, PREP_CAT_MAX_GEO_ID, &id)) {
            perr(x, ln, C(t, r, GE_ID), "bad-value", "%s id '%s' must be a number 0..%u", what, sid,
                 (unsigned)PREP_CAT_MAX_GEO_ID);
            continue;
        }
        uint32_t ei = row_entity(x, t, r, GE_ENTITY);
        if (ei == PREP_CAT_NONE) continue;
        uint32_t key = cat_geo_key(x->c->entities[ei].id, id);
        uint32_t h = cat_hash_u32(key);
        if (cat_map_find(m, h, eq_u32arr, ids, &key) != PREP_CAT_NONE) {
            perr(x, ln, C(t, r, GE_ID), "duplicate-id", "%s %u is already defined%s", what, (unsigned)id,
                 x->c->national ? " in this entity" : "");
            continue;
        }
        char *slug = prep_slugify(name);
        if (!*name || !*slug) {
            perr(x, ln, C(t, r, GE_NAME), "bad-value", "%s %u needs a name with letters or digits, got '%s'", what,
                 (unsigned)id, name);
        } else {
            uint32_t hs = cat_hash_str(slug) ^ cat_hash_u32(ei);
            slug_ctx k = {&slug, &ei};
            uint32_t other = cat_map_find(&ms, hs, eq_slug_in_entity, &sc, &k);
            if (other != PREP_CAT_NONE)
                perr(x, ln, C(t, r, GE_NAME), "duplicate-slug",
                     "%s %u '%s' has the same URL name '%s' as %s %u", what, (unsigned)id, name, slug, what,
                     (unsigned)(ids[other] & 0xFFFFFu));
            else if (cat_map_put(&ms, hs, n))
                x->f_oom = 1;
        }
        ids[n] = key;
        ents[n] = ei;
        slugs[n] = slug;
        names[n] = xdup(x, name);
        n++;
        if (cat_map_put(m, h, n - 1)) x->f_oom = 1;
    }
    cat_map_free(&ms);
    return n;
}

static void do_districts_munis(pctx *x)
{
    prep_catalog *c = x->c;
    char **names, **slugs;
    uint32_t *ents;
    uint32_t n = do_geo(x, SEC_DISTRICTS, "district", &x->district_ids, &ents, &names, &slugs, &x->m_district);
    c->districts = calloc(n ? n : 1, sizeof *c->districts);
    if (c->districts) {
        for (uint32_t i = 0; i < n; i++)
            c->districts[i] = (prep_cat_district){ents[i], x->district_ids[i] & 0xFFFFFu, names[i], slugs[i]};
        c->n_districts = n;
    } else {
        x->f_oom = 1;
        for (uint32_t i = 0; i < n; i++) free(names[i]), free(slugs[i]);
    }
    free(names);
    free(slugs);
    free(ents);
    if (x->f_oom) return;
    n = do_geo(x, SEC_MUNIS, "municipality", &x->muni_ids, &ents, &names, &slugs, &x->m_muni);
    c->municipalities = calloc(n ? n : 1, sizeof *c->municipalities);
    if (c->municipalities) {
        for (uint32_t i = 0; i < n; i++)
            c->municipalities[i] =
                (prep_cat_municipality){ents[i], x->muni_ids[i] & 0xFFFFFu, names[i], slugs[i]};
        c->n_municipalities = n;
    } else {
        x->f_oom = 1;
        for (uint32_t i = 0; i < n; i++) free(names[i]), free(slugs[i]);
    }
    free(names);
    free(slugs);
    free(ents);
}

/* The district, municipality or section (index, by sec) with id text s in entity ei. */
static uint32_t find_geo(pctx *x, int sec, uint32_t ei, const char *s, uint32_t *id)
{
    uint32_t max = sec == SEC_SECTIONS ? PREP_CAT_MAX_SECTION_ID : PREP_CAT_MAX_GEO_ID;
    if (ei == PREP_CAT_NONE || parse_num(s, 0, max, id)) return PREP_CAT_NONE;
    uint32_t key = cat_geo_key(x->c->entities[ei].id, *id);
    const cat_map *m = sec == SEC_DISTRICTS ? &x->m_district : sec == SEC_MUNIS ? &x->m_muni : &x->m_sec;
    const uint32_t *keys = sec == SEC_DISTRICTS ? x->district_ids : sec == SEC_MUNIS ? x->muni_ids : x->sec_keys;
    return cat_map_find(m, cat_hash_u32(key), eq_u32arr, keys, &key);
}

typedef struct sec_row {
    prep_cat_section s;
    uint32_t key;
    long line;
    long col;
} sec_row;

static int cmp_sec(const void *a, const void *b)
{
    const sec_row *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

static void do_sections(pctx *x)
{
    prep_catalog *c = x->c;
    rawtab *t = &x->t[SEC_SECTIONS];
    sec_row *rows = calloc(t->n ? t->n : 1, sizeof *rows);
    c->sections = calloc(t->n ? t->n : 1, sizeof *c->sections);
    x->sec_keys = calloc(t->n ? t->n : 1, sizeof *x->sec_keys);
    x->sec_lines = calloc(t->n ? t->n : 1, sizeof *x->sec_lines);
    if (!rows || !c->sections || !x->sec_keys || !x->sec_lines || cat_map_init(&x->m_sec, t->n)) {
        x->f_oom = 1;
        free(rows);
        return;
    }
    size_t n = 0;
    for (size_t r = 0; r < t->n; r++) {
        long ln = t->line[r];
        const char *sid = F(t, r, SE_ID);
        uint32_t id, gid;
        if (parse_num(sid, 0, PREP_CAT_MAX_SECTION_ID, &id)) {
            perr(x, ln, C(t, r, SE_ID), "bad-value", "section id '%s' must be a number 0..%u", sid,
                 (unsigned)PREP_CAT_MAX_SECTION_ID);
            continue;
        }
        uint32_t ei = row_entity(x, t, r, SE_ENTITY);
        if (ei == PREP_CAT_NONE) continue;
        sec_row *w = &rows[n++];
        w->line = ln;
        w->col = C(t, r, SE_ID);
        w->key = cat_geo_key(c->entities[ei].id, id);
        w->s.entity = ei;
        w->s.id = id;
        w->s.district = find_geo(x, SEC_DISTRICTS, ei, F(t, r, SE_DISTRICT), &gid);
        if (w->s.district == PREP_CAT_NONE && !x->broken[SEC_DISTRICTS])
            perr(x, ln, C(t, r, SE_DISTRICT), "unknown-reference", "section %u: unknown district '%s'", (unsigned)id,
                 F(t, r, SE_DISTRICT));
        w->s.municipality = find_geo(x, SEC_MUNIS, ei, F(t, r, SE_MUNI), &gid);
        if (w->s.municipality == PREP_CAT_NONE && !x->broken[SEC_MUNIS])
            perr(x, ln, C(t, r, SE_MUNI), "unknown-reference", "section %u: unknown municipality '%s'",
                 (unsigned)id, F(t, r, SE_MUNI));
    }
    /* Sorted by (entity id, section id); equal keys are adjacent, the first line first.
     * A key again in another district or municipality is a part of a split section
     * (catalog.h); the map finds the first part. */
    qsort(rows, n, sizeof *rows, cmp_sec);
    uint32_t k = 0, first = 0;
    for (size_t i = 0; i < n && !x->f_oom; i++) {
        if (k && x->sec_keys[k - 1] == rows[i].key) {
            uint32_t j = first;
            while (j < k && (c->sections[j].district != rows[i].s.district ||
                             c->sections[j].municipality != rows[i].s.municipality))
                j++;
            if (j < k) {
                perr(x, rows[i].line, rows[i].col, "duplicate-id",
                     "section %u is already defined%s in this district and municipality on line %ld",
                     (unsigned)rows[i].s.id, c->national ? " in this entity" : "", x->sec_lines[j]);
                continue;
            }
            if (k - first >= PREP_CAT_MAX_SECTION_PARTS) {
                perr(x, rows[i].line, rows[i].col, "too-many",
                     "section %u is split in more than %u parts (line %ld...)", (unsigned)rows[i].s.id,
                     PREP_CAT_MAX_SECTION_PARTS, x->sec_lines[first]);
                continue;
            }
        } else {
            first = k;
            if (cat_map_put(&x->m_sec, cat_hash_u32(rows[i].key), k)) x->f_oom = 1;
        }
        c->sections[k] = rows[i].s;
        x->sec_keys[k] = rows[i].key;
        x->sec_lines[k] = rows[i].line;
        k++;
    }
    c->n_sections = k;
    free(rows);
}

/* A casilla row's field k, "" when its table has no such column. */
static const char *opt_field(const rawtab *t, size_t r, int k)
{
    return (t->present & (1u << k)) ? F(t, r, k) : "";
}

/* The part of section sidx (its first part) that casilla row r is in: sidx when the
 * section is not split and the row names no other place, else the one part its district
 * and municipality columns name; PREP_CAT_NONE with a diag when they name none, or do
 * not tell the parts apart. */
static uint32_t casilla_part(pctx *x, const rawtab *t, size_t r, uint32_t sidx)
{
    const prep_catalog *c = x->c;
    const char *fd = opt_field(t, r, CA_DISTRICT), *fm = opt_field(t, r, CA_MUNI);
    uint32_t did = 0, mid = 0;
    long ln = t->line[r];
    int bad_d = fd[0] && parse_num(fd, 0, PREP_CAT_MAX_GEO_ID, &did);
    int bad_m = fm[0] && parse_num(fm, 0, PREP_CAT_MAX_GEO_ID, &mid);
    if (bad_d || bad_m) {
        perr(x, ln, C(t, r, bad_d ? CA_DISTRICT : CA_MUNI), "bad-value", "casilla: %s '%s' is not an id",
             bad_d ? "district" : "municipality", bad_d ? fd : fm);
        return PREP_CAT_NONE;
    }
    uint32_t first, n = prep_catalog_section_parts(c, sidx, &first, NULL), found = PREP_CAT_NONE, hits = 0;
    for (uint32_t p = first; p < first + n; p++) {
        const prep_cat_section *s = &c->sections[p];
        if ((fd[0] && cat_section_district_id(c, s) != did) || (fm[0] && cat_section_muni_id(c, s) != mid))
            continue;
        found = p;
        hits++;
    }
    const prep_cat_section *s0 = &c->sections[first];
    if (hits == 1) return found;
    if (!hits && n == 1)
        perr(x, ln, C(t, r, fd[0] && cat_section_district_id(c, s0) != did ? CA_DISTRICT : CA_MUNI),
             "unknown-reference",
             "casilla: section %u is in district %u and municipality %u, not district '%s' / municipality '%s'",
             (unsigned)s0->id, (unsigned)cat_section_district_id(c, s0), (unsigned)cat_section_muni_id(c, s0), fd,
             fm);
    else if (!hits)
        perr(x, ln, C(t, r, CA_SECTION), "unknown-reference",
             "casilla: section %u has no part in district '%s' / municipality '%s' (its %u parts start on line %ld)",
             (unsigned)s0->id, fd, fm, (unsigned)n, x->sec_lines[first]);
    else
        perr(x, ln, C(t, r, CA_SECTION), "split-section",
             "casilla: section %u is split in %u parts (lines %ld, %ld...): give the casilla's district or "
             "municipality (columns district, municipality) to say which part it is in",
             (unsigned)s0->id, (unsigned)n, x->sec_lines[first], x->sec_lines[first + 1]);
    return PREP_CAT_NONE;
}

typedef struct cas_row {
    prep_cat_casilla c;
    long line;
    long col; /* of the section field */
} cas_row;

static int cmp_cas(const void *a, const void *b)
{
    const cas_row *x = a, *y = b;
    if (x->c.section != y->c.section) return x->c.section < y->c.section ? -1 : 1;
    int rx = cat_type_rank(x->c.type), ry = cat_type_rank(y->c.type);
    if (rx != ry) return rx < ry ? -1 : 1;
    if (x->c.number != y->c.number) return x->c.number < y->c.number ? -1 : 1;
    if (x->c.ext != y->c.ext) return x->c.ext < y->c.ext ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

static void do_casillas(pctx *x)
{
    prep_catalog *c = x->c;
    rawtab *t = &x->t[SEC_CASILLAS];
    cas_row *rows = malloc((t->n ? t->n : 1) * sizeof *rows);
    if (!rows || !x->sec_keys) {
        free(rows);
        x->f_oom = 1;
        return;
    }
    size_t n = 0;
    for (size_t r = 0; r < t->n; r++) {
        long ln = t->line[r];
        const char *f_sec = F(t, r, CA_SECTION), *f_type = F(t, r, CA_TYPE);
        uint32_t sid = 0, number = 0, ext = 0, urban = 0, lnom = 0, reps = 0, ballots = 0;
        int ok = 1;
        uint32_t sidx = PREP_CAT_NONE;
        uint32_t ei = row_entity(x, t, r, CA_ENTITY);
        if (ei == PREP_CAT_NONE) continue;
        if ((sidx = find_geo(x, SEC_SECTIONS, ei, f_sec, &sid)) == PREP_CAT_NONE) {
            if (!x->broken[SEC_SECTIONS])
                perr(x, ln, C(t, r, CA_SECTION), "unknown-reference", "casilla: unknown section '%s'", f_sec);
            ok = 0;
        } else if ((sidx = casilla_part(x, t, r, sidx)) == PREP_CAT_NONE) {
            ok = 0;
        }
        char type = f_type[0];
        if (!prep_catalog_type_valid(&x->c->rules, type) || f_type[1]) {
            perr(x, ln, C(t, r, CA_TYPE), "bad-value",
                 "casilla type '%s' must be B, C, E, S, M, A, P or V, or a letter of [rules] other_casilla_types",
                 f_type);
            ok = 0;
        } else if (sidx != PREP_CAT_NONE && sid == 0 && !prep_cat_type_mesa(type)) {
            perr(x, ln, C(t, r, CA_TYPE), "bad-casilla",
                 "casilla of type %c in section 0: section 0 holds only the mesas of votes from abroad (M), "
                 "voto anticipado (A) and prisión preventiva (P)", type);
            ok = 0;
        }
        /* a mesa may be number 0: Puebla 2018's one acta of the votes from abroad,
         * 210000M0000; the 2024 LEEMEs write N/A as a mesa's ID_CASILLA */
        if (parse_num(F(t, r, CA_NUMBER), prep_cat_type_mesa(type) ? 0 : 1, 99, &number)) {
            perr(x, ln, C(t, r, CA_NUMBER), "bad-value",
                 "casilla number '%s' must be 1..99 (0..99 for an M, A or P mesa)", F(t, r, CA_NUMBER));
            ok = 0;
        }
        if (parse_num(F(t, r, CA_EXT), 0, 99, &ext)) {
            perr(x, ln, C(t, r, CA_EXT), "bad-value", "casilla ext '%s' must be 0..99", F(t, r, CA_EXT));
            ok = 0;
        } else if (ext && ok && type != 'E') {
            perr(x, ln, C(t, r, CA_EXT), "bad-casilla",
                 "ext %u on a casilla of type %c: only extraordinarias (E) have contiguas", (unsigned)ext, type);
        }
        if (parse_num(F(t, r, CA_URBAN), 1, 2, &urban))
            perr(x, ln, C(t, r, CA_URBAN), "bad-value", "urban '%s' must be 1 (urbana) or 2 (no urbana)",
                 F(t, r, CA_URBAN));
        int ln_ok = !parse_num(F(t, r, CA_LN), 0, UINT32_MAX, &lnom);
        if (!ln_ok)
            perr(x, ln, C(t, r, CA_LN), "bad-value", "lista_nominal '%s' is not a number", F(t, r, CA_LN));
        if (parse_num(F(t, r, CA_REPS), 0, UINT32_MAX, &reps))
            perr(x, ln, C(t, r, CA_REPS), "bad-value", "representatives '%s' is not a number", F(t, r, CA_REPS));
        int b_ok = !parse_num(F(t, r, CA_BALLOTS), 0, UINT32_MAX, &ballots);
        if (!b_ok)
            perr(x, ln, C(t, r, CA_BALLOTS), "bad-value", "ballots '%s' is not a number", F(t, r, CA_BALLOTS));
        if (type == 'S') {
            if (ln_ok && lnom != 0)
                perr(x, ln, C(t, r, CA_LN), "special-casilla",
                     "special casilla with lista_nominal %u: specials have none of their own (0)", (unsigned)lnom);
            if (b_ok && ballots == 0)
                perr(x, ln, C(t, r, CA_BALLOTS), "special-casilla",
                     "special casilla with ballots 0: give the ballots approved for it");
        } else if (b_ok && ballots != 0 && prep_catalog_type_valid(&x->c->rules, type)) {
            perr(x, ln, C(t, r, CA_BALLOTS), "bad-casilla",
                 "ballots %u on a casilla of type %c: only special casillas (S) carry ballots", (unsigned)ballots,
                 type);
        }
        if (!ok) continue;
        cas_row *w = &rows[n++];
        memset(w, 0, sizeof *w);
        w->line = ln;
        w->col = C(t, r, CA_SECTION);
        w->c.section = sidx;
        w->c.type = type;
        w->c.urban = (uint8_t)urban;
        w->c.number = (uint16_t)number;
        w->c.ext = (uint16_t)ext;
        w->c.lista_nominal = lnom;
        w->c.representatives = reps;
        w->c.ballots = ballots;
        prep_catalog_casilla_key(c->entities[ei].id, sid, type, number, ext, w->c.key);
    }
    qsort(rows, n, sizeof *rows, cmp_cas);
    c->casillas = malloc((n ? n : 1) * sizeof *c->casillas);
    if (!c->casillas) {
        free(rows);
        x->f_oom = 1;
        return;
    }
    /* Equal keys are adjacent now, the first line first: later ones are duplicates. */
    uint32_t k = 0;
    long kept_line = 0;
    for (size_t i = 0; i < n; i++) {
        const prep_cat_casilla *prev = k ? &c->casillas[k - 1] : NULL;
        if (prev && rows[i].c.section == prev->section && rows[i].c.type == prev->type &&
            rows[i].c.number == prev->number && rows[i].c.ext == prev->ext) {
            perr(x, rows[i].line, rows[i].col, "duplicate-id", "casilla %s is already defined on line %ld",
                 rows[i].c.key, kept_line);
            continue;
        }
        kept_line = rows[i].line;
        c->casillas[k++] = rows[i].c;
    }
    c->n_casillas = k;
    free(rows);
    /* Contiguous ranges per section. */
    uint32_t i = 0;
    for (uint32_t s = 0; s < c->n_sections; s++) {
        c->sections[s].first_casilla = i;
        while (i < k && c->casillas[i].section == s) i++;
        c->sections[s].n_casillas = i - c->sections[s].first_casilla;
    }
}

/* The unit of election scope sc that section s is in (by its district or municipality;
 * its entity for the other scopes, the nation being one). */
static uint32_t scope_unit(const prep_cat_section *s, prep_cat_scope sc)
{
    return sc == PREP_CAT_SCOPE_DISTRICT ? s->district : sc == PREP_CAT_SCOPE_MUNICIPALITY ? s->municipality
           : sc == PREP_CAT_SCOPE_ENTITY ? s->entity : 0;
}

/* A casilla of part a that part b lists too (index into casillas), else PREP_CAT_NONE. */
static uint32_t shared_casilla(const prep_catalog *c, const prep_cat_section *a, const prep_cat_section *b)
{
    for (uint32_t ka = a->first_casilla; ka < a->first_casilla + a->n_casillas; ka++)
        for (uint32_t kb = b->first_casilla; kb < b->first_casilla + b->n_casillas; kb++)
            if (!strcmp(c->casillas[ka].key, c->casillas[kb].key)) return ka;
    return PREP_CAT_NONE;
}

/* A casilla listed in two parts of a split section has an acta in each: the parts must be
 * in two units of every election, or one unit would count two actas over one ballot box.
 * Parts that share no casilla (a section whose casillas stand in two municipalities) may
 * share a unit. */
static void check_splits(pctx *x)
{
    const prep_catalog *c = x->c;
    for (uint32_t s = 0; s + 1 < c->n_sections; s++) {
        uint32_t first, n = prep_catalog_section_parts(c, s, &first, NULL);
        if (n == 1 || first != s) continue;
        for (uint32_t e = 0; e < c->n_elections; e++) {
            prep_cat_scope sc = c->elections[e].scope;
            uint32_t shared = PREP_CAT_NONE;
            for (uint32_t i = s + 1; i < s + n && shared == PREP_CAT_NONE; i++)
                for (uint32_t j = s; j < i && shared == PREP_CAT_NONE; j++) {
                    const prep_cat_section *a = &c->sections[i], *b = &c->sections[j];
                    if (scope_unit(a, sc) != scope_unit(b, sc)) continue;
                    if ((shared = shared_casilla(c, a, b)) != PREP_CAT_NONE)
                        perr(x, x->sec_lines[i], 0, "split-section",
                             "section %u is split (lines %ld and %ld) and both parts list casilla %s, but election "
                             "'%s' has one %s over both parts: its two actas would count over one ballot box (a "
                             "split section's shared casillas need the parts in units of their own in every "
                             "election: give that election a catalogue of its own)",
                             (unsigned)a->id, x->sec_lines[j], x->sec_lines[i],
                             c->casillas[shared].key, c->elections[e].id,
                             sc == PREP_CAT_SCOPE_DISTRICT       ? "district"
                             : sc == PREP_CAT_SCOPE_MUNICIPALITY ? "municipality"
                                                                 : "unit");
                }
        }
        s += n - 1;
    }
}

static int eq_el_slug(const void *ctx, uint32_t idx, const void *key)
{
    const prep_catalog *c = ctx;
    return strcmp(c->elections[idx].slug, key) == 0;
}

/* acta_type, and the optional special_acta_type, abroad_acta_type (default acta_type)
 * and rp_acta_type (default 0: none). */
static void el_acta_types(pctx *x, const rawtab *t, size_t r, prep_cat_election *el)
{
    static const int cols[] = {EL_ACTA, EL_SPECIAL, EL_ABROAD, EL_RP};
    uint32_t *dst[] = {&el->acta_type, &el->special_acta_type, &el->abroad_acta_type, &el->rp_acta_type};
    for (size_t i = 0; i < PREP_ARRAY_LEN(cols); i++) {
        const char *v = F(t, r, cols[i]);
        if (i && !(t->present & (1u << cols[i]))) {
            *dst[i] = i == 3 ? 0 : el->acta_type;
            continue;
        }
        if (i == 2 && !strcmp(v, "-")) { /* the votes from abroad do not elect this office */
            *dst[i] = PREP_CAT_ACTA_NONE;
            continue;
        }
        /* TIPO_ACTA 0 is the out-of-catalogue acta's: only acta_type and rp_acta_type (none) take it */
        uint32_t lo = (i == 1 || i == 2) ? 1 : 0;
        char num[8];
        size_t nd = strspn(v, "0123456789"), nl = strlen(v + nd);
        if (i == 3 && nd && nd < sizeof num && nl && nl < sizeof el->rp_acta_mark &&
            strspn(v + nd, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == nl) {
            /* rp_acta_type 3RP: the RP acta is a TIPO_ACTA 3 whose letters end in RP */
            memcpy(num, v, nd);
            num[nd] = 0;
            memcpy(el->rp_acta_mark, v + nd, nl + 1);
            v = num;
            lo = 1;
        }
        if (parse_num(v, lo, 99, dst[i]))
            perr(x, t->line[r], C(t, r, cols[i]), "bad-value", "%s '%s' must be a number %u..99",
                 tab_cols[SEC_ELECTIONS][cols[i]], v, (unsigned)lo);
    }
    if (el->rp_acta_type && !el->rp_acta_mark[0] &&
        (el->rp_acta_type == el->acta_type || el->rp_acta_type == el->special_acta_type))
        perr(x, t->line[r], C(t, r, EL_RP), "bad-value",
             "rp_acta_type %u must differ from the election's other acta types (or carry the letters that mark "
             "the RP acta, %uRP): it names a second acta",
             (unsigned)el->rp_acta_type, (unsigned)el->rp_acta_type);
}

/* The optional `independents` of election row r: a number n (CAND_IND_1..n), or the
 * columns' names in order, each CAND_IND_ and more (CAND_IND_JHZM; one of the form
 * CAND_IND_k only at position k). */
static void el_independents(pctx *x, const rawtab *t, size_t r, prep_cat_election *el)
{
    const char *v = F(t, r, EL_INDEP), *p = v, *at;
    long ln = t->line[r];
    if (!*v) return;
    if (strspn(v, "0123456789") == strlen(v)) {
        if (parse_num(v, 1, PREP_CAT_MAX_INDEP, &el->n_indep_declared))
            perr(x, ln, C(t, r, EL_INDEP), "bad-value", "election '%s': independents '%s' is not 1..%u", el->id, v,
                 (unsigned)PREP_CAT_MAX_INDEP);
        return;
    }
    char tok[PREP_CAT_MAX_ID_LEN + 2];
    char **names = calloc(PREP_CAT_MAX_INDEP, sizeof *names);
    uint32_t n = 0;
    if (!names) {
        x->f_oom = 1;
        return;
    }
    while (next_token(&p, tok, sizeof tok, &at)) {
        long tcol = C(t, r, EL_INDEP) + (long)(at - v);
        uint32_t k = indep_number(tok);
        int dup = 0;
        for (uint32_t j = 0; j < n && !dup; j++) dup = !strcmp(names[j], tok);
        const char *why = n == PREP_CAT_MAX_INDEP                  ? "is one too many"
                          : !cat_valid_id(tok) || strncmp(tok, "CAND_IND_", 9) || !tok[9] ? "is not CAND_IND_ and a name"
                          : dup                                    ? "is listed twice"
                          : k && k != n + 1                        ? "is numbered for another position"
                                                                   : NULL;
        if (why) {
            perr(x, ln, tcol, "bad-value", "election '%s': independent column '%s' %s", el->id, tok, why);
            continue;
        }
        if (!(names[n++] = xdup(x, tok))) break;
    }
    el->indep_names = names;
    el->n_indep_declared = n;
}

static void do_elections(pctx *x)
{
    prep_catalog *c = x->c;
    rawtab *t = &x->t[SEC_ELECTIONS];
    size_t cap = t->n ? t->n : 1;
    c->elections = calloc(cap, sizeof *c->elections);
    x->el_line = calloc(cap, sizeof *x->el_line);
    x->el_parties = calloc(cap, sizeof *x->el_parties);
    x->el_np = calloc(cap, sizeof *x->el_np);
    x->el_max_indep = calloc(cap, sizeof *x->el_max_indep);
    x->el_bad_scope = calloc(cap, 1);
    cat_map mslug = {0};
    if (!c->elections || !x->el_line || !x->el_parties || !x->el_np || !x->el_max_indep || !x->el_bad_scope ||
        cat_map_init(&x->m_election, t->n) || cat_map_init(&mslug, t->n)) {
        x->f_oom = 1;
        cat_map_free(&mslug);
        return;
    }
    for (size_t r = 0; r < t->n && !x->f_oom; r++) {
        long ln = t->line[r];
        const char *id = F(t, r, EL_ID), *name = F(t, r, EL_NAME), *title = F(t, r, EL_TITLE);
        const char *scope = F(t, r, EL_SCOPE);
        if (!cat_valid_id(id)) {
            perr(x, ln, C(t, r, EL_ID), "bad-value", "election id '%s' must be 1..32 characters of A-Z a-z 0-9 _ -",
                 id);
            continue;
        }
        uint32_t h = cat_hash_str(id);
        if (cat_map_find(&x->m_election, h, cat_eq_election, c, id) != PREP_CAT_NONE) {
            perr(x, ln, C(t, r, EL_ID), "duplicate-id", "election '%s' is already defined", id);
            continue;
        }
        uint32_t e = c->n_elections;
        prep_cat_election *el = &c->elections[e];
        el->id = xdup(x, id);
        el->name = xdup(x, name);
        el->title = xdup(x, title);
        el->slug = prep_slugify(title);
        c->n_elections++;
        if (!el->id || !el->name || !el->title) return;
        x->el_line[e] = ln;
        if (cat_map_put(&x->m_election, h, e)) x->f_oom = 1;
        if (!*name) perr(x, ln, C(t, r, EL_NAME), "bad-value", "election '%s' has an empty name", id);
        if (!*el->slug) {
            perr(x, ln, C(t, r, EL_TITLE), "bad-value", "election '%s' needs a title with letters or digits", id);
        } else {
            uint32_t hs = cat_hash_str(el->slug);
            uint32_t other = cat_map_find(&mslug, hs, eq_el_slug, c, el->slug);
            if (other != PREP_CAT_NONE)
                perr(x, ln, C(t, r, EL_TITLE), "duplicate-slug",
                     "election '%s' has the same URL name '%s' as election '%s'", id, el->slug,
                     c->elections[other].id);
            else if (cat_map_put(&mslug, hs, e))
                x->f_oom = 1;
        }
        if (!strcmp(scope, "nation")) el->scope = PREP_CAT_SCOPE_NATION;
        else if (!strcmp(scope, "entity")) el->scope = PREP_CAT_SCOPE_ENTITY;
        else if (!strcmp(scope, "district")) el->scope = PREP_CAT_SCOPE_DISTRICT;
        else if (!strcmp(scope, "municipality")) el->scope = PREP_CAT_SCOPE_MUNICIPALITY;
        else {
            perr(x, ln, C(t, r, EL_SCOPE), "bad-value", "scope '%s' must be nation, entity, district or municipality",
                 scope);
            x->el_bad_scope[e] = 1;
        }
        el->n_units = x->el_bad_scope[e]                ? 0
                      : el->scope == PREP_CAT_SCOPE_NATION   ? 1
                      : el->scope == PREP_CAT_SCOPE_ENTITY   ? c->n_entities
                      : el->scope == PREP_CAT_SCOPE_DISTRICT ? c->n_districts
                                                        : c->n_municipalities;
        el_acta_types(x, t, r, el);
        /* parties, column order */
        const char *p = F(t, r, EL_PARTIES), *base = p, *at;
        char tok[PREP_CAT_MAX_ID_LEN + 2];
        while (next_token(&p, tok, sizeof tok, &at)) {
            long tcol = C(t, r, EL_PARTIES) + (long)(at - base);
            uint32_t pi = cat_map_find(&x->m_party, cat_hash_str(tok), cat_eq_party, c, tok);
            if (pi == PREP_CAT_NONE) {
                if (!x->broken[SEC_PARTIES])
                    perr(x, ln, tcol, "unknown-reference", "election '%s': unknown party '%s'", id, tok);
                continue;
            }
            int rep = 0;
            for (uint32_t j = 0; j < x->el_np[e]; j++)
                if (x->el_parties[e][j] == pi) rep = 1;
            if (rep) {
                perr(x, ln, tcol, "duplicate-id", "election '%s' lists party '%s' twice", id, tok);
                continue;
            }
            x->el_parties[e][x->el_np[e]++] = pi; /* < PREP_CAT_MAX_PARTIES: parties are unique */
        }
        if (!x->el_np[e] && !x->broken[SEC_PARTIES])
            perr(x, ln, C(t, r, EL_PARTIES), "bad-value", "election '%s' lists no party", id);
        el_independents(x, t, r, el);
    }
    cat_map_free(&mslug);
}

/* Position of party pi in election e's list, or -1. */
static int party_pos(const pctx *x, uint32_t e, uint32_t pi)
{
    for (uint32_t j = 0; j < x->el_np[e]; j++)
        if (x->el_parties[e][j] == pi) return (int)j;
    return -1;
}

static void do_coalitions(pctx *x)
{
    prep_catalog *c = x->c;
    rawtab *t = &x->t[SEC_COALITIONS];
    c->coalitions = calloc(t->n ? t->n : 1, sizeof *c->coalitions);
    if (!c->coalitions || cat_map_init(&x->m_coal, t->n)) {
        x->f_oom = 1;
        return;
    }
    for (size_t r = 0; r < t->n && !x->f_oom; r++) {
        long ln = t->line[r];
        const char *eid = F(t, r, CO_ELECTION), *id = F(t, r, CO_ID), *name = F(t, r, CO_NAME);
        uint32_t e = cat_map_find(&x->m_election, cat_hash_str(eid), cat_eq_election, c, eid);
        if (e == PREP_CAT_NONE) {
            if (!x->broken[SEC_ELECTIONS])
                perr(x, ln, C(t, r, CO_ELECTION), "unknown-reference", "coalition '%s': unknown election '%s'", id,
                     eid);
            continue;
        }
        if (!cat_valid_id(id) || reserved_id(id)) {
            perr(x, ln, C(t, r, CO_ID), "bad-value",
                 reserved_id(id) ? "coalition id '%s' is a reserved column name"
                                 : "coalition id '%s' must be 1..32 characters of A-Z a-z 0-9 _ -",
                 id);
            continue;
        }
        if (cat_map_find(&x->m_party, cat_hash_str(id), cat_eq_party, c, id) != PREP_CAT_NONE) {
            perr(x, ln, C(t, r, CO_ID), "duplicate-id", "coalition id '%s' is also a party id", id);
            continue;
        }
        cat_coal_key key = {e, id};
        uint32_t h = cat_hash_coalition(e, id);
        if (cat_map_find(&x->m_coal, h, cat_eq_coalition, c, &key) != PREP_CAT_NONE) {
            perr(x, ln, C(t, r, CO_ID), "duplicate-id", "coalition '%s' of election '%s' is already defined", id, eid);
            continue;
        }
        prep_cat_coalition *co = &c->coalitions[c->n_coalitions];
        co->id = xdup(x, id);
        co->name = xdup(x, name);
        co->election = e;
        c->n_coalitions++;
        if (!co->id || !co->name) return;
        if (cat_map_put(&x->m_coal, h, c->n_coalitions - 1)) x->f_oom = 1;
        if (!*name) perr(x, ln, C(t, r, CO_NAME), "bad-value", "coalition '%s' has an empty name", id);
        const char *p = F(t, r, CO_PARTIES), *base = p, *at;
        char tok[PREP_CAT_MAX_ID_LEN + 2];
        uint32_t count = 0;
        while (next_token(&p, tok, sizeof tok, &at)) {
            long tcol = C(t, r, CO_PARTIES) + (long)(at - base);
            count++;
            uint32_t pi = cat_map_find(&x->m_party, cat_hash_str(tok), cat_eq_party, c, tok);
            if (pi == PREP_CAT_NONE) {
                if (!x->broken[SEC_PARTIES])
                    perr(x, ln, tcol, "unknown-reference", "coalition '%s': unknown party '%s'", id, tok);
                continue;
            }
            if (party_pos(x, e, pi) < 0) {
                perr(x, ln, tcol, "party-not-in-election", "coalition '%s': party '%s' is not in election '%s'", id,
                     tok, eid);
                continue;
            }
            int rep = 0;
            for (uint32_t j = 0; j < co->n_parties; j++)
                if (co->parties[j] == pi) rep = 1;
            if (rep) {
                perr(x, ln, tcol, "duplicate-id", "coalition '%s' lists party '%s' twice", id, tok);
                continue;
            }
            if (co->n_parties < PREP_CAT_MAX_COALITION_PARTIES) co->parties[co->n_parties++] = pi;
        }
        if (count < 2 || count > PREP_CAT_MAX_COALITION_PARTIES)
            perr(x, ln, C(t, r, CO_PARTIES), "coalition-size", "coalition '%s' has %u part%s; it needs 2..%d", id,
                 (unsigned)count, count == 1 ? "y" : "ies", PREP_CAT_MAX_COALITION_PARTIES);
    }
}

/* A district or municipality named in another table: `ID` in a local catalogue, or
 * `ENTITY-ID` (the only form in a national one). PREP_CAT_NONE when there is none; a
 * malformed reference gets its own diag and *id is set to UINT32_MAX. */
static uint32_t geo_ref(pctx *x, int sec, const char *ref, long ln, long col, uint32_t *id)
{
    const prep_catalog *c = x->c;
    const char *dash = strchr(ref, '-');
    uint32_t ei = c->national ? PREP_CAT_NONE : 0, eid;
    const char *sid = ref;
    char ent[8];
    *id = 0;
    if (dash) {
        size_t n = (size_t)(dash - ref);
        if (n == 0 || n >= sizeof ent) return PREP_CAT_NONE;
        memcpy(ent, ref, n);
        ent[n] = 0;
        ei = parse_num(ent, 1, PREP_CAT_MAX_ENTITY_ID, &eid) ? PREP_CAT_NONE : x->ent_by_id[eid];
        sid = dash + 1;
    } else if (c->national) {
        perr(x, ln, col, "bad-value", "a national catalogue names a %s as ENTITY-ID, got '%s'",
             sec == SEC_DISTRICTS ? "district" : "municipality", ref);
        *id = UINT32_MAX;
        return PREP_CAT_NONE;
    }
    return find_geo(x, sec, ei, sid, id);
}

/* The unit of a candidacy: `*` for the nation, and for the entity of a local catalogue;
 * an entity id for an entity of a national one; `ID` or `ENTITY-ID` for a district or
 * municipality (`ENTITY-ID` only, in a national catalogue). */
static uint32_t cand_unit(pctx *x, const rawtab *t, size_t r, uint32_t e)
{
    const prep_catalog *c = x->c;
    const prep_cat_election *el = &c->elections[e];
    const char *unit = F(t, r, CD_UNIT), *eid = el->id;
    long ln = t->line[r], col = C(t, r, CD_UNIT);
    uint32_t id;
    if (el->scope == PREP_CAT_SCOPE_NATION || (el->scope == PREP_CAT_SCOPE_ENTITY && !c->national)) {
        if (!strcmp(unit, "*")) return 0;
        perr(x, ln, col, "bad-value", "election '%s' covers the whole %s: unit must be *, got '%s'", eid,
             el->scope == PREP_CAT_SCOPE_NATION ? "process" : "entity", unit);
        return PREP_CAT_NONE;
    }
    if (el->scope == PREP_CAT_SCOPE_ENTITY) {
        if (parse_num(unit, 1, PREP_CAT_MAX_ENTITY_ID, &id) || x->ent_by_id[id] == PREP_CAT_NONE) {
            perr(x, ln, col, "unknown-reference", "candidacy of '%s': unknown entity '%s'", eid, unit);
            return PREP_CAT_NONE;
        }
        return x->ent_by_id[id];
    }
    int sec = el->scope == PREP_CAT_SCOPE_DISTRICT ? SEC_DISTRICTS : SEC_MUNIS;
    uint32_t u = geo_ref(x, sec, unit, ln, col, &id);
    if (u == PREP_CAT_NONE && !x->broken[sec] && id != UINT32_MAX)
        perr(x, ln, col, "unknown-reference", "candidacy of '%s': unknown %s '%s'", eid,
             sec == SEC_DISTRICTS ? "district" : "municipality", unit);
    return u;
}

static void do_candidacies(pctx *x)
{
    prep_catalog *c = x->c;
    rawtab *t = &x->t[SEC_CANDIDACIES];
    size_t cap = t->n ? t->n : 1;
    c->candidacies = calloc(cap, sizeof *c->candidacies);
    x->cand_line = calloc(cap, sizeof *x->cand_line);
    x->cand_ccol = calloc(cap, sizeof *x->cand_ccol);
    if (!c->candidacies || !x->cand_line || !x->cand_ccol) {
        x->f_oom = 1;
        return;
    }
    for (size_t r = 0; r < t->n && !x->f_oom; r++) {
        long ln = t->line[r];
        const char *eid = F(t, r, CD_ELECTION), *who = F(t, r, CD_CONTENDER);
        const char *name = F(t, r, CD_NAME);
        uint32_t e = cat_map_find(&x->m_election, cat_hash_str(eid), cat_eq_election, c, eid);
        if (e == PREP_CAT_NONE) {
            if (!x->broken[SEC_ELECTIONS])
                perr(x, ln, C(t, r, CD_ELECTION), "unknown-reference", "candidacy: unknown election '%s'", eid);
            continue;
        }
        if (x->el_bad_scope[e]) continue; /* already reported at the election */
        uint32_t u = cand_unit(x, t, r, e);
        prep_cat_cand_kind kind = PREP_CAT_CAND_PARTY;
        uint32_t ref = PREP_CAT_NONE;
        cat_coal_key key = {e, who};
        uint32_t co = cat_map_find(&x->m_coal, cat_hash_coalition(e, who), cat_eq_coalition, c, &key);
        uint32_t pi = cat_map_find(&x->m_party, cat_hash_str(who), cat_eq_party, c, who);
        uint32_t ind = indep_number(who);
        const prep_cat_election *cel = &c->elections[e];
        for (uint32_t j = 0; !ind && cel->indep_names && j < cel->n_indep_declared; j++)
            if (!strcmp(cel->indep_names[j], who)) ind = j + 1; /* a named independent column */
        if (co != PREP_CAT_NONE) {
            kind = PREP_CAT_CAND_COALITION;
            ref = co;
        } else if (pi != PREP_CAT_NONE) {
            if (party_pos(x, e, pi) < 0)
                perr(x, ln, C(t, r, CD_CONTENDER), "party-not-in-election", "party '%s' is not in election '%s'", who,
                     eid);
            else
                kind = PREP_CAT_CAND_PARTY, ref = pi;
        } else if (ind && cel->n_indep_declared && ind > cel->n_indep_declared) {
            perr(x, ln, C(t, r, CD_CONTENDER), "unknown-reference",
                 "contender '%s': election '%s' declares %u independent columns", who, eid,
                 (unsigned)cel->n_indep_declared);
        } else if (ind) {
            kind = PREP_CAT_CAND_INDEP;
            ref = ind; /* the number for now; the column index once columns exist */
        } else if (!x->broken[SEC_PARTIES]) {
            perr(x, ln, C(t, r, CD_CONTENDER), "unknown-reference",
                 "contender '%s' is no party or coalition of election '%s', nor CAND_IND_n", who, eid);
        }
        if (!*name) perr(x, ln, C(t, r, CD_NAME), "bad-value", "candidacy of '%s' has an empty name", who);
        if (u == PREP_CAT_NONE || ref == PREP_CAT_NONE) continue;
        uint32_t k = c->n_candidacies;
        prep_cat_candidacy *cd = &c->candidacies[k];
        cd->election = e;
        cd->unit = u;
        cd->kind = kind;
        cd->ref = ref;
        cd->name = xdup(x, name);
        c->n_candidacies++;
        if (!cd->name) return;
        x->cand_line[k] = ln;
        x->cand_ccol[k] = (uint32_t)C(t, r, CD_CONTENDER);
        if (kind == PREP_CAT_CAND_INDEP && ind > x->el_max_indep[e]) x->el_max_indep[e] = ind;
    }
}

/* ================================================================ [shapes] */

/* The key column of [shapes]: municipality in a local catalogue, entity in a national
 * one (its map is of entities); the other is an error at its header column. -1 when the
 * key is missing or wrong (reported). */
static int shapes_key(pctx *x, const rawtab *t)
{
    int key = x->c->national ? SH_ENTITY : SH_MUNI, wrong = x->c->national ? SH_MUNI : SH_ENTITY;
    if (!t->usable) return -1;
    if (t->present & (1u << wrong)) {
        perr(x, t->header_line, (long)t->hcol[wrong], "unknown-column",
             "[shapes] of a %s catalogue is keyed by '%s' (a map of %s), not '%s'",
             x->c->national ? "national" : "local", tab_cols[SEC_SHAPES][key],
             x->c->national ? "entities" : "municipalities", tab_cols[SEC_SHAPES][wrong]);
        return -1;
    }
    if (!(t->present & (1u << key))) {
        perr(x, t->header_line, 0, "missing-column", "table [shapes] has no column '%s'", tab_cols[SEC_SHAPES][key]);
        return -1;
    }
    return key;
}

/* The map: map_viewbox and [shapes] come together; one shape per municipality (per
 * entity in a national catalogue); each path in the grammar of catalog_shape.c and inside
 * the viewBox. */
static void do_shapes(pctx *x)
{
    prep_catalog *c = x->c;
    rawtab *t = &x->t[SEC_SHAPES];
    const kv *vb = &x->pk[PK_MAPVB];
    long sec = x->sec_line[SEC_SHAPES];
    if (sec && !vb->line && x->sec_line[SEC_PROCESS])
        perr(x, x->sec_line[SEC_PROCESS], 0, "missing-key", "[process] has no 'map_viewbox'; the [shapes] on line %ld needs it",
             sec);
    if (vb->line && !sec)
        perr(x, vb->line, vb->col, "missing-section", "map_viewbox is set but there is no [shapes] section");
    if (!sec) return;
    int key = shapes_key(x, t), ent = key == SH_ENTITY;
    if (key < 0) return;
    uint32_t nm = ent ? c->n_entities : c->n_municipalities;
    char **shape = calloc(nm ? nm : 1, sizeof *shape);
    long *first_line = calloc(nm ? nm : 1, sizeof *first_line);
    if (ent) c->entity_shape = shape;
    else c->municipality_shape = shape;
    if (!shape || !first_line) {
        free(first_line);
        x->f_oom = 1;
        return;
    }
    const uint32_t *box = c->has_map ? c->map_viewbox : NULL;
    for (size_t r = 0; r < t->n && !x->f_oom; r++) {
        long ln = t->line[r];
        const char *fm = F(t, r, key), *path = F(t, r, SH_PATH);
        uint32_t id = UINT32_MAX, m;
        if (ent) m = parse_num(fm, 1, PREP_CAT_MAX_ENTITY_ID, &id) ? PREP_CAT_NONE : x->ent_by_id[id];
        else m = geo_ref(x, SEC_MUNIS, fm, ln, C(t, r, key), &id);
        if (m == PREP_CAT_NONE) {
            if (ent || (!x->broken[SEC_MUNIS] && id != UINT32_MAX))
                perr(x, ln, C(t, r, key), "unknown-reference", "shape of unknown %s '%s'", tab_cols[SEC_SHAPES][key],
                     fm);
        } else if (first_line[m]) {
            perr(x, ln, C(t, r, key), "duplicate-id", "%s %u already has a shape on line %ld",
                 tab_cols[SEC_SHAPES][key], (unsigned)id, first_line[m]);
            m = PREP_CAT_NONE;
        }
        size_t off = 0;
        char msg[160];
        int bad = prep_catalog_path_check(path, box, &off, msg, sizeof msg);
        if (bad) {
            static const char *const kinds[] = {"", "bad-path", "path-outside-map", "path-too-long"};
            if (bad == 3)
                perr(x, ln, C(t, r, SH_PATH), kinds[bad], "path of %zu bytes; at most %u", strlen(path),
                     (unsigned)PREP_CAT_MAX_PATH);
            else
                perr(x, ln, C(t, r, SH_PATH) + (long)off, kinds[bad], "%s", msg);
            continue;
        }
        if (m == PREP_CAT_NONE) continue;
        first_line[m] = ln;
        shape[m] = xdup(x, path);
    }
    free(first_line);
}

/* ================================================================ derived data */

typedef struct colbuild {
    prep_cat_column *v;
    uint32_t n, cap;
} colbuild;

static int col_add(pctx *x, colbuild *b, prep_cat_column col)
{
    if (b->n >= PREP_CAT_MAX_COLUMNS) {
        free(col.name);
        return -1;
    }
    if (b->n == b->cap) {
        uint32_t nc = b->cap ? b->cap * 2 : 32;
        prep_cat_column *nv = realloc(b->v, nc * sizeof *nv);
        if (!nv) goto oom;
        b->v = nv;
        b->cap = nc;
    }
    if (!col.name) goto oom;
    b->v[b->n] = col;
    b->n++;
    return 0;
oom:
    free(col.name);
    x->f_oom = 1;
    return -1;
}

static char *combo_name(const prep_catalog *c, const char *prefix, const uint32_t *parties, uint32_t n)
{
    prep_buf b;
    prep_buf_init(&b, 4096);
    prep_err r = prep_buf_puts(&b, prefix);
    for (uint32_t i = 0; i < n && !r; i++) {
        if (i) r = prep_buf_putc(&b, '_');
        if (!r) r = prep_buf_puts(&b, prep_catalog_party_combo_name(&c->parties[parties[i]]));
    }
    if (r) {
        prep_buf_free(&b);
        return NULL;
    }
    return prep_buf_steal(&b, NULL);
}

static int indep_cols(pctx *x, colbuild *b, uint32_t e)
{
    const prep_cat_election *el = &x->c->elections[e];
    uint32_t n = el->n_indep_declared > x->el_max_indep[e] ? el->n_indep_declared : x->el_max_indep[e];
    for (uint32_t k = 1; k <= n; k++) {
        char nm[PREP_CAT_MAX_ID_LEN + 2];
        snprintf(nm, sizeof nm, "CAND_IND_%u", (unsigned)k);
        const char *name = el->indep_names && k <= el->n_indep_declared ? el->indep_names[k - 1] : nm;
        prep_cat_column col = {.name = strdup(name), .kind = PREP_CAT_COL_INDEP, .indep_no = k};
        if (col_add(x, b, col)) return -1;
    }
    return 0;
}

/* The election's vote columns in the documented order. 0, or -1 (too many / no memory). */
static int build_columns(pctx *x, uint32_t e)
{
    prep_catalog *c = x->c;
    prep_cat_election *el = &c->elections[e];
    colbuild b = {0};
    uint32_t np = x->el_np[e];
    const uint32_t *plist = x->el_parties[e];
    for (uint32_t i = 0; i < np; i++) {
        prep_cat_column col = {.name = strdup(c->parties[plist[i]].id), .kind = PREP_CAT_COL_PARTY, .n_parties = 1};
        col.parties[0] = plist[i];
        if (col_add(x, &b, col)) goto fail;
    }
    if (c->independents_first && indep_cols(x, &b, e)) goto fail;
    for (uint32_t ci = 0; ci < c->n_coalitions; ci++) {
        const prep_cat_coalition *co = &c->coalitions[ci];
        if (co->election != e || co->n_parties < 2) continue;
        /* the coalition's parties as election positions, ascending */
        int pos[PREP_CAT_MAX_COALITION_PARTIES];
        uint32_t k = 0;
        for (uint32_t j = 0; j < co->n_parties; j++) pos[k++] = party_pos(x, e, co->parties[j]);
        for (uint32_t a = 1; a < k; a++)
            for (uint32_t z = a; z > 0 && pos[z - 1] > pos[z]; z--) {
                int tmp = pos[z];
                pos[z] = pos[z - 1];
                pos[z - 1] = tmp;
            }
        /* every subset of size s (k down to 2), in lexicographic order of positions */
        for (uint32_t s = k; s >= 2; s--) {
            uint32_t idx[PREP_CAT_MAX_COALITION_PARTIES];
            for (uint32_t i = 0; i < s; i++) idx[i] = i;
            for (;;) {
                prep_cat_column col = {.kind = PREP_CAT_COL_COMBO, .n_parties = s};
                for (uint32_t i = 0; i < s; i++) col.parties[i] = plist[pos[idx[i]]];
                /* parties in ballot-position order: one party set has one sequence, so a
                 * combination two coalitions share is one column */
                int seen = 0;
                for (uint32_t q = 0; q < b.n && !seen; q++)
                    seen = b.v[q].kind == PREP_CAT_COL_COMBO && b.v[q].n_parties == s &&
                           !memcmp(b.v[q].parties, col.parties, s * sizeof col.parties[0]);
                if (!seen) {
                    col.name = combo_name(c, c->combo_prefix, col.parties, s);
                    if (col_add(x, &b, col)) goto fail;
                }
                /* next combination */
                int i = (int)s - 1;
                while (i >= 0 && idx[i] == k - s + (uint32_t)i) i--;
                if (i < 0) break;
                idx[i]++;
                for (uint32_t j = (uint32_t)i + 1; j < s; j++) idx[j] = idx[j - 1] + 1;
            }
        }
    }
    if (!c->independents_first && indep_cols(x, &b, e)) goto fail;
    if (col_add(x, &b, (prep_cat_column){.name = strdup("NO_REGISTRADOS"), .kind = PREP_CAT_COL_NOREG})) goto fail;
    if (col_add(x, &b, (prep_cat_column){.name = strdup("NULOS"), .kind = PREP_CAT_COL_NULOS})) goto fail;
    el->cols = b.v;
    el->n_cols = b.n;
    return 0;
fail:
    if (!x->f_oom)
        perr(x, x->el_line[e], 0, "too-many", "election '%s' would have more than %u vote columns", el->id,
             (unsigned)PREP_CAT_MAX_COLUMNS);
    for (uint32_t i = 0; i < b.n; i++) free(b.v[i].name);
    free(b.v);
    return -1;
}

/* Party-position mask of a column of election e. */
static uint64_t col_mask(const pctx *x, uint32_t e, const prep_cat_column *col)
{
    uint64_t m = 0;
    if (col->kind != PREP_CAT_COL_PARTY && col->kind != PREP_CAT_COL_COMBO) return 0;
    for (uint32_t i = 0; i < col->n_parties; i++) {
        int p = party_pos(x, e, col->parties[i]);
        if (p >= 0) m |= (uint64_t)1 << p;
    }
    return m;
}

static uint64_t cand_mask(const pctx *x, uint32_t e, const prep_cat_candidacy *cd)
{
    const prep_catalog *c = x->c;
    uint64_t m = 0;
    if (cd->kind == PREP_CAT_CAND_PARTY) {
        int p = party_pos(x, e, cd->ref);
        if (p >= 0) m = (uint64_t)1 << p;
    } else if (cd->kind == PREP_CAT_CAND_COALITION) {
        const prep_cat_coalition *co = &c->coalitions[cd->ref];
        for (uint32_t i = 0; i < co->n_parties; i++) {
            int p = party_pos(x, e, co->parties[i]);
            if (p >= 0) m |= (uint64_t)1 << p;
        }
    }
    return m;
}

static const char *contender_id(const prep_catalog *c, const prep_cat_candidacy *cd, char *buf, size_t n)
{
    if (cd->kind == PREP_CAT_CAND_PARTY) return c->parties[cd->ref].id;
    if (cd->kind == PREP_CAT_CAND_COALITION) return c->coalitions[cd->ref].id;
    snprintf(buf, n, "CAND_IND_%u", (unsigned)cd->ref);
    return buf;
}

static void unit_label(const prep_catalog *c, const prep_cat_election *el, uint32_t u, char *buf, size_t n)
{
    if (el->scope == PREP_CAT_SCOPE_NATION) snprintf(buf, n, "the process");
    else if (el->scope == PREP_CAT_SCOPE_ENTITY && !c->national) snprintf(buf, n, "the entity");
    else if (el->scope == PREP_CAT_SCOPE_ENTITY) snprintf(buf, n, "entity %u", (unsigned)c->entities[u].id);
    else if (el->scope == PREP_CAT_SCOPE_DISTRICT && c->national)
        snprintf(buf, n, "district %u-%u", (unsigned)c->entities[c->districts[u].entity].id,
                 (unsigned)c->districts[u].id);
    else if (el->scope == PREP_CAT_SCOPE_DISTRICT) snprintf(buf, n, "district %u", (unsigned)c->districts[u].id);
    else if (c->national)
        snprintf(buf, n, "municipality %u-%u", (unsigned)c->entities[c->municipalities[u].entity].id,
                 (unsigned)c->municipalities[u].id);
    else snprintf(buf, n, "municipality %u", (unsigned)c->municipalities[u].id);
}

static int eq_col_name(const void *ctx, uint32_t idx, const void *key)
{
    const prep_cat_election *el = ctx;
    return strcmp(el->cols[idx].name, key) == 0;
}

static void derive_election(pctx *x, uint32_t e, const uint32_t *by_election, uint32_t nb)
{
    prep_catalog *c = x->c;
    prep_cat_election *el = &c->elections[e];
    if (build_columns(x, e)) return;
    /* column names must be unique (a party id could clash with a combination name) */
    cat_map names = {0};
    if (cat_map_init(&names, el->n_cols)) {
        x->f_oom = 1;
        return;
    }
    for (uint32_t i = 0; i < el->n_cols; i++) {
        uint32_t h = cat_hash_str(el->cols[i].name);
        if (cat_map_find(&names, h, eq_col_name, el, el->cols[i].name) != PREP_CAT_NONE)
            perr(x, x->el_line[e], 0, "column-clash", "election '%s' has two vote columns named '%s'", el->id,
                 el->cols[i].name);
        else if (cat_map_put(&names, h, i))
            x->f_oom = 1;
    }
    cat_map_free(&names);

    uint32_t nu = el->n_units;
    el->cand_first = calloc((size_t)nu + 1, sizeof *el->cand_first);
    el->cand_index = malloc((nb ? nb : 1) * sizeof *el->cand_index);
    el->col_applies = calloc(nu ? (size_t)nu * el->n_cols : 1, 1);
    uint64_t *cmask = malloc(el->n_cols * sizeof *cmask);
    if (!el->cand_first || !el->cand_index || !el->col_applies || !cmask) {
        free(cmask);
        x->f_oom = 1;
        return;
    }
    for (uint32_t i = 0; i < el->n_cols; i++) cmask[i] = col_mask(x, e, &el->cols[i]);
    uint32_t indep_base = PREP_CAT_NONE;
    for (uint32_t i = 0; i < el->n_cols; i++)
        if (el->cols[i].kind == PREP_CAT_COL_INDEP) {
            indep_base = i;
            break;
        }

    /* counting sort of the election's candidacies by unit, stable */
    for (uint32_t i = 0; i < nb; i++) el->cand_first[c->candidacies[by_election[i]].unit + 1]++;
    for (uint32_t u = 0; u < nu; u++) el->cand_first[u + 1] += el->cand_first[u];
    uint32_t *fill = malloc(((size_t)nu + 1) * sizeof *fill);
    if (!fill) {
        free(cmask);
        x->f_oom = 1;
        return;
    }
    memcpy(fill, el->cand_first, ((size_t)nu + 1) * sizeof *fill);
    for (uint32_t i = 0; i < nb; i++) el->cand_index[fill[c->candidacies[by_election[i]].unit]++] = by_election[i];
    free(fill);

    for (uint32_t i = 0; i < nb && !x->f_oom; i++) {
        prep_cat_candidacy *cd = &c->candidacies[by_election[i]];
        if (cd->kind == PREP_CAT_CAND_INDEP) cd->ref = indep_base + cd->ref - 1;
        uint64_t m = cand_mask(x, e, cd);
        uint32_t n = 0;
        cd->cols = malloc(el->n_cols * sizeof *cd->cols);
        if (!cd->cols) {
            x->f_oom = 1;
            break;
        }
        for (uint32_t k = 0; k < el->n_cols; k++) {
            int take = 0;
            if (cd->kind == PREP_CAT_CAND_INDEP) take = k == cd->ref;
            else if (el->cols[k].kind == PREP_CAT_COL_PARTY || el->cols[k].kind == PREP_CAT_COL_COMBO)
                take = cmask[k] && (cmask[k] & ~m) == 0 &&
                       (cd->kind == PREP_CAT_CAND_COALITION || el->cols[k].kind == PREP_CAT_COL_PARTY);
            if (take) cd->cols[n++] = k;
        }
        cd->n_cols = n;
        uint8_t *row = &el->col_applies[(size_t)cd->unit * el->n_cols];
        for (uint32_t k = 0; k < n; k++) row[cd->cols[k]] = 1;
    }
    for (uint32_t u = 0; u < nu; u++)
        for (uint32_t k = 0; k < el->n_cols; k++)
            if (el->cols[k].kind == PREP_CAT_COL_NOREG || el->cols[k].kind == PREP_CAT_COL_NULOS)
                el->col_applies[(size_t)u * el->n_cols + k] = 1;
    free(cmask);

    /* per unit: no party twice, independents numbered 1..n, at least one candidacy */
    for (uint32_t u = 0; u < nu; u++) {
        uint32_t a = el->cand_first[u], z = el->cand_first[u + 1];
        char ul[64], b1[24], b2[24];
        if (a == z) {
            /* the abroad unit (id 0) of an office the votes from abroad do not elect */
            int abroad = el->abroad_acta_type == PREP_CAT_ACTA_NONE &&
                         ((el->scope == PREP_CAT_SCOPE_DISTRICT && c->districts[u].id == 0) ||
                          (el->scope == PREP_CAT_SCOPE_MUNICIPALITY && c->municipalities[u].id == 0));
            if (!x->broken[SEC_CANDIDACIES] && !abroad) {
                unit_label(c, el, u, ul, sizeof ul);
                perr(x, x->el_line[e], 0, "unit-without-candidacy", "election '%s': %s ('%s') has no candidacy", el->id,
                     ul, prep_catalog_unit_name(c, e, u));
            }
            continue;
        }
        uint64_t seen = 0;
        uint32_t owner[64];
        long ind_line[PREP_CAT_MAX_INDEP + 1] = {0};
        for (uint32_t i = a; i < z; i++) {
            uint32_t k = el->cand_index[i];
            const prep_cat_candidacy *cd = &c->candidacies[k];
            if (cd->kind == PREP_CAT_CAND_INDEP) {
                uint32_t no = el->cols[cd->ref].indep_no;
                if (ind_line[no]) {
                    unit_label(c, el, u, ul, sizeof ul);
                    perr(x, x->cand_line[k], x->cand_ccol[k], "duplicate-id",
                         "election '%s', %s: CAND_IND_%u already has a candidacy on line %ld", el->id, ul,
                         (unsigned)no, ind_line[no]);
                    continue;
                }
                ind_line[no] = x->cand_line[k];
                continue;
            }
            uint64_t m = cand_mask(x, e, cd);
            uint64_t both = m & seen;
            if (both) {
                int p = __builtin_ctzll(both);
                const prep_cat_candidacy *od = &c->candidacies[owner[p]];
                unit_label(c, el, u, ul, sizeof ul);
                perr(x, x->cand_line[k], x->cand_ccol[k], "party-twice-in-unit",
                     "election '%s', %s: party '%s' is in '%s' and already in '%s' (line %ld)", el->id, ul,
                     c->parties[x->el_parties[e][p]].id, contender_id(c, cd, b1, sizeof b1),
                     contender_id(c, od, b2, sizeof b2), x->cand_line[owner[p]]);
                continue;
            }
            for (int p = 0; p < 64; p++)
                if (m >> p & 1) owner[p] = k;
            seen |= m;
        }
        /* No rule on gaps: CAND_IND_n may be numbered per unit (INE 2021: 1..k in each
         * district) or across the election (QROO 2019: district 14 has only CAND_IND_2,
         * district 15 only CAND_IND_3). */
    }
}

static void derive(pctx *x)
{
    prep_catalog *c = x->c;
    uint32_t ne = c->n_elections, nc = c->n_candidacies;
    /* candidacies grouped by election, file order kept */
    uint32_t *first = calloc((size_t)ne + 1, sizeof *first);
    uint32_t *order = malloc((nc ? nc : 1) * sizeof *order);
    uint32_t *fill = malloc(((size_t)ne + 1) * sizeof *fill);
    if (!first || !order || !fill) {
        x->f_oom = 1;
        goto out;
    }
    for (uint32_t i = 0; i < nc; i++) first[c->candidacies[i].election + 1]++;
    for (uint32_t e = 0; e < ne; e++) first[e + 1] += first[e];
    memcpy(fill, first, ((size_t)ne + 1) * sizeof *fill);
    for (uint32_t i = 0; i < nc; i++) order[fill[c->candidacies[i].election]++] = i;
    for (uint32_t e = 0; e < ne && !x->f_oom; e++) derive_election(x, e, order + first[e], first[e + 1] - first[e]);
out:
    free(first);
    free(order);
    free(fill);
}

/* ================================================================ entry points */

static void ctx_free(pctx *x)
{
    for (int s = 0; s < SEC_COUNT; s++) {
        free(x->t[s].line);
        free(x->t[s].f);
        free(x->t[s].col);
    }
    cat_map_free(&x->m_party);
    cat_map_free(&x->m_district);
    cat_map_free(&x->m_muni);
    cat_map_free(&x->m_election);
    cat_map_free(&x->m_coal);
    free(x->district_ids);
    free(x->muni_ids);
    free(x->sec_keys);
    free(x->sec_lines);
    cat_map_free(&x->m_sec);
    free(x->el_line);
    free(x->el_parties);
    free(x->el_np);
    free(x->el_max_indep);
    free(x->el_bad_scope);
    free(x->cand_line);
    free(x->cand_ccol);
}

prep_err prep_catalog_parse(const char *name, const char *data, size_t len, prep_catalog **out,
                            prep_diags *diags)
{
    if (out) *out = NULL;
    if (!out || (!data && len)) return PREP_ERR_USAGE;
    prep_diags local;
    prep_diags_init(&local);
    pctx x;
    memset(&x, 0, sizeof x);
    x.file = name ? name : "-";
    x.d = diags ? diags : &local;
    char *buf = malloc(len + 1);
    x.c = calloc(1, sizeof *x.c);
    if (!buf || !x.c) {
        free(buf);
        free(x.c);
        prep_diags_free(&local);
        return PREP_ERR_NOMEM;
    }
    if (len) memcpy(buf, data, len);
    buf[len] = 0;

    lex(&x, buf, len);
    if (!x.f_oom) do_process(&x);
    if (!x.f_oom) do_labels(&x);
    if (!x.f_oom) do_rules(&x);
    if (!x.f_oom) do_entities(&x);
    if (!x.f_oom) do_parties(&x);
    if (!x.f_oom) do_districts_munis(&x);
    if (!x.f_oom) do_sections(&x);
    if (!x.f_oom) do_casillas(&x);
    if (!x.f_oom) do_elections(&x);
    if (!x.f_oom) check_splits(&x);
    if (!x.f_oom) do_coalitions(&x);
    if (!x.f_oom) do_candidacies(&x);
    if (!x.f_oom) do_shapes(&x);
    if (!x.f_oom) derive(&x);

    prep_err rc = PREP_OK;
    if (x.f_oom) rc = PREP_ERR_NOMEM;
    else if (x.nerr) rc = x.f_limit ? PREP_ERR_LIMIT : x.f_parse ? PREP_ERR_PARSE : PREP_ERR_INVALID;
    else rc = prep_catalog_reindex(x.c);
    ctx_free(&x);
    free(buf);
    prep_diags_free(&local);
    if (rc) {
        prep_catalog_free(x.c);
        return rc;
    }
    *out = x.c;
    return PREP_OK;
}

prep_err prep_catalog_load(const char *path, prep_catalog **out, prep_diags *diags)
{
    if (out) *out = NULL;
    char *data = NULL;
    size_t len = 0;
    prep_err r = prep_read_file_diag(path, PREP_CAT_MAX_FILE, "the catalogue", &data, &len, diags);
    if (r) return r;
    r = prep_catalog_parse(path, data, len, out, diags);
    free(data);
    return r;
}
