/* prep actas: checking a published PREP results file against its own header block.
 *
 * No catalogue is needed: each row's CONTABILIZADA flag and OBSERVACIONES are the
 * institute's decision, the 13 figures are recounted from the rows under a rule profile
 * (catalog.h, prep_rules) and compared numerically with the figures the file states.
 * Where the file contradicts itself the rows behind it are named; with audit, each row's
 * status is also recomputed from its votes and compared with the flag.
 * docs/formats/actas.md, "Checking a published file". */
#include "actas_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- rows */

enum { FL_NONE, FL_0, FL_1, FL_2 };

typedef struct crow {
    uint32_t line;
    uint8_t flag, reason, arrived, out, special, abroad, all_zero, calc_ok;
    int64_t ln, reps, calc, vsum;
    uint32_t legible, blank;
    prep_time t;              /* capture instant (verificación, captura, acopio), or NONE */
    char clave[32];
    char tipo[8];             /* TIPO_ACTA as written: a casilla-keyed file's MR and RP */
    char unit[24];            /* ID_DISTRITO|ID_MUNICIPIO as written: a casilla of a split
                               * section has one acta in each unit under one key */
    char flag_text[8];
    char obs[64];
} crow;

typedef struct cctx {
    const char *name;
    prep_diags *d;
    const prep_filecheck_opts *o;
    actas_layout lay;
    int role[AR_COUNT];       /* file field of each role, -1 when absent */
    int *dup_of;              /* per field: the first field of a repeated role, else -1 */
    int *vote;                /* per field: 1 for a vote column */
    size_t nvote;
    crow *rows;
    size_t n, cap;
    size_t bad;
    /* layout variants seen */
    int apostrophe_keys, guard_keys, quoted, abroad, blank_rows, flags_seen[4];
    size_t other_reasons;
    char other_reason[64];
    int pdec[13];             /* decimals a percentage is computed and compared at: 4 (the
                               * Lineamientos'), or more when the file states it so */
    int pct_round;            /* percentages rounded half up, not truncated: the file's own
                               * figures show it (infer) */
} cctx;

static void layout_note(prep_filecheck_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void layout_note(prep_filecheck_report *r, const char *fmt, ...)
{
    size_t n = strlen(r->layout);
    if (n + 3 >= sizeof r->layout) return;
    if (n) {
        memcpy(r->layout + n, "; ", 3);
        n += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->layout + n, sizeof r->layout - n, fmt, ap);
    va_end(ap);
}

/* A key as written: leading apostrophes ('210001B0100, '280749B0100') and a spreadsheet
 * guard are dropped, so the key reads the same in every family. */
static void clean_key(char *f, cctx *x)
{
    if (f[0] == '\'') x->apostrophe_keys = 1;
    actas_unguard_key(f);
}

/* A count or amount field: digits; blank, "-", SIN DATO, ILEGIBLE are "absent" (1).
 * Returns 0 with *v, 1 when absent, -1 when it is not a number. */
static int parse_amount(const char *s, int64_t *v)
{
    int32_t t;
    if (actas_parse_vote(s, &t)) return -1;
    if (t < 0) return 1;
    *v = t;
    return 0;
}

/* ---------------------------------------------------------------- columns */

static int party_token(const char *s, size_t n)
{
    if (!n || n > PREP_CAT_MAX_ID_LEN || s[0] < 'A' || s[0] > 'Z') return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9'))) return 0;
    return 1;
}

/* 1 for a party (one token), 2 for a combination or candidatura común (C_/CC_ prefix, or
 * tokens joined by '_' or '-' that are all party columns of this file), 3 for an
 * independent (CAND_IND...), 4 for no registrados / nulos; 0 otherwise. */
static int vote_shape(const actas_layout *lay, const int *party, const char *nm)
{
    prep_cat_col_kind k;
    if (actas_special_col(nm, &k)) return 4;
    if (!strncmp(nm, "CAND_IND", 8) && nm[8]) return 3;
    if ((!strncmp(nm, "C_", 2) && nm[2]) || (!strncmp(nm, "CC_", 3) && nm[3])) return 2;
    if (party_token(nm, strlen(nm))) return 1;
    if (!party) return 0;
    /* MORENA_PT_PES, PAN-PRD: party-like parts, at least one of them a party column of
     * this file (Querétaro 2018 has MORENA_PT but its MORENA column is named M);
     * NUM_BOLETAS_SOBRANTES has none */
    size_t parts = 0, hits = 0;
    for (const char *p = nm; *p;) {
        size_t n = strcspn(p, "_-");
        if (!party_token(p, n)) return 0;
        int hit = 0;
        for (size_t i = 0; i < lay->ncols && !hit; i++)
            hit = party[i] && strlen(lay->cols[i]) == n && !strncmp(lay->cols[i], p, n);
        hits += hit;
        parts++;
        p += n;
        if (*p) p++;
    }
    return parts >= 2 && hits ? 2 : 0;
}

/* party[i] = 1 for the columns not known[] whose name is one party's shape (vote_shape 1). */
static int *party_columns(const actas_layout *lay, const int *known)
{
    int *party = prep_xcalloc(lay->ncols ? lay->ncols : 1, sizeof *party);
    for (size_t i = 0; i < lay->ncols; i++)
        if (!known[i] && vote_shape(lay, NULL, lay->cols[i]) == 1) party[i] = 1;
    return party;
}

static size_t vote_run(const actas_layout *lay, const int *known, const int *party, size_t *start)
{
    size_t nc = lay->ncols, best_a = 0, best_n = 0;
    for (size_t i = 0; i < nc;) {
        if (known[i] || !vote_shape(lay, party, lay->cols[i])) {
            i++;
            continue;
        }
        size_t a = i;
        while (i < nc && !known[i] && vote_shape(lay, party, lay->cols[i])) i++;
        if (i - a > best_n) best_a = a, best_n = i - a;
    }
    *start = best_a;
    return best_n;
}

size_t actas_vote_run(const actas_layout *lay, const int *known, size_t *start)
{
    int *party = party_columns(lay, known);
    size_t n = vote_run(lay, known, party, start);
    free(party);
    return n;
}

int *actas_foreign_columns(const actas_layout *lay)
{
    size_t nc = lay->ncols, first = nc, last = 0;
    int *known = prep_xcalloc(nc ? nc : 1, sizeof *known);
    for (size_t i = 0; i < nc; i++) known[i] = actas_role_of(lay->cols[i]) != AR_UNKNOWN;
    int *party = party_columns(lay, known);
    int *foreign = prep_xcalloc(nc ? nc : 1, sizeof *foreign);
    for (size_t i = 0; i < nc; i++)
        if (!known[i] && vote_shape(lay, party, lay->cols[i])) {
            if (first == nc) first = i;
            last = i;
        }
    for (size_t i = 0; i < nc; i++)
        foreign[i] = !known[i] && (first == nc || i < first || i > last) && !vote_shape(lay, party, lay->cols[i]);
    free(party);
    free(known);
    return foreign;
}

static int mapped(const cctx *x, const char *nm, int *is_vote)
{
    for (size_t i = 0; x->o && i < x->o->n_map; i++) {
        char n[128];
        actas_name_norm(x->o->map_name[i], n, sizeof n);
        if (!strcmp(n, nm)) {
            *is_vote = x->o->map_vote[i];
            return 1;
        }
    }
    return 0;
}

static prep_err map_columns(cctx *x)
{
    const actas_layout *lay = &x->lay;
    size_t nc = lay->ncols;
    for (int r = 0; r < AR_COUNT; r++) x->role[r] = -1;
    x->dup_of = prep_xcalloc(nc, sizeof *x->dup_of);
    x->vote = prep_xcalloc(nc, sizeof *x->vote);
    int *known = prep_xcalloc(nc, sizeof *known);
    int nerr = 0;
    for (size_t i = 0; i < nc; i++) {
        x->dup_of[i] = -1;
        int v;
        if (mapped(x, lay->cols[i], &v)) {
            known[i] = 1;
            x->vote[i] = v;
            continue;
        }
        actas_role r = actas_role_of(lay->cols[i]);
        if (r == AR_UNKNOWN) continue;
        known[i] = 1;
        if (r == AR_IGNORE) continue;
        if (x->role[r] < 0) x->role[r] = (int)i;
        else x->dup_of[i] = x->role[r];
    }
    size_t best_a, best_n = actas_vote_run(lay, known, &best_a);
    for (size_t i = 0; i < nc; i++) {
        if (known[i]) continue;
        if (i >= best_a && i < best_a + best_n) {
            x->vote[i] = 1;
            continue;
        }
        prep_diags_add(x->d, x->name, x->lay.header_line, (long)i + 1, "unknown-column",
                       "column %zu '%s' is neither a field of the PREP layout nor among the vote columns "
                       "(columns %zu-%zu); map it with --column '%s=ignore' or '%s=vote'",
                       i + 1, lay->cols[i], best_a + 1, best_a + best_n, lay->cols[i], lay->cols[i]);
        nerr++;
    }
    for (size_t i = 0; i < nc; i++) {
        if (!x->vote[i]) continue;
        x->nvote++;
        for (size_t j = 0; j < i; j++)
            if (x->vote[j] && !strcmp(lay->cols[i], lay->cols[j])) {
                prep_diags_add(x->d, x->name, x->lay.header_line, (long)i + 1, "duplicate-column",
                               "vote column '%s' appears twice (columns %zu and %zu): which one counts is "
                               "not knowable",
                               lay->cols[i], j + 1, i + 1);
                nerr++;
            }
    }
    if (!x->nvote) {
        prep_diags_add(x->d, x->name, x->lay.header_line, 0, "no-vote-columns",
                       "no vote columns (parties, combinations, CAND_IND_*, NO_REGISTRADOS, NULOS)");
        nerr++;
    }
    if (x->role[AR_CONTABILIZADA] < 0) {
        prep_diags_add(x->d, x->name, x->lay.header_line, 0, "missing-column",
                       "no CONTABILIZADA column: the institute's decision on each acta is not in the file");
        nerr++;
    }
    free(known);
    return nerr ? PREP_ERR_PARSE : PREP_OK;
}

/* ---------------------------------------------------------------- reading rows */

static int row_bad(cctx *x, long line, long col, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int row_bad(cctx *x, long line, long col, const char *kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    prep_diags_vadd(x->d, x->name, line, col, kind, fmt, ap);
    va_end(ap);
    x->bad++;
    return -1;
}

static int read_row(cctx *x, char **f, size_t nf, long line, crow *r)
{
    char cb[64];
    memset(r, 0, sizeof *r);
    r->line = (uint32_t)line;
    const size_t nc = x->lay.ncols;
    if (nf < nc)
        return row_bad(x, line, (long)nf + 1, "short-row", "%zu fields for %zu columns: the row is cut short", nf,
                       nc);
    for (size_t i = nc; i < nf; i++)
        if (actas_unquote(f[i])[0])
            return row_bad(x, line, (long)i + 1, "extra-field", "field %zu '%s' lies beyond the %zu columns", i + 1,
                           actas_clip(f[i], cb), nc);
    for (size_t i = 0; i < nc; i++) {
        if (f[i][0] == '=' && f[i][1] == '"') x->guard_keys = 1;
        actas_unquote(f[i]);
    }
    for (size_t i = 0; i < nc; i++)
        if (x->dup_of[i] >= 0 && strcmp(f[i], f[x->dup_of[i]]))
            return row_bad(x, line, (long)i + 1, "duplicate-column-differs",
                           "column '%s' appears twice and its values differ here ('%s' and '%s')", x->lay.cols[i],
                           actas_clip(f[x->dup_of[i]], cb), f[i]);
    int fk = x->role[AR_CLAVE_ACTA] >= 0 ? x->role[AR_CLAVE_ACTA] : x->role[AR_CLAVE_CASILLA];
    if (fk >= 0) {
        clean_key(f[fk], x);
        snprintf(r->clave, sizeof r->clave, "%s", f[fk]);
    }
    if (x->role[AR_CLAVE_CASILLA] >= 0 && x->role[AR_CLAVE_CASILLA] != fk) clean_key(f[x->role[AR_CLAVE_CASILLA]], x);
    /* which of two rows of one acta is the later capture (drop_repeats): its instant in
     * prep_actas_instant's order, read in one zone for the whole file */
    r->t = PREP_TIME_NONE;
    static const actas_role tr[] = {AR_VERIFICACION, AR_CAPTURA, AR_ACOPIO};
    for (size_t i = 0; i < PREP_ARRAY_LEN(tr) && r->t == PREP_TIME_NONE; i++) {
        int fi = x->role[tr[i]];
        if (fi < 0) continue;
        char ts[64];
        snprintf(ts, sizeof ts, "%s", f[fi]);
        actas_unquote(ts);
        prep_time t;
        if (!actas_is_blank(ts) && !prep_time_parse(ts, "UTC", &t)) r->t = t;
    }
    if (x->role[AR_TIPO_ACTA] >= 0) {
        snprintf(r->tipo, sizeof r->tipo, "%s", f[x->role[AR_TIPO_ACTA]]);
        actas_unquote(r->tipo);
    }
    snprintf(r->unit, sizeof r->unit, "%.11s|%.11s", x->role[AR_ID_DISTRITO] >= 0 ? f[x->role[AR_ID_DISTRITO]] : "",
             x->role[AR_ID_MUNICIPIO] >= 0 ? f[x->role[AR_ID_MUNICIPIO]] : "");
    /* the institute's decision */
    int fc = x->role[AR_CONTABILIZADA];
    const char *fl = f[fc];
    snprintf(r->flag_text, sizeof r->flag_text, "%s", fl);
    int fv = actas_parse_flag(fl);
    if (fv == 1) r->flag = FL_1;
    else if (fv == 0) r->flag = FL_0;
    else if (fv == 2) r->flag = FL_2;
    else if (fv == -1) r->flag = FL_NONE;
    else
        return row_bad(x, line, fc + 1, "bad-flag", "CONTABILIZADA '%s' is not 0, 1, 2, '-' or empty",
                       actas_clip(fl, cb));
    x->flags_seen[r->flag] = 1;
    char on[128] = "";
    if (x->role[AR_OBSERVACIONES] >= 0) {
        snprintf(r->obs, sizeof r->obs, "%s", f[x->role[AR_OBSERVACIONES]]);
        actas_norm(f[x->role[AR_OBSERVACIONES]], on, sizeof on);
    }
    r->reason = (uint8_t)actas_obs_reason(on);
    if (r->reason == RS_OTHER && !x->other_reasons++) snprintf(x->other_reason, sizeof x->other_reason, "%.63s", on);
    /* amounts */
    static const actas_role amt[] = {AR_LISTA_NOMINAL, AR_REPRESENTANTES, AR_TOTAL_CALCULADO};
    int64_t *dst[] = {&r->ln, &r->reps, &r->calc};
    for (size_t k = 0; k < PREP_ARRAY_LEN(amt); k++) {
        int fi = x->role[amt[k]];
        *dst[k] = 0;
        if (fi < 0) continue;
        int rc = parse_amount(f[fi], dst[k]);
        if (rc < 0)
            return row_bad(x, line, fi + 1, "bad-number", "%s '%s' is not a number", x->lay.cols[fi],
                           actas_clip(f[fi], cb));
        if (amt[k] == AR_TOTAL_CALCULADO) r->calc_ok = rc == 0;
    }
    /* votes */
    uint32_t zero = 0;
    int any = 0;
    for (size_t i = 0; i < nc; i++) {
        if (!x->vote[i]) continue;
        int32_t v;
        if (actas_parse_vote(f[i], &v))
            return row_bad(x, line, (long)i + 1, "bad-vote",
                           "%s '%s' is not a vote count (0..999999999, ILEGIBLE, SIN DATO, '-' or empty)",
                           x->lay.cols[i], actas_clip(f[i], cb));
        if (v >= 0) {
            r->vsum += v;
            r->legible++;
            zero += v == 0;
            any = 1;
        } else if (v == PREP_ACTA_V_ILEGIBLE || (v == PREP_ACTA_V_SIN_DATO && f[i][0])) {
            r->blank++;
            any = 1;
        }
    }
    r->all_zero = r->legible && zero == r->legible && !r->blank;
    r->arrived = r->flag != FL_NONE || !actas_is_blank(on) || any || r->calc_ok; /* "-", N/A: none */
    const char *key = r->clave;
    /* out of catalogue: so said, or a key "-" (LEEME INE 2021), or TIPO_ACTA 0 / "-" (LEEME
     * INE 2018: "este valor viene en cero para actas fuera de catálogo"; 2021: guion) */
    int fa = x->role[AR_TIPO_ACTA];
    int tipo_out = fa >= 0 && (!strcmp(f[fa], "0") || !strcmp(f[fa], "00") || !strcmp(f[fa], "-"));
    /* such a row is never an expected acta, arrived or not (INE 2021 writes "-" in every
     * field of its 3,225 out-of-catalogue rows: segasi/tdd_prep_2021's reading script) */
    r->out = r->reason == RS_OUT || !key[0] || !strcmp(key, "-") || tipo_out;
    if (!strcmp(key, "-") || tipo_out) r->arrived = 1; /* only a captured acta is listed so */
    int ft = x->role[AR_TIPO_CASILLA];
    char tipo = ft >= 0 ? f[ft][0] : 0;
    if (!tipo && x->role[AR_CLAVE_CASILLA] >= 0 && strlen(f[x->role[AR_CLAVE_CASILLA]]) >= 7)
        tipo = f[x->role[AR_CLAVE_CASILLA]][6];
    r->special = tipo == 'S' || tipo == 's';
    r->abroad = prep_cat_type_mesa((char)(tipo >= 'a' && tipo <= 'z' ? tipo - 32 : tipo)); /* M, A, P */
    x->abroad += r->abroad;
    return 0;
}

static int same_acta(const crow *p, const crow *q)
{
    int c = strcmp(p->clave, q->clave);
    if (!c) c = strcmp(p->tipo, q->tipo);
    if (!c) c = strcmp(p->unit, q->unit);
    return c;
}

/* Rows of one acta (same key, TIPO_ACTA and unit) ordered by key, the one that counts last:
 * a row of an acta that arrived after one that did not (the tally never reads the latter),
 * then prep_actas_supersedes's order: the later instant (none is the earliest), else the
 * later line. A total order, so qsort leaves the same row last whatever the input order. */
static int cmp_repeat(const void *a, const void *b)
{
    const crow *p = *(const crow *const *)a, *q = *(const crow *const *)b;
    int c = same_acta(p, q);
    if (c) return c;
    if (p->arrived != q->arrived) return p->arrived < q->arrived ? -1 : 1;
    if (p->t != q->t) return p->t < q->t ? -1 : 1; /* PREP_TIME_NONE is INT64_MIN: first */
    return p->line < q->line ? -1 : p->line > q->line;
}

/* An acta on two rows of a published file (a correction appended, a row pasted twice)
 * counts once, as the later capture, the way the tally counts captures: each earlier row
 * is left out of the figures and named (diag "repeated-acta"). One acta is one key,
 * TIPO_ACTA and unit (district and municipality: Campeche 2021's split sections and juntas
 * write one casilla's key in two units, an acta in each). Never merged: rows without
 * a key, out of catalogue ("-"), and a special casilla's, whose two rows under one key are
 * its two actas, majority and proportional (Sonora 2021 writes both with the same
 * CLAVE_ACTA and TIPO_ACTA; its block counts both). Returns how many rows were left out. */
static size_t drop_repeats(cctx *x)
{
    crow **ix = prep_xmalloc((x->n + 1) * sizeof *ix);
    size_t m = 0;
    for (size_t i = 0; i < x->n; i++)
        if (x->rows[i].clave[0] && !x->rows[i].out && !x->rows[i].special) ix[m++] = &x->rows[i];
    qsort(ix, m, sizeof *ix, cmp_repeat);
    uint8_t *gone = prep_xcalloc(x->n + 1, 1);
    size_t dropped = 0;
    for (size_t i = 0, j; i < m; i = j) {
        for (j = i + 1; j < m && !same_acta(ix[i], ix[j]); j++) {}
        const crow *keep = ix[j - 1]; /* the group's last: the capture that counts */
        for (size_t k = i; k + 1 < j; k++) {
            gone[ix[k] - x->rows] = 1;
            dropped++;
            prep_diags_add(x->d, x->name, ix[k]->line, 0, "repeated-acta",
                           "acta %s is also on line %lu, the capture that counts (the later one): this row is "
                           "left out of the figures, as the tally leaves it out",
                           ix[k]->clave, (unsigned long)keep->line);
        }
    }
    size_t w = 0;
    for (size_t i = 0; i < x->n; i++)
        if (!gone[i]) x->rows[w++] = x->rows[i];
    x->n = w;
    free(gone);
    free(ix);
    return dropped;
}

static void push_row(cctx *x, const crow *r)
{
    if (x->n == x->cap) {
        x->cap = x->cap ? 2 * x->cap : 1024;
        x->rows = prep_xrealloc(x->rows, x->cap * sizeof *x->rows);
    }
    x->rows[x->n++] = *r;
}

/* ---------------------------------------------------------------- figures */

typedef struct figs {
    int64_t v[13];  /* counts; percentages as value x 10^pdec, truncated */
} figs;

static const int64_t p10[10] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};

/* num/den as a percentage with dec decimals, truncated (the Lineamientos: "el decimal de la
 * cuarta posición deberá truncarse y no redondearse"), or rounded half up, as value x 10^dec */
static int64_t pct(int64_t num, int64_t den, int dec, int round)
{
    if (den <= 0) return 0;
    __int128 q = (__int128)num * 100 * p10[dec];
    return (int64_t)(round ? (2 * q + den) / (2 * (__int128)den) : q / den);
}

static int is_pct(int i)
{
    return i == 4 || i == 6 || i == 7 || i == 12;
}

static uint8_t inc_bit(uint8_t reason)
{
    switch (reason) {
    case RS_SOME: return PREP_INC_SOME_ILLEGIBLE;
    case RS_ALL: return PREP_INC_ALL_ILLEGIBLE;
    case RS_EXCEEDS: return PREP_INC_EXCEEDS;
    case RS_NOACTA: return PREP_INC_NO_ACTA;
    default: return 0;
    }
}

static int64_t row_total(const crow *r, int use_calc)
{
    return use_calc && r->calc_ok ? r->calc : r->vsum;
}

static void compute(const cctx *x, const prep_rules *ru, int use_calc, figs *g, int *final_cut)
{
    int forced_final = x->o && x->o->final_cut;
    int64_t esp = 0, reg = 0, out = 0, cap = 0, cont = 0, nc = 0, inc = 0, ln = 0, ccs = 0, scs = 0;
    for (size_t i = 0; i < x->n; i++) {
        const crow *r = &x->rows[i];
        if (r->out) {
            out += r->arrived;
            reg += r->arrived;
            continue;
        }
        esp++;
        if (!r->arrived) continue;
        reg++;
        cap++;
        if (r->flag == FL_1) {
            cont++;
            ln += r->ln;
            int64_t t = row_total(r, use_calc);
            ccs += t;
            if (!r->special) scs += t;
        } else if (r->flag == FL_0 || r->flag == FL_2) {
            nc++;
        }
        if (ru->inconsistent & inc_bit(r->reason)) inc++;
    }
    if (ru->no_counted_out_of_catalog) nc += out;
    int fin = forced_final || cap == esp;
    int with_specials = ru->specials == PREP_CAT_SPECIALS_INCLUDE || (ru->specials == PREP_CAT_SPECIALS_FINAL_ONLY && fin);
    const int *pd = x->pdec;
    int rd = x->pct_round;
    int64_t v[13] = {esp,         reg, out, cap, pct(cap, esp, pd[4], rd), cont, pct(cont, esp, pd[6], rd),
                     pct(inc, esp, pd[7], rd), nc, ln, ccs, scs, pct(with_specials ? ccs : scs, ln, pd[12], rd)};
    memcpy(g->v, v, sizeof v);
    if (final_cut) *final_cut = fin;
}

static void format_fig(int i, int64_t v, int dec, char out[32])
{
    if (is_pct(i)) snprintf(out, 32, "%lld.%0*lld", (long long)(v / p10[dec]), dec, (long long)(v % p10[dec]));
    else snprintf(out, 32, "%lld", (long long)v);
}

/* The decimals of a stated percentage when more than 4 (at most 9), else 4: a file that
 * writes 95.084269 is compared at 6 decimals, as the tally formats it (its derived
 * catalogue's percent_decimals); fewer than 4 are compared at 4 ("0" for 0.0000). */
static int stated_decimals(const char *s)
{
    int d = actas_decimals_written(s);
    return d > 4 && d <= 9 ? d : 4;
}

/* prep_actas_figure_parse at dec decimals (a percentage as value x 10^dec). */
static int figure_parse_dec(const char *s, int fig, int dec, int64_t *out)
{
    int pct = is_pct(fig);
    char b[48];
    size_t n = 0;
    for (const char *p = s; *p && n + 1 < sizeof b; p++) {
        if (*p == '\'' || *p == '"' || *p == '=' || *p == '%' || *p == ' ') continue;
        b[n++] = *p;
    }
    b[n] = 0;
    /* thousands separators: ',' followed by exactly three digits, more than once or
     * with no '.' after; a lone ',' before 1-2 or 4+ digits would be a decimal comma */
    char c[48];
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (b[i] == ',') {
            size_t k = i + 1;
            while (k < n && b[k] >= '0' && b[k] <= '9') k++;
            if (k - i - 1 != 3 || i == 0) return -1;
            continue;
        }
        c[m++] = b[i];
    }
    c[m] = 0;
    if (!m) return -1;
    int64_t ip = 0, fp = 0;
    int fd = 0, seen_dot = 0;
    for (size_t i = 0; i < m; i++) {
        if (c[i] == '.' && !seen_dot) {
            seen_dot = 1;
            continue;
        }
        if (c[i] < '0' || c[i] > '9') return -1;
        if (!seen_dot) {
            if (ip > (INT64_MAX - 9) / 10) return -1;
            ip = ip * 10 + (c[i] - '0');
        } else if (fd < dec) {
            fp = fp * 10 + (c[i] - '0');
            fd++;
        } else if (c[i] != '0') {
            return -1; /* more precision than the figure has: not equal to any such value */
        }
    }
    if (seen_dot && !pct && fd) return -1;
    while (fd < dec) fp *= 10, fd++;
    if (pct && ip > (INT64_MAX - fp) / p10[dec]) return -1; /* no figure is that large */
    *out = pct ? ip * p10[dec] + fp : ip;
    return 0;
}

int prep_actas_figure_parse(const char *s, int fig, int64_t *out)
{
    return figure_parse_dec(s, fig, 4, out);
}

/* ---------------------------------------------------------------- findings and notes */

static void add_row(prep_filecheck_row **v, size_t *n, const crow *r, const char *kind, const char *rule,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void add_row(prep_filecheck_row **v, size_t *n, const crow *r, const char *kind, const char *rule,
                    const char *fmt, ...)
{
    if ((*n & (*n - 1)) == 0) *v = prep_xrealloc(*v, (*n ? 2 * *n : 1) * sizeof **v);
    prep_filecheck_row *o = &(*v)[(*n)++];
    memset(o, 0, sizeof *o);
    o->line = r->line;
    snprintf(o->clave_acta, sizeof o->clave_acta, "%s", r->clave);
    snprintf(o->kind, sizeof o->kind, "%s", kind);
    snprintf(o->flag, sizeof o->flag, "%s", r->flag_text);
    snprintf(o->observaciones, sizeof o->observaciones, "%s", r->obs);
    snprintf(o->rule, sizeof o->rule, "%s", rule ? rule : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->text, sizeof o->text, fmt, ap);
    va_end(ap);
}

static void findings(const cctx *x, prep_filecheck_report *rep)
{
    for (size_t i = 0; i < x->n; i++) {
        const crow *r = &x->rows[i];
        if (!r->arrived) continue;
        if (r->calc_ok && r->calc != r->vsum)
            add_row(&rep->findings, &rep->n_findings, r, "calculated-total", NULL,
                    "TOTAL_VOTOS_CALCULADO %lld but its vote fields add up to %lld", (long long)r->calc,
                    (long long)r->vsum);
        if ((r->flag == FL_0 || r->flag == FL_2) && r->reason == RS_NONE)
            add_row(&rep->findings, &rep->n_findings, r, "not-counted-without-reason", NULL,
                    "CONTABILIZADA %s with no OBSERVACIONES: not counted, and no reason given", r->flag_text);
        if (r->flag == FL_1 && (r->reason == RS_ALL || r->reason == RS_EXCEEDS || r->reason == RS_NOACTA))
            add_row(&rep->findings, &rep->n_findings, r, "counted-with-reason", NULL,
                    "CONTABILIZADA 1 although OBSERVACIONES gives a reason not to count it");
    }
}

static void note_lines(prep_filecheck_figure *f, const cctx *x, int (*pick)(const crow *))
{
    f->n_lines = 0;
    for (size_t i = 0; i < x->n && f->n_lines < PREP_FILECHECK_MAX_LINES; i++)
        if (pick(&x->rows[i])) f->lines[f->n_lines++] = x->rows[i].line;
}

static int pick_flag_no_reason(const crow *r)
{
    return !r->out && r->arrived && (r->flag == FL_0 || r->flag == FL_2) && r->reason == RS_NONE;
}
static int pick_flag_2(const crow *r)
{
    return !r->out && r->flag == FL_2;
}
static int pick_counted_votes(const crow *r)
{
    return !r->out && r->flag == FL_1 && (r->calc_ok ? r->calc : r->vsum) > 0;
}
static int pick_counted_special_votes(const crow *r)
{
    return pick_counted_votes(r) && !r->special;
}
static int pick_calc_differs(const crow *r)
{
    return !r->out && r->flag == FL_1 && r->calc_ok && r->calc != r->vsum;
}

static size_t count_rows(const cctx *x, int (*pick)(const crow *))
{
    size_t n = 0;
    for (size_t i = 0; i < x->n; i++) n += pick(&x->rows[i]) != 0;
    return n;
}

/* Why figure i differs, when the rows tell. */
static void explain(const cctx *x, int i, int64_t stated, const figs *g, const figs *g_fields,
                    prep_filecheck_figure *f)
{
    if ((i == 1 || i == 2) && g->v[2] == 0 && stated > g->v[i]) {
        /* a file that does not list its fuera de catálogo actas: nothing to recount them from */
        snprintf(f->note, sizeof f->note,
                 "the file lists no acta out of catalogue (no row says FUERA DE CATALOGO), so the %lld the "
                 "figure counts beyond the rows cannot be recounted",
                 (long long)(stated - g->v[i]));
        return;
    }
    if (i == 8) {
        static const struct {
            int (*pick)(const crow *);
            const char *what;
        } left_out[] = {
            {pick_flag_2, "row(s) flagged CONTABILIZADA 2 (read here as not counted)"},
            {pick_flag_no_reason, "row(s) flagged CONTABILIZADA 0 that carry no OBSERVACIONES"},
        };
        for (size_t m = 0; m < PREP_ARRAY_LEN(left_out); m++) {
            size_t k = count_rows(x, left_out[m].pick);
            if (!k || stated != g->v[8] - (int64_t)k) continue;
            snprintf(f->note, sizeof f->note, "the file's figure leaves out the %zu %s (with them the rows give %lld)",
                     k, left_out[m].what, (long long)g->v[8]);
            note_lines(f, x, left_out[m].pick);
            return;
        }
        return;
    }
    if (i == 10 || i == 11) {
        if (stated == g_fields->v[i] && g_fields->v[i] != g->v[i]) {
            snprintf(f->note, sizeof f->note,
                     "the file's figure is the sum of the vote fields; its TOTAL_VOTOS_CALCULADO column "
                     "disagrees with them in %zu counted row(s)",
                     count_rows(x, pick_calc_differs));
            note_lines(f, x, pick_calc_differs);
        } else if (stated == 0 && g->v[i] > 0) {
            int (*pick)(const crow *) = i == 10 ? pick_counted_votes : pick_counted_special_votes;
            snprintf(f->note, sizeof f->note,
                     "the file states 0 but %zu counted acta(s)%s carry %lld votes: the header block "
                     "contradicts the file's own rows",
                     count_rows(x, pick), i == 11 ? " of non-special casillas" : "", (long long)g->v[i]);
            note_lines(f, x, pick);
        }
    }
}

/* ---------------------------------------------------------------- rule inference */

static int stated_num(const cctx *x, const prep_filecheck_report *rep, int i, int64_t *v)
{
    return rep->fig[i].has_stated && !figure_parse_dec(rep->fig[i].stated, i, x->pdec[i], v);
}

static int popcount4(unsigned v)
{
    return (int)(v & 1) + (int)((v >> 1) & 1) + (int)((v >> 2) & 1) + (int)((v >> 3) & 1);
}

/* With no profile given, a choice of the default profile that the file's own figures
 * show to be otherwise is taken from the file and reported. */
static void infer(cctx *x, prep_filecheck_report *rep, int use_calc)
{
    prep_rules *ru = &rep->rules;
    figs g;
    int64_t s;
    char buf[96];
    size_t n = 0;
    compute(x, ru, use_calc, &g, NULL);
    if (stated_num(x, rep, 7, &s) && s != g.v[7]) {
        unsigned best = ru->inconsistent;
        int best_d = 99;
        for (unsigned set = 0; set <= PREP_INC_ALL; set++) {
            prep_rules t = *ru;
            t.inconsistent = set;
            figs h;
            compute(x, &t, use_calc, &h, NULL);
            int dist = popcount4(set ^ ru->inconsistent);
            if (h.v[7] == s && dist < best_d) best = set, best_d = dist;
        }
        if (best != ru->inconsistent) {
            ru->inconsistent = best;
            prep_catalog_rules_inconsistent_text(best, buf, sizeof buf);
            n += (size_t)snprintf(rep->rules_inferred + n, sizeof rep->rules_inferred - n, "%sinconsistent = %s",
                                  n ? "; " : "", buf);
        }
    }
    compute(x, ru, use_calc, &g, NULL);
    if (stated_num(x, rep, 8, &s) && s != g.v[8]) {
        prep_rules t = *ru;
        t.no_counted_out_of_catalog = !t.no_counted_out_of_catalog;
        figs h;
        compute(x, &t, use_calc, &h, NULL);
        if (h.v[8] == s) {
            ru->no_counted_out_of_catalog = t.no_counted_out_of_catalog;
            n += (size_t)snprintf(rep->rules_inferred + n, sizeof rep->rules_inferred - n,
                                  "%sno_counted_out_of_catalog = %s", n ? "; " : "",
                                  t.no_counted_out_of_catalog ? "yes" : "no");
        }
    }
    if (stated_num(x, rep, 12, &s) && s != g.v[12]) {
        for (int m = PREP_CAT_SPECIALS_EXCLUDE; m <= PREP_CAT_SPECIALS_INCLUDE; m++) {
            prep_rules t = *ru;
            t.specials = (prep_cat_specials_mode)m;
            figs h;
            compute(x, &t, use_calc, &h, NULL);
            if (h.v[12] == s) {
                ru->specials = t.specials;
                n += (size_t)snprintf(rep->rules_inferred + n, sizeof rep->rules_inferred - n,
                                      "%sparticipation_specials = %s", n ? "; " : "",
                                      prep_catalog_rules_specials_name(t.specials));
                break;
            }
        }
    }
    /* percentages rounded instead of truncated (an export's number_format or ROUND): taken
     * when it makes every stated percentage that differs equal, and breaks none */
    compute(x, ru, use_calc, &g, NULL);
    figs r;
    x->pct_round = 1;
    compute(x, ru, use_calc, &r, NULL);
    x->pct_round = 0;
    int fixed = 0, broken = 0;
    for (int i = 0; i < 13; i++) {
        if (!is_pct(i) || !stated_num(x, rep, i, &s)) continue;
        if (s != g.v[i] && s == r.v[i]) fixed++;
        else if (s != r.v[i]) broken++;
    }
    if (fixed && !broken) {
        x->pct_round = 1;
        n += (size_t)snprintf(rep->rules_inferred + n, sizeof rep->rules_inferred - n,
                              "%spercentages rounded, not truncated", n ? "; " : "");
    }
    (void)n;
}

/* ---------------------------------------------------------------- audit */

static void audit(const cctx *x, prep_filecheck_report *rep)
{
    const prep_rules *ru = &rep->rules;
    for (size_t i = 0; i < x->n; i++) {
        const crow *r = &x->rows[i];
        if (!r->arrived || r->out || (r->flag != FL_0 && r->flag != FL_1 && r->flag != FL_2)) continue;
        prep_acta_status st;
        int64_t cap = (r->special ? (int64_t)ru->special_ballots : r->ln) + (ru->cap_representatives ? r->reps : 0);
        if (r->reason == RS_NOACTA) st = PREP_ACTA_NC_NO_ACTA;
        else if (!r->legible) st = PREP_ACTA_NC_ALL_ILLEGIBLE;
        else if (r->vsum > cap && !(r->abroad && !r->ln)) st = PREP_ACTA_NC_EXCEEDS_LN; /* abroad: no LN in the file */
        else if (r->blank) st = PREP_ACTA_COUNTED_SOME_ILLEGIBLE;
        else st = PREP_ACTA_COUNTED;
        const char *tag = prep_actas_status_tag(st);
        int counted = prep_acta_status_counted(st);
        if (r->flag == FL_1 && !counted) {
            if (st == PREP_ACTA_NC_EXCEEDS_LN)
                add_row(&rep->audit, &rep->n_audit, r, "counted-over-cap", tag,
                        "counted although its %lld votes exceed the cap of %lld (%s %lld + representatives %lld)",
                        (long long)r->vsum, (long long)cap, r->special ? "special ballots" : "lista nominal",
                        (long long)(r->special ? ru->special_ballots : r->ln), (long long)r->reps);
            else if (st == PREP_ACTA_NC_ALL_ILLEGIBLE)
                add_row(&rep->audit, &rep->n_audit, r, "counted-all-illegible", tag,
                        "counted although no vote field is legible");
            else
                add_row(&rep->audit, &rep->n_audit, r, "counted-no-acta", tag,
                        "counted although OBSERVACIONES says there is no acta");
        } else if (r->flag != FL_1 && counted) {
            if (r->all_zero && (r->reason == RS_ALL || r->reason == RS_EXCEEDS)) {
                rep->audit_not_recomputable++;
                continue; /* the institute writes 0 in every field of such an acta */
            }
            add_row(&rep->audit, &rep->n_audit, r, "not-counted-legible", tag,
                    "not counted although %u vote field(s) are legible and its %lld votes are within the cap of "
                    "%lld",
                    r->legible, (long long)r->vsum, (long long)cap);
        } else if (r->flag == FL_1 && st == PREP_ACTA_COUNTED_SOME_ILLEGIBLE && r->reason == RS_NONE) {
            add_row(&rep->audit, &rep->n_audit, r, "illegible-not-noted", tag,
                    "counted with %u vote field(s) ILEGIBLE or SIN DATO, but OBSERVACIONES does not say so",
                    r->blank);
        } else if (r->flag != FL_1 && !counted && st == PREP_ACTA_NC_EXCEEDS_LN && r->reason == RS_ALL) {
            add_row(&rep->audit, &rep->n_audit, r, "reason-differs", tag,
                    "flagged all illegible, but its legible fields add up to %lld, over the cap of %lld",
                    (long long)r->vsum, (long long)cap);
        }
    }
}

/* ---------------------------------------------------------------- the check */

static uint32_t year_of(const char *s)
{
    for (const char *p = s; *p; p++)
        if ((p == s || p[-1] < '0' || p[-1] > '9') && p[0] == '2' && p[1] == '0' && p[2] >= '0' && p[2] <= '9' &&
            p[3] >= '0' && p[3] <= '9' && (p[4] < '0' || p[4] > '9'))
            return (uint32_t)((p[2] - '0') * 10 + (p[3] - '0') + 2000);
    return 0;
}

static void choose_rules(const cctx *x, prep_filecheck_report *rep, const prep_filecheck_opts *o, uint32_t entity)
{
    if (o && o->rules) {
        rep->rules = *o->rules;
        snprintf(rep->rules_source, sizeof rep->rules_source, "given: %s", o->rules->name);
        return;
    }
    uint32_t year = year_of(rep->cut_text);
    char en[128];
    actas_norm(rep->election, en, sizeof en);
    int federal = x->role[AR_ID_DISTRITO] >= 0 && !strcmp(x->lay.cols[x->role[AR_ID_DISTRITO]], "ID_DISTRITO_FEDERAL");
    federal |= actas_federal_name(en);
    const char *p = !federal && entity ? prep_catalog_rules_preset_for(entity, year) : NULL;
    prep_catalog_rules_preset(p ? p : "ine", &rep->rules);
    if (p)
        snprintf(rep->rules_source, sizeof rep->rules_source, "preset %s (entity %u, %u)", p, (unsigned)entity,
                 (unsigned)year);
    else
        snprintf(rep->rules_source, sizeof rep->rules_source,
                 "default ine (no preset for entity %u in %u%s)", (unsigned)entity, (unsigned)year,
                 federal ? ", federal election" : "");
    /* a special casilla's ballots: 750 until 2020, 1,000 from the 2020-2021 process
     * (docs/formats/actas.md, source 4); the file's cut tells the year */
    if (!p && year && year < 2021 && rep->rules.special_ballots == 1000) rep->rules.special_ballots = 750;
}

/* An empty report: no figure stated or computed, each named (a file refused before its
 * layout is read still reports the 13 figures by name: `prep tally --check --json`). */
static void report_reset(prep_filecheck_report *rep)
{
    memset(rep, 0, sizeof *rep);
    for (int i = 0; i < 13; i++) rep->fig[i].name = prep_actas_summary_names[i];
}

prep_err prep_actas_check(const char *name, const char *data, size_t len, const prep_filecheck_opts *o,
                          prep_filecheck_report *rep, prep_diags *d)
{
    report_reset(rep);
    cctx x = {.name = name, .d = d, .o = o};
    char *text = NULL;
    int latin1 = 0;
    /* raw layout facts, before decoding */
    int bom = len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3);
    const char *crlf = memmem(data, len, "\r\n", 2);
    const char *cr = memchr(data, '\r', len);
    int cr_only = cr && (size_t)(cr - data) + 1 < len && cr[1] != '\n';
    actas_lines it;
    prep_err err = actas_begin(name, data, len, NULL, &text, &it, &x.lay, &latin1, d);
    if (err) goto out;
    snprintf(rep->election, sizeof rep->election, "%s", x.lay.hdr.election_name ? x.lay.hdr.election_name : "");
    snprintf(rep->cut_text, sizeof rep->cut_text, "%s", x.lay.hdr.cut_text ? x.lay.hdr.cut_text : "");
    layout_note(rep, "separator '%c'%s", x.lay.sep, x.lay.sep_line ? " (sep= line)" : "");
    layout_note(rep, "%s", latin1 ? "Latin-1" : bom ? "UTF-8 with BOM" : "UTF-8");
    layout_note(rep, "%s line ends", cr_only ? "CR" : crlf ? "CRLF" : "LF");
    layout_note(rep, "%zu figures in the header block", x.lay.hdr.n_summary);
    if ((err = map_columns(&x))) goto out;
    rep->n_vote_cols = x.nvote;
    {
        char *line;
        size_t ll;
        long no;
        char **f = prep_xcalloc(PREP_ACTAS_MAX_FIELDS, sizeof *f);
        while (actas_next_line(&it, &line, &ll, &no)) {
            if (ll > PREP_ACTAS_MAX_LINE) {
                row_bad(&x, no, 0, "line-too-long", "line of %zu bytes (limit %d)", ll, PREP_ACTAS_MAX_LINE);
                continue;
            }
            size_t k = 0;
            while (line[k] == x.lay.sep || line[k] == ' ' || line[k] == '\t') k++;
            if (!line[k]) {
                x.blank_rows++;
                continue;
            }
            if (x.n + x.bad >= PREP_ACTAS_MAX_ROWS) {
                prep_diags_add(d, name, no, 0, "too-many-rows", "more than %d rows", PREP_ACTAS_MAX_ROWS);
                err = PREP_ERR_LIMIT;
                break;
            }
            if (memchr(line, '"', ll)) x.quoted = 1;
            size_t nf = prep_split(line, x.lay.sep, 1, f, NULL, PREP_ACTAS_MAX_FIELDS);
            if (nf > PREP_ACTAS_MAX_FIELDS) {
                row_bad(&x, no, 0, "too-many-fields", "%zu fields (limit %d)", nf, PREP_ACTAS_MAX_FIELDS);
                continue;
            }
            char h0[64], h1[64], *g[2] = {h0, h1}; /* a note or a totals row beside the table */
            for (size_t i = 0; i < 2 && i < nf; i++) {
                snprintf(g[i], sizeof h0, "%s", f[i]);
                actas_unquote(g[i]);
            }
            const char *aside = actas_aside_line(g, nf, x.lay.ncols);
            if (aside) {
                prep_diags_add(d, name, no, 1, "aside-line", "%s, not an acta: left out", aside);
                continue;
            }
            crow r;
            if (!read_row(&x, f, nf, no, &r)) push_row(&x, &r);
        }
        free(f);
        if (err) goto out;
    }
    rep->rows = x.n + x.bad;
    rep->rows_bad = x.bad;
    size_t repeats = drop_repeats(&x);
    if (repeats) layout_note(rep, "%zu rows repeat an acta of a later row: the later capture counts", repeats);
    for (size_t i = 0; i < x.n; i++) rep->rows_arrived += x.rows[i].arrived;
    if (x.quoted) layout_note(rep, "quoted fields");
    if (x.apostrophe_keys) layout_note(rep, "keys written with a leading apostrophe");
    if (x.guard_keys) layout_note(rep, "keys written =\"...\"");
    {
        char fl[64] = "";
        static const char *const fn[4] = {"'-'/empty", "0", "1", "2"};
        for (int k = 0; k < 4; k++)
            if (x.flags_seen[k]) snprintf(fl + strlen(fl), sizeof fl - strlen(fl), "%s%s", fl[0] ? " " : "", fn[k]);
        layout_note(rep, "CONTABILIZADA values %s", fl);
    }
    if (rep->rows_arrived < x.n) layout_note(rep, "%zu rows of actas not yet arrived", x.n - rep->rows_arrived);
    if (x.abroad)
        layout_note(rep, "%d rows of mesas (votes from abroad, voto anticipado, prisi\xC3\xB3n preventiva)", x.abroad);
    if (x.other_reasons)
        layout_note(rep, "%zu rows with an OBSERVACIONES value not known to the rules (first: '%s')", x.other_reasons,
                    x.other_reason);
    /* the institute: the most frequent ID_ESTADO of the rows (national files mix them) */
    uint32_t entity = 0;
    {
        uint32_t cnt[33] = {0};
        for (size_t i = 0; i < x.n; i++) {
            const char *k = x.rows[i].clave;
            if (strlen(k) >= 2 && k[0] >= '0' && k[0] <= '9' && k[1] >= '0' && k[1] <= '9') {
                uint32_t v = (uint32_t)((k[0] - '0') * 10 + (k[1] - '0'));
                if (v >= 1 && v <= 32) cnt[v]++;
            }
        }
        uint32_t distinct = 0;
        for (uint32_t v = 1; v <= 32; v++) {
            if (cnt[v]) distinct++;
            if (cnt[v] > cnt[entity]) entity = v;
        }
        if (distinct > 1) entity = 0;
    }
    choose_rules(&x, rep, o, entity);
    for (int i = 0; i < 13; i++) {
        prep_filecheck_figure *fg = &rep->fig[i];
        const char *sv = prep_actas_header_value(&x.lay.hdr, i);
        x.pdec[i] = is_pct(i) && sv ? stated_decimals(sv) : 4;
        if (sv) {
            fg->has_stated = 1;
            snprintf(fg->stated, sizeof fg->stated, "%s", sv);
        }
    }
    int use_calc = x.role[AR_TOTAL_CALCULADO] >= 0;
    if (!(o && o->rules)) infer(&x, rep, use_calc);
    figs g, gf;
    compute(&x, &rep->rules, use_calc, &g, &rep->final_cut);
    compute(&x, &rep->rules, 0, &gf, NULL);
    for (int i = 0; i < 13; i++) {
        prep_filecheck_figure *fg = &rep->fig[i];
        format_fig(i, g.v[i], x.pdec[i], fg->computed);
        if (!fg->has_stated) continue;
        rep->n_stated++;
        int64_t s;
        if (figure_parse_dec(fg->stated, i, x.pdec[i], &s)) {
            char sv[sizeof fg->stated];
            memcpy(sv, fg->stated, sizeof sv);
            snprintf(fg->note, sizeof fg->note, "the stated value '%s' is not a number", sv);
            continue;
        }
        fg->equal = s == g.v[i];
        rep->n_equal += fg->equal;
        if (!fg->equal) explain(&x, i, s, &g, &gf, fg);
    }
    findings(&x, rep);
    if (o && o->audit) audit(&x, rep);
out:
    actas_layout_free(&x.lay);
    free(x.dup_of);
    free(x.vote);
    free(x.rows);
    free(text);
    if (err) {
        prep_actas_filecheck_report_free(rep);
        report_reset(rep);
    }
    return err;
}

prep_err prep_actas_check_file(const char *path, const prep_filecheck_opts *o, prep_filecheck_report *out, prep_diags *d)
{
    char *data = NULL;
    size_t len = 0;
    prep_err e = prep_read_file(path, PREP_ACTAS_MAX_FILE, &data, &len);
    if (e) {
        report_reset(out);
        prep_diags_add(d, path, 0, 0, "io", "cannot read: %s", prep_err_str(e));
        return e;
    }
    e = prep_actas_check(path, data, len, o, out, d);
    free(data);
    return e;
}

void prep_actas_filecheck_report_free(prep_filecheck_report *r)
{
    if (!r) return;
    free(r->findings);
    free(r->audit);
    r->findings = r->audit = NULL;
    r->n_findings = r->n_audit = 0;
}

int prep_actas_filecheck_report_ok(const prep_filecheck_report *r)
{
    return r->n_stated > 0 && r->n_equal == r->n_stated && r->rows_bad == 0;
}
