/* Unit tests of the Anexo 13 counting rules (prep_actas_classify) with hand-made vote
 * vectors against the small catalogue tests/data/actas/mini.cat:
 *   election dip, columns PAN PRI PRD MORENA PT C_MORENA_PT CAND_IND_1 NO_REGISTRADOS NULOS
 *   district 1: coalition JH (MORENA PT), no independent -> CAND_IND_1 does not apply
 *   district 2: MORENA and PT alone, CAND_IND_1 -> C_MORENA_PT does not apply
 *   220100B0100: LN 500, representatives 10 -> cap 510
 *   220100S0100: special, LN 0, ballots 750, representatives 10 -> cap 760
 * Every expected total is added up by hand in the comment beside it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "prep/actas.h"

#define I PREP_ACTA_V_ILEGIBLE
#define SD PREP_ACTA_V_SIN_DATO
#define NA PREP_ACTA_V_NA

enum { PAN, PRI, PRD, MORENA, PT, C_MORENA_PT, IND1, NOREG, NULOS, NCOLS };

static prep_catalog *cat;

static int setup(void **st)
{
    (void)st;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_catalog_load(PREP_TEST_DATA "/actas/mini.cat", &cat, &d);
    if (e != PREP_OK) prep_diags_print(&d, stderr, 20);
    prep_diags_free(&d);
    return e == PREP_OK && cat->elections[0].n_cols == NCOLS ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    prep_catalog_free(cat);
    return 0;
}

static prep_acta acta_at(const char *key)
{
    prep_acta a;
    memset(&a, 0, sizeof a);
    a.casilla = prep_catalog_find_casilla(cat, key);
    assert_int_not_equal(a.casilla, PREP_CAT_NONE);
    snprintf(a.clave_casilla, sizeof a.clave_casilla, "%s", key);
    a.acopio = a.captura = a.verificacion = PREP_TIME_NONE;
    a.cotejada = -1;
    return a;
}

static void test_all_legible_counted(void **st)
{
    (void)st;
    prep_acta a = acta_at("220100B0100");
    int32_t v[NCOLS] = {100, 80, 20, 150, 30, 5, NA, 0, 15};
    /* 100 + 80 + 20 + 150 + 30 + 5 + 0 + 15 = 400 <= 500 + 10 */
    assert_int_equal(prep_actas_classify(cat, 0, &a, v), PREP_ACTA_COUNTED);
    assert_int_equal(a.status, PREP_ACTA_COUNTED);
    assert_int_equal(a.total_calculado, 400);
    assert_false(prep_actas_status_inconsistent(&cat->rules, PREP_ACTA_COUNTED));
    assert_true(prep_acta_status_counted(PREP_ACTA_COUNTED));
    assert_string_equal(prep_actas_observaciones(cat, &a), "");
}

static void test_some_illegible_counted(void **st)
{
    (void)st;
    prep_acta a = acta_at("220100B0100");
    int32_t v[NCOLS] = {100, I, 20, 150, 30, 5, NA, SD, 15};
    /* PRI ILEGIBLE and NO_REGISTRADOS SIN DATO count 0: 100 + 20 + 150 + 30 + 5 + 15 = 320 */
    assert_int_equal(prep_actas_classify(cat, 0, &a, v), PREP_ACTA_COUNTED_SOME_ILLEGIBLE);
    assert_int_equal(a.total_calculado, 320);
    assert_true(prep_acta_status_counted(PREP_ACTA_COUNTED_SOME_ILLEGIBLE));
    assert_true(prep_actas_status_inconsistent(&cat->rules, PREP_ACTA_COUNTED_SOME_ILLEGIBLE));
    assert_string_equal(prep_actas_observaciones(cat, &a), "ALGUN DATO ILEGIBLE O SIN DATO");
}

static void test_one_legible_field_is_enough(void **st)
{
    (void)st;
    prep_acta a = acta_at("220100B0100");
    /* only NULOS legible: "siempre y cuando exista al menos una cantidad legible" -> counted, total 3 */
    int32_t v[NCOLS] = {SD, SD, I, SD, SD, SD, NA, SD, 3};
    assert_int_equal(prep_actas_classify(cat, 0, &a, v), PREP_ACTA_COUNTED_SOME_ILLEGIBLE);
    assert_int_equal(a.total_calculado, 3);
}

static void test_zeros_are_legible(void **st)
{
    (void)st;
    prep_acta a = acta_at("220100B0100");
    int32_t v[NCOLS] = {0, 0, 0, 0, 0, 0, NA, 0, 0};
    /* 0 is a legible quantity: counted, total 0 */
    assert_int_equal(prep_actas_classify(cat, 0, &a, v), PREP_ACTA_COUNTED);
    assert_int_equal(a.total_calculado, 0);
}

static void test_all_illegible_or_blank(void **st)
{
    (void)st;
    prep_acta a = acta_at("220100C0100");
    int32_t ilg[NCOLS] = {I, I, I, I, I, I, NA, I, I};
    assert_int_equal(prep_actas_classify(cat, 0, &a, ilg), PREP_ACTA_NC_ALL_ILLEGIBLE);
    assert_int_equal(a.total_calculado, 0);
    int32_t blank[NCOLS] = {SD, SD, SD, SD, SD, SD, NA, SD, SD};
    assert_int_equal(prep_actas_classify(cat, 0, &a, blank), PREP_ACTA_NC_ALL_ILLEGIBLE);
    int32_t mixed[NCOLS] = {SD, I, SD, I, SD, SD, NA, I, SD};
    assert_int_equal(prep_actas_classify(cat, 0, &a, mixed), PREP_ACTA_NC_ALL_ILLEGIBLE);
    assert_false(prep_acta_status_counted(PREP_ACTA_NC_ALL_ILLEGIBLE));
    assert_true(prep_actas_status_inconsistent(&cat->rules, PREP_ACTA_NC_ALL_ILLEGIBLE));
    assert_string_equal(prep_actas_observaciones(cat, &a), "TODOS ILEGIBLES O SIN DATO");
}

static void test_exceeds_lista_nominal(void **st)
{
    (void)st;
    prep_acta a = acta_at("220100B0100");
    /* exactly at the cap: 500 + 10 = 510 -> counted */
    int32_t at[NCOLS] = {500, 0, 0, 0, 0, 0, NA, 0, 10};
    assert_int_equal(prep_actas_classify(cat, 0, &a, at), PREP_ACTA_COUNTED);
    assert_int_equal(a.total_calculado, 510);
    /* one more: 501 + 10 = 511 > 510 -> not counted */
    int32_t over[NCOLS] = {501, 0, 0, 0, 0, 0, NA, 0, 10};
    assert_int_equal(prep_actas_classify(cat, 0, &a, over), PREP_ACTA_NC_EXCEEDS_LN);
    assert_int_equal(a.total_calculado, 511);
    assert_false(prep_acta_status_counted(PREP_ACTA_NC_EXCEEDS_LN));
    assert_true(prep_actas_status_inconsistent(&cat->rules, PREP_ACTA_NC_EXCEEDS_LN));
    assert_string_equal(prep_actas_observaciones(cat, &a), "EXCEDE LISTA NOMINAL");
    /* exceeding wins over an illegible field: 400 + 111 = 511 > 510 */
    int32_t both[NCOLS] = {400, I, 0, 111, 0, 0, NA, SD, 0};
    assert_int_equal(prep_actas_classify(cat, 0, &a, both), PREP_ACTA_NC_EXCEEDS_LN);
    /* the representatives are part of the cap: 505 > LN 500 but <= 510 -> counted */
    int32_t reps[NCOLS] = {505, 0, 0, 0, 0, 0, NA, 0, 0};
    assert_int_equal(prep_actas_classify(cat, 0, &a, reps), PREP_ACTA_COUNTED);
}

static void test_special_casilla_cap(void **st)
{
    (void)st;
    prep_acta a = acta_at("220100S0100");
    /* LN 0 is not the cap of a special casilla: ballots 750 + representatives 10 = 760 */
    int32_t ok[NCOLS] = {600, 100, 0, 50, 0, 0, NA, 0, 10}; /* 600+100+50+10 = 760 */
    assert_int_equal(prep_actas_classify(cat, 0, &a, ok), PREP_ACTA_COUNTED);
    assert_int_equal(a.total_calculado, 760);
    int32_t over[NCOLS] = {600, 100, 0, 50, 0, 0, NA, 1, 10}; /* 761 > 760 */
    assert_int_equal(prep_actas_classify(cat, 0, &a, over), PREP_ACTA_NC_EXCEEDS_LN);
}

static void test_columns_not_on_the_ballot_are_ignored(void **st)
{
    (void)st;
    /* district 1 has no independent: a stray 999 in CAND_IND_1 is not summed */
    prep_acta a = acta_at("220100B0100");
    int32_t v[NCOLS] = {10, 10, 10, 10, 10, 10, 999, 0, 0}; /* 6 x 10 = 60 */
    assert_int_equal(prep_actas_classify(cat, 0, &a, v), PREP_ACTA_COUNTED);
    assert_int_equal(a.total_calculado, 60);
    /* district 2 has no coalition: C_MORENA_PT "-" is right, CAND_IND_1 counts */
    prep_acta b = acta_at("220200E0101");
    int32_t w[NCOLS] = {10, 20, 30, 40, 50, NA, 7, 1, 2}; /* 10+20+30+40+50+7+1+2 = 160 <= 150 + 12 = 162 */
    assert_int_equal(prep_actas_classify(cat, 0, &b, w), PREP_ACTA_COUNTED);
    assert_int_equal(b.total_calculado, 160);
    /* a "-" where the column is on the ballot is a blank field */
    int32_t x[NCOLS] = {10, 20, 30, 40, 50, NA, NA, 1, 2}; /* 10+20+30+40+50+1+2 = 153 */
    assert_int_equal(prep_actas_classify(cat, 0, &b, x), PREP_ACTA_COUNTED_SOME_ILLEGIBLE);
    assert_int_equal(b.total_calculado, 153);
}

static void test_no_acta(void **st)
{
    (void)st;
    static const struct {
        prep_acta_no_acta why;
        const char *obs;
    } cases[] = {
        {PREP_ACTA_NO_ACTA_NOT_DELIVERED, "SIN ACTA POR PAQUETE NO ENTREGADO"},
        {PREP_ACTA_NO_ACTA_NOT_INSTALLED, "SIN ACTA POR CASILLA NO INSTALADA"},
        {PREP_ACTA_NO_ACTA_NO_ENVELOPE, "SIN ACTA POR PAQUETE ENTREGADO SIN SOBRE"},
        {PREP_ACTA_NO_ACTA_OTHER, "SIN ACTA"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        prep_acta a = acta_at("220200B0100");
        a.no_acta = (uint8_t)cases[i].why;
        /* whatever the vote fields hold, there is no acta: not counted, nothing summed */
        int32_t v[NCOLS] = {PREP_ACTA_V_NONE, PREP_ACTA_V_NONE, 5, 5, 5, NA, 5, 5, 5};
        assert_int_equal(prep_actas_classify(cat, 0, &a, v), PREP_ACTA_NC_NO_ACTA);
        assert_int_equal(a.total_calculado, 0);
        assert_string_equal(prep_actas_observaciones(cat, &a), cases[i].obs);
    }
    assert_false(prep_acta_status_counted(PREP_ACTA_NC_NO_ACTA));
    assert_false(prep_actas_status_inconsistent(&cat->rules, PREP_ACTA_NC_NO_ACTA));
}

static void test_out_of_catalog(void **st)
{
    (void)st;
    prep_acta a;
    memset(&a, 0, sizeof a);
    a.casilla = PREP_CAT_NONE;
    snprintf(a.clave_casilla, sizeof a.clave_casilla, "220999B0100");
    /* no unit: every legible value adds up, "-" is skipped: 1 + 2 + 3 = 6 */
    int32_t v[NCOLS] = {1, 2, NA, 3, I, NA, NA, SD, 0};
    assert_int_equal(prep_actas_classify(cat, 0, &a, v), PREP_ACTA_NC_OUT_OF_CATALOG);
    assert_int_equal(a.total_calculado, 6);
    assert_false(prep_acta_status_counted(PREP_ACTA_NC_OUT_OF_CATALOG));
    assert_false(prep_actas_status_inconsistent(&cat->rules, PREP_ACTA_NC_OUT_OF_CATALOG));
    assert_string_equal(prep_actas_observaciones(cat, &a), "FUERA DE CATALOGO");
    /* out of catalogue wins over "sin acta" */
    a.no_acta = PREP_ACTA_NO_ACTA_NOT_DELIVERED;
    assert_int_equal(prep_actas_classify(cat, 0, &a, v), PREP_ACTA_NC_OUT_OF_CATALOG);
}

static void test_status_tags(void **st)
{
    (void)st;
    assert_string_equal(prep_actas_status_tag(PREP_ACTA_COUNTED), "counted");
    assert_string_equal(prep_actas_status_tag(PREP_ACTA_COUNTED_SOME_ILLEGIBLE), "counted-some-illegible");
    assert_string_equal(prep_actas_status_tag(PREP_ACTA_NC_EXCEEDS_LN), "exceeds-lista-nominal");
    assert_string_equal(prep_actas_status_tag(PREP_ACTA_NC_ALL_ILLEGIBLE), "all-illegible");
    assert_string_equal(prep_actas_status_tag(PREP_ACTA_NC_NO_ACTA), "no-acta");
    assert_string_equal(prep_actas_status_tag(PREP_ACTA_NC_OUT_OF_CATALOG), "out-of-catalog");
}

static void test_later_capture_supersedes(void **st)
{
    (void)st;
    prep_acta a = acta_at("220100B0100"), b = a;
    a.line = 10;
    b.line = 5;
    a.captura = 1000;
    b.captura = 900;
    b.verificacion = 1100; /* b verified later: verificación is its instant */
    assert_int_equal(prep_actas_instant(&b), 1100);
    assert_int_equal(prep_actas_instant(&a), 1000);
    assert_true(prep_actas_supersedes(&b, &a));
    assert_false(prep_actas_supersedes(&a, &b));
    b.verificacion = PREP_TIME_NONE;
    b.captura = 1000; /* same instant: the later line wins */
    assert_true(prep_actas_supersedes(&a, &b));
    assert_false(prep_actas_supersedes(&b, &a));
    prep_acta c = acta_at("220100B0100");
    c.acopio = 77;
    assert_int_equal(prep_actas_instant(&c), 77);
}

static void test_summary_values(void **st)
{
    (void)st;
    /* The QROO 2019 final cut's own figures (the file's header block) */
    prep_summary s = {.esperadas = 2136, .registradas = 2136, .fuera_catalogo = 0, .capturadas = 2136,
                      .contabilizadas = 2031, .no_contabilizadas = 105, .inconsistentes = 492,
                      .lista_nominal = 1187254, .votos_c_cs = 263005, .votos_s_cs = 262598, .final_cut = 1};
    char v[13][32];
    prep_actas_summary_values(cat, &s, v);
    assert_string_equal(v[0], "2136");
    assert_string_equal(v[1], "2136");
    assert_string_equal(v[2], "0");
    assert_string_equal(v[3], "2136");
    assert_string_equal(v[4], "100.0000"); /* 2136 / 2136 */
    assert_string_equal(v[5], "2031");
    assert_string_equal(v[6], "95.0842");  /* 2031e6 / 2136 = 950842 r 1488 */
    assert_string_equal(v[7], "23.0337");  /* 492e6 / 2136 = 230337 r 168 */
    assert_string_equal(v[8], "105");
    assert_string_equal(v[9], "1187254");
    assert_string_equal(v[10], "263005");
    assert_string_equal(v[11], "262598");
    /* final-only, final cut: with specials, 263005e6 / 1187254 = 221523 r 932158 */
    assert_string_equal(v[12], "22.1523");
    /* final-only during the night: without specials, 262598e6 / 1187254 = 221180 r 1160280 */
    s.final_cut = 0;
    prep_actas_summary_values(cat, &s, v);
    assert_string_equal(v[12], "22.1180");
    /* exclude: never the specials; include: always */
    prep_cat_specials_mode keep = cat->rules.specials;
    cat->rules.specials = PREP_CAT_SPECIALS_EXCLUDE;
    s.final_cut = 1;
    prep_actas_summary_values(cat, &s, v);
    assert_string_equal(v[12], "22.1180");
    cat->rules.specials = PREP_CAT_SPECIALS_INCLUDE;
    s.final_cut = 0;
    prep_actas_summary_values(cat, &s, v);
    assert_string_equal(v[12], "22.1523");
    cat->rules.specials = keep;
    for (int i = 0; i < 13; i++) assert_non_null(prep_actas_summary_names[i]);
    assert_string_equal(prep_actas_summary_names[2], "ACTAS_FUERA_CATALOGO");
    assert_string_equal(prep_actas_summary_names[12], "PORCENTAJE_PARTICIPACION_CIUDADANA");
}

static void test_vote_text(void **st)
{
    (void)st;
    char t[16];
    prep_actas_vote_text(0, t);
    assert_string_equal(t, "0");
    prep_actas_vote_text(123456, t);
    assert_string_equal(t, "123456");
    prep_actas_vote_text(PREP_ACTA_V_ILEGIBLE, t);
    assert_string_equal(t, "ILEGIBLE");
    prep_actas_vote_text(PREP_ACTA_V_SIN_DATO, t);
    assert_string_equal(t, "SIN DATO");
    prep_actas_vote_text(PREP_ACTA_V_NA, t);
    assert_string_equal(t, "-");
    prep_actas_vote_text(PREP_ACTA_V_NONE, t);
    assert_string_equal(t, "0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_legible_counted),
        cmocka_unit_test(test_some_illegible_counted),
        cmocka_unit_test(test_one_legible_field_is_enough),
        cmocka_unit_test(test_zeros_are_legible),
        cmocka_unit_test(test_all_illegible_or_blank),
        cmocka_unit_test(test_exceeds_lista_nominal),
        cmocka_unit_test(test_special_casilla_cap),
        cmocka_unit_test(test_columns_not_on_the_ballot_are_ignored),
        cmocka_unit_test(test_no_acta),
        cmocka_unit_test(test_out_of_catalog),
        cmocka_unit_test(test_status_tags),
        cmocka_unit_test(test_later_capture_supersedes),
        cmocka_unit_test(test_summary_values),
        cmocka_unit_test(test_vote_text),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
