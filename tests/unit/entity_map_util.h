/* Shared by the entity-map tests (test_catalog_entity_map.c, test_render_entity_map.c):
 * a national catalogue of the 32 entities (INEGI keys 1..32, "ENTIDAD 01".."ENTIDAD 32"),
 * one district, municipality, section and casilla each, four parties, and three
 * elections — presidencia (nation scope, a PAN-PRI-PRD coalition and MORENA), senadurías
 * (entity scope, PAN and MORENA in every entity) and diputaciones (district scope) — plus,
 * optionally, the map read from the real file of shared/data/geo. */
#ifndef TEST_ENTITY_MAP_UTIL_H
#define TEST_ENTITY_MAP_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prep/catalog.h"

#define EM_N 32u
#define EM_GEOJSON PREP_SHARED_DATA "/geo/mexico-entidades.geojson"

/* The catalogue's text (owned); extra_process is added to [process] ("" for none), tail
 * after the last table ("" for none). */
static inline char *em_cat_text(const char *extra_process, const char *tail)
{
    prep_buf b;
    prep_buf_init(&b, 0);
    prep_err e = prep_buf_printf(&b,
                                 "prep-catalog 1\n[process]\nid = nac\nname = Prueba nacional\n"
                                 "institute = INE\nentity_id = 0\nentity = ESTADOS UNIDOS MEXICANOS\n"
                                 "timezone = America/Mexico_City\nwindow_open = 2024-06-02 20:00\n"
                                 "window_close = 2024-06-03 20:00\n%s\n[entities]\nid|name|circ\n",
                                 extra_process);
    for (unsigned i = 1; i <= EM_N && !e; i++) e = prep_buf_printf(&b, "%u|ENTIDAD %02u|%u\n", i, i, 1 + i % 5);
    if (!e)
        e = prep_buf_puts(&b, "\n[parties]\nid|name|color\nPAN|Partido Acción Nacional|#0055A5\n"
                              "PRI|Partido Revolucionario Institucional|#E30613\nPRD|Partido de la Revolución "
                              "Democrática|#FFD700\nMORENA|Morena|#B5261E\n\n[districts]\nentity|id|name\n");
    for (unsigned i = 1; i <= EM_N && !e; i++) e = prep_buf_printf(&b, "%u|1|DISTRITO 01\n", i);
    if (!e) e = prep_buf_puts(&b, "\n[municipalities]\nentity|id|name\n");
    for (unsigned i = 1; i <= EM_N && !e; i++) e = prep_buf_printf(&b, "%u|1|Municipio %02u\n", i, i);
    if (!e) e = prep_buf_puts(&b, "\n[sections]\nentity|id|district|municipality\n");
    for (unsigned i = 1; i <= EM_N && !e; i++) e = prep_buf_printf(&b, "%u|%u|1|1\n", i, 100 + i);
    if (!e)
        e = prep_buf_puts(&b, "\n[casillas]\nentity|section|type|number|ext|urban|lista_nominal|"
                              "representatives|ballots\n");
    for (unsigned i = 1; i <= EM_N && !e; i++) e = prep_buf_printf(&b, "%u|%u|B|1|0|1|500|4|0\n", i, 100 + i);
    if (!e)
        e = prep_buf_puts(&b, "\n[elections]\nid|name|title|scope|acta_type|parties\n"
                              "pres|PRESIDENCIA|Presidencia|nation|2|PAN PRI PRD MORENA\n"
                              "sen|SENADURIAS|Senadurías|entity|3|PAN MORENA\n"
                              "dip|DIPUTACIONES|Diputaciones|district|6|PAN MORENA\n"
                              "\n[coalitions]\nelection|id|name|parties\npres|FXM|Fuerza y Corazón|PAN PRI PRD\n"
                              "\n[candidacies]\nelection|unit|contender|name\npres|*|FXM|CANDIDATA A\n"
                              "pres|*|MORENA|CANDIDATA B\n");
    for (unsigned i = 1; i <= EM_N && !e; i++)
        e = prep_buf_printf(&b, "sen|%u|PAN|FORMULA PAN %02u\nsen|%u|MORENA|FORMULA MORENA %02u\n", i, i, i, i);
    for (unsigned i = 1; i <= EM_N && !e; i++)
        e = prep_buf_printf(&b, "dip|%u-1|PAN|DIP PAN %02u\ndip|%u-1|MORENA|DIP MORENA %02u\n", i, i, i, i);
    if (!e) e = prep_buf_puts(&b, tail);
    if (e) {
        prep_buf_free(&b);
        return NULL;
    }
    return prep_buf_steal(&b, NULL);
}

/* The catalogue parsed (NULL on error, diags printed). */
static inline prep_catalog *em_cat(const char *extra_process, const char *tail)
{
    char *text = em_cat_text(extra_process, tail);
    if (!text) return NULL;
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    if (prep_catalog_parse("nac.cat", text, strlen(text), &c, &d)) prep_diags_print(&d, stderr, 10);
    prep_diags_free(&d);
    free(text);
    return c;
}

#endif
