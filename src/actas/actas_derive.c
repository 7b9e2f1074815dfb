/* prep actas: a catalogue derived from a real results file (and, when given, its
 * candidaturas CSV), so the real Quintana Roo 2019 cut can be read, classified and
 * tallied although its institute published no catalogue in our format.
 * What is derived and the choices made: docs/formats/actas.md, "Derived catalogue". */
#include "actas_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- small helpers */

#define D_MAXV 256 /* vote columns we derive (the catalogue allows more; files have < 60) */
#define D_MAX_PARTS 2000 /* later parts of split sections in one file (Campeche 2021's juntas: 10) */
#define D_NOTED_PARTS 20 /* of them, named each in a note */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Text safe as a catalogue value: no '|', no control characters, no " # ", trimmed,
 * never empty. Owned. */
static char *cat_text(const char *s, const char *dflt)
{
    size_t n = strlen(s);
    char *o = prep_xmalloc(n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char w = (char)ch;
        if (ch < 0x20 || ch == 0x7f || ch == '|') w = ' ';
        if (ch == '#') w = 'N';
        o[j++] = w;
    }
    o[j] = 0;
    prep_trim(o);
    if (!o[0]) {
        free(o);
        return prep_xstrdup(dflt);
    }
    return o;
}

/* "DIPUTACIONES LOCALES" -> "Diputaciones Locales" (ASCII letters only are changed). */
static void title_case(char *s)
{
    int start = 1;
    for (char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch >= 'A' && ch <= 'Z' && !start) *p = (char)(ch - 'A' + 'a');
        else if (ch >= 'a' && ch <= 'z' && start) *p = (char)(ch - 'a' + 'A');
        start = ch == ' ' || ch == '-';
    }
}

static int valid_id(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > PREP_CAT_MAX_ID_LEN) return 0;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
              *s == '-'))
            return 0;
    return 1;
}

/* Time zone of a Mexican entity (INEGI number): the tz database names, never a fixed
 * offset. Entities not listed use central time. */
static const char *entity_tz(uint32_t ent)
{
    switch (ent) {
    case 2: return "America/Tijuana";    /* Baja California */
    case 3: return "America/Mazatlan";   /* Baja California Sur */
    case 8: return "America/Chihuahua";  /* Chihuahua */
    case 18: return "America/Mazatlan";  /* Nayarit */
    case 25: return "America/Mazatlan";  /* Sinaloa */
    case 26: return "America/Hermosillo"; /* Sonora */
    case 23: return "America/Cancun";    /* Quintana Roo ("Tiempo del Sureste", QROO LEEME) */
    default: return "America/Mexico_City";
    }
}

static const char *party_color(const char *id, uint32_t i)
{
    static const struct {
        const char *id, *color;
    } known[] = {
        {"PAN", "#0059A8"},   {"PRI", "#E2231A"},   {"PRD", "#FFD200"},   {"PVEM", "#4FAE32"},
        {"PT", "#D52B1E"},    {"MC", "#F58025"},    {"MORENA", "#B5261E"}, {"PES", "#5B2C83"},
        {"PANAL", "#00A5B8"}, {"NA", "#00A5B8"},    {"RSP", "#E6007E"},   {"FXM", "#EC008C"},
    };
    static const char *const palette[] = {"#1F77B4", "#2CA02C", "#9467BD", "#8C564B", "#E377C2",
                                          "#7F7F7F", "#BCBD22", "#17BECF", "#393B79", "#637939"};
    for (size_t k = 0; k < PREP_ARRAY_LEN(known); k++)
        if (!strcmp(known[k].id, id)) return known[k].color;
    return palette[i % PREP_ARRAY_LEN(palette)];
}

/* ---------------------------------------------------------------- vote columns */

typedef struct dcol {
    const char *name;  /* borrowed from the layout */
    int field;         /* file field */
    prep_cat_col_kind kind;
    uint32_t np;       /* COMBO: its parties (indices into the party list) */
    uint32_t parties[PREP_CAT_MAX_COALITION_PARTIES];
    uint32_t indep;
    int prefixed;      /* COMBO written with "C_" */
    const char *spell; /* PARTY: how the combinations spell it when not by its name (the
                        * combo_name: "MORENA" for Queretaro 2018's M), spell_len bytes */
    size_t spell_len;
    int atomic;        /* 1 party, 0 combination, -1 not decided yet */
} dcol;

typedef struct dctx {
    const char *name;
    prep_diags *d;
    int nerr;
    actas_layout lay;
    int role_field[AR_COUNT];
    dcol col[D_MAXV];
    uint32_t ncol;
    uint32_t party_col[PREP_CAT_MAX_PARTIES]; /* party i -> index into col */
    uint32_t nparty;
    /* coalitions: maximal combinations */
    uint32_t ncoal;
    uint32_t coal_np[PREP_CAT_MAX_PARTIES];
    uint32_t coal_p[PREP_CAT_MAX_PARTIES][PREP_CAT_MAX_COALITION_PARTIES];
    /* INE's federal layout (ID_DISTRITO_FEDERAL, or a federal election's name): a national
     * catalogue, entities and their districts and sections (docs/formats/actas.md) */
    int national;
    /* independent columns: CAND_IND_1..n_indep in the file (0: with gaps, not declared),
     * some named otherwise (named_indep: then in file order) */
    uint32_t n_indep;
    int named_indep;
    /* casilla type letters beyond the known ones (prep_catalog_type_valid), in the order
     * seen: ordinary casillas in the derived catalogue ([rules] other_casilla_types) */
    char other_types[27];
} dctx;

static void derr(dctx *x, long line, long col, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void derr(dctx *x, long line, long col, const char *kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    prep_diags_vadd(x->d, x->name, line, col, kind, fmt, ap);
    va_end(ap);
    x->nerr++;
}

/* The one party column (decided atomic) that a combination's word w (up to the next '_',
 * '-' or end, at least 2 bytes) abbreviates or spells out: the party's name is a prefix of
 * w or w of it (Queretaro 2018: party M, combinations MORENA_PT; Sonora 2021: party NAS,
 * CC_MORENA_PT_PVEM_NA). PREP_CAT_NONE when no party or several do; *len gets w's length. */
static uint32_t party_spelled_as(const dctx *x, const char *w, size_t *len)
{
    size_t l = strcspn(w, "_-");
    *len = l;
    if (l < 2) return PREP_CAT_NONE;
    uint32_t hit = PREP_CAT_NONE;
    for (uint32_t k = 0; k < x->ncol; k++) {
        if (x->col[k].atomic != 1) continue;
        const char *n = x->col[k].name;
        size_t m = strlen(n);
        if (m == l || strcspn(n, "_-") != m) continue; /* the same length is the exact match's */
        if (strncmp(n, w, m < l ? m : l) != 0) continue;
        if (hit != PREP_CAT_NONE) return PREP_CAT_NONE;
        hit = k;
    }
    return hit;
}

/* Splits s into >= 2 party names (columns decided to be parties) joined by '_' or '-',
 * each written as the party's column is, or, when alias is not NULL, as a word that
 * abbreviates or spells it out (party_spelled_as; alias[i] then points at it, else NULL).
 * Fills parts (indices into x->col) and returns their count, else 0. */
static uint32_t segment_rest(const dctx *x, const char *s, size_t m, uint32_t k, uint32_t *parts,
                             const char **alias, uint32_t depth);

static uint32_t segment(const dctx *x, const char *s, uint32_t *parts, const char **alias, uint32_t depth)
{
    if (depth >= PREP_CAT_MAX_COALITION_PARTIES) return 0;
    for (uint32_t k = 0; k < x->ncol; k++) {
        size_t m = strlen(x->col[k].name);
        if (x->col[k].atomic != 1 || strncmp(s, x->col[k].name, m) != 0) continue;
        if (alias) alias[depth] = NULL;
        uint32_t r = segment_rest(x, s, m, k, parts, alias, depth);
        if (r) return r;
    }
    size_t m;
    uint32_t k = alias ? party_spelled_as(x, s, &m) : PREP_CAT_NONE; /* no party's column as written */
    if (k == PREP_CAT_NONE) return 0;
    alias[depth] = s;
    return segment_rest(x, s, m, k, parts, alias, depth);
}

/* segment after party k written in s[0..m): the parts' count, else 0. */
static uint32_t segment_rest(const dctx *x, const char *s, size_t m, uint32_t k, uint32_t *parts,
                             const char **alias, uint32_t depth)
{
    parts[depth] = k;
    if (s[m] == 0) return depth >= 1 ? depth + 1 : 0;
    if (s[m] != '_' && s[m] != '-') return 0;
    return segment(x, s + m + 1, parts, alias, depth + 1);
}

/* Party index of a column index (PREP_CAT_NONE if not a party). */
static uint32_t party_of_col(const dctx *x, uint32_t k)
{
    for (uint32_t i = 0; i < x->nparty; i++)
        if (x->party_col[i] == k) return i;
    return PREP_CAT_NONE;
}

/* Splits a combination's name into its party columns (parts): with or without "C_"
 * (*prefixed), each party as its column is written, else (alias not NULL) also as a word
 * that abbreviates or spells it out (alias[i], NULL when as written). Count, else 0. */
static uint32_t combo_split(const dctx *x, const char *s, uint32_t *parts, const char **alias, int *prefixed)
{
    int pre = !strncmp(s, "C_", 2);
    uint32_t n = segment(x, s, parts, NULL, 0);
    *prefixed = !n && pre && (n = segment(x, s + 2, parts, NULL, 0)) != 0;
    if (alias) {
        for (uint32_t i = 0; i < n; i++) alias[i] = NULL;
        if (!n) n = segment(x, s, parts, alias, 0);
        if (!n && pre) *prefixed = (n = segment(x, s + 2, parts, alias, 0)) != 0;
    }
    return n;
}

/* Combination parties of a spelled name ("C_PAN_PRD", "PAN-PRD", "MORENA_PT" for party M):
 * count, else 0. *prefixed (if not NULL) tells whether the name carried "C_". */
static uint32_t combo_parties(const dctx *x, const char *name, uint32_t *pp, int *prefixed)
{
    uint32_t parts[PREP_CAT_MAX_COALITION_PARTIES];
    const char *alias[PREP_CAT_MAX_COALITION_PARTIES];
    int pre;
    uint32_t n = combo_split(x, name, parts, alias, &pre);
    if (prefixed) *prefixed = pre;
    for (uint32_t i = 0; i < n; i++) pp[i] = party_of_col(x, parts[i]);
    /* parties in list order, no repeats */
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++) {
            if (pp[j] == pp[i]) return 0;
            if (pp[j] < pp[i]) {
                uint32_t t = pp[i];
                pp[i] = pp[j];
                pp[j] = t;
            }
        }
    return n;
}

static int subset(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb)
{
    for (uint32_t i = 0; i < na; i++) {
        int hit = 0;
        for (uint32_t j = 0; j < nb && !hit; j++) hit = a[i] == b[j];
        if (!hit) return 0;
    }
    return 1;
}

/* Sorts the file's vote columns into parties, combinations, independents, no
 * registrados and nulos, and finds the coalitions. */
/* The field of each acta column of the file (x->role_field), the foreign ones left out.
 * 0, or -1 with a diag for each column that is there twice, as the reader refuses it
 * (which of the two would hold the acta's value?). */
static int role_fields(dctx *x, const int *foreign)
{
    int dup = 0;
    for (int i = 0; i < AR_COUNT; i++) x->role_field[i] = -1;
    for (size_t i = 0; i < x->lay.ncols; i++) {
        actas_role r = actas_role_of(x->lay.cols[i]);
        if (r == AR_IGNORE || r == AR_UNKNOWN || foreign[i]) continue;
        if (x->role_field[r] >= 0) {
            derr(x, x->lay.header_line, (long)i + 1, "duplicate-column", "column %s appears twice (fields %d and %zu)",
                 x->lay.cols[i], x->role_field[r] + 1, i + 1);
            dup = 1;
        } else {
            x->role_field[r] = (int)i;
        }
    }
    return dup ? -1 : 0;
}

static int classify_columns(dctx *x)
{
    /* an institute's own column, outside the vote columns and not shaped like one, is left
     * out, as the published file's reader leaves it (actas_foreign_columns) */
    int *foreign = actas_foreign_columns(&x->lay);
    if (role_fields(x, foreign)) {
        free(foreign);
        return -1;
    }
    for (size_t i = 0; i < x->lay.ncols; i++) {
        const char *nm = x->lay.cols[i];
        actas_role r = actas_role_of(nm);
        if (r != AR_UNKNOWN || foreign[i]) continue; /* an acta column (role_fields), or left out */
        if (x->ncol == D_MAXV) {
            derr(x, x->lay.header_line, (long)i + 1, "too-many-fields", "more than %d vote columns", D_MAXV);
            free(foreign);
            return -1;
        }
        dcol *c = &x->col[x->ncol++];
        memset(c, 0, sizeof *c);
        c->name = nm;
        c->field = (int)i;
        c->kind = PREP_CAT_COL_PARTY;
        if ((c->indep = actas_indep_no(nm)) != 0) c->kind = PREP_CAT_COL_INDEP;
        else if (!strncmp(nm, "CAND_IND_", 9) && nm[9] && valid_id(nm)) c->kind = PREP_CAT_COL_INDEP, x->named_indep = 1;
        else (void)actas_special_col(nm, &c->kind);
    }
    /* the lista nominal decides every cap, the lista nominal of the counted actas and the
     * participation: a file without it (every Anexo 13 file has it) is not counted on
     * guesses; a column left out above may be it under another name */
    if (x->role_field[AR_LISTA_NOMINAL] < 0) {
        prep_buf b;
        prep_buf_init(&b, 0);
        for (size_t i = 0; i < x->lay.ncols; i++)
            if (foreign[i]) prep_buf_printf(&b, "%s%s", b.len ? ", " : "", x->lay.cols[i]);
        derr(x, x->lay.header_line, 0, "missing-column",
             "no LISTA_NOMINAL column: the caps, the lista nominal of the counted actas and the participation "
             "cannot be counted%s%s%s",
             b.len ? " (is it one of the columns not read: " : "", b.len ? b.data : "", b.len ? "?)" : "");
        prep_buf_free(&b);
        free(foreign);
        return -1;
    }
    free(foreign);
    /* independent columns named otherwise than CAND_IND_n (Sonora 2021: CAND_IND_JHZM, the
     * candidate's initials): numbered by their order in the file, where one that is
     * numbered must stand at its number */
    uint32_t ni = 0;
    for (uint32_t k = 0; k < x->ncol; k++) {
        dcol *c = &x->col[k];
        if (c->kind != PREP_CAT_COL_INDEP) continue;
        ni++;
        if (!x->named_indep) {
            if (c->indep > x->n_indep) x->n_indep = c->indep;
            continue;
        }
        if (c->indep && c->indep != ni) {
            derr(x, x->lay.header_line, c->field + 1, "bad-value",
                 "independent column %s is number %u of the file's named independent columns", c->name, ni);
            return -1;
        }
        c->indep = ni;
        x->n_indep = ni;
    }
    if (!x->named_indep && x->n_indep != ni) x->n_indep = 0; /* CAND_IND_n with gaps: as the candidacies say */
    if (x->role_field[AR_CLAVE_CASILLA] < 0) {
        derr(x, x->lay.header_line, 0, "missing-column", "no CLAVE_CASILLA column");
        return -1;
    }
    /* Combinations: names made of two or more party names. Decided shortest first, so
     * the parts of a name are always decided before it (a part is strictly shorter). */
    for (uint32_t k = 0; k < x->ncol; k++) x->col[k].atomic = x->col[k].kind == PREP_CAT_COL_PARTY ? -1 : 0;
    for (;;) {
        uint32_t best = PREP_CAT_NONE;
        for (uint32_t k = 0; k < x->ncol; k++)
            if (x->col[k].atomic == -1 && (best == PREP_CAT_NONE || strlen(x->col[k].name) < strlen(x->col[best].name)))
                best = k;
        if (best == PREP_CAT_NONE) break;
        dcol *c = &x->col[best];
        uint32_t parts[PREP_CAT_MAX_COALITION_PARTIES];
        const char *alias[PREP_CAT_MAX_COALITION_PARTIES];
        uint32_t n = combo_split(x, c->name, parts, alias, &c->prefixed);
        c->atomic = n ? 0 : 1;
        if (n) c->kind = PREP_CAT_COL_COMBO;
        /* a party the combinations spell otherwise: its combo_name, one spelling per party */
        for (uint32_t i = 0; i < n; i++) {
            if (!alias[i]) continue;
            dcol *p = &x->col[parts[i]];
            size_t l = strcspn(alias[i], "_-");
            if (!p->spell) {
                p->spell = alias[i];
                p->spell_len = l;
            } else if (p->spell_len != l || strncmp(p->spell, alias[i], l)) {
                derr(x, x->lay.header_line, c->field + 1, "bad-combination",
                     "combination column %s spells party %s as %.*s, another as %.*s", c->name, p->name, (int)l,
                     alias[i], (int)p->spell_len, p->spell);
                return -1;
            }
        }
    }
    for (uint32_t k = 0; k < x->ncol; k++) {
        if (x->col[k].kind != PREP_CAT_COL_PARTY) continue;
        if (!valid_id(x->col[k].name)) {
            derr(x, x->lay.header_line, x->col[k].field + 1, "bad-value",
                 "column %s is not usable as a party id ([A-Za-z0-9_-], 1..%u bytes)", x->col[k].name,
                 (unsigned)PREP_CAT_MAX_ID_LEN);
            return -1;
        }
        if (x->nparty == PREP_CAT_MAX_PARTIES) {
            derr(x, x->lay.header_line, x->col[k].field + 1, "too-many-parties", "more than %u parties",
                 (unsigned)PREP_CAT_MAX_PARTIES);
            return -1;
        }
        x->party_col[x->nparty++] = k;
    }
    /* the parties of each combination, as indices into the party list */
    for (uint32_t k = 0; k < x->ncol; k++) {
        dcol *c = &x->col[k];
        if (c->kind != PREP_CAT_COL_COMBO) continue;
        c->np = combo_parties(x, c->name, c->parties, NULL);
        if (c->np < 2) {
            derr(x, x->lay.header_line, c->field + 1, "bad-combination", "combination column %s names a party twice",
                 c->name);
            return -1;
        }
    }
    /* coalitions: combinations not inside a larger one, in file order */
    for (uint32_t k = 0; k < x->ncol; k++) {
        const dcol *c = &x->col[k];
        if (c->kind != PREP_CAT_COL_COMBO) continue;
        int inside = 0;
        for (uint32_t j = 0; j < x->ncol && !inside; j++)
            inside = j != k && x->col[j].kind == PREP_CAT_COL_COMBO && x->col[j].np > c->np &&
                     subset(c->parties, c->np, x->col[j].parties, x->col[j].np);
        for (uint32_t q = 0; q < x->ncoal && !inside; q++)
            inside = subset(c->parties, c->np, x->coal_p[q], x->coal_np[q]) && c->np == x->coal_np[q];
        if (inside) continue;
        if (x->ncoal == PREP_CAT_MAX_PARTIES) return -1;
        x->coal_np[x->ncoal] = c->np;
        memcpy(x->coal_p[x->ncoal], c->parties, c->np * sizeof *c->parties);
        x->ncoal++;
    }
    return 0;
}

/* ---------------------------------------------------------------- rows */

typedef struct dcas {
    char key[24];
    uint32_t ent, section, number, ext, urban, ln, reps, unit;
    uint32_t dis, mun;       /* its part's, when its section is split */
    uint32_t tipo, tipo_max; /* TIPO_ACTA of its rows: the least and the greatest */
    char type;
    long line;
    long ln_line;            /* the line whose LISTA_NOMINAL ln is (the latest of its rows) */
    prep_time ln_t;          /* that row's capture (else verification) instant, or PREP_TIME_NONE */
} dcas;

typedef struct dgeo {
    uint32_t ent, id; /* the entity is 0 in a local catalogue */
    char *name;       /* owned */
} dgeo;

/* A later part of a split section: the section at sec_index si, in district dis and
 * municipality mun, first seen on line `line`. */
typedef struct dpart {
    size_t si;
    uint32_t sec, dis, mun;
    long line;
} dpart;

/* By section, then first seen. */
static int cmp_part(const void *a, const void *b)
{
    const dpart *x = a, *y = b;
    if (x->si != y->si) return x->si < y->si ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

static int cmp_geo(const void *a, const void *b)
{
    const dgeo *x = a, *y = b;
    if (x->ent != y->ent) return x->ent < y->ent ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Sections are numbered within their entity: the index of (entity, section) in the
 * section tables of a national file; the section itself in a local one. */
#define D_SEC_SPAN (PREP_CAT_MAX_SECTION_ID + 1)
static size_t sec_index(int national, uint32_t ent, uint32_t sec)
{
    return national ? (size_t)ent * D_SEC_SPAN + sec : sec;
}

typedef struct dunit {
    uint32_t id;
    uint32_t val[D_MAXV], dash[D_MAXV]; /* rows with a value / with "-" per vote column */
    /* candidacies (from the CSV) */
    int from_csv;
    uint8_t coal_runs[PREP_CAT_MAX_PARTIES];
    char *coal_name[PREP_CAT_MAX_PARTIES];   /* owned */
    uint8_t party_runs[PREP_CAT_MAX_PARTIES];
    char *party_name[PREP_CAT_MAX_PARTIES];  /* owned */
    uint8_t ind_runs[PREP_CAT_MAX_INDEP + 1];
    char *ind_name[PREP_CAT_MAX_INDEP + 1];  /* owned */
    uint32_t reps;                      /* 2 x contenders on its ballot */
} dunit;

typedef struct dset {
    dcas *cas;
    size_t ncas, capcas;
    dgeo *dis, *mun;
    size_t ndis, nmun, capdis, capmun;
    uint32_t *sec_dis, *sec_mun; /* by sec_index: district id + 1, municipality id + 1 (0: unseen) */
    dpart *part;                 /* split sections' later parts (catalog.h), as first seen */
    size_t npart, cappart;
    dunit *unit;
    size_t nunit, capunit;
    size_t last_unit;
    char *label[7];              /* owned; OBSERVACIONES wording seen per label slot */
    uint32_t ent_count[100];
    char *ent_name[100];         /* owned */
    uint32_t acta_type_count[100];   /* TIPO_ACTA of the rows of ordinary casillas */
    uint32_t special_type_count[100]; /* of special casillas (national) */
    uint32_t abroad_type_count[100];  /* of M casillas (national) */
    uint8_t mesa0[100];                /* per entity, the mesas in its district 0: 1 M, 2 A, 4 P */
    uint32_t rp_marked[100];          /* of special casillas' rows whose letters end in RP (local) */
    prep_time tmin, tmax;
    uint32_t max_indep;
} dset;

static void dset_free(dset *s)
{
    free(s->cas);
    for (size_t i = 0; i < s->ndis; i++) free(s->dis[i].name);
    for (size_t i = 0; i < s->nmun; i++) free(s->mun[i].name);
    free(s->dis);
    free(s->mun);
    free(s->sec_dis);
    free(s->sec_mun);
    free(s->part);
    for (size_t i = 0; i < s->nunit; i++) {
        dunit *u = &s->unit[i];
        for (size_t k = 0; k < PREP_CAT_MAX_PARTIES; k++) {
            free(u->coal_name[k]);
            free(u->party_name[k]);
        }
        for (size_t k = 0; k <= PREP_CAT_MAX_INDEP; k++) free(u->ind_name[k]);
    }
    free(s->unit);
    for (int i = 0; i < 7; i++) free(s->label[i]);
    for (int i = 0; i < 100; i++) free(s->ent_name[i]);
}

static dunit *unit_get(dset *s, uint32_t id, int create)
{
    if (s->last_unit < s->nunit && s->unit[s->last_unit].id == id) return &s->unit[s->last_unit];
    for (size_t i = 0; i < s->nunit; i++)
        if (s->unit[i].id == id) {
            s->last_unit = i;
            return &s->unit[i];
        }
    if (!create) return NULL;
    if (s->nunit == s->capunit) {
        s->capunit = s->capunit ? s->capunit * 2 : 32;
        s->unit = prep_xrealloc(s->unit, s->capunit * sizeof *s->unit);
    }
    dunit *u = &s->unit[s->nunit];
    memset(u, 0, sizeof *u);
    u->id = id;
    s->last_unit = s->nunit++;
    return u;
}

static void geo_put(dgeo **v, size_t *n, size_t *cap, uint32_t ent, uint32_t id, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if ((*v)[i].id == id && (*v)[i].ent == ent) return;
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 32;
        *v = prep_xrealloc(*v, *cap * sizeof **v);
    }
    (*v)[*n].ent = ent;
    (*v)[*n].id = id;
    (*v)[*n].name = prep_xstrdup(name);
    (*n)++;
}

/* Label slots, in prep_cat_labels order. */
enum { L_SOME, L_ALL, L_EXCEEDS, L_NOTDELIV, L_NOTINST, L_NOENV, L_OUT };

static void note_label(dset *s, const char *obs)
{
    char n[256];
    actas_norm(obs, n, sizeof n);
    if (!n[0]) return;
    int slot = -1;
    prep_acta_no_acta na = actas_no_acta_from_obs(NULL, obs);
    if (strstr(n, "CATALOGO")) slot = L_OUT;
    else if (na == PREP_ACTA_NO_ACTA_NOT_DELIVERED) slot = L_NOTDELIV;
    else if (na == PREP_ACTA_NO_ACTA_NOT_INSTALLED) slot = L_NOTINST;
    else if (na == PREP_ACTA_NO_ACTA_NO_ENVELOPE) slot = L_NOENV;
    else if (na != PREP_ACTA_HAS_ACTA) slot = -1;
    else if (strstr(n, "EXCEDE") && !strstr(n, "TODOS")) slot = L_EXCEEDS;
    else if (strstr(n, "TODOS") && !strstr(n, "EXCEDE")) slot = L_ALL;
    else if ((strstr(n, "ILEGIBLE") || strstr(n, "SIN DATO")) && !strstr(n, "EXCEDE")) slot = L_SOME;
    if (slot >= 0 && !s->label[slot]) s->label[slot] = cat_text(obs, "-");
}

/* The unit of a row: its district or municipality; in a national file (entity, district)
 * as entity x 10^6 + district, the entity, or 0 for the nation. */
#define D_UNIT_ENT 1000000u
static uint32_t scope_unit_id(int national, prep_cat_scope scope, uint32_t ent, uint32_t dis, uint32_t mun)
{
    if (national && scope == PREP_CAT_SCOPE_ENTITY) return ent;
    if (national && scope == PREP_CAT_SCOPE_NATION) return 0;
    uint32_t id = scope == PREP_CAT_SCOPE_DISTRICT ? dis : scope == PREP_CAT_SCOPE_MUNICIPALITY ? mun : 0;
    return national ? ent * D_UNIT_ENT + id : id;
}

static int fnum(dctx *x, char **f, actas_role r, uint32_t *out, uint32_t max, long line)
{
    *out = 0;
    int i = x->role_field[r];
    if (i < 0 || actas_is_blank(f[i])) return 0;
    char cb[64];
    if (actas_parse_u32(f[i], out) || *out > max) {
        derr(x, line, i + 1, "bad-number", "%s '%s' is not a number (0..%u)", actas_role_name(r),
             actas_clip(f[i], cb), max);
        return -1;
    }
    return 0;
}

static const char *ftext(dctx *x, char **f, actas_role r)
{
    int i = x->role_field[r];
    return i >= 0 ? f[i] : "";
}

/* A row whose section was first seen in another district or municipality: a part of a
 * split section (catalog.h), noted once per part (Campeche 2021's ayuntamientos: sections
 * 332 and 333 in Champotón and in Seybaplaya, each casilla with an acta in each). A
 * casilla in two parts that are one unit of the election is refused after the rows
 * (split_casillas). */
static void note_part(dctx *x, dset *s, long no, size_t si, uint32_t sec, uint32_t dis, uint32_t mun)
{
    uint32_t d0 = s->sec_dis[si] - 1, m0 = s->sec_mun[si] - 1, mine = 1;
    for (size_t i = 0; i < s->npart; i++) {
        if (s->part[i].si != si) continue;
        if (s->part[i].dis == dis && s->part[i].mun == mun) return;
        mine++;
    }
    /* a section in more places than a split has (a column that is no municipality, or
     * garbage) is refused, rather than made into hundreds of parts */
    if (mine >= PREP_CAT_MAX_SECTION_PARTS) {
        derr(x, no, 0, "section-conflict", "section %u is in district %u / municipality %u here: more than %u places, "
             "more than a split section has", sec, dis, mun, PREP_CAT_MAX_SECTION_PARTS);
        return;
    }
    if (s->npart >= D_MAX_PARTS) {
        derr(x, no, 0, "section-conflict", "section %u is in district %u / municipality %u here: more than %u "
             "sections of the file are split", sec, dis, mun, D_MAX_PARTS);
        return;
    }
    if (s->npart == s->cappart) {
        s->cappart = s->cappart ? s->cappart * 2 : 16;
        s->part = prep_xrealloc(s->part, s->cappart * sizeof *s->part);
    }
    s->part[s->npart++] = (dpart){.si = si, .sec = sec, .dis = dis, .mun = mun, .line = no};
    if (s->npart <= D_NOTED_PARTS) /* named one by one up to a point, so that an error stays in view */
        prep_diags_add(x->d, x->name, no, 0, "split-section",
                       "section %u is split: in district %u / municipality %u here, in %u / %u on an earlier row; "
                       "each part is a section of its own in the derived catalogue", sec, dis, mun, d0, m0);
    else if (s->npart == D_NOTED_PARTS + 1)
        prep_diags_add(x->d, x->name, no, 0, "split-section",
                       "section %u is split too, and more after it: not named one by one", sec);
}

/* District 0's name when the rows do not name it (note_place; name_mesa_districts) */
#define D_ABROAD_DISTRICT "VOTO EN EL EXTRANJERO"

/* The entity, district, municipality and section of a row of an expected acta, and its
 * acta type; a section seen in another district or municipality is split (note_part). */
static void note_place(dctx *x, dset *s, char **f, long no, uint32_t ent, uint32_t sec, uint32_t dis, uint32_t mun,
                       char type, uint32_t tipo, int abroad)
{
    s->ent_count[ent]++;
    if (!s->ent_name[ent] && x->role_field[AR_ENTIDAD] >= 0 && *ftext(x, f, AR_ENTIDAD))
        s->ent_name[ent] = cat_text(ftext(x, f, AR_ENTIDAD), "-");
    if (!x->national && type != 'S') s->acta_type_count[tipo]++;
    else if (x->national) (type == 'S' ? s->special_type_count : abroad ? s->abroad_type_count : s->acta_type_count)[tipo]++;
    uint32_t gent = x->national ? ent : 0;
    char nm[64];
    snprintf(nm, sizeof nm, abroad && !dis ? D_ABROAD_DISTRICT : "DISTRITO %u", dis);
    uint32_t rd = 0;
    int named = x->role_field[AR_DISTRITO] >= 0 && !actas_is_blank(ftext(x, f, AR_DISTRITO)) &&
                (!abroad || dis || (fnum(x, f, AR_ID_DISTRITO, &rd, PREP_CAT_MAX_GEO_ID, no) == 0 && rd == 0));
    geo_put(&s->dis, &s->ndis, &s->capdis, gent, dis, named ? ftext(x, f, AR_DISTRITO) : nm);
    snprintf(nm, sizeof nm, x->role_field[AR_ID_MUNICIPIO] < 0 ? "MUNICIPIO NO INDICADO" : "MUNICIPIO %u", mun);
    geo_put(&s->mun, &s->nmun, &s->capmun, gent, mun,
            x->role_field[AR_MUNICIPIO] >= 0 && *ftext(x, f, AR_MUNICIPIO) ? ftext(x, f, AR_MUNICIPIO) : nm);
    size_t si = sec_index(x->national, ent, sec);
    if (s->sec_dis[si] && (s->sec_dis[si] != dis + 1 || s->sec_mun[si] != mun + 1)) {
        note_part(x, s, no, si, sec, dis, mun);
        return;
    }
    s->sec_dis[si] = dis + 1;
    s->sec_mun[si] = mun + 1;
}

/* Rows no casilla of the derived catalogue can hold, left out with a warning (the tally
 * then finds them out of catalogue and the recount says so): in a national file, votes
 * from abroad without a mesa number, and another casilla in section 0, which holds only
 * votes from abroad (docs/formats/catalog.md). A local file's votes from abroad are kept
 * where the row puts them (Puebla 2018's governor: 210000M0000, section 0 of district 27
 * "Votos desde el Extranjero", one expected acta the institute counts). */
static int left_out(dctx *x, long no, const char *key, char type, uint32_t sec, uint32_t num, uint32_t ent, int abroad)
{
    if (abroad && x->national && !num) {
        prep_diags_add(x->d, x->name, no, 0, "abroad-row",
                       "casilla %s holds votes from abroad: not part of the derived catalogue", key);
        return 1;
    }
    if (x->national && !sec && !abroad && type && num && ent) {
        prep_diags_add(x->d, x->name, no, 0, "section-zero",
                       "casilla %s (type %c) is in section 0, which holds only votes from abroad: not part of the "
                       "derived catalogue", key, type);
        return 1;
    }
    return 0;
}

/* A row's timestamps widen s's span (a publication window that holds them all); returns
 * its capture instant, else its verification's, else PREP_TIME_NONE. */
static prep_time row_times(dctx *x, char **f, const char *tz, dset *s)
{
    static const actas_role tr[] = {AR_ACOPIO, AR_CAPTURA, AR_VERIFICACION};
    prep_time row_t = PREP_TIME_NONE;
    for (size_t i = 0; i < PREP_ARRAY_LEN(tr); i++) {
        prep_time t;
        const char *ts = ftext(x, f, tr[i]);
        if (actas_is_blank(ts) || prep_time_parse(ts, tz, &t)) continue;
        if (s->tmin == PREP_TIME_NONE || t < s->tmin) s->tmin = t;
        if (s->tmax == PREP_TIME_NONE || t > s->tmax) s->tmax = t;
        if (tr[i] != AR_ACOPIO && row_t == PREP_TIME_NONE) row_t = t;
    }
    return row_t;
}

/* A casilla type letter beyond the known ones: an ordinary casilla of the derived catalogue
 * ([rules] other_casilla_types), noted at its first row. */
static void note_other_type(dctx *x, long no, char type, const char *key)
{
    if (type < 'A' || type > 'Z' || prep_catalog_type_valid(NULL, type) || strchr(x->other_types, type)) return;
    x->other_types[strlen(x->other_types)] = type;
    prep_diags_add(x->d, x->name, no, x->role_field[AR_TIPO_CASILLA] + 1, "casilla-type",
                   "casilla type '%c' is none of B C E S M A P V (casilla %s): read as an ordinary casilla ([rules] "
                   "other_casilla_types: in TOTAL_VOTOS_S_CS, with no cap where it has no lista nominal); prep "
                   "tally --check tells whether the file's figures agree",
                   type, key);
}

static int read_rows(dctx *x, actas_lines *it, prep_cat_scope scope, dset *s)
{
    char **f = prep_xmalloc(PREP_ACTAS_MAX_FIELDS * sizeof *f);
    char *line;
    size_t len;
    long no;
    size_t nsec = x->national ? (size_t)100 * D_SEC_SPAN : D_SEC_SPAN;
    s->sec_dis = prep_xcalloc(nsec, sizeof *s->sec_dis);
    s->sec_mun = prep_xcalloc(nsec, sizeof *s->sec_mun);
    s->tmin = s->tmax = PREP_TIME_NONE;
    const char *tz = "UTC"; /* only for the window; refined by the caller */
    while (actas_next_line(it, &line, &len, &no)) {
        if (len > PREP_ACTAS_MAX_LINE) {
            derr(x, no, 0, "line-too-long", "line of %zu bytes (limit %d)", len, PREP_ACTAS_MAX_LINE);
            continue;
        }
        size_t n = prep_split(line, x->lay.sep, 1, f, NULL, PREP_ACTAS_MAX_FIELDS);
        size_t kept = n < PREP_ACTAS_MAX_FIELDS ? n : PREP_ACTAS_MAX_FIELDS;
        int blank = 1;
        for (size_t i = 0; i < kept; i++) {
            actas_unquote(f[i]);
            if (f[i][0]) blank = 0;
        }
        if (blank) continue;
        if (n == x->lay.ncols + 1 && n <= PREP_ACTAS_MAX_FIELDS && !f[n - 1][0]) n--;
        if (actas_aside_line(f, n, x->lay.ncols)) continue; /* the reader names it */
        if (n != x->lay.ncols) {
            derr(x, no, (long)(n < x->lay.ncols ? n + 1 : x->lay.ncols + 1), "field-count",
                 "%zu fields, the column header has %zu", n, x->lay.ncols);
            continue;
        }
        char key[64];
        if (x->role_field[AR_CLAVE_CASILLA] >= 0) actas_unguard_key(f[x->role_field[AR_CLAVE_CASILLA]]);
        actas_norm(ftext(x, f, AR_CLAVE_CASILLA), key, sizeof key);
        char obs[256];
        actas_norm(ftext(x, f, AR_OBSERVACIONES), obs, sizeof obs);
        note_label(s, ftext(x, f, AR_OBSERVACIONES));
        /* rows outside the institute's own catalogue are not expected actas; INE marks them
         * also with TIPO_ACTA 0 (2018) or "-" (2021) */
        char ta0[8];
        actas_norm(ftext(x, f, AR_TIPO_ACTA), ta0, sizeof ta0);
        if (actas_is_blank(key) || strstr(obs, "CATALOGO") ||
            (x->role_field[AR_TIPO_ACTA] >= 0 && (!strcmp(ta0, "0") || !strcmp(ta0, "00") || !strcmp(ta0, "-"))))
            continue;
        uint32_t ent, sec, num, ext, urb = 0, dis, mun, ln, reps, tipo = 0;
        int rp_letters = 0;
        if (fnum(x, f, AR_ID_ENTIDAD, &ent, 99, no) || fnum(x, f, AR_SECCION, &sec, PREP_CAT_MAX_SECTION_ID, no) ||
            fnum(x, f, AR_ID_CASILLA, &num, 9999999, no) || fnum(x, f, AR_EXT_CONTIGUA, &ext, 99, no) ||
            fnum(x, f, AR_ID_DISTRITO, &dis, PREP_CAT_MAX_GEO_ID, no) ||
            fnum(x, f, AR_ID_MUNICIPIO, &mun, PREP_CAT_MAX_GEO_ID, no) ||
            fnum(x, f, AR_LISTA_NOMINAL, &ln, 100000000, no) || fnum(x, f, AR_REPRESENTANTES, &reps, 100000, no))
            continue;
        /* the key (EE SSSS T NN XX) names the casilla; ID_CASILLA may be an internal
         * serial (Querétaro 2018: 1, 2, ... 961), so its number and extension come from it */
        if (strlen(key) == 11 && key[7] >= '0' && key[7] <= '9' && key[8] >= '0' && key[8] <= '9' &&
            key[9] >= '0' && key[9] <= '9' && key[10] >= '0' && key[10] <= '9') {
            num = (uint32_t)((key[7] - '0') * 10 + (key[8] - '0'));
            ext = (uint32_t)((key[9] - '0') * 10 + (key[10] - '0'));
        }
        {
            char u[32];
            actas_norm(ftext(x, f, AR_UBICACION), u, sizeof u);
            if (!strcmp(u, "URBANA")) urb = 1;
            else if (!strcmp(u, "NO URBANA") || !strcmp(u, "RURAL")) urb = 2;
            else if (fnum(x, f, AR_UBICACION, &urb, 2, no)) continue;
            /* TIPO_ACTA: its digits (2E, 3EMR, D3: Sonora 2021) */
            const char *ta = ftext(x, f, AR_TIPO_ACTA);
            size_t tl = strlen(ta);
            while (tl && ta[tl - 1] == ' ') tl--;
            rp_letters = tl >= 2 && (ta[tl - 2] == 'R' || ta[tl - 2] == 'r') && (ta[tl - 1] == 'P' || ta[tl - 1] == 'p');
            for (; *ta; ta++)
                if (*ta >= '0' && *ta <= '9' && tipo < 100) tipo = tipo * 10 + (uint32_t)(*ta - '0');
            if (tipo > 99) tipo = 0;
        }
        char type = 0;
        {
            char t[8];
            actas_norm(ftext(x, f, AR_TIPO_CASILLA), t, sizeof t);
            type = t[0] && !t[1] ? t[0] : 0;
        }
        if (!ent && strlen(key) >= 2 && key[0] >= '0' && key[0] <= '9' && key[1] >= '0' && key[1] <= '9')
            ent = (uint32_t)((key[0] - '0') * 10 + key[1] - '0');
        note_other_type(x, no, type, key);
        int abroad = type == 'M' || (!sec && strchr(key, 'M'));
        /* a mesa no section holds: votes from abroad, voto anticipado, prisión preventiva (the
         * 2024 LEEMEs write N/A as its district, section and number) */
        int mesa = abroad || prep_cat_type_mesa(type);
        if (left_out(x, no, key, type, sec, num, ent, abroad)) continue;
        /* a local file marks a special casilla's RP acta by letters, its number being the MR
         * acta's (Sonora 2021: 3ERP beside 3EMR) */
        if (!x->national && type == 'S' && rp_letters && tipo) s->rp_marked[tipo]++;
        /* a national file keeps its votes from abroad: section 0 of district 0 of the
         * voter's entity (docs/formats/catalog.md), or where the row says */
        if ((!sec && !mesa) || !type || (!num && !mesa) || !ent) {
            derr(x, no, 0, "bad-row", "casilla %s lacks its entity, section, type or number", key);
            continue;
        }
        if (x->role_field[AR_ID_MUNICIPIO] < 0) mun = 1; /* the file has no municipalities */
        if (x->role_field[AR_ID_DISTRITO] < 0) dis = 1;
        /* an entity's mesas of votes from abroad in section 0 are its district 0, whatever
         * district the row names (the LEEMEs do not say which; docs/formats/actas.md) */
        if (mesa && !sec) dis = 0;
        if ((!dis && !mesa) || !mun) {
            derr(x, no, 0, "bad-row", "casilla %s has district %u, municipality %u", key, dis, mun);
            continue;
        }
        char want[24];
        prep_catalog_casilla_key(ent, sec, type, num, ext, want);
        if (strcmp(want, key) != 0) {
            derr(x, no, x->role_field[AR_CLAVE_CASILLA] + 1, "key-mismatch",
                 "CLAVE_CASILLA %s but its parts make %s", key, want);
            continue;
        }
        note_place(x, s, f, no, ent, sec, dis, mun, type, tipo, abroad);
        if (mesa && !dis) s->mesa0[ent] |= (uint8_t)(type == 'A' ? 2 : type == 'P' ? 4 : 1);
        /* which columns hold "-" in the unit */
        dunit *u = unit_get(s, scope_unit_id(x->national, scope, ent, dis, mun), 1);
        for (uint32_t k = 0; k < x->ncol; k++) {
            int32_t v;
            const char *t = f[x->col[k].field];
            if (actas_parse_vote(t, &v) != 0) continue;
            if (v == PREP_ACTA_V_NA) u->dash[k]++;
            else u->val[k]++;
            if (x->col[k].kind == PREP_CAT_COL_INDEP && x->col[k].indep > s->max_indep) s->max_indep = x->col[k].indep;
        }
        prep_time row_t = row_times(x, f, tz, s);
        if (s->ncas == s->capcas) {
            s->capcas = s->capcas ? s->capcas * 2 : 1024;
            s->cas = prep_xrealloc(s->cas, s->capcas * sizeof *s->cas);
        }
        dcas *c = &s->cas[s->ncas++];
        memset(c, 0, sizeof *c);
        memcpy(c->key, key, strlen(key) + 1); /* equal to `want`: < 24 bytes */
        c->ent = ent;
        c->tipo = c->tipo_max = tipo;
        c->section = sec;
        c->type = type;
        c->number = num;
        c->ext = ext;
        c->urban = urb ? urb : 1;
        c->ln = ln;
        c->reps = reps;
        c->unit = u->id;
        c->dis = dis;
        c->mun = mun;
        c->line = c->ln_line = no;
        c->ln_t = row_t;
    }
    free(f);
    return 0;
}

/* By key, then place: a split section's casilla is one in each part. */
static int cmp_cas(const void *a, const void *b)
{
    const dcas *x = a, *y = b;
    int k = strcmp(x->key, y->key);
    if (k) return k;
    if (x->dis != y->dis) return x->dis < y->dis ? -1 : 1;
    return (x->mun > y->mun) - (x->mun < y->mun);
}

/* ---------------------------------------------------------------- candidaturas CSV */

/* Coalition (index) whose parties contain the combination's, else PREP_CAT_NONE. */
static uint32_t coalition_of(const dctx *x, const uint32_t *pp, uint32_t np)
{
    for (uint32_t q = 0; q < x->ncoal; q++)
        if (subset(pp, np, x->coal_p[q], x->coal_np[q])) return q;
    return PREP_CAT_NONE;
}

/* Candidaturas name an independent CI_01 (INE 2018, the results' CAND_IND_01) or CI1
 * (Campeche 2021's ayuntamientos, the results' CAND_IND_1): the results' independent
 * column of that number; and Nueva Alianza NA inside a combination (PRI-PVEM-NA) where the
 * results say PANAL. In place. */
static void candidatura_alias(const dctx *x, char *who, size_t cap)
{
    if (!strncmp(who, "CI", 2)) {
        const char *d = who + 2 + (who[2] == '_' || who[2] == '-' || who[2] == ' ');
        size_t nd = strspn(d, "0123456789");
        uint32_t n;
        if (nd && nd <= 4 && !d[nd] && !prep_parse_u32(d, &n)) {
            const char *col = NULL;
            for (uint32_t k = 0; k < x->ncol && !col; k++)
                if (x->col[k].kind == PREP_CAT_COL_INDEP && x->col[k].indep == n) col = x->col[k].name;
            char t[80];
            if (col) snprintf(t, sizeof t, "%s", col);
            else snprintf(t, sizeof t, "CAND_IND_%s", d);
            if (strlen(t) < cap) memcpy(who, t, strlen(t) + 1);
            return;
        }
    }
    int panal = 0, na = 0;
    for (uint32_t i = 0; i < x->nparty; i++) {
        panal |= !strcmp(x->col[x->party_col[i]].name, "PANAL");
        na |= !strcmp(x->col[x->party_col[i]].name, "NA");
    }
    if (!panal || na) return;
    char t[64] = "";
    size_t n = 0;
    for (const char *p = who; *p && n + 8 < sizeof t;) {
        size_t k = strcspn(p, "-_");
        int is_na = k == 2 && p[0] == 'N' && p[1] == 'A';
        n += (size_t)snprintf(t + n, sizeof t - n, "%.*s", is_na ? 5 : (int)k, is_na ? "PANAL" : p);
        p += k;
        if (*p && n + 1 < sizeof t) t[n++] = *p++, t[n] = 0;
    }
    if (strlen(t) < cap) snprintf(who, cap, "%s", t);
}

/* A candidaturas column naming the contender: PARTIDO_CI (INE, Campeche), or as others
 * write it. nm normalised. */
static int cand_party_col(const char *nm)
{
    return !strcmp(nm, "PARTIDO_CI") || !strcmp(nm, "PARTIDO") || !strcmp(nm, "ASOCIACION") ||
           !strcmp(nm, "PARTIDO_POLITICO") || !strcmp(nm, "PARTIDO_COALICION") || !strcmp(nm, "PARTIDO_CI_COALICION");
}

/* The separator of a candidaturas header line: the first of | , ; TAB that splits off a
 * contender column (cand_party_col), as the actas reader tries them; ',' when none does.
 * f: room for PREP_ACTAS_MAX_FIELDS fields. */
static char cand_sep(const char *line, char **f)
{
    static const char seps[] = {'|', ',', ';', '\t'};
    for (size_t k = 0; k < sizeof seps; k++) {
        char *t = prep_xstrdup(line);
        size_t n = prep_split(t, seps[k], 1, f, NULL, PREP_ACTAS_MAX_FIELDS);
        int hit = 0;
        for (size_t i = 0; i < n && i < PREP_ACTAS_MAX_FIELDS && !hit; i++) {
            char nm[64];
            actas_name_norm(actas_unquote(f[i]), nm, sizeof nm);
            hit = cand_party_col(nm);
        }
        free(t);
        if (hit) return seps[k];
    }
    return ',';
}

/* Whether a candidaturas column (normalised name) is the unit's: a district's or a
 * municipality's id by any name the actas files give it (ID_MUNICIPIO_LOCAL: Campeche
 * 2021's ayuntamientos; ID_DEMARCACION...), ID_DISTRITO..., DISTRITO..., MUNICIPIO, or a
 * junta municipal's (ID_JUNTA: Campeche 2021's juntas, whose actas call it
 * ID_DISTRITO_LOCAL). */
static int cand_unit_col(const char *nm)
{
    actas_role r = actas_role_of(nm);
    return r == AR_ID_DISTRITO || r == AR_ID_MUNICIPIO || !strncmp(nm, "ID_DISTRITO", 11) ||
           !strncmp(nm, "DISTRITO", 8) || !strcmp(nm, "MUNICIPIO") || !strcmp(nm, "ID_JUNTA") ||
           !strcmp(nm, "ID_JUNTA_MUNICIPAL") || !strcmp(nm, "JUNTA") || !strcmp(nm, "JUNTA_MUNICIPAL");
}

static int read_candidaturas(dctx *x, const char *path, uint32_t ent, prep_cat_scope scope, dset *s)
{
    char *data = NULL, *text = NULL;
    size_t len = 0, tlen = 0;
    prep_err err = prep_read_file(path, PREP_ACTAS_MAX_FILE, &data, &len);
    if (err) {
        derr(x, 0, 0, "io", "cannot read candidaturas %s: %s", path, prep_err_str(err));
        return -1;
    }
    err = actas_decode(data, len, &text, &tlen, NULL);
    free(data);
    if (err == PREP_ERR_PARSE) derr(x, 1, 0, "bad-encoding", "candidaturas %s: " ACTAS_BAD_UTF16, path);
    if (err) return -1;
    const char *saved = x->name;
    x->name = path;
    actas_lines it;
    actas_lines_init(&it, text, tlen);
    char *line;
    size_t llen;
    long no;
    char sep = 0;
    int ci_ent = -1, ci_unit = -1, ci_who = -1, ci_name = -1;
    size_t ncols = 0;
    char **f = prep_xmalloc(PREP_ACTAS_MAX_FIELDS * sizeof *f);
    int rc = 0;
    while (actas_next_line(&it, &line, &llen, &no)) {
        if (llen > PREP_ACTAS_MAX_LINE) {
            derr(x, no, 0, "line-too-long", "line of %zu bytes", llen);
            continue;
        }
        if (!sep && !strncmp(line, "sep=", 4) && line[4] && !line[5]) {
            sep = line[4];
            continue;
        }
        if (!line[0]) continue;
        if (ci_who < 0) { /* the header */
            if (!sep) sep = cand_sep(line, f);
            size_t n = prep_split(line, sep, 1, f, NULL, PREP_ACTAS_MAX_FIELDS);
            if (n > PREP_ACTAS_MAX_FIELDS) n = PREP_ACTAS_MAX_FIELDS;
            ncols = n;
            for (size_t i = 0; i < n; i++) {
                char nm[64];
                actas_name_norm(actas_unquote(f[i]), nm, sizeof nm);
                if (!strcmp(nm, "ESTADO") || !strcmp(nm, "ID_ESTADO") || !strcmp(nm, "ID_ENTIDAD") ||
                    !strcmp(nm, "ENTIDAD"))
                    ci_ent = (int)i;
                else if (cand_unit_col(nm))
                    ci_unit = (int)i;
                else if (cand_party_col(nm))
                    ci_who = (int)i;
                else if (ci_name < 0 && (!strcmp(nm, "CANDIDATURA_PROPIETARIA") || !strcmp(nm, "PROPIETARIO") ||
                                         !strcmp(nm, "PROPIETARIA") || !strcmp(nm, "CANDIDATO") ||
                                         !strcmp(nm, "CANDIDATA") || !strcmp(nm, "CANDIDATURA") ||
                                         !strcmp(nm, "NOMBRE_CANDIDATO") || !strcmp(nm, "NOMBRE_CANDIDATURA") ||
                                         !strcmp(nm, "CANDIDATO_PROPIETARIO") || !strcmp(nm, "NOMBRE_PROPIETARIO")))
                    ci_name = (int)i; /* Puebla 2018: CANDIDATURA; the first, never the suplente */
            }
            if (ci_who < 0 || (scope != PREP_CAT_SCOPE_ENTITY && scope != PREP_CAT_SCOPE_NATION && ci_unit < 0) ||
                (x->national && scope != PREP_CAT_SCOPE_NATION && ci_ent < 0)) {
                derr(x, no, 0, "missing-column", "candidaturas header needs PARTIDO_CI and the unit (district or "
                                                 "municipality) column");
                rc = -1;
                break;
            }
            continue;
        }
        size_t n = prep_split(line, sep, 1, f, NULL, PREP_ACTAS_MAX_FIELDS);
        if (n != ncols) {
            derr(x, no, 0, "field-count", "%zu fields, the header has %zu", n, ncols);
            continue;
        }
        for (size_t i = 0; i < n; i++) actas_unquote(f[i]);
        uint32_t e = 0, uid = 0;
        if (ci_ent >= 0 && (actas_parse_u32(f[ci_ent], &e) || (!x->national && e != ent && e != 0)))
            continue; /* another entity */
        char cb[64];
        if (scope != PREP_CAT_SCOPE_ENTITY && scope != PREP_CAT_SCOPE_NATION && actas_parse_u32(f[ci_unit], &uid)) {
            derr(x, no, ci_unit + 1, "bad-number", "unit '%s' is not a number", actas_clip(f[ci_unit], cb));
            continue;
        }
        if (x->national) uid = scope_unit_id(1, scope, e, uid, uid);
        dunit *u = unit_get(s, uid, 0);
        if (!u) continue; /* a unit with no rows in the results file */
        u->from_csv = 1;
        char who[64];
        actas_norm(f[ci_who], who, sizeof who);
        const char *cand = ci_name >= 0 ? f[ci_name] : who;
        /* Puebla 2018 and Campeche 2021 name a coalition's candidacy SUM-PAN-PRD (the sum
         * of its columns), and list CNR (candidaturas no registradas), no contender */
        if (!strncmp(who, "SUM-", 4) || !strncmp(who, "SUM_", 4)) memmove(who, who + 4, strlen(who + 4) + 1);
        if (!strcmp(who, "CNR") || !strcmp(who, "NO_REGISTRADOS") || !strcmp(who, "NULOS")) continue;
        candidatura_alias(x, who, sizeof who);
        uint32_t ind = actas_indep_no(who);
        uint32_t pp[PREP_CAT_MAX_COALITION_PARTIES];
        uint32_t np;
        if (ind) {
            if (ind > PREP_CAT_MAX_INDEP) continue;
            u->ind_runs[ind] = 1;
            if (!u->ind_name[ind]) u->ind_name[ind] = cat_text(cand, who);
        } else if ((np = combo_parties(x, who, pp, NULL)) >= 2) {
            uint32_t q = coalition_of(x, pp, np);
            if (q == PREP_CAT_NONE) {
                derr(x, no, ci_who + 1, "unknown-contender", "combination %s is in no coalition of the results file",
                     who);
                continue;
            }
            u->coal_runs[q] = 1;
            if (!u->coal_name[q]) u->coal_name[q] = cat_text(cand, who);
        } else {
            uint32_t p = PREP_CAT_NONE;
            for (uint32_t i = 0; i < x->nparty && p == PREP_CAT_NONE; i++)
                if (!strcmp(x->col[x->party_col[i]].name, who)) p = i;
            size_t wl;
            uint32_t k = p == PREP_CAT_NONE ? party_spelled_as(x, who, &wl) : PREP_CAT_NONE;
            if (k != PREP_CAT_NONE && !who[wl]) p = party_of_col(x, k); /* MOR for the column MORENA */
            if (p == PREP_CAT_NONE) {
                derr(x, no, ci_who + 1, "unknown-contender", "contender %s is no column of the results file", who);
                continue;
            }
            u->party_runs[p] = 1;
            if (!u->party_name[p]) u->party_name[p] = cat_text(cand, who);
        }
    }
    free(f);
    free(text);
    x->name = saved;
    return rc;
}

/* ---------------------------------------------------------------- the text */

static int col_applies_in(const dunit *u, uint32_t k)
{
    /* a column applies where its rows hold values more often than "-" */
    return u->val[k] > u->dash[k];
}

/* Candidacies of unit u as booleans (coalitions, parties, independents), from the CSV
 * or from which columns apply. Returns the number of parties and independents on the
 * ballot (for the representatives). */
static uint32_t unit_candidacies(const dctx *x, const dunit *u, uint8_t *coal, uint8_t *party, uint8_t *ind)
{
    memset(coal, 0, PREP_CAT_MAX_PARTIES);
    memset(party, 0, PREP_CAT_MAX_PARTIES);
    memset(ind, 0, PREP_CAT_MAX_INDEP + 1);
    if (u->from_csv) {
        memcpy(coal, u->coal_runs, PREP_CAT_MAX_PARTIES);
        for (uint32_t p = 0; p < x->nparty; p++) party[p] = u->party_runs[p];
        memcpy(ind, u->ind_runs, PREP_CAT_MAX_INDEP + 1);
    } else {
        for (uint32_t q = 0; q < x->ncoal; q++)
            for (uint32_t k = 0; k < x->ncol && !coal[q]; k++)
                coal[q] = x->col[k].kind == PREP_CAT_COL_COMBO && col_applies_in(u, k) &&
                          subset(x->col[k].parties, x->col[k].np, x->coal_p[q], x->coal_np[q]);
        for (uint32_t p = 0; p < x->nparty; p++) party[p] = (uint8_t)col_applies_in(u, x->party_col[p]);
        for (uint32_t k = 0; k < x->ncol; k++)
            if (x->col[k].kind == PREP_CAT_COL_INDEP && x->col[k].indep <= PREP_CAT_MAX_INDEP && col_applies_in(u, k))
                ind[x->col[k].indep] = 1;
    }
    /* a party of a running coalition runs through it */
    uint8_t on_ballot[PREP_CAT_MAX_PARTIES] = {0};
    for (uint32_t q = 0; q < x->ncoal; q++)
        if (coal[q])
            for (uint32_t i = 0; i < x->coal_np[q]; i++) {
                party[x->coal_p[q][i]] = 0;
                on_ballot[x->coal_p[q][i]] = 1;
            }
    uint32_t n = 0;
    for (uint32_t p = 0; p < x->nparty; p++) n += on_ballot[p] || party[p];
    for (uint32_t k = 1; k <= PREP_CAT_MAX_INDEP; k++) n += ind[k];
    return n;
}

static void emit(prep_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(prep_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (prep_buf_vprintf(b, fmt, ap) != PREP_OK) {
        /* the buffer is bounded only by PREP_BUF_DEFAULT_MAX; a catalogue never gets there */
    }
    va_end(ap);
}

/* Rows of a [districts] or [municipalities] table. A name several units share (districts
 * named after their seat: Puebla 2018 has six HEROICA PUEBLA DE ZARAGOZA, Sonora 2021
 * four HERMOSILLO) would give them one URL; each of them is written "NAME (ID)". */
static void emit_geo(prep_buf *b, const dgeo *g, size_t n, const char *dflt, int national)
{
    for (size_t i = 0; i < n; i++) {
        char *nm = cat_text(g[i].name, dflt);
        char *sl = prep_slugify(nm);
        int shared = 0;
        if (national) emit(b, "%u|", g[i].ent); /* numbered, and named, within the entity */
        for (size_t j = 0; j < n && !shared; j++) {
            if (j == i || g[j].ent != g[i].ent) continue;
            char *o = cat_text(g[j].name, dflt);
            char *so = prep_slugify(o);
            shared = !strcmp(sl, so);
            free(o);
            free(so);
        }
        if (shared) emit(b, "%u|%s (%u)\n", g[i].id, nm, g[i].id);
        else emit(b, "%u|%s\n", g[i].id, nm);
        free(nm);
        free(sl);
    }
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* The election a results file is of, from its header's name (else from its columns):
 * *scope and *eid (the catalogue's election id). 0, or -1 with a diag when the file lacks
 * the column its scope needs. */
static int derive_election(dctx *x, const char *en, prep_cat_scope *scope, const char **eid)
{
    *scope = PREP_CAT_SCOPE_ENTITY;
    *eid = "eleccion";
    if (strstr(en, "DIPUTA")) *scope = PREP_CAT_SCOPE_DISTRICT, *eid = "dip";
    else if (strstr(en, "AYUNTAMIENTO") || strstr(en, "MUNICIP")) *scope = PREP_CAT_SCOPE_MUNICIPALITY, *eid = "ayu";
    else if (strstr(en, "GUBERNATURA") || strstr(en, "GOBERNADOR")) *eid = "gub";
    else if (strstr(en, "SENAD")) *eid = "sen"; /* national: a unit per entity */
    else if (strstr(en, "PRESIDENCIA") && x->national) *eid = "pres", *scope = PREP_CAT_SCOPE_NATION;
    else if (x->role_field[AR_ID_MUNICIPIO] >= 0 && x->role_field[AR_ID_DISTRITO] < 0) *scope = PREP_CAT_SCOPE_MUNICIPALITY;
    else if (x->role_field[AR_ID_DISTRITO] >= 0) *scope = PREP_CAT_SCOPE_DISTRICT;
    if (*scope == PREP_CAT_SCOPE_DISTRICT && x->role_field[AR_ID_DISTRITO] < 0) {
        derr(x, x->lay.header_line, 0, "missing-column", "a district election without a district column");
        return -1;
    }
    if (*scope == PREP_CAT_SCOPE_MUNICIPALITY && x->role_field[AR_ID_MUNICIPIO] < 0) {
        derr(x, x->lay.header_line, 0, "missing-column", "a municipal election without a municipality column");
        return -1;
    }
    return 0;
}

/* A casilla in two parts of a split section (s->cas sorted by key, then place) must be in
 * two units of the election: in one, its two actas would count twice over one ballot box
 * (a district election's rows that put a casilla in two municipalities). 0, or -1 with a
 * diag naming the first such casilla. */
static int split_casillas(dctx *x, const dset *s)
{
    for (size_t i = 1; i < s->ncas; i++) {
        const dcas *a = &s->cas[i - 1], *b = &s->cas[i];
        if (strcmp(a->key, b->key) || a->unit != b->unit) continue;
        derr(x, b->line, 0, "section-conflict",
             "casilla %s is in district %u / municipality %u here and in %u / %u on line %ld, which are one unit "
             "of the election: its two actas would count over one ballot box", b->key, b->dis, b->mun, a->dis,
             a->mun, a->line);
        return -1;
    }
    return 0;
}

/* After read_rows: one entity (into *ent), one casilla per key (a later capture of the
 * same acta repeats it), the candidacies of cand_csv when given. 0, or -1 with diags. */
static int derive_units(dctx *x, dset *s, const char *cand_csv, prep_cat_scope scope, uint32_t *ent)
{
    if (!s->ncas) {
        derr(x, 0, 0, "no-casillas", "no row of an expected acta");
        return -1;
    }
    *ent = 0;
    for (uint32_t i = 1; i < 100; i++)
        if (s->ent_count[i] > s->ent_count[*ent]) *ent = i;
    for (uint32_t i = 1; i < 100 && !x->national; i++)
        if (i != *ent && s->ent_count[i]) {
            derr(x, 0, 0, "multi-entity", "rows of entities %u and %u in a local layout: a local catalogue covers one "
                 "entity (INE's federal layout, with ID_DISTRITO_FEDERAL, derives a national one)", *ent, i);
            return -1;
        }
    if (x->national) *ent = 0;
    qsort(s->cas, s->ncas, sizeof *s->cas, cmp_cas);
    size_t w = 0;
    for (size_t i = 0; i < s->ncas; i++) {
        if (w && !strcmp(s->cas[w - 1].key, s->cas[i].key) && s->cas[w - 1].dis == s->cas[i].dis &&
            s->cas[w - 1].mun == s->cas[i].mun) {
            /* the same casilla again: a correction, or a special casilla's second acta (RP) */
            dcas *k = &s->cas[w - 1];
            const dcas *o = &s->cas[i];
            if (o->ln != k->ln) {
                /* one casilla, two lista nominal: the later capture's counts, as it replaces
                 * the earlier one (the later line when the instants are equal or absent),
                 * whatever order the sort left the rows in */
                int o_later = o->ln_t != k->ln_t && o->ln_t != PREP_TIME_NONE && k->ln_t != PREP_TIME_NONE
                                  ? o->ln_t > k->ln_t
                                  : o->ln_line > k->ln_line;
                const dcas *late = o_later ? o : k, *early = o_later ? k : o;
                prep_diags_add(x->d, x->name, late->ln_line, x->role_field[AR_LISTA_NOMINAL] + 1, "lista-nominal-conflict",
                               "casilla %s: LISTA_NOMINAL %u here, %u on line %ld; this line's, the later capture, is used", k->key,
                               late->ln, early->ln, early->ln_line);
                k->ln = late->ln;
                k->ln_line = late->ln_line;
                k->ln_t = late->ln_t;
            }
            if (s->cas[i].reps > k->reps) k->reps = s->cas[i].reps;
            if (s->cas[i].tipo < k->tipo) k->tipo = s->cas[i].tipo;
            if (s->cas[i].tipo_max > k->tipo_max) k->tipo_max = s->cas[i].tipo_max;
            continue;
        }
        s->cas[w++] = s->cas[i];
    }
    s->ncas = w;
    if (split_casillas(x, s)) return -1;
    if (!cand_csv) return 0;
    if (read_candidaturas(x, cand_csv, *ent, scope, s)) return -1;
    int bad = 0;
    for (size_t i = 0; i < s->nunit; i++)
        if (!s->unit[i].from_csv) {
            derr(x, 0, 0, "no-candidacies", "unit %u has rows but no candidacy in %s", s->unit[i].id,
                 base_name(cand_csv));
            bad = 1;
        }
    return bad ? -1 : 0;
}

/* What the derived catalogue says beside the rows. */
typedef struct dmeta {
    const char *path, *cand_csv; /* the files it comes from */
    const char *ename, *eid;     /* the election's name as written, its id */
    prep_cat_scope scope;
    uint32_t ent;                /* the entity */
    const char *tz;
    char window_open[40], window_close[40];
    uint32_t ballots;            /* of a special casilla */
    uint32_t decimals;           /* of the percentages */
    uint32_t acta_type;          /* the most frequent */
    uint32_t year;               /* of the cut (else of the latest capture): picks the rule preset */
    /* national: of special casillas' MR actas, of their RP actas (0: none), of M casillas
     * (PREP_CAT_ACTA_NONE: no votes from abroad in the file) */
    uint32_t special_type, rp_type, abroad_type;
    uint32_t rp_marked_type;     /* local: the number of the RP actas marked by letters (0: none) */
} dmeta;

static uint32_t most_common(const uint32_t count[100], uint32_t dflt)
{
    uint32_t best = dflt;
    for (uint32_t i = 0; i < 100; i++)
        if (count[i] && (best >= 100 || count[i] > count[best])) best = i;
    return best;
}

/* The acta types of a national file: a special casilla with two actas of the election
 * (two TIPO_ACTA under one key) has its RP acta as the greater type (INE 2018: 4 and 5,
 * 7 and 8); the MR type is then the most common other type of special casillas' rows. */
static void derive_acta_types(const dset *s, dmeta *m)
{
    uint32_t rp[100] = {0}, mr[100] = {0};
    for (size_t i = 0; i < s->ncas; i++) {
        const dcas *c = &s->cas[i];
        if (c->type == 'S' && c->tipo != c->tipo_max && c->tipo_max < 100) rp[c->tipo_max]++;
    }
    m->rp_type = most_common(rp, 0);
    memcpy(mr, s->special_type_count, sizeof mr);
    if (m->rp_type) mr[m->rp_type] = 0;
    m->special_type = most_common(mr, m->acta_type);
    m->abroad_type = most_common(s->abroad_type_count, PREP_CAT_ACTA_NONE);
}

/* The window (every capture and the cut inside it, a day of slack each side), the special
 * casillas' ballots, the percentages' decimals and the acta type. 0, or -1. */
static int derive_meta(dctx *x, const dset *s, dmeta *m)
{
    m->tz = x->national ? "America/Mexico_City" : entity_tz(m->ent); /* INE: Tiempo del centro (LEEME) */
    prep_time cut = x->lay.hdr.cut;
    prep_time wo = s->tmin, wc = s->tmax;
    if (cut != PREP_TIME_NONE) {
        if (wo == PREP_TIME_NONE || cut < wo) wo = cut;
        if (wc == PREP_TIME_NONE || cut > wc) wc = cut;
    }
    if (wo == PREP_TIME_NONE) wo = wc = 946684800; /* 2000-01-01: nothing to go by */
    wo -= 86400;                                   /* the timestamps were read as UTC: a day of slack */
    wc += 86400;
    if (prep_time_format(wo, m->tz, PREP_TS_ISO, m->window_open, sizeof m->window_open) ||
        prep_time_format(wc, m->tz, PREP_TS_ISO, m->window_close, sizeof m->window_close))
        return -1;
    /* the ballots of a special casilla: 750 until 2020, 1,000 from the 2020-2021 process
     * (INE raised it; LGIPE art. 269 allows up to 1,500) */
    m->ballots = m->window_open[0] && atoi(m->window_open) >= 2021 ? 1000 : 750;
    char yc[40];
    m->year = prep_time_format(cut != PREP_TIME_NONE ? cut : wc - 86400, m->tz, PREP_TS_ISO, yc, sizeof yc) ? 0
                                                                                                           : (uint32_t)atoi(yc);
    /* decimals of the percentages as written (none stated, no point or more than 9: 4) */
    const char *pv = prep_actas_header_value(&x->lay.hdr, 4);
    int pd = pv ? actas_decimals_written(pv) : -1;
    m->decimals = pd >= 0 && pd <= 9 ? (uint32_t)pd : 4;
    m->acta_type = 1;
    for (uint32_t i = 0; i < 100; i++)
        if (s->acta_type_count[i] > s->acta_type_count[m->acta_type]) m->acta_type = i;
    if (x->national) derive_acta_types(s, m);
    else m->rp_marked_type = most_common(s->rp_marked, 0);
    return 0;
}

/* A coalition's id: its parties joined by '_' (COAL<n> when that is too long). */
static void coal_id(const dctx *x, uint32_t q, char *id, size_t cap)
{
    id[0] = 0;
    for (uint32_t k = 0; k < x->coal_np[q]; k++) {
        size_t l = strlen(id);
        snprintf(id + l, cap - l, "%s%s", k ? "_" : "", x->col[x->party_col[x->coal_p[q][k]]].name);
    }
    if (strlen(id) > PREP_CAT_MAX_ID_LEN) snprintf(id, cap, "COAL%u", q + 1);
}

/* [process], [labels], [parties], the geography and [casillas]. */
static void emit_process_and_geography(dctx *x, dset *s, const dmeta *m, prep_buf *b)
{
    emit(b, "prep-catalog 1\n# Derived by prep from %s%s%s (docs/formats/actas.md).\n", base_name(m->path),
         m->cand_csv ? " and " : "", m->cand_csv ? base_name(m->cand_csv) : "");
    emit(b, "[process]\nid = derived\n");
    char *t1 = cat_text(m->ename, "ELECCION");
    emit(b, "name = %s (derivado de %s)\n", t1, base_name(m->path));
    free(t1);
    emit(b, "institute = Desconocido: catalogo derivado del archivo de resultados\n");
    emit(b, "entity_id = %u\n", m->ent);
    char *t2 = x->national ? prep_xstrdup("ESTADOS UNIDOS MEXICANOS")
                           : cat_text(s->ent_name[m->ent] ? s->ent_name[m->ent] : "", "ENTIDAD");
    emit(b, "entity = %s\ntimezone = %s\nwindow_open = %s\nwindow_close = %s\ncut_interval = 300\n", t2, m->tz,
         m->window_open, m->window_close);
    free(t2);
    int prefixed = 0, ind_first = 0;
    uint32_t first_combo = PREP_CAT_NONE, first_ind = PREP_CAT_NONE;
    for (uint32_t k = 0; k < x->ncol; k++) {
        if (x->col[k].kind == PREP_CAT_COL_COMBO && first_combo == PREP_CAT_NONE) first_combo = k, prefixed = x->col[k].prefixed;
        if (x->col[k].kind == PREP_CAT_COL_INDEP && first_ind == PREP_CAT_NONE) first_ind = k;
    }
    ind_first = first_ind != PREP_CAT_NONE && first_combo != PREP_CAT_NONE && first_ind < first_combo;
    emit(b, "combo_prefix = %s\nindependents_first = %s\ncsv_separator = %c\n", prefixed ? "C_" : "\"\"",
         ind_first ? "yes" : "no", x->lay.sep == ',' ? ',' : '|');
    emit(b, "percent_decimals = %u\n", m->decimals);
    /* the counting rules of the file's institute and year, as `prep tally --check` takes
     * them (docs/formats/actas.md, "Rule profiles"); INE's, and an institute without a
     * preset, the default ine (participation_specials final-only, as the LEEMEs say) */
    const char *preset = x->national ? NULL : prep_catalog_rules_preset_for(m->ent, m->year);
    emit(b, "\n[rules]\nprofile = %s\npublished = yes\n", preset ? preset : "ine");
    if (x->other_types[0]) emit(b, "other_casilla_types = %s\n", x->other_types);
    /* whether ACTAS_NO_CONTABILIZADAS holds the fuera de catálogo, as the file's own figures
     * tell (the 2024 model LEEME, item 9: "las actas fuera de catálogo no se consideran
     * dentro de las actas no contabilizadas"; INE 2021's did count them): the captured
     * actas not counted are CAPTURADAS - CONTABILIZADAS, with or without the FUERA */
    int64_t fuera, cap, cont, nc;
    const prep_actas_header *h = &x->lay.hdr;
    const char *hv[4] = {prep_actas_header_value(h, 2), prep_actas_header_value(h, 3), prep_actas_header_value(h, 5),
                         prep_actas_header_value(h, 8)};
    if (hv[0] && hv[1] && hv[2] && hv[3] && !prep_actas_figure_parse(hv[0], 2, &fuera) &&
        !prep_actas_figure_parse(hv[1], 3, &cap) && !prep_actas_figure_parse(hv[2], 5, &cont) &&
        !prep_actas_figure_parse(hv[3], 8, &nc) && fuera > 0 && cap >= cont) {
        if (nc == cap - cont) emit(b, "no_counted_out_of_catalog = no\n");
        else if (nc == cap - cont + fuera) emit(b, "no_counted_out_of_catalog = yes\n");
    }
    static const char *const lk[7] = {"some_illegible",        "all_illegible",       "exceeds_ln",
                                      "no_acta_not_delivered", "no_acta_not_installed", "no_acta_no_envelope",
                                      "out_of_catalog"};
    emit(b, "\n[labels]\n");
    for (int i = 0; i < 7; i++)
        if (s->label[i]) emit(b, "%s = %s\n", lk[i], s->label[i]);
    int spelled = 0;
    for (uint32_t p = 0; p < x->nparty; p++) spelled |= x->col[x->party_col[p]].spell != NULL;
    emit(b, "\n[parties]\nid|name|color%s\n", spelled ? "|combo_name" : "");
    for (uint32_t p = 0; p < x->nparty; p++) {
        const dcol *pc = &x->col[x->party_col[p]];
        /* its name: the longer of the column and the combinations' spelling (M: MORENA) */
        char nm[PREP_CAT_MAX_ID_LEN + 1];
        int full = pc->spell && pc->spell_len > strlen(pc->name) && pc->spell_len < sizeof nm;
        snprintf(nm, sizeof nm, "%.*s", full ? (int)pc->spell_len : (int)strlen(pc->name), full ? pc->spell : pc->name);
        emit(b, "%s|%s|%s", pc->name, nm, party_color(nm, p));
        if (spelled) emit(b, "|%.*s", pc->spell ? (int)pc->spell_len : 0, pc->spell ? pc->spell : "");
        emit(b, "\n");
    }
    qsort(s->dis, s->ndis, sizeof *s->dis, cmp_geo);
    qsort(s->mun, s->nmun, sizeof *s->mun, cmp_geo);
    const char *ec = x->national ? "entity|" : "";
    if (x->national) {
        emit(b, "\n[entities]\nid|name|circ\n");
        for (uint32_t e = 1; e < 100; e++)
            if (s->ent_count[e]) {
                char dflt[32];
                snprintf(dflt, sizeof dflt, "ENTIDAD %u", e);
                char *en = cat_text(s->ent_name[e] ? s->ent_name[e] : dflt, dflt);
                emit(b, "%u|%s|0\n", e, en); /* the file does not say the circunscripción */
                free(en);
            }
    }
    emit(b, "\n[districts]\n%sid|name\n", ec);
    emit_geo(b, s->dis, s->ndis, "DISTRITO", x->national);
    emit(b, "\n[municipalities]\n%sid|name\n", ec);
    emit_geo(b, s->mun, s->nmun, "MUNICIPIO", x->national);
    emit(b, "\n[sections]\n%sid|district|municipality\n", ec);
    if (s->npart) qsort(s->part, s->npart, sizeof *s->part, cmp_part); /* walked beside the sections */
    size_t pi = 0;
    for (uint32_t e = x->national ? 1 : 0; e < (x->national ? 100u : 1u); e++)
        for (uint32_t sec = 0; sec <= PREP_CAT_MAX_SECTION_ID; sec++) {
            size_t si = sec_index(x->national, e, sec);
            if (!s->sec_dis[si]) continue;
            if (x->national) emit(b, "%u|", e);
            emit(b, "%u|%u|%u\n", sec, s->sec_dis[si] - 1, s->sec_mun[si] - 1);
            for (; pi < s->npart && s->part[pi].si == si; pi++) { /* a split section's other parts */
                if (x->national) emit(b, "%u|", e);
                emit(b, "%u|%u|%u\n", sec, s->part[pi].dis, s->part[pi].mun);
            }
        }
    /* candidacies per unit, and from them the representatives' cap */
    for (size_t i = 0; i < s->nunit; i++) {
        uint8_t coal[PREP_CAT_MAX_PARTIES], party[PREP_CAT_MAX_PARTIES], ind[PREP_CAT_MAX_INDEP + 1];
        s->unit[i].reps = 2 * unit_candidacies(x, &s->unit[i], coal, party, ind);
    }
    /* with split sections, each casilla says its part (its district and municipality) */
    int parts = s->npart > 0;
    emit(b, "\n[casillas]\n%ssection|type|number|ext|urban|lista_nominal|representatives|ballots%s\n", ec,
         parts ? "|district|municipality" : "");
    for (size_t i = 0; i < s->ncas; i++) {
        const dcas *c = &s->cas[i];
        const dunit *u = unit_get(s, c->unit, 0);
        /* Lista nominal + representatives caps the votes (Anexo 13). The file's
         * REPRESENTANTES_PP_CI is, in QROO 2019, the representatives who voted; the cap
         * counts every accredited one and their substitutes: 2 per contender. */
        uint32_t reps = u && u->reps > c->reps ? u->reps : c->reps;
        uint32_t ln = c->ln;
        if (c->type == 'S' && ln) ln = 0; /* specials have no lista nominal of their own */
        if (x->national) emit(b, "%u|", c->ent);
        emit(b, "%u|%c|%u|%u|%u|%u|%u|%u", c->section, c->type, c->number, c->ext, c->urban, ln, reps,
             c->type == 'S' ? m->ballots : 0);
        if (parts) emit(b, "|%u|%u", c->dis, c->mun);
        emit(b, "\n");
    }
}

/* [elections], [coalitions] and [candidacies]. */
static void emit_contests(dctx *x, dset *s, const dmeta *m, prep_buf *b)
{
    char *t1 = cat_text(m->ename, "ELECCION");
    char title[128];
    snprintf(title, sizeof title, "%s", t1);
    title_case(title);
    emit(b, "\n[elections]\nid|name|title|scope|acta_type|parties%s%s\n%s|%s|%s|%s|%u|",
         x->national || m->rp_marked_type ? "|special_acta_type|abroad_acta_type|rp_acta_type" : "",
         x->n_indep ? "|independents" : "",
         m->eid, t1, title,
         m->scope == PREP_CAT_SCOPE_DISTRICT       ? "district"
         : m->scope == PREP_CAT_SCOPE_MUNICIPALITY ? "municipality"
         : m->scope == PREP_CAT_SCOPE_NATION       ? "nation"
                                                   : "entity",
         m->acta_type);
    free(t1);
    for (uint32_t p = 0; p < x->nparty; p++) emit(b, "%s%s", p ? " " : "", x->col[x->party_col[p]].name);
    if (x->national) {
        char ab[16] = "-";
        if (m->abroad_type != PREP_CAT_ACTA_NONE) snprintf(ab, sizeof ab, "%u", m->abroad_type);
        emit(b, "|%u|%s|%u", m->special_type, ab, m->rp_type);
    } else if (m->rp_marked_type) {
        emit(b, "|%u|%u|%uRP", m->acta_type, m->acta_type, m->rp_marked_type);
    }
    if (x->n_indep && !x->named_indep) emit(b, "|%u", x->n_indep); /* columns no candidacy uses too */
    for (uint32_t k = 0, n = 0; x->named_indep && k < x->ncol; k++)
        if (x->col[k].kind == PREP_CAT_COL_INDEP) emit(b, "%s%s", n++ ? " " : "|", x->col[k].name);
    emit(b, "\n");
    if (x->ncoal) {
        emit(b, "\n[coalitions]\nelection|id|name|parties\n");
        for (uint32_t q = 0; q < x->ncoal; q++) {
            char id[256], nm[256] = "", ps[256] = "";
            coal_id(x, q, id, sizeof id);
            for (uint32_t i = 0; i < x->coal_np[q]; i++) {
                const char *pid = x->col[x->party_col[x->coal_p[q][i]]].name;
                size_t l = strlen(nm);
                snprintf(nm + l, sizeof nm - l, "%s%s", i ? "-" : "", pid);
                l = strlen(ps);
                snprintf(ps + l, sizeof ps - l, "%s%s", i ? " " : "", pid);
            }
            emit(b, "%s|%s|Coalicion %s|%s\n", m->eid, id, nm, ps);
        }
    }
    emit(b, "\n[candidacies]\nelection|unit|contender|name\n");
    qsort(s->unit, s->nunit, sizeof *s->unit, cmp_u32);
    s->last_unit = 0;
    for (size_t i = 0; i < s->nunit; i++) {
        const dunit *u = &s->unit[i];
        char unit[24];
        if (m->scope == PREP_CAT_SCOPE_NATION || (m->scope == PREP_CAT_SCOPE_ENTITY && !x->national))
            snprintf(unit, sizeof unit, "*");
        else if (x->national && m->scope == PREP_CAT_SCOPE_ENTITY) snprintf(unit, sizeof unit, "%u", u->id);
        else if (x->national) snprintf(unit, sizeof unit, "%u-%u", u->id / D_UNIT_ENT, u->id % D_UNIT_ENT);
        else snprintf(unit, sizeof unit, "%u", u->id);
        uint8_t coal[PREP_CAT_MAX_PARTIES], party[PREP_CAT_MAX_PARTIES], ind[PREP_CAT_MAX_INDEP + 1];
        unit_candidacies(x, u, coal, party, ind);
        for (uint32_t q = 0; q < x->ncoal; q++) {
            if (!coal[q]) continue;
            char id[256];
            coal_id(x, q, id, sizeof id);
            emit(b, "%s|%s|%s|%s\n", m->eid, unit, id, u->coal_name[q] ? u->coal_name[q] : id);
        }
        for (uint32_t p = 0; p < x->nparty; p++)
            if (party[p]) {
                const char *pid = x->col[x->party_col[p]].name;
                emit(b, "%s|%s|%s|%s\n", m->eid, unit, pid, u->party_name[p] ? u->party_name[p] : pid);
            }
        for (uint32_t k = 1; k <= PREP_CAT_MAX_INDEP; k++)
            if (ind[k]) {
                char cid[24];
                snprintf(cid, sizeof cid, "CAND_IND_%u", k);
                emit(b, "%s|%s|%s|%s\n", m->eid, unit, cid, u->ind_name[k] ? u->ind_name[k] : cid);
            }
    }
}

/* A file with a DISTRITO_LOCAL (or DISTRITO...) column but no ID_DISTRITO...: when every
 * row's value there is a number (IECM 2024, as its LEEME item 5 defines DISTRITO_LOCAL:
 * "número del distrito electoral local ... del 001 al 033"), that column is the district's
 * id. The rows from *it on are read without being changed (actas_next_line ends lines in
 * place). */
static void district_number_column(dctx *x, const actas_lines *it)
{
    int fd = x->role_field[AR_DISTRITO];
    if (x->role_field[AR_ID_DISTRITO] >= 0 || fd < 0) return;
    char **f = prep_xmalloc(PREP_ACTAS_MAX_FIELDS * sizeof *f);
    char *line = NULL;
    size_t cap = 0, numbers = 0, others = 0;
    for (const char *p = it->p; p < it->end && !others;) {
        const char *q = p;
        while (q < it->end && *q != '\n' && *q != '\r') q++;
        size_t n = (size_t)(q - p);
        if (n + 1 > cap) line = prep_xrealloc(line, cap = n + 1);
        memcpy(line, p, n);
        line[n] = 0;
        p = q < it->end ? q + 1 : q;
        if (n > PREP_ACTAS_MAX_LINE) continue;
        size_t nf = prep_split(line, x->lay.sep, 1, f, NULL, PREP_ACTAS_MAX_FIELDS);
        if (nf < x->lay.ncols || (size_t)fd >= nf) continue; /* blank, an aside: the reading says */
        char *v = actas_unquote(f[fd]);
        if (actas_is_blank(v)) continue;
        size_t dn = strspn(v, "0123456789");
        if (dn && dn <= 4 && !v[dn]) numbers++;
        else others++;
    }
    free(line);
    free(f);
    if (numbers && !others) {
        x->role_field[AR_ID_DISTRITO] = fd;
        x->role_field[AR_DISTRITO] = -1;
    }
}

/* District 0 of an entity holds its mesas of section 0; unless the rows named it, it is
 * named by the ways of voting its mesas hold: VOTO EN EL EXTRANJERO (M), VOTO ANTICIPADO
 * (A), VOTO EN PRISION PREVENTIVA (P), or those joined ("VOTO EN EL EXTRANJERO, ANTICIPADO
 * Y EN PRISION PREVENTIVA"). */
static void name_mesa_districts(dctx *x, dset *s)
{
    static const char *const way[3] = {"EN EL EXTRANJERO", "ANTICIPADO", "EN PRISI\xC3\x93N PREVENTIVA"};
    for (size_t i = 0; i < s->ndis; i++) {
        dgeo *g = &s->dis[i];
        /* the name note_place gave it (the first row M, or A or P), not the file's */
        if (g->id != 0 || (strcmp(g->name, D_ABROAD_DISTRICT) && strcmp(g->name, "DISTRITO 0"))) continue;
        unsigned mask = 0;
        for (uint32_t e = 0; e < PREP_ARRAY_LEN(s->mesa0); e++)
            if (!x->national || e == g->ent) mask |= s->mesa0[e];
        if (!mask) continue;
        char nm[128] = "VOTO";
        size_t n = strlen(nm), k = 0, total = (size_t)__builtin_popcount(mask);
        for (int b = 0; b < 3; b++) {
            if (!(mask & (1u << b))) continue;
            k++;
            n += (size_t)snprintf(nm + n, sizeof nm - n, "%s%s", k == 1 ? " " : k == total ? " Y " : ", ", way[b]);
        }
        free(g->name);
        g->name = prep_xstrdup(nm);
    }
}

/* Reads the results file and writes the catalogue it implies into *out (owned). */
static prep_err build_text(dctx *x, const char *path, const char *cand_csv, char **out)
{
    *out = NULL;
    prep_err err = PREP_OK;
    char *data = NULL, *text = NULL;
    size_t len = 0, tlen = 0;
    dset s;
    memset(&s, 0, sizeof s);
    if ((err = prep_read_file(path, PREP_ACTAS_MAX_FILE, &data, &len))) {
        derr(x, 0, 0, "io", "cannot read the file: %s", prep_err_str(err));
        return err;
    }
    err = actas_decode(data, len, &text, &tlen, NULL);
    free(data);
    if (err == PREP_ERR_PARSE) derr(x, 1, 0, "bad-encoding", ACTAS_BAD_UTF16);
    if (err) return err;
    actas_lines it;
    actas_lines_init(&it, text, tlen);
    if ((err = actas_layout_read(path, &it, NULL, &x->lay, x->d))) {
        free(text);
        return err;
    }
    dmeta m;
    memset(&m, 0, sizeof m);
    m.path = path;
    m.cand_csv = cand_csv;
    m.ename = x->lay.hdr.election_name && *x->lay.hdr.election_name ? x->lay.hdr.election_name : "ELECCION";
    char en[128];
    actas_norm(m.ename, en, sizeof en);
    if (!strcmp(en, "ELECCION")) {
        /* no election line (INE's LEEMEs show the block opening with the cut): the file's
         * name tells it (presidencia.csv, senadurias.csv, diputaciones.csv) */
        actas_norm(base_name(path), en, sizeof en);
        if (actas_name_is(en, "PRESIDENCIA")) m.ename = "PRESIDENCIA"; /* not presidencia_municipal.csv */
        else if (strstr(en, "SENADURIA")) m.ename = "SENADURIAS";
        else if (strstr(en, "DIPUTACIONES")) m.ename = "DIPUTACIONES";
        actas_norm(m.ename, en, sizeof en);
    }
    if (classify_columns(x)) {
        err = PREP_ERR_INVALID;
        goto done;
    }
    district_number_column(x, &it);
    x->national = (x->role_field[AR_ID_DISTRITO] >= 0 &&
                   !strcmp(x->lay.cols[x->role_field[AR_ID_DISTRITO]], "ID_DISTRITO_FEDERAL")) ||
                  actas_federal_name(en);
    if (derive_election(x, en, &m.scope, &m.eid)) {
        err = PREP_ERR_INVALID;
        goto done;
    }
    read_rows(x, &it, m.scope, &s);
    name_mesa_districts(x, &s);
    if (derive_units(x, &s, cand_csv, m.scope, &m.ent) || derive_meta(x, &s, &m)) {
        err = PREP_ERR_INVALID;
        goto done;
    }
    prep_buf b;
    prep_buf_init(&b, 0);
    emit_process_and_geography(x, &s, &m, &b);
    emit_contests(x, &s, &m, &b);
    *out = prep_buf_steal(&b, NULL);
    prep_buf_free(&b);
done:
    dset_free(&s);
    free(text);
    return err ? err : (x->nerr ? PREP_ERR_INVALID : PREP_OK);
}

prep_err prep_actas_derive_catalog_text(const char *actas_path, const char *candidaturas_csv_or_NULL, char **text,
                                        prep_diags *diags)
{
    dctx *x = calloc(1, sizeof *x);
    if (!x) return PREP_ERR_NOMEM;
    x->name = actas_path;
    x->d = diags;
    prep_err err = build_text(x, actas_path, candidaturas_csv_or_NULL, text);
    if (err) {
        free(*text);
        *text = NULL;
    }
    actas_layout_free(&x->lay);
    free(x);
    return err;
}

prep_err prep_actas_derive_catalog(const char *actas_path, const char *candidaturas_csv_or_NULL, prep_catalog **out,
                                   prep_diags *diags)
{
    *out = NULL;
    char *text = NULL;
    prep_err err = prep_actas_derive_catalog_text(actas_path, candidaturas_csv_or_NULL, &text, diags);
    if (err) return err;
    char name[512];
    snprintf(name, sizeof name, "%s (derived catalogue)", actas_path);
    err = prep_catalog_parse(name, text, strlen(text), out, diags);
    free(text);
    if (err) return err;
    /* every vote column of the file must be a distinct column of the derived election, and
     * every column of the election in the file: the reader places columns by name, so the
     * file's order is free (Puebla 2018 writes C_NA_CPP after C_CPP_PSI) */
    prep_catalog *c = *out;
    char *data = NULL, *t2 = NULL;
    size_t len = 0, tl = 0;
    actas_layout lay;
    if ((err = prep_read_file(actas_path, PREP_ACTAS_MAX_FILE, &data, &len)) == PREP_OK &&
        (err = actas_decode(data, len, &t2, &tl, NULL)) == PREP_OK) {
        actas_lines it;
        actas_lines_init(&it, t2, tl);
        if ((err = actas_layout_read(actas_path, &it, NULL, &lay, diags)) == PREP_OK) {
            const prep_cat_election *el = &c->elections[0];
            uint32_t *at = prep_xcalloc(el->n_cols, sizeof *at); /* file field + 1, 0 = not seen */
            int *foreign = actas_foreign_columns(&lay);
            for (size_t i = 0; i < lay.ncols; i++) {
                if (actas_role_of(lay.cols[i]) != AR_UNKNOWN || foreign[i]) continue;
                uint32_t j = actas_resolve_vote_col(c, 0, lay.cols[i]);
                if (j == PREP_CAT_NONE) {
                    prep_diags_add(diags, actas_path, lay.header_line, (long)i + 1, "derived-columns",
                                   "column %s is no column of the derived election", lay.cols[i]);
                    err = PREP_ERR_INVALID;
                } else if (at[j]) {
                    prep_diags_add(diags, actas_path, lay.header_line, (long)i + 1, "derived-columns",
                                   "column %s is column %s of the derived election again (field %u)", lay.cols[i],
                                   el->cols[j].name, at[j]);
                    err = PREP_ERR_INVALID;
                } else {
                    at[j] = (uint32_t)i + 1;
                }
            }
            for (uint32_t j = 0; j < el->n_cols; j++)
                if (!at[j]) {
                    prep_diags_add(diags, actas_path, lay.header_line, 0, "derived-columns",
                                   "column %s of the derived election is not in the file", el->cols[j].name);
                    err = PREP_ERR_INVALID;
                }
            free(at);
            free(foreign);
            actas_layout_free(&lay);
        }
    }
    free(data);
    free(t2);
    if (err) {
        prep_catalog_free(c);
        *out = NULL;
    }
    return err;
}
