/* Unit tests of the municipality map built from GeoJSON (src/catalog/geo.c,
 * docs/formats/catalog.md "Map from GeoJSON") and of the simulated Querétaro 2021
 * catalogue that carries it (prep_sim_catalog_text_geo).
 *
 * The exact paths of the small cases are worked out by hand below from the documented
 * projection and simplification; the real Querétaro file is checked for what a map must
 * be (18 shapes, inside the viewBox, borders shared without gaps, the state's extreme
 * municipalities where the source data puts them, a size bound). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prep/catalog.h"
#include "prep/sim.h"

#define QRO_GEOJSON PREP_SHARED_DATA "/geo/queretaro-municipios-2021.geojson"

/* A valid catalogue without a map: municipalities 1, 2 and 7 (index 0, 1, 2). */
static const char CAT[] =
    "prep-catalog 1\n"
    "[process]\n"
    "id = t\nname = Prueba\ninstitute = IEQ\nentity_id = 22\nentity = QUERETARO\n"
    "timezone = America/Mexico_City\nwindow_open = 2021-06-06 20:00\nwindow_close = 2021-06-07 20:00\n"
    "[parties]\nid|name|color\nPAN|Partido Accion Nacional|#0055A5\n"
    "[districts]\nid|name\n1|DISTRITO 01\n"
    "[municipalities]\nid|name\n1|Uno\n2|Dos\n7|Siete\n"
    "[sections]\nid|district|municipality\n10|1|1\n"
    "[casillas]\nsection|type|number|ext|urban|lista_nominal|representatives|ballots\n10|B|1|0|1|500|4|0\n"
    "[elections]\nid|name|title|scope|acta_type|parties\ngub|GUBERNATURA|Gubernatura|entity|1|PAN\n"
    "[candidacies]\nelection|unit|contender|name\ngub|*|PAN|Ana\n";

static prep_catalog *small_catalog(void)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    prep_err r = prep_catalog_parse("t.cat", CAT, strlen(CAT), &c, &d);
    if (r) prep_diags_print(&d, stderr, 0);
    assert_int_equal(r, PREP_OK);
    prep_diags_free(&d);
    return c;
}

static prep_err from_geojson(const char *json, double tol, prep_catalog *c, prep_diags *d)
{
    return prep_catalog_shapes_from_geojson_mem("t.geojson", json, strlen(json), NULL, 0, tol, c, d);
}

/* Writes c, reads it back and checks the map came through unchanged. */
static void assert_round_trip(const prep_catalog *c)
{
    prep_buf w;
    prep_buf_init(&w, 0);
    assert_int_equal(prep_catalog_write(c, &w), PREP_OK);
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c2 = NULL;
    prep_err r = prep_catalog_parse("w.cat", w.data, w.len, &c2, &d);
    if (r) prep_diags_print(&d, stderr, 0);
    assert_int_equal(r, PREP_OK);
    assert_int_equal(c2->has_map, 1);
    assert_memory_equal(c2->map_viewbox, c->map_viewbox, sizeof c->map_viewbox);
    for (uint32_t m = 0; m < c->n_municipalities; m++) {
        if (!c->municipality_shape[m]) assert_null(c2->municipality_shape[m]);
        else assert_string_equal(c2->municipality_shape[m], c->municipality_shape[m]);
    }
    prep_catalog_free(c2);
    prep_diags_free(&d);
    prep_buf_free(&w);
}

/* ---------------------------------------------------------------- hand-made cases */

/* A square (municipality 1) and a triangle (municipality 2, CVE_MUN as a JSON integer)
 * sharing the edge lon 2 from lat -1 to 1, with (2, 0) on it in both rings. The square
 * has two extra points: (1, -0.999) just inside its bottom edge and (1, 0.98) a little
 * below its top edge.
 *
 * Projection: box lon 0..4, lat -1..1; middle latitude 0, cos 0 = 1; s = 600 / 4 = 150;
 * height = 2 * 150 = 300. x = lon * 150, y = (1 - lat) * 150:
 *   (0,-1) -> (0,300)   (1,-0.999) -> (150,299.85)   (2,-1) -> (300,300)
 *   (2,0)  -> (300,150) (2,1) -> (300,0)   (1,0.98) -> (150,3)   (0,1) -> (0,0)
 *   (4,-1) -> (600,300)
 * Junctions: (2,-1) has neighbours {(1,-0.999),(2,0)} in the square and {(2,0),(4,-1)} in
 * the triangle; (2,1) likewise. (2,0) has {(2,-1),(2,1)} in both: not a junction. The
 * first positions at the extremes are kept as junctions too: west and south (0,-1), east
 * (4,-1), north (2,1) (before (0,1) in reading order).
 * Runs, each walked from its smaller end (lon, then lat), tolerance 1:
 *   (2,-1) (2,0) (2,1): (300,150) is 0 from the segment x = 300: dropped, in both rings.
 *   square, (0,-1) (1,-0.999) (2,-1): (150,299.85) is 0.15 from the segment y = 300:
 *     dropped.
 *   square, (2,1)..(0,-1) walked from (0,-1): (0,300) (0,0) (150,3) (300,0): (0,0) is
 *     150*sqrt(2) = 212.1 from the segment (0,300)-(300,0) (foot at t = 0.5), (150,3) is
 *     73.5*sqrt(2) = 103.9 (t = 0.745): (0,0) kept. Then (0,0)-(300,0): (150,3) is 3
 *     away: kept.
 *   triangle, (2,-1) (4,-1) (2,1): all junctions, kept.
 * Square, kept points in ring order: (0,300) (300,300) (300,0) (150,3) (0,0); steps
 * (300,0) (0,-300) (-150,3) (-150,-3). Triangle: (300,300) (600,300) (300,0); steps
 * (300,0) (-300,-300). */
static const char SQUARE_TRIANGLE[] =
    "{\"type\": \"FeatureCollection\", \"features\": [\n"
    " {\"type\": \"Feature\", \"properties\": {\"CVE_MUN\": \"001\", \"NOM_MUN\": \"Uno\"},\n"
    "  \"geometry\": {\"type\": \"Polygon\", \"coordinates\": [[[0,-1],[1,-0.999],[2,-1],[2,0],[2,1],[1,0.98],"
    "[0,1],[0,-1]]]}},\n"
    " {\"type\": \"Feature\", \"properties\": {\"CVE_MUN\": 2},\n"
    "  \"geometry\": {\"type\": \"Polygon\", \"coordinates\": [[[2,-1],[4,-1],[2,1],[2,0],[2,-1]]]}}\n"
    "]}\n";

static void test_square_triangle(void **st)
{
    (void)st;
    prep_catalog *c = small_catalog();
    prep_diags d;
    prep_diags_init(&d);
    prep_err r = from_geojson(SQUARE_TRIANGLE, -1 /* default 1.0 */, c, &d);
    if (r) prep_diags_print(&d, stderr, 0);
    assert_int_equal(r, PREP_OK);
    assert_int_equal(d.total, 0);
    assert_int_equal(c->has_map, 1);
    assert_int_equal(c->map_viewbox[0], 0);
    assert_int_equal(c->map_viewbox[1], 0);
    assert_int_equal(c->map_viewbox[2], 600);
    assert_int_equal(c->map_viewbox[3], 300);
    assert_string_equal(c->municipality_shape[0], "M0 300l300 0 0-300-150 3-150-3z");
    assert_string_equal(c->municipality_shape[1], "M300 300l300 0-300-300z");
    assert_null(c->municipality_shape[2]); /* municipality 7 has no feature */
    assert_round_trip(c);
    prep_diags_free(&d);
    prep_catalog_free(c);
}

/* Tolerance 0 keeps every point; only rounding merges: (150,299.85) -> (150,300).
 * Square: (0,300) (150,300) (300,300) (300,150) (300,0) (150,3) (0,0); steps (150,0)
 * (150,0) (0,-150) (0,-150) (-150,3) (-150,-3). Triangle: (300,300) (600,300) (300,0)
 * (300,150); steps (300,0) (-300,-300) (0,150). */
static void test_tolerance_zero(void **st)
{
    (void)st;
    prep_catalog *c = small_catalog();
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(from_geojson(SQUARE_TRIANGLE, 0, c, &d), PREP_OK);
    assert_string_equal(c->municipality_shape[0], "M0 300l150 0 150 0 0-150 0-150-150 3-150-3z");
    assert_string_equal(c->municipality_shape[1], "M300 300l300 0-300-300 0 150z");
    prep_diags_free(&d);
    prep_catalog_free(c);
}

/* A shared border walked both ways must simplify alike. Municipality 1 is lon 0..4,
 * lat 0..1; municipality 2 is lat -1..0; their border runs from (0,0) to (4,0) through
 * two equal bumps (1.2,0.012) and (2.8,0.012). Box lon 0..4, lat -1..1: cos 0 = 1,
 * s = 150, height 300; y = (1 - lat) * 150, so the bumps are (180,148.2) and
 * (420,148.2), both 1.8 from the segment (0,150)-(600,150). Tolerance 1.5. The tie goes
 * to the first point of the walk, and the run is always walked from its smaller end
 * (0,0): (180,148.2) is kept; then (420,148.2) is 1.8 * 240 / |(420,1.8)| = 1.03 from
 * (180,148.2)-(600,150): dropped, in both rings (walked from (4,0), the second ring
 * would have kept (420,148) instead, leaving a sliver).
 * 1: (0,150) (180,148) (600,150) (600,0) (0,0) -> steps (180,-2) (420,2) (0,-150) (-600,0).
 * 2: (0,150) (0,300) (600,300) (600,150) (180,148) -> steps (0,150) (600,0) (0,-150)
 *    (-420,-2). */
static void test_shared_border_tie(void **st)
{
    (void)st;
    static const char json[] =
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"properties\":{\"CVE_MUN\":1},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
        "[[[0,0],[1.2,0.012],[2.8,0.012],[4,0],[4,1],[0,1],[0,0]]]}},"
        "{\"type\":\"Feature\",\"properties\":{\"CVE_MUN\":2},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
        "[[[0,0],[0,-1],[4,-1],[4,0],[2.8,0.012],[1.2,0.012],[0,0]]]}}]}";
    prep_catalog *c = small_catalog();
    prep_diags d;
    prep_diags_init(&d);
    prep_err r = from_geojson(json, 1.5, c, &d);
    if (r) prep_diags_print(&d, stderr, 0);
    assert_int_equal(r, PREP_OK);
    assert_int_equal(c->map_viewbox[3], 300);
    assert_string_equal(c->municipality_shape[0], "M0 150l180-2 420 2 0-150-600 0z");
    assert_string_equal(c->municipality_shape[1], "M0 150l0 150 600 0 0-150-420-2z");
    prep_diags_free(&d);
    prep_catalog_free(c);
}

/* The cosine and the y flip: one triangle at latitude 59..61 (middle 60, cos 60° = 0.5),
 * longitude 10..12: width 2 * 0.5 = 1 degree-equivalent, s = 600 / 1 = 600, height
 * 2 * 600 = 1200. (10,59) -> (0,1200), (12,59) -> (2*0.5*600, 1200) = (600,1200),
 * (11,61) -> (300,0). All three are extremes of the box, so kept. Municipality 7, MultiPolygon, with a
 * second polygon 0.0001° across at (11,60): (300,600), (300.03,600), (300,599.94) round to
 * one point, so that ring collapses and is dropped. */
static void test_cosine_and_collapse(void **st)
{
    (void)st;
    static const char json[] =
        "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{\"CVE_MUN\":\"7\"},"
        "\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":["
        "[[[10,59],[12,59],[11,61],[10,59]]],"
        "[[[11,60],[11.0001,60],[11,60.0001],[11,60]]]]}}]}";
    prep_catalog *c = small_catalog();
    prep_diags d;
    prep_diags_init(&d);
    prep_err r = from_geojson(json, 1.0, c, &d);
    if (r) prep_diags_print(&d, stderr, 0);
    assert_int_equal(r, PREP_OK);
    assert_int_equal(c->map_viewbox[2], 600);
    assert_int_equal(c->map_viewbox[3], 1200);
    assert_null(c->municipality_shape[0]);
    assert_null(c->municipality_shape[1]);
    assert_string_equal(c->municipality_shape[2], "M0 1200l600 0-300-1200z");
    prep_diags_free(&d);
    prep_catalog_free(c);
}

/* A hole, another id property, a narrower map and an open ring: municipality 2 (property
 * "MUN") is the square lon 0..4, lat 0..4 with the hole lon 1..3, lat 1..3, given without
 * the closing position. Middle latitude 2: cos 2° = 0.99939; width 100 -> s = 100 /
 * (4 * 0.99939) = 25.0152; height = 4 * 25.0152 = 100.06 -> 100. Outer: (0,100) (100,100)
 * (100,0) (0,0); hole: x = 0.99939 * 25.0152 = 25, 3 * 25 = 75; y = (4 - 1) * 25.0152 =
 * 75.05 -> 75, (4 - 3) * 25.0152 = 25.02 -> 25. */
static void test_hole_property_width(void **st)
{
    (void)st;
    static const char json[] =
        "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{\"MUN\":2},"
        "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":["
        "[[0,0],[4,0],[4,4],[0,4]],[[1,1],[1,3],[3,3],[3,1],[1,1]]]}}]}";
    prep_catalog *c = small_catalog();
    prep_diags d;
    prep_diags_init(&d);
    prep_err r = prep_catalog_shapes_from_geojson_mem("t.geojson", json, strlen(json), "MUN", 100, 1.0, c, &d);
    if (r) prep_diags_print(&d, stderr, 0);
    assert_int_equal(r, PREP_OK);
    assert_int_equal(c->map_viewbox[2], 100);
    assert_int_equal(c->map_viewbox[3], 100);
    assert_string_equal(c->municipality_shape[1], "M0 100l100 0 0-100-100 0zM25 75l0-50 50 0 0 50z");
    assert_round_trip(c);
    /* a second call replaces the map */
    assert_int_equal(from_geojson(SQUARE_TRIANGLE, 1.0, c, &d), PREP_OK);
    assert_int_equal(c->map_viewbox[3], 300);
    assert_string_equal(c->municipality_shape[1], "M300 300l300 0-300-300z");
    prep_diags_free(&d);
    prep_catalog_free(c);
}

/* ---------------------------------------------------------------- bad GeoJSON */

typedef struct bad_geo {
    const char *name;
    const char *json;
    const char *kind;
    long line, col;
    prep_err rc;
    const char *in_msg;
} bad_geo;

#define FC(features) "{\"type\":\"FeatureCollection\",\"features\":[" features "]}"
#define FEAT(props, geom) "{\"type\":\"Feature\",\"properties\":{" props "},\"geometry\":" geom "}"
#define TRI "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[0,1],[0,0]]]}"

static const bad_geo bad_cases[] = {
    /* jansson gives the line and the column of the last byte of the offending token */
    {"not JSON", "nope", "geo-json", 1, 4, PREP_ERR_PARSE, "not JSON"},
    /* line 2 is "\"features\": [1,}": the '}' is its byte 16 */
    {"broken JSON", "{\"type\":\"FeatureCollection\",\n\"features\": [1,}", "geo-json", 2, 16, PREP_ERR_PARSE, NULL},
    {"empty file", "", "geo-json", 1, 0, PREP_ERR_PARSE, NULL},
    {"not a collection", FEAT("\"CVE_MUN\":1", TRI), "geo-format", 0, 0, PREP_ERR_PARSE, "FeatureCollection"},
    {"no features", FC(""), "geo-format", 0, 0, PREP_ERR_PARSE, "no features"},
    {"features not an array", "{\"type\":\"FeatureCollection\",\"features\":{}}", "geo-format", 0, 0, PREP_ERR_PARSE,
     "no features"},
    {"feature not an object", FC("1"), "geo-format", 0, 0, PREP_ERR_PARSE, "features[0] is not an object"},
    {"point", FC(FEAT("\"CVE_MUN\":\"001\"", "{\"type\":\"Point\",\"coordinates\":[0,0]}")), "geo-geometry", 0, 0,
     PREP_ERR_INVALID, "features[0] (CVE_MUN 1): geometry type 'Point' is not supported"},
    {"null geometry", FC(FEAT("\"CVE_MUN\":1", "null")), "geo-geometry", 0, 0, PREP_ERR_INVALID, "no geometry"},
    {"missing CVE_MUN", FC(FEAT("\"CVE_MUN\":1", TRI) "," FEAT("\"NOM_MUN\":\"Dos\"", TRI)), "geo-property", 0, 0,
     PREP_ERR_INVALID, "features[1] has no property 'CVE_MUN'"},
    {"CVE_MUN not a number", FC(FEAT("\"CVE_MUN\":\"12a\"", TRI)), "geo-property", 0, 0, PREP_ERR_INVALID, "'12a'"},
    {"CVE_MUN a real", FC(FEAT("\"CVE_MUN\":1.5", TRI)), "geo-property", 0, 0, PREP_ERR_INVALID, "real"},
    {"CVE_MUN zero", FC(FEAT("\"CVE_MUN\":0", TRI)), "geo-property", 0, 0, PREP_ERR_INVALID, "0 is not"},
    {"unknown municipality", FC(FEAT("\"CVE_MUN\":\"099\"", TRI)), "unknown-reference", 0, 0, PREP_ERR_INVALID,
     "features[0] (CVE_MUN 99): the catalogue has no municipality 99"},
    {"two features, one municipality", FC(FEAT("\"CVE_MUN\":2", TRI) "," FEAT("\"CVE_MUN\":\"02\"", TRI)),
     "duplicate-id", 0, 0, PREP_ERR_INVALID, "features[1] (CVE_MUN 2): municipality 2 already has features[0]"},
    {"position not a pair", FC(FEAT("\"CVE_MUN\":1", "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[\"a\",1]]]}")),
     "geo-format", 0, 0, PREP_ERR_PARSE, "ring 0, position 2 is not [longitude, latitude]"},
    {"latitude out of range", FC(FEAT("\"CVE_MUN\":1", "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,95],[0,1]]]}")),
     "geo-format", 0, 0, PREP_ERR_PARSE, "position 1"},
    {"no coordinates", FC(FEAT("\"CVE_MUN\":1", "{\"type\":\"Polygon\"}")), "geo-format", 0, 0, PREP_ERR_PARSE,
     "coordinates"},
    /* a feature whose only ring is one point once rounded: (0,0) (0.0001,0) (0,0.0001)
     * and, for the box, a 1-degree triangle of municipality 2 */
    {"collapsed feature",
     FC(FEAT("\"CVE_MUN\":1", "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[0.0001,0],[0,0.0001],[0,0]]]}") "," FEAT(
         "\"CVE_MUN\":2", TRI)),
     "geo-collapsed", 0, 0, PREP_ERR_INVALID, "features[0] (CVE_MUN 1): every ring collapses"},
    /* 0.001 degrees wide, 10 tall: 6,000,000 units tall at width 600 */
    {"map too tall", FC(FEAT("\"CVE_MUN\":1", "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[0.001,0],[0,10],[0,0]]]}")),
     "too-many", 0, 0, PREP_ERR_LIMIT, "units tall"},
    {"no extent", FC(FEAT("\"CVE_MUN\":1", "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[0,1],[0,2],[0,0]]]}")),
     "geo-format", 0, 0, PREP_ERR_PARSE, "no extent"},
};

static void test_bad_geojson(void **st)
{
    (void)st;
    for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
        const bad_geo *k = &bad_cases[i];
        prep_catalog *c = small_catalog();
        prep_diags d;
        prep_diags_init(&d);
        prep_err r = from_geojson(k->json, 1.0, c, &d);
        const prep_diag *g = prep_diags_find(&d, k->kind);
        if (r != k->rc || !g || g->line != k->line || g->col != k->col || (k->in_msg && !strstr(g->msg, k->in_msg)) ||
            strcmp(g->file, "t.geojson")) {
            prep_diags_print(&d, stderr, 0);
            fail_msg("%s: want rc %d and %s at %ld:%ld with '%s'; got rc %d", k->name, (int)k->rc, k->kind, k->line,
                     k->col, k->in_msg ? k->in_msg : "", (int)r);
        }
        /* nothing changed in the catalogue */
        assert_int_equal(c->has_map, 0);
        assert_null(c->municipality_shape);
        prep_diags_free(&d);
        prep_catalog_free(c);
    }
}

/* Reading goes on past a bad feature: every problem is reported at once; a catalogue
 * that already had a map keeps it. */
static void test_all_problems_reported(void **st)
{
    (void)st;
    static const char json[] = FC(FEAT("\"CVE_MUN\":\"099\"", TRI) "," FEAT("\"X\":1", TRI) "," FEAT(
        "\"CVE_MUN\":7", "{\"type\":\"LineString\",\"coordinates\":[[0,0],[1,1]]}") "," FEAT("\"CVE_MUN\":1", TRI));
    prep_catalog *c = small_catalog();
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(from_geojson(SQUARE_TRIANGLE, 1.0, c, &d), PREP_OK);
    char *before = strdup(c->municipality_shape[0]);
    assert_int_equal(from_geojson(json, 1.0, c, &d), PREP_ERR_INVALID);
    assert_int_equal(d.total, 3);
    assert_non_null(prep_diags_find(&d, "unknown-reference"));
    assert_non_null(prep_diags_find(&d, "geo-property"));
    assert_non_null(strstr(prep_diags_find(&d, "geo-geometry")->msg, "features[2] (CVE_MUN 7): geometry type 'LineString'"));
    assert_int_equal(c->has_map, 1);
    assert_int_equal(c->map_viewbox[3], 300);
    assert_string_equal(c->municipality_shape[0], before);
    free(before);
    prep_diags_free(&d);
    prep_catalog_free(c);
}

/* A polygon of 20,000 points on a circle, drawn 100,000 units wide without
 * simplification: ~20,000 steps of at least 4 bytes cannot fit 65,000 bytes. */
static void test_geo_path_too_long(void **st)
{
    (void)st;
    prep_buf j;
    prep_buf_init(&j, 0);
    assert_int_equal(prep_buf_puts(&j, "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                                       "\"properties\":{\"CVE_MUN\":1},\"geometry\":{\"type\":\"Polygon\","
                                       "\"coordinates\":[["),
                     PREP_OK);
    for (int i = 0; i < 20000; i++) {
        double a = 2 * 3.14159265358979 * i / 20000;
        assert_int_equal(prep_buf_printf(&j, "%s[%.9f,%.9f]", i ? "," : "", cos(a), sin(a)), PREP_OK);
    }
    assert_int_equal(prep_buf_puts(&j, "]]}}]}"), PREP_OK);
    prep_catalog *c = small_catalog();
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_catalog_shapes_from_geojson_mem("t.geojson", j.data, j.len, NULL, 100000, 0, c, &d),
                     PREP_ERR_LIMIT);
    const prep_diag *g = prep_diags_find(&d, "path-too-long");
    assert_non_null(g);
    assert_non_null(strstr(g->msg, "features[0] (CVE_MUN 1)"));
    assert_int_equal(c->has_map, 0);
    /* the default tolerance on the default width brings it down to a few hundred bytes */
    prep_diags_free(&d);
    prep_diags_init(&d);
    assert_int_equal(prep_catalog_shapes_from_geojson_mem("t.geojson", j.data, j.len, NULL, 0, -1, c, &d), PREP_OK);
    assert_true(strlen(c->municipality_shape[0]) < 2000);
    prep_diags_free(&d);
    prep_catalog_free(c);
    prep_buf_free(&j);
}

static void test_file_and_usage(void **st)
{
    (void)st;
    prep_catalog *c = small_catalog();
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_catalog_shapes_from_geojson("/nonexistent/x.geojson", NULL, 0, -1, c, &d),
                     PREP_ERR_NOTFOUND);
    const prep_diag *g = prep_diags_find(&d, "io");
    assert_non_null(g);
    assert_string_equal(g->file, "/nonexistent/x.geojson");
    /* width out of 16..100000, a tolerance that is not a number */
    assert_int_equal(from_geojson(SQUARE_TRIANGLE, 1.0, NULL, &d), PREP_ERR_USAGE);
    assert_int_equal(prep_catalog_shapes_from_geojson_mem("t", SQUARE_TRIANGLE, strlen(SQUARE_TRIANGLE), NULL, 15,
                                                          1.0, c, &d),
                     PREP_ERR_USAGE);
    assert_int_equal(prep_catalog_shapes_from_geojson_mem("t", SQUARE_TRIANGLE, strlen(SQUARE_TRIANGLE), NULL, 100001,
                                                          1.0, c, &d),
                     PREP_ERR_USAGE);
    assert_int_equal(prep_catalog_shapes_from_geojson_mem("t", SQUARE_TRIANGLE, strlen(SQUARE_TRIANGLE), NULL, 0,
                                                          NAN, c, &d),
                     PREP_ERR_USAGE);
    assert_int_equal(c->has_map, 0);
    prep_diags_free(&d);
    prep_catalog_free(c);
}

/* ---------------------------------------------------------------- the real Querétaro file */

typedef struct box {
    long x0, y0, x1, y1;
} box;

typedef struct seg {
    long ax, ay, bx, by; /* a < b */
    uint32_t muni;       /* who draws it */
} seg;

static int cmp_seg(const void *p, const void *q)
{
    const seg *a = p, *b = q;
    long d[4] = {a->ax - b->ax, a->ay - b->ay, a->bx - b->bx, a->by - b->by};
    for (int i = 0; i < 4; i++)
        if (d[i]) return d[i] < 0 ? -1 : 1;
    return 0;
}

static int cmp_seg_muni(const void *p, const void *q)
{
    int r = cmp_seg(p, q);
    if (r) return r;
    const seg *a = p, *b = q;
    return (a->muni > b->muni) - (a->muni < b->muni);
}

/* Union-find over points, for the outline's connectivity. */
static size_t uf_find(size_t *parent, size_t i)
{
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
}

static int cmp_pt(const void *p, const void *q)
{
    const long *a = p, *b = q;
    if (a[0] != b[0]) return a[0] < b[0] ? -1 : 1;
    return (a[1] > b[1]) - (a[1] < b[1]);
}

/* Walks a path of the form the builder writes ("M x y" then "l" steps, "z", repeated),
 * failing on anything else; extends *b and appends every edge to segs. */
static void walk(const char *p, uint32_t muni, box *b, seg **segs, size_t *n, size_t *cap)
{
    while (*p) {
        long x, y, fx, fy;
        int used = 0;
        if (sscanf(p, "M%ld %ld%n", &x, &y, &used) != 2) fail_msg("expected 'M x y' at '%.20s'", p);
        p += used;
        fx = x;
        fy = y;
        if (*p++ != 'l') fail_msg("expected 'l' after M");
        for (;;) {
            if (x < b->x0) b->x0 = x;
            if (y < b->y0) b->y0 = y;
            if (x > b->x1) b->x1 = x;
            if (y > b->y1) b->y1 = y;
            long nx, ny;
            int closing = *p == 'z';
            if (closing) {
                nx = fx;
                ny = fy;
            } else {
                long dx, dy;
                if (*p == ' ') p++;
                if (sscanf(p, "%ld%n", &dx, &used) != 1) fail_msg("expected a number at '%.20s'", p);
                p += used;
                if (*p == ' ') p++;
                if (sscanf(p, "%ld%n", &dy, &used) != 1) fail_msg("expected a number at '%.20s'", p);
                p += used;
                nx = x + dx;
                ny = y + dy;
            }
            if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 1024;
                *segs = realloc(*segs, *cap * sizeof **segs);
                assert_non_null(*segs);
            }
            int ab = x < nx || (x == nx && y < ny);
            (*segs)[(*n)++] = ab ? (seg){x, y, nx, ny, muni} : (seg){nx, ny, x, y, muni};
            x = nx;
            y = ny;
            if (closing) break;
        }
        p++; /* the z */
    }
}

static void test_queretaro(void **st)
{
    (void)st;
    prep_catalog *c = NULL;
    assert_int_equal(prep_sim_catalog(PREP_SIM_SCALE_QRO2021, 1, &c), PREP_OK);
    assert_int_equal(c->n_municipalities, 18);
    prep_diags d;
    prep_diags_init(&d);
    prep_err r = prep_catalog_shapes_from_geojson(QRO_GEOJSON, "CVE_MUN", 600, 1.0, c, &d);
    if (r) prep_diags_print(&d, stderr, 0);
    assert_int_equal(r, PREP_OK);
    assert_int_equal(d.total, 0);
    /* The box of the file (min/max of every position, read with a JSON tool):
     * lon -100.59653570962001 .. -99.04307985023634 (1.55345586 degrees),
     * lat 20.0150182900677 .. 21.670005429863384 (1.65498714 degrees);
     * middle latitude 20.842512, cos = 0.934562; width 1.55345586 * 0.934562 = 1.451801;
     * height = 600 * 1.65498714 / 1.451801 = 683.97 -> 684. */
    assert_int_equal(c->map_viewbox[0], 0);
    assert_int_equal(c->map_viewbox[1], 0);
    assert_int_equal(c->map_viewbox[2], 600);
    assert_int_equal(c->map_viewbox[3], 684);
    size_t total = 0, nseg = 0, cap = 0;
    seg *segs = NULL;
    box bx[18];
    for (uint32_t m = 0; m < 18; m++) {
        const char *p = c->municipality_shape[m];
        if (!p) fail_msg("municipality %u has no shape", c->municipalities[m].id);
        assert_int_equal(prep_catalog_path_check(p, c->map_viewbox, NULL, NULL, 0), 0);
        total += strlen(p);
        bx[m] = (box){1000000, 1000000, -1, -1};
        walk(p, m, &bx[m], &segs, &nseg, &cap);
    }
    /* the bound stated in docs/formats/catalog.md: well under 12 KB, 7,210 bytes measured */
    assert_true(total < 9000);
    assert_true(total > 3000); /* and not simplified into blobs */
    /* Where the source puts the extremes (min/max over each feature's positions, read with
     * a JSON tool): westernmost Querétaro (14), easternmost Landa de Matamoros (10),
     * northernmost Jalpan de Serra (9), southernmost Amealco de Bonfil (1). */
    uint32_t qro = prep_catalog_find_municipality(c, c->entity_id, 14), landa = prep_catalog_find_municipality(c, c->entity_id, 10);
    uint32_t jalpan = prep_catalog_find_municipality(c, c->entity_id, 9), amealco = prep_catalog_find_municipality(c, c->entity_id, 1);
    assert_int_equal(bx[qro].x0, 0);
    assert_int_equal(bx[landa].x1, 600);
    assert_int_equal(bx[jalpan].y0, 0);
    assert_int_equal(bx[amealco].y1, 684);
    /* The centre of Querétaro's box in the south-west quarter, Jalpan's in the north-east. */
    assert_true(bx[qro].x0 + bx[qro].x1 < 600 && bx[qro].y0 + bx[qro].y1 > 684);
    assert_true(bx[jalpan].x0 + bx[jalpan].x1 > 600 && bx[jalpan].y0 + bx[jalpan].y1 < 684);
    /* No gaps. An inner border is one run of points kept alike on both sides, so every
     * edge is drawn by at most two municipalities, and the edges drawn by one only (an
     * odd number of times: a spike drawn out and back is no outline) are the state's
     * outline: they close into loops (an even number at every point) that all hang
     * together. Had the two sides of a border been simplified apart, each version would
     * be drawn by one municipality only and make a loop of its own with the other. */
    qsort(segs, nseg, sizeof *segs, cmp_seg_muni);
    seg *outline = malloc(nseg * sizeof *outline);
    assert_non_null(outline);
    size_t nout = 0, shared = 0;
    for (size_t i = 0; i < nseg;) {
        size_t j = i, munis = 0;
        while (j < nseg && !cmp_seg(&segs[i], &segs[j])) {
            if (j == i || segs[j].muni != segs[j - 1].muni) munis++;
            j++;
        }
        if (munis > 2)
            fail_msg("edge (%ld,%ld)-(%ld,%ld) drawn by %zu municipalities", segs[i].ax, segs[i].ay, segs[i].bx,
                     segs[i].by, munis);
        if (munis == 2) shared++;
        else if ((j - i) % 2 == 1) outline[nout++] = segs[i];
        i = j;
    }
    assert_true(shared > 300); /* the borders between the 18 */
    long *pts = malloc(nout * 4 * sizeof *pts);
    size_t *parent = malloc(nout * 2 * sizeof *parent), *deg = calloc(nout * 2, sizeof *deg);
    assert_non_null(pts);
    assert_non_null(parent);
    assert_non_null(deg);
    for (size_t i = 0; i < nout; i++) {
        pts[4 * i] = outline[i].ax, pts[4 * i + 1] = outline[i].ay;
        pts[4 * i + 2] = outline[i].bx, pts[4 * i + 3] = outline[i].by;
    }
    qsort(pts, nout * 2, 2 * sizeof *pts, cmp_pt);
    size_t npts = 0;
    for (size_t i = 0; i < nout * 2; i++)
        if (!npts || cmp_pt(&pts[2 * i], &pts[2 * (npts - 1)])) {
            pts[2 * npts] = pts[2 * i], pts[2 * npts + 1] = pts[2 * i + 1];
            npts++;
        }
    for (size_t i = 0; i < npts; i++) parent[i] = i;
    for (size_t i = 0; i < nout; i++) {
        long a[2] = {outline[i].ax, outline[i].ay}, b[2] = {outline[i].bx, outline[i].by};
        long *pa = bsearch(a, pts, npts, 2 * sizeof *pts, cmp_pt), *pb = bsearch(b, pts, npts, 2 * sizeof *pts, cmp_pt);
        assert_non_null(pa);
        assert_non_null(pb);
        size_t ia = (size_t)(pa - pts) / 2, ib = (size_t)(pb - pts) / 2;
        deg[ia]++;
        deg[ib]++;
        parent[uf_find(parent, ia)] = uf_find(parent, ib);
    }
    size_t roots = 0;
    for (size_t i = 0; i < npts; i++) {
        if (deg[i] % 2) fail_msg("outline point (%ld,%ld) has %zu outline edges", pts[2 * i], pts[2 * i + 1], deg[i]);
        if (uf_find(parent, i) == i) roots++;
    }
    assert_int_equal(roots, 1);
    assert_true(nout > 100);
    free(pts);
    free(parent);
    free(deg);
    free(outline);
    free(segs);
    assert_round_trip(c);
    prep_diags_free(&d);
    prep_catalog_free(c);
}

/* ---------------------------------------------------------------- the simulated catalogue */

static void test_sim_with_map(void **st)
{
    (void)st;
    prep_buf plain, geo;
    prep_buf_init(&plain, 0);
    prep_buf_init(&geo, 0);
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_sim_catalog_text(PREP_SIM_SCALE_QRO2021, 7, &plain), PREP_OK);
    prep_err r = prep_sim_catalog_text_geo(PREP_SIM_SCALE_QRO2021, 7, QRO_GEOJSON, &geo, &d);
    if (r) prep_diags_print(&d, stderr, 0);
    assert_int_equal(r, PREP_OK);
    prep_catalog *c = NULL;
    assert_int_equal(prep_catalog_parse("sim.cat", geo.data, geo.len, &c, &d), PREP_OK);
    assert_int_equal(c->has_map, 1);
    assert_int_equal(c->map_viewbox[2], 600);
    assert_int_equal(c->map_viewbox[3], 684);
    for (uint32_t m = 0; m < c->n_municipalities; m++) assert_non_null(c->municipality_shape[m]);
    prep_catalog_free(c);
    /* everything else is the plain text, byte for byte: drop the key line and the tail */
    const char *key = strstr(geo.data, "map_viewbox = 0 0 600 684\n");
    const char *tail = strstr(geo.data, "\n# The municipality map");
    assert_non_null(key);
    assert_non_null(tail);
    size_t klen = strlen("map_viewbox = 0 0 600 684\n");
    assert_int_equal((size_t)(key - geo.data) + (size_t)(tail - key - (long)klen), plain.len);
    assert_memory_equal(geo.data, plain.data, (size_t)(key - geo.data));
    assert_memory_equal(key + klen, plain.data + (key - geo.data), (size_t)(tail - key) - klen);
    /* no path: exactly the plain text */
    prep_buf none;
    prep_buf_init(&none, 0);
    assert_int_equal(prep_sim_catalog_text_geo(PREP_SIM_SCALE_QRO2021, 7, NULL, &none, &d), PREP_OK);
    assert_int_equal(none.len, plain.len);
    assert_memory_equal(none.data, plain.data, plain.len);
    /* another scale with a map, or a missing file: refused, nothing appended */
    prep_buf_reset(&none);
    assert_int_equal(prep_sim_catalog_text_geo(PREP_SIM_SCALE_TINY, 7, QRO_GEOJSON, &none, &d), PREP_ERR_USAGE);
    assert_int_equal(prep_sim_catalog_text_geo(PREP_SIM_SCALE_QRO2021, 7, "/nonexistent.geojson", &none, &d),
                     PREP_ERR_NOTFOUND);
    assert_non_null(prep_diags_find(&d, "io"));
    assert_int_equal(none.len, 0);
    prep_buf_free(&none);
    prep_buf_free(&plain);
    prep_buf_free(&geo);
    prep_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_square_triangle),     cmocka_unit_test(test_tolerance_zero),
        cmocka_unit_test(test_shared_border_tie),
        cmocka_unit_test(test_cosine_and_collapse), cmocka_unit_test(test_hole_property_width),
        cmocka_unit_test(test_bad_geojson),         cmocka_unit_test(test_all_problems_reported),
        cmocka_unit_test(test_geo_path_too_long),   cmocka_unit_test(test_file_and_usage),      cmocka_unit_test(test_queretaro),
        cmocka_unit_test(test_sim_with_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
