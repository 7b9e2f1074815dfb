/* Unit tests of the entity map (src/render/render_entity_map.c, docs/formats/site.md
 * "Charts and the map"): the 32 entities of the real GeoJSON in a national catalogue, a
 * tally filled here by hand acta by acta, and block_entity_map's output checked against
 * what the hand-made votes say: who leads each entity (its link, aria-label and fill), the
 * legend's counts, and its weight next to the Querétaro municipality map's, drawn here by
 * the same code from the Querétaro file (the budget both must fit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/render/render_internal.h"
#include "entity_map_util.h"
#include "test_render_util.h"
#include "prep/sim.h"
#include "prep/tally.h"

#define QRO_GEOJSON PREP_SHARED_DATA "/geo/queretaro-municipios-2021.geojson"

/* A legible, consistent acta of entity id's only casilla in election e, with these votes
 * by column name (the other columns 0). */
static void capture(prep_tally *t, const prep_catalog *c, uint32_t e, uint32_t id, const char *const *cols,
                    const int32_t *votes, size_t n)
{
    int32_t v[64] = {0};
    const prep_cat_election *el = &c->elections[e];
    assert_true(el->n_cols <= 64);
    int32_t total = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t j = prep_catalog_find_column(c, e, cols[i]);
        assert_int_not_equal(j, PREP_CAT_NONE);
        v[j] = votes[i];
        total += votes[i];
    }
    char key[24];
    prep_catalog_casilla_key(id, 100 + id, 'B', 1, 0, key);
    prep_acta a;
    memset(&a, 0, sizeof a);
    a.casilla = prep_catalog_find_casilla(c, key);
    assert_int_not_equal(a.casilla, PREP_CAT_NONE);
    const prep_cat_casilla *cs = &c->casillas[a.casilla];
    snprintf(a.clave_casilla, sizeof a.clave_casilla, "%s", key);
    prep_catalog_acta_key(key, el->acta_type, a.clave_acta);
    a.section_id = 100 + id;
    a.district_id = 1;
    a.municipality_id = 1;
    a.tipo_casilla = 'B';
    a.id_casilla = 1;
    a.urban = cs->urban;
    a.lista_nominal = cs->lista_nominal;
    a.representatives = cs->representatives;
    a.acopio = a.captura = a.verificacion = c->window_open + 600;
    a.cotejada = -1;
    a.boletas_sobrantes = 10;
    a.personas_votaron = a.votos_sacados = a.total_asentado = total;
    assert_int_equal(prep_tally_apply(t, e, &a, v), PREP_OK);
}

/* A rendering context over tally t (what render_site.c sets up for a page). */
static void ctx_init(rctx *x, rsite *s, const prep_tally *t, const prep_catalog *c)
{
    assert_int_equal(rsite_build(c, s), PREP_OK);
    memset(x, 0, sizeof *x);
    x->t = t;
    x->c = c;
    x->s = s;
    x->dec = (int)c->pct_decimals;
    x->n_scratch = (size_t)c->n_candidacies + c->n_parties + c->n_entities + c->n_municipalities + 64;
    x->cv = calloc(x->n_scratch, sizeof *x->cv);
    x->tmp = calloc(x->n_scratch, sizeof *x->tmp);
    x->order = calloc(x->n_scratch, sizeof *x->order);
    assert_non_null(x->cv);
    assert_non_null(x->tmp);
    assert_non_null(x->order);
}

static void ctx_free(rctx *x, rsite *s)
{
    free(x->cv);
    free(x->tmp);
    free(x->order);
    rsite_free(s);
}

/* The Querétaro municipality map, drawn by the same code for a tally with no actas: its
 * bytes and gzipped bytes. */
static void qro_map_size(size_t *raw, size_t *gz)
{
    prep_buf text;
    prep_buf_init(&text, 0);
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_sim_catalog_text_geo(PREP_SIM_SCALE_QRO2021, 1, QRO_GEOJSON, &text, &d), PREP_OK);
    prep_catalog *c = NULL;
    assert_int_equal(prep_catalog_parse("qro.cat", text.data, text.len, &c, &d), PREP_OK);
    prep_tally *t = NULL;
    assert_int_equal(prep_tally_new(c, &t), PREP_OK);
    rsite s;
    rctx x;
    ctx_init(&x, &s, t, c);
    uint32_t e = prep_catalog_find_election(c, "ayu");
    assert_int_not_equal(e, PREP_CAT_NONE);
    rmap m = {.lvl = PREP_TALLY_MUNICIPALITY,
              .n = c->n_municipalities,
              .shape = c->municipality_shape,
              .href = (const char *const *)s.el[e].muni_seg,
              .href_suffix = "/",
              .pat = "mp",
              .title_id = "mapa-t",
              .heading = "Mapa por municipio",
              .title = "Municipios seg\xC3\xBAn la candidatura que encabeza",
              .one = "municipio",
              .many = "municipios"};
    rbuf r;
    rb_init(&r);
    map_draw(&x, &r, e, &m);
    assert_int_equal(r.err, PREP_OK);
    assert_int_equal(tr_count(r.b.data, "<a href=\""), 18);
    *raw = r.b.len;
    *gz = tr_gz_size(r.b.data, r.b.len);
    rb_free(&r);
    ctx_free(&x, &s);
    prep_tally_free(t);
    prep_catalog_free(c);
    prep_buf_free(&text);
    prep_diags_free(&d);
}

static void test_entity_map(void **st)
{
    (void)st;
    prep_catalog *c = em_cat("", "");
    assert_non_null(c);
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_catalog_shapes_from_geojson(EM_GEOJSON, NULL, 600, PREP_CAT_GEO_NATIONAL_TOLERANCE, c, &d),
                     PREP_OK);
    prep_tally *t = NULL;
    assert_int_equal(prep_tally_new(c, &t), PREP_OK);
    uint32_t pres = prep_catalog_find_election(c, "pres"), sen = prep_catalog_find_election(c, "sen");
    uint32_t dip = prep_catalog_find_election(c, "dip");
    /* presidencia, by hand: entities 1-10 MORENA 100 to PAN 50; 11-20 the coalition
     * PAN+PRI+PRD 60+30+20 = 110 to MORENA 100; 21 PAN 100 to MORENA 100, a tie; 22-32 no
     * acta. Senadurías: entity 1 PAN 7 to MORENA 3; no other acta. */
    static const char *const cols[] = {"PAN", "PRI", "PRD", "MORENA"};
    for (uint32_t id = 1; id <= 10; id++) capture(t, c, pres, id, cols, (const int32_t[]){50, 0, 0, 100}, 4);
    for (uint32_t id = 11; id <= 20; id++) capture(t, c, pres, id, cols, (const int32_t[]){60, 30, 20, 100}, 4);
    capture(t, c, pres, 21, cols, (const int32_t[]){100, 0, 0, 100}, 4);
    capture(t, c, sen, 1, (const char *const[]){"PAN", "MORENA"}, (const int32_t[]){7, 3}, 2);

    rsite s;
    rctx x;
    ctx_init(&x, &s, t, c);
    char *hrefs[EM_N];
    for (uint32_t i = 0; i < c->n_entities; i++) {
        hrefs[i] = malloc(32);
        snprintf(hrefs[i], 32, "entidad-%02u/", c->entities[i].id);
    }
    rbuf r;
    rb_init(&r);
    block_entity_map(&x, &r, pres, (const char *const *)hrefs);
    assert_int_equal(r.err, PREP_OK);
    assert_int_equal(prep_buf_putc(&r.b, 0), PREP_OK);
    const char *h = r.b.data;
    assert_non_null(strstr(h, "<h2>Mapa por entidad</h2><figure><svg viewBox=\"-1 -1 602 378\" width=\"600\" "
                              "height=\"376\" role=\"group\" aria-labelledby=\"mapa-e-t\"><title id=\"mapa-e-t\">"
                              "Entidades seg\xC3\xBAn la candidatura que encabeza</title>"));
    assert_int_equal(tr_count(h, "<a href=\""), 32);
    assert_int_equal(tr_count(h, "</a>"), 32);
    /* the coalition's stripes: its three parties' colours; MORENA is the first group met
     * (entity 1), the coalition the second (entity 11) */
    assert_non_null(strstr(h, "<pattern id=\"mep1\" width=\"15\" height=\"8\""));
    assert_non_null(strstr(h, "<rect x=\"0\" width=\"5\" height=\"8\" fill=\"#0055A5\"/><rect x=\"5\" width=\"5\" "
                              "height=\"8\" fill=\"#E30613\"/><rect x=\"10\" width=\"5\" height=\"8\" fill=\"#FFD700\"/>"));
    for (uint32_t id = 1; id <= EM_N; id++) {
        uint32_t ei = prep_catalog_find_entity(c, id);
        char want[16384];
        const char *who = id <= 10 ? ": encabeza MORENA" : id <= 20 ? ": encabeza PAN-PRI-PRD" : id == 21 ? ": empate"
                                                                                                        : ": sin actas contabilizadas";
        const char *fill = id <= 10 ? "#B5261E" : id <= 20 ? "url(#mep1)" : id == 21 ? "#9AA0A8" : "#E6E9EE";
        snprintf(want, sizeof want, "<a href=\"entidad-%02u/\" aria-label=\"ENTIDAD %02u%s\"><path d=\"%s\" fill=\"%s\" "
                                    "stroke=\"#333\" fill-rule=\"evenodd\"/></a>",
                 id, id, who, c->entity_shape[ei], fill);
        if (!strstr(h, want)) fail_msg("entity %u: not found: %.200s", id, want);
    }
    assert_non_null(strstr(h, "</svg><figcaption><ul class=\"leyenda\">"
                              "<li><i class=\"sw c3\"></i>MORENA: 10 entidades</li>"
                              "<li><i class=\"sw c0\"></i><i class=\"sw c1\"></i><i class=\"sw c2\"></i>PAN-PRI-PRD: 10 "
                              "entidades</li>"
                              "<li><i class=\"sw ce\"></i>Empate: 1</li>"
                              "<li><i class=\"sw cn\"></i>Sin actas contabilizadas: 11</li></ul></figcaption></figure>"));
    /* the weight: no more than the Querétaro map's, drawn by the same code */
    size_t raw = r.b.len - 1, gz = tr_gz_size(h, raw), qraw, qgz;
    qro_map_size(&qraw, &qgz);
    printf("entity map: %zu bytes, %zu gzipped; Querétaro municipality map: %zu, %zu gzipped\n", raw, gz, qraw, qgz);
    assert_true(gz <= qgz);

    /* senadurías (candidacies per entity): PAN leads entity 1, the rest have no acta */
    rb_reset(&r);
    block_entity_map(&x, &r, sen, (const char *const *)hrefs);
    assert_int_equal(prep_buf_putc(&r.b, 0), PREP_OK);
    assert_non_null(strstr(r.b.data, "<a href=\"entidad-01/\" aria-label=\"ENTIDAD 01: encabeza PAN\">"));
    assert_non_null(strstr(r.b.data, "<li><i class=\"sw c0\"></i>PAN: 1 entidad</li>"
                                     "<li><i class=\"sw cn\"></i>Sin actas contabilizadas: 31</li>"));
    /* diputaciones: who leads an entity is not defined (a candidacy per district): no map */
    rb_reset(&r);
    block_entity_map(&x, &r, dip, (const char *const *)hrefs);
    assert_int_equal(r.b.len, 0);
    /* without links: each entity still named, in a <g role="img"> */
    rb_reset(&r);
    block_entity_map(&x, &r, pres, NULL);
    assert_int_equal(prep_buf_putc(&r.b, 0), PREP_OK);
    assert_int_equal(tr_count(r.b.data, "<a "), 0);
    assert_int_equal(tr_count(r.b.data, "<g role=\"img\" aria-label=\"ENTIDAD "), 32);

    rb_free(&r);
    for (uint32_t i = 0; i < c->n_entities; i++) free(hrefs[i]);
    ctx_free(&x, &s);
    prep_tally_free(t);
    prep_diags_free(&d);
    prep_catalog_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entity_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
