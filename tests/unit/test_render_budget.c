/* render: the page-weight budget at Querétaro scale and in the national profile. A first view of any page — its HTML,
 * the stylesheet and the script, each gzip-compressed (zlib level 6, what a server that
 * compresses on the fly uses by default) — must stay within 30 KB (30,000 bytes here). The
 * catalogue is the simulated Querétaro 2021 one with the 18 real municipality outlines
 * (shared/data/geo), so the map pages are measured too; the cut is the last of the night,
 * when every number has the most digits. bench/bench_render.c prints the distribution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "prep/render.h"
#include "prep/sim.h"
#include "test_render_util.h"

#define BUDGET 30000u

static const char *shared_dir(void)
{
    const char *e = getenv("PREP_SHARED_DATA");
    return e && *e ? e : PREP_SHARED_DATA;
}

/* The site of catalogue c's simulated night at its close (every acta applied, the final
 * cut, 288th), into *s; *t and sets[] (3) are the caller's to free. */
static void render_closed_night(const prep_catalog *c, prep_actas *sets[3], prep_tally **t, prep_site *s,
                                prep_render_stats *st)
{
    assert_int_equal(c->n_elections, 3);
    prep_sim_night_opts o;
    prep_sim_night_defaults(&o);
    assert_int_equal(prep_sim_actas(c, &o, sets), PREP_OK);
    assert_int_equal(prep_tally_new(c, t), PREP_OK);
    for (uint32_t el = 0; el < c->n_elections; el++) {
        prep_tally_cursor cur;
        assert_int_equal(prep_tally_cursor_init(&cur, sets[el]), PREP_OK);
        assert_int_equal(prep_tally_apply_until(*t, sets[el], &cur, c->window_close, NULL), PREP_OK);
        prep_tally_cursor_free(&cur);
    }
    prep_render_cut cut = {.seq = 288, .at = c->window_close, .drill = 1, .process_name = NULL,
                           .valid_until = PREP_TIME_NONE, .final_cut = 1};
    prep_render_site_init(s);
    assert_int_equal(prep_render_site(*t, &cut, NULL, NULL, s, st), PREP_OK);
}

/* The gzipped sizes of the site's stylesheet and script, which every first view adds. */
static void asset_sizes(const prep_site *s, size_t *css, size_t *js)
{
    *css = *js = 0;
    for (size_t i = 0; i < s->n; i++)
        if (!strncmp(s->v[i].path, "assets/", 7)) {
            size_t g = tr_gz_size(s->v[i].data, s->v[i].len);
            if (strstr(s->v[i].path, ".css")) *css = g;
            else *js = g;
        }
    assert_true(*css > 0 && *js > 0);
}

/* Holds every page of s to the budget (its gzipped HTML with the stylesheet and the
 * script); prints the heaviest. Returns the pages' count; with sec_pages, also counts the
 * section tree's pages (seccion/, its 404 page, seccion/NNNN/: issue 16, in both trees)
 * and their heaviest. */
static size_t budget_check(const prep_site *s, const char *label, size_t *sec_pages, size_t *sec_worst)
{
    size_t css, js;
    asset_sizes(s, &css, &js);
    size_t pages = 0, worst = 0;
    const char *worst_path = "";
    for (size_t i = 0; i < s->n; i++) {
        if (!s->v[i].is_page) continue;
        size_t g = tr_gz_size(s->v[i].data, s->v[i].len) + css + js;
        if (sec_pages && (!strncmp(s->v[i].path, "seccion/", 8) || !strncmp(s->v[i].path, "embebido/seccion/", 17))) {
            ++*sec_pages;
            if (g > *sec_worst) *sec_worst = g;
        }
        if (g > worst) {
            worst = g;
            worst_path = s->v[i].path;
        }
        if (g > BUDGET) print_error("%s: %zu bytes gzipped with its assets\n", s->v[i].path, g);
        assert_true(g <= BUDGET);
        pages++;
    }
    print_message("%s: %zu pages; heaviest first view %s: %zu bytes (css %zu, js %zu)\n", label, pages, worst_path,
                  worst, css, js);
    return pages;
}

static void test_budget_queretaro(void **state)
{
    (void)state;
    prep_catalog *c;
    assert_int_equal(prep_sim_catalog(PREP_SIM_SCALE_QRO2021, 1, &c), PREP_OK);
    char geo[512];
    snprintf(geo, sizeof geo, "%s/geo/queretaro-municipios-2021.geojson", shared_dir());
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_catalog_shapes_from_geojson(geo, NULL, 0, -1.0, c, &d);
    if (e) prep_diags_print(&d, stderr, 10);
    assert_int_equal(e, PREP_OK);
    prep_diags_free(&d);
    assert_true(c->has_map);

    prep_actas *sets[3];
    prep_tally *t;
    prep_site s;
    prep_render_stats st;
    render_closed_night(c, sets, &t, &s, &st);
    size_t sec_pages = 0, sec_worst = 0, pages = budget_check(&s, "qro2021", &sec_pages, &sec_worst);
    assert_int_equal(pages, st.pages);
    assert_true(pages > 10000);
    print_message("section tree: %zu pages, heaviest first view %zu bytes\n", sec_pages, sec_worst);
    assert_int_equal(sec_pages, 2 * (2 + (size_t)c->n_sections));
    assert_true(sec_worst > 0 && sec_worst <= BUDGET);

    /* the map is there, one path per municipality, on both elections with a municipal view */
    const char *with_map[] = {"ayuntamientos/index.html", "gubernatura/index.html"};
    for (size_t i = 0; i < 2; i++) {
        char *pg = tr_page(&s, with_map[i]);
        assert_non_null(pg);
        assert_int_equal(tr_count(pg, "<path d=\"M"), 18);
        assert_non_null(strstr(pg, "<a href=\"corregidora/\" aria-label=\"Corregidora: "));
        free(pg);
    }
    prep_render_site_free(&s);
    prep_tally_free(t);
    for (int i = 0; i < 3; i++) prep_actas_free(sets[i]);
    prep_catalog_free(c);
}

/* The national profile (issue 15: "the same page rules as today, <= 30 KB first view"): a
 * simulated federal night (national-small: the 32 entities with their map, 300 districts,
 * few sections each) at its close. What the small scale leaves out, district pages with
 * many sections, docs/benchmarks.md measures on the national render; what it has, the
 * election pages with the entity map and the entities' table, and the senate's per-entity
 * pages, are the same size as at national scale. */
static void test_budget_national(void **state)
{
    (void)state;
    char geo[512];
    snprintf(geo, sizeof geo, "%s/geo/mexico-entidades.geojson", shared_dir());
    prep_buf text;
    prep_buf_init(&text, 0);
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_sim_catalog_text(PREP_SIM_SCALE_NATIONAL_SMALL, 1, &text), PREP_OK);
    prep_err e = prep_sim_catalog_add_entity_map(&text, geo, &d);
    prep_catalog *c = NULL;
    if (!e) e = prep_catalog_parse("national-small.cat", text.data, text.len, &c, &d);
    if (e) prep_diags_print(&d, stderr, 10);
    assert_int_equal(e, PREP_OK);
    prep_diags_free(&d);
    prep_buf_free(&text);
    assert_int_equal(c->n_entities, 32);

    prep_actas *sets[3];
    prep_tally *t;
    prep_site s;
    prep_render_stats st;
    render_closed_night(c, sets, &t, &s, &st);
    size_t pages = budget_check(&s, "national-small", NULL, NULL);
    assert_int_equal(pages, st.pages);
    assert_true(pages > 3000);
    /* the entity map on the pages of the elections decided by entity or nation (the
     * deputies' page has its districts' table instead): one linked shape per entity */
    const char *with_map[] = {"presidencia-de-la-republica/index.html", "senadurias/index.html"};
    for (size_t i = 0; i < 2; i++) {
        char *pg = tr_page(&s, with_map[i]);
        assert_non_null(pg);
        assert_non_null(strstr(pg, "Entidades seg\xC3\xBAn la candidatura que encabeza"));
        assert_int_equal(tr_count(pg, "<path d=\"M"), 32);
        free(pg);
    }
    prep_render_site_free(&s);
    prep_tally_free(t);
    for (int i = 0; i < 3; i++) prep_actas_free(sets[i]);
    prep_catalog_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budget_queretaro),
        cmocka_unit_test(test_budget_national),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
