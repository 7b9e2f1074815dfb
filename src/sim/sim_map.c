/* prep sim: the entity map of a national catalogue's text (docs/formats/sim.md). Works on
 * the text any national generator wrote, whatever its layout: reads it back, builds the
 * map of its entities from the GeoJSON (prep_catalog_shapes_from_geojson, matched by
 * state_code), puts map_viewbox at the top of [process] and the [shapes] table at the
 * end; everything else stays byte for byte. */
#include <stdlib.h>
#include <string.h>

#include "prep/sim.h"

/* Where the lines after the "[process]" header start, or NULL. */
static const char *process_body(const char *s, size_t n)
{
    for (size_t i = 0; i + 10 <= n; i++)
        if ((i == 0 || s[i - 1] == '\n') && !memcmp(s + i, "[process]\n", 10)) return s + i + 10;
    return NULL;
}

prep_err prep_sim_catalog_add_entity_map(prep_buf *text, const char *geojson_path, prep_diags *diags)
{
    if (!text || !geojson_path) return PREP_ERR_USAGE;
    prep_diags local;
    prep_diags_init(&local);
    prep_diags *d = diags ? diags : &local;
    prep_catalog *c = NULL;
    prep_buf out;
    prep_buf_init(&out, 0);
    prep_err e = prep_catalog_parse("sim.cat", text->data, text->len, &c, d);
    const char *proc = NULL;
    if (!e) {
        proc = process_body(text->data, text->len);
        if (!c->national || !proc) {
            prep_diags_add(d, "sim.cat", 0, 0, "bad-value", "an entity map needs a national catalogue (entity_id 0 "
                                                            "and [entities])");
            e = PREP_ERR_USAGE;
        }
    }
    if (!e)
        e = prep_catalog_shapes_from_geojson(geojson_path, "state_code", PREP_CAT_GEO_DEFAULT_WIDTH,
                                             PREP_CAT_GEO_NATIONAL_TOLERANCE, c, d);
    if (!e) {
        const uint32_t *v = c->map_viewbox;
        size_t head = (size_t)(proc - text->data);
        e = prep_buf_append(&out, text->data, head);
        if (!e) e = prep_buf_printf(&out, "map_viewbox = %u %u %u %u\n", v[0], v[1], v[2], v[3]);
        if (!e) e = prep_buf_append(&out, proc, text->len - head);
        if (!e)
            e = prep_buf_puts(&out, "\n# The entity map: INEGI's 32 entities (state_code), projected and simplified "
                                    "when\n# this catalogue was made (docs/formats/catalog.md \"Map from GeoJSON\").\n");
        if (!e) e = prep_catalog_write_shapes(c, &out);
    }
    if (!e) {
        prep_buf tmp = *text;
        *text = out;
        out = tmp;
    }
    prep_buf_free(&out);
    prep_catalog_free(c);
    prep_diags_free(&local);
    return e;
}
