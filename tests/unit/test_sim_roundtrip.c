/* The simulated night through the official layout: every simulated capture, written by
 * the actas writer and read back by the actas reader, comes back with the same
 * identification, status, times, image hash and votes. This is what `prep sim actas`
 * followed by `prep cut --actas` relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "prep/sim.h"

static void roundtrip(prep_sim_scale scale, uint64_t cat_seed, uint64_t night_seed)
{
    prep_catalog *c = NULL;
    assert_int_equal(prep_sim_catalog(scale, cat_seed, &c), PREP_OK);
    prep_sim_night_opts o;
    prep_sim_night_defaults(&o);
    o.seed = night_seed;
    /* More of the rare kinds than the defaults, so each shows up even at small scale. */
    o.exceeds_ln = 0.02;
    o.all_illegible = 0.03;
    o.out_of_catalog = 0.01;
    o.corrections = 0.05;
    prep_actas *sets[8];
    assert_true(c->n_elections <= 8);
    assert_int_equal(prep_sim_actas(c, &o, sets), PREP_OK);
    for (uint32_t e = 0; e < c->n_elections; e++) {
        const prep_actas *s = sets[e];
        uint32_t nc = c->elections[e].n_cols;
        prep_buf b;
        prep_buf_init(&b, 0);
        assert_int_equal(prep_actas_write_columns(c, e, &b), PREP_OK);
        for (size_t i = 0; i < s->n; i++)
            assert_int_equal(prep_actas_write_row(c, e, &s->v[i], prep_acta_votes(s, &s->v[i]), &b), PREP_OK);
        prep_diags d;
        prep_diags_init(&d);
        prep_actas *r = NULL;
        prep_err err = prep_actas_parse("sim-night.csv", b.data, b.len, c, e, &r, &d);
        if (d.n) prep_diags_print(&d, stderr, 5);
        assert_int_equal(err, PREP_OK);
        assert_int_equal(d.n, 0);
        assert_non_null(r);
        assert_int_equal(r->n, s->n);
        uint32_t kinds[6] = {0};
        for (size_t i = 0; i < s->n; i++) {
            const prep_acta *x = &s->v[i];
            prep_acta *y = &r->v[i];
            const int32_t *vx = prep_acta_votes(s, x), *vy = prep_acta_votes(r, y);
            assert_string_equal(y->clave_acta, x->clave_acta);
            assert_string_equal(y->clave_casilla, x->clave_casilla);
            assert_int_equal(y->casilla, x->casilla);
            assert_int_equal(prep_actas_classify(c, e, y, vy), x->status);
            assert_int_equal(y->no_acta, x->no_acta);
            assert_int_equal(y->acopio, x->acopio);
            assert_int_equal(y->captura, x->captura);
            assert_int_equal(y->verificacion, x->verificacion);
            assert_string_equal(y->sha, x->sha);
            assert_string_equal(y->origen, x->origen);
            assert_string_equal(y->digitalizacion, x->digitalizacion);
            assert_string_equal(y->mecanismo, x->mecanismo);
            assert_int_equal(y->total_calculado, x->total_calculado);
            kinds[x->status]++;
            /* "sin acta" fields are written "0" (Quintana Roo 2019) and read back as
             * not captured */
            for (uint32_t j = 0; j < nc; j++) assert_int_equal(vy[j], vx[j]);
        }
        if (scale == PREP_SIM_SCALE_QRO2021)
            for (int k = 0; k < 6; k++) assert_true(kinds[k] > 0); /* every status went through */
        prep_actas_free(r);
        prep_diags_free(&d);
        prep_buf_free(&b);
        prep_actas_free(sets[e]);
    }
    prep_catalog_free(c);
}

static void test_roundtrip_tiny(void **st)
{
    (void)st;
    for (uint64_t seed = 1; seed <= 5; seed++) roundtrip(PREP_SIM_SCALE_TINY, seed, seed * 13);
}

static void test_roundtrip_qro2021(void **st)
{
    (void)st;
    roundtrip(PREP_SIM_SCALE_QRO2021, 3, 1234);
}

/* The catalogue text survives the catalogue's own writer: parse(text) written back and
 * parsed again gives the same text. */
static void test_catalog_text_rewrite(void **st)
{
    (void)st;
    for (int s = 0; s < 3; s++) {
        prep_catalog *c = NULL;
        assert_int_equal(prep_sim_catalog((prep_sim_scale)s, 21, &c), PREP_OK);
        prep_buf w1, w2;
        prep_buf_init(&w1, 0);
        prep_buf_init(&w2, 0);
        assert_int_equal(prep_catalog_write(c, &w1), PREP_OK);
        prep_diags d;
        prep_diags_init(&d);
        prep_catalog *c2 = NULL;
        assert_int_equal(prep_catalog_parse("rewritten", w1.data, w1.len, &c2, &d), PREP_OK);
        assert_int_equal(c2->n_casillas, c->n_casillas);
        assert_int_equal(c2->n_candidacies, c->n_candidacies);
        assert_int_equal(prep_catalog_write(c2, &w2), PREP_OK);
        assert_int_equal(w1.len, w2.len);
        assert_memory_equal(w1.data, w2.data, w1.len);
        prep_catalog_free(c2);
        prep_catalog_free(c);
        prep_diags_free(&d);
        prep_buf_free(&w1);
        prep_buf_free(&w2);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_tiny),
        cmocka_unit_test(test_roundtrip_qro2021),
        cmocka_unit_test(test_catalog_text_rewrite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
