/* bench_export: CPU (user, sys) of `prep export --link` for the first cut and for each
 * next one, on a store made beforehand (Querétaro scale: docs/apache.md, "Cost"):
 *
 *   bench_export STORE OUTDIR      exports cuts 1..N of STORE in order to OUTDIR/site
 *                                  (OUTDIR must not hold a site yet; keep 3)
 *
 * The store is only read. Output: one line per cut with user, sys and wall seconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "prep/cut.h"

static double tv(struct timeval t) { return (double)t.tv_sec + (double)t.tv_usec / 1e6; }

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_export STORE OUTDIR\n");
        return 2;
    }
    char out[4096];
    snprintf(out, sizeof out, "%s/site", argv[2]);
    struct stat st;
    if (lstat(out, &st) == 0) {
        fprintf(stderr, "bench_export: %s exists; give an empty OUTDIR\n", out);
        return 2;
    }
    prep_diags d;
    prep_diags_init(&d);
    printf("cut  user(s)  sys(s)  user+sys(s)  wall(s)\n");
    for (uint64_t seq = 1;; seq++) {
        prep_cut_manifest m;
        if (prep_cut_load(argv[1], seq, &m, NULL) != PREP_OK) break;
        prep_cut_manifest_free(&m);
        prep_cut_export_opts o;
        prep_cut_export_opts_init(&o);
        o.seq = seq;
        o.link = 1;
        struct rusage a, b;
        struct timespec w0, w1;
        getrusage(RUSAGE_SELF, &a);
        clock_gettime(CLOCK_MONOTONIC, &w0);
        prep_err e = prep_cut_export(argv[1], out, &o, &d);
        clock_gettime(CLOCK_MONOTONIC, &w1);
        getrusage(RUSAGE_SELF, &b);
        if (e) {
            prep_diags_print(&d, stderr, 5);
            return 1;
        }
        double u = tv(b.ru_utime) - tv(a.ru_utime), s = tv(b.ru_stime) - tv(a.ru_stime);
        printf("%3llu  %7.2f  %6.2f  %11.2f  %7.2f%s\n", (unsigned long long)seq, u, s, u + s,
               (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9,
               seq == 1 ? "  (first)" : "  (incremental)");
        fflush(stdout);
    }
    prep_diags_free(&d);
    return 0;
}
