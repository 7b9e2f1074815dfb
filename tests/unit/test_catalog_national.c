/* Unit tests of a national catalogue (tests/data/catalog/national.cat): entities, ids
 * numbered within their entity, the nation and entity scopes, the votes from abroad and the
 * extra acta types. Every expected value is read by hand from that file and
 * docs/formats/catalog.md ("National catalogues"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "prep/catalog.h"

#define NATIONAL PREP_TEST_DATA "/catalog/national.cat"

__attribute__((noinline)) static char *read_national(size_t *len)
{
    char *data = NULL;
    assert_int_equal(prep_read_file(NATIONAL, 0, &data, len), PREP_OK);
    return data;
}

static prep_catalog *parse(const char *text, size_t len, prep_diags *d)
{
    prep_catalog *c = NULL;
    prep_err r = prep_catalog_parse("n.cat", text, len, &c, d);
    if (r == PREP_OK) assert_non_null(c);
    else assert_null(c);
    return c;
}

static prep_catalog *load(void)
{
    size_t len;
    char *text = read_national(&len);
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = parse(text, len, &d);
    if (!c) prep_diags_print(&d, stderr, 0);
    assert_non_null(c);
    prep_diags_free(&d);
    free(text);
    return c;
}

static void test_entities(void **st)
{
    (void)st;
    prep_catalog *c = load();
    assert_true(c->national);
    assert_int_equal(c->entity_id, 0);
    assert_int_equal(c->n_entities, 3);
    assert_int_equal(c->entities[1].id, 9);
    assert_string_equal(c->entities[1].slug, "ciudad-de-mexico");
    assert_int_equal(c->entities[1].circ, 4);
    assert_int_equal(prep_catalog_find_entity(c, 22), 2);
    assert_int_equal(prep_catalog_find_entity(c, 2), PREP_CAT_NONE);
    /* district 1 exists in entities 1, 9 and 22; section 100 in 1 and 9 */
    assert_int_equal(prep_catalog_find_district(c, 1, 1), 1);
    assert_int_equal(prep_catalog_find_district(c, 9, 1), 3);
    assert_int_equal(prep_catalog_find_district(c, 22, 1), 4);
    assert_int_equal(prep_catalog_find_district(c, 22, 2), PREP_CAT_NONE);
    assert_int_equal(prep_catalog_find_district(c, 1, 0), 0);
    /* sections sorted by (entity id, id): 1-0, 1-100, 1-200, 9-100, 22-50 */
    assert_int_equal(c->n_sections, 5);
    assert_int_equal(prep_catalog_find_section(c, 1, 0), 0);
    assert_int_equal(prep_catalog_find_section(c, 1, 100), 1);
    assert_int_equal(prep_catalog_find_section(c, 9, 100), 3);
    assert_int_equal(prep_catalog_find_section(c, 22, 50), 4);
    assert_int_equal(prep_catalog_find_section(c, 22, 100), PREP_CAT_NONE);
    assert_int_equal(c->sections[3].entity, 1);
    assert_int_equal(c->sections[3].district, 3);
    assert_int_equal(c->sections[3].municipality, 1);
    assert_int_equal(prep_catalog_find_municipality(c, 9, 5), 1);
    assert_int_equal(prep_catalog_find_municipality(c, 1, 5), PREP_CAT_NONE);
    prep_catalog_free(c);
}

static void test_casillas_and_units(void **st)
{
    (void)st;
    prep_catalog *c = load();
    assert_int_equal(c->n_casillas, 7);
    static const char *const keys[] = {"010000M0100", "010100B0100", "010100S0100", "010200B0100",
                                       "010200V0100", "090100B0100", "220050B0100"};
    for (uint32_t i = 0; i < 7; i++) {
        assert_string_equal(c->casillas[i].key, keys[i]);
        assert_int_equal(prep_catalog_find_casilla(c, keys[i]), i);
    }
    assert_int_equal(prep_catalog_casilla_entity(c, 5), 9);
    assert_int_equal(prep_catalog_casilla_entity(c, 6), 22);
    uint32_t pres = prep_catalog_find_election(c, "pres"), sen = prep_catalog_find_election(c, "sen"),
             dip = prep_catalog_find_election(c, "dip");
    assert_int_equal(c->elections[pres].scope, PREP_CAT_SCOPE_NATION);
    assert_int_equal(c->elections[pres].n_units, 1);
    assert_int_equal(c->elections[sen].n_units, 3);
    assert_int_equal(c->elections[dip].n_units, 5);
    assert_string_equal(prep_catalog_unit_name(c, pres, 0), "ESTADOS UNIDOS MEXICANOS");
    assert_string_equal(prep_catalog_unit_name(c, sen, 2), "QUERÉTARO");
    /* CDMX's casilla: nation 0, entity 1 (index of 9), district 3 (9-1) */
    assert_int_equal(prep_catalog_unit_of(c, pres, 5), 0);
    assert_int_equal(prep_catalog_unit_of(c, sen, 5), 1);
    assert_int_equal(prep_catalog_unit_of(c, dip, 5), 3);
    assert_int_equal(prep_catalog_unit_of(c, dip, 0), 0); /* abroad: district 1-0 */
    /* acta types (INE 2018): pres 2 / abroad 1; sen 3 / special 4 / rp 5 / abroad 18;
     * dip 6 / special 7 / rp 8, no abroad acta */
    assert_int_equal(prep_catalog_acta_type_of(c, pres, 0), 1);
    assert_int_equal(prep_catalog_acta_type_of(c, pres, 2), 2);
    assert_int_equal(prep_catalog_acta_type_of(c, sen, 0), 18);
    assert_int_equal(prep_catalog_acta_type_of(c, sen, 2), 4);
    assert_int_equal(c->elections[sen].rp_acta_type, 5);
    assert_int_equal(prep_catalog_acta_type_of(c, dip, 2), 7);
    assert_int_equal(prep_catalog_acta_type_of(c, dip, 4), 6); /* V: the plain acta */
    assert_int_equal(prep_catalog_acta_type_of(c, dip, 0), PREP_CAT_ACTA_NONE);
    assert_int_equal(prep_catalog_n_actas(c, dip, 0), 0);
    assert_int_equal(prep_catalog_n_actas(c, pres, 0), 1);
    assert_int_equal(prep_catalog_n_actas(c, pres, 2), 1);
    assert_int_equal(prep_catalog_n_actas(c, sen, 2), 2);
    assert_int_equal(prep_catalog_n_actas(c, dip, 2), 2);
    assert_int_equal(prep_catalog_n_actas(c, dip, 1), 1);
    /* candidacies: sen in entity 1 has two, dip in 9-1 one (MORENA) */
    const prep_cat_election *es = &c->elections[sen];
    assert_int_equal(es->cand_first[1] - es->cand_first[0], 2);
    const prep_cat_election *ed = &c->elections[dip];
    assert_int_equal(ed->cand_first[4] - ed->cand_first[3], 1);
    assert_int_equal(ed->cand_first[1] - ed->cand_first[0], 0); /* abroad unit: none needed */
    prep_catalog_free(c);
}

static void test_round_trip(void **st)
{
    (void)st;
    prep_catalog *c = load();
    prep_buf w1, w2;
    prep_buf_init(&w1, 0);
    prep_buf_init(&w2, 0);
    assert_int_equal(prep_catalog_write(c, &w1), PREP_OK);
    assert_non_null(strstr(w1.data, "\n[entities]\nid|name|circ\n1|AGUASCALIENTES|2\n"));
    assert_non_null(strstr(w1.data, "|7|-|8\n"));
    assert_non_null(strstr(w1.data, "\ndip|9-1|MORENA|"));
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c2 = parse(w1.data, w1.len, &d);
    if (!c2) prep_diags_print(&d, stderr, 0);
    assert_non_null(c2);
    assert_int_equal(prep_catalog_write(c2, &w2), PREP_OK);
    assert_int_equal(w1.len, w2.len);
    assert_memory_equal(w1.data, w2.data, w1.len);
    prep_diags_free(&d);
    prep_buf_free(&w1);
    prep_buf_free(&w2);
    prep_catalog_free(c2);
    prep_catalog_free(c);
}

/* One change to the file, and the located diag it must give. */
static void expect_error(const char *find, const char *repl, const char *kind, const char *msg_part)
{
    size_t len;
    char *text = read_national(&len);
    char *p = strstr(text, find);
    assert_non_null(p);
    size_t a = (size_t)(p - text), fl = strlen(find), rl = strlen(repl);
    char *o = malloc(len - fl + rl + 1);
    assert_non_null(o);
    memcpy(o, text, a);
    memcpy(o + a, repl, rl);
    memcpy(o + a + rl, p + fl, len - a - fl + 1);
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = parse(o, strlen(o), &d);
    assert_null(c);
    const prep_diag *g = prep_diags_find(&d, kind);
    if (!g || !strstr(g->msg, msg_part)) {
        prep_diags_print(&d, stderr, 0);
        fail_msg("%s -> %s: no %s diag with '%s'", find, repl, kind, msg_part);
    }
    assert_true(g->line > 0);
    prep_diags_free(&d);
    free(o);
    free(text);
}

static void test_errors(void **st)
{
    (void)st;
    expect_error("entity_id = 0", "entity_id = 22", "bad-value", "entity_id must be 0");
    expect_error("[sections]\nentity|id|", "[sections]\nid|", "missing-column", "no column 'entity'");
    expect_error("9|100|1|5\n", "9|100|2|5\n", "unknown-reference", "unknown district '2'");
    expect_error("22|50|B|1|", "23|50|B|1|", "unknown-reference", "unknown entity '23'");
    expect_error("1|100|B|1|0|1|600", "1|0|B|1|0|1|600", "bad-casilla", "section 0 holds only");
    expect_error("dip|9-1|MORENA", "dip|1|MORENA", "bad-value", "ENTITY-ID");
    expect_error("sen|9|MORENA", "sen|*|MORENA", "unknown-reference", "unknown entity '*'");
    expect_error("1|1|JESÚS MARÍA", "1|2|JESÚS MARÍA", "duplicate-id", "district 2 is already defined in this entity");
    expect_error("22|QUERÉTARO|2", "22|AGUASCALIENTES|2", "duplicate-slug", "as entity 1");
    expect_error("|7|-|8", "|7|-|7", "bad-value", "rp_acta_type 7 must differ");
    expect_error("|2|1|0\n", "|2|0|0\n", "bad-value", "abroad_acta_type '0' must be a number 1..99");
}

/* A local catalogue is one entity: the lookups take its [process] entity_id. */
static void test_local_is_one_entity(void **st)
{
    (void)st;
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    assert_int_equal(prep_catalog_load(PREP_TEST_DATA "/catalog/small.cat", &c, &d), PREP_OK);
    assert_false(c->national);
    assert_int_equal(c->n_entities, 1);
    assert_int_equal(c->entities[0].id, c->entity_id);
    assert_string_equal(c->entities[0].name, c->entity_name);
    assert_int_equal(prep_catalog_find_section(c, c->entity_id + 1, c->sections[0].id), PREP_CAT_NONE);
    assert_int_equal(prep_catalog_find_section(c, c->entity_id, c->sections[0].id), 0);
    for (uint32_t e = 0; e < c->n_elections; e++)
        if (c->elections[e].scope == PREP_CAT_SCOPE_ENTITY) assert_int_equal(c->elections[e].n_units, 1);
    prep_diags_free(&d);
    prep_catalog_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entities),
        cmocka_unit_test(test_casillas_and_units),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_local_is_one_entity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
