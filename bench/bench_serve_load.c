/* bench_serve_load: what loading a new cut into `prep serve` costs (DESIGN.md promise 7,
 * "cost follows change"; docs/internals/serve.md, "Measured").
 *
 * Builds a Querétaro-scale store (the simulator's qro2021 night, seed 1, rendered by the
 * real renderer with both trees, pages as composed files stored as parts) holding two
 * successive cuts at the busiest 5 minutes, then, in a child process per approach (so
 * each has its own peak RSS):
 *   parts:      the default (pages held as parts, gzip per part, br on first use)
 *   whole-file: opts.whole_file = 1 (every page assembled, whole-file gzip 6 + br 5 and
 *               every head at load: the approach before the part cache)
 * it prints the CPU seconds of the first load (no prev) and of the next load (prev = the
 * first), bytes_held of each, and the RSS growth with both versions alive; then, for the
 * parts approach, the gzip size cost against whole-file gzip 6 of the same pages, the br
 * warmer's CPU and the memory after every page's br, and after a full crawl (every file
 * asked for in identity, gzip and br).
 * Run: ./build-x/bench_serve_load [--keep] [DIR]   (DIR for the store, default /dev/shm;
 *      ~1 min, writes ~0.3 GB, then deletes it unless --keep);
 *      ./build-x/bench_serve_load --store STORE   (the parts figures only, on a kept store). Targets: next load <= 1 CPU s, bytes held per
 *      version <= 1.1 x the cut's identity bytes. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "prep/cut.h"
#include "prep/render.h"
#include "prep/serve.h"
#include "prep/sim.h"
#include "prep/tally.h"

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static int die(const char *what, prep_diags *d)
{
    fprintf(stderr, "bench_serve_load: %s failed\n", what);
    prep_diags_print(d, stderr, 10);
    return 1;
}

static long status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    size_t fl = strlen(field);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, fl) && line[fl] == ':') v = atol(line + fl + 1);
    fclose(f);
    return v;
}

static int cut_site(const char *store, const prep_site *s, prep_time at, const prep_cut_seckey *k, prep_diags *d)
{
    prep_cut_params p;
    prep_cut_params_init(&p);
    p.process = "qro2021";
    p.elections = "ayuntamientos diputaciones gubernatura";
    p.instant = at;
    p.zone = "America/Mexico_City";
    p.mode = PREP_CUT_DRILL;
    prep_cut_file *f = calloc(s->n ? s->n : 1, sizeof *f);
    for (size_t i = 0; i < s->n; i++) {
        f[i].path = s->v[i].path;
        f[i].data = s->v[i].data;
        f[i].len = s->v[i].len;
        f[i].media_type = s->v[i].media_type;
        f[i].n_parts = s->v[i].n_parts;
        memcpy(f[i].part_len, s->v[i].part_len, sizeof f[i].part_len);
    }
    prep_err e = prep_cut_make(store, &p, f, s->n, k, NULL, d);
    free(f);
    return e ? -1 : 0;
}

/* The store: cuts 1 and 2, the busiest 5 minutes of the simulated night. */
static int make_store(const char *root, const char *store, size_t *bodies_changed)
{
    prep_catalog *c;
    if (prep_sim_catalog(PREP_SIM_SCALE_QRO2021, 1, &c)) return 1;
    prep_actas *sets[3];
    prep_sim_night_opts o;
    prep_sim_night_defaults(&o);
    if (prep_sim_actas(c, &o, sets)) return 1;
    size_t nbins = (size_t)((c->window_close - c->window_open) / c->cut_interval) + 1;
    size_t *bins = calloc(nbins, sizeof *bins);
    for (uint32_t el = 0; el < c->n_elections; el++)
        for (size_t i = 0; i < sets[el]->n; i++) {
            prep_time at = prep_actas_instant(&sets[el]->v[i]);
            if (at <= c->window_open || at > c->window_close) continue;
            bins[(size_t)((at - c->window_open - 1) / c->cut_interval)]++;
        }
    size_t peak = 0;
    for (size_t b = 1; b < nbins; b++)
        if (bins[b] > bins[peak]) peak = b;
    prep_time t0 = c->window_open + (prep_time)peak * c->cut_interval, t1 = t0 + c->cut_interval;
    free(bins);
    prep_diags d;
    prep_diags_init(&d);
    prep_cut_seckey k;
    char kp[4300];
    snprintf(kp, sizeof kp, "%s/clave", root);
    if (prep_cut_keygen(kp, PREP_CUT_DRILL, &d)) return die("keygen", &d);
    snprintf(kp, sizeof kp, "%s/clave.key", root);
    if (prep_cut_seckey_load(kp, &k, &d)) return die("key", &d);
    prep_tally *t;
    if (prep_tally_new(c, &t)) return 1;
    prep_tally_cursor cur[3];
    for (uint32_t el = 0; el < c->n_elections; el++) {
        if (prep_tally_cursor_init(&cur[el], sets[el])) return 1;
        if (prep_tally_apply_until(t, sets[el], &cur[el], t0, NULL)) return 1;
    }
    prep_render_cache *rc;
    if (prep_render_cache_new(&rc)) return 1;
    prep_site s;
    prep_render_site_init(&s);
    prep_render_stats st;
    prep_render_cut cut = {.seq = 1, .at = t0, .drill = 1, .process_name = NULL,
                           .valid_until = PREP_TIME_NONE, .final_cut = 0};
    if (prep_render_site(t, &cut, NULL, rc, &s, &st)) return 1;
    prep_tally_clear_dirty(t);
    if (cut_site(store, &s, t0, &k, &d)) return die("cut 1", &d);
    for (uint32_t el = 0; el < c->n_elections; el++)
        if (prep_tally_apply_until(t, sets[el], &cur[el], t1, NULL)) return 1;
    cut.seq = 2;
    cut.at = t1;
    if (prep_render_site(t, &cut, NULL, rc, &s, &st)) return 1;
    prep_tally_clear_dirty(t);
    *bodies_changed = st.bodies_rendered;
    if (cut_site(store, &s, t1, &k, &d)) return die("cut 2", &d);
    prep_render_site_free(&s);
    prep_render_cache_free(rc);
    for (uint32_t el = 0; el < c->n_elections; el++) prep_tally_cursor_free(&cur[el]);
    prep_tally_free(t);
    for (uint32_t el = 0; el < c->n_elections; el++) prep_actas_free(sets[el]);
    prep_catalog_free(c);
    prep_diags_free(&d);
    return 0;
}

static prep_serve_version *load(const char *store, uint64_t seq, const prep_serve_version *prev,
                                const prep_serve_site_opts *o)
{
    prep_serve_version *v = NULL;
    prep_diags d;
    prep_diags_init(&d);
    if (prep_serve_version_load(store, seq, prev, o, &v, &d) != PREP_OK) {
        die("load", &d);
        exit(1);
    }
    prep_diags_free(&d);
    return v;
}

/* Sum of the body lengths of every page asked for with ae; the page count in *n. */
static uint64_t crawl(prep_serve_version *v, const char *store, const char *ae, size_t *n)
{
    prep_cut_manifest m;
    prep_diags d;
    prep_diags_init(&d);
    if (prep_cut_load(store, 0, &m, &d)) exit(die("manifest", &d));
    uint64_t sum = 0;
    *n = 0;
    for (size_t i = 0; i < m.n; i++) {
        char path[2048];
        snprintf(path, sizeof path, "/%s", m.entries[i].path);
        prep_http_request q;
        memset(&q, 0, sizeof q);
        q.method = PREP_HTTP_GET;
        q.path = (prep_http_slice){path, strlen(path)};
        q.accept_encoding = (prep_http_slice){ae, ae ? strlen(ae) : 0};
        q.now = PREP_TIME_NONE;
        prep_http_response r;
        prep_serve_respond(v, &q, &r);
        if (m.entries[i].n_parts) {
            sum += r.body_len;
            (*n)++;
        }
        prep_http_response_done(&r);
    }
    prep_cut_manifest_free(&m);
    prep_diags_free(&d);
    return sum;
}

/* One approach, in its own process: prints one line of figures. */
static void run(const char *store, int whole_file, const char *label)
{
    FILE *cr = fopen("/proc/self/clear_refs", "w"); /* "5": reset the peak RSS */
    if (cr) {
        fputs("5", cr);
        fclose(cr);
    }
    long rss0 = status_kb("VmRSS");
    prep_serve_site_opts o;
    prep_serve_site_opts_init(&o);
    o.https = 1;
    o.threads = 2;
    o.br_warm = 0;
    o.whole_file = whole_file;
    prep_serve_version *v1 = load(store, 1, NULL, &o);
    long rss1 = status_kb("VmRSS");
    prep_serve_version *v2 = load(store, 2, v1, &o);
    long rss2 = status_kb("VmRSS"), hwm = status_kb("VmHWM");
    prep_serve_version_info a, b;
    prep_serve_version_get_info(v1, &a);
    prep_serve_version_get_info(v2, &b);
    printf("%-10s  first load %5.2f CPU s, next %5.2f CPU s | held %6.1f MB (%.2fx) / %6.1f MB (%.2fx) | "
           "RSS: one version +%.0f MB, two +%.0f MB (second +%.0f MB = %.2fx), peak +%.0f MB\n",
           label, a.load_cpu_seconds, b.load_cpu_seconds, (double)a.bytes_held / 1e6,
           (double)a.bytes_held / (double)a.bytes_identity, (double)b.bytes_held / 1e6,
           (double)b.bytes_held / (double)b.bytes_identity, (double)(rss1 - rss0) / 1024, (double)(rss2 - rss0) / 1024,
           (double)(rss2 - rss1) / 1024, (double)(rss2 - rss1) * 1024 / (double)b.bytes_identity,
           (double)(hwm - rss0) / 1024);
    printf("            cut: %zu files, %.1f MB identity; parts %zu (%zu deflated by the next load, %zu cached "
           "with both alive); whole-file variants compressed %zu / %zu\n",
           b.files, (double)b.bytes_identity / 1e6, b.parts, b.parts_compressed, b.parts_cached,
           a.variants_compressed, b.variants_compressed);
    if (!whole_file) {
        /* gzip size: per-part members against whole-file gzip 6 of the same pages */
        prep_serve_site_opts ow = o;
        ow.whole_file = 1;
        size_t np = 0, nw = 0;
        uint64_t gp = crawl(v2, store, "gzip", &np);
        prep_serve_version *w = load(store, 2, NULL, &ow);
        uint64_t gw = crawl(w, store, "gzip", &nw);
        prep_serve_version_unref(w);
        printf("            gzip of the %zu pages: per part %.2f MB, whole-file %.2f MB: +%.1f%% (%.0f B a page)\n",
               np, (double)gp / 1e6, (double)gw / 1e6, 100.0 * ((double)gp - (double)gw) / (double)gw,
               ((double)gp - (double)gw) / (double)np);
        prep_serve_version_unref(v1);
        /* the warmer on the next cut after v2 */
        prep_serve_site_opts owarm = o;
        owarm.br_warm = 1;
        prep_serve_version *v3 = load(store, 2, NULL, &owarm);
        prep_serve_version_info c;
        for (;;) {
            prep_serve_version_get_info(v3, &c);
            if (c.warm_done) break;
            usleep(20000);
        }
        printf("            br warmer: %zu pages' br in %.2f CPU s (lowest priority); held then %.1f MB (%.2fx)\n",
               c.br_made, c.warm_cpu_seconds, (double)c.bytes_held / 1e6,
               (double)c.bytes_held / (double)c.bytes_identity);
        size_t n;
        crawl(v3, store, NULL, &n);
        crawl(v3, store, "gzip", &n);
        crawl(v3, store, "br", &n);
        prep_serve_version_get_info(v3, &c);
        printf("            after a full crawl (identity, gzip, br of every file): held %.1f MB (%.2fx), of "
               "which made on first use %.1f MB\n",
               (double)c.bytes_held / 1e6, (double)c.bytes_held / (double)c.bytes_identity,
               (double)c.bytes_lazy / 1e6);
        prep_serve_version_unref(v3);
    } else {
        prep_serve_version_unref(v1);
    }
    prep_serve_version_unref(v2);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--store")) { /* an existing store (profiling) */
        run(argv[2], 0, "parts");
        return 0;
    }
    int keep = argc > 1 && !strcmp(argv[1], "--keep");
    if (keep) argc--, argv++;
    const char *base = argc > 1 ? argv[1] : "/dev/shm";
    char root[4096], store[4200];
    snprintf(root, sizeof root, "%s/prep-bench-serve-XXXXXX", base);
    if (!mkdtemp(root)) {
        perror(root);
        return 1;
    }
    snprintf(store, sizeof store, "%s/store", root);
    size_t changed = 0;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int r = make_store(root, store, &changed);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (!r) {
        printf("store: simulated qro2021 (seed 1), cuts 1 and 2 at the busiest 5 minutes (%zu bodies re-rendered), "
               "built in %.1f s\n",
               changed, (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
        fflush(stdout);
        for (int wf = 0; wf < 2 && !r; wf++) {
            pid_t pid = fork();
            if (pid == 0) {
                run(store, wf, wf ? "whole-file" : "parts");
                fflush(stdout);
                _exit(0);
            }
            int st = 0;
            waitpid(pid, &st, 0);
            if (!WIFEXITED(st) || WEXITSTATUS(st)) r = 1;
        }
    }
    if (keep) printf("store kept: %s\n", store);
    else nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return r;
}
