/* Unit tests of the entity map of a national catalogue (docs/formats/catalog.md "Map"):
 * [shapes] keyed by entity read into entity_shape, written and read back; the wrong key
 * for the catalogue's kind, an unknown or repeated entity, located at the line and byte
 * column counted here from the text; and the map built from the real file of the 32
 * entities (shared/data/geo/mexico-entidades.geojson), checked against the file itself
 * read here with jansson: every entity's box projected by the documented formula. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entity_map_util.h"
#include "prep/sim.h"

#define VB "map_viewbox = 0 0 100 80\n"
#define SHAPES "\n[shapes]\nentity|path\n9|M0 0h10v10h-10z\n1|M20 20l5 0 0 5z\n"

/* 1-based line of the first occurrence of `needle` in s. */
static long line_of(const char *s, const char *needle)
{
    const char *p = strstr(s, needle);
    if (!p) fail_msg("test setup: '%s' not in the text", needle);
    long n = 1;
    for (const char *q = s; q < p; q++) n += *q == '\n';
    return n;
}

/* Parses text expecting exactly one error diag of kind at line:col. */
static void expect_one(const char *text, prep_err want, const char *kind, long line, long col)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    prep_err r = prep_catalog_parse("nac.cat", text, strlen(text), &c, &d);
    if (d.total != 1 || strcmp(d.v[0].kind, kind) || d.v[0].line != line || d.v[0].col != col)
        prep_diags_print(&d, stderr, 0);
    assert_int_equal(r, want);
    assert_null(c);
    assert_int_equal(d.total, 1);
    assert_string_equal(d.v[0].kind, kind);
    assert_int_equal(d.v[0].line, line);
    assert_int_equal(d.v[0].col, col);
    prep_diags_free(&d);
}

static void test_read_write(void **st)
{
    (void)st;
    prep_catalog *c = em_cat(VB, SHAPES);
    assert_non_null(c);
    assert_int_equal(c->national, 1);
    assert_int_equal(c->has_map, 1);
    assert_null(c->municipality_shape);
    assert_non_null(c->entity_shape);
    uint32_t e1 = prep_catalog_find_entity(c, 1), e9 = prep_catalog_find_entity(c, 9);
    for (uint32_t i = 0; i < c->n_entities; i++) {
        if (i == e1) assert_string_equal(c->entity_shape[i], "M20 20l5 0 0 5z");
        else if (i == e9) assert_string_equal(c->entity_shape[i], "M0 0h10v10h-10z");
        else assert_null(c->entity_shape[i]);
    }
    /* the writer: entity order, keyed by entity */
    prep_buf w;
    prep_buf_init(&w, 0);
    assert_int_equal(prep_catalog_write(c, &w), PREP_OK);
    assert_int_equal(prep_buf_putc(&w, 0), PREP_OK);
    assert_non_null(strstr(w.data, "\n[shapes]\nentity|path\n1|M20 20l5 0 0 5z\n9|M0 0h10v10h-10z\n"));
    assert_non_null(strstr(w.data, "map_viewbox = 0 0 100 80\n"));
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c2 = NULL;
    assert_int_equal(prep_catalog_parse("w.cat", w.data, w.len - 1, &c2, &d), PREP_OK);
    assert_int_equal(c2->has_map, 1);
    assert_memory_equal(c2->map_viewbox, c->map_viewbox, sizeof c->map_viewbox);
    for (uint32_t i = 0; i < c->n_entities; i++) {
        if (!c->entity_shape[i]) assert_null(c2->entity_shape[i]);
        else assert_string_equal(c2->entity_shape[i], c->entity_shape[i]);
    }
    /* and written again, the same bytes */
    prep_buf w2;
    prep_buf_init(&w2, 0);
    assert_int_equal(prep_catalog_write(c2, &w2), PREP_OK);
    assert_int_equal(w2.len, w.len - 1);
    assert_memory_equal(w2.data, w.data, w2.len);
    prep_buf_free(&w);
    prep_buf_free(&w2);
    prep_diags_free(&d);
    prep_catalog_free(c2);
    prep_catalog_free(c);
}

static void test_errors(void **st)
{
    (void)st;
    /* a national catalogue's map is of entities: a municipality key is refused at its
     * header column (byte 6 of "path|municipality") */
    char *t = em_cat_text(VB, "\n[shapes]\npath|municipality\nM0 0h1v1z|1\n");
    expect_one(t, PREP_ERR_PARSE, "unknown-column", line_of(t, "path|municipality"), 6);
    free(t);
    /* no key at all */
    t = em_cat_text(VB, "\n[shapes]\npath\nM0 0h1v1z\n");
    expect_one(t, PREP_ERR_PARSE, "missing-column", line_of(t, "[shapes]") + 1, 0);
    free(t);
    /* an entity the catalogue lacks, a repeated one, a point outside the viewBox */
    t = em_cat_text(VB, "\n[shapes]\nentity|path\n33|M0 0h1v1z\n");
    expect_one(t, PREP_ERR_INVALID, "unknown-reference", line_of(t, "33|M0"), 1);
    free(t);
    t = em_cat_text(VB, "\n[shapes]\nentity|path\n5|M0 0h1v1z\n5|M2 2h1v1z\n");
    expect_one(t, PREP_ERR_INVALID, "duplicate-id", line_of(t, "5|M2"), 1);
    free(t);
    t = em_cat_text(VB, "\n[shapes]\nentity|path\n5|M0 0h101v1z\n");
    expect_one(t, PREP_ERR_INVALID, "path-outside-map", line_of(t, "5|M0"), 8); /* its "101", byte 8 */
    free(t);
    /* a local catalogue's map is of municipalities: an entity key is refused */
    static const char local[] = "prep-catalog 1\n[process]\nid = t\nname = Prueba\ninstitute = IEQ\n"
                                "entity_id = 22\nentity = QUERETARO\ntimezone = America/Mexico_City\n"
                                "window_open = 2021-06-06 20:00\nwindow_close = 2021-06-07 20:00\n" VB
                                "[parties]\nid|name|color\nPAN|Partido Accion Nacional|#0055A5\n"
                                "[districts]\nid|name\n1|DISTRITO 01\n[municipalities]\nid|name\n14|Queretaro\n"
                                "[sections]\nid|district|municipality\n412|1|14\n[casillas]\n"
                                "section|type|number|ext|urban|lista_nominal|representatives|ballots\n"
                                "412|B|1|0|1|650|14|0\n[elections]\nid|name|title|scope|acta_type|parties\n"
                                "gub|GUBERNATURA|Gubernatura|entity|1|PAN\n[candidacies]\n"
                                "election|unit|contender|name\ngub|*|PAN|Ana\n"
                                "[shapes]\nentity|path\n22|M0 0h1v1z\n";
    expect_one(local, PREP_ERR_PARSE, "unknown-column", line_of(local, "entity|path"), 1);
}

/* The fuzz seed (fuzz/corpus/catalog/entity-map.cat) is a valid catalogue with three
 * entity shapes, so the fuzzer starts from the accepted side. */
static void test_fuzz_seed(void **st)
{
    (void)st;
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    prep_err r = prep_catalog_load(PREP_TEST_DATA "/../../fuzz/corpus/catalog/entity-map.cat", &c, &d);
    if (r) prep_diags_print(&d, stderr, 0);
    assert_int_equal(r, PREP_OK);
    assert_int_equal(c->n_entities, 3);
    for (uint32_t i = 0; i < 3; i++) assert_non_null(c->entity_shape[i]);
    prep_diags_free(&d);
    prep_catalog_free(c);
}

/* ---------------------------------------------------------------- the real file */

typedef struct ebox {
    double lon0, lon1, lat0, lat1;
} ebox;

static void box_add(ebox *b, double lon, double lat)
{
    if (lon < b->lon0) b->lon0 = lon;
    if (lon > b->lon1) b->lon1 = lon;
    if (lat < b->lat0) b->lat0 = lat;
    if (lat > b->lat1) b->lat1 = lat;
}

/* Of a Polygon / MultiPolygon geometry: the box of every position into b, and the box of
 * its largest ring (shoelace area in degrees: the mainland) into main. */
static void geom_box(const json_t *g, ebox *b, ebox *main)
{
    const char *type = json_string_value(json_object_get(g, "type"));
    const json_t *co = json_object_get(g, "coordinates");
    int multi = !strcmp(type, "MultiPolygon");
    double best = -1;
    for (size_t p = 0; p < (multi ? json_array_size(co) : 1); p++) {
        const json_t *poly = multi ? json_array_get(co, p) : co;
        for (size_t r = 0; r < json_array_size(poly); r++) {
            const json_t *ring = json_array_get(poly, r);
            ebox rb = {INFINITY, -INFINITY, INFINITY, -INFINITY};
            double area = 0;
            size_t n = json_array_size(ring);
            for (size_t k = 0; k < n; k++) {
                const json_t *a = json_array_get(ring, k), *z = json_array_get(ring, (k + 1) % n);
                double lon = json_number_value(json_array_get(a, 0)), lat = json_number_value(json_array_get(a, 1));
                area += lon * json_number_value(json_array_get(z, 1)) - json_number_value(json_array_get(z, 0)) * lat;
                box_add(b, lon, lat);
                box_add(&rb, lon, lat);
            }
            if (fabs(area) > best) {
                best = fabs(area);
                *main = rb;
            }
        }
    }
}

/* An edge of a drawn ring, its ends in (x, y) order, and the entity drawing it. */
typedef struct seg {
    long ax, ay, bx, by;
    uint32_t ent;
} seg;

typedef struct segs {
    seg *v;
    size_t n, cap;
} segs;

static void seg_add(segs *sv, long x, long y, long nx, long ny, uint32_t ent)
{
    if (sv->n == sv->cap) {
        sv->cap = sv->cap ? sv->cap * 2 : 1024;
        sv->v = realloc(sv->v, sv->cap * sizeof *sv->v);
        assert_non_null(sv->v);
    }
    int ab = x < nx || (x == nx && y < ny);
    sv->v[sv->n++] = ab ? (seg){x, y, nx, ny, ent} : (seg){nx, ny, x, y, ent};
}

static int cmp_seg(const void *a, const void *b)
{
    const seg *p = a, *q = b;
    if (p->ax != q->ax) return p->ax < q->ax ? -1 : 1;
    if (p->ay != q->ay) return p->ay < q->ay ? -1 : 1;
    if (p->bx != q->bx) return p->bx < q->bx ? -1 : 1;
    if (p->by != q->by) return p->by < q->by ? -1 : 1;
    return p->ent < q->ent ? -1 : p->ent > q->ent;
}

/* The box of the points of a path as written by the builder ("M x y" then "l" relative
 * pairs, "z", per ring), and its edges into sv. */
static void path_box(const char *p, long *x0, long *y0, long *x1, long *y1, segs *sv, uint32_t ent)
{
    *x0 = *y0 = 1000000;
    *x1 = *y1 = -1;
    long x = 0, y = 0;
    while (*p) {
        if (*p == ' ') p++;
        assert_int_equal(*p, 'M');
        p++;
        int used;
        assert_int_equal(sscanf(p, "%ld %ld%n", &x, &y, &used), 2);
        p += used;
        assert_int_equal(*p, 'l');
        p++;
        long sx = x, sy = y;
        for (;;) {
            if (x < *x0) *x0 = x;
            if (x > *x1) *x1 = x;
            if (y < *y0) *y0 = y;
            if (y > *y1) *y1 = y;
            if (*p == 'z') {
                seg_add(sv, x, y, sx, sy, ent); /* the closing edge */
                break;
            }
            long dx, dy;
            if (*p == ' ') p++;
            assert_int_equal(sscanf(p, "%ld%n", &dx, &used), 1);
            p += used;
            if (*p == ' ') p++;
            assert_int_equal(sscanf(p, "%ld%n", &dy, &used), 1);
            p += used;
            seg_add(sv, x, y, x + dx, y + dy, ent);
            x += dx;
            y += dy;
        }
        p++;
    }
}

/* The width and tolerance the sim uses for the entity map (docs/formats/catalog.md). */
#define W 600u
#define TOL PREP_CAT_GEO_NATIONAL_TOLERANCE

static void test_real_file(void **st)
{
    (void)st;
    prep_catalog *c = em_cat("", "");
    assert_non_null(c);
    prep_diags d;
    prep_diags_init(&d);
    prep_err r = prep_catalog_shapes_from_geojson(EM_GEOJSON, NULL, W, TOL, c, &d); /* NULL: state_code */
    if (r) prep_diags_print(&d, stderr, 0);
    assert_int_equal(r, PREP_OK);
    assert_int_equal(d.total, 0);
    assert_int_equal(c->has_map, 1);
    assert_null(c->municipality_shape);

    /* the file, read here: each feature's box by state_code, and the box of all */
    json_error_t je;
    json_t *root = json_load_file(EM_GEOJSON, 0, &je);
    assert_non_null(root);
    const json_t *feats = json_object_get(root, "features");
    assert_int_equal(json_array_size(feats), EM_N);
    ebox eb[EM_N + 1], em[EM_N + 1], all = {INFINITY, -INFINITY, INFINITY, -INFINITY};
    for (uint32_t i = 0; i <= EM_N; i++) eb[i] = em[i] = all;
    for (size_t i = 0; i < json_array_size(feats); i++) {
        const json_t *f = json_array_get(feats, i);
        json_int_t code = json_integer_value(json_object_get(json_object_get(f, "properties"), "state_code"));
        assert_true(code >= 1 && code <= (json_int_t)EM_N);
        geom_box(json_object_get(f, "geometry"), &eb[code], &em[code]);
        box_add(&all, eb[code].lon0, eb[code].lat0);
        box_add(&all, eb[code].lon1, eb[code].lat1);
    }
    json_decref(root);
    /* the documented projection */
    double k = cos((all.lat0 + all.lat1) / 2.0 * 3.14159265358979323846 / 180.0);
    double s = W / ((all.lon1 - all.lon0) * k);
    assert_int_equal(c->map_viewbox[0], 0);
    assert_int_equal(c->map_viewbox[1], 0);
    assert_int_equal(c->map_viewbox[2], W);
    assert_int_equal(c->map_viewbox[3], (uint32_t)lround((all.lat1 - all.lat0) * s));

    size_t total = 0;
    segs sv = {0};
    for (uint32_t id = 1; id <= EM_N; id++) {
        uint32_t ei = prep_catalog_find_entity(c, id);
        const char *p = c->entity_shape[ei];
        if (!p) fail_msg("entity %u has no shape", id);
        assert_int_equal(prep_catalog_path_check(p, c->map_viewbox, NULL, NULL, 0), 0);
        total += strlen(p);
        long x0, y0, x1, y1;
        path_box(p, &x0, &y0, &x1, &y1, &sv, id);
        /* The drawing reaches the mainland's extremes (the simplification may cut a
         * corner by at most the tolerance, the rounding half a unit) and stays in the
         * feature's box: islands too small for the map collapse and are dropped
         * (Colima's Revillagigedo, 600 km out at sea, are a few units wide). */
        double slack = TOL + 0.5 + 1e-9;
#define PX(lon) (((lon) - all.lon0) * k * s)
#define PY(lat) ((all.lat1 - (lat)) * s)
        if (x0 > PX(em[id].lon0) + slack || x1 < PX(em[id].lon1) - slack || y0 > PY(em[id].lat1) + slack ||
            y1 < PY(em[id].lat0) - slack || x0 < PX(eb[id].lon0) - slack || x1 > PX(eb[id].lon1) + slack ||
            y0 < PY(eb[id].lat1) - slack || y1 > PY(eb[id].lat0) + slack)
            fail_msg("entity %u: box %ld %ld %ld %ld; mainland %.2f %.2f %.2f %.2f, all %.2f %.2f %.2f %.2f", id,
                     x0, y0, x1, y1, PX(em[id].lon0), PY(em[id].lat1), PX(em[id].lon1), PY(em[id].lat0),
                     PX(eb[id].lon0), PY(eb[id].lat1), PX(eb[id].lon1), PY(eb[id].lat0));
#undef PX
#undef PY
    }
    /* Borders kept shared: an inner border is one run of points simplified once, so no
     * edge is drawn by more than two entities, and hundreds are drawn by exactly two
     * (had the two sides been simplified apart, each would be drawn by one only). */
    qsort(sv.v, sv.n, sizeof *sv.v, cmp_seg);
    size_t shared = 0;
    for (size_t i = 0; i < sv.n;) {
        size_t j = i, ents = 0;
        for (; j < sv.n && sv.v[j].ax == sv.v[i].ax && sv.v[j].ay == sv.v[i].ay && sv.v[j].bx == sv.v[i].bx &&
               sv.v[j].by == sv.v[i].by;
             j++)
            if (j == i || sv.v[j].ent != sv.v[j - 1].ent) ents++;
        if (ents > 2) fail_msg("edge (%ld,%ld)-(%ld,%ld) drawn by %zu entities", sv.v[i].ax, sv.v[i].ay, sv.v[i].bx,
                               sv.v[i].by, ents);
        shared += ents == 2;
        i = j;
    }
    printf("entity map: %zu edges, %zu shared by two entities\n", sv.n, shared);
    assert_true(shared > 200);
    free(sv.v);
    printf("entity map: %u x %u, %zu bytes of path data\n", c->map_viewbox[2], c->map_viewbox[3], total);
    /* within the Querétaro map's 7,210 bytes (docs/formats/catalog.md; 5,764 measured),
     * so the nation page weighs what a Querétaro page does */
    assert_true(total < 7210);
    assert_true(total > 3000); /* and not simplified into blobs */
    prep_diags_free(&d);
    prep_catalog_free(c);
}

/* The sim's step: the map added to a national catalogue's text, the rest byte for byte;
 * a local catalogue's text refused and left as it was. */
static void test_sim_add_map(void **st)
{
    (void)st;
    char *plain = em_cat_text("", "");
    assert_non_null(plain);
    prep_buf b;
    prep_buf_init(&b, 0);
    assert_int_equal(prep_buf_puts(&b, plain), PREP_OK);
    prep_diags d;
    prep_diags_init(&d);
    prep_err r = prep_sim_catalog_add_entity_map(&b, EM_GEOJSON, &d);
    if (r) prep_diags_print(&d, stderr, 0);
    assert_int_equal(r, PREP_OK);
    assert_int_equal(prep_buf_putc(&b, 0), PREP_OK);
    /* map_viewbox right under [process]; take it out and the [shapes] tail: the rest is
     * the text as it was */
    const char *vb = strstr(b.data, "[process]\nmap_viewbox = 0 0 600 376\nid = nac\n");
    assert_non_null(vb);
    size_t head = (size_t)(vb - b.data) + strlen("[process]\n"), vbl = strlen("map_viewbox = 0 0 600 376\n");
    size_t pl = strlen(plain);
    assert_memory_equal(b.data, plain, head);
    assert_memory_equal(b.data + head + vbl, plain + head, pl - head);
    const char *tail = b.data + head + vbl + (pl - head);
    assert_true(!strncmp(tail, "\n# The entity map", strlen("\n# The entity map")));
    assert_non_null(strstr(tail, "\n[shapes]\nentity|path\n1|M"));
    prep_catalog *c = NULL;
    assert_int_equal(prep_catalog_parse("sim.cat", b.data, b.len - 1, &c, &d), PREP_OK);
    for (uint32_t i = 0; i < c->n_entities; i++) assert_non_null(c->entity_shape[i]);
    prep_catalog_free(c);
    /* a local catalogue */
    prep_buf t;
    prep_buf_init(&t, 0);
    assert_int_equal(prep_sim_catalog_text(PREP_SIM_SCALE_TINY, 1, &t), PREP_OK);
    size_t tl = t.len;
    char *copy = malloc(tl);
    assert_non_null(copy);
    memcpy(copy, t.data, tl);
    assert_int_equal(prep_sim_catalog_add_entity_map(&t, EM_GEOJSON, &d), PREP_ERR_USAGE);
    assert_int_equal(t.len, tl);
    assert_memory_equal(t.data, copy, tl);
    free(copy);
    prep_buf_free(&t);
    prep_buf_free(&b);
    prep_diags_free(&d);
    free(plain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_write),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_fuzz_seed),
        cmocka_unit_test(test_real_file),
        cmocka_unit_test(test_sim_add_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
