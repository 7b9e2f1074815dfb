/* bench_tally: tally cost at national scale (~175,000 casillas x 1 election) and at
 * Querétaro 2021 scale (~5,000 casillas x 3 elections), on synthetic data generated in
 * memory (tests/unit/test_tally_synth.h; no dependency on the sim part).
 *
 * Prints, per scale: full tally throughput (actas per CPU second), the CPU cost of an
 * incremental cut at the peak arrival rate versus a full recount, the database CSV
 * write, and the process's peak RSS, each beside its target. CPU time is
 * CLOCK_PROCESS_CPUTIME_ID, so other load on the machine does not count.
 *
 * Peak rate assumption: 8% of all actas arrive in one 5-minute cut (the busiest cut of
 * a night, around midnight). Run: ./build-x/bench_tally   (takes well under a minute) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "prep/tally.h"
#include "../tests/unit/test_tally_synth.h"

#define PEAK_SHARE 0.08 /* of all actas, per 5-minute cut */

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss; /* kilobytes on Linux */
}

static int die(const char *what, prep_err err)
{
    fprintf(stderr, "bench_tally: %s: %s\n", what, prep_err_str(err));
    return 1;
}

static int run(const char *label, const synth_params *p, double full_target_s, double inc_target_s)
{
    printf("== %s: %u districts, %u municipalities, %u sections, %u election(s)\n", label,
           p->n_districts, p->n_municipalities, p->n_sections, p->n_elections);
    double t0 = cpu_now();
    size_t len;
    char *text = synth_catalog_text(p, &len);
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    prep_err err = prep_catalog_parse("synth.cat", text, len, &c, &d);
    free(text);
    if (err != PREP_OK) {
        prep_diags_print(&d, stderr, 5);
        prep_diags_free(&d);
        return die("catalogue", err);
    }
    prep_diags_free(&d);
    double t1 = cpu_now();
    printf("   catalogue: %u casillas, %zu bytes of text, parsed in %.3f CPU s\n", c->n_casillas, len, t1 - t0);

    synth_night o;
    synth_night_defaults(&o);
    prep_actas *sets[3] = {NULL, NULL, NULL};
    if ((err = synth_actas(c, &o, p->seed, sets)) != PREP_OK)
        return die("actas", err);
    size_t n_all = 0;
    for (uint32_t e = 0; e < c->n_elections; e++)
        n_all += sets[e]->n;
    printf("   captures: %zu (corrections, illegible, exceeding, sin acta, out of catalogue included)\n", n_all);

    /* full tally of the whole night, file order */
    prep_tally *full;
    if ((err = prep_tally_new(c, &full)) != PREP_OK)
        return die("tally", err);
    double a0 = cpu_now();
    for (uint32_t e = 0; e < c->n_elections; e++)
        for (size_t i = 0; i < sets[e]->n; i++)
            if ((err = prep_tally_apply(full, e, &sets[e]->v[i], prep_acta_votes(sets[e], &sets[e]->v[i]))))
                return die("apply", err);
    double a1 = cpu_now();
    double full_s = a1 - a0;
    printf("   full tally: %.3f CPU s, %.0f actas per CPU second   [target: national full tally <= 5 s]\n",
           full_s, full_s > 0 ? (double)n_all / full_s : 0.0);

    /* database CSV of the first election at the end of the night */
    prep_buf b;
    prep_buf_init(&b, 0);
    double w0 = cpu_now();
    if ((err = prep_tally_db_write_csv(full, 0, c->window_close, 1, &b)) != PREP_OK)
        return die("db csv", err);
    double w1 = cpu_now();
    printf("   database CSV (%s): %zu bytes in %.3f CPU s\n", c->elections[0].id, b.len, w1 - w0);
    prep_buf_free(&b);

    prep_tally_free(full); /* peak RSS: at most two tallies at a time */

    /* incremental cut at the peak: half the night applied through the cursor, then the
     * next PEAK_SHARE of the actas (one 5-minute cut at the peak rate) */
    prep_tally *inc;
    if ((err = prep_tally_new(c, &inc)) != PREP_OK)
        return die("tally", err);
    prep_tally_cursor cur[3];
    prep_time mid_t[3], peak_t[3];
    size_t peak_n = 0;
    for (uint32_t e = 0; e < c->n_elections; e++) {
        if ((err = prep_tally_cursor_init(&cur[e], sets[e])) != PREP_OK)
            return die("cursor", err);
        size_t n = sets[e]->n, mid = n / 2, peak = (size_t)((double)n * PEAK_SHARE);
        mid_t[e] = prep_actas_instant(&sets[e]->v[cur[e].order[mid]]);
        size_t last = mid + peak < n ? mid + peak : n - 1;
        peak_t[e] = prep_actas_instant(&sets[e]->v[cur[e].order[last]]);
        size_t applied;
        if ((err = prep_tally_apply_until(inc, sets[e], &cur[e], mid_t[e], &applied)) != PREP_OK)
            return die("apply_until", err);
    }
    prep_tally_clear_dirty(inc);
    double i0 = cpu_now();
    for (uint32_t e = 0; e < c->n_elections; e++) {
        size_t applied;
        if ((err = prep_tally_apply_until(inc, sets[e], &cur[e], peak_t[e], &applied)) != PREP_OK)
            return die("apply_until", err);
        peak_n += applied;
    }
    double i1 = cpu_now();
    size_t dirty_sections = prep_tally_dirty_list(inc, 0, PREP_TALLY_SECTION, NULL);
    /* the same cut as a full recount: a fresh tally over everything up to peak_t */
    prep_tally *re;
    if ((err = prep_tally_new(c, &re)) != PREP_OK)
        return die("tally", err);
    double r0 = cpu_now();
    for (uint32_t e = 0; e < c->n_elections; e++) {
        prep_tally_cursor rc;
        size_t applied;
        if ((err = prep_tally_cursor_init(&rc, sets[e])) != PREP_OK)
            return die("cursor", err);
        if ((err = prep_tally_apply_until(re, sets[e], &rc, peak_t[e], &applied)) != PREP_OK)
            return die("apply_until", err);
        prep_tally_cursor_free(&rc);
    }
    double r1 = cpu_now();
    printf("   incremental cut: %zu actas (%.0f%% of the night in 5 min) in %.4f CPU s; %zu sections dirty"
           "   [target: incremental <= 0.2 s]\n", peak_n, PEAK_SHARE * 100, i1 - i0, dirty_sections);
    printf("   the same cut as a full recount (new tally + cursor sort + apply): %.3f CPU s (%.0fx the incremental)\n",
           r1 - r0, (i1 - i0) > 0 ? (r1 - r0) / (i1 - i0) : 0.0);
    printf("   one tally holds %.1f MB\n", (double)prep_tally_bytes(re) / (1024.0 * 1024.0));

    int ok = full_s <= full_target_s && (i1 - i0) <= inc_target_s;
    for (uint32_t e = 0; e < c->n_elections; e++) {
        prep_tally_cursor_free(&cur[e]);
        prep_actas_free(sets[e]);
    }
    prep_tally_free(re);
    prep_tally_free(inc);
    prep_catalog_free(c);
    return ok ? 0 : 2;
}

int main(void)
{
    /* Querétaro 2021: 15 districts, 18 municipalities, ~2,000 sections, 3 elections */
    synth_params qro = {15, 18, 2000, 3, 2021, 3};
    /* national: 300 districts, ~2,470 municipalities, ~170,000 casillas, 1 election.
     * One catalogue holds at most 9,999 sections (4 digits in CLAVE_CASILLA), so the
     * casillas sit ~17 to a section instead of the real ~70,000 sections x 2.4. */
    synth_params nat = {300, 2470, 9999, 1, 2024, 32};
    int rc = run("Querétaro 2021 scale", &qro, 5.0, 0.2);
    int rc2 = run("national scale", &nat, 5.0, 0.2);
    long rss = peak_rss_kb();
    printf("== peak RSS of the whole process (catalogue, captures, CSV buffer, 2 tallies): %.1f MB"
           "   [target: <= 1 GB]\n", (double)rss / 1024.0);
    if (rss > 1024L * 1024L)
        rc2 = 2;
    printf("%s\n", rc == 0 && rc2 == 0 ? "all targets met" : "SOME TARGET MISSED");
    return rc == 0 && rc2 == 0 ? 0 : 1;
}
