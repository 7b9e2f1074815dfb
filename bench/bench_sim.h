/* bench: what the benches that cut real rendered sites share (bench_cut_delta.c,
 * bench_national.c): removing a scratch tree, a failed step's message, a site as cut
 * files, a cut of it into a store, a store's cut hard-linked into another directory (a
 * broadcaster that holds it), and the busiest 5-minute bin of a simulated night. A header
 * of static inline functions (a bench uses some): each bench is one translation unit. */
#ifndef PREP_BENCH_SIM_H
#define PREP_BENCH_SIM_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prep/cut.h"
#include "prep/render.h"
#include "../src/cli/cut_files.h"

static inline int rm_cb(const char *p, const struct stat *sb, int fl, struct FTW *f)
{
    (void)sb, (void)f;
    if (fl == FTW_DP) rmdir(p);
    else unlink(p);
    return 0;
}

static inline int die(const char *what, prep_diags *d)
{
    prep_diags_print(d, stderr, 5);
    fprintf(stderr, "bench: %s failed\n", what);
    return 1;
}

/* Hard-links cut seq of store into a fresh area inc with every object of it. */
static inline int stage(const char *store, uint64_t seq, const char *inc, prep_diags *d)
{
    nftw(inc, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/cuts/%llu", inc, (unsigned long long)seq);
    if (prep_mkdirs(a)) return -1;
    const char *names[] = {"manifest", "manifest.sig"};
    for (int i = 0; i < 2; i++) {
        snprintf(a, sizeof a, "%s/cuts/%llu/%s", store, (unsigned long long)seq, names[i]);
        snprintf(b, sizeof b, "%s/cuts/%llu/%s", inc, (unsigned long long)seq, names[i]);
        if (link(a, b)) return -1;
    }
    prep_cut_manifest m;
    if (prep_cut_load(store, seq, &m, d)) return -1;
    for (size_t i = 0; i < m.n; i++) {
        prep_cut_object_path(store, m.entries[i].sha256, a, sizeof a);
        snprintf(b, sizeof b, "%s/objects/%.2s", inc, m.entries[i].sha256);
        if (prep_mkdirs(b)) return -1;
        prep_cut_object_path(inc, m.entries[i].sha256, b, sizeof b);
        if (link(a, b) && access(b, F_OK)) return -1;
    }
    prep_cut_manifest_free(&m);
    return 0;
}

/* Site -> cut files as the cutter makes them (src/cli/cut_files.h), into an array kept
 * from call to call (single-threaded), as the cutter keeps its own. */
static inline prep_cut_file *site_files(const prep_site *s)
{
    static prep_cut_file *f;
    static size_t cap;
    return cli_cut_files(s, &f, &cap);
}

/* 1 unless PREP_SITE_SHED=0: cut_site_hc sheds the site after its cut, as the cutter. */
static inline int bench_shed_on(void)
{
    const char *shed = getenv("PREP_SITE_SHED");
    return !(shed && !strcmp(shed, "0"));
}

/* The institute's trim after a cut (src/cli/cmd_institute.c): unless the site was shed. */
static inline void bench_trim_after_cut(const prep_site *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].stored) return;
    prep_mem_trim_above(PREP_MEM_CUTTER_SLACK);
}

/* prep_render_site_shed's hashes: the parts of the cut just made with hash cache ctx. */
static inline int bench_part_sha(void *ctx, const char *path, size_t n_parts, size_t k, const void *bytes, size_t len,
                                 unsigned char md[32])
{
    return prep_cut_hash_cache_part(ctx, path, n_parts, k, len, md);
}

/* A drill cut of site s at instant at into store (process id and its elections as named),
 * through hash cache hc as the institute's cutter makes them (NULL: every byte hashed). s
 * must be the render's site passed back from the last cut made with hc, as the cutter does;
 * after the cut it is shed as the cutter sheds it (src/cli/cutter.c; PREP_SITE_SHED=0: not,
 * to compare). */
static inline int cut_site_hc(const char *store, prep_site *s, prep_time at, const prep_cut_seckey *k,
                              const char *process, const char *elections, prep_cut_hash_cache *hc, prep_diags *d)
{
    prep_cut_params p;
    prep_cut_params_init(&p);
    p.process = process;
    p.elections = elections;
    p.instant = at;
    p.zone = "America/Mexico_City";
    p.mode = PREP_CUT_DRILL;
    p.hash_cache = hc;
    prep_cut_file *f = site_files(s);
    if (!f) return -1;
    prep_err e = prep_cut_make(store, &p, f, s->n, k, NULL, d);
    if (!e && hc && bench_shed_on()) prep_render_site_shed(s, bench_part_sha, hc, NULL);
    return e ? -1 : 0;
}

static inline int cut_site_as(const char *store, const prep_site *s, prep_time at, const prep_cut_seckey *k,
                              const char *process, const char *elections, prep_diags *d)
{
    return cut_site_hc(store, (prep_site *)s, at, k, process, elections, NULL, d); /* no cache: s is not shed */
}

/* The busiest cut interval of the night of sets (one per election of c): its index from
 * the window's opening (bin b covers (open + b*interval, open + (b+1)*interval]); per-bin
 * capture counts in *bins_out (caller frees), their number in *nbins, all captures in *total. */
static inline size_t busiest_bin(const prep_catalog *c, prep_actas *const *sets, size_t **bins_out, size_t *nbins,
                          size_t *total)
{
    *nbins = (size_t)((c->window_close - c->window_open) / c->cut_interval) + 1;
    size_t *bins = calloc(*nbins, sizeof *bins);
    *total = 0;
    for (uint32_t el = 0; bins && el < c->n_elections; el++)
        for (size_t i = 0; i < sets[el]->n; i++) {
            prep_time at = prep_actas_instant(&sets[el]->v[i]);
            (*total)++;
            if (at <= c->window_open || at > c->window_close) continue;
            bins[(size_t)((at - c->window_open - 1) / c->cut_interval)]++;
        }
    size_t peak = 0;
    for (size_t b = 1; bins && b < *nbins; b++)
        if (bins[b] > bins[peak]) peak = b;
    *bins_out = bins;
    return peak;
}

#endif
