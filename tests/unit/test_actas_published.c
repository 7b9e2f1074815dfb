/* Unit tests of what real published files spell otherwise and how prep reads them
 * (docs/formats/actas.md, "Published files"; docs/formats/catalog.md, combo_name and
 * independents): a combination column written in another order and with another word
 * for a party (Queretaro 2018: MORENA_PT_PES for party M), an independent column named by
 * its candidate (Sonora 2021: CAND_IND_JHZM), and, under the rule `published = yes` that a
 * derived catalogue sets, the statuses a published file's values lost and its
 * OBSERVACIONES / CONTABILIZADA still state. Each expected status and sum is worked out
 * by hand from the inline rows below and Anexo 13's rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prep/actas.h"
#include "prep/tally.h"

/* District 1: PAN alone, PT and M in coalition PT_M (combination column C_PT_MORENA, PT
 * before M on the ballot), one independent named CAND_IND_JHZM. Casillas: 220100B0100
 * (lista nominal 500, 4 representatives), the special casilla 220100S0100, whose RP acta
 * is a TIPO_ACTA 2 marked RP (rp_acta_type 2RP: Sonora 2021's 3ERP beside 3EMR), and the
 * votes from abroad 220000M0000 (section 0, lista nominal not given). */
static const char CAT[] = "prep-catalog 1\n"
                          "[process]\n"
                          "id = t\n"
                          "name = Prueba\n"
                          "institute = IEEQ\n"
                          "entity_id = 22\n"
                          "entity = QUERETARO\n"
                          "timezone = America/Mexico_City\n"
                          "window_open = 2018-07-01 08:00\n"
                          "window_close = 2018-07-02 20:00\n"
                          "combo_prefix = C_\n"
                          "[rules]\n"
                          "profile = ieeq-2018\n"
                          "PUBLISHED\n"
                          "[parties]\n"
                          "id|name|color|combo_name\n"
                          "PAN|PAN|#0055A5|\n"
                          "PT|PT|#D52B1E|\n"
                          "M|Morena|#B5261E|MORENA\n"
                          "[districts]\n"
                          "id|name\n"
                          "1|DISTRITO 01\n"
                          "[municipalities]\n"
                          "id|name\n"
                          "14|Queretaro\n"
                          "[sections]\n"
                          "id|district|municipality\n"
                          "0|1|14\n"
                          "100|1|14\n"
                          "[casillas]\n"
                          "section|type|number|ext|urban|lista_nominal|representatives|ballots\n"
                          "100|B|1|0|1|500|4|0\n"
                          "100|S|1|0|1|0|4|750\n"
                          "0|M|0|0|1|0|0|0\n"
                          "[elections]\n"
                          "id|name|title|scope|acta_type|parties|independents|special_acta_type|"
                          "abroad_acta_type|rp_acta_type\n"
                          "dip|DIPUTACIONES|Diputaciones|district|2|PAN PT M|CAND_IND_JHZM|2|2|2RP\n"
                          "[coalitions]\n"
                          "election|id|name|parties\n"
                          "dip|PT_M|Juntos|PT M\n"
                          "[candidacies]\n"
                          "election|unit|contender|name\n"
                          "dip|1|PAN|Ana\n"
                          "dip|1|PT_M|Beto\n"
                          "dip|1|CAND_IND_JHZM|Juan\n";

static prep_catalog *catalog(int published)
{
    char text[sizeof CAT + 32];
    const char *at = strstr(CAT, "PUBLISHED\n");
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - CAT), CAT, published ? "published = yes\n" : "",
             at + strlen("PUBLISHED\n"));
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    prep_err e = prep_catalog_parse("t.cat", text, strlen(text), &c, &d);
    if (e) prep_diags_print(&d, stderr, 20);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(c->rules.published, published);
    prep_diags_free(&d);
    return c;
}

/* The file's vote columns in an order of its own: the combination before the parties,
 * spelled MORENA_PT. */
#define HEAD                                                                                                 \
    "CLAVE_CASILLA|TIPO_ACTA|MORENA_PT|PAN|PT|M|CAND_IND_JHZM|NO_REGISTRADOS|NULOS|LISTA_NOMINAL|OBSERVACIONES|" \
    "CONTABILIZADA|FECHA_HORA_CAPTURA\n"

static prep_actas *read_rows(const prep_catalog *c, const char *rows, prep_diags *d)
{
    char text[4096];
    snprintf(text, sizeof text, "%s%s", HEAD, rows);
    prep_diags_init(d);
    prep_actas *s = NULL;
    assert_int_equal(prep_actas_parse("t.csv", text, strlen(text), c, 0, &s, d), PREP_OK);
    return s;
}

/* Status of the one acta read from row, and its votes by column name. */
static prep_acta_status one(const prep_catalog *c, const char *row, int32_t *pan, int32_t *combo)
{
    prep_diags d;
    prep_actas *s = read_rows(c, row, &d);
    if (d.total) prep_diags_print(&d, stderr, 10);
    assert_int_equal(d.total, 0);
    assert_int_equal(s->n, 1);
    const prep_cat_election *el = &c->elections[0];
    const int32_t *v = prep_acta_votes(s, &s->v[0]);
    for (uint32_t j = 0; j < el->n_cols; j++) {
        if (pan && !strcmp(el->cols[j].name, "PAN")) *pan = v[j];
        if (combo && el->cols[j].kind == PREP_CAT_COL_COMBO) *combo = v[j];
    }
    prep_acta_status st = (prep_acta_status)s->v[0].status;
    prep_actas_free(s);
    prep_diags_free(&d);
    return st;
}

/* One row with its combination column named `combo`: 7 votes in it. */
static prep_err read_combo(const prep_catalog *c, const char *combo, prep_actas **s, prep_diags *d)
{
    char text[512];
    snprintf(text, sizeof text,
             "CLAVE_CASILLA|TIPO_ACTA|%s|PAN|PT|M|CAND_IND_JHZM|NO_REGISTRADOS|NULOS|LISTA_NOMINAL\n"
             "220100B0100|2|7|100|20|150|3|0|5|500\n",
             combo);
    prep_diags_init(d);
    return prep_actas_parse("t.csv", text, strlen(text), c, 0, s, d);
}

static void test_spelled_columns(void **st)
{
    (void)st;
    prep_catalog *c = catalog(0);
    const prep_cat_election *el = &c->elections[0];
    static const char *const want[] = {"PAN", "PT", "M", "C_PT_MORENA", "CAND_IND_JHZM", "NO_REGISTRADOS", "NULOS"};
    assert_int_equal(el->n_cols, 7);
    for (uint32_t j = 0; j < 7; j++) assert_string_equal(el->cols[j].name, want[j]);
    /* MORENA_PT is C_PT_MORENA: 7 votes there, PAN's 100 in PAN */
    int32_t pan = -9, combo = -9;
    assert_int_equal(one(c, "220100B0100|2|7|100|20|150|3|0|5|500||1|2018-07-01 21:00\n", &pan, &combo),
                     PREP_ACTA_COUNTED);
    assert_int_equal(pan, 100);
    assert_int_equal(combo, 7);
    /* every order and both words for M, with or without the prefix, are that column */
    static const char *const spell[] = {"C_PT_MORENA", "PT-MORENA", "C_MORENA_PT", "PT_M", "M_PT"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(spell); i++) {
        prep_diags d;
        prep_actas *s = NULL;
        assert_int_equal(read_combo(c, spell[i], &s, &d), PREP_OK);
        if (d.total) fail_msg("%s: %s", spell[i], d.v[0].msg);
        assert_int_equal(prep_acta_votes(s, &s->v[0])[3], 7);
        prep_actas_free(s);
        prep_diags_free(&d);
    }
    /* a word for no party of the combination, a party twice, a party missing: no column */
    static const char *const wrong[] = {"C_PT_MORE", "C_PT_PT", "C_MORENA", "C_PT_MORENA_PAN"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(wrong); i++) {
        prep_diags d;
        prep_actas *s = NULL;
        assert_int_equal(read_combo(c, wrong[i], &s, &d), PREP_ERR_INVALID);
        if (!prep_diags_find(&d, "unknown-column")) fail_msg("%s: no unknown-column", wrong[i]);
        prep_diags_free(&d);
    }
    /* no registrados and nulos under other names: CNR (Puebla 2018), VOTOS_NULOS */
    const char *t0 = "CLAVE_CASILLA|TIPO_ACTA|C_PT_MORENA|PAN|PT|M|CAND_IND_JHZM|CNR|VOTOS_NULOS\n"
                     "220100B0100|2|7|100|20|150|3|1|5\n";
    prep_diags d0;
    prep_diags_init(&d0);
    prep_actas *s0 = NULL;
    assert_int_equal(prep_actas_parse("t.csv", t0, strlen(t0), c, 0, &s0, &d0), PREP_OK);
    assert_int_equal(d0.total, 0);
    assert_int_equal(prep_acta_votes(s0, &s0->v[0])[5], 1); /* NO_REGISTRADOS */
    assert_int_equal(prep_acta_votes(s0, &s0->v[0])[6], 5); /* NULOS */
    prep_actas_free(s0);
    prep_diags_free(&d0);
    /* the named independent is not CAND_IND_1 */
    const char *t1 = "CLAVE_CASILLA|TIPO_ACTA|C_PT_MORENA|PAN|PT|M|CAND_IND_1|NO_REGISTRADOS|NULOS\n"
                     "220100B0100|2|7|100|20|150|3|0|5\n";
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = NULL;
    assert_int_equal(prep_actas_parse("t.csv", t1, strlen(t1), c, 0, &s, &d), PREP_ERR_INVALID);
    assert_non_null(prep_diags_find(&d, "unknown-column"));
    prep_diags_free(&d);
    prep_catalog_free(c);
}

/* The same rows under published = no (election night's own captures: the values decide)
 * and published = yes (a published file: what its values lost, its row states). The cap
 * of 220100B0100 is 500 + 4. */
static void test_published_statuses(void **st)
{
    (void)st;
    prep_catalog *own = catalog(0), *pub = catalog(1);
    static const struct {
        const char *row, *why;
        prep_acta_status own, pub;
    } k[] = {
        /* Queretaro 2018: an empty field of a counted acta that notes nothing is a 0 */
        {"220100B0100|2||100|20|150|3|0|5|500||1|2018-07-01 21:00\n", "empty field, counted, nothing noted",
         PREP_ACTA_COUNTED_SOME_ILLEGIBLE, PREP_ACTA_COUNTED},
        /* ...but not where the acta notes an illegible field */
        {"220100B0100|2||100|20|150|3|0|5|500|ALGUN CAMPO ILEGIBLE O SIN DATO|1|2018-07-01 21:00\n",
         "empty field, noted", PREP_ACTA_COUNTED_SOME_ILLEGIBLE, PREP_ACTA_COUNTED_SOME_ILLEGIBLE},
        /* Sonora 2021: noted, every field a number */
        {"220100B0100|2|7|100|20|150|3|0|5|500|ALG\xC3\x9aN CAMPO ILEGIBLE O SIN DATO|1|2018-07-01 21:00\n",
         "noted illegible, numbers", PREP_ACTA_COUNTED, PREP_ACTA_COUNTED_SOME_ILLEGIBLE},
        /* Puebla 2018: zeros in every field of an acta not counted as all illegible */
        {"220100B0100|2|0|0|0|0|0|0|0|500|Todos los campos ilegibles|0|2018-07-01 21:00\n", "zeros, all illegible",
         PREP_ACTA_COUNTED, PREP_ACTA_NC_ALL_ILLEGIBLE},
        {"220100B0100|2|0|0|0|0|0|0|0|500|Todos los campos vacio|0|2018-07-01 21:00\n", "zeros, all blank",
         PREP_ACTA_COUNTED, PREP_ACTA_NC_ALL_ILLEGIBLE},
        {"220100B0100|2|0|0|0|0|0|0|0|500|Excede Lista Nominal|0|2018-07-01 21:00\n", "zeros, exceeds",
         PREP_ACTA_COUNTED, PREP_ACTA_NC_EXCEEDS_LN},
        /* the statement fills only what the values lost: votes that are there decide */
        {"220100B0100|2|7|100|20|150|3|0|5|500|Excede Lista Nominal|0|2018-07-01 21:00\n", "votes, said exceeds",
         PREP_ACTA_COUNTED, PREP_ACTA_COUNTED},
        {"220100B0100|2|7|400|20|150|3|0|5|500||1|2018-07-01 21:00\n", "585 votes over 504, said counted",
         PREP_ACTA_NC_EXCEEDS_LN, PREP_ACTA_NC_EXCEEDS_LN},
        {"220100B0100|2|7|ILEGIBLE|20|150|3|0|5|500||1|2018-07-01 21:00\n", "a field marked, nothing noted",
         PREP_ACTA_COUNTED_SOME_ILLEGIBLE, PREP_ACTA_COUNTED_SOME_ILLEGIBLE},
        /* flagged 0 with no reason and every field 0: the values say counted */
        {"220100B0100|2|0|0|0|0|0|0|0|500||0|2018-07-01 21:00\n", "zeros, flagged 0, no reason", PREP_ACTA_COUNTED,
         PREP_ACTA_COUNTED},
    };
    for (size_t i = 0; i < PREP_ARRAY_LEN(k); i++) {
        prep_acta_status a = one(own, k[i].row, NULL, NULL), b = one(pub, k[i].row, NULL, NULL);
        if (a != k[i].own || b != k[i].pub)
            fail_msg("%s: own %s (want %s), published %s (want %s)", k[i].why, prep_actas_status_tag(a),
                     prep_actas_status_tag(k[i].own), prep_actas_status_tag(b), prep_actas_status_tag(k[i].pub));
    }
    prep_catalog_free(own);
    prep_catalog_free(pub);
}

/* What only a published file may write, read as such under published = yes and refused
 * otherwise (kind and field): a '-' where the column is on the ballot (an acta that does
 * not carry it: Sonora's representación proporcional actas) and a TIPO_ACTA slip (Sonora:
 * 3}, 734). (ILEGIBLE where a column is not on the ballot, Sonora's 52 rows: every column
 * is on this catalogue's ballot; tests/integ/real_derived.sh reads them.) */
static void test_published_leniency(void **st)
{
    (void)st;
    prep_catalog *own = catalog(0), *pub = catalog(1);
    static const struct {
        const char *row, *kind;
        long field;
        prep_acta_status pub;
    } k[] = {
        {"220100B0100|2|-|100|20|150|3|0|5|500||1|2018-07-01 21:00\n", "missing-value", 3, PREP_ACTA_COUNTED},
        {"220100B0100|3}|7|100|20|150|3|0|5|500||1|2018-07-01 21:00\n", "bad-number", 2, PREP_ACTA_COUNTED},
        {"220100B0100|734|7|100|20|150|3|0|5|500||1|2018-07-01 21:00\n", "bad-number", 2, PREP_ACTA_COUNTED},
    };
    for (size_t i = 0; i < PREP_ARRAY_LEN(k); i++) {
        prep_diags d;
        prep_actas *s = read_rows(own, k[i].row, &d);
        assert_int_equal(s->n, 0);
        const prep_diag *g = prep_diags_find(&d, k[i].kind);
        if (!g || g->line != 2 || g->col != k[i].field) fail_msg("row %zu: no %s at field %ld", i, k[i].kind, k[i].field);
        prep_actas_free(s);
        prep_diags_free(&d);
        assert_int_equal(one(pub, k[i].row, NULL, NULL), k[i].pub);
    }
    prep_catalog_free(own);
    prep_catalog_free(pub);
}

/* Lines beside the table: a totals row and a source note. A published file's reader
 * leaves them out, each named (aside-line); election night's takes them as rows (the
 * totals row out of the catalogue, the note of the wrong field count), and a capture line
 * cut short to one field is never taken for a note. */
static void test_aside_lines(void **st)
{
    (void)st;
    prep_catalog *own = catalog(0), *pub = catalog(1);
    const char *rows = "220100B0100|2|7|100|20|150|3|0|5|500||1|2018-07-01 21:00\n"
                       "TOTAL|||100|20|150|3|0|5|500|||\n"
                       "Fuente: Instituto Electoral, base de datos del PREP\n"
                       "220100B0100\n"
                       "BAJA CALIFORNIA SUR|2\n"; /* a first column of place names, cut short */
    for (int p = 0; p < 2; p++) {
        prep_diags d;
        prep_actas *s = read_rows(p ? pub : own, rows, &d);
        /* election night: the TOTAL row is a capture whose key no casilla has (fuera de
         * catálogo), the note a row of one field */
        assert_int_equal(s->n, p ? 1 : 2);
        size_t aside = 0;
        for (size_t i = 0; i < d.n; i++) aside += !strcmp(d.v[i].kind, "aside-line");
        assert_int_equal(aside, p ? 2 : 0);
        assert_int_equal(s->rows_bad, p ? 2 : 3); /* the lines cut short are bad either way */
        const prep_diag *g = prep_diags_find(&d, "field-count");
        assert_non_null(g);
        assert_int_equal(g->line, p ? 5 : 4);
        prep_actas_free(s);
        prep_diags_free(&d);
    }
    prep_catalog_free(own);
    prep_catalog_free(pub);
}

/* The votes from abroad of a local election (Puebla 2018's governor: 210000M0000, an M
 * casilla numbered 0 with lista nominal 0 and 4,931 votes, counted): no cap to exceed. */
static void test_abroad_uncapped(void **st)
{
    (void)st;
    prep_catalog *c = catalog(0);
    assert_int_equal(prep_catalog_find_casilla(c, "220000M0000") != PREP_CAT_NONE, 1);
    int32_t pan = 0;
    assert_int_equal(one(c, "220000M0000|2|30|4800|40|50|1|0|10|0||1|2018-07-02 15:00\n", &pan, NULL),
                     PREP_ACTA_COUNTED);
    assert_int_equal(pan, 4800);
    /* a B casilla with the same votes exceeds its 504 */
    assert_int_equal(one(c, "220100B0100|2|30|4800|40|50|1|0|10|500||1|2018-07-02 15:00\n", NULL, NULL),
                     PREP_ACTA_NC_EXCEEDS_LN);
    prep_catalog_free(c);
}

/* A special casilla's two actas of one number, the RP one marked by letters: the mark
 * decides; a published file, which lists each acta once, pairs the two rows when the
 * marks do not tell (both bare, both alike): the later is the RP acta. The tally then
 * holds both, and the database writes the RP acta's type with its mark. */
static void test_rp_marked(void **st)
{
    (void)st;
    prep_catalog *own = catalog(0), *pub = catalog(1);
    assert_string_equal(own->elections[0].rp_acta_mark, "RP");
    assert_int_equal(own->elections[0].rp_acta_type, 2);
    static const struct {
        const char *t1, *t2;
        int own1, own2, pub1, pub2;
    } k[] = {
        {"2EMR", "2ERP", 0, 1, 0, 1}, {"2ERP", "2EMR", 1, 0, 1, 0}, {"2", "2ERP", 0, 1, 0, 1},
        {"2ERP", "2", 1, 0, 1, 0},    {"2", "2", 0, 0, 0, 1},       {"2EMR", "2EMR", 0, 0, 0, 1},
        {"2erp", "2ERP", 1, 1, 0, 1}, {"2DRP", "2", 1, 0, 1, 0},
    };
    for (size_t i = 0; i < PREP_ARRAY_LEN(k); i++) {
        char rows[512];
        snprintf(rows, sizeof rows,
                 "220100S0100|%s|7|100|20|150|3|0|5|0||1|2018-07-01 21:00\n"
                 "220100S0100|%s|0|110|20|150|0|0|5|0||1|2018-07-01 21:05\n",
                 k[i].t1, k[i].t2);
        for (int p = 0; p < 2; p++) {
            prep_diags d;
            prep_actas *s = read_rows(p ? pub : own, rows, &d);
            if (d.total) prep_diags_print(&d, stderr, 10);
            assert_int_equal(s->n, 2);
            int w1 = p ? k[i].pub1 : k[i].own1, w2 = p ? k[i].pub2 : k[i].own2;
            if (s->v[0].rp != w1 || s->v[1].rp != w2)
                fail_msg("%s, %s (%s): rp %d %d, want %d %d", k[i].t1, k[i].t2, p ? "published" : "own", s->v[0].rp,
                         s->v[1].rp, w1, w2);
            prep_actas_free(s);
            prep_diags_free(&d);
        }
    }
    /* the tally holds both actas of the casilla: 4 expected (B, S's two, M), 2 captured */
    prep_diags d;
    prep_actas *s = read_rows(pub, "220100S0100|2|7|100|20|150|3|0|5|0||1|2018-07-01 21:00\n"
                                   "220100S0100|2|0|110|20|150|0|0|5|0||1|2018-07-01 21:05\n", &d);
    prep_tally *t = NULL;
    assert_int_equal(prep_tally_new(pub, &t), PREP_OK);
    for (size_t i = 0; i < s->n; i++) assert_int_equal(prep_tally_apply(t, 0, &s->v[i], prep_acta_votes(s, &s->v[i])), PREP_OK);
    prep_summary sum;
    prep_tally_summary(t, 0, 0, &sum);
    assert_int_equal(sum.esperadas, 4);
    assert_int_equal(sum.capturadas, 2);
    assert_int_equal(sum.contabilizadas, 2);
    /* written back: the RP acta's TIPO_ACTA and CLAVE_ACTA carry the mark, the MR acta's not */
    prep_buf b;
    prep_buf_init(&b, 0);
    assert_int_equal(prep_actas_write_row(pub, 0, &s->v[1], prep_acta_votes(s, &s->v[1]), &b), PREP_OK);
    assert_non_null(strstr(b.data, "220100S010002RP"));
    assert_non_null(strstr(b.data, "|2RP|"));
    b.len = 0;
    assert_int_equal(prep_actas_write_row(pub, 0, &s->v[0], prep_acta_votes(s, &s->v[0]), &b), PREP_OK);
    assert_null(strstr(b.data, "RP"));
    prep_buf_free(&b);
    prep_tally_free(t);
    prep_actas_free(s);
    prep_diags_free(&d);
    /* the catalogue writes the mark and reads it back */
    prep_buf_init(&b, 0);
    assert_int_equal(prep_catalog_write(pub, &b), PREP_OK);
    assert_non_null(strstr(b.data, "|2|2|2RP"));
    prep_catalog *c2 = NULL;
    prep_diags_init(&d);
    assert_int_equal(prep_catalog_parse("w.cat", b.data, b.len, &c2, &d), PREP_OK);
    assert_string_equal(c2->elections[0].rp_acta_mark, "RP");
    assert_int_equal(c2->rules.published, 1);
    prep_catalog_free(c2);
    prep_diags_free(&d);
    prep_buf_free(&b);
    prep_catalog_free(own);
    prep_catalog_free(pub);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spelled_columns),
        cmocka_unit_test(test_published_statuses),
        cmocka_unit_test(test_published_leniency),
        cmocka_unit_test(test_aside_lines),
        cmocka_unit_test(test_abroad_uncapped),
        cmocka_unit_test(test_rp_marked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
