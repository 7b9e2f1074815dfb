/* Unit tests of the catalogue reader on a valid, hand-written catalogue
 * (tests/data/catalog/small.cat). Every expected value below is derived by hand from
 * that file and the rules of docs/formats/catalog.md, never copied from the program. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "prep/catalog.h"

#define SMALL PREP_TEST_DATA "/catalog/small.cat"

static prep_catalog *load_small(void)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    prep_err r = prep_catalog_load(SMALL, &c, &d);
    if (r != PREP_OK) prep_diags_print(&d, stderr, 0);
    assert_int_equal(r, PREP_OK);
    assert_int_equal(d.total, 0);
    assert_non_null(c);
    prep_diags_free(&d);
    return c;
}

__attribute__((noinline)) static char *read_small(size_t *len)
{
    char *data = NULL;
    assert_int_equal(prep_read_file(SMALL, 0, &data, len), PREP_OK);
    return data;
}

/* Replaces the first `find` in s with `repl` (owned result). */
static char *subst(const char *s, const char *find, const char *repl)
{
    const char *p = strstr(s, find);
    assert_non_null(p);
    size_t a = (size_t)(p - s), fl = strlen(find), rl = strlen(repl), n = strlen(s);
    char *o = malloc(n - fl + rl + 1);
    assert_non_null(o);
    memcpy(o, s, a);
    memcpy(o + a, repl, rl);
    memcpy(o + a + rl, p + fl, n - a - fl + 1);
    return o;
}

static void assert_cols(const prep_catalog *c, const char *eid, const char *const *names, uint32_t n)
{
    uint32_t e = prep_catalog_find_election(c, eid);
    assert_int_not_equal(e, PREP_CAT_NONE);
    const prep_cat_election *el = &c->elections[e];
    assert_int_equal(el->n_cols, n);
    for (uint32_t i = 0; i < n; i++) assert_string_equal(el->cols[i].name, names[i]);
}

/* ---------------------------------------------------------------- the process and the geography */
static void test_process_and_counts(void **st)
{
    (void)st;
    prep_catalog *c = load_small();
    assert_string_equal(c->process_id, "test2021");
    assert_string_equal(c->process_name, "Proceso Electoral de Prueba 2020-2021");
    assert_string_equal(c->institute, "Instituto Electoral de Prueba");
    assert_int_equal(c->entity_id, 22);
    assert_string_equal(c->entity_name, "QUERÉTARO");
    assert_string_equal(c->timezone, "America/Mexico_City");
    /* TZ=America/Mexico_City date -d '2021-06-06 20:00' +%s  -> 1623027600 (UTC-5 that day)
     * TZ=America/Mexico_City date -d '2021-06-07 20:00' +%s  -> 1623114000 */
    assert_int_equal(c->window_open, 1623027600);
    assert_int_equal(c->window_close, 1623114000);
    assert_int_equal(c->cut_interval, 300);
    assert_string_equal(c->combo_prefix, "C_");
    assert_int_equal(c->independents_first, 0);
    assert_int_equal(c->csv_sep, '|');
    assert_int_equal(c->rules.specials, PREP_CAT_SPECIALS_FINAL_ONLY);
    assert_int_equal(c->pct_decimals, 4);
    /* labels: one overridden, the others the documented defaults */
    assert_string_equal(c->labels.out_of_catalog, "FUERA DEL CATÁLOGO");
    assert_string_equal(c->labels.some_illegible, "ALGUN DATO ILEGIBLE O SIN DATO");
    assert_string_equal(c->labels.all_illegible, "TODOS ILEGIBLES O SIN DATO");
    assert_string_equal(c->labels.exceeds_ln, "EXCEDE LISTA NOMINAL");
    assert_string_equal(c->labels.no_acta_not_delivered, "SIN ACTA POR PAQUETE NO ENTREGADO");
    assert_string_equal(c->labels.no_acta_not_installed, "SIN ACTA POR CASILLA NO INSTALADA");
    assert_string_equal(c->labels.no_acta_no_envelope, "SIN ACTA POR PAQUETE ENTREGADO SIN SOBRE");

    assert_int_equal(c->n_parties, 6);
    assert_int_equal(c->n_districts, 2);
    assert_int_equal(c->n_municipalities, 3);
    assert_int_equal(c->n_sections, 5);
    assert_int_equal(c->n_casillas, 13);
    assert_int_equal(c->n_elections, 3);
    assert_int_equal(c->n_coalitions, 4);
    assert_int_equal(c->n_candidacies, 23);

    static const char *const pids[] = {"PAN", "PRI", "PRD", "PVEM", "PT", "MORENA"};
    for (uint32_t i = 0; i < 6; i++) {
        assert_string_equal(c->parties[i].id, pids[i]);
        assert_int_equal(c->parties[i].seniority, i); /* row order */
    }
    assert_string_equal(c->parties[0].name, "Partido Acción Nacional");
    assert_string_equal(c->parties[0].color, "#0055A5");
    assert_string_equal(c->parties[5].color, "#B5261E");
    prep_catalog_free(c);
}

static void test_geography(void **st)
{
    (void)st;
    prep_catalog *c = load_small();
    assert_int_equal(c->districts[0].id, 1);
    assert_string_equal(c->districts[0].name, "DISTRITO 01");
    assert_string_equal(c->districts[0].slug, "distrito-01");
    assert_int_equal(c->districts[1].id, 2);
    /* municipalities keep file order: 14, 6, 11 ("id | name" header with blanks) */
    assert_int_equal(c->municipalities[0].id, 14);
    assert_string_equal(c->municipalities[0].name, "Querétaro");
    assert_string_equal(c->municipalities[0].slug, "queretaro");
    assert_int_equal(c->municipalities[1].id, 6);
    assert_string_equal(c->municipalities[1].slug, "corregidora");
    assert_int_equal(c->municipalities[2].id, 11);
    assert_string_equal(c->municipalities[2].name, "El Marqués");
    assert_string_equal(c->municipalities[2].slug, "el-marques");

    /* sections sorted by id: 15, 100, 230, 231, 412; district/municipality as indices */
    static const uint32_t sid[] = {15, 100, 230, 231, 412};
    static const uint32_t sdist[] = {0, 0, 1, 1, 0};      /* district 1 -> 0, 2 -> 1 */
    static const uint32_t smun[] = {1, 0, 2, 2, 0};       /* 14 -> 0, 6 -> 1, 11 -> 2 */
    /* casillas per section: 15 has B1,E1,E1C1,E2 = 4; 100 has B1,M1 = 2; 230 B1,C1 = 2;
     * 231 B1 = 1; 412 B1,C1,C2,S1 = 4 -> firsts 0,4,6,8,9 */
    static const uint32_t sfirst[] = {0, 4, 6, 8, 9};
    static const uint32_t sn[] = {4, 2, 2, 1, 4};
    for (uint32_t i = 0; i < 5; i++) {
        assert_int_equal(c->sections[i].id, sid[i]);
        assert_int_equal(c->sections[i].district, sdist[i]);
        assert_int_equal(c->sections[i].municipality, smun[i]);
        assert_int_equal(c->sections[i].first_casilla, sfirst[i]);
        assert_int_equal(c->sections[i].n_casillas, sn[i]);
    }
    /* casillas sorted by section, then type B,C,E,S,M, number, ext */
    static const char *const keys[] = {
        "220015B0100", "220015E0100", "220015E0101", "220015E0200", "220100B0100", "220100M0100", "220230B0100",
        "220230C0100", "220231B0100", "220412B0100", "220412C0100", "220412C0200", "220412S0100",
    };
    for (uint32_t i = 0; i < 13; i++) assert_string_equal(c->casillas[i].key, keys[i]);
    for (uint32_t s = 0; s < 5; s++)
        for (uint32_t k = sfirst[s]; k < sfirst[s] + sn[s]; k++) assert_int_equal(c->casillas[k].section, s);

    const prep_cat_casilla *e1c1 = &c->casillas[2]; /* 15|E|1|1|2|310|8|0 */
    assert_int_equal(e1c1->type, 'E');
    assert_int_equal(e1c1->number, 1);
    assert_int_equal(e1c1->ext, 1);
    assert_int_equal(e1c1->urban, 2);
    assert_int_equal(e1c1->lista_nominal, 310);
    assert_int_equal(e1c1->representatives, 8);
    assert_int_equal(e1c1->ballots, 0);
    const prep_cat_casilla *sp = &c->casillas[12]; /* 412|S|1|0|1|0|14|750 */
    assert_int_equal(sp->type, 'S');
    assert_int_equal(sp->lista_nominal, 0);
    assert_int_equal(sp->ballots, 750);
    assert_int_equal(sp->representatives, 14);
    assert_int_equal(c->casillas[5].type, 'M'); /* 100|M|1 */
    assert_int_equal(c->casillas[11].number, 2); /* 412|C|2 */
    assert_int_equal(c->casillas[11].lista_nominal, 640);
    prep_catalog_free(c);
}

/* ---------------------------------------------------------------- elections and their columns */
static void test_columns(void **st)
{
    (void)st;
    prep_catalog *c = load_small();
    /* gub: the six parties, then JHHQ (MORENA PT) as one combination named in the
     * election's order (PT before MORENA), then NO_REGISTRADOS, NULOS; no independents. */
    static const char *const gub[] = {"PAN", "PRI", "PRD", "PVEM", "PT", "MORENA", "C_PT_MORENA", "NO_REGISTRADOS",
                                      "NULOS"};
    assert_cols(c, "gub", gub, 9);
    /* dip: VXQ (written PRD PAN PRI) gives PAN_PRI_PRD, then the pairs in lexicographic
     * order of positions: PAN_PRI, PAN_PRD, PRI_PRD; PP (PRI PRD) adds only PRI_PRD, which
     * is already there: one column. One independent (district 2). */
    static const char *const dip[] = {"PAN",       "PRI",       "PRD",       "PVEM",       "PT",
                                      "MORENA",    "C_PAN_PRI_PRD", "C_PAN_PRI", "C_PAN_PRD", "C_PRI_PRD",
                                      "CAND_IND_1", "NO_REGISTRADOS", "NULOS"};
    assert_cols(c, "dip", dip, 13);
    /* ayu: JH (PT MORENA); municipality 11 has two independents -> CAND_IND_1..2 */
    static const char *const ayu[] = {"PAN", "PRI", "PRD", "PVEM", "PT", "MORENA", "C_PT_MORENA", "CAND_IND_1",
                                      "CAND_IND_2", "NO_REGISTRADOS", "NULOS"};
    assert_cols(c, "ayu", ayu, 11);

    const prep_cat_election *g = &c->elections[0], *d = &c->elections[1], *a = &c->elections[2];
    assert_string_equal(g->id, "gub");
    assert_string_equal(g->name, "GUBERNATURA");
    assert_string_equal(g->title, "Gubernatura");
    assert_string_equal(g->slug, "gubernatura");
    assert_int_equal(g->scope, PREP_CAT_SCOPE_ENTITY);
    assert_int_equal(g->acta_type, 1);
    assert_int_equal(g->n_units, 1);
    assert_int_equal(d->scope, PREP_CAT_SCOPE_DISTRICT);
    assert_int_equal(d->acta_type, 2);
    assert_int_equal(d->n_units, 2);
    assert_string_equal(d->slug, "diputaciones");
    assert_int_equal(a->scope, PREP_CAT_SCOPE_MUNICIPALITY);
    assert_int_equal(a->n_units, 3);

    /* column kinds and parties (party indices: PAN 0, PRI 1, PRD 2, PVEM 3, PT 4, MORENA 5) */
    assert_int_equal(d->cols[0].kind, PREP_CAT_COL_PARTY);
    assert_int_equal(d->cols[0].n_parties, 1);
    assert_int_equal(d->cols[0].parties[0], 0);
    assert_int_equal(d->cols[5].parties[0], 5);
    assert_int_equal(d->cols[6].kind, PREP_CAT_COL_COMBO);
    assert_int_equal(d->cols[6].n_parties, 3);
    assert_int_equal(d->cols[6].parties[0], 0);
    assert_int_equal(d->cols[6].parties[1], 1);
    assert_int_equal(d->cols[6].parties[2], 2);
    assert_int_equal(d->cols[8].n_parties, 2); /* C_PAN_PRD */
    assert_int_equal(d->cols[8].parties[0], 0);
    assert_int_equal(d->cols[8].parties[1], 2);
    assert_int_equal(d->cols[10].kind, PREP_CAT_COL_INDEP);
    assert_int_equal(d->cols[10].indep_no, 1);
    assert_int_equal(d->cols[10].n_parties, 0);
    assert_int_equal(d->cols[11].kind, PREP_CAT_COL_NOREG);
    assert_int_equal(d->cols[12].kind, PREP_CAT_COL_NULOS);
    assert_int_equal(g->cols[6].parties[0], 4); /* C_PT_MORENA: PT, MORENA */
    assert_int_equal(g->cols[6].parties[1], 5);
    assert_int_equal(a->cols[8].indep_no, 2);

    /* coalitions keep their file order of parties */
    assert_string_equal(c->coalitions[1].id, "VXQ");
    assert_int_equal(c->coalitions[1].election, 1);
    assert_int_equal(c->coalitions[1].n_parties, 3);
    assert_int_equal(c->coalitions[1].parties[0], 2); /* PRD PAN PRI */
    assert_int_equal(c->coalitions[1].parties[1], 0);
    assert_int_equal(c->coalitions[1].parties[2], 1);
    prep_catalog_free(c);
}

static void assert_applies(const prep_catalog *c, uint32_t e, uint32_t u, const char *row)
{
    const prep_cat_election *el = &c->elections[e];
    assert_int_equal(strlen(row), el->n_cols);
    for (uint32_t k = 0; k < el->n_cols; k++) {
        if (prep_catalog_col_applies(c, e, u, k) != (row[k] == '1'))
            fail_msg("election %s unit %u column %s: expected %c", el->id, u, el->cols[k].name, row[k]);
    }
}

static void test_applicability(void **st)
{
    (void)st;
    prep_catalog *c = load_small();
    /* gub: PAN PRI PRD PVEM alone, PT and MORENA through JHHQ: everything applies. */
    assert_applies(c, 0, 0, "111111111");
    /* dip columns: PAN PRI PRD PVEM PT MORENA PAN_PRI_PRD PAN_PRI PAN_PRD PRI_PRD IND1 NOREG NULOS
     * district 1: VXQ (PAN PRI PRD) + PVEM + PT + MORENA: all parties and all VXQ combos,
     *             no independent.                                       */
    assert_applies(c, 1, 0, "1111111111011");
    /* district 2: PAN, PP (PRI PRD), MORENA, CAND_IND_1: PVEM and PT do not run; of the
     *             combinations only PRI_PRD (PP contains both), plus the independent. */
    assert_applies(c, 1, 1, "1110010001111");
    /* ayu columns: PAN PRI PRD PVEM PT MORENA PT_MORENA IND1 IND2 NOREG NULOS
     * Querétaro (14): PAN, PRI, JH (PT MORENA) */
    assert_applies(c, 2, 0, "11001110011");
    /* Corregidora (6): PAN, MORENA alone, CAND_IND_1 */
    assert_applies(c, 2, 1, "10000101011");
    /* El Marqués (11): PRI, PT alone, CAND_IND_1, CAND_IND_2 */
    assert_applies(c, 2, 2, "01001001111");
    prep_catalog_free(c);
}

static void assert_cand(const prep_catalog *c, uint32_t k, const char *name, prep_cat_cand_kind kind, uint32_t ref,
                        const uint32_t *cols, uint32_t n)
{
    const prep_cat_candidacy *cd = &c->candidacies[k];
    assert_string_equal(cd->name, name);
    assert_int_equal(cd->kind, kind);
    assert_int_equal(cd->ref, ref);
    assert_int_equal(cd->n_cols, n);
    for (uint32_t i = 0; i < n; i++) assert_int_equal(cd->cols[i], cols[i]);
}

static void test_candidacies(void **st)
{
    (void)st;
    prep_catalog *c = load_small();
    /* candidacies keep file order; indices 0..22 */
    assert_int_equal(c->candidacies[0].election, 0);
    assert_int_equal(c->candidacies[0].unit, 0);
    assert_cand(c, 0, "Ana Pérez", PREP_CAT_CAND_PARTY, 0, (const uint32_t[]){0}, 1);
    /* Elena Maya, JHHQ (coalition 0): PT (4), MORENA (5), C_PT_MORENA (6) */
    assert_cand(c, 4, "Elena Maya", PREP_CAT_CAND_COALITION, 0, (const uint32_t[]){4, 5, 6}, 3);
    /* Fernando Gil, VXQ (coalition 1) in district 1: PAN PRI PRD + its four combinations */
    assert_cand(c, 5, "Fernando Gil", PREP_CAT_CAND_COALITION, 1, (const uint32_t[]){0, 1, 2, 6, 7, 8, 9}, 7);
    assert_int_equal(c->candidacies[5].unit, 0);
    /* Karla Mora, PP (coalition 2) in district 2: PRI, PRD and the shared C_PRI_PRD (9) */
    assert_cand(c, 10, "Karla Mora", PREP_CAT_CAND_COALITION, 2, (const uint32_t[]){1, 2, 9}, 3);
    assert_int_equal(c->candidacies[10].unit, 1);
    /* Marta Núñez, CAND_IND_1 of dip: ref is the column index 10 */
    assert_cand(c, 12, "Marta Núñez", PREP_CAT_CAND_INDEP, 10, (const uint32_t[]){10}, 1);
    /* Xavier Paz is CAND_IND_2 of ayu (column 8), Yolanda Sanz CAND_IND_1 (column 7) */
    assert_cand(c, 21, "Xavier Paz", PREP_CAT_CAND_INDEP, 8, (const uint32_t[]){8}, 1);
    assert_cand(c, 22, "Yolanda Sanz", PREP_CAT_CAND_INDEP, 7, (const uint32_t[]){7}, 1);
    assert_int_equal(c->candidacies[22].unit, 2); /* municipality 11 is index 2 */
    /* Sergio Tapia: MORENA alone in Corregidora (index 1) */
    assert_cand(c, 17, "Sergio Tapia", PREP_CAT_CAND_PARTY, 5, (const uint32_t[]){5}, 1);
    assert_int_equal(c->candidacies[17].unit, 1);

    /* per-unit index: gub 0..4; dip district 1 = 5..8, district 2 = 9..12;
     * ayu 14 = 13..15, 6 = 16..18, 11 = 19..22 */
    const prep_cat_election *g = &c->elections[0], *d = &c->elections[1], *a = &c->elections[2];
    assert_int_equal(g->cand_first[0], 0);
    assert_int_equal(g->cand_first[1], 5);
    for (uint32_t i = 0; i < 5; i++) assert_int_equal(g->cand_index[i], i);
    assert_int_equal(d->cand_first[0], 0);
    assert_int_equal(d->cand_first[1], 4);
    assert_int_equal(d->cand_first[2], 8);
    for (uint32_t i = 0; i < 8; i++) assert_int_equal(d->cand_index[i], 5 + i);
    static const uint32_t afirst[] = {0, 3, 6, 10};
    for (uint32_t u = 0; u <= 3; u++) assert_int_equal(a->cand_first[u], afirst[u]);
    for (uint32_t i = 0; i < 10; i++) assert_int_equal(a->cand_index[i], 13 + i);
    prep_catalog_free(c);
}

/* ---------------------------------------------------------------- lookups and keys */
static void test_lookups(void **st)
{
    (void)st;
    prep_catalog *c = load_small();
    assert_int_equal(prep_catalog_find_casilla(c, "220015E0101"), 2);
    assert_int_equal(prep_catalog_find_casilla(c, "220412S0100"), 12);
    assert_int_equal(prep_catalog_find_casilla(c, "220412B0100"), 9);
    assert_int_equal(prep_catalog_find_casilla(c, "220412S0101"), PREP_CAT_NONE);
    assert_int_equal(prep_catalog_find_casilla(c, ""), PREP_CAT_NONE);
    for (uint32_t i = 0; i < c->n_casillas; i++) assert_int_equal(prep_catalog_find_casilla(c, c->casillas[i].key), i);
    assert_int_equal(prep_catalog_find_section(c, c->entity_id, 15), 0);
    assert_int_equal(prep_catalog_find_section(c, c->entity_id, 412), 4);
    assert_int_equal(prep_catalog_find_section(c, c->entity_id, 413), PREP_CAT_NONE);
    assert_int_equal(prep_catalog_find_section(c, c->entity_id, 4000000000u), PREP_CAT_NONE);
    assert_int_equal(prep_catalog_find_district(c, c->entity_id, 2), 1);
    assert_int_equal(prep_catalog_find_district(c, c->entity_id, 3), PREP_CAT_NONE);
    assert_int_equal(prep_catalog_find_municipality(c, c->entity_id, 11), 2);
    assert_int_equal(prep_catalog_find_municipality(c, c->entity_id, 6), 1);
    assert_int_equal(prep_catalog_find_municipality(c, c->entity_id, 1), PREP_CAT_NONE);
    assert_int_equal(prep_catalog_find_party(c, "MORENA"), 5);
    assert_int_equal(prep_catalog_find_party(c, "morena"), PREP_CAT_NONE);
    assert_int_equal(prep_catalog_find_election(c, "ayu"), 2);
    assert_int_equal(prep_catalog_find_election(c, "pres"), PREP_CAT_NONE);
    assert_int_equal(prep_catalog_find_column(c, 1, "C_PRI_PRD"), 9);
    assert_int_equal(prep_catalog_find_column(c, 1, "NULOS"), 12);
    assert_int_equal(prep_catalog_find_column(c, 0, "CAND_IND_1"), PREP_CAT_NONE);
    assert_int_equal(prep_catalog_find_column(c, 7, "PAN"), PREP_CAT_NONE);
    assert_int_equal(prep_catalog_find_coalition(c, 1, "PP"), 2);
    assert_int_equal(prep_catalog_find_coalition(c, 0, "PP"), PREP_CAT_NONE);
    assert_int_equal(prep_catalog_find_coalition(c, 2, "JH"), 3);

    /* units: casilla 220015E0101 is in section 15: district 1 (index 0), Corregidora (1) */
    assert_int_equal(prep_catalog_unit_of(c, 0, 2), 0);
    assert_int_equal(prep_catalog_unit_of(c, 1, 2), 0);
    assert_int_equal(prep_catalog_unit_of(c, 2, 2), 1);
    /* 220230C0100 (index 7): section 230, district 2 (1), El Marqués (2) */
    assert_int_equal(prep_catalog_unit_of(c, 1, 7), 1);
    assert_int_equal(prep_catalog_unit_of(c, 2, 7), 2);
    assert_string_equal(prep_catalog_unit_name(c, 0, 0), "QUERÉTARO");
    assert_string_equal(prep_catalog_unit_name(c, 1, 1), "DISTRITO 02");
    assert_string_equal(prep_catalog_unit_name(c, 2, 2), "El Marqués");
    assert_null(prep_catalog_unit_name(c, 2, 3));

    /* the linear fallbacks give the same answers without an index */
    {
        void *saved = c->_index;
        c->_index = NULL;
        assert_int_equal(prep_catalog_find_casilla(c, "220015E0101"), 2);
        assert_int_equal(prep_catalog_find_section(c, c->entity_id, 412), 4);
        assert_int_equal(prep_catalog_find_column(c, 1, "C_PRI_PRD"), 9);
        assert_int_equal(prep_catalog_find_coalition(c, 1, "PP"), 2);
        assert_int_equal(prep_catalog_find_municipality(c, c->entity_id, 11), 2);
        c->_index = saved;
    }
    /* and reindex rebuilds it */
    assert_int_equal(prep_catalog_reindex(c), PREP_OK);
    assert_int_equal(prep_catalog_find_casilla(c, "220412C0200"), 11);
    prep_catalog_free(c);
}

static void test_keys(void **st)
{
    (void)st;
    char k[24], a[28];
    /* the QROO 2019 file: ="230085B0100", CLAVE_ACTA 230085B010002 */
    prep_catalog_casilla_key(23, 85, 'B', 1, 0, k);
    assert_string_equal(k, "230085B0100");
    prep_catalog_acta_key(k, 2, a);
    assert_string_equal(a, "230085B010002");
    prep_catalog_casilla_key(22, 412, 'E', 3, 12, k);
    assert_string_equal(k, "220412E0312");
    prep_catalog_casilla_key(9, 9999, 'S', 99, 99, k);
    assert_string_equal(k, "099999S9999");
    prep_catalog_acta_key("220412E0312", 0, a);
    assert_string_equal(a, "220412E031200");
    /* out of range never overflows the buffer */
    prep_catalog_casilla_key(4000000000u, 4000000000u, 'B', 4000000000u, 4000000000u, k);
    assert_true(strlen(k) < 24);
}

/* ---------------------------------------------------------------- round trip */
static void assert_same_catalog(const prep_catalog *a, const prep_catalog *b)
{
    assert_string_equal(a->process_id, b->process_id);
    assert_string_equal(a->process_name, b->process_name);
    assert_string_equal(a->institute, b->institute);
    assert_int_equal(a->entity_id, b->entity_id);
    assert_string_equal(a->entity_name, b->entity_name);
    assert_string_equal(a->timezone, b->timezone);
    assert_int_equal(a->window_open, b->window_open);
    assert_int_equal(a->window_close, b->window_close);
    assert_int_equal(a->cut_interval, b->cut_interval);
    assert_string_equal(a->combo_prefix, b->combo_prefix);
    assert_int_equal(a->independents_first, b->independents_first);
    assert_int_equal(a->csv_sep, b->csv_sep);
    assert_int_equal(a->rules.specials, b->rules.specials);
    assert_int_equal(a->pct_decimals, b->pct_decimals);
    assert_string_equal(a->labels.some_illegible, b->labels.some_illegible);
    assert_string_equal(a->labels.out_of_catalog, b->labels.out_of_catalog);
    assert_string_equal(a->labels.no_acta_no_envelope, b->labels.no_acta_no_envelope);
    assert_int_equal(a->n_parties, b->n_parties);
    for (uint32_t i = 0; i < a->n_parties; i++) {
        assert_string_equal(a->parties[i].id, b->parties[i].id);
        assert_string_equal(a->parties[i].name, b->parties[i].name);
        assert_string_equal(a->parties[i].color, b->parties[i].color);
        assert_int_equal(a->parties[i].seniority, b->parties[i].seniority);
        assert_true(!a->parties[i].combo_name == !b->parties[i].combo_name);
        if (a->parties[i].combo_name) assert_string_equal(a->parties[i].combo_name, b->parties[i].combo_name);
    }
    assert_int_equal(a->n_districts, b->n_districts);
    for (uint32_t i = 0; i < a->n_districts; i++) {
        assert_int_equal(a->districts[i].id, b->districts[i].id);
        assert_string_equal(a->districts[i].name, b->districts[i].name);
        assert_string_equal(a->districts[i].slug, b->districts[i].slug);
    }
    assert_int_equal(a->n_municipalities, b->n_municipalities);
    for (uint32_t i = 0; i < a->n_municipalities; i++) {
        assert_int_equal(a->municipalities[i].id, b->municipalities[i].id);
        assert_string_equal(a->municipalities[i].name, b->municipalities[i].name);
    }
    assert_int_equal(a->n_sections, b->n_sections);
    assert_memory_equal(a->sections, b->sections, a->n_sections * sizeof *a->sections);
    assert_int_equal(a->n_casillas, b->n_casillas);
    assert_memory_equal(a->casillas, b->casillas, a->n_casillas * sizeof *a->casillas);
    assert_int_equal(a->n_elections, b->n_elections);
    for (uint32_t e = 0; e < a->n_elections; e++) {
        const prep_cat_election *x = &a->elections[e], *y = &b->elections[e];
        assert_string_equal(x->id, y->id);
        assert_string_equal(x->name, y->name);
        assert_string_equal(x->title, y->title);
        assert_string_equal(x->slug, y->slug);
        assert_int_equal(x->scope, y->scope);
        assert_int_equal(x->acta_type, y->acta_type);
        assert_int_equal(x->n_indep_declared, y->n_indep_declared);
        assert_true(!x->indep_names == !y->indep_names);
        for (uint32_t k = 0; x->indep_names && k < x->n_indep_declared; k++)
            assert_string_equal(x->indep_names[k], y->indep_names[k]);
        assert_int_equal(x->n_cols, y->n_cols);
        for (uint32_t k = 0; k < x->n_cols; k++) {
            assert_string_equal(x->cols[k].name, y->cols[k].name);
            assert_int_equal(x->cols[k].kind, y->cols[k].kind);
            assert_int_equal(x->cols[k].n_parties, y->cols[k].n_parties);
            assert_memory_equal(x->cols[k].parties, y->cols[k].parties, sizeof x->cols[k].parties);
            assert_int_equal(x->cols[k].indep_no, y->cols[k].indep_no);
        }
        assert_int_equal(x->n_units, y->n_units);
        assert_memory_equal(x->col_applies, y->col_applies, (size_t)x->n_units * x->n_cols);
        assert_memory_equal(x->cand_first, y->cand_first, ((size_t)x->n_units + 1) * sizeof *x->cand_first);
        assert_memory_equal(x->cand_index, y->cand_index, x->cand_first[x->n_units] * sizeof *x->cand_index);
    }
    assert_int_equal(a->n_coalitions, b->n_coalitions);
    for (uint32_t i = 0; i < a->n_coalitions; i++) {
        assert_string_equal(a->coalitions[i].id, b->coalitions[i].id);
        assert_string_equal(a->coalitions[i].name, b->coalitions[i].name);
        assert_int_equal(a->coalitions[i].election, b->coalitions[i].election);
        assert_int_equal(a->coalitions[i].n_parties, b->coalitions[i].n_parties);
        assert_memory_equal(a->coalitions[i].parties, b->coalitions[i].parties, sizeof a->coalitions[i].parties);
    }
    assert_int_equal(a->n_candidacies, b->n_candidacies);
    for (uint32_t i = 0; i < a->n_candidacies; i++) {
        const prep_cat_candidacy *x = &a->candidacies[i], *y = &b->candidacies[i];
        assert_int_equal(x->election, y->election);
        assert_int_equal(x->unit, y->unit);
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->ref, y->ref);
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->n_cols, y->n_cols);
        assert_memory_equal(x->cols, y->cols, x->n_cols * sizeof *x->cols);
    }
}

static prep_catalog *parse_ok(const char *name, const char *text, size_t len)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    prep_err r = prep_catalog_parse(name, text, len, &c, &d);
    if (r != PREP_OK) prep_diags_print(&d, stderr, 0);
    assert_int_equal(r, PREP_OK);
    assert_int_equal(d.total, 0);
    prep_diags_free(&d);
    return c;
}

static void test_round_trip(void **st)
{
    (void)st;
    prep_catalog *c = load_small();
    prep_buf w1, w2;
    prep_buf_init(&w1, 0);
    prep_buf_init(&w2, 0);
    assert_int_equal(prep_catalog_write(c, &w1), PREP_OK);
    /* the canonical text starts with the version and the process block */
    assert_true(!strncmp(w1.data, "prep-catalog 1\n\n[process]\nid = test2021\n", 40));
    assert_non_null(strstr(w1.data, "window_open = 2021-06-06 20:00:00\n"));
    assert_non_null(strstr(w1.data, "combo_prefix = C_\n"));
    /* sections come out sorted */
    assert_non_null(strstr(w1.data, "[sections]\nid|district|municipality\n15|1|6\n100|1|14\n230|2|11\n"));
    prep_catalog *c2 = parse_ok("written", w1.data, w1.len);
    assert_same_catalog(c, c2);
    assert_int_equal(prep_catalog_write(c2, &w2), PREP_OK);
    assert_int_equal(w1.len, w2.len);
    assert_memory_equal(w1.data, w2.data, w1.len);
    prep_catalog_free(c2);

    /* write appends; an unwritable value fails and appends nothing */
    size_t before = w2.len;
    char *saved = c->parties[1].name;
    c->parties[1].name = (char *)"Partido | Roto";
    assert_int_equal(prep_catalog_write(c, &w2), PREP_ERR_INVALID);
    assert_int_equal(w2.len, before);
    c->parties[1].name = (char *)"Partido #";                      /* '|' follows: not a comment */
    assert_int_equal(prep_catalog_write(c, &w2), PREP_OK);
    before = w2.len;
    char *saved_cand = c->candidacies[0].name;
    c->candidacies[0].name = (char *)"Ana #";                      /* last field: would be a comment */
    assert_int_equal(prep_catalog_write(c, &w2), PREP_ERR_INVALID);
    c->candidacies[0].name = saved_cand;
    c->parties[1].name = (char *)"Partido # 2";
    assert_int_equal(prep_catalog_write(c, &w2), PREP_ERR_INVALID);
    c->parties[1].name = (char *)"Partido #2";                     /* no blank after '#': fine */
    assert_int_equal(prep_catalog_write(c, &w2), PREP_OK);
    c->parties[1].name = saved;
    prep_buf_free(&w1);
    prep_buf_free(&w2);
    prep_catalog_free(c);
}

/* A split section (catalog.h): Campeche 2021's section 333 in Champotón (4) and in the new
 * municipality Seybaplaya (13), its two casillas with an acta in each part, each part with
 * its own lista nominal; an ayuntamientos election, whose units (municipalities) tell the
 * parts apart. Every figure below is from this text. */
static const char SPLIT[] =
    "prep-catalog 1\n[process]\nid = camp\nname = Prueba\ninstitute = IEEC\nentity_id = 4\nentity = CAMPECHE\n"
    "timezone = America/Mexico_City\nwindow_open = 2021-06-06 19:00\nwindow_close = 2021-06-07 20:00\n"
    "[parties]\nid|name|color\nPAN|PAN|#0055A5\nMORENA|Morena|#B5261E\n"
    "[districts]\nid|name\n1|DISTRITO 01\n"
    "[municipalities]\nid|name\n4|CHAMPOTON\n13|SEYBAPLAYA\n"
    "[sections]\nid|district|municipality\n332|1|4\n333|1|4\n333|1|13\n"
    "[casillas]\nsection|type|number|ext|urban|lista_nominal|representatives|ballots|district|municipality\n"
    "332|B|1|0|2|512|4|0||\n"
    "333|B|1|0|2|606|4|0||4\n333|C|1|0|2|605|4|0|1|4\n"
    "333|B|1|0|2|9|4|0||13\n333|C|1|0|2|9|4|0|1|13\n"
    "[elections]\nid|name|title|scope|acta_type|parties\nayu|AYUNTAMIENTOS|Ayuntamientos|municipality|2|PAN MORENA\n"
    "[candidacies]\nelection|unit|contender|name\nayu|4|PAN|Ana\nayu|4|MORENA|Beto\nayu|13|PAN|Carla\nayu|13|MORENA|Dora\n";

static void test_split_sections(void **st)
{
    (void)st;
    prep_catalog *c = parse_ok("split", SPLIT, strlen(SPLIT));
    assert_int_equal(c->n_sections, 3);
    assert_int_equal(c->n_casillas, 5);
    /* the lookup by number finds the first part; both parts are counted */
    uint32_t s333 = prep_catalog_find_section(c, 4, 333), first = 99, nth = 99;
    assert_int_equal(s333, 1);
    assert_int_equal(prep_catalog_section_parts(c, 2, &first, &nth), 2);
    assert_int_equal(first, 1);
    assert_int_equal(nth, 1);
    assert_int_equal(prep_catalog_section_parts(c, 0, &first, &nth), 1);
    assert_int_equal(c->municipalities[c->sections[1].municipality].id, 4);
    assert_int_equal(c->municipalities[c->sections[2].municipality].id, 13);
    assert_int_equal(c->sections[1].n_casillas, 2);
    assert_int_equal(c->sections[2].n_casillas, 2);
    /* one key, two casillas: the first part's by key, the other by the part's unit */
    uint32_t k = prep_catalog_find_casilla(c, "040333C0100");
    assert_int_not_equal(k, PREP_CAT_NONE);
    assert_int_equal(c->casillas[k].section, 1);
    assert_int_equal(c->casillas[k].lista_nominal, 605);
    uint32_t k13 = prep_catalog_casilla_part(c, k, 0, 13, NULL);
    assert_int_not_equal(k13, PREP_CAT_NONE);
    assert_string_equal(c->casillas[k13].key, "040333C0100");
    assert_int_equal(c->casillas[k13].section, 2);
    assert_int_equal(c->casillas[k13].lista_nominal, 9);
    assert_int_equal(prep_catalog_casilla_part(c, k13, 1, 4, NULL), k);
    uint32_t matched = 99;
    assert_int_equal(prep_catalog_casilla_part(c, k, 0, 0, &matched), PREP_CAT_NONE); /* both parts match */
    assert_int_equal(matched, 2);
    assert_int_equal(prep_catalog_casilla_part(c, k, 1, 0, &matched), PREP_CAT_NONE); /* one district */
    assert_int_equal(matched, 2);
    assert_int_equal(prep_catalog_casilla_part(c, k, 0, 5, &matched), PREP_CAT_NONE); /* no such part */
    assert_int_equal(matched, 0);
    uint32_t k332 = prep_catalog_find_casilla(c, "040332B0100");
    assert_int_equal(prep_catalog_casilla_part(c, k332, 0, 0, NULL), k332); /* not split */
    /* the units: each part's casillas in its own municipality */
    uint32_t ayu = prep_catalog_find_election(c, "ayu");
    assert_int_equal(c->municipalities[prep_catalog_unit_of(c, ayu, k)].id, 4);
    assert_int_equal(c->municipalities[prep_catalog_unit_of(c, ayu, k13)].id, 13);
    /* names in paths: the later part carries its municipality */
    char nm[48];
    prep_catalog_section_name(c, 1, nm);
    assert_string_equal(nm, "0333");
    prep_catalog_section_name(c, 2, nm);
    assert_string_equal(nm, "0333-seybaplaya");
    /* written and read back: the parts and each casilla's part survive */
    prep_buf w;
    prep_buf_init(&w, 0);
    assert_int_equal(prep_catalog_write(c, &w), PREP_OK);
    assert_non_null(strstr(w.data, "[sections]\nid|district|municipality\n332|1|4\n333|1|4\n333|1|13\n"));
    assert_non_null(strstr(w.data, "ballots|district|municipality\n"));
    assert_non_null(strstr(w.data, "333|C|1|0|2|9|4|0|1|13\n"));
    prep_catalog *c2 = parse_ok("written", w.data, w.len);
    assert_int_equal(c2->n_casillas, 5);
    assert_int_equal(c2->casillas[prep_catalog_casilla_part(c2, prep_catalog_find_casilla(c2, "040333B0100"), 0, 13, NULL)]
                         .lista_nominal, 9);
    prep_catalog_free(c2);
    prep_buf_free(&w);
    prep_catalog_free(c);

    /* a gubernatura (one unit) beside it: the parts share casillas, whose two actas would
     * count over one ballot box there; parts that share none may be in one unit */
    static const char gub[] = "gub|GUBERNATURA|Gubernatura|entity|1|PAN MORENA\n[candidacies]";
    char *g = subst(SPLIT, "[candidacies]", gub);
    char *g2 = subst(g, "\nayu|4|PAN", "\ngub|*|PAN|Eva\nayu|4|PAN");
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *bad = NULL;
    assert_int_equal(prep_catalog_parse("g", g2, strlen(g2), &bad, &d), PREP_ERR_INVALID);
    assert_null(bad);
    assert_int_equal(d.total, 1);
    assert_string_equal(d.v[0].kind, "split-section");
    assert_int_equal(d.v[0].line, 26); /* the second part, 333|1|13 */
    prep_diags_free(&d);
    /* a section in more places than a split has: the ninth part is too many */
    prep_buf many;
    prep_buf_init(&many, 0);
    prep_buf_puts(&many, "prep-catalog 1\n[process]\nid = m\nname = M\ninstitute = I\nentity_id = 4\nentity = C\n"
                         "timezone = America/Mexico_City\nwindow_open = 2021-06-06 19:00\nwindow_close = 2021-06-07 20:00\n"
                         "[parties]\nid|name|color\nPAN|PAN|#0055A5\n[districts]\nid|name\n1|D1\n[municipalities]\nid|name\n");
    for (int m = 1; m <= 9; m++) prep_buf_printf(&many, "%d|M%d\n", m, m);
    prep_buf_puts(&many, "[sections]\nid|district|municipality\n"); /* lines 28, 29 */
    for (int m = 1; m <= 9; m++) prep_buf_printf(&many, "7|1|%d\n", m); /* lines 30..38 */
    prep_buf_puts(&many, "[casillas]\nsection|type|number|ext|urban|lista_nominal|representatives|ballots|district|"
                         "municipality\n7|B|1|0|1|10|2|0||1\n[elections]\nid|name|title|scope|acta_type|parties\n"
                         "ayu|A|A|municipality|2|PAN\n[candidacies]\nelection|unit|contender|name\nayu|1|PAN|X\n");
    prep_diags_init(&d);
    bad = NULL;
    assert_int_equal(prep_catalog_parse("many", many.data, many.len, &bad, &d), PREP_ERR_LIMIT);
    assert_null(bad);
    assert_string_equal(d.v[0].kind, "too-many");
    assert_int_equal(d.v[0].line, 38);
    prep_diags_free(&d);
    prep_buf_free(&many);
    char *g3 = subst(g2, "333|B|1|0|2|9|4|0||13\n333|C|1|0|2|9|4|0|1|13\n", "333|E|1|0|2|9|4|0||13\n");
    prep_catalog *ok = parse_ok("g3", g3, strlen(g3));
    assert_int_equal(ok->n_casillas, 4);
    prep_catalog_free(ok);
    free(g);
    free(g2);
    free(g3);
}

/* The INE 2021 options: no combination prefix, independents right after the parties. */
static void test_variants(void **st)
{
    (void)st;
    size_t len;
    char *base = read_small(&len);
    char *t1 = subst(base, "combo_prefix = C_", "combo_prefix = \"\"");
    char *t2 = subst(t1, "independents_first = no", "independents_first = yes");
    prep_catalog *c = parse_ok("ine", t2, strlen(t2));
    assert_string_equal(c->combo_prefix, "");
    static const char *const dip[] = {"PAN",        "PRI",        "PRD",     "PVEM",    "PT",
                                      "MORENA",     "CAND_IND_1", "PAN_PRI_PRD", "PAN_PRI", "PAN_PRD",
                                      "PRI_PRD",    "NO_REGISTRADOS", "NULOS"};
    assert_cols(c, "dip", dip, 13);
    /* the independent is column 6 now */
    assert_int_equal(c->candidacies[12].ref, 6);
    /* it writes back with combo_prefix = "" and reads back the same */
    prep_buf w;
    prep_buf_init(&w, 0);
    assert_int_equal(prep_catalog_write(c, &w), PREP_OK);
    assert_non_null(strstr(w.data, "combo_prefix = \"\"\n"));
    assert_non_null(strstr(w.data, "independents_first = yes\n"));
    prep_catalog *c2 = parse_ok("ine2", w.data, w.len);
    assert_same_catalog(c, c2);
    prep_catalog_free(c2);
    prep_buf_free(&w);
    prep_catalog_free(c);

    /* CRLF line ends and a byte-order mark read the same */
    prep_buf crlf;
    prep_buf_init(&crlf, 0);
    prep_buf_puts(&crlf, "\xEF\xBB\xBF");
    for (const char *p = base; *p; p++) {
        if (*p == '\n') prep_buf_putc(&crlf, '\r');
        prep_buf_putc(&crlf, *p);
    }
    prep_catalog *c3 = parse_ok("crlf", crlf.data, crlf.len);
    prep_catalog *c4 = parse_ok("lf", base, len);
    assert_same_catalog(c3, c4);
    prep_catalog_free(c3);
    prep_catalog_free(c4);
    prep_buf_free(&crlf);

    /* sections may come in any order: candidacies first, process last */
    const char *cand = strstr(base, "[candidacies]");
    const char *parties = strstr(base, "[parties]");
    assert_non_null(cand);
    assert_non_null(parties);
    prep_buf moved;
    prep_buf_init(&moved, 0);
    prep_buf_puts(&moved, "prep-catalog 1\n");
    prep_buf_puts(&moved, cand);                                  /* candidacies */
    prep_buf_append(&moved, parties, (size_t)(cand - parties));   /* parties .. coalitions */
    const char *proc = strstr(base, "[process]");
    prep_buf_append(&moved, proc, (size_t)(parties - proc));      /* process, labels */
    prep_catalog *c5 = parse_ok("moved", moved.data, moved.len);
    c4 = parse_ok("lf", base, len);
    assert_same_catalog(c4, c5);
    prep_catalog_free(c4);
    prep_catalog_free(c5);
    prep_buf_free(&moved);
    free(t1);
    free(t2);
    free(base);
}

/* What real files spell otherwise (docs/formats/catalog.md): a party whose combinations
 * name it by another word (Queretaro 2018: party M, combinations MORENA_PT_PES), the
 * independent columns an election declares beyond its candidacies (Queretaro 2018:
 * CAND_IND_26..31, which no candidacy uses) or names (Sonora 2021: CAND_IND_JHZM). */
static void test_spelled_columns(void **st)
{
    (void)st;
    size_t len;
    char *base = read_small(&len);
    /* MORENA is written M; its combinations spell it MORENA */
    char *t1 = subst(base, "id|name|color\nPAN|Partido Acci\xC3\xB3n Nacional|#0055A5\n",
                     "id|name|color|combo_name\nPAN|Partido Acci\xC3\xB3n Nacional|#0055A5|\n");
    char *t2 = subst(t1, "#E30613\nPRD|Partido de la Revoluci\xC3\xB3n Democr\xC3\xA1tica|#FFD700\nPVEM|"
                         "Partido Verde Ecologista de M\xC3\xA9xico|#50B747\nPT|Partido del Trabajo|#D52B1E\n"
                         "MORENA|Morena|#B5261E\n",
                     "#E30613|\nPRD|Partido de la Revoluci\xC3\xB3n Democr\xC3\xA1tica|#FFD700|\nPVEM|"
                     "Partido Verde Ecologista de M\xC3\xA9xico|#50B747|\nPT|Partido del Trabajo|#D52B1E|\n"
                     "M|Morena|#B5261E|MORENA\n");
    char *t3 = subst(t2, "PVEM PT MORENA\ndip", "PVEM PT M\ndip");       /* gub's parties */
    char *t4 = subst(t3, "PVEM PT MORENA\nayu", "PVEM PT M\nayu");       /* dip's */
    char *t5 = subst(t4, "PVEM PT MORENA\n\n", "PVEM PT M\n\n");        /* ayu's */
    char *t6 = subst(t5, "|MORENA PT\n", "|M PT\n");                     /* JHHQ */
    char *t7 = subst(t6, "|PT MORENA\n", "|PT M\n");                     /* JH */
    char *t8 = subst(t7, "gub|GUBERNATURA|Gubernatura|entity|1|PAN PRI PRD PVEM PT M\n",
                     "gub|GUBERNATURA|Gubernatura|entity|1|PAN PRI PRD PVEM PT M|\n");
    /* dip: the two independents named (one declared beyond its candidacies); ayu: 3
     * declared, its candidacies reach 2 */
    char *t9 = subst(t8, "acta_type|parties\n", "acta_type|parties|independents\n");
    char *t10 = subst(t9, "district|2|PAN PRI PRD PVEM PT M\n", "district|2|PAN PRI PRD PVEM PT M|CAND_IND_MNV CAND_IND_2\n");
    char *t11 = subst(t10, "municipality|3|PAN PRI PRD PVEM PT M\n", "municipality|3|PAN PRI PRD PVEM PT M|3\n");
    char *t12 = subst(t11, "dip|2|CAND_IND_1|", "dip|2|CAND_IND_MNV|");
    char *t13 = subst(t12, "dip|1|MORENA|", "dip|1|M|");
    char *t14 = subst(t13, "dip|2|MORENA|", "dip|2|M|");
    char *t15 = subst(t14, "ayu|6|MORENA|", "ayu|6|M|");
    prep_catalog *c = parse_ok("spelled", t15, strlen(t15));
    assert_string_equal(c->parties[5].id, "M");
    assert_string_equal(c->parties[5].combo_name, "MORENA");
    assert_null(c->parties[0].combo_name);
    assert_string_equal(prep_catalog_party_combo_name(&c->parties[5]), "MORENA");
    assert_string_equal(prep_catalog_party_combo_name(&c->parties[0]), "PAN");
    /* gub: JHHQ is PT and M, in ballot order PT, M: the column spells M as MORENA */
    static const char *const gub[] = {"PAN", "PRI", "PRD", "PVEM", "PT", "M", "C_PT_MORENA", "NO_REGISTRADOS", "NULOS"};
    assert_cols(c, "gub", gub, 9);
    static const char *const dip[] = {"PAN",     "PRI",     "PRD",          "PVEM",       "PT",
                                      "M",       "C_PAN_PRI_PRD", "C_PAN_PRI", "C_PAN_PRD", "C_PRI_PRD",
                                      "CAND_IND_MNV", "CAND_IND_2", "NO_REGISTRADOS", "NULOS"};
    assert_cols(c, "dip", dip, 14);
    uint32_t e = prep_catalog_find_election(c, "dip");
    assert_int_equal(c->elections[e].n_indep_declared, 2);
    assert_int_equal(c->elections[e].cols[10].indep_no, 1);
    assert_int_equal(c->elections[e].cols[11].indep_no, 2);
    /* Marta's candidacy is the named column */
    assert_int_equal(c->candidacies[12].kind, PREP_CAT_CAND_INDEP);
    assert_string_equal(c->elections[e].cols[c->candidacies[12].ref].name, "CAND_IND_MNV");
    static const char *const ayu[] = {"PAN",        "PRI",        "PRD",        "PVEM",           "PT",   "M",
                                      "C_PT_MORENA", "CAND_IND_1", "CAND_IND_2", "CAND_IND_3", "NO_REGISTRADOS",
                                      "NULOS"};
    assert_cols(c, "ayu", ayu, 12);
    /* written and read back the same; the columns only where used */
    prep_buf w;
    prep_buf_init(&w, 0);
    assert_int_equal(prep_catalog_write(c, &w), PREP_OK);
    assert_non_null(strstr(w.data, "[parties]\nid|name|color|combo_name\nPAN|Partido Acci\xC3\xB3n Nacional|#0055A5|\n"));
    assert_non_null(strstr(w.data, "\nM|Morena|#B5261E|MORENA\n"));
    assert_non_null(strstr(w.data, "|acta_type|parties|independents\n"));
    assert_non_null(strstr(w.data, "|PAN PRI PRD PVEM PT M|CAND_IND_MNV CAND_IND_2\n"));
    assert_non_null(strstr(w.data, "|PAN PRI PRD PVEM PT M|3\n"));
    assert_non_null(strstr(w.data, "|PAN PRI PRD PVEM PT M|\n"));
    assert_non_null(strstr(w.data, "dip|2|CAND_IND_MNV|"));
    prep_catalog *c2 = parse_ok("spelled2", w.data, w.len);
    assert_same_catalog(c, c2);
    prep_catalog_free(c2);
    prep_buf_free(&w);
    prep_catalog_free(c);
    /* and a catalogue without them writes neither column */
    c = load_small();
    prep_buf_init(&w, 0);
    assert_int_equal(prep_catalog_write(c, &w), PREP_OK);
    assert_null(strstr(w.data, "combo_name"));
    assert_null(strstr(w.data, "independents\n"));
    prep_buf_free(&w);
    prep_catalog_free(c);
    char *ts[] = {t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15, base};
    for (size_t i = 0; i < PREP_ARRAY_LEN(ts); i++) free(ts[i]);
}

static void test_load_errors(void **st)
{
    (void)st;
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = (prep_catalog *)&d; /* must be reset to NULL */
    assert_int_equal(prep_catalog_load(PREP_TEST_DATA "/catalog/no-such-file.cat", &c, &d), PREP_ERR_NOTFOUND);
    assert_null(c);
    const prep_diag *g = prep_diags_find(&d, "io");
    assert_non_null(g);
    assert_int_equal(g->line, 0);
    prep_diags_free(&d);
    /* parsing without a diags list still reports through the return code */
    c = (prep_catalog *)&d;
    assert_int_equal(prep_catalog_parse("x", "nonsense\n", 9, &c, NULL), PREP_ERR_PARSE);
    assert_null(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_process_and_counts),
        cmocka_unit_test(test_geography),
        cmocka_unit_test(test_columns),
        cmocka_unit_test(test_applicability),
        cmocka_unit_test(test_candidacies),
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_split_sections),
        cmocka_unit_test(test_variants),
        cmocka_unit_test(test_spelled_columns),
        cmocka_unit_test(test_load_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
