/* prep catalog: the municipality map from a GeoJSON file (docs/formats/catalog.md
 * "Map from GeoJSON"). Runs when a catalogue is built, never while publishing: the pages
 * draw the paths this writes into the catalogue.
 *
 * 1. Read: a FeatureCollection of Polygon / MultiPolygon features, each matched to a
 *    municipality of the catalogue by an id property (CVE_MUN). Every problem is a diag
 *    naming the feature (features[i], 0-based as in the file); reading goes on past a bad
 *    feature, and nothing changes in the catalogue unless there was none.
 * 2. Project: equirectangular, longitude scaled by cos(middle latitude of the box), y
 *    down, fitted to `width` units.
 * 3. Simplify without opening gaps between neighbours: a position is a junction when it
 *    appears with two different pairs of neighbours (where three municipalities meet, or
 *    where a shared border ends), and the first position at each extreme of the box (so
 *    the map touches the four sides of its viewBox) counts as one too; the rings are cut at junctions into runs, and each run
 *    goes through Douglas-Peucker in one canonical direction, so the two municipalities
 *    that share a border keep exactly the same points on it. A ring with no junction (an
 *    island) is anchored at its smallest position.
 * 4. Round to integers, drop repeated points and rings that collapse (fewer than three
 *    points or no area), write SVG path data: "M x y" absolute, then "l" with relative
 *    steps, "z", one subpath per ring. */
#include "catalog_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct gring {
    uint32_t feature;   /* index in features[] */
    size_t first, n;    /* positions [first, first + n) in the point arrays, closing one dropped */
} gring;

typedef struct gfeat {
    uint32_t index;     /* in features[] */
    uint32_t muni;      /* municipality index */
    uint32_t id;        /* its id */
    size_t ring0, nring;
} gfeat;

typedef struct gctx {
    const char *file;
    prep_diags *d;
    size_t nerr;
    int f_parse, f_limit, f_oom;
    const prep_catalog *c;
    const char *prop;
    double *lon, *lat;          /* per position */
    size_t npt, cappt;
    gring *ring;
    size_t nring, capring;
    gfeat *feat;
    size_t nfeat;
    uint32_t *feat_of_muni;     /* per municipality: features[] index + 1, 0 = none yet */
} gctx;

__attribute__((format(printf, 4, 5))) static void gerr(gctx *x, long line, const char *kind, const char *fmt, ...)
{
    x->nerr++;
    if (!strcmp(kind, "geo-json") || !strcmp(kind, "geo-format")) x->f_parse = 1;
    if (!strcmp(kind, "too-many") || !strcmp(kind, "path-too-long")) x->f_limit = 1;
    va_list ap; /* prep_diags_vadd keeps at most max_keep and counts the rest */
    va_start(ap, fmt);
    prep_diags_vadd(x->d, x->file, line, 0, kind, fmt, ap);
    va_end(ap);
}

/* ================================================================ reading */

/* Up to 40 bytes of s for a message: printable ASCII kept, anything else '?'. */
static const char *shown(const char *s, char out[48])
{
    size_t k = 0;
    for (; s[k] && k < 40; k++) out[k] = s[k] >= 0x20 && s[k] < 0x7f ? s[k] : '?';
    if (s[k]) out[k++] = '.', out[k++] = '.', out[k++] = '.';
    out[k] = 0;
    return out;
}

static int add_point(gctx *x, double lon, double lat)
{
    if (x->npt >= PREP_CAT_GEO_MAX_POINTS) return -1;
    if (x->npt == x->cappt) {
        size_t nc = x->cappt ? x->cappt * 2 : 4096;
        double *a = realloc(x->lon, nc * sizeof *a);
        if (!a) goto oom;
        x->lon = a;
        double *b = realloc(x->lat, nc * sizeof *b);
        if (!b) goto oom;
        x->lat = b;
        x->cappt = nc;
    }
    x->lon[x->npt] = lon;
    x->lat[x->npt] = lat;
    x->npt++;
    return 0;
oom:
    x->f_oom = 1;
    return -1;
}

static int add_ring(gctx *x, uint32_t feature, size_t first, size_t n)
{
    if (x->nring == x->capring) {
        size_t nc = x->capring ? x->capring * 2 : 64;
        gring *r = realloc(x->ring, nc * sizeof *r);
        if (!r) {
            x->f_oom = 1;
            return -1;
        }
        x->ring = r;
        x->capring = nc;
    }
    x->ring[x->nring++] = (gring){feature, first, n};
    return 0;
}

/* Reads one linear ring (an array of [lon, lat, ...]); keeps it when it has three
 * distinct positions or more. 0, or -1 with a diag (or out of memory). */
static int read_ring(gctx *x, const json_t *ring, uint32_t fi, const char *flabel, size_t pi, size_t ri)
{
    if (!json_is_array(ring)) {
        gerr(x, 0, "geo-format", "%s: polygon %zu, ring %zu is not an array of positions", flabel, pi, ri);
        return -1;
    }
    size_t first = x->npt, n = json_array_size(ring);
    for (size_t k = 0; k < n; k++) {
        const json_t *p = json_array_get(ring, k);
        const json_t *jl = json_array_get(p, 0), *jb = json_array_get(p, 1);
        if (!json_is_array(p) || !json_is_number(jl) || !json_is_number(jb)) {
            gerr(x, 0, "geo-format", "%s: polygon %zu, ring %zu, position %zu is not [longitude, latitude]", flabel,
                 pi, ri, k);
            return -1;
        }
        double lon = json_number_value(jl), lat = json_number_value(jb);
        if (!(lon >= -180.0 && lon <= 180.0 && lat >= -90.0 && lat <= 90.0)) {
            gerr(x, 0, "geo-format",
                 "%s: polygon %zu, ring %zu, position %zu: [%.9g, %.9g] is not a longitude -180..180 and a "
                 "latitude -90..90",
                 flabel, pi, ri, k, lon, lat);
            return -1;
        }
        if (lon == 0.0) lon = 0.0; /* -0.0 and 0.0 are one position */
        if (lat == 0.0) lat = 0.0;
        /* a repeated position adds nothing */
        if (x->npt > first && x->lon[x->npt - 1] == lon && x->lat[x->npt - 1] == lat) continue;
        if (add_point(x, lon, lat)) {
            if (!x->f_oom)
                gerr(x, 0, "too-many", "%s: more than %u positions in the file", flabel,
                     (unsigned)PREP_CAT_GEO_MAX_POINTS);
            return -1;
        }
    }
    size_t m = x->npt - first;
    /* the closing position repeats the first (RFC 7946); an open ring is closed anyway */
    while (m > 1 && x->lon[first + m - 1] == x->lon[first] && x->lat[first + m - 1] == x->lat[first]) m--;
    x->npt = first + m;
    if (m < 3) {
        x->npt = first; /* collapsed already */
        return 0;
    }
    return add_ring(x, fi, first, m);
}

static int read_polygon(gctx *x, const json_t *poly, uint32_t fi, const char *flabel, size_t pi)
{
    if (!json_is_array(poly)) {
        gerr(x, 0, "geo-format", "%s: polygon %zu is not an array of rings", flabel, pi);
        return -1;
    }
    for (size_t r = 0; r < json_array_size(poly); r++)
        if (read_ring(x, json_array_get(poly, r), fi, flabel, pi, r)) return -1;
    return 0;
}

/* The municipality id in the feature's properties: a JSON integer or a string of 1..9
 * digits ("012" = 12), 1..PREP_CAT_MAX_GEO_ID. 0 with a diag when absent or not a number. */
static uint32_t feature_id(gctx *x, const json_t *props, uint32_t fi)
{
    const json_t *v = json_is_object(props) ? json_object_get(props, x->prop) : NULL;
    if (!v || json_is_null(v)) {
        gerr(x, 0, "geo-property", "features[%u] has no property '%s'", (unsigned)fi, x->prop);
        return 0;
    }
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i >= 1 && i <= (json_int_t)PREP_CAT_MAX_GEO_ID) return (uint32_t)i;
        gerr(x, 0, "geo-property", "features[%u]: %s %lld is not a municipality number 1..%u", (unsigned)fi, x->prop,
             (long long)i, (unsigned)PREP_CAT_MAX_GEO_ID);
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        uint32_t id = 0;
        int ok = n >= 1 && n <= 9 && strlen(s) == n;
        for (size_t k = 0; ok && k < n; k++) {
            if (s[k] < '0' || s[k] > '9') ok = 0;
            else id = id * 10 + (uint32_t)(s[k] - '0');
        }
        if (ok && id >= 1 && id <= PREP_CAT_MAX_GEO_ID) return id;
        char sb[48];
        gerr(x, 0, "geo-property", "features[%u]: %s '%s' is not a municipality number 1..%u", (unsigned)fi,
             x->prop, shown(s, sb), (unsigned)PREP_CAT_MAX_GEO_ID);
        return 0;
    }
    gerr(x, 0, "geo-property", "features[%u]: %s is a JSON %s, not a municipality number", (unsigned)fi, x->prop,
         json_is_real(v) ? "real" : json_is_boolean(v) ? "boolean" : json_is_array(v) ? "array" : "object");
    return 0;
}

static void read_feature(gctx *x, const json_t *f, uint32_t fi)
{
    if (!json_is_object(f)) {
        gerr(x, 0, "geo-format", "features[%u] is not an object", (unsigned)fi);
        return;
    }
    const json_t *type = json_object_get(f, "type");
    if (!json_is_string(type) || strcmp(json_string_value(type), "Feature")) {
        gerr(x, 0, "geo-format", "features[%u] is not of type \"Feature\"", (unsigned)fi);
        return;
    }
    uint32_t id = feature_id(x, json_object_get(f, "properties"), fi);
    char flabel[96];
    snprintf(flabel, sizeof flabel, "features[%u] (%s %u)", (unsigned)fi, x->prop, (unsigned)id);
    uint32_t m = PREP_CAT_NONE;
    if (id) {
        m = prep_catalog_find_municipality(x->c, cat_entity_id(x->c, 0), id); /* a local map: one entity */
        if (m == PREP_CAT_NONE) {
            gerr(x, 0, "unknown-reference", "%s: the catalogue has no municipality %u", flabel, (unsigned)id);
        } else if (x->feat_of_muni[m]) {
            gerr(x, 0, "duplicate-id", "%s: municipality %u already has features[%u]", flabel, (unsigned)id,
                 (unsigned)(x->feat_of_muni[m] - 1));
            m = PREP_CAT_NONE;
        }
    }
    const json_t *g = json_object_get(f, "geometry");
    const char *gt = json_is_object(g) ? json_string_value(json_object_get(g, "type")) : NULL;
    const json_t *coords = json_is_object(g) ? json_object_get(g, "coordinates") : NULL;
    if (!g || json_is_null(g)) {
        gerr(x, 0, "geo-geometry", "%s has no geometry", flabel);
        return;
    }
    if (!gt) {
        gerr(x, 0, "geo-format", "%s: its geometry has no \"type\"", flabel);
        return;
    }
    int multi = !strcmp(gt, "MultiPolygon");
    if (!multi && strcmp(gt, "Polygon")) {
        char sb[48];
        gerr(x, 0, "geo-geometry", "%s: geometry type '%s' is not supported (Polygon or MultiPolygon)", flabel,
             shown(gt, sb));
        return;
    }
    if (!json_is_array(coords)) {
        gerr(x, 0, "geo-format", "%s: its %s has no \"coordinates\" array", flabel, gt);
        return;
    }
    if (m == PREP_CAT_NONE) return; /* reported above; its geometry is not needed */
    size_t pt0 = x->npt, ring0 = x->nring;
    int bad = 0;
    if (multi) {
        for (size_t p = 0; p < json_array_size(coords) && !bad; p++)
            bad = read_polygon(x, json_array_get(coords, p), fi, flabel, p);
    } else {
        bad = read_polygon(x, coords, fi, flabel, 0);
    }
    if (bad) {
        x->npt = pt0;
        x->nring = ring0;
        return;
    }
    x->feat_of_muni[m] = fi + 1;
    x->feat[x->nfeat++] = (gfeat){fi, m, id, ring0, x->nring - ring0};
}

/* ================================================================ topology */

/* Position -> vertex id, by the exact bits of (lon, lat). */
typedef struct vmap {
    uint32_t *slot; /* vertex id + 1, 0 empty */
    size_t mask;
} vmap;

static uint64_t dbits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

typedef struct topo {
    uint32_t *vid;      /* per position: its vertex */
    size_t nv;
    uint32_t *rep;      /* per vertex: a position holding it (coordinates) */
    uint32_t *nb_a, *nb_b; /* per vertex: the neighbour pair first seen (min, max) */
    uint8_t *fixed;     /* per vertex: junction */
} topo;

static void topo_free(topo *t)
{
    free(t->vid);
    free(t->rep);
    free(t->nb_a);
    free(t->nb_b);
    free(t->fixed);
}

static int build_topo(gctx *x, topo *t)
{
    size_t n = x->npt;
    memset(t, 0, sizeof *t);
    vmap m = {0};
    size_t cap = 16;
    while (cap < n * 2 + 2) cap *= 2;
    m.slot = calloc(cap, sizeof *m.slot);
    m.mask = cap - 1;
    t->vid = malloc((n ? n : 1) * sizeof *t->vid);
    t->rep = malloc((n ? n : 1) * sizeof *t->rep);
    t->nb_a = malloc((n ? n : 1) * sizeof *t->nb_a);
    t->nb_b = malloc((n ? n : 1) * sizeof *t->nb_b);
    t->fixed = calloc(n ? n : 1, 1);
    if (!m.slot || !t->vid || !t->rep || !t->nb_a || !t->nb_b || !t->fixed) {
        free(m.slot);
        topo_free(t);
        x->f_oom = 1;
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t h = mix64(dbits(x->lon[i]) ^ mix64(dbits(x->lat[i])));
        size_t s = (size_t)h & m.mask;
        for (;; s = (s + 1) & m.mask) {
            uint32_t v = m.slot[s];
            if (!v) {
                m.slot[s] = (uint32_t)t->nv + 1;
                t->rep[t->nv] = (uint32_t)i;
                t->nb_a[t->nv] = UINT32_MAX; /* not seen yet */
                t->vid[i] = (uint32_t)t->nv++;
                break;
            }
            uint32_t r = t->rep[v - 1];
            if (x->lon[r] == x->lon[i] && x->lat[r] == x->lat[i]) {
                t->vid[i] = v - 1;
                break;
            }
        }
    }
    free(m.slot);
    /* junctions: a vertex met with two different neighbour pairs */
    for (size_t r = 0; r < x->nring; r++) {
        const gring *g = &x->ring[r];
        for (size_t k = 0; k < g->n; k++) {
            uint32_t v = t->vid[g->first + k];
            uint32_t p = t->vid[g->first + (k + g->n - 1) % g->n];
            uint32_t q = t->vid[g->first + (k + 1) % g->n];
            uint32_t a = p < q ? p : q, b = p < q ? q : p;
            if (t->nb_a[v] == UINT32_MAX) {
                t->nb_a[v] = a;
                t->nb_b[v] = b;
            } else if (t->nb_a[v] != a || t->nb_b[v] != b) {
                t->fixed[v] = 1;
            }
        }
    }
    /* the first position at each extreme stays too, so the map touches all four sides
     * of its viewBox */
    size_t ext[4] = {0, 0, 0, 0};
    for (size_t i = 1; i < n; i++) {
        if (x->lon[i] < x->lon[ext[0]]) ext[0] = i;
        if (x->lon[i] > x->lon[ext[1]]) ext[1] = i;
        if (x->lat[i] < x->lat[ext[2]]) ext[2] = i;
        if (x->lat[i] > x->lat[ext[3]]) ext[3] = i;
    }
    for (int e = 0; e < 4 && n; e++) t->fixed[t->vid[ext[e]]] = 1;
    return 0;
}

/* Order of positions i, j by (lon, lat): <0, 0, >0. */
static int cmp_pos(const gctx *x, size_t i, size_t j)
{
    if (x->lon[i] != x->lon[j]) return x->lon[i] < x->lon[j] ? -1 : 1;
    if (x->lat[i] != x->lat[j]) return x->lat[i] < x->lat[j] ? -1 : 1;
    return 0;
}

/* Douglas-Peucker over run[0..m) (position indices, m >= 2) on the projected X, Y:
 * marks keep[] for the points it keeps, both ends included. Distance is to the segment
 * (to the point when both ends are one). stack: room for 2 * m entries. The farthest
 * point wins; on a tie the first in run order, so one run gives one answer. */
static void douglas_peucker(const double *X, const double *Y, const uint32_t *run, size_t m, double tol,
                            uint8_t *keep, uint32_t *stack)
{
    keep[run[0]] = keep[run[m - 1]] = 1;
    size_t sp = 0;
    stack[sp++] = 0;
    stack[sp++] = (uint32_t)(m - 1);
    double tol2 = tol * tol;
    while (sp) {
        uint32_t b = stack[--sp], a = stack[--sp];
        if (b <= a + 1) continue;
        double ax = X[run[a]], ay = Y[run[a]], bx = X[run[b]], by = Y[run[b]];
        double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
        double best = -1.0;
        uint32_t bi = a;
        for (uint32_t i = a + 1; i < b; i++) {
            double px = X[run[i]] - ax, py = Y[run[i]] - ay;
            double t = len2 > 0 ? (px * dx + py * dy) / len2 : 0.0;
            if (t < 0) t = 0;
            if (t > 1) t = 1;
            double ex = px - t * dx, ey = py - t * dy, d2 = ex * ex + ey * ey;
            if (d2 > best) {
                best = d2;
                bi = i;
            }
        }
        if (best > tol2) {
            keep[run[bi]] = 1;
            stack[sp++] = a;
            stack[sp++] = bi;
            stack[sp++] = bi;
            stack[sp++] = b;
        }
    }
}

/* Simplifies the run of ring g from offset k0 going `len` steps forward (len + 1
 * positions; k0 + len may wrap), in its canonical direction. */
static void simplify_run(const gctx *x, const gring *g, size_t k0, size_t len, const double *X, const double *Y,
                         double tol, uint8_t *keep, uint32_t *run, uint32_t *stack)
{
    size_t m = len + 1;
    for (size_t i = 0; i < m; i++) run[i] = (uint32_t)(g->first + (k0 + i) % g->n);
    int c = cmp_pos(x, run[0], run[m - 1]);
    if (c == 0 && m > 2) c = cmp_pos(x, run[1], run[m - 2]);
    if (c > 0)
        for (size_t i = 0; i < m / 2; i++) {
            uint32_t tmp = run[i];
            run[i] = run[m - 1 - i];
            run[m - 1 - i] = tmp;
        }
    douglas_peucker(X, Y, run, m, tol, keep, stack);
}

/* ================================================================ building */

static void free_shapes(char **v, uint32_t n)
{
    if (!v) return;
    for (uint32_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* Appends ring r's kept points to b as one subpath; 0 when it collapsed, 1 written,
 * -1 on a buffer error (*e set). */
static int put_ring(const gring *g, const uint8_t *keep, const double *X, const double *Y, long *px, long *py,
                    prep_buf *b, prep_err *e)
{
    size_t n = 0;
    for (size_t k = 0; k < g->n; k++) {
        size_t i = g->first + k;
        if (!keep[i]) continue;
        long xi = lround(X[i]), yi = lround(Y[i]);
        if (n && px[n - 1] == xi && py[n - 1] == yi) continue;
        px[n] = xi;
        py[n] = yi;
        n++;
    }
    while (n > 1 && px[n - 1] == px[0] && py[n - 1] == py[0]) n--;
    if (n < 3) return 0;
    int64_t area2 = 0;
    for (size_t k = 0; k < n; k++) {
        size_t j = (k + 1) % n;
        area2 += (int64_t)px[k] * py[j] - (int64_t)px[j] * py[k];
    }
    if (area2 == 0) return 0;
    *e = prep_buf_printf(b, "M%ld %ldl", px[0], py[0]);
    for (size_t k = 1; k < n && !*e; k++) {
        long dx = px[k] - px[k - 1], dy = py[k] - py[k - 1];
        *e = prep_buf_printf(b, k == 1 || dx < 0 ? "%ld" : " %ld", dx);
        if (!*e) *e = prep_buf_printf(b, dy < 0 ? "%ld" : " %ld", dy);
    }
    if (!*e) *e = prep_buf_putc(b, 'z');
    return *e ? -1 : 1;
}

/* Projects, simplifies and writes every feature's path into shapes[muni]. */
static void build(gctx *x, uint32_t width, double tol, char **shapes, uint32_t *height)
{
    double minlon = INFINITY, maxlon = -INFINITY, minlat = INFINITY, maxlat = -INFINITY;
    for (size_t i = 0; i < x->npt; i++) {
        if (x->lon[i] < minlon) minlon = x->lon[i];
        if (x->lon[i] > maxlon) maxlon = x->lon[i];
        if (x->lat[i] < minlat) minlat = x->lat[i];
        if (x->lat[i] > maxlat) maxlat = x->lat[i];
    }
    const double deg = 3.14159265358979323846 / 180.0;
    double k = cos((minlat + maxlat) / 2.0 * deg);
    double spanx = (maxlon - minlon) * k, spany = maxlat - minlat;
    if (!x->npt || !(spanx > 0) || !(spany > 0)) {
        gerr(x, 0, "geo-format", "the matched features have no extent (their box is %.9g x %.9g degrees)",
             x->npt ? maxlon - minlon : 0.0, x->npt ? spany : 0.0);
        return;
    }
    double s = width / spanx;
    double hh = spany * s;
    if (!(hh < PREP_CAT_MAX_MAP_COORD + 0.5)) {
        gerr(x, 0, "too-many", "the map would be %.0f units tall for %u wide; at most %u", hh, (unsigned)width,
             (unsigned)PREP_CAT_MAX_MAP_COORD);
        return;
    }
    long h = lround(hh);
    if (h < 1) {
        gerr(x, 0, "geo-format", "the map would be %.3g units tall for %u wide: too flat to draw", hh,
             (unsigned)width);
        return;
    }
    *height = (uint32_t)h;

    size_t n = x->npt;
    double *X = malloc(n * sizeof *X), *Y = malloc(n * sizeof *Y);
    uint8_t *keep = calloc(n, 1);
    size_t maxring = 0;
    for (size_t r = 0; r < x->nring; r++)
        if (x->ring[r].n > maxring) maxring = x->ring[r].n;
    uint32_t *run = malloc((maxring + 1) * sizeof *run);
    uint32_t *stack = malloc((maxring + 1) * 2 * sizeof *stack);
    long *px = malloc((maxring + 1) * sizeof *px), *py = malloc((maxring + 1) * sizeof *py);
    topo t;
    memset(&t, 0, sizeof t);
    if (!X || !Y || !keep || !run || !stack || !px || !py || build_topo(x, &t)) {
        x->f_oom = 1;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        X[i] = (x->lon[i] - minlon) * k * s;
        Y[i] = (maxlat - x->lat[i]) * s;
    }
    for (size_t r = 0; r < x->nring; r++) {
        const gring *g = &x->ring[r];
        if (tol <= 0) {
            memset(keep + g->first, 1, g->n);
            continue;
        }
        size_t f0 = SIZE_MAX;
        for (size_t q = 0; q < g->n; q++)
            if (t.fixed[t.vid[g->first + q]]) {
                f0 = q;
                break;
            }
        if (f0 == SIZE_MAX) {
            /* no junction: anchor at the smallest position, once around */
            size_t a = 0;
            for (size_t q = 1; q < g->n; q++)
                if (cmp_pos(x, g->first + q, g->first + a) < 0) a = q;
            simplify_run(x, g, a, g->n, X, Y, tol, keep, run, stack);
            continue;
        }
        /* from junction to junction, once around */
        size_t a = f0;
        do {
            size_t len = 1;
            while (!t.fixed[t.vid[g->first + (a + len) % g->n]]) len++;
            simplify_run(x, g, a, len, X, Y, tol, keep, run, stack);
            a = (a + len) % g->n;
        } while (a != f0);
    }
    for (size_t fi = 0; fi < x->nfeat && !x->f_oom; fi++) {
        const gfeat *f = &x->feat[fi];
        prep_buf b;
        prep_buf_init(&b, (size_t)PREP_CAT_MAX_PATH + 1);
        prep_err e = PREP_OK;
        int written = 0;
        for (size_t r = f->ring0; r < f->ring0 + f->nring && !e; r++)
            if (put_ring(&x->ring[r], keep, X, Y, px, py, &b, &e) > 0) written++;
        if (e == PREP_ERR_LIMIT || (!e && b.len > PREP_CAT_MAX_PATH)) {
            gerr(x, 0, "path-too-long",
                 "features[%u] (%s %u): its path would be longer than %u bytes; raise the tolerance (%g)",
                 (unsigned)f->index, x->prop, (unsigned)f->id, (unsigned)PREP_CAT_MAX_PATH, tol);
        } else if (e) {
            x->f_oom = 1;
        } else if (!written) {
            gerr(x, 0, "geo-collapsed",
                 "features[%u] (%s %u): every ring collapses at tolerance %g on a %u-unit map; lower the "
                 "tolerance or widen the map",
                 (unsigned)f->index, x->prop, (unsigned)f->id, tol, (unsigned)width);
        } else {
            shapes[f->muni] = prep_buf_steal(&b, NULL);
            if (!shapes[f->muni]) x->f_oom = 1;
        }
        prep_buf_free(&b);
    }
out:
    topo_free(&t);
    free(X);
    free(Y);
    free(keep);
    free(run);
    free(stack);
    free(px);
    free(py);
}

/* ================================================================ entry points */

prep_err prep_catalog_shapes_from_geojson_mem(const char *name, const char *data, size_t len,
                                              const char *id_property, uint32_t width, double tolerance,
                                              prep_catalog *c, prep_diags *diags)
{
    if (!c || (!data && len) || isnan(tolerance) || isinf(tolerance)) return PREP_ERR_USAGE;
    if (width == 0) width = PREP_CAT_GEO_DEFAULT_WIDTH;
    if (width < 16 || width > PREP_CAT_MAX_MAP_COORD) return PREP_ERR_USAGE;
    if (tolerance < 0) tolerance = PREP_CAT_GEO_DEFAULT_TOLERANCE;
    prep_diags local;
    prep_diags_init(&local);
    gctx x;
    memset(&x, 0, sizeof x);
    x.file = name ? name : "-";
    x.d = diags ? diags : &local;
    x.c = c;
    x.prop = id_property && *id_property ? id_property : "CVE_MUN";
    prep_err rc = PREP_OK;
    char **shapes = NULL;
    json_t *root = NULL;
    if (len > PREP_CAT_GEO_MAX_FILE) {
        gerr(&x, 0, "too-many", "GeoJSON of %zu bytes; at most %zu", len, PREP_CAT_GEO_MAX_FILE);
        goto done;
    }
    json_error_t je;
    root = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        x.nerr++;
        x.f_parse = 1;
        prep_diags_add(x.d, x.file, je.line > 0 ? je.line : 0, je.column > 0 ? je.column : 0, "geo-json",
                       "not JSON: %s", je.text);
        goto done;
    }
    const json_t *type = json_object_get(root, "type");
    const json_t *feats = json_object_get(root, "features");
    if (!json_is_object(root) || !json_is_string(type) || strcmp(json_string_value(type), "FeatureCollection")) {
        gerr(&x, 0, "geo-format", "not a GeoJSON FeatureCollection (no \"type\": \"FeatureCollection\" at the top)");
        goto done;
    }
    if (!json_is_array(feats) || json_array_size(feats) == 0) {
        gerr(&x, 0, "geo-format", "the FeatureCollection has no features");
        goto done;
    }
    size_t nf = json_array_size(feats);
    if (nf > PREP_CAT_MAX_GEO) {
        gerr(&x, 0, "too-many", "%zu features; at most %u", nf, (unsigned)PREP_CAT_MAX_GEO);
        goto done;
    }
    x.feat = malloc(nf * sizeof *x.feat);
    x.feat_of_muni = calloc(c->n_municipalities ? c->n_municipalities : 1, sizeof *x.feat_of_muni);
    if (!x.feat || !x.feat_of_muni) {
        x.f_oom = 1;
        goto done;
    }
    for (size_t i = 0; i < nf && !x.f_oom && !x.f_limit; i++) read_feature(&x, json_array_get(feats, i), (uint32_t)i);
    json_decref(root);
    root = NULL;
    if (x.nerr || x.f_oom) goto done;
    shapes = calloc(c->n_municipalities ? c->n_municipalities : 1, sizeof *shapes);
    if (!shapes) {
        x.f_oom = 1;
        goto done;
    }
    uint32_t height = 0;
    build(&x, width, tolerance, shapes, &height);
    if (x.nerr || x.f_oom) goto done;
    uint32_t vb[4] = {0, 0, width, height};
    /* What we write must read back: check it with the reader's own checker. */
    for (uint32_t m = 0; m < c->n_municipalities; m++) {
        char msg[160];
        if (shapes[m] && prep_catalog_path_check(shapes[m], vb, NULL, msg, sizeof msg))
            gerr(&x, 0, "geo-format", "municipality %u: the path built does not check (%s); a bug",
                 (unsigned)c->municipalities[m].id, msg);
    }
    if (x.nerr) goto done;
    free_shapes(c->municipality_shape, c->n_municipalities);
    c->municipality_shape = shapes;
    shapes = NULL;
    memcpy(c->map_viewbox, vb, sizeof vb);
    c->has_map = 1;
done:
    if (root) json_decref(root);
    free_shapes(shapes, c->n_municipalities);
    free(x.lon);
    free(x.lat);
    free(x.ring);
    free(x.feat);
    free(x.feat_of_muni);
    if (x.f_oom) rc = PREP_ERR_NOMEM;
    else if (x.nerr) rc = x.f_limit ? PREP_ERR_LIMIT : x.f_parse ? PREP_ERR_PARSE : PREP_ERR_INVALID;
    prep_diags_free(&local);
    return rc;
}

prep_err prep_catalog_shapes_from_geojson(const char *path, const char *id_property, uint32_t width,
                                          double tolerance, prep_catalog *c, prep_diags *diags)
{
    if (!path || !c) return PREP_ERR_USAGE;
    char *data = NULL;
    size_t len = 0;
    prep_err r = prep_read_file_diag(path, PREP_CAT_GEO_MAX_FILE, "the GeoJSON", &data, &len, diags);
    if (r) return r;
    r = prep_catalog_shapes_from_geojson_mem(path, data, len, id_property, width, tolerance, c, diags);
    free(data);
    return r;
}
