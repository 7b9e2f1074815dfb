/* prep sim: a whole election night of captured actas for any catalogue. The model
 * (arrival curve, vote shares, inconsistencies, corrections) and its parameters are in
 * docs/formats/sim.md; the numbers below are those parameters.
 *
 * Determinism: per-casilla facts shared by every election (package arrival, turnout,
 * channel) come from one stream; each election has its own stream; both are seeded from
 * opts->seed only, and consumed in catalogue order. */
#include "sim_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MIN 60
#define HOUR 3600

void prep_sim_night_defaults(prep_sim_night_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->corrections = 0.01;
    o->some_illegible = 0.20;
    o->all_illegible = 0.01;
    o->exceeds_ln = 0.003;
    o->no_acta = 0.03;
    o->out_of_catalog = 0.001;
    o->never_arrive = 0.01;
}

/* What happens to one casilla's package: shared by the actas of every election. */
typedef struct pkg {
    int64_t photo;          /* mobile: seconds after open the acta photos start; else -1 */
    int64_t acopio;         /* seconds after open the package reaches the CATD */
    uint32_t voters;        /* personas que votaron (from the lista nominal) */
    uint32_t voters_mr;     /* special casilla: of them, voters of its own unit, who vote on the
                             * MR acta; the rest vote only on the RP acta (elections with one) */
    uint32_t reps_voted;
    char mec;               /* MECANISMOS_TRASLADO: 'D', 'F', 'I' or 0 */
} pkg;

/* One generated capture before sorting. */
typedef struct rec {
    prep_acta a;
    size_t votes_off;       /* into the night's temporary pool */
} rec;

typedef struct night {
    const prep_catalog *c;
    const prep_sim_night_opts *o;
    prep_rng rng;           /* the election's stream */
    uint32_t e;
    uint32_t n_cols;
    int64_t span;           /* window length, seconds */
    pkg *pkgs;
    const double *lean;     /* per section x party: local leaning (shared by elections) */
    double *cand_w;         /* per candidacy: weight in its unit */
    double *col_split;      /* per candidacy column slot: share of the candidacy's votes */
    double *col_urban, *col_rural; /* per slot: multiplier in urban / non-urban casillas */
    double *unit_null;      /* per unit: nulos share */
    rec *recs;
    size_t n_recs, cap_recs;
    int32_t *pool;
    size_t pool_len, pool_cap;
    double *w;              /* scratch: n_cols weights */
    prep_err err;
} night;

static double unitr(prep_rng *r) { return prep_rng_unit(r); }

static double lognorm1(prep_rng *r, double sigma)
{
    return exp(sigma * prep_rng_normal(r) - sigma * sigma / 2.0);
}

static int64_t uniform_s(prep_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)prep_rng_below(r, (uint64_t)(hi - lo + 1));
}

/* ---------------------------------------------------------------- packages */

/* Arrival of a package at the CATD, seconds after the window opens: the count at the
 * casilla, then transport; rural ones take longer. Kept inside the window. */
static int64_t catd_arrival(prep_rng *r, int urban, int64_t span)
{
    for (int t = 0; t < 32; t++) {
        double m = 30.0 + 240.0 * exp(0.75 * prep_rng_normal(r)) * (urban ? 1.0 : 1.45);
        int64_t s = (int64_t)(m * MIN);
        if (s < span - 2 * HOUR) return s - s % MIN; /* acopio has minute resolution */
    }
    return span - 3 * HOUR;
}

/* Votes from abroad are counted on election day in Mexico City and their actas reach the
 * PREP late in the night: 2 h + 5 h x lognormal after the open (median about 03:00). */
static int64_t abroad_arrival(prep_rng *r, int64_t span)
{
    double m = 120.0 + 300.0 * exp(0.5 * prep_rng_normal(r));
    int64_t s = (int64_t)(m * MIN);
    if (s > span - 3 * HOUR) s = span - 3 * HOUR;
    return s - s % MIN;
}

/* Local leaning of every section towards every party: a municipality factor (sd 0.25
 * in log) times a section factor (sd 0.15). The same places lean the same way in every
 * election of the night. */
static prep_err make_lean(const prep_catalog *c, const prep_sim_night_opts *o, double **out)
{
    size_t np = c->n_parties ? c->n_parties : 1;
    double *mun = malloc((c->n_municipalities ? c->n_municipalities : 1) * np * sizeof *mun);
    double *lean = malloc((c->n_sections ? c->n_sections : 1) * np * sizeof *lean);
    if (!mun || !lean) {
        free(mun);
        free(lean);
        return PREP_ERR_NOMEM;
    }
    prep_rng r;
    prep_rng_seed(&r, o->seed ^ 0x6c65616e5f676571ull);
    for (size_t k = 0; k < (size_t)c->n_municipalities * c->n_parties; k++) mun[k] = lognorm1(&r, 0.25);
    for (uint32_t s = 0; s < c->n_sections; s++) {
        uint32_t m = c->sections[s].municipality; /* none: no municipal factor */
        for (uint32_t p = 0; p < c->n_parties; p++) {
            double f = m < c->n_municipalities ? mun[(size_t)m * np + p] : 1.0;
            lean[(size_t)s * np + p] = f * lognorm1(&r, 0.15);
        }
    }
    free(mun);
    *out = lean;
    return PREP_OK;
}

static prep_err make_pkgs(const prep_catalog *c, const prep_sim_night_opts *o, int64_t span, pkg **out)
{
    pkg *p = calloc(c->n_casillas ? c->n_casillas : 1, sizeof *p);
    if (!p) return PREP_ERR_NOMEM;
    prep_rng r;
    prep_rng_seed(&r, o->seed ^ 0x9ac4a6e5b3d1f207ull);
    /* Turnout per municipality around 52%. */
    double *tm = malloc((c->n_municipalities ? c->n_municipalities : 1) * sizeof *tm);
    if (!tm) {
        free(p);
        return PREP_ERR_NOMEM;
    }
    int any_rp = 0;
    for (uint32_t e = 0; e < c->n_elections; e++) any_rp |= c->elections[e].rp_acta_type > 0;
    for (uint32_t m = 0; m < c->n_municipalities; m++) {
        double t = 0.52 + 0.05 * prep_rng_normal(&r);
        tm[m] = t < 0.30 ? 0.30 : t > 0.75 ? 0.75 : t;
    }
    for (uint32_t i = 0; i < c->n_casillas; i++) {
        const prep_cat_casilla *k = &c->casillas[i];
        int urban = k->urban == 1, special = k->type == 'S', abroad = k->type == 'M';
        double pm = abroad ? 0.0 : special ? 0.5 : urban ? 0.42 : 0.15;
        pkg *g = &p[i];
        g->photo = -1;
        if (unitr(&r) < pm) {
            double m = 15.0 + 75.0 * exp(0.55 * prep_rng_normal(&r));
            int64_t s = (int64_t)(m * MIN);
            g->photo = s > span - 3 * HOUR ? span - 3 * HOUR : s;
        }
        g->acopio = abroad ? abroad_arrival(&r, span) : catd_arrival(&r, urban, span);
        if (g->photo >= 0 && g->acopio < g->photo) g->acopio = g->photo + 30 * MIN;
        g->acopio -= g->acopio % MIN;
        double u = unitr(&r);
        g->mec = urban ? (u < 0.75 ? 'D' : 'F')
                       : (u < 0.55 ? 'D' : u < 0.85 ? 'F' : u < 0.95 ? 'I' : 0);
        if (special) {
            double f = 0.15 + 0.75 * unitr(&r);
            g->voters = (uint32_t)(k->ballots * f);
            /* drawn only where an election has RP actas, so that a local night's stream (and
             * bytes) stay what they were before RP actas existed */
            g->voters_mr = any_rp ? (uint32_t)(g->voters * (0.55 + 0.35 * unitr(&r)) + 0.5) : g->voters;
        } else if (abroad) {
            double t = 0.54 + 0.08 * prep_rng_normal(&r); /* 2018: 98,470 of 181,256 registered */
            t = t < 0.20 ? 0.20 : t > 0.90 ? 0.90 : t;
            g->voters = (uint32_t)(k->lista_nominal * t + 0.5);
        } else {
            uint32_t m = c->sections[k->section].municipality;
            double t = (m < c->n_municipalities ? tm[m] : 0.52) + 0.06 * prep_rng_normal(&r) +
                       (urban ? -0.02 : 0.02);
            t = t < 0.12 ? 0.12 : t > 0.92 ? 0.92 : t;
            g->voters = (uint32_t)(k->lista_nominal * t + 0.5);
        }
        g->reps_voted = (uint32_t)prep_rng_below(&r, (uint64_t)k->representatives + 1);
    }
    free(tm);
    *out = p;
    return PREP_OK;
}

/* ---------------------------------------------------------------- vote model */

static double scope_sigma(prep_cat_scope s)
{
    return s == PREP_CAT_SCOPE_ENTITY ? 0.0 : s == PREP_CAT_SCOPE_DISTRICT ? 0.20 : 0.30;
}

/* Per candidacy of election e: its weight in its unit and the split of its votes among
 * its columns (parties by strength, each combination a small share). */
static prep_err prepare_election(night *n)
{
    const prep_catalog *c = n->c;
    const prep_cat_election *el = &c->elections[n->e];
    size_t nc = c->n_candidacies ? c->n_candidacies : 1;
    n->cand_w = calloc(nc, sizeof *n->cand_w);
    size_t slots = 0;
    for (uint32_t k = 0; k < c->n_candidacies; k++) slots += c->candidacies[k].n_cols;
    n->col_split = calloc(slots ? slots : 1, sizeof *n->col_split);
    n->col_urban = calloc(slots ? slots : 1, sizeof *n->col_urban);
    n->col_rural = calloc(slots ? slots : 1, sizeof *n->col_rural);
    n->unit_null = calloc(el->n_units ? el->n_units : 1, sizeof *n->unit_null);
    n->w = calloc(el->n_cols ? el->n_cols : 1, sizeof *n->w);
    if (!n->cand_w || !n->col_split || !n->col_urban || !n->col_rural || !n->unit_null || !n->w)
        return PREP_ERR_NOMEM;
    double sigma = scope_sigma(el->scope);
    for (uint32_t u = 0; u < el->n_units; u++) n->unit_null[u] = 0.035 * lognorm1(&n->rng, 0.3);
    size_t slot = 0;
    for (uint32_t k = 0; k < c->n_candidacies; k++) {
        const prep_cat_candidacy *cd = &c->candidacies[k];
        size_t first = slot;
        slot += cd->n_cols;
        if (cd->election != n->e) continue;
        double base = 0;
        if (cd->kind == PREP_CAT_CAND_INDEP) {
            base = 0.05 * lognorm1(&n->rng, 0.7);
            if (base > 0.35) base = 0.35;
        }
        double combo_sum = 0;
        uint32_t n_combo = 0;
        for (uint32_t j = 0; j < cd->n_cols; j++) {
            const prep_cat_column *col = &el->cols[cd->cols[j]];
            double tilt = 0;
            if (col->kind == PREP_CAT_COL_PARTY) {
                sim_strength st = sim_party_strength(c->process_id, c->parties[col->parties[0]].id);
                n->col_split[first + j] = st.share;
                base += st.share;
                combo_sum += st.share;
                tilt = st.rural_tilt;
            } else if (col->kind == PREP_CAT_COL_COMBO) {
                n_combo++;
                for (uint32_t q = 0; q < col->n_parties; q++)
                    tilt += sim_party_strength(c->process_id, c->parties[col->parties[q]].id).rural_tilt /
                            col->n_parties;
            } else {
                n->col_split[first + j] = 1.0;
                tilt = 0.2; /* independents do better in small places */
            }
            n->col_urban[first + j] = exp(-tilt / 2);
            n->col_rural[first + j] = exp(tilt / 2);
        }
        /* Combinations: 3% of the alliance's party votes, shared among them. */
        for (uint32_t j = 0; j < cd->n_cols; j++)
            if (el->cols[cd->cols[j]].kind == PREP_CAT_COL_COMBO)
                n->col_split[first + j] = 0.03 * combo_sum / n_combo;
        double tot = 0;
        for (uint32_t j = 0; j < cd->n_cols; j++) tot += n->col_split[first + j];
        for (uint32_t j = 0; j < cd->n_cols; j++)
            n->col_split[first + j] = tot > 0 ? n->col_split[first + j] / tot : 0;
        /* The candidate's own pull in the unit (none for a single statewide race). */
        n->cand_w[k] = base * (sigma > 0 ? lognorm1(&n->rng, sigma) : 1.0);
    }
    return PREP_OK;
}

/* Offsets of each candidacy's slots in col_split (same walk as prepare_election). */
static size_t *slot_offsets(const prep_catalog *c)
{
    size_t *off = malloc((c->n_candidacies + 1) * sizeof *off);
    if (!off) return NULL;
    size_t s = 0;
    for (uint32_t k = 0; k < c->n_candidacies; k++) {
        off[k] = s;
        s += c->candidacies[k].n_cols;
    }
    off[c->n_candidacies] = s;
    return off;
}

/* Fills votes[n_cols] for casilla i in unit u: total = voters + representatives who
 * voted, shared by weight; "-" where a column does not apply. Cumulative rounding keeps
 * the exact total. */
static void cast_votes(night *n, const size_t *off, uint32_t i, uint32_t u, uint32_t total,
                       int32_t *votes)
{
    const prep_catalog *c = n->c;
    const prep_cat_election *el = &c->elections[n->e];
    int rural = c->casillas[i].urban != 1;
    for (uint32_t j = 0; j < el->n_cols; j++) n->w[j] = 0;
    double valid = 0;
    const size_t np = c->n_parties;
    const double *lean = n->lean + (size_t)c->casillas[i].section * np;
    for (uint32_t q = el->cand_first[u]; q < el->cand_first[u + 1]; q++) {
        uint32_t k = el->cand_index[q];
        const prep_cat_candidacy *cd = &c->candidacies[k];
        double w = n->cand_w[k] * exp(0.10 * prep_rng_normal(&n->rng));
        for (uint32_t j = 0; j < cd->n_cols; j++) {
            const prep_cat_column *col = &el->cols[cd->cols[j]];
            double l = 1.0;
            if (col->kind == PREP_CAT_COL_PARTY || col->kind == PREP_CAT_COL_COMBO) {
                l = 0;
                for (uint32_t p = 0; p < col->n_parties; p++) l += lean[col->parties[p]];
                l /= col->n_parties;
            }
            double x = w * n->col_split[off[k] + j] * l *
                       (rural ? n->col_rural[off[k] + j] : n->col_urban[off[k] + j]) *
                       (0.9 + 0.2 * unitr(&n->rng));
            n->w[cd->cols[j]] += x;
            valid += x;
        }
    }
    double nul = n->unit_null[u] * lognorm1(&n->rng, 0.3) * (rural ? 1.3 : 1.0);
    if (nul > 0.25) nul = 0.25;
    double noreg = 0.001 * lognorm1(&n->rng, 0.8);
    double scale = valid > 0 ? (1.0 - nul - noreg) / valid : 0;
    for (uint32_t j = 0; j < el->n_cols; j++) {
        prep_cat_col_kind kd = el->cols[j].kind;
        if (kd == PREP_CAT_COL_NULOS) n->w[j] = valid > 0 ? nul : 1.0;
        else if (kd == PREP_CAT_COL_NOREG) n->w[j] = valid > 0 ? noreg : 0.0;
        else n->w[j] *= scale;
    }
    double cum = 0;
    int64_t prev = 0;
    for (uint32_t j = 0; j < el->n_cols; j++) {
        if (!prep_catalog_col_applies(c, n->e, u, j)) {
            votes[j] = PREP_ACTA_V_NA;
            continue;
        }
        cum += n->w[j];
        int64_t upto = (int64_t)floor(cum * total + 0.5);
        if (upto > total) upto = total;
        if (upto < prev) upto = prev;
        votes[j] = (int32_t)(upto - prev);
        prev = upto;
    }
    /* Rounding leftovers (weights summing a hair under 1) go to NULOS. */
    if (prev < total)
        for (uint32_t j = 0; j < el->n_cols; j++)
            if (el->cols[j].kind == PREP_CAT_COL_NULOS && votes[j] >= 0) {
                votes[j] += (int32_t)(total - prev);
                break;
            }
}

static int64_t legible_sum(const int32_t *v, uint32_t n)
{
    int64_t s = 0;
    for (uint32_t j = 0; j < n; j++)
        if (v[j] > 0) s += v[j];
    return s;
}

/* ---------------------------------------------------------------- records */

static rec *new_rec(night *n, int32_t **votes)
{
    if (n->err) return NULL;
    if (n->n_recs == n->cap_recs) {
        size_t nc = n->cap_recs ? n->cap_recs * 2 : 1024;
        rec *p = realloc(n->recs, nc * sizeof *p);
        if (!p) {
            n->err = PREP_ERR_NOMEM;
            return NULL;
        }
        n->recs = p;
        n->cap_recs = nc;
    }
    if (n->pool_len + n->n_cols > n->pool_cap) {
        size_t nc = n->pool_cap ? n->pool_cap * 2 : 16384;
        while (nc < n->pool_len + n->n_cols) nc *= 2;
        int32_t *p = realloc(n->pool, nc * sizeof *p);
        if (!p) {
            n->err = PREP_ERR_NOMEM;
            return NULL;
        }
        n->pool = p;
        n->pool_cap = nc;
    }
    rec *r = &n->recs[n->n_recs++];
    memset(r, 0, sizeof *r);
    r->votes_off = n->pool_len;
    n->pool_len += n->n_cols;
    *votes = n->pool + r->votes_off;
    return r;
}

/* Identification of an acta of casilla i: rp 0, the casilla's own acta (its plain, special
 * or abroad TIPO_ACTA); rp 1, the RP acta of a special casilla. */
static void fill_ids(night *n, prep_acta *a, uint32_t i, int rp)
{
    const prep_catalog *c = n->c;
    const prep_cat_casilla *k = &c->casillas[i];
    const prep_cat_section *s = &c->sections[k->section];
    a->casilla = i;
    snprintf(a->clave_casilla, sizeof a->clave_casilla, "%s", k->key);
    uint32_t type = rp ? c->elections[n->e].rp_acta_type : prep_catalog_acta_type_of(c, n->e, i);
    prep_catalog_acta_key(k->key, type, a->clave_acta);
    a->rp = (uint8_t)(rp != 0);
    a->section_id = s->id;
    a->district_id = c->districts[s->district].id;
    a->municipality_id = c->municipalities[s->municipality].id;
    a->tipo_casilla = k->type;
    a->id_casilla = k->number;
    a->ext_contigua = k->ext;
    a->urban = k->urban;
    a->lista_nominal = k->lista_nominal;
    a->representatives = k->representatives;
    a->acopio = a->captura = a->verificacion = PREP_TIME_NONE;
    a->cotejada = 1;
}

static void set_sha(night *n, prep_acta *a, unsigned capture_no)
{
    /* The "image" is deterministic bytes naming the acta and the capture. */
    char img[128];
    int len = snprintf(img, sizeof img, "prep-sim acta image|%llu|%s|%u",
                       (unsigned long long)n->o->seed, a->clave_acta, capture_no);
    prep_sha256_hex(img, (size_t)len, a->sha);
}

static void set_doc(night *n, prep_acta *a)
{
    uint64_t d = prep_rng_below(&n->rng, 100);
    snprintf(a->tipo_documento, sizeof a->tipo_documento, "%s",
             d < 96 ? "ACTA PREP" : d < 99 ? "RPP" : "CC");
}

/* Times of a capture with an acta: mobile photos from the casilla come first; the rest
 * is scanned at the CATD when the package arrives. order = the election's place in the
 * package (actas are captured one after the other). */
static void set_times(night *n, prep_acta *a, const pkg *g, uint32_t order)
{
    prep_time open = n->c->window_open;
    int64_t acq, cap, ver;
    if (g->photo >= 0) {
        snprintf(a->origen, sizeof a->origen, "CASILLA");
        snprintf(a->digitalizacion, sizeof a->digitalizacion, "MOVIL");
        acq = g->photo + (int64_t)order * uniform_s(&n->rng, 1 * MIN, 4 * MIN);
        acq -= acq % MIN;
        cap = acq + uniform_s(&n->rng, 2 * MIN, 20 * MIN);
        ver = cap + uniform_s(&n->rng, 1 * MIN, 12 * MIN);
    } else {
        snprintf(a->origen, sizeof a->origen, "CATD");
        snprintf(a->digitalizacion, sizeof a->digitalizacion, "ESCANER");
        acq = g->acopio;
        cap = acq + uniform_s(&n->rng, 3 * MIN, 45 * MIN) +
              (int64_t)order * uniform_s(&n->rng, 0, 8 * MIN);
        ver = cap + uniform_s(&n->rng, 2 * MIN, 25 * MIN);
    }
    a->acopio = open + acq;
    a->captura = open + cap;
    a->verificacion = open + ver;
    a->mecanismo[0] = g->mec;
    a->mecanismo[1] = 0;
}

/* Accounting fields of an acta with votes v (written as on a normal acta). */
static void set_accounting(night *n, prep_acta *a, uint32_t voters, uint32_t reps_voted, const int32_t *v,
                           uint32_t i)
{
    const prep_cat_casilla *k = &n->c->casillas[i];
    int32_t total = (int32_t)legible_sum(v, n->n_cols);
    a->personas_votaron = (int32_t)voters;
    a->rep_votaron = (int32_t)reps_voted;
    a->votos_sacados = total;
    if (prep_rng_below(&n->rng, 100) < 3) a->votos_sacados += (int32_t)prep_rng_below(&n->rng, 3) + 1;
    a->total_asentado = total;
    if (prep_rng_below(&n->rng, 100) < 2) {
        int32_t d = (int32_t)prep_rng_below(&n->rng, 5) + 1;
        a->total_asentado = total > d ? total - d : total + d;
    }
    int64_t delivered = k->type == 'S' ? (int64_t)k->ballots
                                       : (int64_t)k->lista_nominal + k->representatives +
                                             (int64_t)prep_rng_below(&n->rng, 11);
    int64_t left = delivered - a->votos_sacados;
    a->boletas_sobrantes = left < 0 ? 0 : (int32_t)left;
}

typedef enum fate { F_COUNTED, F_SOME, F_ALL, F_EXCEEDS, F_NOACTA, F_NEVER } fate;

static fate draw_fate(night *n)
{
    const prep_sim_night_opts *o = n->o;
    double u = unitr(&n->rng), t = o->never_arrive;
    if (u < t) return F_NEVER;
    if (u < (t += o->no_acta)) return F_NOACTA;
    if (u < (t += o->all_illegible)) return F_ALL;
    if (u < (t += o->exceeds_ln)) return F_EXCEEDS;
    if (u < (t += o->some_illegible)) return F_SOME;
    return F_COUNTED;
}

static int32_t unreadable(night *n, double p_sin_dato)
{
    return unitr(&n->rng) < p_sin_dato ? PREP_ACTA_V_SIN_DATO : PREP_ACTA_V_ILEGIBLE;
}

/* Marks 1-3 applicable vote fields unreadable, never all of them; combinations (the
 * small boxes) are the usual victims. */
static void make_some_illegible(night *n, int32_t *v)
{
    const prep_cat_election *el = &n->c->elections[n->e];
    uint32_t app = 0, combos = 0;
    for (uint32_t j = 0; j < n->n_cols; j++)
        if (v[j] != PREP_ACTA_V_NA) {
            app++;
            combos += el->cols[j].kind == PREP_CAT_COL_COMBO;
        }
    if (app < 2) return;
    uint32_t want = 1 + (uint32_t)prep_rng_below(&n->rng, 3);
    if (want > app - 1) want = app - 1;
    for (uint32_t done = 0, guard = 0; done < want && guard < 64; guard++) {
        int combo_only = combos > 0 && unitr(&n->rng) < 0.5;
        uint32_t j = (uint32_t)prep_rng_below(&n->rng, n->n_cols);
        if (v[j] < 0) continue; /* not applicable, or already unreadable */
        if (combo_only && el->cols[j].kind != PREP_CAT_COL_COMBO) continue;
        v[j] = unreadable(n, 0.75);
        done++;
    }
}

static void make_all_illegible(night *n, int32_t *v)
{
    int all_blank = unitr(&n->rng) < 0.6;
    for (uint32_t j = 0; j < n->n_cols; j++)
        if (v[j] != PREP_ACTA_V_NA) v[j] = all_blank ? PREP_ACTA_V_SIN_DATO : unreadable(n, 0.5);
}

/* A transcription slip that pushes the total past lista nominal + representatives
 * (specials: their ballots + representatives): an extra digit on the biggest field. */
static void make_exceeds(night *n, int32_t *v, uint32_t i)
{
    const prep_cat_casilla *k = &n->c->casillas[i];
    int64_t limit = (k->type == 'S' ? (int64_t)k->ballots : (int64_t)k->lista_nominal) +
                    k->representatives;
    uint32_t big = UINT32_MAX;
    for (uint32_t j = 0; j < n->n_cols; j++)
        if (v[j] >= 0 && (big == UINT32_MAX || v[j] > v[big])) big = j;
    if (big == UINT32_MAX) return;
    v[big] = v[big] * 10 + (int32_t)prep_rng_below(&n->rng, 10);
    int64_t s = legible_sum(v, n->n_cols);
    if (s <= limit) v[big] += (int32_t)(limit - s + 1 + (int64_t)prep_rng_below(&n->rng, 50));
}

/* A garbled CLAVE_CASILLA that matches nothing in the catalogue: a contigua number the
 * section does not have, or a section number that does not exist. */
static int garble_key(night *n, prep_acta *a, uint32_t i)
{
    const prep_catalog *c = n->c;
    const prep_cat_section *s = &c->sections[c->casillas[i].section];
    uint32_t ent = prep_catalog_casilla_entity(c, i);
    uint32_t acta_type = (uint32_t)atoi(a->clave_acta + strlen(a->clave_casilla));
    for (int t = 0; t < 16; t++) {
        uint32_t sec = s->id, num;
        char type = 'C';
        if (prep_rng_below(&n->rng, 2) == 0) {
            num = s->n_casillas + 1 + (uint32_t)prep_rng_below(&n->rng, 5);
        } else {
            sec = 1 + (uint32_t)prep_rng_below(&n->rng, 9999);
            num = 1 + (uint32_t)prep_rng_below(&n->rng, 3);
            type = num == 1 ? 'B' : 'C';
            if (type == 'C') num--;
            if (prep_catalog_find_section(c, ent, sec) != PREP_CAT_NONE) continue;
        }
        if (num > 99) num = 99;
        char key[24];
        prep_catalog_casilla_key(ent, sec, type, num, 0, key);
        if (prep_catalog_find_casilla(c, key) != PREP_CAT_NONE) continue;
        snprintf(a->clave_casilla, sizeof a->clave_casilla, "%s", key);
        prep_catalog_acta_key(key, acta_type, a->clave_acta);
        a->section_id = sec;
        a->tipo_casilla = type;
        a->id_casilla = (uint16_t)num;
        a->ext_contigua = 0;
        a->casilla = PREP_CAT_NONE;
        return 1;
    }
    return 0;
}

/* A later second capture of a counted acta with a value fixed (a recount of the image,
 * after a verifier asked for it): same status, new times, COTEJADA 2. */
static void add_correction(night *n, const rec *orig_rec, uint32_t i, const pkg *g)
{
    prep_acta a = orig_rec->a;
    size_t orig_off = orig_rec->votes_off;
    int64_t close_s = n->span - 5 * MIN;
    int64_t v1 = a.verificacion - n->c->window_open;
    int64_t cap = v1 + 20 * MIN + (int64_t)(90.0 * MIN * exp(prep_rng_normal(&n->rng)));
    if (cap > close_s - 20 * MIN) cap = close_s - 20 * MIN;
    if (cap <= v1 + 5 * MIN) return; /* too late in the window to correct */
    int32_t *v;
    rec *r = new_rec(n, &v);
    if (!r) return;
    memcpy(v, n->pool + orig_off, n->n_cols * sizeof *v);
    const prep_cat_casilla *k = &n->c->casillas[i];
    int64_t limit = (k->type == 'S' ? (int64_t)k->ballots : (int64_t)k->lista_nominal) +
                    k->representatives;
    uint32_t fixes = 1 + (uint32_t)prep_rng_below(&n->rng, 2), done = 0;
    for (uint32_t guard = 0; done < fixes && guard < 64; guard++) {
        uint32_t j = (uint32_t)prep_rng_below(&n->rng, n->n_cols);
        if (v[j] < 0) continue;
        int32_t d = 1 + (int32_t)prep_rng_below(&n->rng, 5);
        if (prep_rng_below(&n->rng, 2) == 0 || legible_sum(v, n->n_cols) + d > limit) d = -d;
        if (v[j] + d < 0) continue;
        v[j] += d;
        done++;
    }
    a.captura = n->c->window_open + cap;
    a.verificacion = a.captura + uniform_s(&n->rng, 1 * MIN, 10 * MIN);
    a.cotejada = 2;
    a.total_asentado = (int32_t)legible_sum(v, n->n_cols);
    a.votos_sacados = a.total_asentado;
    (void)g;
    r->a = a;
}

/* One expected acta of casilla i (rp: the RP acta of a special casilla) and what befalls
 * it: its capture, maybe a correction, maybe a mis-keyed extra capture. */
static void gen_acta(night *n, const size_t *off, uint32_t i, uint32_t order, int rp)
{
    const prep_catalog *c = n->c;
    const pkg *g = &n->pkgs[i];
    /* A special casilla of an election with RP actas: its own unit's voters (and the
     * representatives) on the MR acta, the others on the RP acta. */
    uint32_t voters = g->voters, reps = g->reps_voted;
    if (c->casillas[i].type == 'S' && c->elections[n->e].rp_acta_type) {
        voters = rp ? g->voters - g->voters_mr : g->voters_mr;
        reps = rp ? 0 : reps;
    }
    fate f = draw_fate(n);
    if (f == F_NEVER) return;
    int32_t *v;
    rec *r = new_rec(n, &v);
    if (!r) return;
    prep_acta *a = &r->a;
    fill_ids(n, a, i, rp);
    uint32_t u = prep_catalog_unit_of(c, n->e, i);
    if (f == F_NOACTA) {
        double w = unitr(&n->rng);
        a->no_acta = w < 0.35 ? PREP_ACTA_NO_ACTA_NOT_DELIVERED
                   : w < 0.45 ? PREP_ACTA_NO_ACTA_NOT_INSTALLED : PREP_ACTA_NO_ACTA_NO_ENVELOPE;
        for (uint32_t j = 0; j < n->n_cols; j++)
            v[j] = prep_catalog_col_applies(c, n->e, u, j) ? PREP_ACTA_V_NONE : PREP_ACTA_V_NA;
        a->boletas_sobrantes = a->personas_votaron = a->rep_votaron = a->votos_sacados = PREP_ACTA_V_NONE;
        a->total_asentado = PREP_ACTA_V_NONE;
        snprintf(a->origen, sizeof a->origen, "CATD");
        snprintf(a->digitalizacion, sizeof a->digitalizacion, "ESCANER");
        a->mecanismo[0] = g->mec;
        a->cotejada = 0;
        int64_t cap;
        if (a->no_acta == PREP_ACTA_NO_ACTA_NO_ENVELOPE) {
            a->acopio = c->window_open + g->acopio;
            cap = g->acopio + uniform_s(&n->rng, 5 * MIN, 30 * MIN);
        } else if (a->no_acta == PREP_ACTA_NO_ACTA_NOT_INSTALLED) {
            cap = uniform_s(&n->rng, 20 * MIN, 5 * HOUR);
        } else {
            cap = uniform_s(&n->rng, 6 * HOUR, 16 * HOUR); /* declared when the count closes */
        }
        a->captura = c->window_open + cap;
        a->verificacion = a->captura + uniform_s(&n->rng, 1 * MIN, 5 * MIN);
        prep_actas_classify(c, n->e, a, v);
        return;
    }
    cast_votes(n, off, i, u, voters + reps, v);
    set_accounting(n, a, voters, reps, v, i);
    set_times(n, a, g, order);
    set_sha(n, a, 1);
    set_doc(n, a);
    switch (f) {
    case F_SOME: make_some_illegible(n, v); break;
    case F_ALL:
        make_all_illegible(n, v);
        a->boletas_sobrantes = a->personas_votaron = a->rep_votaron = a->votos_sacados = 0;
        a->total_asentado = 0;
        break;
    case F_EXCEEDS:
        make_exceeds(n, v, i);
        a->total_asentado = (int32_t)legible_sum(v, n->n_cols);
        break;
    default: break;
    }
    prep_actas_classify(c, n->e, a, v);
    size_t idx = n->n_recs - 1;
    if ((f == F_COUNTED || f == F_SOME) && unitr(&n->rng) < n->o->corrections) {
        add_correction(n, &n->recs[idx], i, g);
        if (!n->err && n->n_recs - 1 != idx) {
            rec *cr = &n->recs[n->n_recs - 1];
            set_sha(n, &cr->a, 2);
            prep_actas_classify(c, n->e, &cr->a, n->pool + cr->votes_off);
        }
    }
    /* Now and then a capture whose identification was keyed wrong. */
    if (unitr(&n->rng) < n->o->out_of_catalog) {
        int32_t *w;
        rec *x = new_rec(n, &w);
        if (!x) return;
        prep_acta *b = &x->a;
        fill_ids(n, b, i, rp);
        cast_votes(n, off, i, u, voters + reps, w);
        set_accounting(n, b, voters, reps, w, i);
        set_times(n, b, g, order);
        set_doc(n, b);
        if (!garble_key(n, b, i)) {
            n->n_recs--; /* no free key found: drop it */
            n->pool_len -= n->n_cols;
            return;
        }
        set_sha(n, b, 3);
        prep_actas_classify(c, n->e, b, w);
    }
}

/* ---------------------------------------------------------------- assembly */

typedef struct order_key {
    prep_time t;            /* prep_actas_instant */
    uint32_t i;             /* generation order: ties keep it */
} order_key;

static int cmp_key(const void *pa, const void *pb)
{
    const order_key *a = pa, *b = pb;
    if (a->t != b->t) return a->t < b->t ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

static prep_err build_election(const prep_catalog *c, const prep_sim_night_opts *o, pkg *pkgs,
                               const double *lean, uint32_t e, prep_actas **out)
{
    night n;
    memset(&n, 0, sizeof n);
    n.c = c;
    n.o = o;
    n.e = e;
    n.n_cols = c->elections[e].n_cols;
    n.span = c->window_close - c->window_open;
    n.pkgs = pkgs;
    n.lean = lean;
    prep_rng_seed(&n.rng, o->seed * 0x9e3779b97f4a7c15ull + 0x1234567ull * (e + 1));
    prep_err err = prepare_election(&n);
    size_t *off = err ? NULL : slot_offsets(c);
    order_key *order = NULL;
    prep_actas *s = NULL;
    if (!err && !off) err = PREP_ERR_NOMEM;
    if (!err) {
        /* Each expected acta: none (votes from abroad for an office they do not elect), the
         * casilla's own, and a special casilla's RP acta where the election has one. */
        for (uint32_t i = 0; i < c->n_casillas && !n.err; i++)
            for (uint32_t k = 0, na = prep_catalog_n_actas(c, e, i); k < na && !n.err; k++)
                gen_acta(&n, off, i, e + k, (int)k);
        err = n.err;
    }
    if (!err) {
        order = malloc((n.n_recs ? n.n_recs : 1) * sizeof *order);
        s = prep_actas_new(c, e);
        if (!order || !s) err = PREP_ERR_NOMEM;
    }
    if (!err) {
        for (size_t k = 0; k < n.n_recs; k++)
            order[k] = (order_key){prep_actas_instant(&n.recs[k].a), (uint32_t)k};
        qsort(order, n.n_recs, sizeof *order, cmp_key);
        for (size_t k = 0; k < n.n_recs && !err; k++) {
            rec *r = &n.recs[order[k].i];
            r->a.line = (uint32_t)(k + 1);
            err = prep_actas_append(s, &r->a, n.pool + r->votes_off);
        }
    }
    free(order);
    free(off);
    free(n.cand_w);
    free(n.col_urban);
    free(n.col_rural);
    free(n.col_split);
    free(n.unit_null);
    free(n.w);
    free(n.recs);
    free(n.pool);
    if (err) {
        prep_actas_free(s);
        return err;
    }
    *out = s;
    return PREP_OK;
}

prep_err prep_sim_actas(const prep_catalog *c, const prep_sim_night_opts *o, prep_actas **out)
{
    if (!c || !out) return PREP_ERR_USAGE;
    prep_sim_night_opts def;
    if (!o) {
        prep_sim_night_defaults(&def);
        o = &def;
    }
    for (uint32_t e = 0; e < c->n_elections; e++) out[e] = NULL;
    if (c->window_close <= c->window_open) return PREP_ERR_INVALID;
    pkg *pkgs = NULL;
    double *lean = NULL;
    prep_err err = make_pkgs(c, o, c->window_close - c->window_open, &pkgs);
    if (!err) err = make_lean(c, o, &lean);
    for (uint32_t e = 0; e < c->n_elections && !err; e++)
        err = build_election(c, o, pkgs, lean, e, &out[e]);
    free(pkgs);
    free(lean);
    if (err)
        for (uint32_t e = 0; e < c->n_elections; e++) {
            prep_actas_free(out[e]);
            out[e] = NULL;
        }
    return err;
}
