/* Shared by the unit tests of tests/data/catalog/national.cat (test_tally_national.c,
 * test_render_national.c): a capture written by hand. Include after cmocka.h. */
#ifndef PREP_TEST_NATIONAL_CAPTURE_H
#define PREP_TEST_NATIONAL_CAPTURE_H

#include <stdio.h>
#include <string.h>

#include "prep/tally.h"

/* the columns of every election of national.cat: PAN PRI MORENA NO_REGISTRADOS NULOS */
#define NATIONAL_NC 5

/* Applies to t a legible, consistent acta of casilla `key` of election e, with TIPO_ACTA
 * `type` and these votes, captured 10 minutes after the window opens. */
static inline void national_capture(prep_tally *t, const prep_catalog *c, uint32_t e, const char *key, uint32_t type,
                                    const int32_t v[NATIONAL_NC])
{
    prep_acta a;
    memset(&a, 0, sizeof a);
    a.casilla = prep_catalog_find_casilla(c, key);
    assert_int_not_equal(a.casilla, PREP_CAT_NONE);
    const prep_cat_casilla *cs = &c->casillas[a.casilla];
    const prep_cat_section *s = &c->sections[cs->section];
    snprintf(a.clave_casilla, sizeof a.clave_casilla, "%s", key);
    prep_catalog_acta_key(key, type, a.clave_acta);
    a.section_id = s->id;
    a.district_id = c->districts[s->district].id;
    a.municipality_id = c->municipalities[s->municipality].id;
    a.tipo_casilla = cs->type;
    a.id_casilla = cs->number;
    a.urban = cs->urban;
    a.lista_nominal = cs->lista_nominal;
    a.representatives = cs->representatives;
    a.acopio = a.captura = a.verificacion = c->window_open + 600;
    a.cotejada = -1;
    int32_t total = 0;
    for (int j = 0; j < NATIONAL_NC; j++) total += v[j];
    a.boletas_sobrantes = 10;
    a.personas_votaron = a.votos_sacados = a.total_asentado = total;
    assert_int_equal(prep_tally_apply(t, e, &a, v), PREP_OK);
}

#endif
