/* bench_render: the cost of publishing a cut at Querétaro 2021 scale (simulated catalogue
 * with the 18 real municipality outlines, a simulated night of actas).
 *
 * Prints, in CPU seconds (CLOCK_PROCESS_CPUTIME_ID, so other load on the machine does not
 * count):
 *   - a full render of the busiest cut of the night (no cache: every body);
 *   - the same cut rendered incrementally: the cache holds the previous cut's bodies, and
 *     only the pages whose aggregates the 5-minute cut's actas touched are rendered again;
 *   - an incremental cut where one section's actas changed;
 * and the site: files, pages, bytes, and the gzip size (zlib level 6 and 9) of each page's
 * first view (HTML + CSS + JS) — median and maximum — against the 30 KB budget.
 *
 * Run: ./build-x/bench_render [geojson]   (a few seconds; the default geojson is
 * $PREP_SHARED_DATA/geo/queretaro-municipios-2021.geojson, else ../shared/data/...). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "prep/render.h"
#include "prep/sim.h"

#define BUDGET 30000u

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t gz_size(const void *p, size_t n, int level)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
    unsigned char out[1 << 16];
    size_t total = 0;
    z.next_in = (unsigned char *)p;
    z.avail_in = (uInt)n;
    int rc;
    do {
        z.next_out = out;
        z.avail_out = sizeof out;
        rc = deflate(&z, Z_FINISH);
        total += sizeof out - z.avail_out;
    } while (rc == Z_OK);
    deflateEnd(&z);
    return total;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static int die(const char *what, prep_err e)
{
    fprintf(stderr, "bench_render: %s: %s\n", what, prep_err_str(e));
    return 1;
}

int main(int argc, char **argv)
{
    char geo[1024];
    const char *sd = getenv("PREP_SHARED_DATA");
    if (argc > 1) snprintf(geo, sizeof geo, "%s", argv[1]);
    else snprintf(geo, sizeof geo, "%s/geo/queretaro-municipios-2021.geojson", sd && *sd ? sd : "../shared/data");

    prep_catalog *c;
    prep_err e = prep_sim_catalog(PREP_SIM_SCALE_QRO2021, 1, &c);
    if (e) return die("catalogue", e);
    prep_diags d;
    prep_diags_init(&d);
    if ((e = prep_catalog_shapes_from_geojson(geo, NULL, 0, -1.0, c, &d))) {
        prep_diags_print(&d, stderr, 5);
        fprintf(stderr, "bench_render: no map (%s): measuring without it\n", geo);
    }
    prep_diags_free(&d);
    prep_actas *sets[3];
    prep_sim_night_opts o;
    prep_sim_night_defaults(&o);
    if ((e = prep_sim_actas(c, &o, sets))) return die("actas", e);

    /* the busiest 5-minute cut of the night */
    size_t nbins = (size_t)((c->window_close - c->window_open) / c->cut_interval) + 1;
    size_t *bins = calloc(nbins, sizeof *bins);
    size_t total_captures = 0;
    for (uint32_t el = 0; el < c->n_elections; el++)
        for (size_t i = 0; i < sets[el]->n; i++) {
            prep_time at = prep_actas_instant(&sets[el]->v[i]);
            total_captures++;
            if (at <= c->window_open || at > c->window_close) continue;
            bins[(size_t)((at - c->window_open - 1) / c->cut_interval)]++;
        }
    size_t peak = 0;
    for (size_t b = 1; b < nbins; b++)
        if (bins[b] > bins[peak]) peak = b;
    prep_time before = c->window_open + (prep_time)peak * c->cut_interval, after = before + c->cut_interval;
    printf("== Querétaro 2021 (simulated): %u sections, %u casillas, 3 elections, %zu captures; map %s\n",
           c->n_sections, c->n_casillas, total_captures, c->has_map ? "yes" : "no");
    printf("   busiest cut: %zu captures (%.1f%%) in the 5 minutes to cut %zu\n", bins[peak],
           100.0 * (double)bins[peak] / (double)total_captures, peak + 1);

    prep_tally *t;
    if ((e = prep_tally_new(c, &t))) return die("tally", e);
    prep_tally_cursor cur[3];
    for (uint32_t el = 0; el < 3; el++)
        if ((e = prep_tally_cursor_init(&cur[el], sets[el]))) return die("tally", e);
    /* the night's progress series of the cuts before the busiest one (issue 16 item 3), as
     * the institute's cutter carries it; PREP_BENCH_NO_PROGRESS=1 renders without it */
    const char *np = getenv("PREP_BENCH_NO_PROGRESS");
    int with_progress = !(np && *np == '1');
    prep_render_progress *prog = NULL;
    if (with_progress && (e = prep_render_progress_new(c, &prog))) return die("progress", e);
    for (size_t b = 0; b < peak; b++) {
        prep_render_cut pc = {.seq = b + 1, .at = c->window_open + (prep_time)(b + 1) * c->cut_interval, .drill = 1,
                              .valid_until = PREP_TIME_NONE};
        for (uint32_t el = 0; el < 3; el++)
            if ((e = prep_tally_apply_until(t, sets[el], &cur[el], pc.at, NULL))) return die("tally", e);
        if (prog && (e = prep_render_progress_add(prog, t, &pc))) return die("progress", e);
    }
    for (uint32_t el = 0; el < 3; el++)
        if ((e = prep_tally_apply_until(t, sets[el], &cur[el], before, NULL))) return die("tally", e);
    prep_render_opts ro;
    prep_render_opts_init(&ro);
    ro.progress = prog;
    printf("   progress chart: %s (%zu points before the busiest cut)\n", prog ? "yes" : "no (PREP_BENCH_NO_PROGRESS=1)",
           prog ? prep_render_progress_len(prog, 0) : 0);
    prep_render_cache *k;
    if ((e = prep_render_cache_new(&k))) return die("render", e);
    prep_site s;
    prep_render_site_init(&s);
    prep_render_stats st;
    prep_render_cut cut = {.seq = peak, .at = before, .drill = 1, .process_name = NULL,
                           .valid_until = PREP_TIME_NONE, .final_cut = 0};
    if ((e = prep_render_site(t, &cut, &ro, k, &s, &st))) return die("render", e);
    prep_tally_clear_dirty(t);

    /* the busiest cut: its actas applied, rendered in full and incrementally */
    for (uint32_t el = 0; el < 3; el++)
        if ((e = prep_tally_apply_until(t, sets[el], &cur[el], after, NULL))) return die("tally", e);
    cut.seq = peak + 1;
    cut.at = after;
    /* (into a site of its own: s still holds the previous cut, as a cutter keeps it) */
    prep_site sf;
    prep_render_site_init(&sf);
    double t0 = cpu_now();
    if ((e = prep_render_site(t, &cut, &ro, NULL, &sf, &st))) return die("render", e);
    double t1 = cpu_now();
    prep_render_site_free(&sf);
    printf("   full render:        %.3f CPU s  (%zu bodies)\n", t1 - t0, st.bodies_rendered);
    printf("   site: %zu files, %zu pages (2 trees), %.1f MB\n", st.files, st.pages, (double)st.bytes / 1e6);
    t0 = cpu_now();
    if ((e = prep_render_site(t, &cut, &ro, k, &s, &st))) return die("render", e);
    t1 = cpu_now();
    printf("   incremental render: %.3f CPU s  (%zu of %zu bodies rendered, %zu reused)\n", t1 - t0,
           st.bodies_rendered, st.bodies, st.bodies_reused);
    prep_tally_clear_dirty(t);

    /* one section changes: a correction of the first casilla captured in every election */
    uint32_t ci = 0;
    for (; ci < c->n_casillas; ci++) {
        const int32_t *vv;
        if (prep_tally_acta(t, 0, ci, &vv) && prep_tally_acta(t, 1, ci, &vv) && prep_tally_acta(t, 2, ci, &vv)) break;
    }
    for (uint32_t el = 0; el < 3; el++) {
        const int32_t *v0;
        const prep_acta *a0 = prep_tally_acta(t, el, ci, &v0);
        if (!a0) continue;
        prep_acta a = *a0;
        int32_t v[256];
        memcpy(v, v0, c->elections[el].n_cols * sizeof *v);
        v[0] = v[0] >= 0 ? v[0] + 1 : 1;
        a.verificacion = after + 60;
        if ((e = prep_tally_apply(t, el, &a, v))) return die("tally", e);
    }
    cut.seq++;
    cut.at = after + c->cut_interval;
    t0 = cpu_now();
    if ((e = prep_render_site(t, &cut, &ro, k, &s, &st))) return die("render", e);
    t1 = cpu_now();
    printf("   one section changed: %.3f CPU s  (%zu bodies rendered: the section's pages, their\n"
           "                        ancestors, home and the 2 per-cut pages)\n",
           t1 - t0, st.bodies_rendered);

    /* page weights */
    size_t css6 = 0, js6 = 0, css9 = 0, js9 = 0, n = 0;
    for (size_t i = 0; i < s.n; i++)
        if (!strncmp(s.v[i].path, "assets/", 7)) {
            int is_css = strstr(s.v[i].path, ".css") != NULL;
            *(is_css ? &css6 : &js6) = gz_size(s.v[i].data, s.v[i].len, 6);
            *(is_css ? &css9 : &js9) = gz_size(s.v[i].data, s.v[i].len, 9);
        }
    size_t *w6 = calloc(s.n, sizeof *w6), *w9 = calloc(s.n, sizeof *w9);
    const char *worst = "";
    size_t worst6 = 0, over = 0;
    t0 = cpu_now();
    for (size_t i = 0; i < s.n; i++) {
        if (!s.v[i].is_page) continue;
        w6[n] = gz_size(s.v[i].data, s.v[i].len, 6) + css6 + js6;
        w9[n] = gz_size(s.v[i].data, s.v[i].len, 9) + css9 + js9;
        if (w6[n] > worst6) {
            worst6 = w6[n];
            worst = s.v[i].path;
        }
        if (w6[n] > BUDGET) over++;
        n++;
    }
    t1 = cpu_now();
    qsort(w6, n, sizeof *w6, cmp_size);
    qsort(w9, n, sizeof *w9, cmp_size);
    printf("   first view (HTML + CSS %zu + JS %zu bytes gzipped), %zu pages:\n", css6, js6, n);
    printf("     gzip -6: median %zu, max %zu bytes (%s); budget %u: %zu over\n", w6[n / 2], w6[n - 1], worst, BUDGET,
           over);
    printf("     gzip -9: median %zu, max %zu bytes\n", w9[n / 2], w9[n - 1]);
    printf("   (compressing every page twice took %.2f CPU s)\n", t1 - t0);
    free(w6);
    free(w9);

    /* the end of the night: a cut in which nothing changed, with a 299-point series (the
     * series files are written every cut; the charts change only with the figures) */
    if (prog) {
        prep_render_progress *p300;
        if ((e = prep_render_progress_new(c, &p300))) return die("progress", e);
        for (uint64_t q = 1; q < 300; q++) {
            prep_render_cut pc = {.seq = q, .at = c->window_open + (prep_time)q * 60, .drill = 1,
                                  .valid_until = PREP_TIME_NONE};
            if ((e = prep_render_progress_add(p300, t, &pc))) return die("progress", e);
        }
        prep_tally_clear_dirty(t);
        cut.seq = 300;
        cut.at = c->window_open + 300 * 60;
        /* paired, in one process: the same cut without and with the series, best of 5 each */
        double best[2] = {1e9, 1e9};
        size_t bodies[2] = {0, 0};
        for (int rep = 0; rep < 10; rep++) {
            int w = rep & 1;
            ro.progress = w ? p300 : NULL;
            t0 = cpu_now();
            if ((e = prep_render_site(t, &cut, &ro, k, &s, &st))) return die("render", e);
            t1 = cpu_now();
            if (t1 - t0 < best[w]) best[w] = t1 - t0;
            bodies[w] = st.bodies_rendered;
        }
        printf("   nothing changed, best of 5: %.3f CPU s without the series (%zu bodies), %.3f with a\n"
               "                        299-point series (%zu bodies; the series files are new every cut)\n",
               best[0], bodies[0], best[1], bodies[1]);
        prep_render_progress_free(p300);
    }
    free(bins);
    prep_render_site_free(&s);
    prep_render_progress_free(prog);
    prep_render_cache_free(k);
    for (uint32_t el = 0; el < 3; el++) {
        prep_tally_cursor_free(&cur[el]);
        prep_actas_free(sets[el]);
    }
    prep_tally_free(t);
    prep_catalog_free(c);
    return over ? 1 : 0;
}
