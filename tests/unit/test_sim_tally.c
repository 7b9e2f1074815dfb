/* A simulated night fed to the tally cut by cut, as the drill does: the header-block
 * figures at each cut equal what this test counts by itself from the capture sets
 * (latest capture of each acta up to the cut instant, Anexo 13 status). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "prep/sim.h"
#include "prep/tally.h"

typedef struct expect {
    int64_t esperadas, capturadas, contabilizadas, fuera, ln, c_cs, s_cs;
} expect;

/* Counts election e of set s up to `until` on its own. */
static expect count_until(const prep_catalog *c, uint32_t e, const prep_actas *s, prep_time until)
{
    expect x;
    memset(&x, 0, sizeof x);
    x.esperadas = c->n_casillas;
    int64_t *last = malloc(c->n_casillas * sizeof *last);
    assert_non_null(last);
    for (uint32_t k = 0; k < c->n_casillas; k++) last[k] = -1;
    const char **ooc = calloc(s->n + 1, sizeof *ooc);
    assert_non_null(ooc);
    for (size_t i = 0; i < s->n; i++) {
        const prep_acta *a = &s->v[i];
        if (prep_actas_instant(a) > until) continue;
        if (a->casilla == PREP_CAT_NONE) {
            int dup = 0;
            for (int64_t j = 0; j < x.fuera; j++) dup |= strcmp(ooc[j], a->clave_acta) == 0;
            if (!dup) ooc[x.fuera++] = a->clave_acta;
            continue;
        }
        /* the set is in instant order, so a later index is a later (or equal-instant,
         * later-line) capture: it supersedes */
        last[a->casilla] = (int64_t)i;
    }
    for (uint32_t k = 0; k < c->n_casillas; k++) {
        if (last[k] < 0) continue;
        prep_acta a = s->v[last[k]];
        prep_acta_status st = prep_actas_classify(c, e, &a, prep_acta_votes(s, &s->v[last[k]]));
        x.capturadas++;
        if (!prep_acta_status_counted(st)) continue;
        x.contabilizadas++;
        x.ln += c->casillas[k].lista_nominal;
        x.c_cs += a.total_calculado;
        if (c->casillas[k].type != 'S') x.s_cs += a.total_calculado;
    }
    free(last);
    free(ooc);
    return x;
}

static void test_tally_follows_the_night(void **st)
{
    (void)st;
    prep_catalog *c = NULL;
    assert_int_equal(prep_sim_catalog(PREP_SIM_SCALE_QRO2021, 2, &c), PREP_OK);
    prep_sim_night_opts o;
    prep_sim_night_defaults(&o);
    o.seed = 99;
    prep_actas *sets[3];
    assert_int_equal(prep_sim_actas(c, &o, sets), PREP_OK);
    prep_tally *t = NULL;
    assert_int_equal(prep_tally_new(c, &t), PREP_OK);
    prep_tally_cursor cur[3];
    for (int e = 0; e < 3; e++) assert_int_equal(prep_tally_cursor_init(&cur[e], sets[e]), PREP_OK);
    static const char *const cuts[] = {"2021-06-06 20:30", "2021-06-06 22:00", "2021-06-07 00:00",
                                       "2021-06-07 04:00", "2021-06-07 12:00", "2021-06-07 20:00"};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        prep_time at;
        assert_int_equal(prep_time_parse(cuts[k], c->timezone, &at), 0);
        int final_cut = k + 1 == sizeof cuts / sizeof cuts[0];
        for (uint32_t e = 0; e < 3; e++) {
            size_t applied = 0;
            assert_int_equal(prep_tally_apply_until(t, sets[e], &cur[e], at, &applied), PREP_OK);
            prep_summary sm;
            prep_tally_summary(t, e, final_cut, &sm);
            expect x = count_until(c, e, sets[e], at);
            assert_int_equal(sm.esperadas, x.esperadas);
            assert_int_equal(sm.capturadas, x.capturadas);
            assert_int_equal(sm.contabilizadas, x.contabilizadas);
            assert_int_equal(sm.fuera_catalogo, x.fuera);
            assert_int_equal(sm.lista_nominal, x.ln);
            assert_int_equal(sm.votos_c_cs, x.c_cs);
            assert_int_equal(sm.votos_s_cs, x.s_cs);
            if (k == 0) assert_true(x.capturadas < x.esperadas / 10); /* 20:30: first ones only */
            if (k == 2) /* midnight: about half */
                assert_true(x.capturadas * 10 > x.esperadas * 4 && x.capturadas * 10 < x.esperadas * 6);
            if (final_cut) /* the close: all but never_arrive (1%) */
                assert_true(x.capturadas * 100 > x.esperadas * 97);
        }
    }
    for (int e = 0; e < 3; e++) {
        prep_tally_cursor_free(&cur[e]);
        prep_actas_free(sets[e]);
    }
    prep_tally_free(t);
    prep_catalog_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tally_follows_the_night),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
