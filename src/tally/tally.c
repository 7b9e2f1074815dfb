/* prep tally: results of every election at every level, kept incrementally.
 *
 * Layout (docs/internals/tally.md): per election, one flat int64 pool holds the vote
 * vectors of every aggregate of every level (nation, entities, districts, municipalities,
 * sections, casillas and RP slots), each `stride` = n_cols + n_parties wide: the n_cols column sums
 * then the n_parties votes by party. prep_tally_agg records point into that pool; nothing is
 * allocated per aggregate and nothing is allocated on the apply path except when the
 * out-of-catalogue list grows.
 *
 * The casilla-level aggregate IS the current contribution of its acta: applying a
 * capture computes the new contribution into scratch, and adds (new - old) to the
 * ancestors (five for a casilla, two for an RP slot), then stores new in the casilla aggregate. O(levels x stride). */
#include <stdlib.h>
#include <string.h>

#include "prep/tally.h"

#define TALLY_OOC_MIN_CAP 16

typedef struct tally_election {
    uint32_t n_cols;
    uint32_t n_parties;      /* catalogue parties (party_votes width) */
    size_t stride;           /* n_cols + n_parties */
    prep_tally_agg *aggs[PREP_TALLY_N_LEVELS];
    int64_t *pool;           /* owned: every aggregate's votes + party_votes */
    uint8_t *dirty[PREP_TALLY_N_LEVELS];
    uint32_t *dirty_list[PREP_TALLY_N_LEVELS];
    uint32_t n_dirty[PREP_TALLY_N_LEVELS];

    /* current capture of each casilla's acta, then of each RP slot */
    prep_acta *actas;        /* owned: level_n[CASILLA] */
    int32_t *votes;          /* owned: level_n[CASILLA] * n_cols */
    uint8_t *captured;       /* owned: level_n[CASILLA] */

    /* split helpers */
    uint32_t *party_col;     /* owned: n_parties -> column index or PREP_CAT_NONE */
    uint32_t *combo_cols;    /* owned: the COMBO columns */
    uint32_t n_combo;

    /* out of catalogue, in first-capture order */
    prep_acta *ooc;
    int32_t *ooc_votes;
    size_t n_ooc, cap_ooc;
    uint32_t *ooc_hash;      /* open addressing: entry index + 1, 0 = empty */
    size_t hash_cap;         /* power of two */

    int64_t *scratch;        /* stride values: a new contribution */
    int64_t *scratch2;       /* n_cols values: the acta's votes as int64 */
} tally_election;

struct prep_tally {
    const prep_catalog *cat;
    uint32_t level_n[PREP_TALLY_N_LEVELS];
    uint32_t *rp_slot;       /* owned: n_casillas; a special casilla's RP slot, else PREP_CAT_NONE */
    uint32_t *slot_casilla;  /* owned: level_n[CASILLA] - n_casillas; the casilla of each RP slot */
    tally_election *el;      /* owned: n_elections */
};

/* ------------------------------------------------------------------ helpers */

static void *xcalloc_n(size_t n, size_t size)
{
    if (n == 0)
        n = 1;
    return calloc(n, size);
}

static void election_free(tally_election *te)
{
    free(te->pool);
    for (int l = 0; l < PREP_TALLY_N_LEVELS; l++) {
        free(te->aggs[l]);
        free(te->dirty[l]);
        free(te->dirty_list[l]);
    }
    free(te->actas);
    free(te->votes);
    free(te->captured);
    free(te->party_col);
    free(te->combo_cols);
    free(te->ooc);
    free(te->ooc_votes);
    free(te->ooc_hash);
    free(te->scratch);
    free(te->scratch2);
}

void prep_tally_free(prep_tally *t)
{
    if (!t)
        return;
    if (t->el) {
        for (uint32_t e = 0; e < t->cat->n_elections; e++)
            election_free(&t->el[e]);
        free(t->el);
    }
    free(t->rp_slot);
    free(t->slot_casilla);
    free(t);
}

/* Index of each slot's ancestor at each level: a casilla's, or an RP slot's (NATION and
 * ENTITY only; PREP_CAT_NONE below). */
static inline void ancestors(const prep_tally *t, uint32_t slot, uint32_t idx[PREP_TALLY_N_LEVELS])
{
    const prep_catalog *c = t->cat;
    int rp = slot >= c->n_casillas;
    uint32_t casilla = rp ? t->slot_casilla[slot - c->n_casillas] : slot;
    const prep_cat_section *s = &c->sections[c->casillas[casilla].section];
    idx[PREP_TALLY_NATION] = 0;
    idx[PREP_TALLY_ENTITY] = s->entity < t->level_n[PREP_TALLY_ENTITY] ? s->entity : 0;
    idx[PREP_TALLY_DISTRICT] = rp ? PREP_CAT_NONE : s->district;
    idx[PREP_TALLY_MUNICIPALITY] = rp ? PREP_CAT_NONE : s->municipality;
    idx[PREP_TALLY_SECTION] = rp ? PREP_CAT_NONE : c->casillas[casilla].section;
    idx[PREP_TALLY_CASILLA] = slot;
}

/* Whether slot is an expected acta of election e: a casilla with an acta there (not an M
 * casilla where the votes from abroad do not elect), or the RP slot of an election with
 * RP actas. */
static int slot_expected(const prep_tally *t, uint32_t e, uint32_t slot)
{
    const prep_catalog *c = t->cat;
    if (slot >= c->n_casillas) return c->elections[e].rp_acta_type != 0;
    return prep_catalog_n_actas(c, e, slot) > 0;
}

static prep_err election_init(const prep_tally *t, uint32_t e, tally_election *te)
{
    const prep_catalog *c = t->cat;
    const uint32_t *level_n = t->level_n;
    const prep_cat_election *el = &c->elections[e];
    te->n_cols = el->n_cols;
    te->n_parties = c->n_parties;
    te->stride = (size_t)el->n_cols + c->n_parties;

    size_t total_units = 0;
    for (int l = 0; l < PREP_TALLY_N_LEVELS; l++)
        total_units += level_n[l];
    te->pool = xcalloc_n(total_units * te->stride, sizeof(int64_t));
    if (!te->pool)
        return PREP_ERR_NOMEM;
    int64_t *p = te->pool;
    for (int l = 0; l < PREP_TALLY_N_LEVELS; l++) {
        te->aggs[l] = xcalloc_n(level_n[l], sizeof(prep_tally_agg));
        te->dirty[l] = xcalloc_n(level_n[l], 1);
        te->dirty_list[l] = xcalloc_n(level_n[l], sizeof(uint32_t));
        if (!te->aggs[l] || !te->dirty[l] || !te->dirty_list[l])
            return PREP_ERR_NOMEM;
        for (uint32_t i = 0; i < level_n[l]; i++) {
            te->aggs[l][i].votes = p;
            te->aggs[l][i].party_votes = p + te->n_cols;
            p += te->stride;
        }
    }

    size_t nc = level_n[PREP_TALLY_CASILLA];
    te->actas = xcalloc_n(nc, sizeof(prep_acta));
    te->votes = xcalloc_n(nc * (size_t)te->n_cols, sizeof(int32_t));
    te->captured = xcalloc_n(nc, 1);
    te->party_col = xcalloc_n(c->n_parties, sizeof(uint32_t));
    te->combo_cols = xcalloc_n(el->n_cols, sizeof(uint32_t));
    te->scratch = xcalloc_n(te->stride, sizeof(int64_t));
    te->scratch2 = xcalloc_n(te->n_cols, sizeof(int64_t));
    if (!te->actas || !te->votes || !te->captured || !te->party_col || !te->combo_cols ||
        !te->scratch || !te->scratch2)
        return PREP_ERR_NOMEM;

    for (uint32_t pi = 0; pi < c->n_parties; pi++)
        te->party_col[pi] = PREP_CAT_NONE;
    for (uint32_t j = 0; j < el->n_cols; j++) {
        const prep_cat_column *col = &el->cols[j];
        if (col->kind == PREP_CAT_COL_PARTY && col->n_parties == 1 && col->parties[0] < c->n_parties)
            te->party_col[col->parties[0]] = j;
        else if (col->kind == PREP_CAT_COL_COMBO && col->n_parties >= 2 &&
                 col->n_parties <= PREP_CAT_MAX_COALITION_PARTIES)
            te->combo_cols[te->n_combo++] = j;
    }

    /* Fixed figures: expected actas and their lista nominal, from the catalogue. */
    for (uint32_t k = 0; k < level_n[PREP_TALLY_CASILLA]; k++) {
        if (!slot_expected(t, e, k)) continue;
        uint32_t idx[PREP_TALLY_N_LEVELS];
        ancestors(t, k, idx);
        uint32_t ln = k < c->n_casillas ? c->casillas[k].lista_nominal : 0; /* specials: 0 */
        for (int l = 0; l < PREP_TALLY_N_LEVELS; l++) {
            if (idx[l] == PREP_CAT_NONE) continue;
            prep_tally_agg *a = &te->aggs[l][idx[l]];
            a->esperadas++;
            a->lista_nominal_expected += ln;
        }
    }
    return PREP_OK;
}

prep_err prep_tally_new(const prep_catalog *c, prep_tally **out)
{
    if (!c || !out)
        return PREP_ERR_USAGE;
    *out = NULL;
    prep_tally *t = calloc(1, sizeof *t);
    if (!t)
        return PREP_ERR_NOMEM;
    t->cat = c;
    uint32_t n_special = 0;
    for (uint32_t k = 0; k < c->n_casillas; k++)
        n_special += c->casillas[k].type == 'S';
    int any_rp = 0;
    for (uint32_t e = 0; e < c->n_elections; e++)
        any_rp |= c->elections[e].rp_acta_type != 0;
    if (!any_rp)
        n_special = 0; /* no RP slots at all */
    t->level_n[PREP_TALLY_NATION] = 1;
    t->level_n[PREP_TALLY_ENTITY] = c->n_entities ? c->n_entities : 1;
    t->level_n[PREP_TALLY_DISTRICT] = c->n_districts;
    t->level_n[PREP_TALLY_MUNICIPALITY] = c->n_municipalities;
    t->level_n[PREP_TALLY_SECTION] = c->n_sections;
    t->level_n[PREP_TALLY_CASILLA] = c->n_casillas + n_special;
    t->rp_slot = xcalloc_n(c->n_casillas, sizeof(uint32_t));
    t->slot_casilla = xcalloc_n(n_special, sizeof(uint32_t));
    t->el = xcalloc_n(c->n_elections, sizeof(tally_election));
    if (!t->el || !t->rp_slot || !t->slot_casilla) {
        prep_tally_free(t);
        return PREP_ERR_NOMEM;
    }
    for (uint32_t k = 0, j = 0; k < c->n_casillas; k++) {
        t->rp_slot[k] = PREP_CAT_NONE;
        if (n_special && c->casillas[k].type == 'S') {
            t->rp_slot[k] = c->n_casillas + j;
            t->slot_casilla[j++] = k;
        }
    }
    for (uint32_t e = 0; e < c->n_elections; e++) {
        prep_err err = election_init(t, e, &t->el[e]);
        if (err != PREP_OK) {
            prep_tally_free(t);
            return err;
        }
    }
    *out = t;
    return PREP_OK;
}

/* ------------------------------------------------------------------ party split */

/* Splits a vote vector of election e (n_cols values, >= 0) into votes by party
 * (n_parties values): party columns go to their party; each combination's votes are
 * divided equally among its k parties and the remainder (v mod k) goes one vote each
 * to the parties of the combination with the most votes of their own in this vector,
 * ties to the more senior party (lower prep_cat_party.seniority, then catalogue order). */
static void split_votes(const prep_catalog *c, const prep_cat_election *el, const tally_election *te,
                        const int64_t *votes, int64_t *party)
{
    memset(party, 0, (size_t)te->n_parties * sizeof(int64_t));
    for (uint32_t pi = 0; pi < te->n_parties; pi++)
        if (te->party_col[pi] != PREP_CAT_NONE)
            party[pi] = votes[te->party_col[pi]];
    for (uint32_t m = 0; m < te->n_combo; m++) {
        const prep_cat_column *col = &el->cols[te->combo_cols[m]];
        int64_t v = votes[te->combo_cols[m]];
        if (v <= 0)
            continue;
        uint32_t k = col->n_parties;
        int64_t q = v / k, r = v % k;
        for (uint32_t i = 0; i < k; i++)
            party[col->parties[i]] += q;
        if (r == 0)
            continue;
        /* rank the combination's parties: own votes desc, seniority asc, index asc */
        uint32_t ord[PREP_CAT_MAX_COALITION_PARTIES];
        int64_t own[PREP_CAT_MAX_COALITION_PARTIES];
        for (uint32_t i = 0; i < k; i++) {
            uint32_t pi = col->parties[i];
            ord[i] = pi;
            own[i] = te->party_col[pi] != PREP_CAT_NONE ? votes[te->party_col[pi]] : 0;
        }
        for (uint32_t i = 1; i < k; i++) { /* insertion sort, k <= 8 */
            uint32_t po = ord[i];
            int64_t vo = own[i];
            uint32_t j = i;
            while (j > 0) {
                uint32_t pj = ord[j - 1];
                int64_t vj = own[j - 1];
                int before = vo > vj ||
                    (vo == vj && (c->parties[po].seniority < c->parties[pj].seniority ||
                                  (c->parties[po].seniority == c->parties[pj].seniority && po < pj)));
                if (!before)
                    break;
                ord[j] = pj;
                own[j] = vj;
                j--;
            }
            ord[j] = po;
            own[j] = vo;
        }
        for (int64_t i = 0; i < r; i++)
            party[ord[i]] += 1;
    }
}

void prep_tally_split_votes(const prep_tally *t, uint32_t e, const int64_t *votes, int64_t *party_out)
{
    if (!t || e >= t->cat->n_elections || !votes || !party_out)
        return;
    const tally_election *te = &t->el[e];
    split_votes(t->cat, &t->cat->elections[e], te, votes, party_out);
}

/* ------------------------------------------------------------------ dirty marks */

static inline void mark_dirty(tally_election *te, int lvl, uint32_t idx)
{
    if (!te->dirty[lvl][idx]) {
        te->dirty[lvl][idx] = 1;
        te->dirty_list[lvl][te->n_dirty[lvl]++] = idx;
    }
}

int prep_tally_dirty(const prep_tally *t, uint32_t e, prep_tally_level lvl, uint32_t idx)
{
    if (!t || e >= t->cat->n_elections || (unsigned)lvl >= PREP_TALLY_N_LEVELS || idx >= t->level_n[lvl])
        return 0;
    return t->el[e].dirty[lvl][idx];
}

size_t prep_tally_dirty_list(const prep_tally *t, uint32_t e, prep_tally_level lvl, const uint32_t **idx)
{
    if (idx)
        *idx = NULL;
    if (!t || e >= t->cat->n_elections || (unsigned)lvl >= PREP_TALLY_N_LEVELS)
        return 0;
    if (idx)
        *idx = t->el[e].dirty_list[lvl];
    return t->el[e].n_dirty[lvl];
}

void prep_tally_clear_dirty(prep_tally *t)
{
    if (!t)
        return;
    for (uint32_t e = 0; e < t->cat->n_elections; e++) {
        tally_election *te = &t->el[e];
        for (int l = 0; l < PREP_TALLY_N_LEVELS; l++) {
            for (uint32_t i = 0; i < te->n_dirty[l]; i++)
                te->dirty[l][te->dirty_list[l][i]] = 0;
            te->n_dirty[l] = 0;
        }
    }
}

/* ------------------------------------------------------------------ out of catalogue */

/* CLAVE_ACTA identifies an out-of-catalogue capture when it is a real key. INE 2021
 * writes "-" pieces for unknown parts, so a key that is empty or holds '-' cannot tell
 * two captures apart: those are told apart by their source line as well. */
static int ooc_key_usable(const char *k)
{
    size_t n = strnlen(k, sizeof ((prep_acta *)0)->clave_acta);
    return n > 0 && memchr(k, '-', n) == NULL;
}

static uint64_t ooc_hash_of(const prep_acta *a)
{
    uint64_t h = prep_fnv1a(PREP_FNV1A_INIT, a->clave_acta, strnlen(a->clave_acta, sizeof a->clave_acta));
    if (!ooc_key_usable(a->clave_acta)) {
        h = prep_fnv1a(h, &a->line, sizeof a->line); /* a key that names no acta: its line too */
    }
    return h;
}

static int ooc_same(const prep_acta *x, const prep_acta *y)
{
    if (strncmp(x->clave_acta, y->clave_acta, sizeof x->clave_acta) != 0)
        return 0;
    return ooc_key_usable(x->clave_acta) || x->line == y->line;
}

static prep_err ooc_rehash(tally_election *te, size_t cap)
{
    uint32_t *h = calloc(cap, sizeof(uint32_t));
    if (!h)
        return PREP_ERR_NOMEM;
    for (size_t i = 0; i < te->n_ooc; i++) {
        size_t pos = (size_t)ooc_hash_of(&te->ooc[i]) & (cap - 1);
        while (h[pos])
            pos = (pos + 1) & (cap - 1);
        h[pos] = (uint32_t)(i + 1);
    }
    free(te->ooc_hash);
    te->ooc_hash = h;
    te->hash_cap = cap;
    return PREP_OK;
}

/* The capture held for a's acta out of the catalogue, or NULL. */
static const prep_acta *ooc_find(const tally_election *te, const prep_acta *a)
{
    if (!te->hash_cap)
        return NULL;
    for (size_t pos = (size_t)ooc_hash_of(a) & (te->hash_cap - 1); te->ooc_hash[pos];
         pos = (pos + 1) & (te->hash_cap - 1))
        if (ooc_same(&te->ooc[te->ooc_hash[pos] - 1], a))
            return &te->ooc[te->ooc_hash[pos] - 1];
    return NULL;
}

static prep_err ooc_put(tally_election *te, const prep_acta *a, const int32_t *votes)
{
    if (te->n_ooc >= UINT32_MAX - 1)
        return PREP_ERR_LIMIT;
    if (te->hash_cap == 0 || (te->n_ooc + 1) * 2 > te->hash_cap) {
        prep_err err = ooc_rehash(te, te->hash_cap ? te->hash_cap * 2 : 2 * TALLY_OOC_MIN_CAP);
        if (err)
            return err;
    }
    size_t pos = (size_t)ooc_hash_of(a) & (te->hash_cap - 1);
    while (te->ooc_hash[pos]) {
        size_t i = te->ooc_hash[pos] - 1;
        if (ooc_same(&te->ooc[i], a)) { /* a repeat replaces the earlier capture */
            te->ooc[i] = *a;
            te->ooc[i].votes_off = (uint32_t)(i * te->n_cols);
            if (te->n_cols)
                memcpy(te->ooc_votes + i * te->n_cols, votes, te->n_cols * sizeof(int32_t));
            return PREP_OK;
        }
        pos = (pos + 1) & (te->hash_cap - 1);
    }
    if (te->n_ooc == te->cap_ooc) {
        size_t cap = te->cap_ooc ? te->cap_ooc * 2 : TALLY_OOC_MIN_CAP;
        prep_acta *v = realloc(te->ooc, cap * sizeof *v);
        if (!v)
            return PREP_ERR_NOMEM;
        te->ooc = v;
        int32_t *vv = realloc(te->ooc_votes, cap * (te->n_cols ? te->n_cols : 1) * sizeof(int32_t));
        if (!vv)
            return PREP_ERR_NOMEM;
        te->ooc_votes = vv;
        te->cap_ooc = cap;
    }
    size_t i = te->n_ooc++;
    te->ooc[i] = *a;
    te->ooc[i].votes_off = (uint32_t)(i * te->n_cols);
    if (te->n_cols)
        memcpy(te->ooc_votes + i * te->n_cols, votes, te->n_cols * sizeof(int32_t));
    te->ooc_hash[pos] = (uint32_t)(i + 1);
    return PREP_OK;
}

/* ------------------------------------------------------------------ apply */

/* TIPO_ACTA as written at the end of CLAVE_ACTA (after CLAVE_CASILLA), or PREP_CAT_NONE. */
static uint32_t key_acta_type(const prep_acta *a)
{
    size_t n = strnlen(a->clave_casilla, sizeof a->clave_casilla);
    if (!n || strncmp(a->clave_acta, a->clave_casilla, n)) return PREP_CAT_NONE;
    const char *p = a->clave_acta + n;
    uint32_t v = 0;
    size_t d = 0;
    for (; d < 4 && p[d] >= '0' && p[d] <= '9'; d++) v = v * 10 + (uint32_t)(p[d] - '0');
    return d && !p[d] ? v : PREP_CAT_NONE;
}

/* The CASILLA-level slot of a capture bound to casilla k: the RP slot when the reader
 * marked it so (prep_acta.rp) or its CLAVE_ACTA ends in the election's RP acta type; PREP_CAT_NONE when the casilla has no acta in the election
 * (an M casilla where the votes from abroad do not elect): out of catalogue then. */
static uint32_t capture_slot(const prep_tally *t, uint32_t e, uint32_t k, const prep_acta *a)
{
    const prep_cat_election *el = &t->cat->elections[e];
    if (prep_catalog_n_actas(t->cat, e, k) == 0) return PREP_CAT_NONE;
    if (el->rp_acta_type && t->rp_slot[k] != PREP_CAT_NONE &&
        (a->rp || (!el->rp_acta_mark[0] && key_acta_type(a) == el->rp_acta_type))) /* 3RP: the key says 3 of both */
        return t->rp_slot[k];
    return k;
}

prep_err prep_tally_apply_late(prep_tally *t, uint32_t e, const prep_acta *a, const int32_t *votes, int *applied)
{
    *applied = 0;
    if (!t || !a || !votes || e >= t->cat->n_elections)
        return PREP_ERR_USAGE;
    prep_acta cp = *a;
    const tally_election *te = &t->el[e];
    const prep_acta *held_acta = NULL;
    uint32_t k = PREP_CAT_NONE;
    if (cp.casilla < t->cat->n_casillas &&
        prep_actas_classify(t->cat, e, &cp, votes) != PREP_ACTA_NC_OUT_OF_CATALOG)
        k = capture_slot(t, e, cp.casilla, &cp);
    if (k != PREP_CAT_NONE) {
        held_acta = te->captured[k] ? &te->actas[k] : NULL;
    } else {
        /* out of the catalogue: by CLAVE_ACTA (the database lists them in its order); a key
         * that names no acta is told apart by its line, which a file written again moves */
        if (!ooc_key_usable(cp.clave_acta))
            return PREP_ERR_INVALID;
        held_acta = ooc_find(te, &cp);
    }
    if (held_acta) {
        prep_time held = prep_actas_instant(held_acta), late = prep_actas_instant(a);
        if (late == held)
            return PREP_ERR_INVALID;
        if (late < held)
            return PREP_OK;
    }
    *applied = 1;
    return prep_tally_apply(t, e, a, votes);
}

int prep_tally_key_by_line(const prep_acta *a)
{
    return !ooc_key_usable(a->clave_acta);
}

uint32_t prep_tally_rp_slot(const prep_tally *t, uint32_t e, uint32_t casilla)
{
    if (!t || e >= t->cat->n_elections || casilla >= t->cat->n_casillas || !t->cat->elections[e].rp_acta_type)
        return PREP_CAT_NONE;
    return t->rp_slot[casilla];
}

prep_err prep_tally_apply(prep_tally *t, uint32_t e, const prep_acta *a, const int32_t *votes)
{
    if (!t || !a || !votes || e >= t->cat->n_elections)
        return PREP_ERR_USAGE;
    const prep_catalog *c = t->cat;
    const prep_cat_election *el = &c->elections[e];
    tally_election *te = &t->el[e];

    prep_acta cp = *a;
    prep_acta_status st = prep_actas_classify(c, e, &cp, votes);
    cp.status = (uint8_t)st;

    uint32_t k = cp.casilla < c->n_casillas ? capture_slot(t, e, cp.casilla, &cp) : PREP_CAT_NONE;
    if (k == PREP_CAT_NONE || st == PREP_ACTA_NC_OUT_OF_CATALOG) {
        cp.status = PREP_ACTA_NC_OUT_OF_CATALOG;
        return ooc_put(te, &cp, votes);
    }

    const prep_cat_casilla *cas = &c->casillas[cp.casilla];
    uint32_t n_cols = te->n_cols;
    int counted = prep_acta_status_counted(st);

    /* the new contribution: column sums, party split */
    int64_t *nv = te->scratch;
    int64_t total = 0;
    for (uint32_t j = 0; j < n_cols; j++) {
        int64_t v = counted && votes[j] > 0 ? votes[j] : 0;
        nv[j] = v;
        total += v;
    }
    if (counted)
        split_votes(c, el, te, nv, nv + n_cols);
    else
        memset(nv + n_cols, 0, (size_t)te->n_parties * sizeof(int64_t));

    prep_tally_agg *old = &te->aggs[PREP_TALLY_CASILLA][k];
    int64_t d_cap = 1 - (int64_t)old->capturadas;
    int64_t d_cont = (counted ? 1 : 0) - (int64_t)old->contabilizadas;
    int64_t d_nocont = (prep_actas_no_counted(&c->rules, &cp) ? 1 : 0) - (int64_t)old->no_contabilizadas;
    int64_t d_inc = (prep_actas_status_inconsistent(&c->rules, st) ? 1 : 0) - (int64_t)old->inconsistentes;
    int64_t d_ln = (counted ? (int64_t)cas->lista_nominal : 0) - old->lista_nominal;
    int64_t d_ccs = (counted ? total : 0) - old->votos_c_cs;
    int64_t d_scs = (counted && cas->type != 'S' ? total : 0) - old->votos_s_cs;
    int64_t d_st[6];
    for (int s = 0; s < 6; s++)
        d_st[s] = (s == (int)st ? 1 : 0) - (int64_t)old->by_status[s];

    /* delta vector into scratch: nv - old (old is read before the casilla is overwritten) */
    for (size_t j = 0; j < te->stride; j++)
        nv[j] -= old->votes[j];

    uint32_t idx[PREP_TALLY_N_LEVELS];
    ancestors(t, k, idx);
    for (int l = 0; l < PREP_TALLY_N_LEVELS; l++) {
        if (idx[l] == PREP_CAT_NONE) continue;
        prep_tally_agg *g = &te->aggs[l][idx[l]];
        int64_t *gv = g->votes; /* votes and party_votes are contiguous */
        for (size_t j = 0; j < te->stride; j++)
            gv[j] += nv[j];
        g->capturadas = (uint32_t)((int64_t)g->capturadas + d_cap);
        g->contabilizadas = (uint32_t)((int64_t)g->contabilizadas + d_cont);
        g->no_contabilizadas = (uint32_t)((int64_t)g->no_contabilizadas + d_nocont);
        g->inconsistentes = (uint32_t)((int64_t)g->inconsistentes + d_inc);
        g->lista_nominal += d_ln;
        g->votos_c_cs += d_ccs;
        g->votos_s_cs += d_scs;
        for (int s = 0; s < 6; s++)
            g->by_status[s] = (uint32_t)((int64_t)g->by_status[s] + d_st[s]);
        mark_dirty(te, l, idx[l]);
    }

    cp.votes_off = (uint32_t)((size_t)k * n_cols);
    te->actas[k] = cp;
    if (n_cols)
        memcpy(te->votes + (size_t)k * n_cols, votes, n_cols * sizeof(int32_t));
    te->captured[k] = 1;
    return PREP_OK;
}

/* ------------------------------------------------------------------ cursor */

typedef struct order_key {
    prep_time t;
    uint32_t i;
} order_key;

static int order_cmp(const void *x, const void *y)
{
    const order_key *a = x, *b = y;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->i < b->i ? -1 : (a->i > b->i);
}

prep_err prep_tally_cursor_init(prep_tally_cursor *cur, const prep_actas *s)
{
    if (!cur || !s)
        return PREP_ERR_USAGE;
    memset(cur, 0, sizeof *cur);
    if (s->n > UINT32_MAX)
        return PREP_ERR_LIMIT;
    order_key *k = xcalloc_n(s->n, sizeof *k);
    cur->order = xcalloc_n(s->n, sizeof(uint32_t));
    if (!k || !cur->order) {
        free(k);
        free(cur->order);
        cur->order = NULL;
        return PREP_ERR_NOMEM;
    }
    for (size_t i = 0; i < s->n; i++) {
        k[i].t = prep_actas_instant(&s->v[i]);
        k[i].i = (uint32_t)i;
    }
    if (s->n > 1)
        qsort(k, s->n, sizeof *k, order_cmp);
    for (size_t i = 0; i < s->n; i++)
        cur->order[i] = k[i].i;
    free(k);
    cur->n = s->n;
    cur->next = 0;
    return PREP_OK;
}

void prep_tally_cursor_free(prep_tally_cursor *cur)
{
    if (!cur)
        return;
    free(cur->order);
    cur->order = NULL;
    cur->n = cur->next = 0;
}

prep_err prep_tally_apply_until(prep_tally *t, const prep_actas *s, prep_tally_cursor *cur,
                                prep_time until, size_t *applied)
{
    if (applied)
        *applied = 0;
    if (!t || !s || !cur || s->cat != t->cat || s->election >= t->cat->n_elections)
        return PREP_ERR_USAGE;
    if (cur->n != s->n || (cur->n && !cur->order))
        return PREP_ERR_INVALID; /* the cursor was made for another set */
    size_t done = 0;
    while (cur->next < cur->n) {
        const prep_acta *a = &s->v[cur->order[cur->next]];
        if (prep_actas_instant(a) > until)
            break;
        prep_err err = prep_tally_apply(t, s->election, a, prep_acta_votes(s, a));
        if (err != PREP_OK) {
            if (applied)
                *applied = done;
            return err;
        }
        cur->next++;
        done++;
    }
    if (applied)
        *applied = done;
    return PREP_OK;
}

/* ------------------------------------------------------------------ queries */

const prep_tally_agg *prep_tally_get(const prep_tally *t, uint32_t e, prep_tally_level lvl, uint32_t idx)
{
    if (!t || e >= t->cat->n_elections || (unsigned)lvl >= PREP_TALLY_N_LEVELS || idx >= t->level_n[lvl])
        return NULL;
    return &t->el[e].aggs[lvl][idx];
}

uint32_t prep_tally_level_size(const prep_tally *t, prep_tally_level lvl)
{
    if (!t || (unsigned)lvl >= PREP_TALLY_N_LEVELS)
        return 0;
    return t->level_n[lvl];
}

size_t prep_tally_bytes(const prep_tally *t)
{
    if (!t)
        return 0;
    const prep_catalog *c = t->cat;
    size_t units = 0, b = sizeof *t + c->n_elections * sizeof(tally_election) + c->n_casillas * sizeof(uint32_t);
    for (int l = 0; l < PREP_TALLY_N_LEVELS; l++)
        units += t->level_n[l];
    for (uint32_t e = 0; e < c->n_elections; e++) {
        const tally_election *te = &t->el[e];
        b += units * (te->stride * sizeof(int64_t) + sizeof(prep_tally_agg) + 1 + sizeof(uint32_t));
        b += (size_t)t->level_n[PREP_TALLY_CASILLA] * (sizeof(prep_acta) + te->n_cols * sizeof(int32_t) + 1);
        b += c->n_parties * sizeof(uint32_t) + c->elections[e].n_cols * sizeof(uint32_t);
        b += te->cap_ooc * (sizeof(prep_acta) + te->n_cols * sizeof(int32_t)) + te->hash_cap * sizeof(uint32_t);
        b += (te->stride + te->n_cols) * sizeof(int64_t);
    }
    return b;
}

const prep_catalog *prep_tally_catalog(const prep_tally *t)
{
    return t ? t->cat : NULL;
}

const prep_acta *prep_tally_acta(const prep_tally *t, uint32_t e, uint32_t casilla, const int32_t **votes)
{
    if (votes)
        *votes = NULL;
    if (!t || e >= t->cat->n_elections || casilla >= t->level_n[PREP_TALLY_CASILLA])
        return NULL;
    const tally_election *te = &t->el[e];
    if (!te->captured[casilla])
        return NULL;
    if (votes)
        *votes = te->votes + (size_t)casilla * te->n_cols;
    return &te->actas[casilla];
}

size_t prep_tally_n_out_of_catalog(const prep_tally *t, uint32_t e)
{
    if (!t || e >= t->cat->n_elections)
        return 0;
    return t->el[e].n_ooc;
}

const prep_acta *prep_tally_out_of_catalog(const prep_tally *t, uint32_t e, size_t i, const int32_t **votes)
{
    if (votes)
        *votes = NULL;
    if (!t || e >= t->cat->n_elections || i >= t->el[e].n_ooc)
        return NULL;
    const tally_election *te = &t->el[e];
    if (votes)
        *votes = te->ooc_votes + i * te->n_cols;
    return &te->ooc[i];
}

uint32_t prep_tally_candidacy_votes(const prep_tally *t, uint32_t e, uint32_t unit,
                                    const prep_tally_agg *agg, int64_t *out, uint32_t max)
{
    if (!t || !agg || e >= t->cat->n_elections)
        return 0;
    const prep_catalog *c = t->cat;
    const prep_cat_election *el = &c->elections[e];
    if (unit >= el->n_units)
        return 0;
    uint32_t first = el->cand_first[unit], last = el->cand_first[unit + 1];
    uint32_t n = 0;
    for (uint32_t i = first; i < last; i++, n++) {
        if (n >= max || !out)
            continue; /* keep counting: the return value is the unit's count */
        const prep_cat_candidacy *cd = &c->candidacies[el->cand_index[i]];
        int64_t sum = 0;
        for (uint32_t j = 0; j < cd->n_cols; j++)
            if (cd->cols[j] < el->n_cols)
                sum += agg->votes[cd->cols[j]];
        out[n] = sum;
    }
    return n;
}

void prep_tally_summary(const prep_tally *t, uint32_t e, int final_cut, prep_summary *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    out->final_cut = final_cut;
    if (!t || e >= t->cat->n_elections)
        return;
    const prep_tally_agg *g = &t->el[e].aggs[PREP_TALLY_NATION][0];
    out->esperadas = g->esperadas;
    out->capturadas = g->capturadas;
    out->fuera_catalogo = (int64_t)t->el[e].n_ooc;
    out->registradas = out->capturadas + out->fuera_catalogo;
    out->contabilizadas = g->contabilizadas;
    /* LEEME (INE 2021, IEQROO 2019), ACTAS_NO_CONTABILIZADAS: includes the actas whose
     * identification has an omission or error (fuera de catálogo) and the sin acta ones,
     * so registradas = contabilizadas + no contabilizadas; profiles that leave either out
     * (Campeche 2021, Querétaro 2018) say so in their rules. */
    out->no_contabilizadas = (int64_t)g->no_contabilizadas +
                             (t->cat->rules.no_counted_out_of_catalog ? out->fuera_catalogo : 0);
    out->inconsistentes = g->inconsistentes;
    out->lista_nominal = g->lista_nominal;
    out->votos_c_cs = g->votos_c_cs;
    out->votos_s_cs = g->votos_s_cs;
}
