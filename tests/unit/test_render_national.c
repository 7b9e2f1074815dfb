/* render: the site of a national catalogue (tests/data/catalog/national.cat): the page
 * tree nation -> entity -> district, then the section's one page seccion/EE/NNNN/ with
 * every election's results and actas (the national profile: no per-election section
 * pages, an embebido/ tree without the section tree, no datos.csv at section level), every
 * link resolving inside the site, the senate's seats in play, and the open data's levels. The
 * captures are written here; every expected page path and number is worked out by hand
 * from that file (its comments list the casillas). */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "prep/render.h"
#include "national_capture.h"
#include "test_render_util.h"


static prep_catalog *cat;
static prep_tally *tal;
static prep_site site;

static int setup(void **state)
{
    (void)state;
    prep_diags d;
    prep_diags_init(&d);
    if (prep_catalog_load(PREP_TEST_DATA "/catalog/national.cat", &cat, &d)) return -1;
    prep_diags_free(&d);
    if (prep_tally_new(cat, &tal)) return -1;
    static const int32_t ags1[NATIONAL_NC] = {100, 20, 300, 0, 5}, ags2[NATIONAL_NC] = {250, 40, 90, 0, 2};
    static const int32_t spec[NATIONAL_NC] = {30, 10, 20, 0, 0}, rp[NATIONAL_NC] = {35, 12, 18, 0, 1};
    static const int32_t cdmx[NATIONAL_NC] = {80, 70, 400, 1, 9}, qro[NATIONAL_NC] = {50, 140, 60, 0, 3};
    uint32_t sen = prep_catalog_find_election(cat, "sen");
    for (uint32_t e = 0; e < cat->n_elections; e++) {
        uint32_t t = cat->elections[e].acta_type;
        national_capture(tal, cat, e, "010100B0100", t, ags1);
        national_capture(tal, cat, e, "010200B0100", t, ags2);
        national_capture(tal, cat, e, "090100B0100", t, cdmx);
        national_capture(tal, cat, e, "220050B0100", t, qro);
        national_capture(tal, cat, e, "010100S0100", cat->elections[e].special_acta_type, spec);
    }
    national_capture(tal, cat, sen, "010100S0100", 5, rp);
    prep_render_cut c = {.seq = 3, .at = cat->window_open + 3600, .drill = 0, .process_name = NULL,
                         .valid_until = PREP_TIME_NONE, .final_cut = 0};
    prep_render_site_init(&site);
    return prep_render_site(tal, &c, NULL, NULL, &site, NULL) ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    prep_render_site_free(&site);
    prep_tally_free(tal);
    prep_catalog_free(cat);
    return 0;
}

static void test_page_tree(void **state)
{
    (void)state;
    static const char *const want[] = {
        "presidencia-de-la-republica/index.html",
        "presidencia-de-la-republica/aguascalientes/index.html",
        "presidencia-de-la-republica/ciudad-de-mexico/index.html",
        "presidencia-de-la-republica/queretaro/index.html",
        /* district 1 of three entities: nested, so the slugs never clash */
        "presidencia-de-la-republica/aguascalientes/jesus-maria/index.html",
        "presidencia-de-la-republica/ciudad-de-mexico/gustavo-a-madero/index.html",
        "presidencia-de-la-republica/queretaro/cadereyta-de-montes/index.html",
        "presidencia-de-la-republica/aguascalientes/voto-en-el-extranjero/index.html",
        "seccion/index.html",
        "seccion/01/index.html",
        "seccion/01/no-encontrada.html",
        "seccion/09/0100/index.html",
        "seccion/01/0100/index.html",
        "seccion/22/0050/index.html",
        "seccion/01/0000/index.html",
        "senadurias/aguascalientes/datos.json",
        "presidencia-de-la-republica/datos.json",
        "senadurias/aguascalientes/jesus-maria/datos.csv",
        "seccion/01/0100/datos.json",
        /* embebido/: what a broadcaster embeds, and the pages its nav and lookup reach */
        "embebido/index.html",
        "embebido/presidencia-de-la-republica/index.html",
        "embebido/senadurias/aguascalientes/index.html",
        "embebido/diputaciones-federales/queretaro/cadereyta-de-montes/index.html",
        "embebido/seccion/01/index.html",
        "embebido/base-de-datos/index.html",
        /* the section lists of the districts, in both trees (test_lean_aggregates) */
        "seccion/01/jesus-maria/index.html",
        "seccion/01/voto-en-el-extranjero/index.html",
        "seccion/22/cadereyta-de-montes/index.html",
        "embebido/seccion/09/gustavo-a-madero/index.html",
    };
    for (size_t i = 0; i < PREP_ARRAY_LEN(want); i++)
        if (!prep_render_site_find(&site, want[i])) fail_msg("missing %s", want[i]);
    /* no municipality pages in a federal process (no election is held by municipality),
     * and no flat district directory */
    assert_null(prep_render_site_find(&site, "presidencia-de-la-republica/gustavo-a-madero/index.html"));
    assert_null(prep_render_site_find(&site, "seccion/0100/index.html"));
    assert_null(prep_render_site_find(&site, "presidencia-de-la-republica/aguascalientes/aguascalientes-1/index.html"));
    /* no per-election section page, no section page in embebido/, no datos.csv beside a
     * section's page */
    static const char *const gone[] = {
        "presidencia-de-la-republica/aguascalientes/voto-en-el-extranjero/seccion-0000/index.html",
        "senadurias/aguascalientes/jesus-maria/seccion-0100/index.html",
        "senadurias/ciudad-de-mexico/gustavo-a-madero/seccion-0100/index.html",
        "diputaciones-federales/queretaro/cadereyta-de-montes/seccion-0050/index.html",
        "embebido/seccion/01/0100/index.html",
        "embebido/seccion/22/0050/index.html",
        "seccion/01/0100/datos.csv",
    };
    for (size_t i = 0; i < PREP_ARRAY_LEN(gone); i++)
        if (prep_render_site_find(&site, gone[i])) fail_msg("unexpected %s", gone[i]);
    /* and none anywhere: no path has a "seccion-NNNN" directory, and embebido/ keeps only
     * the lookup of the section tree (seccion/ and seccion/EE/, no seccion/EE/NNNN/) */
    for (size_t i = 0; i < site.n; i++) {
        const char *path = site.v[i].path;
        if (strstr(path, "/seccion-")) fail_msg("per-election section file %s", path);
        if (!strncmp(path, "embebido/seccion/", 17) && strlen(path) > 20 && path[20] >= '0' && path[20] <= '9')
            fail_msg("section page in embebido/: %s", path);
    }
}

typedef struct linkctx {
    const char *page;
    size_t n, bad;
    const prep_site *site;
} linkctx;

static void check_ref(void *vctx, const char *attr, const char *value, const char *tag)
{
    linkctx *lc = vctx;
    (void)attr;
    lc->n++;
    if (!value[0] || value[0] == '#') return;
    if (!strcmp(value, "data:,") && !strncmp(tag, "<link rel=\"icon\" ", 17)) return;
    char out[2048];
    if (tr_resolve(lc->page, value, out, sizeof out) || !prep_render_site_find(lc->site, out)) {
        print_error("%s: link '%s' resolves to '%s', not in the site (%.30s)\n", lc->page, value, out, tag);
        lc->bad++;
    }
}

static void test_links_resolve(void **state)
{
    (void)state;
    size_t refs = 0, pages = 0;
    for (size_t i = 0; i < site.n; i++) {
        if (!site.v[i].is_page) continue;
        char *pg = tr_text(&site.v[i]);
        linkctx lc = {site.v[i].path, 0, 0, &site};
        tr_refs(pg, check_ref, &lc);
        assert_int_equal(lc.bad, 0);
        refs += lc.n;
        pages++;
        free(pg);
    }
    assert_true(pages > 50);
    assert_true(refs > 1000);
}

static void test_nation_and_entity_pages(void **state)
{
    (void)state;
    char *pg = tr_page(&site, "presidencia-de-la-republica/index.html");
    /* the entities table, with the counted actas per entity: AGS has 5 expected actas in
     * presidencia (abroad, 100B, 100S, 200B, 200V) and 3 counted (100B, 200B, 100S) */
    assert_non_null(strstr(pg, "<h2>Entidades</h2>"));
    assert_non_null(strstr(pg, "<a href=\"aguascalientes/\">AGUASCALIENTES</a></th><td>3 de 5</td>"));
    assert_non_null(strstr(pg, "<a href=\"ciudad-de-mexico/\">CIUDAD DE M\xC3\x89XICO</a></th><td>1 de 1</td>"));
    assert_null(strstr(pg, "<h2>Distritos</h2>"));
    free(pg);
    /* senadurías in AGS: PAN 100+250+30+35 = 415, MORENA 300+90+20+18 = 428 (RP included at
     * the entity); MORENA's formula leads (2 seats), PAN's is the first minority */
    pg = tr_page(&site, "senadurias/aguascalientes/index.html");
    assert_non_null(strstr(pg, "<h2>Esca\xC3\xB1os en disputa en la entidad</h2>"));
    const char *mr = strstr(pg, "Mayor\xC3\xAD" "a relativa (dos f\xC3\xB3rmulas): encabeza");
    const char *pm = strstr(pg, "Primera minor\xC3\xAD" "a (una f\xC3\xB3rmula): encabeza");
    assert_non_null(mr);
    assert_non_null(pm);
    assert_true(mr < pm);
    assert_non_null(strstr(mr, "MORENA (FORMULA MORENA AGS), <b>428</b> votos"));
    assert_non_null(strstr(pm, "PAN (FORMULA PAN AGS), <b>415</b> votos"));
    /* its districts only, relative to the entity's directory */
    assert_non_null(strstr(pg, "<a href=\"jesus-maria/\">"));
    assert_null(strstr(pg, "gustavo-a-madero"));
    /* breadcrumbs: Inicio > Senadurías > AGUASCALIENTES */
    assert_non_null(strstr(pg, "<li><a href=\"../\">Senadur\xC3\xAD" "as</a></li><li aria-current=\"page\">AGUASCALIENTES</li>"));
    free(pg);
    /* the district of section 1-100 counts the MR acta of the special casilla, not its RP
     * acta: MORENA 300 + 20 = 320 */
    pg = tr_page(&site, "senadurias/aguascalientes/jesus-maria/index.html");
    assert_non_null(strstr(pg, "<td>320</td>"));
    free(pg);
}

static void test_section_tree(void **state)
{
    (void)state;
    char *pg = tr_page(&site, "seccion/index.html");
    assert_non_null(strstr(pg, "<a href=\"09/\">CIUDAD DE M\xC3\x89XICO</a>"));
    assert_null(strstr(pg, "<form")); /* the entity first; each entity has its form */
    free(pg);
    pg = tr_page(&site, "seccion/01/index.html");
    assert_non_null(strstr(pg, "<form class=\"buscar\" action=\"./\""));
    assert_non_null(strstr(pg, "Esta entidad tiene 3 secciones, numeradas de la 0000 a la 0200"));
    free(pg);
    pg = tr_page(&site, "seccion/09/0100/index.html");
    /* links up to the district page of each election */
    assert_non_null(strstr(pg, "<a href=\"../../../presidencia-de-la-republica/ciudad-de-mexico/gustavo-a-madero/\">"));
    assert_non_null(strstr(pg, "<a href=\"../../../senadurias/ciudad-de-mexico/gustavo-a-madero/\">"));
    assert_non_null(strstr(pg, "<a href=\"../../../diputaciones-federales/ciudad-de-mexico/gustavo-a-madero/\">"));
    assert_null(strstr(pg, "seccion-0100"));
    assert_non_null(strstr(pg, "CIUDAD DE M\xC3\x89XICO"));
    free(pg);
    /* the embebido/ lookup sends its form to the main tree's, where the section pages are */
    pg = tr_page(&site, "embebido/seccion/01/index.html");
    assert_non_null(strstr(pg, "<form class=\"buscar\" action=\"../../../seccion/01/\""));
    free(pg);
}

/* The section's one page holds, per election, its heading, then each casilla's acta block
 * with an anchor unique on the page; the district pages of both trees link to it. */
static void test_section_page(void **state)
{
    (void)state;
    char *pg = tr_page(&site, "seccion/01/0100/index.html");
    static const char *const eid[] = {"pres", "sen", "dip"};
    const char *at = pg;
    for (uint32_t e = 0; e < 3; e++) {
        char want[96];
        assert_int_equal(prep_catalog_find_election(cat, eid[e]), e);
        snprintf(want, sizeof want, "<h2 id=\"el-%u\">", e);
        const char *h = strstr(at, want);
        assert_non_null(h);
        /* casilla 01-0100B0100 holds ags1 in every election: capture() wrote 100 + 20 + 300 +
         * 0 + 5 = 425 as the persons who voted */
        snprintf(want, sizeof want, "<div class=\"acta\" id=\"%s-casilla-010100B0100\">", eid[e]);
        const char *b = strstr(h, want);
        assert_non_null(b);
        const char *pv = strstr(b, "Personas que votaron</th><td>");
        assert_non_null(pv);
        assert_int_equal(strncmp(pv + 29, "425</td>", 8), 0);
        snprintf(want, sizeof want, "<div class=\"acta\" id=\"%s-casilla-010100S0100\">", eid[e]);
        const char *sp = strstr(h, want);
        assert_non_null(sp);
        if (e < 2) { /* the blocks of election e come before election e + 1's heading */
            snprintf(want, sizeof want, "<h2 id=\"el-%u\">", e + 1);
            const char *next = strstr(h, want);
            assert_non_null(next);
            assert_true(b < next && sp < next);
        }
        at = h + 1;
    }
    /* per election the votes by candidacy and by party, as tables only (no chart) */
    assert_int_equal(tr_count(pg, "<h2>Votos por candidatura</h2>"), 3);
    assert_int_equal(tr_count(pg, "<h2>Votos por partido</h2>"), 3);
    assert_int_equal(tr_count(pg, "<svg"), 0);
    /* every id on the page once */
    size_t n_ids = 0;
    for (const char *q = strstr(pg, " id=\""); q; q = strstr(q + 1, " id=\"")) {
        const char *end = strchr(q + 5, '"');
        assert_non_null(end);
        char needle[128];
        snprintf(needle, sizeof needle, " id=\"%.*s\"", (int)(end - q - 5), q + 5);
        assert_int_equal(tr_count(pg, needle), 1);
        n_ids++;
    }
    assert_true(n_ids >= 3 * 2 + 3);
    /* no embebido/ twin to offer; datos.json only */
    assert_null(strstr(pg, "embebido/"));
    assert_non_null(strstr(pg, "href=\"datos.json\""));
    assert_null(strstr(pg, "datos.csv"));
    free(pg);
    /* the district's section list links to it, from both trees (test_lean_aggregates) */
    pg = tr_page(&site, "seccion/01/jesus-maria/index.html");
    assert_non_null(strstr(pg, "<a href=\"../0100/\">0100</a>"));
    free(pg);
    pg = tr_page(&site, "embebido/seccion/01/jesus-maria/index.html");
    assert_non_null(strstr(pg, "<a href=\"../../../../seccion/01/0100/\">0100</a>"));
    free(pg);
    /* its open data: each election's votes and casillas, pointing at this page */
    char *j = tr_page(&site, "seccion/01/0100/datos.json");
    assert_int_equal(tr_count(j, "\"pagina\":\"seccion/01/0100/\""), 4);
    assert_int_equal(tr_count(j, "\"candidaturas\":["), 3);
    assert_non_null(strstr(j, "\"clave\":\"010100B0100\""));
    free(j);
}

/* Part k of f (offset into *off, length the return). */
static size_t part_at(const prep_site_file *f, size_t k, size_t *off)
{
    *off = 0;
    for (size_t j = 0; j < k; j++) *off += f->part_len[j];
    return f->part_len[k];
}

/* The national section page and its datos.json are split, one part per election: the page
 * pres | sen | dip | stamp (the first with the document's start, the nav, crumbs and
 * heading, the last with the footer), the JSON pres | sen | dip | head (the first with the
 * unit); each election's part holds exactly its <section> (its object), the separators
 * inside the parts, so the assembled bytes are the unsplit file's (test_section_page reads
 * them whole). Every other page stays pre | body | post | stamp. */
static void test_section_parts(void **state)
{
    (void)state;
    const prep_site_file *f = prep_render_site_find(&site, "seccion/01/0100/index.html");
    assert_non_null(f);
    assert_int_equal(f->n_parts, 4);
    size_t sum = 0;
    for (size_t k = 0; k < f->n_parts; k++) sum += f->part_len[k];
    assert_int_equal(sum, f->len);
    const char *d = (const char *)f->data;
    size_t off, n = part_at(f, 0, &off);
    assert_int_equal(strncmp(d, "<!DOCTYPE html>", 15), 0); /* the first: the start, nav, crumbs, heading */
    const char *nav = memmem(d, n, "<nav ", 5), *h1 = memmem(d, n, "<h1>Secci\xC3\xB3n 0100</h1>", 21);
    assert_non_null(nav);
    assert_non_null(h1);
    assert_true(nav < h1 && h1 < (const char *)memmem(d, n, "<section", 8));
    for (uint32_t e = 0; e < 3; e++) {
        char want[64];
        n = part_at(f, e, &off);
        snprintf(want, sizeof want, "<section aria-labelledby=\"el-%u\">", e);
        const char *sec = memmem(d + off, n, want, strlen(want));
        assert_non_null(sec);
        if (e) assert_ptr_equal(sec, d + off);
        const char *end = e == 2 ? "</footer>" : "</section>";
        assert_int_equal(memcmp(d + off + n - strlen(end), end, strlen(end)), 0);
        if (e == 2) assert_non_null(memmem(d + off, n, "</section></main><footer>", 25));
        size_t secs = 0;
        for (const char *q = d + off; (q = memmem(q, n - (size_t)(q - (d + off)), "<section ", 9)); q++) secs++;
        assert_int_equal(secs, 1);
    }
    n = part_at(f, 3, &off); /* the stamp, last, ends the document */
    assert_int_equal(strncmp(d + off, "<div class=\"sello\"", 18), 0);
    assert_int_equal(memcmp(d + off + n - 15, "</body></html>\n", 15), 0);
    const prep_site_file *j = prep_render_site_find(&site, "seccion/01/0100/datos.json");
    assert_int_equal(j->n_parts, 4);
    d = (const char *)j->data;
    n = part_at(j, 0, &off);
    assert_int_equal(strncmp(d, "{\"formato\":1,", 13), 0);
    static const char *const starts[] = {"\"elecciones\":[{\"eleccion\":\"pres\"", ",{\"eleccion\":\"sen\"",
                                         ",{\"eleccion\":\"dip\""};
    for (uint32_t e = 0; e < 3; e++) {
        n = part_at(j, e, &off);
        const char *at = memmem(d + off, n, starts[e], strlen(starts[e]));
        assert_non_null(at);
        if (e) assert_ptr_equal(at, d + off);
        assert_int_equal(d[off + n - 1], e == 2 ? ',' : '}');
    }
    n = part_at(j, 3, &off); /* the per-cut head, last */
    assert_int_equal(strncmp(d + off, "\"corte\":{", 9), 0);
    assert_int_equal(memcmp(d + j->len - 3, "}}\n", 3), 0);
    /* the other pages: four parts */
    f = prep_render_site_find(&site, "presidencia-de-la-republica/aguascalientes/index.html");
    assert_int_equal(f->n_parts, 4);
    f = prep_render_site_find(&site, "seccion/01/index.html");
    assert_int_equal(f->n_parts, 4);
    j = prep_render_site_find(&site, "presidencia-de-la-republica/datos.json");
    assert_int_equal(j->n_parts, 2);
}

static void test_open_data_levels(void **state)
{
    (void)state;
    char *j = tr_page(&site, "presidencia-de-la-republica/datos.json");
    assert_non_null(strstr(j, "\"nivel\":\"nacional\""));
    assert_non_null(strstr(j, "\"entidad\":0"));
    assert_non_null(strstr(j, "\"entidades\":[{\"id\":1,\"nombre\":\"AGUASCALIENTES\""));
    free(j);
    j = tr_page(&site, "senadurias/ciudad-de-mexico/datos.json");
    assert_non_null(strstr(j, "\"nivel\":\"entidad\""));
    assert_non_null(strstr(j, "\"entidad\":9"));
    assert_non_null(strstr(j, "\"distritos\":[{\"id\":1,\"nombre\":\"GUSTAVO A. MADERO\""));
    free(j);
}

/* Lean aggregate pages (issue 15): a district page carries its own figures and one link to
 * its section list, never a row per section; the list (links without figures, shared by
 * the elections) sits in the section tree of both trees; so a district page's body is the
 * same bytes in its embebido/ twin (one object of the cut), and its datos.json has no
 * section rows. The sections of each district come from the catalogue file by hand:
 * JESÚS MARÍA (01-1) has 0100, AGUASCALIENTES (01-2) has 0200, the votes from abroad (01-0)
 * 0000. */
static void test_lean_aggregates(void **state)
{
    (void)state;
    static const char *const dist[] = {"presidencia-de-la-republica", "senadurias", "diputaciones-federales"};
    for (size_t e = 0; e < PREP_ARRAY_LEN(dist); e++) {
        char path[160];
        snprintf(path, sizeof path, "%s/aguascalientes/jesus-maria/index.html", dist[e]);
        char *pg = tr_page(&site, path);
        assert_null(strstr(pg, "Resultados por secci\xC3\xB3n"));
        assert_null(strstr(pg, "seccion/01/0100/"));
        assert_non_null(strstr(pg, "Este distrito tiene 1 secci\xC3\xB3n."));
        assert_non_null(strstr(pg, "<a href=\"../../../seccion/01/jesus-maria/\">lista de las secciones de "
                                   "JES\xC3\x9AS MAR\xC3\x8D" "A</a>"));
        free(pg);
        snprintf(path, sizeof path, "%s/aguascalientes/jesus-maria/datos.json", dist[e]);
        char *j = tr_page(&site, path);
        assert_null(strstr(j, "\"secciones\""));
        assert_non_null(strstr(j, "\"nivel\":\"distrito\""));
        free(j);
        snprintf(path, sizeof path, "%s/aguascalientes/datos.json", dist[e]);
        j = tr_page(&site, path);
        assert_non_null(strstr(j, "\"distritos\":[{\"id\":0,"));
        free(j);
    }
    /* the list: its sections and the district's page in each election; no figure */
    char *pg = tr_page(&site, "seccion/01/aguascalientes/index.html");
    assert_non_null(strstr(pg, "<h1>Secciones: AGUASCALIENTES</h1>"));
    assert_non_null(strstr(pg, "<nav aria-label=\"Secciones\"><ul><li><a href=\"../0200/\">0200</a></li></ul></nav>"));
    for (size_t e = 0; e < PREP_ARRAY_LEN(dist); e++) {
        char want[160];
        snprintf(want, sizeof want, "<a href=\"../../../%s/aguascalientes/aguascalientes/\">", dist[e]);
        assert_non_null(strstr(pg, want));
    }
    assert_null(strstr(pg, "<table"));
    assert_null(strstr(pg, "Participaci"));
    free(pg);
    pg = tr_page(&site, "seccion/01/voto-en-el-extranjero/index.html");
    assert_non_null(strstr(pg, "<a href=\"../0000/\">0000</a>"));
    free(pg);
    /* every page of the profile keeps the structure rules (test_render.c's check) */
    for (size_t i = 0; i < site.n; i++) {
        if (!site.v[i].is_page) continue;
        char *t = tr_text(&site.v[i]), buf[128];
        const char *why = tr_check_page(t, buf, sizeof buf);
        if (why) fail_msg("%s: %s %s", site.v[i].path, why, buf);
        free(t);
    }
    /* every page's body part is the same bytes in its embebido/ twin, but for the per-cut
     * pages and the section tree's lookup and lists, whose section links leave embebido/ */
    size_t twins = 0, same = 0;
    for (size_t i = 0; i < site.n; i++) {
        const prep_site_file *f = &site.v[i];
        if (strncmp(f->path, "embebido/", 9) || !f->is_page) continue;
        const prep_site_file *m = prep_render_site_find(&site, f->path + 9);
        assert_non_null(m);
        assert_int_equal(f->n_parts, 3); /* pre | body | stamp: no footer */
        assert_int_equal(m->n_parts, 4); /* pre | body | post | stamp */
        twins++;
        size_t fo = f->part_len[0], mo = m->part_len[0];
        if (f->part_len[1] == m->part_len[1] && !memcmp(f->data + fo, m->data + mo, f->part_len[1])) {
            same++;
            continue;
        }
        int allowed = !strncmp(f->path, "embebido/seccion/", 17) || !strncmp(f->path, "embebido/base-de-datos/", 23);
        if (!allowed) fail_msg("%s: its body differs from the main tree's", f->path);
    }
    /* shared: the home, 3 x (the nation, 3 entities, 5 districts), difusores, verificar, and
     * seccion/ and its 404 page (the entity list: links inside the tree) */
    assert_true(twins > 40);
    assert_int_equal(same, 1 + 3 * (1 + 3 + 5) + 2 + 2);
}

/* Replaces the one occurrence of `from` in the heap string *s by `to`. */
static void text_swap(char **s, const char *from, const char *to)
{
    char *at = strstr(*s, from);
    assert_non_null(at);
    size_t head = (size_t)(at - *s), fl = strlen(from), tl = strlen(to), rest = strlen(at + fl);
    char *n = malloc(head + tl + rest + 1);
    assert_non_null(n);
    memcpy(n, *s, head);
    memcpy(n + head, to, tl);
    memcpy(n + head + tl, at + fl, rest + 1);
    free(*s);
    *s = n;
}

/* An election held by municipality in a national catalogue (national.cat with diputaciones
 * turned into a municipal election, its candidacies keyed by municipality): its
 * municipality pages link to seccion/EE/municipio-<slug>/, a list that exists in both trees
 * and holds the municipality's sections (from the file: Aguascalientes (01-1) has 0000,
 * 0100 and 0200). */
static void test_lean_municipality(void **state)
{
    (void)state;
    char *text;
    size_t len;
    assert_int_equal(prep_read_file(PREP_TEST_DATA "/catalog/national.cat", 1u << 20, &text, &len), PREP_OK);
    text_swap(&text, "|Diputaciones federales|district|", "|Diputaciones federales|municipality|");
    text_swap(&text, "dip|1-1|PAN|DIP AGS 1\ndip|1-2|PRI|DIP AGS 2\ndip|9-1|MORENA|DIP CDMX 1\ndip|22-1|PAN|DIP QRO 1",
              "dip|1-1|PAN|MUN AGS 1\ndip|9-5|MORENA|MUN CDMX 5\ndip|22-4|PAN|MUN QRO 4");
    prep_catalog *mc;
    prep_tally *mt;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_catalog_parse("national-muni.cat", text, strlen(text), &mc, &d), PREP_OK);
    prep_diags_free(&d);
    free(text);
    assert_int_equal(prep_tally_new(mc, &mt), PREP_OK);
    prep_render_cut c = {.seq = 1, .at = mc->window_open + 60, .valid_until = PREP_TIME_NONE};
    prep_site ms;
    prep_render_site_init(&ms);
    assert_int_equal(prep_render_site(mt, &c, NULL, NULL, &ms, NULL), PREP_OK);
    char *pg = tr_page(&ms, "diputaciones-federales/aguascalientes/aguascalientes/index.html");
    assert_non_null(strstr(pg, "Este municipio tiene 3 secciones."));
    assert_non_null(strstr(pg, "<a href=\"../../../seccion/01/municipio-aguascalientes/\">"));
    free(pg);
    pg = tr_page(&ms, "seccion/01/municipio-aguascalientes/index.html");
    assert_non_null(strstr(pg, "<li><a href=\"../0000/\">0000</a></li><li><a href=\"../0100/\">0100</a></li>"
                               "<li><a href=\"../0200/\">0200</a></li></ul></nav>"));
    assert_non_null(strstr(pg, "<a href=\"../../../diputaciones-federales/aguascalientes/aguascalientes/\">"));
    free(pg);
    pg = tr_page(&ms, "embebido/seccion/01/municipio-aguascalientes/index.html");
    assert_non_null(strstr(pg, "<a href=\"../../../../seccion/01/0100/\">0100</a>"));
    free(pg);
    /* the districts keep their lists too (presidencia and senadurías have district pages);
     * every link of every page resolves */
    assert_non_null(prep_render_site_find(&ms, "seccion/01/jesus-maria/index.html"));
    for (size_t i = 0; i < ms.n; i++) {
        if (!ms.v[i].is_page) continue;
        char *t = tr_text(&ms.v[i]);
        linkctx lc = {ms.v[i].path, 0, 0, &ms};
        tr_refs(t, check_ref, &lc);
        assert_int_equal(lc.bad, 0);
        free(t);
    }
    prep_render_site_free(&ms);
    prep_tally_free(mt);
    prep_catalog_free(mc);
}

/* The national profile's incremental render (a section's one page, the embebido/ variant
 * of district bodies) gives the same site as a render from nothing. Runs last: it adds a
 * capture (casilla 01-0200V0100, presidencia). */
/* A new render cache and the first site made with it, cut seq at window_open + secs (the
 * tally's marks consumed, as the cutter does); *full initialised empty. */
static prep_render_cache *first_site(prep_render_cut *c, uint64_t seq, int64_t secs, prep_site *inc, prep_site *full)
{
    prep_render_cache *rc;
    assert_int_equal(prep_render_cache_new(&rc), PREP_OK);
    prep_render_site_init(inc);
    prep_render_site_init(full);
    *c = (prep_render_cut){.seq = seq, .at = cat->window_open + secs, .drill = 0, .process_name = NULL,
                           .valid_until = PREP_TIME_NONE, .final_cut = 0};
    assert_int_equal(prep_render_site(tal, c, NULL, rc, inc, NULL), PREP_OK);
    prep_tally_clear_dirty(tal);
    return rc;
}

static void test_incremental_equals_full(void **state)
{
    (void)state;
    prep_site inc, full;
    prep_render_cut c;
    prep_render_cache *rc = first_site(&c, 4, 3600, &inc, &full);
    /* section 01/0200's page and datos.json as they are before the capture */
    prep_site_file was[2];
    static const char *const sec_files[2] = {"seccion/01/0200/index.html", "seccion/01/0200/datos.json"};
    for (int w = 0; w < 2; w++) {
        was[w] = *prep_render_site_find(&inc, sec_files[w]);
        was[w].data = memcpy(malloc(was[w].len), was[w].data, was[w].len);
    }
    static const int32_t v[NATIONAL_NC] = {7, 3, 11, 0, 1};
    uint32_t pres = prep_catalog_find_election(cat, "pres");
    national_capture(tal, cat, pres, "010200V0100", cat->elections[pres].acta_type, v);
    c.seq = 5;
    c.at += 300;
    prep_render_stats st;
    tr_snap sn;
    tr_snap_take(&sn, &inc);
    assert_int_equal(prep_render_site(tal, &c, NULL, rc, &inc, &st), PREP_OK);
    /* every part the render says prep_cut_make need not hash again is the last site's */
    size_t claimed = tr_check_same_parts(&sn, &inc);
    assert_true(claimed != (size_t)-1 && claimed > 3 * inc.n / 2);
    tr_snap_free(&sn);
    /* the section's page, its district, entity, election, home: not all; not the
     * district's section list, which has no figure */
    assert_true(st.bodies_rendered > 0 && st.bodies_rendered < st.bodies);
    assert_int_equal(prep_render_site_find(&inc, "presidencia-de-la-republica/aguascalientes/aguascalientes/index.html")
                         ->body_rendered, 1);
    assert_int_equal(prep_render_site_find(&inc, "seccion/01/aguascalientes/index.html")->body_rendered, 0);
    assert_int_equal(prep_render_site_find(&inc, "embebido/seccion/01/aguascalientes/index.html")->body_rendered, 0);
    assert_int_equal(prep_render_site(tal, &c, NULL, NULL, &full, NULL), PREP_OK);
    tr_assert_sites_equal(&inc, &full);
    /* the presidencia capture changed, of the section's page, the presidencia part (0) and
     * the stamp (3) only; of its datos.json, the presidencia part (0) and the head (3) only */
    for (int w = 0; w < 2; w++) {
        const prep_site_file *now = prep_render_site_find(&inc, sec_files[w]);
        assert_int_equal(now->n_parts, was[w].n_parts);
        size_t pres_part = 0, stamp_part = 3;
        for (size_t k = 0; k < now->n_parts; k++) {
            size_t o1, o2, l1 = part_at(&was[w], k, &o1), l2 = part_at(now, k, &o2);
            int same = l1 == l2 && !memcmp(was[w].data + o1, now->data + o2, l1);
            if (same != (k != pres_part && k != stamp_part)) fail_msg("%s part %zu", sec_files[w], k);
        }
        free(was[w].data);
    }
    /* the section pages' bodies left the cache after each site (they are in it): a cut
     * whose stamp is longer (5 -> 10) still reuses the last site's buffers, the stamp
     * grown at their end, and renders no section body again (at national scale that
     * was every section page: 13.5 CPU s); a caller that does not pass the last site
     * back gets them rendered */
    prep_render_site_free(&full);
    c.seq = 10;
    c.at += 300;
    prep_tally_clear_dirty(tal);
    tr_snap_take(&sn, &inc);
    size_t stamp_was = prep_render_site_find(&inc, sec_files[0])->part_len[3]; /* the stamp, last */
    assert_int_equal(prep_render_site(tal, &c, NULL, rc, &inc, &st), PREP_OK);
    claimed = tr_check_same_parts(&sn, &inc);
    tr_snap_free(&sn);
    assert_true(claimed != (size_t)-1 && claimed > 3 * inc.n / 2);
    const prep_site_file *grown = prep_render_site_find(&inc, sec_files[0]);
    assert_true(grown->part_len[3] > stamp_was); /* "5" -> "10" */
    assert_int_equal(grown->body_rendered, 0);
    assert_int_equal(grown->same_parts, 0x7u);
    assert_int_equal(prep_render_site_find(&inc, sec_files[1])->body_rendered, 0);
    assert_true(st.bodies_rendered < 10);
    prep_site other;
    prep_render_site_init(&other);
    assert_int_equal(prep_render_site(tal, &c, NULL, rc, &other, NULL), PREP_OK);
    assert_int_equal(prep_render_site(tal, &c, NULL, NULL, &full, NULL), PREP_OK);
    tr_assert_sites_equal(&inc, &full);   /* the stamp grown */
    tr_assert_sites_equal(&other, &full); /* the last site not passed back */
    prep_render_site_free(&other);
    /* the new acta is on the section's page: 7 + 3 + 11 + 0 + 1 = 22 persons voted */
    char *pg = tr_page(&inc, "seccion/01/0200/index.html");
    const char *b = strstr(pg, "id=\"pres-casilla-010200V0100\"");
    assert_non_null(b);
    const char *pv = strstr(b, "Personas que votaron</th><td>");
    assert_non_null(pv);
    assert_true(pv < strstr(b, "</div>"));
    assert_int_equal(strncmp(pv + 29, "22</td>", 7), 0);
    free(pg);
    prep_render_site_free(&inc);
    prep_render_site_free(&full);
    prep_render_cache_free(rc);
}

/* The test's cut store for test_shed: each part shed, by its SHA-256 (computed here from
 * the site's bytes), with its bytes. */
typedef struct shed_obj {
    unsigned char md[32];
    unsigned char *b;
    size_t len;
} shed_obj;
typedef struct shed_store {
    const prep_site *site;
    shed_obj *v;
    size_t n, cap;
    size_t asked, refused;
    uint64_t refused_bytes;
} shed_store;

static const shed_obj *shed_find(const shed_store *st, const unsigned char md[32])
{
    for (size_t i = 0; i < st->n; i++)
        if (!memcmp(st->v[i].md, md, 32)) return &st->v[i];
    return NULL;
}

/* prep_render_site_shed's callback: hashes the part from the site's own bytes and keeps
 * them, as the store of a made cut would; refuses every seventh part asked (that part
 * must then stay in memory). */
static int shed_sha(void *ctx, const char *path, size_t n_parts, size_t k, const void *bytes, size_t len,
                    unsigned char md[32])
{
    shed_store *st = ctx;
    if (++st->asked % 7 == 0) {
        st->refused++;
        st->refused_bytes += len;
        return 0;
    }
    const prep_site_file *f = prep_render_site_find(st->site, path);
    assert_non_null(f);
    assert_int_equal(f->n_parts, n_parts);
    assert_int_equal(f->part_len[k], len);
    assert_false((f->stored >> k) & 1u);
    size_t off = 0;
    for (size_t j = 0; j < k; j++)
        if (!((f->stored >> j) & 1u)) off += f->part_len[j];
    char hex[65];
    prep_sha256_hex(f->data + off, len, hex);
    for (int i = 0; i < 32; i++) {
        unsigned x;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &x), 1);
        md[i] = (unsigned char)x;
    }
    if (!shed_find(st, md)) {
        if (st->n == st->cap) {
            st->cap = st->cap ? 2 * st->cap : 256;
            st->v = realloc(st->v, st->cap * sizeof *st->v);
            assert_non_null(st->v);
        }
        shed_obj *o = &st->v[st->n++];
        memcpy(o->md, md, 32);
        o->b = malloc(len ? len : 1);
        memcpy(o->b, f->data + off, len);
        o->len = len;
    }
    return 1;
}

/* Site s with every stored part's bytes put back from st: what a broadcaster assembles. */
static void shed_unshed(prep_site *s, const shed_store *st)
{
    for (size_t i = 0; i < s->n; i++) {
        prep_site_file *f = &s->v[i];
        if (!f->stored) continue;
        unsigned char *d = malloc(f->len + 1), *at = d, *from = f->data;
        size_t j = 0;
        for (size_t k = 0; k < f->n_parts; k++) {
            if ((f->stored >> k) & 1u) {
                const shed_obj *o = shed_find(st, f->stored_sha[j++]);
                if (!o) fail_msg("%s: stored part %zu is not in the store", f->path, k);
                assert_int_equal(o->len, f->part_len[k]);
                memcpy(at, o->b, o->len);
            } else {
                memcpy(at, from, f->part_len[k]);
                from += f->part_len[k];
            }
            at += f->part_len[k];
        }
        free(f->data);
        free(f->stored_sha);
        f->data = d;
        f->stored = 0;
        f->stored_sha = NULL;
    }
}

/* prep_render_opts.shed for a restart: the part's bytes are in the test's store. */
static int shed_held(void *ctx, const char *path, size_t n_parts, size_t k, const void *bytes, size_t len,
                     unsigned char md[32])
{
    char hex[65];
    prep_sha256_hex(bytes, len, hex);
    for (int i = 0; i < 32; i++) {
        unsigned x;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &x), 1);
        md[i] = (unsigned char)x;
    }
    return shed_find(ctx, md) != NULL;
}

/* What a broadcaster assembles from site inc (its stored parts from st) equals a render of
 * cut c from nothing. */
static void assert_assembles_to_full(const prep_site *inc, const shed_store *st, const prep_render_cut *c)
{
    prep_site copy, full;
    prep_render_site_init(&copy);
    prep_render_site_init(&full);
    copy.n = copy.cap = inc->n;
    copy.v = calloc(inc->n, sizeof *copy.v);
    for (size_t i = 0; i < inc->n; i++) {
        copy.v[i] = inc->v[i];
        copy.v[i].path = strdup(inc->v[i].path);
        size_t dl = prep_render_site_file_data_len(&inc->v[i]);
        copy.v[i].data = malloc(dl + 1);
        memcpy(copy.v[i].data, inc->v[i].data, dl);
        copy.v[i].stored_sha = NULL;
        if (inc->v[i].stored) {
            size_t ns = (size_t)__builtin_popcount(inc->v[i].stored);
            copy.v[i].stored_sha = malloc(ns * 32);
            memcpy(copy.v[i].stored_sha, inc->v[i].stored_sha, ns * 32);
        }
    }
    shed_unshed(&copy, st);
    assert_int_equal(prep_render_site(tal, c, NULL, NULL, &full, NULL), PREP_OK);
    tr_assert_sites_equal(&copy, &full);
    prep_render_site_free(&copy);
    prep_render_site_free(&full);
}

/* The cutter's last site shed (prep_render_site_shed: the section pages' and their
 * datos.json's body parts named by hash, their bytes left to the store) renders the next
 * cuts to the same bytes as a render from nothing: a capture of the last election of a
 * section (the parts before it carried by hash, never read), a cut whose stamp grows
 * (99 -> 100: the bytes after it moved in the smaller buffers), a part the callback
 * refused (kept in memory); and a restarted cutter's first render shedding as it goes.
 * Runs last: it adds a diputaciones capture. */
static void test_shed(void **state)
{
    (void)state;
    prep_site inc, full;
    prep_render_cut c;
    prep_render_cache *rc = first_site(&c, 98, 7200, &inc, &full);
    shed_store st = {.site = &inc};
    uint64_t whole = 0, freed = 0, held = 0, shed_bytes = 0;
    size_t sheddable = 0;
    for (size_t i = 0; i < inc.n; i++) {
        whole += inc.v[i].len;
        sheddable += inc.v[i].sheddable != 0;
        for (size_t k = 0; k < inc.v[i].n_parts; k++)
            if ((inc.v[i].sheddable >> k) & 1u) shed_bytes += inc.v[i].part_len[k];
        /* only the national section pages and their datos.json: the body parts */
        int sec = !strncmp(inc.v[i].path, "seccion/", 8) && strchr(inc.v[i].path + 8, '/') &&
                  isdigit((unsigned char)inc.v[i].path[11]);
        if (inc.v[i].sheddable) assert_true(sec);
        if (!strcmp(inc.v[i].path, "seccion/01/0200/index.html")) assert_int_equal(inc.v[i].sheddable, 0x7);
        if (!strcmp(inc.v[i].path, "seccion/01/0200/datos.json")) assert_int_equal(inc.v[i].sheddable, 0x7);
    }
    assert_true(sheddable > 0);
    prep_render_site_shed(&inc, shed_sha, &st, &freed);
    assert_true(st.refused > 0);
    for (size_t i = 0; i < inc.n; i++) held += prep_render_site_file_data_len(&inc.v[i]);
    assert_int_equal(held + freed, whole);
    assert_true(freed > 0);
    assert_int_equal(freed, shed_bytes - st.refused_bytes); /* every part asked, but the refused */

    uint32_t dip = prep_catalog_find_election(cat, "dip");
    assert_true(dip < cat->n_elections);
    static const int32_t v[NATIONAL_NC] = {5, 9, 2, 4, 0};
    national_capture(tal, cat, dip, "010200V0100", cat->elections[dip].acta_type, v);
    for (uint64_t seq = 99; seq <= 100; seq++) {
        c.seq = seq;
        c.at += 300;
        prep_render_stats rs;
        assert_int_equal(prep_render_site(tal, &c, NULL, rc, &inc, &rs), PREP_OK);
        prep_tally_clear_dirty(tal);
        if (seq == 99) {
            /* the captured section's page: pres (with the page's start) and sen carried by
             * hash where shed */
            const prep_site_file *f = prep_render_site_find(&inc, "seccion/01/0200/index.html");
            assert_int_equal(f->same_parts & 0xfu, 0x3u);
            assert_int_equal(f->stored & ~0x3u, 0);
            assert_int_equal(rs.bodies_rendered < rs.bodies, 1);
        }
        assert_assembles_to_full(&inc, &st, &c);
        st.site = &inc;
        prep_render_site_shed(&inc, shed_sha, &st, NULL);
    }
    /* a restarted cutter (no last site, a new cache) sheds as it renders the parts the store
     * holds, each checked by its bytes (prep_render_opts.shed) */
    prep_render_site_free(&inc);
    prep_render_cache_free(rc);
    assert_int_equal(prep_render_cache_new(&rc), PREP_OK);
    prep_render_opts o;
    prep_render_opts_init(&o);
    o.shed = shed_held;
    o.shed_ctx = &st;
    c.seq = 101;
    c.at += 300;
    assert_int_equal(prep_render_site(tal, &c, &o, rc, &inc, NULL), PREP_OK);
    const prep_site_file *f = prep_render_site_find(&inc, "seccion/01/0200/index.html");
    assert_int_equal(f->stored, 0x7); /* the three elections: unchanged since cut 100 */
    assert_int_equal(prep_render_site_find(&inc, "seccion/01/0200/datos.json")->stored, 0x7);
    assert_assembles_to_full(&inc, &st, &c);
    for (size_t i = 0; i < st.n; i++) free(st.v[i].b);
    free(st.v);
    prep_render_site_free(&inc);
    prep_render_cache_free(rc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_tree),
        cmocka_unit_test(test_links_resolve),
        cmocka_unit_test(test_nation_and_entity_pages),
        cmocka_unit_test(test_section_tree),
        cmocka_unit_test(test_section_page),
        cmocka_unit_test(test_section_parts),
        cmocka_unit_test(test_open_data_levels),
        cmocka_unit_test(test_lean_aggregates),
        cmocka_unit_test(test_lean_municipality),
        cmocka_unit_test(test_incremental_equals_full),
        cmocka_unit_test(test_shed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
