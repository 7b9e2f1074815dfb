/* render: the publication of a cut of the tiny simulated process (prep_sim_catalog TINY +
 * prep_sim_actas), and of a hand-written catalogue full of characters that need escaping.
 *
 * Expected values: page paths are listed by hand from the tiny catalogue (docs/formats/
 * sim.md: 3 municipalities, 2 districts, sections 101..110); section numbers are computed
 * here from the captures directly (latest capture per casilla up to the cut instant,
 * classified with the Anexo 13 rules, counted votes summed); the hand catalogue's numbers
 * are worked out in comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "prep/render.h"
#include "prep/sim.h"
#include "test_render_util.h"

static prep_catalog *cat;
static prep_actas *sets[3];
static prep_tally *tal;
static prep_time cut_at;
static prep_site site; /* cut 7 of the tiny night, drill */

static void apply_until(prep_tally *t, prep_time until)
{
    for (uint32_t e = 0; e < cat->n_elections; e++) {
        prep_tally_cursor cur;
        assert_int_equal(prep_tally_cursor_init(&cur, sets[e]), PREP_OK);
        assert_int_equal(prep_tally_apply_until(t, sets[e], &cur, until, NULL), PREP_OK);
        prep_tally_cursor_free(&cur);
    }
}

static prep_render_cut make_cut(uint64_t seq, prep_time at, int drill)
{
    prep_render_cut c = {.seq = seq, .at = at, .drill = drill, .process_name = NULL,
                         .valid_until = PREP_TIME_NONE, .final_cut = 0};
    return c;
}

static int setup(void **state)
{
    (void)state;
    if (prep_sim_catalog(PREP_SIM_SCALE_TINY, 1, &cat)) return -1;
    prep_sim_night_opts o;
    prep_sim_night_defaults(&o);
    if (prep_sim_actas(cat, &o, sets)) return -1;
    if (prep_tally_new(cat, &tal)) return -1;
    /* window opens 2021-06-06 20:00 local; the cut is 4 hours later: 2021-06-07 00:00 */
    cut_at = cat->window_open + 4 * 3600;
    apply_until(tal, cut_at);
    prep_render_cut c = make_cut(7, cut_at, 1);
    prep_render_site_init(&site);
    return prep_render_site(tal, &c, NULL, NULL, &site, NULL) ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    prep_render_site_free(&site);
    prep_tally_free(tal);
    for (int e = 0; e < 3; e++) prep_actas_free(sets[e]);
    prep_catalog_free(cat);
    return 0;
}

/* ---------------------------------------------------------------- page set */
static void test_page_set(void **state)
{
    (void)state;
    /* by hand from the tiny catalogue: districts 1 (sections 101-105) and 2 (106-110);
     * municipalities Álamo Viejo (101-104), Peña Blanca (105-107), San Juan Río Seco
     * (108-110); elections Gubernatura (entity: both views, sections under districts),
     * Ayuntamientos (municipalities), Diputaciones locales (districts). */
    static const char *const fixed[] = {
        "index.html", "gubernatura/index.html", "gubernatura/distrito-01/index.html",
        "gubernatura/distrito-02/index.html", "gubernatura/alamo-viejo/index.html",
        "gubernatura/pena-blanca/index.html", "gubernatura/san-juan-rio-seco/index.html",
        "ayuntamientos/index.html", "ayuntamientos/alamo-viejo/index.html", "ayuntamientos/pena-blanca/index.html",
        "ayuntamientos/san-juan-rio-seco/index.html", "diputaciones-locales/index.html",
        "diputaciones-locales/distrito-01/index.html", "diputaciones-locales/distrito-02/index.html",
        "base-de-datos/index.html", "verificar/index.html", "difusores/index.html"};
    static const char *const dbfiles[] = {"base-de-datos/gub.csv", "base-de-datos/ayu.csv", "base-de-datos/dip.csv",
                                          "base-de-datos/LEEME.txt", "corte.json"};
    char p[256];
    size_t expected_pages = 0;
    for (int emb = 0; emb < 2; emb++) {
        const char *pre = emb ? "embebido/" : "";
        for (size_t i = 0; i < PREP_ARRAY_LEN(fixed); i++) {
            snprintf(p, sizeof p, "%s%s", pre, fixed[i]);
            assert_non_null(prep_render_site_find(&site, p));
            assert_true(prep_render_site_find(&site, p)->is_page);
            expected_pages++;
        }
        for (unsigned s = 101; s <= 110; s++) {
            const char *dist = s <= 105 ? "distrito-01" : "distrito-02";
            const char *mun = s <= 104 ? "alamo-viejo" : s <= 107 ? "pena-blanca" : "san-juan-rio-seco";
            snprintf(p, sizeof p, "%sgubernatura/%s/seccion-%04u/index.html", pre, dist, s);
            assert_non_null(prep_render_site_find(&site, p));
            snprintf(p, sizeof p, "%sdiputaciones-locales/%s/seccion-%04u/index.html", pre, dist, s);
            assert_non_null(prep_render_site_find(&site, p));
            snprintf(p, sizeof p, "%sayuntamientos/%s/seccion-%04u/index.html", pre, mun, s);
            assert_non_null(prep_render_site_find(&site, p));
            expected_pages += 3;
        }
    }
    for (size_t i = 0; i < PREP_ARRAY_LEN(dbfiles); i++) assert_non_null(prep_render_site_find(&site, dbfiles[i]));
    /* exactly one stylesheet and one script, named by the SHA-256 of their bytes */
    size_t css = 0, js = 0, pages = 0;
    for (size_t i = 0; i < site.n; i++) {
        const prep_site_file *f = &site.v[i];
        if (f->is_page) pages++;
        if (!strncmp(f->path, "assets/", 7)) {
            char h[65];
            prep_sha256_hex(f->data, f->len, h);
            char want[64];
            int is_css = strstr(f->path, ".css") != NULL;
            snprintf(want, sizeof want, "assets/app.%.12s.%s", h, is_css ? "css" : "js");
            assert_string_equal(f->path, want);
            assert_int_equal(f->cache, PREP_POLICY_ASSET);
            css += is_css;
            js += !is_css;
        }
        if (i) assert_true(strcmp(site.v[i - 1].path, f->path) < 0); /* sorted, unique */
    }
    assert_int_equal(css, 1);
    assert_int_equal(js, 1);
    /* the section tree: seccion/, its 404 page and seccion/NNNN/ for each of the 10 sections */
    for (int t = 0; t < 2; t++) {
        const char *pre = t ? "embebido/" : "";
        char q[256];
        snprintf(q, sizeof q, "%sseccion/index.html", pre);
        assert_non_null(prep_render_site_find(&site, q));
        snprintf(q, sizeof q, "%sseccion/no-encontrada.html", pre);
        assert_non_null(prep_render_site_find(&site, q));
        for (uint32_t i = 0; i < cat->n_sections; i++) {
            snprintf(q, sizeof q, "%sseccion/%04u/index.html", pre, cat->sections[i].id);
            assert_non_null(prep_render_site_find(&site, q));
            if (!t) { /* open data beside the page, main tree only */
                snprintf(q, sizeof q, "seccion/%04u/datos.json", cat->sections[i].id);
                assert_int_equal(prep_render_site_find(&site, q)->cache, PREP_POLICY_PAGE);
                snprintf(q, sizeof q, "seccion/%04u/datos.csv", cat->sections[i].id);
                assert_string_equal(prep_render_site_find(&site, q)->media_type, "text/csv; charset=utf-8");
            }
            expected_pages++;
        }
        expected_pages += 2;
    }
    assert_int_equal(cat->n_sections, 10);
    /* (17 fixed + 30 section pages + 12 of the section tree) x 2 trees = 118; nothing else is a page */
    assert_int_equal(expected_pages, 118);
    assert_int_equal(pages, 118);
    /* + css, js, 5 database files; datos.json and datos.csv beside each of the 53 unit pages
     * (3 elections, 10 districts/municipalities, 30 sections, 10 seccion/NNNN/), the schema */
    assert_int_equal(site.n, 118 + 2 + 5 + 2 * 53 + 1);
    assert_string_equal(prep_render_site_find(&site, "datos/esquema.json")->media_type, "application/json");
    assert_string_equal(prep_render_site_find(&site, "gubernatura/datos.json")->media_type, "application/json");
    assert_int_equal(prep_render_site_find(&site, "corte.json")->cache, PREP_POLICY_POLL);
    assert_int_equal(prep_render_site_find(&site, "index.html")->cache, PREP_POLICY_PAGE);
}

/* Every link and asset reference of every page resolves to a file of the site. */
typedef struct linkctx {
    const char *page;
    int bad;
    size_t n;
} linkctx;

static void check_ref(void *vctx, const char *attr, const char *value, const char *tag)
{
    linkctx *lc = vctx;
    (void)attr;
    lc->n++;
    if (!value[0] || value[0] == '#') return; /* "" reloads the page (corte nuevo); #contenido */
    if (!strcmp(value, "data:,") && !strncmp(tag, "<link rel=\"icon\" ", 17)) return; /* the empty icon: nothing is fetched */
    char out[2048];
    if (tr_resolve(lc->page, value, out, sizeof out) || !prep_render_site_find(&site, out)) {
        print_error("%s: link '%s' resolves to '%s', not in the site (%.30s)\n", lc->page, value, out, tag);
        lc->bad++;
    }
}

static void test_links_resolve(void **state)
{
    (void)state;
    size_t refs = 0;
    for (size_t i = 0; i < site.n; i++) {
        if (!site.v[i].is_page) continue;
        char *pg = tr_text(&site.v[i]);
        linkctx lc = {site.v[i].path, 0, 0};
        tr_refs(pg, check_ref, &lc);
        assert_int_equal(lc.bad, 0);
        refs += lc.n;
        free(pg);
    }
    assert_true(refs > 1000);
}

/* ---------------------------------------------------------------- numbers */
/* Latest capture of each casilla of section si in election e up to the cut, classified. */
typedef struct secsum {
    long long col[64];
    long long counted, captured, expected, total, total_nonspecial, ln;
} secsum;

static void section_from_actas(uint32_t e, uint32_t si, secsum *s)
{
    memset(s, 0, sizeof *s);
    const prep_cat_section *sec = &cat->sections[si];
    const prep_cat_election *el = &cat->elections[e];
    s->expected = sec->n_casillas;
    for (uint32_t k = sec->first_casilla; k < sec->first_casilla + sec->n_casillas; k++) {
        const prep_acta *best = NULL;
        for (size_t i = 0; i < sets[e]->n; i++) {
            const prep_acta *a = &sets[e]->v[i];
            if (a->casilla != k || prep_actas_instant(a) > cut_at) continue;
            if (!best || prep_actas_supersedes(a, best)) best = a;
        }
        if (!best) continue;
        s->captured++;
        prep_acta copy = *best;
        const int32_t *v = prep_acta_votes(sets[e], best);
        prep_acta_status st = prep_actas_classify(cat, e, &copy, v);
        if (!prep_acta_status_counted(st)) continue;
        s->counted++;
        s->ln += cat->casillas[k].lista_nominal;
        for (uint32_t j = 0; j < el->n_cols; j++)
            if (v[j] > 0) {
                s->col[j] += v[j];
                s->total += v[j];
                if (cat->casillas[k].type != 'S') s->total_nonspecial += v[j];
            }
    }
}

/* The text of the cell right after the first occurrence of `after` in page. */
static void cell_after(const char *page, const char *after, char *out, size_t outsz)
{
    const char *p = strstr(page, after);
    assert_non_null(p);
    p = strstr(p, "<td>");
    assert_non_null(p);
    p += 4;
    const char *e = strstr(p, "</td>");
    size_t n = (size_t)(e - p) < outsz - 1 ? (size_t)(e - p) : outsz - 1;
    memcpy(out, p, n);
    out[n] = 0;
}

static void test_section_numbers(void **state)
{
    (void)state;
    /* the first section with at least two counted gubernatura actas at the cut */
    uint32_t e = prep_catalog_find_election(cat, "gub");
    secsum s;
    memset(&s, 0, sizeof s);
    uint32_t si = 0;
    for (; si < cat->n_sections; si++) {
        section_from_actas(e, si, &s);
        if (s.counted >= 2) break;
    }
    assert_true(si < cat->n_sections);
    const prep_cat_section *sec = &cat->sections[si];
    char path[256];
    snprintf(path, sizeof path, "gubernatura/%s/seccion-%04u/index.html", cat->districts[sec->district].slug, sec->id);
    char *pg = tr_page(&site, path);
    assert_non_null(pg);
    char want[256], num[32], num2[32], got[64];

    tr_commas(s.total, num);
    snprintf(want, sizeof want, "<dt>Total de votos</dt><dd>%s</dd>", num);
    assert_non_null(strstr(pg, want));
    tr_commas(s.counted, num);
    tr_commas(s.expected, num2);
    snprintf(want, sizeof want, "<dt>Actas contabilizadas</dt><dd>%s de %s (", num, num2);
    assert_non_null(strstr(pg, want));
    tr_commas(s.ln, num);
    snprintf(want, sizeof want, "<dt>Lista nominal de actas contabilizadas</dt><dd>%s</dd>", num);
    assert_non_null(strstr(pg, want));
    /* participation during the night: votes without special casillas / LN (catalogue
     * says final-only; this is not the final cut) */
    char pct[64];
    prep_pct_trunc(s.total_nonspecial, s.ln, 4, pct, sizeof pct);
    snprintf(want, sizeof want, "<dt>Participaci\xC3\xB3n ciudadana</dt><dd>%s%%</dd>", pct);
    assert_non_null(strstr(pg, want));

    /* every candidacy: the sum of its columns */
    const prep_cat_election *el = &cat->elections[e];
    for (uint32_t i = el->cand_first[0]; i < el->cand_first[1]; i++) {
        const prep_cat_candidacy *cd = &cat->candidacies[el->cand_index[i]];
        long long v = 0;
        for (uint32_t j = 0; j < cd->n_cols; j++) v += s.col[cd->cols[j]];
        snprintf(want, sizeof want, "%s <span class=\"nota\">", cd->name);
        cell_after(pg, want, got, sizeof got);
        tr_commas(v, num);
        assert_string_equal(got, num);
        prep_pct_trunc(v, s.total, 4, pct, sizeof pct);
        snprintf(want, sizeof want, "<td>%s</td><td>%s%%</td>", num, pct);
        assert_non_null(strstr(pg, want));
    }
    /* nulos */
    uint32_t jn = prep_catalog_find_column(cat, e, "NULOS");
    cell_after(pg, "Votos nulos", got, sizeof got);
    tr_commas(s.col[jn], num);
    assert_string_equal(got, num);

    /* each casilla's acta block: anchored, and its votes as captured */
    for (uint32_t k = sec->first_casilla; k < sec->first_casilla + sec->n_casillas; k++) {
        snprintf(want, sizeof want, "<div class=\"acta\" id=\"casilla-%s\">", cat->casillas[k].key);
        assert_non_null(strstr(pg, want));
    }
    free(pg);
}

/* ---------------------------------------------------------------- frame */
static void test_cut_on_every_page(void **state)
{
    (void)state;
    size_t n = 0;
    for (size_t i = 0; i < site.n; i++) {
        if (!site.v[i].is_page) continue;
        char *pg = tr_text(&site.v[i]);
        /* 2021-06-07 00:00 in America/Mexico_City was UTC-5 (daylight saving time) */
        assert_non_null(strstr(pg, "<time datetime=\"2021-06-07T00:00:00-05:00\">7 de junio de 2021, 00:00 (UTC-5)</time>"));
        assert_non_null(strstr(pg, "Corte <b>7</b>"));
        assert_non_null(strstr(pg, "data-corte=\"7\""));
        assert_non_null(strstr(pg, "Resultados preliminares"));
        assert_non_null(strstr(pg, "<p class=\"simulacro\">SIMULACRO"));
        assert_non_null(strstr(pg, "id=\"corte-nuevo\""));
        /* default horizon: 3 cut intervals of 300 s */
        assert_non_null(strstr(pg, "data-vigente-hasta=\"2021-06-07T00:15:00-05:00\""));
        free(pg);
        n++;
    }
    assert_int_equal(n, 118);
    char *j = tr_page(&site, "corte.json");
    assert_string_equal(j, "{\"corte\":7,\"instante\":\"2021-06-07T00:00:00-05:00\",\"vigente_hasta\":"
                           "\"2021-06-07T00:15:00-05:00\",\"simulacro\":true,\"proceso\":\"tiny\"}\n");
    free(j);

    /* a live cut carries no banner */
    prep_render_cut c = make_cut(8, cut_at, 0);
    prep_site s2;
    prep_render_site_init(&s2);
    assert_int_equal(prep_render_site(tal, &c, NULL, NULL, &s2, NULL), PREP_OK);
    for (size_t i = 0; i < s2.n; i++) {
        char *pg = tr_text(&s2.v[i]);
        assert_null(strstr(pg, "SIMULACRO"));
        if (s2.v[i].is_page) assert_non_null(strstr(pg, "Corte <b>8</b>"));
        free(pg);
    }
    prep_render_site_free(&s2);
}

/* Composed pages: pre | body | post | stamp (prep_site_file.n_parts; the stamp last so that
 * a cut hashes a reused page from the state before it). All per-cut bytes
 * are in the stamp, the stamp is the same on every page of both trees, the body is the
 * same in a page and its embebido/ twin, and a cut that changes no number changes only
 * the stamp of a page (docs/formats/site.md, "Composed pages"). */
static int per_cut_page(const char *path)
{
    return strstr(path, "base-de-datos/") != NULL || strstr(path, "verificar/") != NULL;
}

/* A page's parts: pre | body | post | stamp, no post in the embedded tree (its pages have
 * no footer); the stamp is the last one. */
enum { P_PRE, P_BODY, P_POST };
static size_t p_stamp(const prep_site_file *f)
{
    return f->n_parts - 1u;
}

/* Where part k of f starts. */
static size_t part_off(const prep_site_file *f, size_t k)
{
    size_t o = 0;
    for (size_t i = 0; i < k; i++) o += f->part_len[i];
    return o;
}

static void test_composed_parts(void **state)
{
    (void)state;
    const prep_site_file *first = NULL;
    size_t pages = 0;
    for (size_t i = 0; i < site.n; i++) {
        const prep_site_file *f = &site.v[i];
        if (!f->is_page && strstr(f->path, "/datos.json")) {
            /* open data: the figures, then the cut's head (the same in every datos.json) */
            assert_int_equal(f->n_parts, 2);
            assert_int_equal(f->part_len[0] + f->part_len[1], f->len);
            static const char head[] = "\"corte\":{\"secuencia\":7,\"instante\":\"2021-06-07T00:00:00-05:00\","
                                       "\"proceso\":\"tiny\",\"simulacro\":true}}\n";
            assert_int_equal(f->part_len[1], sizeof head - 1);
            assert_memory_equal(f->data + f->part_len[0], head, sizeof head - 1);
            assert_memory_equal(f->data, "{\"formato\":1,", 13);
            assert_int_equal(f->data[f->part_len[0] - 1], ',');
            continue;
        }
        if (!f->is_page) {
            assert_int_equal(f->n_parts, 0);
            continue;
        }
        pages++;
        int emb = !strncmp(f->path, "embebido/", 9);
        assert_int_equal(f->n_parts, emb ? 3 : 4);
        assert_int_equal(part_off(f, f->n_parts), f->len);
        const char *stamp = (const char *)f->data + part_off(f, p_stamp(f));
        size_t sl = f->part_len[p_stamp(f)];
        if (!first) first = f;
        assert_int_equal(sl, first->part_len[p_stamp(first)]);
        assert_memory_equal(stamp, (const char *)first->data + part_off(first, p_stamp(first)), sl);
        /* the stamp ends the document; a main page's footer is its own part before it */
        assert_true(sl > 15 && !memcmp(stamp + sl - 15, "</body></html>\n", 15));
        if (!emb) {
            const char *post = (const char *)f->data + part_off(f, P_POST);
            assert_memory_equal(post, "<footer>", 8);
            assert_memory_equal(post + f->part_len[P_POST] - 9, "</footer>", 9);
        }
        /* the stamp carries the cut; the rest carries none of it */
        char *st = strndup(stamp, sl);
        assert_non_null(strstr(st, "Corte <b>7</b>"));
        assert_non_null(strstr(st, "data-corte=\"7\""));
        assert_non_null(strstr(st, "data-vigente-hasta="));
        assert_non_null(strstr(st, "SIMULACRO"));
        assert_non_null(strstr(st, "id=\"corte\"")); /* the skip link's target */
        free(st);
        char *rest = malloc(f->len + 1);
        size_t so = part_off(f, p_stamp(f));
        memcpy(rest, f->data, so);
        rest[so] = 0;
        assert_null(strstr(rest, "data-corte"));
        assert_null(strstr(rest, "data-vigente-hasta"));
        assert_null(strstr(rest, "SIMULACRO"));
        assert_non_null(strstr(rest, "href=\"#corte\"")); /* every page leads to its stamp */
        if (!per_cut_page(f->path)) {
            assert_null(strstr(rest, "Corte <b>"));
            assert_null(strstr(rest, "2021-06-07T00:00:00-05:00"));
            assert_null(strstr(rest, "Corte 7"));
        }
        free(rest);
        /* the body part is the same in the embebido/ twin */
        if (strncmp(f->path, "embebido/", 9) != 0 && strcmp(f->path, "base-de-datos/index.html") != 0) {
            char tw[2048];
            snprintf(tw, sizeof tw, "embebido/%s", f->path);
            const prep_site_file *g = prep_render_site_find(&site, tw);
            assert_non_null(g);
            assert_int_equal(g->part_len[P_BODY], f->part_len[P_BODY]);
            assert_memory_equal((const char *)g->data + part_off(g, P_BODY), (const char *)f->data + part_off(f, P_BODY),
                                f->part_len[P_BODY]);
        }
    }
    assert_int_equal(pages, 118);

    /* The next cut with no new actas: every page but the two per-cut ones differs only in
     * its stamp (pre, body and post are the same bytes). */
    prep_render_cut c = make_cut(8, cut_at + 300, 1);
    prep_site s2;
    prep_render_site_init(&s2);
    assert_int_equal(prep_render_site(tal, &c, NULL, NULL, &s2, NULL), PREP_OK);
    assert_int_equal(s2.n, site.n);
    for (size_t i = 0; i < s2.n; i++) {
        const prep_site_file *a = &site.v[i], *b = &s2.v[i];
        assert_string_equal(a->path, b->path);
        if (!a->is_page || per_cut_page(a->path)) continue;
        assert_int_equal(a->n_parts, b->n_parts);
        size_t ar = part_off(a, p_stamp(a)), br = part_off(b, p_stamp(b));
        assert_int_not_equal(memcmp(a->data + ar, b->data + br, a->part_len[p_stamp(a)]), 0);
        assert_int_equal(ar, br);
        assert_memory_equal(a->data, b->data, ar);
    }
    prep_render_site_free(&s2);
}

static void test_structure(void **state)
{
    (void)state;
    char buf[128];
    for (size_t i = 0; i < site.n; i++) {
        if (!site.v[i].is_page) continue;
        char *pg = tr_text(&site.v[i]);
        const char *why = tr_check_page(pg, buf, sizeof buf);
        if (why) print_error("%s: %s %s\n", site.v[i].path, why, buf);
        assert_null(why);
        assert_true(prep_utf8_valid(pg, strlen(pg)));
        assert_non_null(strstr(pg, "<a class=\"salto\" href=\"#contenido\">"));
        free(pg);
    }
}

/* No reference to any other origin anywhere, no cookies, no fonts or images. */
static void test_no_other_origin(void **state)
{
    (void)state;
    for (size_t i = 0; i < site.n; i++) {
        /* the schema's "$schema" names its dialect by URI: an identifier, never fetched */
        if (!strcmp(site.v[i].path, "datos/esquema.json")) continue;
        char *t = tr_text(&site.v[i]);
        assert_null(strstr(t, "http://"));
        assert_null(strstr(t, "https://"));
        assert_null(strstr(t, "=\"//"));
        for (const char *u = strstr(t, "url("); u; u = strstr(u + 1, "url("))
            assert_int_equal(u[4], '#'); /* only fragment references (SVG patterns) */
        assert_null(strstr(t, "@import"));
        assert_null(strstr(t, "@font-face"));
        assert_null(strstr(t, "<img"));
        assert_null(strstr(t, "document.cookie"));
        assert_null(strstr(t, "<iframe"));
        free(t);
    }
}

/* ---------------------------------------------------------------- embedded */
typedef struct embctx {
    const char *page;
    int bad;
} embctx;

static void check_emb(void *vctx, const char *attr, const char *value, const char *tag)
{
    embctx *ec = vctx;
    if (!value[0] || value[0] == '#') return;
    char out[2048];
    if (tr_resolve(ec->page, value, out, sizeof out)) {
        ec->bad++;
        return;
    }
    if (!strncmp(out, "embebido/", 9)) return;
    /* the only references outside the frame's tree: the assets, and database downloads */
    if (!strcmp(attr, "src") && !strncmp(out, "assets/", 7)) return;
    if (!strncmp(tag, "<link rel=\"stylesheet\"", 22) && !strncmp(out, "assets/", 7)) return;
    const char *end = strchr(tag, '>');
    const char *dl = strstr(tag, " download=\"\"");
    if (dl && dl < end && !strncmp(out, "base-de-datos/", 14)) return;
    print_error("%s: '%s' leaves the embedded tree (%s)\n", ec->page, value, out);
    ec->bad++;
}

static void test_embedded_links(void **state)
{
    (void)state;
    size_t n = 0;
    for (size_t i = 0; i < site.n; i++) {
        if (!site.v[i].is_page || strncmp(site.v[i].path, "embebido/", 9)) continue;
        char *pg = tr_text(&site.v[i]);
        embctx ec = {site.v[i].path, 0};
        tr_refs(pg, check_emb, &ec);
        assert_int_equal(ec.bad, 0);
        /* no outer chrome, but still the cut and the banner */
        assert_null(strstr(pg, "<footer>"));
        assert_null(strstr(pg, "class=\"sitio\""));
        assert_true(strstr(pg, "<body class=\"emb\">") || strstr(pg, "<body class=\"inicio emb\">"));
        assert_non_null(strstr(pg, "Corte <b>7</b>"));
        /* the same body as the full page */
        char *full = tr_page(&site, site.v[i].path + 9);
        assert_non_null(full);
        const char *b1 = strstr(pg, "<main id=\"contenido\">"), *b2 = strstr(full, "<main id=\"contenido\">");
        const char *e1 = strstr(b1, "</main>"), *e2 = strstr(b2, "</main>");
        if (!strstr(site.v[i].path, "base-de-datos/")) {
            assert_int_equal(e1 - b1, e2 - b2);
            assert_memory_equal(b1, b2, (size_t)(e1 - b1));
        }
        free(full);
        free(pg);
        n++;
    }
    assert_int_equal(n, 59);
    /* without the option there is no embedded tree */
    prep_render_opts o;
    prep_render_opts_init(&o);
    o.embedded = 0;
    prep_render_cut c = make_cut(7, cut_at, 1);
    prep_site s2;
    prep_render_site_init(&s2);
    assert_int_equal(prep_render_site(tal, &c, &o, NULL, &s2, NULL), PREP_OK);
    for (size_t i = 0; i < s2.n; i++) assert_true(strncmp(s2.v[i].path, "embebido/", 9));
    assert_int_equal(s2.n, 59 + 2 + 5 + 2 * 53 + 1);
    prep_render_site_free(&s2);
}

/* ---------------------------------------------------------------- determinism */
static void test_determinism(void **state)
{
    (void)state;
    /* a second tally fed from scratch, a second render: the same bytes */
    prep_tally *t2;
    assert_int_equal(prep_tally_new(cat, &t2), PREP_OK);
    apply_until(t2, cut_at);
    prep_render_cut c = make_cut(7, cut_at, 1);
    prep_site s2;
    prep_render_site_init(&s2);
    assert_int_equal(prep_render_site(t2, &c, NULL, NULL, &s2, NULL), PREP_OK);
    tr_assert_sites_equal(&s2, &site);
    prep_render_site_free(&s2);
    prep_tally_free(t2);
}

/* ---------------------------------------------------------------- incremental */
static void test_incremental(void **state)
{
    (void)state;
    prep_tally *t;
    assert_int_equal(prep_tally_new(cat, &t), PREP_OK);
    apply_until(t, cut_at);
    prep_render_cache *k;
    assert_int_equal(prep_render_cache_new(&k), PREP_OK);
    prep_render_cut c1 = make_cut(1, cut_at, 0);
    prep_site s1;
    prep_render_site_init(&s1);
    prep_render_stats st;
    assert_int_equal(prep_render_site(t, &c1, NULL, k, &s1, &st), PREP_OK);
    /* first render: every body (59: 57 cached kinds + 2 per cut) */
    assert_int_equal(st.bodies, 59);
    assert_int_equal(st.bodies_rendered, 59);
    assert_int_equal(st.bodies_reused, 0);
    prep_tally_clear_dirty(t);

    /* The same tally with no change: only the two per-cut pages are rendered again. */
    prep_render_cut c2 = make_cut(2, cut_at + 300, 0);
    /* s1 passed back with its cache: an unchanged page keeps its buffer, only the stamp
     * is rewritten in place (the byte comparison with a fresh render below covers it) */
    const unsigned char *before = prep_render_site_find(&s1, "gubernatura/index.html")->data;
    const unsigned char *before_json = prep_render_site_find(&s1, "gubernatura/datos.json")->data;
    tr_snap sn;
    tr_snap_take(&sn, &s1);
    assert_int_equal(prep_render_site(t, &c2, NULL, k, &s1, &st), PREP_OK);
    /* every page but the two per-cut ones keeps all parts but its stamp (3 of 4) */
    size_t claimed = tr_check_same_parts(&sn, &s1);
    assert_true(claimed != (size_t)-1 && claimed >= 3 * (2 * 57 - 4));
    tr_snap_free(&sn);
    assert_ptr_equal(prep_render_site_find(&s1, "gubernatura/index.html")->data, before);
    assert_ptr_equal(prep_render_site_find(&s1, "gubernatura/datos.json")->data, before_json);
    assert_non_null(strstr((const char *)prep_render_site_find(&s1, "gubernatura/datos.json")->data, "\"secuencia\":2,"));
    assert_int_equal(st.bodies_rendered, 2);
    assert_int_equal(st.bodies_reused, 57);

    /* Cut 3: a correction of every election's acta of one casilla of section 0106
     * (district 2, Peña Blanca): one more vote for the first column, verified later. */
    uint32_t si = prep_catalog_find_section(cat, cat->entity_id, 106);
    uint32_t ci = PREP_CAT_NONE; /* a casilla of the section captured in every election's night */
    const prep_cat_section *sec = &cat->sections[si];
    for (uint32_t q = sec->first_casilla; ci == PREP_CAT_NONE && q < sec->first_casilla + sec->n_casillas; q++) {
        int all = 1;
        for (uint32_t e = 0; e < cat->n_elections; e++) {
            int found = 0;
            for (size_t i = 0; i < sets[e]->n && !found; i++) found = sets[e]->v[i].casilla == q;
            all &= found;
        }
        if (all) ci = q;
    }
    assert_int_not_equal(ci, PREP_CAT_NONE);
    for (uint32_t e = 0; e < cat->n_elections; e++) {
        const int32_t *v0;
        const prep_acta *a0 = prep_tally_acta(t, e, ci, &v0);
        prep_acta a;
        int32_t v[64];
        uint32_t nc = cat->elections[e].n_cols;
        if (a0) {
            a = *a0;
            memcpy(v, v0, nc * sizeof *v);
        } else { /* not captured yet: take its first capture of the night */
            size_t i = 0;
            while (sets[e]->v[i].casilla != ci) i++;
            a = sets[e]->v[i];
            memcpy(v, prep_acta_votes(sets[e], &sets[e]->v[i]), nc * sizeof *v);
        }
        v[0] = v[0] >= 0 ? v[0] + 1 : 1;
        a.verificacion = cut_at + 200;
        assert_int_equal(prep_tally_apply(t, e, &a, v), PREP_OK);
    }
    prep_render_cut c3 = make_cut(3, cut_at + 600, 0);
    tr_snap_take(&sn, &s1);
    assert_int_equal(prep_render_site(t, &c3, NULL, k, &s1, &st), PREP_OK);
    claimed = tr_check_same_parts(&sn, &s1);
    assert_true(claimed != (size_t)-1 && claimed > 0);
    assert_int_equal(prep_render_site_find(&s1, "gubernatura/distrito-02/index.html")->same_parts, 0);
    tr_snap_free(&sn);
    /* by hand: section 0106 is in district 2 and Peña Blanca. Pages whose numbers depend
     * on it: gub: its section, distrito-02, pena-blanca, entity; ayu: its section,
     * pena-blanca, entity; dip: its section, distrito-02, entity; the home page; the
     * section in every election (seccion/0106/). Plus the two per-cut pages.
     * 4 + 3 + 3 + 1 + 1 + 2 = 14. */
    static const char *const want[] = {
        "index.html",
        "gubernatura/index.html",
        "gubernatura/distrito-02/index.html",
        "gubernatura/pena-blanca/index.html",
        "gubernatura/distrito-02/seccion-0106/index.html",
        "ayuntamientos/index.html",
        "ayuntamientos/pena-blanca/index.html",
        "ayuntamientos/pena-blanca/seccion-0106/index.html",
        "diputaciones-locales/index.html",
        "diputaciones-locales/distrito-02/index.html",
        "diputaciones-locales/distrito-02/seccion-0106/index.html",
        "seccion/0106/index.html",
        "base-de-datos/index.html",
        "verificar/index.html",
    };
    assert_int_equal(st.bodies_rendered, PREP_ARRAY_LEN(want));
    assert_int_equal(st.bodies_reused, 59 - PREP_ARRAY_LEN(want));
    size_t fresh = 0;
    for (size_t i = 0; i < s1.n; i++) {
        if (!s1.v[i].is_page) continue;
        const char *p = s1.v[i].path;
        if (!strncmp(p, "embebido/", 9)) p += 9;
        int expected = 0;
        for (size_t w = 0; w < PREP_ARRAY_LEN(want); w++) expected |= !strcmp(p, want[w]);
        if (expected != s1.v[i].body_rendered) print_error("%s: body_rendered %d\n", s1.v[i].path, s1.v[i].body_rendered);
        assert_int_equal(s1.v[i].body_rendered, expected);
        fresh += s1.v[i].body_rendered;
    }
    assert_int_equal(fresh, 2 * PREP_ARRAY_LEN(want));

    /* and the incremental site is byte for byte the site rendered from nothing */
    prep_site full;
    prep_render_site_init(&full);
    assert_int_equal(prep_render_site(t, &c3, NULL, NULL, &full, NULL), PREP_OK);
    tr_assert_sites_equal(&full, &s1);
    prep_tally_clear_dirty(t);
    prep_render_site_free(&full);

    /* Cut 10, no new acta: the sequence gains a digit, so every stamp is longer. The last
     * site's buffers are still reused (the bytes after the stamp moved): only the two
     * per-cut bodies are rendered, every other page claims all its parts but the stamp,
     * and the site is byte for byte the one rendered from nothing. */
    prep_render_cut c10 = make_cut(10, cut_at + 900, 0);
    const prep_site_file *gub = prep_render_site_find(&s1, "gubernatura/index.html");
    size_t stamp_was = gub->part_len[p_stamp(gub)];
    tr_snap_take(&sn, &s1);
    assert_int_equal(prep_render_site(t, &c10, NULL, k, &s1, &st), PREP_OK);
    claimed = tr_check_same_parts(&sn, &s1);
    tr_snap_free(&sn);
    assert_true(claimed != (size_t)-1 && claimed >= 3 * (2 * 57 - 4));
    assert_int_equal(st.bodies_rendered, 2);
    assert_int_equal(st.bodies_reused, 57);
    gub = prep_render_site_find(&s1, "gubernatura/index.html");
    assert_true(gub->part_len[p_stamp(gub)] > stamp_was);
    prep_render_site_init(&full);
    assert_int_equal(prep_render_site(t, &c10, NULL, NULL, &full, NULL), PREP_OK);
    tr_assert_sites_equal(&full, &s1);

    /* the final cut changes participation on every page: everything is rendered again */
    prep_render_cut c4 = make_cut(11, cut_at + 1200, 0);
    c4.final_cut = 1;
    assert_int_equal(prep_render_site(t, &c4, NULL, k, &s1, &st), PREP_OK);
    assert_int_equal(st.bodies_rendered, 59);

    prep_render_site_free(&full);
    prep_render_site_free(&s1);
    prep_render_cache_free(k);
    prep_tally_free(t);
}

/* ---------------------------------------------------------------- database page */
static void test_database_page(void **state)
{
    (void)state;
    char *pg = tr_page(&site, "base-de-datos/index.html");
    static const char *const files[] = {"gub.csv", "ayu.csv", "dip.csv", "LEEME.txt"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(files); i++) {
        char path[64], want[512], size[32];
        snprintf(path, sizeof path, "base-de-datos/%s", files[i]);
        const prep_site_file *f = prep_render_site_find(&site, path);
        assert_non_null(f);
        assert_int_equal(f->cache, PREP_POLICY_DATA);
        char h[65];
        prep_sha256_hex(f->data, f->len, h);
        tr_commas((long long)f->len, size);
        snprintf(want, sizeof want, "<td>%s</td><td class=\"t\"><code>%s</code></td>", size, h);
        assert_non_null(strstr(pg, want));
        snprintf(want, sizeof want, "<a href=\"%s\" download=\"\">", files[i]);
        assert_non_null(strstr(pg, want));
    }
    /* the CSV is the tally's database of this cut: its header block carries the cut */
    char *csv = tr_page(&site, "base-de-datos/gub.csv");
    assert_non_null(strstr(csv, "07/06/2021 00:00 (UTC-5)"));
    free(csv);
    free(pg);
}

static void test_verify_and_difusores(void **state)
{
    (void)state;
    char *pg = tr_page(&site, "verificar/index.html");
    assert_non_null(strstr(pg, "a\xC3\xBAn no est\xC3\xA1n firmados"));
    free(pg);
    pg = tr_page(&site, "difusores/index.html");
    assert_non_null(strstr(pg, "se publicar\xC3\xA1 aqu\xC3\xAD"));
    free(pg);

    prep_render_difusor d[3] = {{"Universidad <Aut\xC3\xB3noma> & \"Radio\"", "https://prep.example.edu.mx/"},
                                {"Diario sin sitio", NULL},
                                {"Radio con enlace malo", "javascript:alert(1)"}};
    prep_render_opts o;
    prep_render_opts_init(&o);
    o.pubkey = "untrusted comment: prep live key <inst>\nRWQAAAAAAAAAAEbase64==\n";
    o.difusores = d;
    o.n_difusores = 3;
    prep_render_cut c = make_cut(9, cut_at, 0);
    prep_site s2;
    prep_render_site_init(&s2);
    assert_int_equal(prep_render_site(tal, &c, &o, NULL, &s2, NULL), PREP_OK);
    pg = tr_page(&s2, "verificar/index.html");
    assert_non_null(strstr(pg, "<code># sequence: 9</code>"));
    assert_non_null(strstr(pg, "<code># instant: 2021-06-07T00:00:00-05:00</code>"));
    assert_non_null(strstr(pg, "signify -V -p instituto.pub -x SHA256SUMS.sig -m SHA256SUMS"));
    assert_non_null(strstr(pg, "untrusted comment: prep live key &lt;inst&gt;\nRWQAAAAAAAAAAEbase64==\n</pre>"));
    free(pg);
    pg = tr_page(&s2, "difusores/index.html");
    assert_non_null(strstr(pg, "<a href=\"https://prep.example.edu.mx/\" rel=\"noopener noreferrer\">Universidad "
                               "&lt;Aut\xC3\xB3noma&gt; &amp; &quot;Radio&quot;</a>"));
    assert_non_null(strstr(pg, "<li>Diario sin sitio</li>"));
    assert_non_null(strstr(pg, "<li>Radio con enlace malo</li>")); /* not a web address: no link */
    assert_null(strstr(pg, "javascript:"));
    free(pg);
    /* the broadcasters' links are the only references to other origins, on that page */
    for (size_t i = 0; i < s2.n; i++) {
        if (strstr(s2.v[i].path, "difusores/") || !strcmp(s2.v[i].path, "datos/esquema.json")) continue;
        char *t = tr_text(&s2.v[i]);
        assert_null(strstr(t, "https://"));
        free(t);
    }
    prep_render_site_free(&s2);
}

/* ---------------------------------------------------------------- escaping, by hand */
static const char hand_cat[] =
    "prep-catalog 1\n"
    "[process]\n"
    "id = esc2021\n"
    "name = Proceso <Prueba> & \"Comillas\" 'simples' 2020-2021. 7 3.5\n"
    "institute = Instituto <b>Electoral</b> de Pe\xC3\xB1" "a & Ni\xC3\xB1o\n"
    "entity_id = 22\n"
    "entity = QUER\xC3\x89TARO <i>\n"
    "timezone = America/Mexico_City\n"
    "window_open = 2021-06-06 20:00\n"
    "window_close = 2021-06-07 20:00\n"
    "cut_interval = 300\n"
    "combo_prefix = C_\n"
    "independents_first = no\n"
    "csv_separator = |\n"
    "participation_specials = exclude\n"
    "percent_decimals = 4\n"
    "map_viewbox = 0 0 100 80\n"
    "[shapes]\n"
    "municipality|path\n"
    "14|M0 0l100 0 0 80-100 0z\n"
    "[labels]\n"
    "some_illegible = ALGUN <DATO> ILEGIBLE\n"
    "[parties]\n"
    "id|name|color\n"
    "PAN|Partido <Acci\xC3\xB3n> & \"Nacional\"|#0055A5\n"
    "PRI|Partido 'Revolucionario'|#E30613\n"
    "[districts]\n"
    "id|name\n"
    "1|Distrito <1> & Pe\xC3\xB1" "a\n"
    "[municipalities]\n"
    "id|name\n"
    "14|Quer\xC3\xA9taro \"Centro\" <script>alert(1)</script>\n"
    "[sections]\n"
    "id|district|municipality\n"
    "412|1|14\n"
    "[casillas]\n"
    "section|type|number|ext|urban|lista_nominal|representatives|ballots\n"
    "412|B|1|0|1|100|4|0\n"
    "412|C|1|0|1|100|4|0\n"
    "[elections]\n"
    "id|name|title|scope|acta_type|parties\n"
    "gub|GUBERNATURA|Gubernatura <Estatal> & \"M\xC3\xA1s\"|entity|1|PAN PRI\n"
    "[coalitions]\n"
    "election|id|name|parties\n"
    "gub|VXQ|Va <por> Quer\xC3\xA9taro & \"Todos\"|PAN PRI\n"
    "[candidacies]\n"
    "election|unit|contender|name\n"
    "gub|*|VXQ|Ana <b>\"Pe\xC3\xB1" "a\"</b> & O'Neil\n"
    "gub|*|CAND_IND_1|Jos\xC3\xA9 \xC3\x91\xC3\xBA\xC3\xB1" "ez <Indep>\n";

static void hand_acta(prep_tally *t, const prep_catalog *c, const char *key, const int32_t *votes)
{
    prep_acta a;
    memset(&a, 0, sizeof a);
    a.casilla = prep_catalog_find_casilla(c, key);
    assert_int_not_equal(a.casilla, PREP_CAT_NONE);
    const prep_cat_casilla *k = &c->casillas[a.casilla];
    snprintf(a.clave_casilla, sizeof a.clave_casilla, "%s", key);
    prep_catalog_acta_key(key, 1, a.clave_acta);
    a.section_id = 412;
    a.district_id = 1;
    a.municipality_id = 14;
    a.tipo_casilla = k->type;
    a.id_casilla = k->number;
    a.urban = 1;
    a.boletas_sobrantes = a.personas_votaron = a.rep_votaron = a.votos_sacados = PREP_ACTA_V_SIN_DATO;
    a.total_asentado = PREP_ACTA_V_SIN_DATO;
    a.lista_nominal = k->lista_nominal;
    a.representatives = k->representatives;
    snprintf(a.sha, sizeof a.sha, "%064d", 7);
    a.acopio = a.captura = a.verificacion = c->window_open + 3600;
    snprintf(a.origen, sizeof a.origen, "C<A>&");
    snprintf(a.tipo_documento, sizeof a.tipo_documento, "ACTA \"PREP\"");
    a.cotejada = -1;
    assert_int_equal(prep_tally_apply(t, 0, &a, votes), PREP_OK);
}

static void test_escaping_and_hand_numbers(void **state)
{
    (void)state;
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    prep_err e = prep_catalog_parse("esc.cat", hand_cat, sizeof hand_cat - 1, &c, &d);
    if (e) prep_diags_print(&d, stderr, 10);
    assert_int_equal(e, PREP_OK);
    prep_diags_free(&d);
    /* columns: PAN PRI C_PAN_PRI CAND_IND_1 NO_REGISTRADOS NULOS */
    assert_int_equal(c->elections[0].n_cols, 6);
    assert_string_equal(c->elections[0].cols[2].name, "C_PAN_PRI");
    prep_tally *t;
    assert_int_equal(prep_tally_new(c, &t), PREP_OK);
    static const int32_t vb[6] = {10, 20, 3, 5, 1, 2}; /* total 41, LN 100 + 4 */
    static const int32_t vc[6] = {7, 1, 0, 12, 0, 4};  /* total 24 */
    hand_acta(t, c, "220412B0100", vb);
    hand_acta(t, c, "220412C0100", vc);
    prep_render_cut cut = make_cut(3, c->window_open + 7200, 0);
    prep_site s;
    prep_render_site_init(&s);
    assert_int_equal(prep_render_site(t, &cut, NULL, NULL, &s, NULL), PREP_OK);

    /* escaped, everywhere */
    char buf[128];
    for (size_t i = 0; i < s.n; i++) {
        if (!s.v[i].is_page) continue;
        char *pg = tr_text(&s.v[i]);
        assert_null(strstr(pg, "<script>"));
        assert_null(strstr(pg, "<b>\"Pe"));
        assert_null(strstr(pg, "<Prueba>"));
        assert_null(strstr(pg, "<Estatal>"));
        assert_null(strstr(pg, "<Indep>"));
        assert_null(strstr(pg, "& \""));
        const char *why = tr_check_page(pg, buf, sizeof buf); /* no element but ours */
        if (why) print_error("%s: %s %s\n", s.v[i].path, why, buf);
        assert_null(why);
        /* the institute and process names in every full page's frame */
        if (strncmp(s.v[i].path, "embebido/", 9))
            assert_non_null(strstr(pg, "Instituto &lt;b&gt;Electoral&lt;/b&gt; de Pe\xC3\xB1" "a &amp; Ni\xC3\xB1o"));
        assert_non_null(strstr(pg, "Proceso &lt;Prueba&gt; &amp; &quot;Comillas&quot; &#39;simples&#39;"));
        /* a year range stays on one line on a phone (issue 16); a plain number and a
         * trailing full stop are left as they are */
        if (strncmp(s.v[i].path, "embebido/", 9))
            assert_non_null(strstr(pg, "&#39;simples&#39; <span class=\"nw\">2020-2021</span>. 7 <span class=\"nw\">3.5</span>"));
        free(pg);
    }
    /* slugs are folded ASCII: the municipality's page URL */
    const char *sec_path = "gubernatura-estatal-mas/distrito-1-pena/seccion-0412/index.html";
    char *pg = tr_page(&s, sec_path);
    if (!pg)
        for (size_t i = 0; i < s.n; i++) print_error("  %s\n", s.v[i].path);
    assert_non_null(pg);
    assert_non_null(prep_render_site_find(&s, "gubernatura-estatal-mas/queretaro-centro-script-alert-1-script/index.html"));
    assert_non_null(strstr(pg, "Ana &lt;b&gt;&quot;Pe\xC3\xB1" "a&quot;&lt;/b&gt; &amp; O&#39;Neil"));
    assert_non_null(strstr(pg, "Jos\xC3\xA9 \xC3\x91\xC3\xBA\xC3\xB1" "ez &lt;Indep&gt;"));
    assert_non_null(strstr(pg, "Quer\xC3\xA9taro &quot;Centro&quot; &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(pg, "<dt>Origen</dt><dd>C&lt;A&gt;&amp;</dd>"));
    assert_non_null(strstr(pg, "<dt>Tipo de documento</dt><dd>ACTA &quot;PREP&quot;</dd>"));
    assert_non_null(strstr(pg, "Partido &lt;Acci\xC3\xB3n&gt; &amp; &quot;Nacional&quot;"));

    /* numbers by hand. Section 0412 = both casillas:
     *   PAN 10+7 = 17, PRI 20+1 = 21, C_PAN_PRI 3+0 = 3, CAND_IND_1 5+12 = 17,
     *   NO_REGISTRADOS 1+0 = 1, NULOS 2+4 = 6; total 41 + 24 = 65.
     *   Ana (VXQ = PAN + PRI + C_PAN_PRI) = 17 + 21 + 3 = 41 -> 41/65 = 63.0769...%
     *   José (CAND_IND_1) = 17 -> 17/65 = 26.1538...%; nulos 6/65 = 9.2307...%;
     *   no registrados 1/65 = 1.5384...%.
     *   Votes by party: casilla B's C_PAN_PRI 3 splits 1 + 1, the remainder 1 to PRI
     *   (20 own votes > PAN's 10): PAN 10+1+7 = 18 (27.6923...%), PRI 20+2+1 = 23
     *   (35.3846...%).
     *   Participation (specials excluded; no special casilla here) 65 / 200 = 32.5000%. */
    assert_non_null(strstr(pg, "&amp; O&#39;Neil <span class=\"nota\">PAN-PRI</span></th><td>41</td><td>63.0769%</td>"));
    assert_non_null(strstr(pg, "&lt;Indep&gt; <span class=\"nota\">Independiente</span></th><td>17</td><td>26.1538%</td>"));
    assert_non_null(strstr(pg, "Votos nulos</th><td>6</td><td>9.2307%</td>"));
    assert_non_null(strstr(pg, "Candidaturas no registradas</th><td>1</td><td>1.5384%</td>"));
    assert_non_null(strstr(pg, "<span class=\"nota\">PAN</span></th><td>18</td><td>27.6923%</td>"));
    assert_non_null(strstr(pg, "<span class=\"nota\">PRI</span></th><td>23</td><td>35.3846%</td>"));
    /* the combination reads "PAN-PRI"; its database column name is not shown (issue 16) */
    assert_non_null(strstr(pg, "PAN-PRI</th><td>3</td><td>4.6153%</td>")); /* 3/65 = 4.6153...% */
    assert_null(strstr(pg, "C_PAN_PRI"));
    assert_null(strstr(pg, "CAND_IND_1"));
    assert_non_null(strstr(pg, "<dt>Total de votos</dt><dd>65</dd>"));
    assert_non_null(strstr(pg, "<dt>Participaci\xC3\xB3n ciudadana</dt><dd>32.5000%</dd>"));
    assert_non_null(strstr(pg, "<dt>Actas contabilizadas</dt><dd>2 de 2 (100.0000%)</dd>"));
    /* casilla C's acta as captured */
    const char *blk = strstr(pg, "id=\"casilla-220412C0100\"");
    assert_non_null(blk);
    /* named as people read them: the independent by the catalogue's name, the totals by
     * the acta's wording (the column names stay in the CSV) */
    assert_non_null(strstr(blk, "<th scope=\"row\">Jos\xC3\xA9 \xC3\x91\xC3\xBA\xC3\xB1" "ez &lt;Indep&gt; (independiente)</th><td>12</td>"));
    assert_non_null(strstr(blk, "<th scope=\"row\">PAN-PRI</th><td>"));
    assert_non_null(strstr(blk, "<th scope=\"row\">Total de votos asentado en el acta</th><td>SIN DATO</td>"));
    assert_non_null(strstr(blk, "<th scope=\"row\">Total de votos calculado</th><td>24</td>"));
    free(pg);
    /* the map on the entity page: the municipality links to its page, filled with the
     * stripes of the leading coalition's parties, and a text legend */
    pg = tr_page(&s, "gubernatura-estatal-mas/index.html");
    assert_non_null(strstr(pg, "<svg viewBox=\"-1 -1 102 82\" width=\"100\" height=\"80\" role=\"group\""));
    assert_non_null(strstr(pg, "<a href=\"queretaro-centro-script-alert-1-script/\" aria-label=\"Quer\xC3\xA9taro "
                               "&quot;Centro&quot; &lt;script&gt;alert(1)&lt;/script&gt;: encabeza PAN-PRI\">"
                               "<path d=\"M0 0l100 0 0 80-100 0z\" fill=\"url(#mp0)\""));
    assert_non_null(strstr(pg, "<pattern id=\"mp0\""));
    assert_non_null(strstr(pg, "<rect x=\"0\" width=\"5\" height=\"8\" fill=\"#0055A5\"/>"
                               "<rect x=\"5\" width=\"5\" height=\"8\" fill=\"#E30613\"/>"));
    assert_non_null(strstr(pg, "<li><i class=\"sw c0\"></i><i class=\"sw c1\"></i>PAN-PRI: 1 municipio</li>"));
    free(pg);
    /* the home page: the candidacies with most votes, in order */
    pg = tr_page(&s, "index.html");
    const char *a1 = strstr(pg, "O&#39;Neil (PAN-PRI): <b>41</b> votos, 63.0769%");
    const char *a2 = strstr(pg, "&lt;Indep&gt; (Independiente): <b>17</b> votos, 26.1538%");
    assert_non_null(a1);
    assert_non_null(a2);
    assert_true(a1 < a2);
    free(pg);

    prep_render_site_free(&s);
    prep_tally_free(t);
    prep_catalog_free(c);
}

static void test_fmt_int(void **state)
{
    (void)state;
    char s[28];
    prep_render_fmt_int(0, s);
    assert_string_equal(s, "0");
    prep_render_fmt_int(999, s);
    assert_string_equal(s, "999");
    prep_render_fmt_int(1000, s);
    assert_string_equal(s, "1,000");
    prep_render_fmt_int(1234567, s);
    assert_string_equal(s, "1,234,567");
    prep_render_fmt_int(-1234, s);
    assert_string_equal(s, "-1,234");
    prep_render_fmt_int(INT64_MIN, s);
    assert_string_equal(s, "-9,223,372,036,854,775,808");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fmt_int),
        cmocka_unit_test(test_page_set),
        cmocka_unit_test(test_links_resolve),
        cmocka_unit_test(test_section_numbers),
        cmocka_unit_test(test_cut_on_every_page),
        cmocka_unit_test(test_composed_parts),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_no_other_origin),
        cmocka_unit_test(test_embedded_links),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_incremental),
        cmocka_unit_test(test_database_page),
        cmocka_unit_test(test_verify_and_difusores),
        cmocka_unit_test(test_escaping_and_hand_numbers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
