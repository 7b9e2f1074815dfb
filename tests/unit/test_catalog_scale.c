/* The catalogue reader at national scale: 300 districts, 2,400 municipalities, 9,999
 * sections, ~170,000 casillas, written in scrambled order. Checks the derived structure
 * on every casilla and bounds the time generously (a quadratic step would take minutes;
 * the linear reader takes ~0.1 s at -O2, a few tenths under ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prep/catalog.h"

#define N_DIST 300u
#define N_MUN 2400u
#define N_SEC 9999u

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Casillas of section s: B1, C1..C(s % 33), S1 when s % 7 == 0, E1 and E1C1 when
 * s % 11 == 0. Total = sum over s of 1 + s%33 + [7|s] + 2*[11|s], about 17 * 9,999. */
static uint32_t casillas_of(uint32_t s) { return 1 + s % 33 + (s % 7 == 0) + 2 * (s % 11 == 0); }

static void test_national(void **st)
{
    (void)st;
    static const char *const P[] = {"PAN", "PRI", "PRD", "PVEM", "PT", "MC", "MORENA", "PES", "RSP", "FXM"};
    prep_buf b;
    prep_buf_init(&b, 0);
    prep_buf_puts(&b, "prep-catalog 1\n[process]\nid = nat\nname = Nacional\ninstitute = INE\nentity_id = 9\n"
                      "entity = NACIONAL\ntimezone = America/Mexico_City\nwindow_open = 2021-06-06 20:00\n"
                      "window_close = 2021-06-07 20:00\ncombo_prefix = \"\"\nindependents_first = yes\n"
                      "[parties]\nid|name|color\n");
    for (size_t i = 0; i < PREP_ARRAY_LEN(P); i++) prep_buf_printf(&b, "%s|Partido %s|#123456\n", P[i], P[i]);
    prep_buf_puts(&b, "[districts]\nid|name\n");
    for (uint32_t d = 1; d <= N_DIST; d++) prep_buf_printf(&b, "%u|DISTRITO %03u\n", d, d);
    prep_buf_puts(&b, "[municipalities]\nid|name\n");
    for (uint32_t m = 1; m <= N_MUN; m++) prep_buf_printf(&b, "%u|Municipio %u\n", m, m);
    /* sections and casillas in a scrambled order: s = (k * 7919) mod 9999 + 1 visits every
     * id once (7919 is prime, coprime with 9999 = 3^2 * 11 * 101) */
    prep_buf_puts(&b, "[sections]\nid|district|municipality\n");
    for (uint32_t k = 0; k < N_SEC; k++) {
        uint32_t s = (uint32_t)(((uint64_t)k * 7919u) % N_SEC) + 1;
        prep_buf_printf(&b, "%u|%u|%u\n", s, s % N_DIST + 1, s % N_MUN + 1);
    }
    prep_buf_puts(&b, "[casillas]\nsection|type|number|ext|urban|lista_nominal|representatives|ballots\n");
    uint32_t expected = 0;
    for (uint32_t k = 0; k < N_SEC; k++) {
        uint32_t s = (uint32_t)(((uint64_t)k * 7919u) % N_SEC) + 1;
        expected += casillas_of(s);
        if (s % 11 == 0) prep_buf_printf(&b, "%u|E|1|1|2|300|10|0\n%u|E|1|0|2|300|10|0\n", s, s);
        if (s % 7 == 0) prep_buf_printf(&b, "%u|S|1|0|1|0|10|750\n", s);
        for (uint32_t c = s % 33; c >= 1; c--) prep_buf_printf(&b, "%u|C|%u|0|1|700|10|0\n", s, c);
        prep_buf_printf(&b, "%u|B|1|0|1|700|10|0\n", s);
    }
    prep_buf_puts(&b, "[elections]\nid|name|title|scope|acta_type|parties\n"
                      "dip|DIPUTACIONES|Diputaciones|district|2|PAN PRI PRD PVEM PT MC MORENA PES RSP FXM\n"
                      "ayu|AYUNTAMIENTOS|Ayuntamientos|municipality|3|PAN PRI PRD PVEM PT MC MORENA PES RSP FXM\n"
                      "[coalitions]\nelection|id|name|parties\ndip|VXM|Va por México|PAN PRI PRD\n"
                      "dip|JHH|Juntos Hacemos Historia|PVEM PT MORENA\n[candidacies]\nelection|unit|contender|name\n");
    for (uint32_t d = 1; d <= N_DIST; d++) {
        if (d % 2) prep_buf_printf(&b, "dip|%u|VXM|A\ndip|%u|JHH|B\n", d, d);
        else
            for (int i = 0; i < 7; i++)
                if (i != 5) prep_buf_printf(&b, "dip|%u|%s|X\n", d, P[i]); /* all but MC: it runs below */
        prep_buf_printf(&b, "dip|%u|MC|X\ndip|%u|PES|X\ndip|%u|CAND_IND_1|I\n", d, d, d);
    }
    for (uint32_t m = 1; m <= N_MUN; m++)
        for (size_t i = 0; i < PREP_ARRAY_LEN(P); i++) prep_buf_printf(&b, "ayu|%u|%s|X\n", m, P[i]);

    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    double t0 = now();
    prep_err r = prep_catalog_parse("national.cat", b.data, b.len, &c, &d);
    double t = now() - t0;
    if (r) prep_diags_print(&d, stderr, 10);
    assert_int_equal(r, PREP_OK);
    print_message("national catalogue: %zu bytes, %u casillas parsed in %.3f s\n", b.len, c->n_casillas, t);
    assert_true(t < 10.0);
    assert_true(expected > 160000);
    assert_int_equal(c->n_casillas, expected);
    assert_int_equal(c->n_sections, N_SEC);

    /* every section sorted, contiguous, with its casillas in B, C1.., E1, E1C1, S order */
    uint32_t next = 0;
    for (uint32_t s = 0; s < N_SEC; s++) {
        const prep_cat_section *sec = &c->sections[s];
        assert_int_equal(sec->id, s + 1);
        assert_int_equal(sec->first_casilla, next);
        assert_int_equal(sec->n_casillas, casillas_of(s + 1));
        assert_int_equal(c->districts[sec->district].id, (s + 1) % N_DIST + 1);
        const prep_cat_casilla *k = &c->casillas[sec->first_casilla];
        assert_int_equal(k[0].type, 'B');
        for (uint32_t j = 1; j <= (s + 1) % 33; j++) {
            assert_int_equal(k[j].type, 'C');
            assert_int_equal(k[j].number, j);
        }
        next += sec->n_casillas;
    }
    t0 = now();
    for (uint32_t i = 0; i < c->n_casillas; i++) {
        uint32_t sid = c->sections[c->casillas[i].section].id;
        assert_int_equal(prep_catalog_find_section(c, c->entity_id, sid), c->casillas[i].section);
        if (prep_catalog_find_casilla(c, c->casillas[i].key) != i) fail_msg("lookup of %s", c->casillas[i].key);
    }
    print_message("%u casilla lookups in %.3f s\n", c->n_casillas, now() - t0);
    /* section 77 = 7 * 11: B, C1..C11 (77 % 33 = 11), E1, E1C1, S1: E1C1 is the 14th */
    uint32_t k77 = prep_catalog_find_casilla(c, "090077E0101");
    assert_int_equal(k77, c->sections[76].first_casilla + 13);
    assert_int_equal(prep_catalog_find_casilla(c, "090077S0100"), k77 + 1);

    /* INE options: no prefix, independents first: PAN..FXM (10), CAND_IND_1, then the
     * combinations of VXM (4) and JHH (4), NO_REGISTRADOS, NULOS = 21 columns */
    uint32_t e = prep_catalog_find_election(c, "dip");
    assert_int_equal(c->elections[e].n_cols, 21);
    assert_int_equal(prep_catalog_find_column(c, e, "CAND_IND_1"), 10);
    assert_int_equal(prep_catalog_find_column(c, e, "PAN_PRI_PRD"), 11);
    assert_int_equal(prep_catalog_find_column(c, e, "PVEM_PT_MORENA"), 15);
    assert_int_equal(prep_catalog_find_column(c, e, "PT_MORENA"), 18);

    /* the written text reads back to the same bytes */
    prep_buf w1, w2;
    prep_buf_init(&w1, 0);
    prep_buf_init(&w2, 0);
    assert_int_equal(prep_catalog_write(c, &w1), PREP_OK);
    prep_catalog *c2 = NULL;
    assert_int_equal(prep_catalog_parse("w1", w1.data, w1.len, &c2, &d), PREP_OK);
    assert_int_equal(prep_catalog_write(c2, &w2), PREP_OK);
    assert_int_equal(w1.len, w2.len);
    assert_memory_equal(w1.data, w2.data, w1.len);
    assert_memory_equal(c->casillas, c2->casillas, c->n_casillas * sizeof *c->casillas);
    prep_catalog_free(c2);
    prep_buf_free(&w1);
    prep_buf_free(&w2);
    prep_catalog_free(c);
    prep_diags_free(&d);
    prep_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_national)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
