/* libFuzzer target: the GeoJSON map builder (prep_catalog_shapes_from_geojson_mem) on
 * arbitrary bytes, against a small catalogue with municipalities 1..18 or (one input in
 * five) a national one with entities 1..18, whose map is of entities. It must never
 * crash, hang or leak; a refusal always says why and leaves the catalogue as it was; an
 * accepted map must pass the path checker, write out, read back to the same shapes and
 * write again to the same bytes (docs/formats/catalog.md "Map"). Seeds: fuzz/corpus/geojson/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prep/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char BASE[] =
    "prep-catalog 1\n[process]\nid = f\nname = Fuzz\ninstitute = IEQ\nentity_id = 22\nentity = QUERETARO\n"
    "timezone = America/Mexico_City\nwindow_open = 2021-06-06 20:00\nwindow_close = 2021-06-07 20:00\n"
    "[parties]\nid|name|color\nPAN|Partido Accion Nacional|#0055A5\n"
    "[districts]\nid|name\n1|DISTRITO 01\n"
    "[municipalities]\nid|name\n1|M01\n2|M02\n3|M03\n4|M04\n5|M05\n6|M06\n7|M07\n8|M08\n9|M09\n10|M10\n"
    "11|M11\n12|M12\n13|M13\n14|M14\n15|M15\n16|M16\n17|M17\n18|M18\n"
    "[sections]\nid|district|municipality\n10|1|1\n"
    "[casillas]\nsection|type|number|ext|urban|lista_nominal|representatives|ballots\n10|B|1|0|1|500|4|0\n"
    "[elections]\nid|name|title|scope|acta_type|parties\ngub|GUBERNATURA|Gubernatura|entity|1|PAN\n"
    "[candidacies]\nelection|unit|contender|name\ngub|*|PAN|Ana\n";

/* The same ids as entities of a national catalogue (the seeds' CVE_MUN match them). */
static const char NATIONAL[] =
    "prep-catalog 1\n[process]\nid = f\nname = Fuzz\ninstitute = INE\nentity_id = 0\nentity = NACION\n"
    "timezone = America/Mexico_City\nwindow_open = 2021-06-06 20:00\nwindow_close = 2021-06-07 20:00\n"
    "[entities]\nid|name|circ\n1|E01|1\n2|E02|1\n3|E03|1\n4|E04|1\n5|E05|1\n6|E06|1\n7|E07|1\n8|E08|1\n"
    "9|E09|1\n10|E10|1\n11|E11|1\n12|E12|1\n13|E13|1\n14|E14|1\n15|E15|1\n16|E16|1\n17|E17|1\n18|E18|1\n"
    "[parties]\nid|name|color\nPAN|Partido Accion Nacional|#0055A5\n"
    "[districts]\nentity|id|name\n1|1|DISTRITO 01\n"
    "[municipalities]\nentity|id|name\n1|1|M01\n"
    "[sections]\nentity|id|district|municipality\n1|10|1|1\n"
    "[casillas]\nentity|section|type|number|ext|urban|lista_nominal|representatives|ballots\n1|10|B|1|0|1|500|4|0\n"
    "[elections]\nid|name|title|scope|acta_type|parties\npres|PRESIDENCIA|Presidencia|nation|2|PAN\n"
    "[candidacies]\nelection|unit|contender|name\npres|*|PAN|Ana\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    prep_catalog *c = NULL;
    prep_diags d;
    prep_diags_init(&d);
    d.max_keep = 50;
    int national = size % 5 == 0;
    const char *base = national ? NATIONAL : BASE;
    if (prep_catalog_parse("base.cat", base, strlen(base), &c, &d) != PREP_OK) abort();
    char **shape = NULL; /* the map's array after the call: entity_shape or municipality_shape */
    uint32_t nu = national ? c->n_entities : c->n_municipalities;
    /* vary the knobs with the input's length: default or narrow map, simplified or not */
    uint32_t width = size % 2 ? 0 : 64;
    double tol = size % 3 ? -1.0 : 0.0;
    prep_err r = prep_catalog_shapes_from_geojson_mem("fuzz.geojson", (const char *)data, size, "CVE_MUN", width, tol,
                                                      c, &d);
    shape = national ? c->entity_shape : c->municipality_shape;
    if (r == PREP_OK) {
        if (d.total != 0 || !c->has_map || !shape || (national ? c->municipality_shape : c->entity_shape)) abort();
        if (c->map_viewbox[0] || c->map_viewbox[1] || c->map_viewbox[2] != (width ? width : 600) ||
            c->map_viewbox[3] < 1 || c->map_viewbox[3] > PREP_CAT_MAX_MAP_COORD)
            abort();
        uint32_t n = 0;
        for (uint32_t m = 0; m < nu; m++)
            if (shape[m]) {
                n++;
                if (prep_catalog_path_check(shape[m], c->map_viewbox, NULL, NULL, 0)) abort();
            }
        if (!n) abort();
        prep_buf w1, w2;
        prep_buf_init(&w1, 0);
        prep_buf_init(&w2, 0);
        if (prep_catalog_write(c, &w1) != PREP_OK) abort();
        prep_catalog *c2 = NULL;
        prep_diags d2;
        prep_diags_init(&d2);
        if (prep_catalog_parse("w1", w1.data, w1.len, &c2, &d2) != PREP_OK) abort();
        for (uint32_t m = 0; m < nu; m++) {
            const char *a = shape[m], *b = (national ? c2->entity_shape : c2->municipality_shape)[m];
            if ((a == NULL) != (b == NULL) || (a && strcmp(a, b))) abort();
        }
        if (prep_catalog_write(c2, &w2) != PREP_OK) abort();
        if (w1.len != w2.len || memcmp(w1.data, w2.data, w1.len)) abort();
        prep_catalog_free(c2);
        prep_diags_free(&d2);
        prep_buf_free(&w1);
        prep_buf_free(&w2);
    } else {
        if (r != PREP_ERR_NOMEM && d.total == 0) abort(); /* every refusal says why */
        if (c->has_map || c->municipality_shape || c->entity_shape) abort(); /* and changes nothing */
    }
    prep_catalog_free(c);
    prep_diags_free(&d);
    return 0;
}
