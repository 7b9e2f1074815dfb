/* The tally of a national catalogue (tests/data/catalog/national.cat): nation and entity
 * levels, a special casilla's representación proporcional acta (its own expected acta,
 * counted at the nation and entity only), and the votes from abroad where they elect and
 * where they do not. Every expected number is worked out by hand from that file and the
 * captures below (docs/internals/tally.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prep/tally.h"
#include "national_capture.h"

static prep_catalog *load(void)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    prep_err r = prep_catalog_load(PREP_TEST_DATA "/catalog/national.cat", &c, &d);
    if (r) prep_diags_print(&d, stderr, 0);
    assert_int_equal(r, PREP_OK);
    prep_diags_free(&d);
    return c;
}

static void test_levels(void **st)
{
    (void)st;
    prep_catalog *c = load();
    prep_tally *t = NULL;
    assert_int_equal(prep_tally_new(c, &t), PREP_OK);
    uint32_t pres = prep_catalog_find_election(c, "pres"), sen = prep_catalog_find_election(c, "sen"),
             dip = prep_catalog_find_election(c, "dip");
    assert_int_equal(prep_tally_level_size(t, PREP_TALLY_NATION), 1);
    assert_int_equal(prep_tally_level_size(t, PREP_TALLY_ENTITY), 3);
    /* 7 casillas + 1 RP slot (the one special casilla, 1-100 S1) */
    assert_int_equal(prep_tally_level_size(t, PREP_TALLY_CASILLA), 8);
    /* expected actas: pres 7 (every casilla, abroad included); sen 8 (+ the RP acta);
     * dip 7 (no abroad acta, + the RP acta) */
    assert_int_equal(prep_tally_get(t, pres, PREP_TALLY_NATION, 0)->esperadas, 7);
    assert_int_equal(prep_tally_get(t, sen, PREP_TALLY_NATION, 0)->esperadas, 8);
    assert_int_equal(prep_tally_get(t, dip, PREP_TALLY_NATION, 0)->esperadas, 7);
    /* entity 1 (AGS): casillas 0..4 = 5 for pres; sen 6 (RP); dip 5 (-abroad, +RP) */
    assert_int_equal(prep_tally_get(t, pres, PREP_TALLY_ENTITY, 0)->esperadas, 5);
    assert_int_equal(prep_tally_get(t, sen, PREP_TALLY_ENTITY, 0)->esperadas, 6);
    assert_int_equal(prep_tally_get(t, dip, PREP_TALLY_ENTITY, 0)->esperadas, 5);
    /* district 1-1 (index 1) holds section 1-100: B1 and S1; its dip actas are the MR
     * ones only (2), the RP acta is not a district's */
    assert_int_equal(prep_tally_get(t, dip, PREP_TALLY_DISTRICT, 1)->esperadas, 2);
    /* lista nominal expected, pres nation: 30 (abroad) + 600 + 500 + 40 + 700 + 300 = 2170 */
    assert_int_equal(prep_tally_get(t, pres, PREP_TALLY_NATION, 0)->lista_nominal_expected, 2170);

    static const int32_t v_cdmx[NATIONAL_NC] = {100, 50, 300, 0, 10};   /* 460 */
    static const int32_t v_qro[NATIONAL_NC] = {90, 60, 80, 1, 4};      /* 235 */
    static const int32_t v_spec[NATIONAL_NC] = {20, 10, 30, 0, 0};     /* 60, MR */
    static const int32_t v_rp[NATIONAL_NC] = {15, 12, 25, 0, 3};       /* 55, RP */
    static const int32_t v_abroad[NATIONAL_NC] = {7, 3, 11, 0, 1};     /* 22 */
    national_capture(t, c, pres, "090100B0100", 2, v_cdmx);
    national_capture(t, c, pres, "220050B0100", 2, v_qro);
    national_capture(t, c, pres, "010000M0100", 1, v_abroad);
    const prep_tally_agg *n = prep_tally_get(t, pres, PREP_TALLY_NATION, 0);
    assert_int_equal(n->capturadas, 3);
    assert_int_equal(n->contabilizadas, 3);
    assert_int_equal(n->votes[2], 300 + 80 + 11);
    assert_int_equal(n->votos_c_cs, 460 + 235 + 22);
    const prep_tally_agg *cdmx = prep_tally_get(t, pres, PREP_TALLY_ENTITY, 1);
    assert_int_equal(cdmx->votos_c_cs, 460);
    assert_int_equal(cdmx->lista_nominal, 700);
    assert_int_equal(prep_tally_get(t, pres, PREP_TALLY_ENTITY, 0)->votos_c_cs, 22); /* abroad, AGS */
    assert_int_equal(prep_tally_get(t, pres, PREP_TALLY_DISTRICT, 0)->votos_c_cs, 22); /* district 1-0 */

    /* senadurías: the special casilla's MR acta (4) and its RP acta (5) are two actas */
    national_capture(t, c, sen, "010100S0100", 4, v_spec);
    national_capture(t, c, sen, "010100S0100", 5, v_rp);
    const prep_tally_agg *sn = prep_tally_get(t, sen, PREP_TALLY_NATION, 0);
    assert_int_equal(sn->capturadas, 2);
    assert_int_equal(sn->contabilizadas, 2);
    assert_int_equal(sn->votos_c_cs, 60 + 55);
    assert_int_equal(sn->votos_s_cs, 0); /* both are a special casilla's */
    assert_int_equal(prep_tally_get(t, sen, PREP_TALLY_ENTITY, 0)->votes[0], 20 + 15);
    /* the section and district get the MR acta only */
    uint32_t s100 = prep_catalog_find_section(c, 1, 100);
    assert_int_equal(prep_tally_get(t, sen, PREP_TALLY_SECTION, s100)->votos_c_cs, 60);
    assert_int_equal(prep_tally_get(t, sen, PREP_TALLY_DISTRICT, 1)->votos_c_cs, 60);
    uint32_t k = prep_catalog_find_casilla(c, "010100S0100");
    uint32_t rp = prep_tally_rp_slot(t, sen, k);
    assert_int_equal(rp, 7);
    const int32_t *vv;
    const prep_acta *ra = prep_tally_acta(t, sen, rp, &vv);
    assert_non_null(ra);
    assert_string_equal(ra->clave_acta, "010100S010005");
    assert_int_equal(vv[4], 3);
    assert_int_equal(prep_tally_acta(t, sen, k, &vv)->total_asentado, 60);
    /* a correction of the RP acta replaces it, not the MR one */
    static const int32_t v_rp2[NATIONAL_NC] = {16, 12, 25, 0, 3};
    national_capture(t, c, sen, "010100S0100", 5, v_rp2);
    assert_int_equal(sn->capturadas, 2);
    assert_int_equal(sn->votos_c_cs, 60 + 56);

    /* diputaciones: an acta from abroad names no acta of the election: out of catalogue */
    national_capture(t, c, dip, "010000M0100", 6, v_abroad);
    assert_int_equal(prep_tally_get(t, dip, PREP_TALLY_NATION, 0)->capturadas, 0);
    assert_int_equal(prep_tally_n_out_of_catalog(t, dip), 1);
    prep_summary s;
    prep_tally_summary(t, dip, 0, &s);
    assert_int_equal(s.esperadas, 7);
    prep_tally_summary(t, pres, 0, &s);
    assert_int_equal(s.contabilizadas, 3);
    assert_int_equal(s.votos_c_cs, 460 + 235 + 22);

    /* the database CSV of senadurías carries the RP acta after its casilla's MR acta */
    prep_buf b;
    prep_buf_init(&b, 0);
    assert_int_equal(prep_tally_db_write_csv(t, sen, c->window_open + 900, 0, &b), PREP_OK);
    const char *mr = strstr(b.data, "010100S010004"), *rpa = strstr(b.data, "010100S010005");
    assert_non_null(mr);
    assert_non_null(rpa);
    assert_true(mr < rpa);
    prep_buf_free(&b);
    prep_tally_free(t);
    prep_catalog_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
