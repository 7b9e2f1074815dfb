/* Tally rule tests on a hand-made catalogue (tests/data/tally/hand.cat) and hand-made
 * captures. Every expected number is worked out by hand in the comment beside it,
 * from the catalogue file and the capture table below; none was copied from output.
 *
 * dip columns (index): 0 PAN 1 PRI 2 PRD 3 MORENA 4 MC 5 C_PAN_PRI_PRD 6 C_PAN_PRI
 *   7 C_PAN_PRD 8 C_PRI_PRD 9 CAND_IND_1 10 NO_REGISTRADOS 11 NULOS
 * casillas (index, section, LN + reps): 0 100B1 500+10, 1 100C1 499+10, 2 101B1 300+8,
 *   3 101C1 20+2, 4 101S1 special (LN 0, 750 ballots + 10), 5 200B1 600+10,
 *   6 200C1 600+10, 7 200C2 599+10, 8 201B1 400+6, 9 201E1 350+6, 10 201E1C1 349+6
 * geography: district 1 = sections 100, 101 (casillas 0-4); district 2 = 200, 201
 *   (5-10); municipality 1 = 100; municipality 2 = 101 + 200; municipality 3 = 201. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "prep/tally.h"
#include "test_tally_synth.h"

#define IL PREP_ACTA_V_ILEGIBLE
#define SD PREP_ACTA_V_SIN_DATO
#define NA PREP_ACTA_V_NA
#define NO PREP_ACTA_V_NONE

enum { PAN, PRI, PRD, MORENA, MC, C3, CPP, CPD, CRD, IND, NR, NUL, NCOLS };
/* catalogue party indices (row order) */
enum { P_PAN, P_PRI, P_PRD, P_MORENA, P_MC };

typedef struct hand_capture {
    uint32_t section;
    char type;
    uint16_t number, ext;
    uint8_t no_acta;
    int32_t v[NCOLS];
} hand_capture;

/* The captures of dip, in file order. */
static const hand_capture dip_caps[] = {
    /* 0: casilla 0, counted, all legible. total = 100+20+20+120+30+7+4+3+3+1+10 = 318 <= 510 */
    {100, 'B', 1, 0, 0, {100, 20, 20, 120, 30, 7, 4, 3, 3, NA, 1, 10}},
    /* 1: casilla 1, counted with PAN illegible and PRD blank. total = 40+90+25+5+8 = 168 */
    {100, 'C', 1, 0, 0, {IL, 40, SD, 90, 25, 5, 0, 0, 0, NA, 0, 8}},
    /* 2: casilla 2, every vote field illegible: not counted */
    {101, 'B', 1, 0, 0, {IL, IL, IL, IL, IL, IL, IL, IL, IL, NA, IL, IL}},
    /* 3: casilla 3, total = 10+5+3+4+1 = 23 > 20 + 2: exceeds LN, not counted */
    {101, 'C', 1, 0, 0, {10, 5, 3, 4, 1, 0, 0, 0, 0, NA, 0, 0}},
    /* 4: casilla 4 (special), total = 30+10+5+40+5+2 = 92 <= 750 + 10: counted */
    {101, 'S', 1, 0, 0, {30, 10, 5, 40, 5, 0, 0, 0, 0, NA, 0, 2}},
    /* 5: casilla 5, district 2 (no coalition, independent runs): total = 80+60+10+150+20+15+5 = 340 */
    {200, 'B', 1, 0, 0, {80, 60, 10, 150, 20, NA, NA, NA, NA, 15, 0, 5}},
    /* 6-8: sin acta, one per reason */
    {200, 'C', 1, 0, PREP_ACTA_NO_ACTA_NOT_DELIVERED, {NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO}},
    {200, 'C', 2, 0, PREP_ACTA_NO_ACTA_NOT_INSTALLED, {NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO}},
    {201, 'B', 1, 0, PREP_ACTA_NO_ACTA_NO_ENVELOPE, {NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO}},
    /* 9: casilla 9, first capture (later corrected): total = 6*10 = 60 */
    {201, 'E', 1, 0, 0, {10, 10, 10, 10, 10, NA, NA, NA, NA, 10, 0, 0}},
    /* 10, 11: out of catalogue: sections 999 and 998 do not exist */
    {999, 'B', 1, 0, 0, {5, 5, 5, 5, 5, 0, 0, 0, 0, 5, 0, 0}},
    {998, 'B', 1, 0, 0, {1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0}},
    /* 12: casilla 9 corrected: total = 70+30+5+100+10+25+1+9 = 250 */
    {201, 'E', 1, 0, 0, {70, 30, 5, 100, 10, NA, NA, NA, NA, 25, 1, 9}},
    /* 13: section 999 again: replaces capture 10 */
    {999, 'B', 1, 0, 0, {7, 7, 7, 7, 7, 0, 0, 0, 0, 7, 0, 0}},
};
#define N_DIP_CAPS PREP_ARRAY_LEN(dip_caps)
#define CAP_C9_FIRST 9
#define CAP_C9_FIX 12

static prep_catalog *load_hand(void)
{
    char *data;
    size_t len;
    assert_int_equal(prep_read_file(PREP_TEST_DATA "/tally/hand.cat", 1 << 20, &data, &len), PREP_OK);
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    prep_err err = prep_catalog_parse("hand.cat", data, len, &c, &d);
    if (err != PREP_OK)
        prep_diags_print(&d, stderr, 20);
    assert_int_equal(err, PREP_OK);
    assert_non_null(c);
    prep_diags_free(&d);
    free(data);
    return c;
}

/* Builds capture h of election e into a/v; times at open + 60 * (i + 1). */
static void hand_acta(const prep_catalog *c, uint32_t e, const hand_capture *h, size_t i,
                      prep_acta *a, int32_t *v)
{
    char key[24];
    prep_catalog_casilla_key(c->entity_id, h->section, h->type, h->number, h->ext, key);
    uint32_t k = prep_catalog_find_casilla(c, key);
    synth_ident(c, e, k, h->section, a);
    if (k == PREP_CAT_NONE) { /* keep the captured identification */
        a->tipo_casilla = h->type;
        a->id_casilla = h->number;
        a->ext_contigua = h->ext;
    }
    a->no_acta = h->no_acta;
    a->line = (uint32_t)i + 10;
    a->acopio = c->window_open + 60 * (prep_time)(i + 1) - 30;
    a->captura = c->window_open + 60 * (prep_time)(i + 1) - 10;
    a->verificacion = c->window_open + 60 * (prep_time)(i + 1);
    memcpy(a->sha, "0000000000000000000000000000000000000000000000000000000000000000", 65);
    a->sha[63] = (char)('0' + i % 10);
    int64_t total = 0;
    for (int j = 0; j < NCOLS; j++) {
        v[j] = h->v[j];
        if (v[j] > 0)
            total += v[j];
    }
    if (h->no_acta) {
        a->boletas_sobrantes = a->personas_votaron = a->rep_votaron = a->votos_sacados = NO;
        a->total_asentado = NO;
    } else {
        a->boletas_sobrantes = 100;
        a->personas_votaron = (int32_t)total;
        a->rep_votaron = 2;
        a->votos_sacados = (int32_t)total;
        a->total_asentado = (int32_t)total;
    }
}

static void apply_hand(prep_tally *t, const prep_catalog *c, size_t upto)
{
    for (size_t i = 0; i < upto && i < N_DIP_CAPS; i++) {
        prep_acta a;
        int32_t v[NCOLS];
        hand_acta(c, 0, &dip_caps[i], i, &a, v);
        assert_int_equal(prep_tally_apply(t, 0, &a, v), PREP_OK);
    }
}

static void assert_votes(const int64_t *got, const int64_t *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (got[i] != want[i])
            fail_msg("index %zu: got %lld, want %lld", i, (long long)got[i], (long long)want[i]);
    }
}

/* ------------------------------------------------------------------ tests */

static void test_hand_columns(void **st)
{
    (void)st;
    prep_catalog *c = load_hand();
    static const char *const names[NCOLS] = {"PAN", "PRI", "PRD", "MORENA", "MC", "C_PAN_PRI_PRD",
                                             "C_PAN_PRI", "C_PAN_PRD", "C_PRI_PRD", "CAND_IND_1",
                                             "NO_REGISTRADOS", "NULOS"};
    assert_int_equal(c->n_elections, 2);
    assert_int_equal(c->elections[0].n_cols, NCOLS);
    for (int j = 0; j < NCOLS; j++)
        assert_string_equal(c->elections[0].cols[j].name, names[j]);
    assert_int_equal(c->n_casillas, 11);
    assert_int_equal(c->casillas[3].lista_nominal, 20);
    assert_int_equal(c->casillas[4].type, 'S');
    prep_catalog_free(c);
}

static void test_hand_rules(void **st)
{
    (void)st;
    prep_catalog *c = load_hand();
    prep_tally *t;
    assert_int_equal(prep_tally_new(c, &t), PREP_OK);
    apply_hand(t, c, N_DIP_CAPS);

    /* per-casilla status: the classification reached the tally */
    const int32_t *v;
    const prep_acta *a;
    a = prep_tally_acta(t, 0, 0, &v);
    assert_non_null(a);
    assert_int_equal(a->status, PREP_ACTA_COUNTED);
    assert_int_equal(prep_tally_acta(t, 0, 1, &v)->status, PREP_ACTA_COUNTED_SOME_ILLEGIBLE);
    assert_int_equal(prep_tally_acta(t, 0, 2, &v)->status, PREP_ACTA_NC_ALL_ILLEGIBLE);
    assert_int_equal(prep_tally_acta(t, 0, 3, &v)->status, PREP_ACTA_NC_EXCEEDS_LN);
    assert_int_equal(prep_tally_acta(t, 0, 4, &v)->status, PREP_ACTA_COUNTED);
    assert_int_equal(prep_tally_acta(t, 0, 6, &v)->status, PREP_ACTA_NC_NO_ACTA);
    assert_int_equal(prep_tally_acta(t, 0, 6, &v)->no_acta, PREP_ACTA_NO_ACTA_NOT_DELIVERED);
    assert_int_equal(prep_tally_acta(t, 0, 7, &v)->no_acta, PREP_ACTA_NO_ACTA_NOT_INSTALLED);
    assert_int_equal(prep_tally_acta(t, 0, 8, &v)->no_acta, PREP_ACTA_NO_ACTA_NO_ENVELOPE);
    assert_null(prep_tally_acta(t, 0, 10, &v)); /* 201E1C1 never captured */
    assert_null(v);
    /* the corrected capture is the one kept: PAN 70 */
    a = prep_tally_acta(t, 0, 9, &v);
    assert_int_equal(v[PAN], 70);
    assert_int_equal(a->line, CAP_C9_FIX + 10);

    /* ---- entity. Counted actas: 0, 1, 4, 5, 9 (corrected).
     * PAN    = 100 + 0(IL) + 30 + 80 + 70      = 280
     * PRI    = 20 + 40 + 10 + 60 + 30          = 160
     * PRD    = 20 + 0(SD) + 5 + 10 + 5         = 40
     * MORENA = 120 + 90 + 40 + 150 + 100       = 500
     * MC     = 30 + 25 + 5 + 20 + 10           = 90
     * C_PAN_PRI_PRD = 7 + 5 = 12; C_PAN_PRI = 4; C_PAN_PRD = 3; C_PRI_PRD = 3
     * CAND_IND_1 = 15 + 25 = 40; NO_REGISTRADOS = 1 + 1 = 2
     * NULOS = 10 + 8 + 2 + 5 + 9 = 34
     * The exceeding acta 3 (PAN 10...) adds nothing. */
    const prep_tally_agg *g = prep_tally_get(t, 0, PREP_TALLY_ENTITY, 0);
    assert_non_null(g);
    int64_t ent_votes[NCOLS] = {280, 160, 40, 500, 90, 12, 4, 3, 3, 40, 2, 34};
    assert_votes(g->votes, ent_votes, NCOLS);
    /* votes by party, split per casilla:
     * casilla 0: C_PAN_PRI_PRD 7 = 2 each + 1 to PAN (100 own, the most);
     *            C_PAN_PRI 4 = 2 + 2; C_PAN_PRD 3 = 1 + 1, +1 to PAN (100 > 20);
     *            C_PRI_PRD 3 = 1 + 1, +1 to PRI (tie 20 = 20, PRI is more senior)
     *   PAN = 100+2+1+2+1+1 = 107, PRI = 20+2+2+1+1 = 26, PRD = 20+2+1+1 = 24
     * casilla 1: C_PAN_PRI_PRD 5 = 1 each, remainder 2: PRI (40) and then the tie
     *   PAN 0 (illegible) = PRD 0 (blank) goes to PAN (more senior)
     *   PAN = 0+1+1 = 2, PRI = 40+1+1 = 42, PRD = 0+1 = 1
     * casilla 4: 30, 10, 5; casilla 5: 80, 60, 10; casilla 9: 70, 30, 5 (no combinations)
     * PAN = 107+2+30+80+70 = 289; PRI = 26+42+10+60+30 = 168; PRD = 24+1+5+10+5 = 45
     * MORENA = 500, MC = 90 (no combinations) */
    int64_t ent_party[5] = {289, 168, 45, 500, 90};
    assert_votes(g->party_votes, ent_party, 5);
    /* 289+168+45+500+90 = 1092 = party columns 1070 + combinations 22 */
    assert_int_equal(g->esperadas, 11);
    assert_int_equal(g->capturadas, 10);        /* casillas 0..9 */
    assert_int_equal(g->contabilizadas, 5);     /* 0, 1, 4, 5, 9 */
    assert_int_equal(g->no_contabilizadas, 5);  /* 2, 3, 6, 7, 8 */
    /* inconsistent (LEEME: "Excede Lista Nominal, Ilegible o Sin Dato"): 1 (some
     * illegible), 2 (all illegible), 3 (exceeds LN) */
    assert_int_equal(g->inconsistentes, 3);
    assert_int_equal(g->by_status[PREP_ACTA_COUNTED], 4);               /* 0, 4, 5, 9 */
    assert_int_equal(g->by_status[PREP_ACTA_COUNTED_SOME_ILLEGIBLE], 1); /* 1 */
    assert_int_equal(g->by_status[PREP_ACTA_NC_EXCEEDS_LN], 1);         /* 3 */
    assert_int_equal(g->by_status[PREP_ACTA_NC_ALL_ILLEGIBLE], 1);      /* 2 */
    assert_int_equal(g->by_status[PREP_ACTA_NC_NO_ACTA], 3);            /* 6, 7, 8 */
    assert_int_equal(g->by_status[PREP_ACTA_NC_OUT_OF_CATALOG], 0);     /* never in an aggregate */
    assert_int_equal(g->lista_nominal, 1949);   /* 500 + 499 + 0 + 600 + 350 */
    /* 500+499+300+20+0+600+600+599+400+350+349 = 4217 */
    assert_int_equal(g->lista_nominal_expected, 4217);
    assert_int_equal(g->votos_c_cs, 1168);      /* 318 + 168 + 92 + 340 + 250 */
    assert_int_equal(g->votos_s_cs, 1076);      /* 1168 - 92 (special casilla 4) */

    /* ---- district 1 (index 0): casillas 0-4
     * PAN 100+0+30 = 130, PRI 20+40+10 = 70, PRD 20+0+5 = 25, MORENA 120+90+40 = 250,
     * MC 30+25+5 = 60, C3 7+5 = 12, CPP 4, CPD 3, CRD 3, IND 0, NR 1, NUL 10+8+2 = 20 */
    g = prep_tally_get(t, 0, PREP_TALLY_DISTRICT, 0);
    int64_t d1_votes[NCOLS] = {130, 70, 25, 250, 60, 12, 4, 3, 3, 0, 1, 20};
    assert_votes(g->votes, d1_votes, NCOLS);
    int64_t d1_party[5] = {107 + 2 + 30, 26 + 42 + 10, 24 + 1 + 5, 250, 60}; /* 139, 78, 30 */
    assert_votes(g->party_votes, d1_party, 5);
    assert_int_equal(g->esperadas, 5);
    assert_int_equal(g->capturadas, 5);
    assert_int_equal(g->contabilizadas, 3);     /* 0, 1, 4 */
    assert_int_equal(g->no_contabilizadas, 2);  /* 2, 3 */
    assert_int_equal(g->inconsistentes, 3);     /* 1, 2, 3 */
    assert_int_equal(g->lista_nominal, 999);    /* 500 + 499 + 0 */
    assert_int_equal(g->lista_nominal_expected, 1319); /* 500+499+300+20+0 */
    assert_int_equal(g->votos_c_cs, 578);       /* 318 + 168 + 92 */
    assert_int_equal(g->votos_s_cs, 486);       /* 318 + 168 */
    /* candidacies of district 1 (unit 0): VXQ = 130+70+25+12+4+3+3 = 247, MORENA 250, MC 60 */
    int64_t cv[8];
    assert_int_equal(prep_tally_candidacy_votes(t, 0, 0, g, cv, 8), 3);
    const prep_cat_election *el = &c->elections[0];
    for (uint32_t i = 0; i < 3; i++) {
        const prep_cat_candidacy *cd = &c->candidacies[el->cand_index[el->cand_first[0] + i]];
        if (strcmp(cd->name, "Ana Martínez Ruiz") == 0)
            assert_int_equal(cv[i], 247);
        else if (strcmp(cd->name, "Beatriz López Soto") == 0)
            assert_int_equal(cv[i], 250);
        else
            assert_int_equal(cv[i], 60);
    }
    /* max smaller than the count: fills 1, still returns 3 */
    assert_int_equal(prep_tally_candidacy_votes(t, 0, 0, g, cv, 1), 3);

    /* ---- district 2 (index 1): casillas 5-10; counted 5 and 9
     * PAN 80+70 = 150, PRI 60+30 = 90, PRD 10+5 = 15, MORENA 150+100 = 250, MC 20+10 = 30,
     * IND 15+25 = 40, NR 0+1 = 1, NUL 5+9 = 14; total 590 */
    g = prep_tally_get(t, 0, PREP_TALLY_DISTRICT, 1);
    int64_t d2_votes[NCOLS] = {150, 90, 15, 250, 30, 0, 0, 0, 0, 40, 1, 14};
    assert_votes(g->votes, d2_votes, NCOLS);
    assert_int_equal(g->esperadas, 6);
    assert_int_equal(g->capturadas, 5);         /* 5, 6, 7, 8, 9 */
    assert_int_equal(g->contabilizadas, 2);
    assert_int_equal(g->no_contabilizadas, 3);
    assert_int_equal(g->inconsistentes, 0);
    assert_int_equal(g->lista_nominal, 950);    /* 600 + 350 */
    assert_int_equal(g->votos_c_cs, 590);
    assert_int_equal(g->votos_s_cs, 590);
    /* candidacies of district 2: PAN 150, PRI 90, PRD 15, MORENA 250, MC 30, IND 40 */
    assert_int_equal(prep_tally_candidacy_votes(t, 0, 1, g, cv, 8), 6);
    int64_t d2_cand_sum = 0;
    for (int i = 0; i < 6; i++)
        d2_cand_sum += cv[i];
    assert_int_equal(d2_cand_sum, 150 + 90 + 15 + 250 + 30 + 40);

    /* ---- municipality 2 (index 1): sections 101 (district 1) and 200 (district 2):
     * casillas 2, 3, 4, 5, 6, 7; counted 4 and 5
     * PAN 30+80 = 110, PRI 10+60 = 70, PRD 5+10 = 15, MORENA 40+150 = 190, MC 5+20 = 25,
     * IND 15, NR 0, NUL 2+5 = 7; total 432 */
    g = prep_tally_get(t, 0, PREP_TALLY_MUNICIPALITY, 1);
    int64_t m2_votes[NCOLS] = {110, 70, 15, 190, 25, 0, 0, 0, 0, 15, 0, 7};
    assert_votes(g->votes, m2_votes, NCOLS);
    assert_int_equal(g->esperadas, 6);
    assert_int_equal(g->capturadas, 6);
    assert_int_equal(g->contabilizadas, 2);
    assert_int_equal(g->no_contabilizadas, 4);  /* 2, 3, 6, 7 */
    assert_int_equal(g->inconsistentes, 2);     /* 2 (all illegible), 3 (exceeds) */
    assert_int_equal(g->lista_nominal, 600);    /* 0 (special) + 600 */
    assert_int_equal(g->votos_c_cs, 432);       /* 92 + 340 */
    assert_int_equal(g->votos_s_cs, 340);

    /* ---- section 101 (index 1): casillas 2, 3, 4 */
    g = prep_tally_get(t, 0, PREP_TALLY_SECTION, 1);
    int64_t s101_votes[NCOLS] = {30, 10, 5, 40, 5, 0, 0, 0, 0, 0, 0, 2};
    assert_votes(g->votes, s101_votes, NCOLS);
    assert_int_equal(g->esperadas, 3);
    assert_int_equal(g->capturadas, 3);
    assert_int_equal(g->contabilizadas, 1);
    assert_int_equal(g->by_status[PREP_ACTA_NC_ALL_ILLEGIBLE], 1);
    assert_int_equal(g->by_status[PREP_ACTA_NC_EXCEEDS_LN], 1);
    assert_int_equal(g->lista_nominal, 0);      /* only the special casilla counted */
    assert_int_equal(g->lista_nominal_expected, 320); /* 300 + 20 + 0 */
    assert_int_equal(g->votos_c_cs, 92);
    assert_int_equal(g->votos_s_cs, 0);

    /* ---- casilla 0: the acta itself */
    g = prep_tally_get(t, 0, PREP_TALLY_CASILLA, 0);
    int64_t c0_votes[NCOLS] = {100, 20, 20, 120, 30, 7, 4, 3, 3, 0, 1, 10};
    assert_votes(g->votes, c0_votes, NCOLS);
    int64_t c0_party[5] = {107, 26, 24, 120, 30};
    assert_votes(g->party_votes, c0_party, 5);
    assert_int_equal(g->esperadas, 1);
    assert_int_equal(g->capturadas, 1);
    assert_int_equal(g->contabilizadas, 1);
    assert_int_equal(g->lista_nominal, 500);
    assert_int_equal(g->votos_c_cs, 318);
    assert_int_equal(g->votos_s_cs, 318);
    /* casilla 1: split with the tie */
    g = prep_tally_get(t, 0, PREP_TALLY_CASILLA, 1);
    int64_t c1_party[5] = {2, 42, 1, 90, 25};
    assert_votes(g->party_votes, c1_party, 5);
    assert_int_equal(g->inconsistentes, 1);
    /* casilla 3 exceeds LN: captured, votes published (kept in the acta), not summed */
    g = prep_tally_get(t, 0, PREP_TALLY_CASILLA, 3);
    assert_int_equal(g->capturadas, 1);
    assert_int_equal(g->contabilizadas, 0);
    assert_int_equal(g->no_contabilizadas, 1);
    assert_int_equal(g->votes[PAN], 0);
    assert_int_equal(g->votos_c_cs, 0);
    assert_int_equal(g->lista_nominal, 0);
    prep_tally_acta(t, 0, 3, &v);
    assert_int_equal(v[PAN], 10);
    /* casilla 4 special: in C_CS, not in S_CS, LN 0 */
    g = prep_tally_get(t, 0, PREP_TALLY_CASILLA, 4);
    assert_int_equal(g->contabilizadas, 1);
    assert_int_equal(g->votos_c_cs, 92);
    assert_int_equal(g->votos_s_cs, 0);
    assert_int_equal(g->lista_nominal, 0);
    /* casilla 10: expected, never captured */
    g = prep_tally_get(t, 0, PREP_TALLY_CASILLA, 10);
    assert_int_equal(g->esperadas, 1);
    assert_int_equal(g->capturadas, 0);
    assert_int_equal(g->lista_nominal_expected, 349);

    /* ---- out of catalogue: 999 (captured twice, replaced) and 998 */
    assert_int_equal(prep_tally_n_out_of_catalog(t, 0), 2);
    a = prep_tally_out_of_catalog(t, 0, 0, &v);
    assert_non_null(a);
    assert_int_equal(a->status, PREP_ACTA_NC_OUT_OF_CATALOG);
    assert_int_equal(a->section_id, 999);
    assert_int_equal(v[PAN], 7); /* the repeat replaced the 5s */
    a = prep_tally_out_of_catalog(t, 0, 1, &v);
    assert_int_equal(a->section_id, 998);
    assert_null(prep_tally_out_of_catalog(t, 0, 2, &v));

    /* ---- summary block */
    prep_summary s;
    prep_tally_summary(t, 0, 0, &s);
    assert_int_equal(s.esperadas, 11);
    assert_int_equal(s.capturadas, 10);
    assert_int_equal(s.fuera_catalogo, 2);
    assert_int_equal(s.registradas, 12);        /* 10 + 2 */
    assert_int_equal(s.contabilizadas, 5);
    assert_int_equal(s.no_contabilizadas, 7);   /* 12 - 5: the 5 in-catalogue + 2 out */
    assert_int_equal(s.inconsistentes, 3);
    assert_int_equal(s.lista_nominal, 1949);
    assert_int_equal(s.votos_c_cs, 1168);
    assert_int_equal(s.votos_s_cs, 1076);
    assert_int_equal(s.final_cut, 0);
    char vals[13][32];
    prep_actas_summary_values(c, &s, vals);
    assert_string_equal(vals[0], "11");
    assert_string_equal(vals[1], "12");
    assert_string_equal(vals[2], "2");
    assert_string_equal(vals[3], "10");
    assert_string_equal(vals[4], "90.9090");  /* 10/11 = 0.9090909.. truncated */
    assert_string_equal(vals[5], "5");
    assert_string_equal(vals[6], "45.4545");  /* 5/11 = 0.4545454.. */
    assert_string_equal(vals[7], "27.2727");  /* 3/11 = 0.2727272.. */
    assert_string_equal(vals[8], "7");
    assert_string_equal(vals[9], "1949");
    assert_string_equal(vals[10], "1168");
    assert_string_equal(vals[11], "1076");
    /* not final: S_CS / LN = 1076/1949: 107600/1949 = 55 r 405; 4050 -> 2 r 152;
     * 1520 -> 0 r 1520; 15200 -> 7 r 1557; 15570 -> 7 r 1927 => 55.2077 */
    assert_string_equal(vals[12], "55.2077");
    prep_tally_summary(t, 0, 1, &s);
    prep_actas_summary_values(c, &s, vals);
    /* final cut (final-only mode): C_CS / LN = 1168/1949: 116800/1949 = 59 r 1809;
     * 18090 -> 9 r 549; 5490 -> 2 r 1592; 15920 -> 8 r 328; 3280 -> 1 => 59.9281 */
    assert_string_equal(vals[12], "59.9281");

    /* the other election is untouched */
    g = prep_tally_get(t, 1, PREP_TALLY_ENTITY, 0);
    assert_int_equal(g->esperadas, 11);
    assert_int_equal(g->capturadas, 0);
    assert_int_equal(g->votos_c_cs, 0);
    assert_int_equal(prep_tally_n_out_of_catalog(t, 1), 0);

    /* out-of-range queries */
    assert_null(prep_tally_get(t, 2, PREP_TALLY_ENTITY, 0));
    assert_null(prep_tally_get(t, 0, PREP_TALLY_CASILLA, 11));
    assert_null(prep_tally_get(t, 0, PREP_TALLY_DISTRICT, 2));
    assert_int_equal(prep_tally_level_size(t, PREP_TALLY_SECTION), 4);
    assert_int_equal(prep_tally_level_size(t, PREP_TALLY_MUNICIPALITY), 3);
    assert_int_equal(prep_tally_level_size(t, PREP_TALLY_CASILLA), 11);

    prep_tally_free(t);
    prep_catalog_free(c);
}

static void test_hand_correction(void **st)
{
    (void)st;
    prep_catalog *c = load_hand();
    prep_tally *t;
    assert_int_equal(prep_tally_new(c, &t), PREP_OK);
    apply_hand(t, c, CAP_C9_FIX); /* everything before the correction */

    /* before: casilla 9 has the first capture, 6 x 10 = 60 votes
     * district 2 = casilla 5 (340) + casilla 9 (60) = 400; PAN 80 + 10 = 90; IND 15 + 10 = 25 */
    const prep_tally_agg *g = prep_tally_get(t, 0, PREP_TALLY_DISTRICT, 1);
    assert_int_equal(g->votos_c_cs, 400);
    assert_int_equal(g->votes[PAN], 90);
    assert_int_equal(g->votes[IND], 25);
    assert_int_equal(g->contabilizadas, 2);
    g = prep_tally_get(t, 0, PREP_TALLY_ENTITY, 0);
    assert_int_equal(g->votos_c_cs, 978);  /* 318 + 168 + 92 + 340 + 60 */
    assert_int_equal(g->capturadas, 10);
    /* municipality 3 (index 2) = section 201: casilla 8 (sin acta) + 9 */
    g = prep_tally_get(t, 0, PREP_TALLY_MUNICIPALITY, 2);
    assert_int_equal(g->votes[MORENA], 10);
    assert_int_equal(g->party_votes[P_MORENA], 10);

    /* the correction: 250 votes */
    prep_acta a;
    int32_t v[NCOLS];
    hand_acta(c, 0, &dip_caps[CAP_C9_FIX], CAP_C9_FIX, &a, v);
    assert_int_equal(prep_tally_apply(t, 0, &a, v), PREP_OK);
    g = prep_tally_get(t, 0, PREP_TALLY_DISTRICT, 1);
    assert_int_equal(g->votos_c_cs, 590);  /* 340 + 250 */
    assert_int_equal(g->votes[PAN], 150);  /* 80 + 70 */
    assert_int_equal(g->votes[IND], 40);   /* 15 + 25 */
    assert_int_equal(g->capturadas, 5);    /* replaced, not added */
    assert_int_equal(g->contabilizadas, 2);
    g = prep_tally_get(t, 0, PREP_TALLY_ENTITY, 0);
    assert_int_equal(g->votos_c_cs, 1168); /* 978 - 60 + 250 */
    assert_int_equal(g->capturadas, 10);
    g = prep_tally_get(t, 0, PREP_TALLY_MUNICIPALITY, 2);
    assert_int_equal(g->votes[MORENA], 100);
    assert_int_equal(g->party_votes[P_MORENA], 100);

    /* a correction that turns a counted acta into a not-counted one: casilla 0 all
     * illegible removes its 318 votes and its 500 LN */
    hand_acta(c, 0, &dip_caps[2], 2, &a, v); /* all-illegible votes ... */
    char key[24];
    prep_catalog_casilla_key(c->entity_id, 100, 'B', 1, 0, key);
    uint32_t k0 = prep_catalog_find_casilla(c, key);
    assert_int_equal(k0, 0);
    synth_ident(c, 0, k0, 0, &a); /* ... on casilla 0 */
    assert_int_equal(prep_tally_apply(t, 0, &a, v), PREP_OK);
    g = prep_tally_get(t, 0, PREP_TALLY_ENTITY, 0);
    assert_int_equal(g->votos_c_cs, 850);  /* 1168 - 318 */
    assert_int_equal(g->lista_nominal, 1449); /* 1949 - 500 */
    assert_int_equal(g->contabilizadas, 4);
    assert_int_equal(g->no_contabilizadas, 6);
    assert_int_equal(g->inconsistentes, 4); /* 1, 2, 3 and now casilla 0 (all illegible) */
    assert_int_equal(g->party_votes[P_PAN], 289 - 107);
    assert_int_equal(g->votes[C3], 5);     /* 12 - 7 */

    prep_tally_free(t);
    prep_catalog_free(c);
}

static void test_split(void **st)
{
    (void)st;
    prep_catalog *c = load_hand();
    prep_tally *t;
    assert_int_equal(prep_tally_new(c, &t), PREP_OK);
    int64_t out[5];
    /* C_PAN_PRI_PRD 8 with PAN 1, PRI 9, PRD 5: 8 = 3 x 2 + 2 -> remainder to PRI (9)
     * and PRD (5): PAN 1+2 = 3, PRI 9+3 = 12, PRD 5+3 = 8 */
    int64_t v1[NCOLS] = {1, 9, 5, 0, 0, 8, 0, 0, 0, 0, 0, 0};
    prep_tally_split_votes(t, 0, v1, out);
    int64_t w1[5] = {3, 12, 8, 0, 0};
    assert_votes(out, w1, 5);
    /* three-way tie at 4: remainder 2 of C_PAN_PRI_PRD 5 goes to PAN and PRI (seniority) */
    int64_t v2[NCOLS] = {4, 4, 4, 0, 0, 5, 0, 0, 0, 0, 3, 3};
    prep_tally_split_votes(t, 0, v2, out);
    int64_t w2[5] = {4 + 2, 4 + 2, 4 + 1, 0, 0};
    assert_votes(out, w2, 5);
    /* C_PRI_PRD 1 with PRD 6 > PRI 2: the single vote goes to PRD (votes beat seniority) */
    int64_t v3[NCOLS] = {0, 2, 6, 0, 0, 0, 0, 0, 1, 0, 0, 0};
    prep_tally_split_votes(t, 0, v3, out);
    int64_t w3[5] = {0, 2, 7, 0, 0};
    assert_votes(out, w3, 5);
    /* nothing to split; independents and nulos belong to no party */
    int64_t v4[NCOLS] = {0, 0, 0, 3, 1, 0, 0, 0, 0, 9, 9, 9};
    prep_tally_split_votes(t, 0, v4, out);
    int64_t w4[5] = {0, 0, 0, 3, 1};
    assert_votes(out, w4, 5);
    prep_tally_free(t);
    prep_catalog_free(c);
}

/* A copy of every aggregate of every level of election e. */
typedef struct snap {
    size_t n;
    prep_tally_agg *aggs;
    int64_t *vec;
} snap;

static snap take_snap(const prep_tally *t, const prep_catalog *c, uint32_t e)
{
    size_t stride = c->elections[e].n_cols + c->n_parties, n = 0;
    for (int l = 0; l < PREP_TALLY_N_LEVELS; l++)
        n += prep_tally_level_size(t, (prep_tally_level)l);
    snap s = {n, calloc(n, sizeof(prep_tally_agg)), calloc(n * stride, sizeof(int64_t))};
    size_t i = 0;
    for (int l = 0; l < PREP_TALLY_N_LEVELS; l++)
        for (uint32_t k = 0; k < prep_tally_level_size(t, (prep_tally_level)l); k++, i++) {
            const prep_tally_agg *g = prep_tally_get(t, e, (prep_tally_level)l, k);
            s.aggs[i] = *g;
            memcpy(s.vec + i * stride, g->votes, c->elections[e].n_cols * sizeof(int64_t));
            memcpy(s.vec + i * stride + c->elections[e].n_cols, g->party_votes, c->n_parties * sizeof(int64_t));
        }
    return s;
}

static void snap_free(snap *s)
{
    free(s->aggs);
    free(s->vec);
}

/* Every aggregate of every level of election e equal between two tallies. */
static void assert_same_tally(const prep_tally *x, const prep_tally *y, const prep_catalog *c, uint32_t e)
{
    uint32_t nc = c->elections[e].n_cols;
    for (int l = 0; l < PREP_TALLY_N_LEVELS; l++) {
        assert_int_equal(prep_tally_level_size(x, (prep_tally_level)l), prep_tally_level_size(y, (prep_tally_level)l));
        for (uint32_t k = 0; k < prep_tally_level_size(x, (prep_tally_level)l); k++) {
            const prep_tally_agg *a = prep_tally_get(x, e, (prep_tally_level)l, k);
            const prep_tally_agg *b = prep_tally_get(y, e, (prep_tally_level)l, k);
            if (a->esperadas != b->esperadas || a->capturadas != b->capturadas ||
                a->contabilizadas != b->contabilizadas || a->no_contabilizadas != b->no_contabilizadas ||
                a->inconsistentes != b->inconsistentes || a->lista_nominal != b->lista_nominal ||
                a->lista_nominal_expected != b->lista_nominal_expected || a->votos_c_cs != b->votos_c_cs ||
                a->votos_s_cs != b->votos_s_cs || memcmp(a->by_status, b->by_status, sizeof a->by_status) ||
                memcmp(a->votes, b->votes, nc * sizeof(int64_t)) ||
                memcmp(a->party_votes, b->party_votes, c->n_parties * sizeof(int64_t)))
                fail_msg("election %u level %d unit %u differs (capturadas %u/%u, c_cs %lld/%lld)", e, l, k,
                         a->capturadas, b->capturadas, (long long)a->votos_c_cs, (long long)b->votos_c_cs);
        }
    }
    prep_summary s1, s2;
    prep_tally_summary(x, e, 0, &s1);
    prep_tally_summary(y, e, 0, &s2);
    assert_memory_equal(&s1, &s2, sizeof s1);
}

static void test_idempotent(void **st)
{
    (void)st;
    prep_catalog *c = load_hand();
    prep_tally *t;
    assert_int_equal(prep_tally_new(c, &t), PREP_OK);
    apply_hand(t, c, N_DIP_CAPS);
    snap s1 = take_snap(t, c, 0);
    size_t ooc1 = prep_tally_n_out_of_catalog(t, 0);
    /* every final capture applied a second time (0-8, 11-13; not the superseded 9, 10) */
    for (size_t i = 0; i < N_DIP_CAPS; i++) {
        if (i == CAP_C9_FIRST || i == 10)
            continue;
        prep_acta a;
        int32_t v[NCOLS];
        hand_acta(c, 0, &dip_caps[i], i, &a, v);
        assert_int_equal(prep_tally_apply(t, 0, &a, v), PREP_OK);
    }
    snap s2 = take_snap(t, c, 0);
    assert_int_equal(s1.n, s2.n);
    size_t stride = c->elections[0].n_cols + c->n_parties;
    for (size_t i = 0; i < s1.n; i++) {
        const prep_tally_agg *a = &s1.aggs[i], *b = &s2.aggs[i];
        assert_int_equal(a->capturadas, b->capturadas);
        assert_int_equal(a->contabilizadas, b->contabilizadas);
        assert_int_equal(a->no_contabilizadas, b->no_contabilizadas);
        assert_int_equal(a->inconsistentes, b->inconsistentes);
        assert_int_equal(a->lista_nominal, b->lista_nominal);
        assert_int_equal(a->votos_c_cs, b->votos_c_cs);
        assert_int_equal(a->votos_s_cs, b->votos_s_cs);
        assert_memory_equal(a->by_status, b->by_status, sizeof a->by_status);
    }
    assert_memory_equal(s1.vec, s2.vec, s1.n * stride * sizeof(int64_t));
    assert_int_equal(prep_tally_n_out_of_catalog(t, 0), ooc1);
    snap_free(&s1);
    snap_free(&s2);
    prep_tally_free(t);
    prep_catalog_free(c);
}

static void test_dirty(void **st)
{
    (void)st;
    prep_catalog *c = load_hand();
    prep_tally *t;
    assert_int_equal(prep_tally_new(c, &t), PREP_OK);
    apply_hand(t, c, N_DIP_CAPS);
    /* after the night so far, district 1 and 2 are both dirty */
    assert_true(prep_tally_dirty(t, 0, PREP_TALLY_DISTRICT, 0));
    assert_true(prep_tally_dirty(t, 0, PREP_TALLY_DISTRICT, 1));
    prep_tally_clear_dirty(t);
    for (int l = 0; l < PREP_TALLY_N_LEVELS; l++) {
        const uint32_t *idx;
        assert_int_equal(prep_tally_dirty_list(t, 0, (prep_tally_level)l, &idx), 0);
        for (uint32_t k = 0; k < prep_tally_level_size(t, (prep_tally_level)l); k++)
            assert_false(prep_tally_dirty(t, 0, (prep_tally_level)l, k));
    }
    /* capture casilla 6 (200C1) again, now with an acta: its ancestors are the nation 0,
     * entity 0, district 2 (index 1), municipality 2 (index 1), section 200 (index 2),
     * casilla 6 */
    static const hand_capture c6 = {200, 'C', 1, 0, 0, {1, 2, 3, 4, 5, NA, NA, NA, NA, 6, 0, 0}};
    prep_acta a;
    int32_t v[NCOLS];
    hand_acta(c, 0, &c6, 20, &a, v);
    assert_int_equal(prep_tally_apply(t, 0, &a, v), PREP_OK);
    const uint32_t want[PREP_TALLY_N_LEVELS] = {0, 0, 1, 1, 2, 6};
    for (int l = 0; l < PREP_TALLY_N_LEVELS; l++) {
        const uint32_t *idx;
        assert_int_equal(prep_tally_dirty_list(t, 0, (prep_tally_level)l, &idx), 1);
        assert_int_equal(idx[0], want[l]);
        for (uint32_t k = 0; k < prep_tally_level_size(t, (prep_tally_level)l); k++)
            assert_int_equal(prep_tally_dirty(t, 0, (prep_tally_level)l, k), k == want[l]);
        /* the other election is clean */
        assert_int_equal(prep_tally_dirty_list(t, 1, (prep_tally_level)l, &idx), 0);
    }
    /* an out-of-catalogue capture changes no aggregate: nothing new is marked */
    hand_acta(c, 0, &dip_caps[11], 11, &a, v);
    prep_tally_clear_dirty(t);
    assert_int_equal(prep_tally_apply(t, 0, &a, v), PREP_OK);
    assert_int_equal(prep_tally_dirty_list(t, 0, PREP_TALLY_ENTITY, NULL), 0);
    prep_tally_free(t);
    prep_catalog_free(c);
}

static void test_cursor(void **st)
{
    (void)st;
    prep_catalog *c = load_hand();
    prep_actas *s = prep_actas_new(c, 0);
    assert_non_null(s);
    prep_time open = c->window_open;
    /* file order: c0 @ +1200, c5 @ +600, c9 first @ +600, c9 fix @ +1800, c1 with no time */
    struct {
        size_t cap;
        prep_time at;
    } plan[] = {{0, 1200}, {5, 600}, {CAP_C9_FIRST, 600}, {CAP_C9_FIX, 1800}, {1, -1}};
    for (size_t i = 0; i < PREP_ARRAY_LEN(plan); i++) {
        prep_acta a;
        int32_t v[NCOLS];
        hand_acta(c, 0, &dip_caps[plan[i].cap], plan[i].cap, &a, v);
        if (plan[i].at < 0)
            a.acopio = a.captura = a.verificacion = PREP_TIME_NONE;
        else {
            a.verificacion = open + plan[i].at;
            a.captura = a.verificacion - 100000; /* verificación wins */
        }
        assert_int_equal(prep_actas_append(s, &a, v), PREP_OK);
    }
    prep_tally_cursor cur;
    assert_int_equal(prep_tally_cursor_init(&cur, s), PREP_OK);
    /* sorted: c1 (no time), c5 (600, file 1), c9 first (600, file 2), c0 (1200), c9 fix (1800) */
    assert_int_equal(cur.n, 5);
    assert_int_equal(cur.order[0], 4);
    assert_int_equal(cur.order[1], 1);
    assert_int_equal(cur.order[2], 2);
    assert_int_equal(cur.order[3], 0);
    assert_int_equal(cur.order[4], 3);
    prep_tally *t;
    assert_int_equal(prep_tally_new(c, &t), PREP_OK);
    size_t n;
    assert_int_equal(prep_tally_apply_until(t, s, &cur, open + 599, &n), PREP_OK);
    assert_int_equal(n, 1); /* c1: no time enters the first cut */
    assert_int_equal(prep_tally_get(t, 0, PREP_TALLY_ENTITY, 0)->votos_c_cs, 168);
    assert_int_equal(prep_tally_apply_until(t, s, &cur, open + 600, &n), PREP_OK);
    assert_int_equal(n, 2); /* c5 and c9 first */
    assert_int_equal(prep_tally_get(t, 0, PREP_TALLY_ENTITY, 0)->votos_c_cs, 168 + 340 + 60);
    assert_int_equal(prep_tally_apply_until(t, s, &cur, open + 600, &n), PREP_OK);
    assert_int_equal(n, 0); /* same cut again: nothing new */
    assert_int_equal(prep_tally_apply_until(t, s, &cur, open + 1799, &n), PREP_OK);
    assert_int_equal(n, 1); /* c0 */
    assert_int_equal(prep_tally_get(t, 0, PREP_TALLY_ENTITY, 0)->votos_c_cs, 168 + 340 + 60 + 318);
    assert_int_equal(prep_tally_apply_until(t, s, &cur, open + 86400, &n), PREP_OK);
    assert_int_equal(n, 1); /* the correction replaces c9: 60 -> 250 */
    assert_int_equal(prep_tally_get(t, 0, PREP_TALLY_ENTITY, 0)->votos_c_cs, 168 + 340 + 250 + 318);
    assert_int_equal(prep_tally_get(t, 0, PREP_TALLY_ENTITY, 0)->capturadas, 4);
    assert_int_equal(prep_tally_apply_until(t, s, &cur, open + 86400, &n), PREP_OK);
    assert_int_equal(n, 0);
    /* a cursor of another set size is refused */
    prep_tally_cursor bad = {NULL, 3, 0};
    assert_int_equal(prep_tally_apply_until(t, s, &bad, open, &n), PREP_ERR_INVALID);
    prep_tally_cursor_free(&cur);
    prep_tally_free(t);
    prep_actas_free(s);
    prep_catalog_free(c);
}

/* prep_tally_apply_late: a capture found after later ones were applied counts only when it
 * is newer than the tally's of its acta, so the tally is what instant order gives. */
static void test_apply_late(void **st)
{
    (void)st;
    prep_catalog *c = load_hand();
    prep_time open = c->window_open;
    prep_acta first, fix, other;
    int32_t vf[NCOLS], vx[NCOLS], vo[NCOLS];
    hand_acta(c, 0, &dip_caps[CAP_C9_FIRST], CAP_C9_FIRST, &first, vf);
    hand_acta(c, 0, &dip_caps[CAP_C9_FIX], CAP_C9_FIX, &fix, vx);
    hand_acta(c, 0, &dip_caps[5], 5, &other, vo);
    first.captura = first.verificacion = open + 600;
    fix.captura = fix.verificacion = open + 1800;
    other.captura = other.verificacion = open + 900;
    prep_tally *t, *ref;
    assert_int_equal(prep_tally_new(c, &t), PREP_OK);
    assert_int_equal(prep_tally_new(c, &ref), PREP_OK);
    /* in instant order: first (60), other (340), fix (250) */
    assert_int_equal(prep_tally_apply(ref, 0, &first, vf), PREP_OK);
    assert_int_equal(prep_tally_apply(ref, 0, &other, vo), PREP_OK);
    assert_int_equal(prep_tally_apply(ref, 0, &fix, vx), PREP_OK);
    /* found in another order: the correction, then its acta's first capture (left), then an
     * acta not counted yet (counted) */
    int applied = -1;
    assert_int_equal(prep_tally_apply_late(t, 0, &fix, vx, &applied), PREP_OK);
    assert_int_equal(applied, 1);
    assert_int_equal(prep_tally_apply_late(t, 0, &first, vf, &applied), PREP_OK);
    assert_int_equal(applied, 0);
    assert_int_equal(prep_tally_get(t, 0, PREP_TALLY_ENTITY, 0)->votos_c_cs, 250);
    assert_int_equal(prep_tally_apply_late(t, 0, &other, vo, &applied), PREP_OK);
    assert_int_equal(applied, 1);
    assert_same_tally(t, ref, c, 0);
    /* the same instant as the tally's capture: the order cannot be told */
    prep_acta again = fix;
    assert_int_equal(prep_tally_apply_late(t, 0, &again, vf, &applied), PREP_ERR_INVALID);
    assert_int_equal(applied, 0);
    assert_same_tally(t, ref, c, 0);
    /* an acta outside the catalogue, by its CLAVE_ACTA: the same rules */
    prep_acta out = other, out_old = other;
    out.casilla = out_old.casilla = PREP_CAT_NONE;
    snprintf(out.clave_acta, sizeof out.clave_acta, "229999B010002");
    out_old = out;
    out_old.captura = out_old.verificacion = open + 300;
    assert_int_equal(prep_tally_apply_late(t, 0, &out, vo, &applied), PREP_OK);
    assert_int_equal(applied, 1);
    assert_int_equal(prep_tally_apply_late(t, 0, &out_old, vf, &applied), PREP_OK);
    assert_int_equal(applied, 0);
    assert_int_equal(prep_tally_n_out_of_catalog(t, 0), 1);
    assert_int_equal(prep_tally_out_of_catalog(t, 0, 0, NULL)->verificacion, open + 900);
    assert_int_equal(prep_tally_apply_late(t, 0, &out, vf, &applied), PREP_ERR_INVALID);
    /* one whose key names no acta is told apart by its line: its order cannot be told */
    snprintf(out.clave_acta, sizeof out.clave_acta, "-");
    assert_int_equal(prep_tally_apply_late(t, 0, &out, vo, &applied), PREP_ERR_INVALID);
    assert_int_equal(prep_tally_n_out_of_catalog(t, 0), 1);
    prep_tally_free(t);
    prep_tally_free(ref);
    prep_catalog_free(c);
}

/* ------------------------------------------------------------------ synthetic scale */

static prep_catalog *synth_catalog(const synth_params *p)
{
    size_t len;
    char *text = synth_catalog_text(p, &len);
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    prep_err err = prep_catalog_parse("synth.cat", text, len, &c, &d);
    if (err != PREP_OK)
        prep_diags_print(&d, stderr, 20);
    assert_int_equal(err, PREP_OK);
    prep_diags_free(&d);
    free(text);
    return c;
}

static void test_incremental_equals_full(void **st)
{
    (void)st;
    /* Querétaro 2021 scale: 15 districts, 18 municipalities, ~2,000 sections, 3 elections */
    synth_params p = {15, 18, 2000, 3, 42, 3};
    prep_catalog *c = synth_catalog(&p);
    synth_night o;
    synth_night_defaults(&o);
    o.corrections = 0.05;
    o.out_of_catalog = 0.01;
    prep_actas *sets[3] = {NULL, NULL, NULL};
    assert_int_equal(synth_actas(c, &o, 7, sets), PREP_OK);

    prep_tally *inc, *full;
    assert_int_equal(prep_tally_new(c, &inc), PREP_OK);
    assert_int_equal(prep_tally_new(c, &full), PREP_OK);
    prep_rng r;
    prep_rng_seed(&r, 99);
    for (uint32_t e = 0; e < c->n_elections; e++) {
        prep_actas *s = sets[e];
        assert_true(s->n > c->n_casillas / 2);
        uint32_t nc = c->elections[e].n_cols;
        /* full recount: file order (corrections come after what they correct) */
        for (size_t i = 0; i < s->n; i++)
            assert_int_equal(prep_tally_apply(full, e, &s->v[i], prep_acta_votes(s, &s->v[i])), PREP_OK);

        /* incremental: noise captures (random votes on 10% of casillas) and every capture
         * of the set, all in random order; then the final capture of each casilla whose
         * final may have been overtaken (noise, or a corrected acta) once more */
        size_t n_noise = c->n_casillas / 10;
        int32_t *noise_votes = calloc(n_noise * nc, sizeof(int32_t));
        prep_acta *noise = calloc(n_noise, sizeof(prep_acta));
        uint8_t *redo = calloc(c->n_casillas, 1);
        size_t *final_of = calloc(c->n_casillas, sizeof(size_t));
        for (uint32_t k = 0; k < c->n_casillas; k++)
            final_of[k] = SIZE_MAX;
        for (size_t i = 0; i < s->n; i++)
            if (s->v[i].casilla != PREP_CAT_NONE) {
                if (final_of[s->v[i].casilla] != SIZE_MAX)
                    redo[s->v[i].casilla] = 1;
                final_of[s->v[i].casilla] = i;
            }
        for (size_t i = 0; i < n_noise; i++) {
            uint32_t k = (uint32_t)prep_rng_below(&r, c->n_casillas);
            synth_ident(c, e, k, 0, &noise[i]);
            synth_votes(c, e, prep_catalog_unit_of(c, e, k), c->casillas[k].lista_nominal + 1,
                        (int)prep_rng_below(&r, 5), &r, &noise[i], noise_votes + i * nc);
            redo[k] = 1;
        }
        size_t n_ops = s->n + n_noise;
        size_t *ops = calloc(n_ops, sizeof(size_t));
        for (size_t i = 0; i < n_ops; i++)
            ops[i] = i;
        for (size_t i = n_ops; i > 1; i--) { /* Fisher-Yates */
            size_t j = (size_t)prep_rng_below(&r, i);
            size_t tmp = ops[i - 1];
            ops[i - 1] = ops[j];
            ops[j] = tmp;
        }
        for (size_t i = 0; i < n_ops; i++) {
            size_t o_ = ops[i];
            if (o_ < s->n) {
                const prep_acta *a = &s->v[o_];
                assert_int_equal(prep_tally_apply(inc, e, a, prep_acta_votes(s, a)), PREP_OK);
            } else {
                size_t q = o_ - s->n;
                assert_int_equal(prep_tally_apply(inc, e, &noise[q], noise_votes + q * nc), PREP_OK);
            }
        }
        for (uint32_t k = 0; k < c->n_casillas; k++) {
            if (!redo[k])
                continue;
            if (final_of[k] != SIZE_MAX) {
                const prep_acta *a = &s->v[final_of[k]];
                assert_int_equal(prep_tally_apply(inc, e, a, prep_acta_votes(s, a)), PREP_OK);
            }
        }
        /* noise on a casilla the set never captures cannot be undone by a replay: apply
         * those noise captures, in the same op order, to the full tally as well */
        for (size_t i = 0; i < n_ops; i++) {
            size_t o_ = ops[i];
            if (o_ < s->n)
                continue;
            size_t q = o_ - s->n;
            if (final_of[noise[q].casilla] == SIZE_MAX)
                assert_int_equal(prep_tally_apply(full, e, &noise[q], noise_votes + q * nc), PREP_OK);
        }
        assert_same_tally(inc, full, c, e);
        assert_int_equal(prep_tally_n_out_of_catalog(inc, e), prep_tally_n_out_of_catalog(full, e));
        assert_true(prep_tally_n_out_of_catalog(full, e) > 0);

        /* invariants of the full tally */
        const prep_tally_agg *g = prep_tally_get(full, e, PREP_TALLY_ENTITY, 0);
        int64_t sum = 0, party_cols = 0, party_sum = 0;
        for (uint32_t j = 0; j < nc; j++) {
            sum += g->votes[j];
            if (c->elections[e].cols[j].kind == PREP_CAT_COL_PARTY || c->elections[e].cols[j].kind == PREP_CAT_COL_COMBO)
                party_cols += g->votes[j];
        }
        for (uint32_t j = 0; j < c->n_parties; j++)
            party_sum += g->party_votes[j];
        assert_int_equal(sum, g->votos_c_cs);       /* total = sum of columns */
        assert_int_equal(party_sum, party_cols);    /* the split neither loses nor makes votes */
        assert_int_equal(g->capturadas, g->contabilizadas + g->no_contabilizadas);
        assert_int_equal(g->esperadas, c->n_casillas);
        uint32_t by = 0;
        for (int k = 0; k < 6; k++)
            by += g->by_status[k];
        assert_int_equal(by, g->capturadas);
        assert_true(g->by_status[PREP_ACTA_COUNTED_SOME_ILLEGIBLE] > 0);
        assert_true(g->by_status[PREP_ACTA_NC_NO_ACTA] > 0);
        assert_true(g->votos_c_cs > g->votos_s_cs);
        free(ops);
        free(noise);
        free(noise_votes);
        free(redo);
        free(final_of);
    }
    for (int e = 0; e < 3; e++)
        prep_actas_free(sets[e]);
    prep_tally_free(inc);
    prep_tally_free(full);
    prep_catalog_free(c);
}

/* ------------------------------------------------------------------ database CSV */

static void roundtrip(const prep_catalog *c, const prep_tally *t, uint32_t e)
{
    prep_buf b;
    prep_buf_init(&b, 0);
    assert_int_equal(prep_tally_db_write_csv(t, e, c->window_open + 3600, 0, &b), PREP_OK);
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = NULL;
    prep_err err = prep_actas_parse("db.csv", b.data, b.len, c, e, &s, &d);
    if (err != PREP_OK || d.total)
        prep_diags_print(&d, stderr, 10);
    assert_int_equal(err, PREP_OK);
    assert_int_equal(s->rows_bad, 0);
    assert_int_equal(d.total, 0);
    /* one row per captured acta + one per out-of-catalogue capture */
    prep_summary sm;
    prep_tally_summary(t, e, 0, &sm);
    assert_int_equal(s->n, (size_t)sm.registradas);
    /* the header block read back says what the tally says */
    assert_true(s->hdr.present);
    assert_int_equal(s->hdr.n_summary, 13);
    char vals[13][32];
    prep_actas_summary_values(c, &sm, vals);
    for (int i = 0; i < 13; i++)
        assert_string_equal(s->hdr.summary_values[i], vals[i]);
    prep_tally *t2;
    assert_int_equal(prep_tally_new(c, &t2), PREP_OK);
    for (size_t i = 0; i < s->n; i++)
        assert_int_equal(prep_tally_apply(t2, e, &s->v[i], prep_acta_votes(s, &s->v[i])), PREP_OK);
    assert_same_tally(t, t2, c, e);
    assert_int_equal(prep_tally_n_out_of_catalog(t2, e), prep_tally_n_out_of_catalog(t, e));
    prep_tally_free(t2);
    prep_actas_free(s);
    prep_diags_free(&d);
    prep_buf_free(&b);
}

static void test_db_roundtrip_hand(void **st)
{
    (void)st;
    prep_catalog *c = load_hand();
    prep_tally *t;
    assert_int_equal(prep_tally_new(c, &t), PREP_OK);
    apply_hand(t, c, N_DIP_CAPS);
    roundtrip(c, t, 0);
    roundtrip(c, t, 1); /* an election with no capture: header and columns only */

    /* row order: catalogue casillas 0..9, then 998 and 999 (by CLAVE_ACTA: 999 was captured
     * first; the order captures were counted in leaves no trace) */
    prep_buf b;
    prep_buf_init(&b, 0);
    assert_int_equal(prep_tally_db_write_csv(t, 0, c->window_open, 0, &b), PREP_OK);
    const char *keys[] = {"220100B0100", "220100C0100", "220101B0100", "220101C0100", "220101S0100",
                          "220200B0100", "220200C0100", "220200C0200", "220201B0100", "220201E0100",
                          "220201E0101", "220998B0100", "220999B0100"};
    const char *p = b.data;
    for (size_t i = 0; i < PREP_ARRAY_LEN(keys); i++) {
        const char *q = strstr(p, keys[i]);
        if (!q)
            fail_msg("row %zu (%s) missing or out of order", i, keys[i]);
        p = q + 1;
    }
    /* never captured: listed as the institutes do, identity and LISTA_NOMINAL only */
    const char *row = strstr(b.data, "=\"220201E0101\"");
    assert_non_null(row);
    char line[1024];
    size_t n = strcspn(row, "\n");
    assert_true(n < sizeof line);
    memcpy(line, row, n);
    line[n] = 0;
    char *f[64];
    size_t nf = prep_split(line, '|', 1, f, NULL, 64);
    size_t ln_col = nf - 13; /* LISTA_NOMINAL, then 12 fields to COTEJADA */
    assert_string_equal(f[13], "2"); /* TIPO_ACTA */
    for (size_t i = 14; i < nf; i++)
        if (i == ln_col) assert_true(f[i][0] >= '1' && f[i][0] <= '9');
        else if (f[i][0]) fail_msg("field %zu of a pending row is '%s', not empty", i + 1, f[i]);
    prep_buf_free(&b);
    prep_tally_free(t);
    prep_catalog_free(c);
}

static void test_db_roundtrip_synth(void **st)
{
    (void)st;
    synth_params p = {6, 9, 400, 3, 5, 3};
    prep_catalog *c = synth_catalog(&p);
    synth_night o;
    synth_night_defaults(&o);
    o.out_of_catalog = 0.02;
    prep_actas *sets[3] = {NULL, NULL, NULL};
    assert_int_equal(synth_actas(c, &o, 11, sets), PREP_OK);
    prep_tally *t;
    assert_int_equal(prep_tally_new(c, &t), PREP_OK);
    for (uint32_t e = 0; e < c->n_elections; e++) {
        for (size_t i = 0; i < sets[e]->n; i++)
            assert_int_equal(prep_tally_apply(t, e, &sets[e]->v[i], prep_acta_votes(sets[e], &sets[e]->v[i])),
                             PREP_OK);
        roundtrip(c, t, e);
    }
    for (int e = 0; e < 3; e++)
        prep_actas_free(sets[e]);
    prep_tally_free(t);
    prep_catalog_free(c);
}

static void test_leeme(void **st)
{
    (void)st;
    prep_catalog *c = load_hand();
    prep_buf b;
    prep_buf_init(&b, 0);
    assert_int_equal(prep_tally_db_write_leeme(c, &b), PREP_OK);
    assert_true(prep_utf8_valid(b.data, b.len));
    /* every column of every election is described */
    for (uint32_t e = 0; e < c->n_elections; e++) {
        prep_buf h;
        prep_buf_init(&h, 0);
        assert_int_equal(prep_actas_write_columns(c, e, &h), PREP_OK);
        h.data[strcspn(h.data, "\r\n")] = '\0';
        char sep[2] = {c->csv_sep, 0};
        char *save = NULL;
        for (char *f = strtok_r(h.data, sep, &save); f; f = strtok_r(NULL, sep, &save)) {
            char want[128];
            snprintf(want, sizeof want, ". %s - ", f);
            if (!strstr(b.data, want))
                fail_msg("LEEME lacks column %s", f);
        }
        prep_buf_free(&h);
        assert_non_null(strstr(b.data, c->elections[e].name));
    }
    /* every OBSERVACIONES label, the formulas, the time zone, the independent's name */
    const prep_cat_labels *L = &c->labels;
    const char *must[] = {L->some_illegible, L->all_illegible, L->exceeds_ln, L->no_acta_not_delivered,
                          L->no_acta_not_installed, L->no_acta_no_envelope, L->out_of_catalog,
                          "America/Mexico_City", "TOTAL_VOTOS_S_CS / LISTA_NOMINAL_ACTAS_CONTABILIZADAS",
                          "ACTAS_CAPTURADAS / ACTAS_ESPERADAS x 100", "trunca",
                          "Juana Pérez López", "Va por Querétaro", "artículo 311", "sep=|", "(UTC-5)",
                          "ACTAS_NO_CONTABILIZADAS = ACTAS_REGISTRADAS - ACTAS_CONTABILIZADAS"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(must); i++)
        if (!strstr(b.data, must[i]))
            fail_msg("LEEME lacks \"%s\"", must[i]);
    prep_buf_free(&b);
    prep_catalog_free(c);
}

static void test_bad_args(void **st)
{
    (void)st;
    prep_catalog *c = load_hand();
    prep_tally *t;
    assert_int_equal(prep_tally_new(NULL, &t), PREP_ERR_USAGE);
    assert_int_equal(prep_tally_new(c, &t), PREP_OK);
    prep_acta a;
    int32_t v[NCOLS];
    hand_acta(c, 0, &dip_caps[0], 0, &a, v);
    assert_int_equal(prep_tally_apply(t, 2, &a, v), PREP_ERR_USAGE);
    assert_int_equal(prep_tally_apply(t, 0, NULL, v), PREP_ERR_USAGE);
    assert_int_equal(prep_tally_apply(t, 0, &a, NULL), PREP_ERR_USAGE);
    prep_buf b;
    prep_buf_init(&b, 0);
    assert_int_equal(prep_tally_db_write_csv(t, 5, 0, 0, &b), PREP_ERR_USAGE);
    prep_buf_free(&b);
    prep_summary s;
    prep_tally_summary(t, 9, 1, &s);
    assert_int_equal(s.esperadas, 0);
    assert_int_equal(s.final_cut, 1);
    prep_tally_free(t);
    prep_tally_free(NULL);
    prep_catalog_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_columns),
        cmocka_unit_test(test_hand_rules),
        cmocka_unit_test(test_hand_correction),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_idempotent),
        cmocka_unit_test(test_dirty),
        cmocka_unit_test(test_cursor),
        cmocka_unit_test(test_apply_late),
        cmocka_unit_test(test_incremental_equals_full),
        cmocka_unit_test(test_db_roundtrip_hand),
        cmocka_unit_test(test_db_roundtrip_synth),
        cmocka_unit_test(test_leeme),
        cmocka_unit_test(test_bad_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
